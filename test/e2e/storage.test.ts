// Persistent storage end to end on a real node, driven by the official kubectl: the default
// `local-path` StorageClass, a StatefulSet's claims provisioned on the node the scheduler picked
// (WaitForFirstConsumer), data that outlives the pod, a static hostPath volume bound and
// released with Retain, generic ephemeral volumes, and the scheduler's refusal of a pod whose
// claim does not exist.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import { startTestCluster, type TestCluster } from "../../src/testing/cluster.js";
import { runtimeSkipReason } from "../../src/testing/runtime.js";
import { until } from "../../src/testing/wait.js";

const skip = runtimeSkipReason();

describe("persistent storage on a real node", { skip, timeout: 600_000 }, () => {
  let c: TestCluster;
  const ns = "default";

  const pods = () => c.client.forKind("v1", "Pod").namespace(ns);
  const claims = () => c.client.forKind("v1", "PersistentVolumeClaim").namespace(ns);
  const volumes = () => c.client.forKind("v1", "PersistentVolume");
  const storageRoot = () => join(c.dataDir, "agent", "storage");
  const apply = async (yaml: string): Promise<void> => {
    const r = await c.kubectl(["apply", "-f", "-"], { stdin: yaml });
    assert.equal(r.code, 0, r.stderr);
  };
  const exec = async (pod: string, script: string): Promise<string> => {
    const r = await c.kubectl(["exec", pod, "--", "sh", "-c", script]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const running = (name: string, uidOtherThan?: string): Promise<Pod> =>
    until(`${name} running`, async () => {
      const p = (await pods().get(name).catch(() => undefined)) as Pod | undefined;
      if (!p || p.metadata?.uid === uidOtherThan || p.metadata?.deletionTimestamp) return undefined;
      return p.status?.phase === "Running" ? p : undefined;
    }, 120_000, 200);
  const bound = (name: string): Promise<PersistentVolumeClaim> =>
    until(`claim ${name} bound`, async () => {
      const pvc = (await claims().get(name).catch(() => undefined)) as PersistentVolumeClaim | undefined;
      return pvc?.status?.phase === "Bound" ? pvc : undefined;
    }, 60_000, 200);
  const gone = (what: string, probe: () => Promise<unknown>): Promise<boolean> =>
    until(`${what} gone`, async () => ((await probe().then(() => false, (err: unknown) => (err as { code?: number }).code === 404)) ? true : undefined), 60_000, 200);

  before(async () => {
    c = await startTestCluster();
  });
  after(async () => {
    if (process.env["K8TS_TEST_KEEP"]) return;
    await c?.stop();
  });

  it("has a default local-path StorageClass that binds on first consumer", async () => {
    const r = await c.kubectl(["get", "storageclass"]);
    assert.equal(r.code, 0, r.stderr);
    const row = r.stdout.split("\n").find((l) => l.startsWith("local-path"));
    assert.ok(row, r.stdout);
    assert.match(row, /^local-path \(default\)\s+k8ts\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+/);
  });

  it("provisions a StatefulSet's claims on the pod's node, keeps the data across pod restarts, and deletes the volume with its claim", async () => {
    await apply(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: main
        image: busybox:1.35
        command: ["sh", "-c", "echo started >> /data/log; sleep 3600"]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`);
    const first = await running("web-0");
    assert.equal(first.spec?.nodeName, c.nodeName);
    const claim = await bound("data-web-0");
    assert.equal(claim.spec?.storageClassName, "local-path");
    assert.equal(claim.metadata?.annotations?.["volume.kubernetes.io/selected-node"], c.nodeName);
    assert.ok(claim.metadata?.finalizers?.includes("kubernetes.io/pvc-protection"));
    const pvName = claim.spec?.volumeName ?? "";
    assert.equal(pvName, `pvc-${claim.metadata?.uid}`);
    const pv = (await volumes().get(pvName)) as PersistentVolume;
    assert.equal(pv.status?.phase, "Bound");
    assert.equal(pv.spec?.persistentVolumeReclaimPolicy, "Delete");
    assert.equal(pv.spec?.claimRef?.uid, claim.metadata?.uid);
    assert.equal(pv.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"], "k8ts.io/local-path");
    const dir = pv.spec?.hostPath?.path ?? "";
    assert.equal(dir, join(storageRoot(), `pvc-${claim.metadata?.uid}_${ns}_data-web-0`));

    assert.equal(await exec("web-0", "echo kept > /data/file; cat /data/file"), "kept\n");
    const get = await c.kubectl(["get", "pvc", "data-web-0"]);
    assert.match(get.stdout, new RegExp(`data-web-0\\s+Bound\\s+${pvName}\\s+1Gi\\s+RWO\\s+local-path\\s+`));

    // The pod goes, the StatefulSet makes it again, and the claim brings the data back.
    const del = await c.kubectl(["delete", "pod", "web-0", "--wait=false"]);
    assert.equal(del.code, 0, del.stderr);
    await running("web-0", first.metadata?.uid);
    assert.equal(await exec("web-0", "cat /data/file; cat /data/log"), "kept\nstarted\nstarted\n");

    // The claim outlives the StatefulSet (retention policy Retain); deleting it deletes the volume and its directory.
    assert.equal((await c.kubectl(["delete", "statefulset", "web"])).code, 0);
    await gone("web-0", () => pods().get("web-0"));
    const delClaim = await c.kubectl(["delete", "pvc", "data-web-0"]);
    assert.equal(delClaim.code, 0, delClaim.stderr);
    await gone(`PersistentVolume ${pvName}`, () => volumes().get(pvName));
    await until(`${dir} removed`, () => (existsSync(dir) ? undefined : true), 30_000, 200);
  });

  it("binds a claim to a static hostPath volume and keeps the volume Released under Retain", async () => {
    const path = join(c.dataDir, "static-volume");
    mkdirSync(path, { recursive: true });
    await apply(`apiVersion: v1
kind: PersistentVolume
metadata: {name: static-pv, labels: {tier: static}}
spec:
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: manual
  hostPath: {path: ${path}, type: Directory}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: static-claim}
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  selector: {matchLabels: {tier: static}}
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: static-user}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: busybox:1.35
    command: ["sh", "-c", "echo from-the-pod > /data/hello; sleep 3600"]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: static-claim}}
`);
    const claim = await bound("static-claim");
    assert.equal(claim.spec?.volumeName, "static-pv");
    assert.equal(claim.status?.capacity?.["storage"], "2Gi");
    await running("static-user");
    await until("the pod's file on the host", () => (existsSync(join(path, "hello")) ? true : undefined), 30_000, 200);

    // In use: the claim waits for its pod before it goes (the protection finalizer).
    assert.equal((await c.kubectl(["delete", "pvc", "static-claim", "--wait=false"])).code, 0);
    const deleting = (await claims().get("static-claim")) as PersistentVolumeClaim;
    assert.ok(deleting.metadata?.deletionTimestamp);
    assert.equal((await c.kubectl(["delete", "pod", "static-user"])).code, 0);
    await gone("static-claim", () => claims().get("static-claim"));
    const released = await until("static-pv Released", async () => {
      const pv = (await volumes().get("static-pv")) as PersistentVolume;
      return pv.status?.phase === "Released" ? pv : undefined;
    }, 60_000, 200);
    assert.equal(released.spec?.claimRef?.name, "static-claim");
    assert.ok(existsSync(join(path, "hello")), "Retain keeps the data");
    assert.equal((await c.kubectl(["delete", "pv", "static-pv"])).code, 0);
  });

  it("makes, binds and removes a pod's generic ephemeral volume with the pod", async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: scratch}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: busybox:1.35
    command: ["sh", "-c", "echo scratch > /scratch/f; sleep 3600"]
    volumeMounts: [{name: work, mountPath: /scratch}]
  volumes:
  - name: work
    ephemeral:
      volumeClaimTemplate:
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 64Mi}}
`);
    const pod = await running("scratch");
    const claim = await bound("scratch-work");
    assert.equal(claim.metadata?.ownerReferences?.[0]?.uid, pod.metadata?.uid);
    assert.equal(await exec("scratch", "cat /scratch/f"), "scratch\n");
    const pvName = claim.spec?.volumeName ?? "";
    assert.equal((await c.kubectl(["delete", "pod", "scratch"])).code, 0);
    await gone("scratch-work", () => claims().get("scratch-work"));
    await gone(`PersistentVolume ${pvName}`, () => volumes().get(pvName));
    await until("no provisioned directories left", () => (readdirSync(storageRoot()).length === 0 ? true : undefined), 30_000, 200);
  });

  it("leaves a pod whose claim does not exist Pending with the scheduler's reason", async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: orphan}
spec:
  containers:
  - {name: main, image: busybox:1.35, command: ["sleep", "3600"]}
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: nope}}
`);
    const cond = await until("orphan unschedulable", async () => {
      const p = (await pods().get("orphan")) as Pod;
      return p.status?.conditions?.find((x) => x.type === "PodScheduled" && x.status === "False");
    }, 60_000, 200);
    assert.equal(cond.reason, "Unschedulable");
    assert.match(cond.message ?? "", /persistentvolumeclaim "nope" not found/);
    assert.equal((await c.kubectl(["delete", "pod", "orphan", "--wait=false"])).code, 0);
  });
});
