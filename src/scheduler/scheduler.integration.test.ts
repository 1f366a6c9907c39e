// The scheduler against a real API server: Node objects only (no kubelets), pods created
// through the API, bindings, conditions and events read back through the API.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Event, Node, ObjectReference, PersistentVolume, PersistentVolumeClaim, Pod, Taint } from "kubernetes-types/core/v1.js";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { RestClient } from "../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { loadKubeconfig } from "../util/kubeconfig.js";
import { createLogger } from "../util/log.js";
import { compileSchedulerOptions, Scheduler } from "./index.js";
import { explainFromApi, formatWhy } from "./why.js";

const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("scheduler against a real API server", () => {
  let server: TestApiServer;
  let client: RestClient;
  let scheduler: Scheduler;
  let standby: Scheduler | undefined;
  const kubelet = new AbortController();

  const nodes = () => client.forKind("v1", "Node");
  const pods = () => client.forKind("v1", "Pod").namespace("default");

  async function createNode(name: string, cpu: string, opts: { taints?: Taint[]; labels?: Record<string, string> } = {}): Promise<void> {
    const allocatable = { cpu, memory: "8Gi", pods: "110" };
    const node: Node = { apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name, ...opts.labels } }, spec: opts.taints ? { taints: opts.taints } : {}, status: { capacity: allocatable, allocatable } };
    const created = await nodes().create(node);
    if (!created.status?.allocatable) await nodes().updateStatus({ ...created, status: { capacity: allocatable, allocatable } });
  }

  async function createPod(name: string, cpu: string, spec: Partial<Pod["spec"]> = {}): Promise<void> {
    await pods().create({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "busybox", resources: { requests: { cpu } } }], ...spec } });
  }

  const boundTo = (name: string) => waitFor(`${name} bound`, async () => (await pods().get(name)).spec?.nodeName || undefined);

  before(async () => {
    server = await startTestApiServer();
    const config = await loadKubeconfig(server.kubeconfig);
    client = new RestClient({ config, qps: Infinity });
    scheduler = new Scheduler(compileSchedulerOptions({ clientConfig: config, serve: false, qps: Infinity, identity: "test-scheduler", log }));
    await scheduler.start();
    // A stand-in kubelet: pods being deleted finish at once.
    void (async () => {
      while (!kubelet.signal.aborted) {
        try {
          const w = await client.forKind("v1", "Pod").watch({ signal: kubelet.signal });
          for await (const ev of w) {
            const p = ev.object as Pod;
            if (ev.type === "MODIFIED" && p.metadata?.deletionTimestamp && p.spec?.nodeName) {
              await client
                .forKind("v1", "Pod")
                .namespace(p.metadata.namespace!)
                .delete(p.metadata.name!, { gracePeriodSeconds: 0 })
                .catch(() => undefined);
            }
          }
        } catch {
          if (!kubelet.signal.aborted) await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
  });

  after(async () => {
    kubelet.abort();
    await standby?.stop();
    await scheduler?.stop();
    client?.close();
    await server?.stop();
  });

  it("takes the kube-system/kube-scheduler lease", async () => {
    assert.equal(await scheduler.waitUntilLeading(AbortSignal.timeout(20_000)), true);
    const lease: Lease = await client.forKind("coordination.k8s.io/v1", "Lease").namespace("kube-system").get("kube-scheduler");
    assert.equal(lease.spec?.holderIdentity, "test-scheduler");
  });

  it("binds pods to nodes where they fit", async () => {
    const cp: Taint[] = [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }];
    await createNode("cp1", "4", { taints: cp });
    await createNode("cp2", "4", { taints: cp });
    await createNode("worker", "2");
    await createPod("small", "500m");
    assert.equal(await boundTo("small"), "worker");
    const pod = await pods().get("small");
    assert.equal(pod.status?.conditions?.find((c) => c.type === "PodScheduled")?.status, "True");
    const ev = await waitFor("Scheduled event", async () => (await client.forKind("v1", "Event").namespace("default").list()).items.find((e: Event) => e.involvedObject.name === "small" && e.reason === "Scheduled"));
    assert.equal(ev.message, "Successfully assigned default/small to worker");
    assert.equal(ev.type, "Normal");
  });

  it("marks an unschedulable pod, says why, and schedules it once a fitting node is added", async () => {
    await createPod("big", "4");
    const want =
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. " +
      "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.";
    const cond = await waitFor("PodScheduled=False", async () => (await pods().get("big")).status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False"));
    assert.equal(cond.reason, "Unschedulable");
    assert.equal(cond.message, want);
    const ev = await waitFor("FailedScheduling event", async () => (await client.forKind("v1", "Event").namespace("default").list()).items.find((e: Event) => e.involvedObject.name === "big" && e.reason === "FailedScheduling"));
    assert.equal(ev.type, "Warning");
    assert.equal(ev.message, want);

    const report = await explainFromApi(client, "default", "big");
    const text = formatWhy(report);
    assert.match(text, /worker: needs 3500m more CPU than is free \(requests 4, allocatable 2, in use 0\.5\)|worker: requests 4 CPU but the node has only 2 allocatable/);
    assert.match(text, /cp1: has taint node-role\.kubernetes\.io\/control-plane:NoSchedule the pod does not tolerate/);

    await createNode("large", "8");
    assert.equal(await boundTo("big"), "large");
  });

  it("preempts a lower-priority pod for a higher-priority one", async () => {
    await client.forKind("scheduling.k8s.io/v1", "PriorityClass").create({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "high" }, value: 1000 });
    await createNode("pool-node", "2", { labels: { pool: "p" } });
    await createPod("low", "2", { nodeSelector: { pool: "p" } });
    assert.equal(await boundTo("low"), "pool-node");
    await createPod("urgent", "2", { nodeSelector: { pool: "p" }, priorityClassName: "high" });
    const preempted = await waitFor("Preempted event", async () => (await client.forKind("v1", "Event").namespace("default").list()).items.find((e: Event) => e.involvedObject.name === "low" && e.reason === "Preempted"));
    assert.match(preempted.message ?? "", /^Preempted by pod .+ on node pool-node$/);
    assert.equal(await boundTo("urgent"), "pool-node");
    await waitFor("low gone", async () => ((await pods().list()).items.some((p) => p.metadata?.name === "low") ? undefined : true));
  });

  // Storage: no PV controller or provisioner runs here; the test does their part.
  const claims = () => client.forKind("v1", "PersistentVolumeClaim").namespace("default");
  const volumes = () => client.forKind("v1", "PersistentVolume");

  async function createClaim(name: string, storageClassName: string): Promise<PersistentVolumeClaim> {
    return claims().create({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name }, spec: { storageClassName, accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } });
  }

  function withClaim(claimName: string): Partial<Pod["spec"]> {
    return { volumes: [{ name: "data", persistentVolumeClaim: { claimName } }] };
  }

  /** What the PV controller does once a volume's claimRef names the claim: binds the claim to it. */
  async function bindClaim(name: string, pvName: string): Promise<void> {
    const c = await claims().get(name);
    const updated = await claims().update({ ...c, metadata: { ...c.metadata, annotations: { ...c.metadata?.annotations, "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes" } }, spec: { ...c.spec, volumeName: pvName } });
    await claims().updateStatus({ ...updated, status: { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" } } });
    const pv = await volumes().get(pvName);
    await volumes().updateStatus({ ...pv, status: { phase: "Bound" } });
  }

  function hostPathVolume(name: string, node: string, claimRef?: ObjectReference, storageClassName = "local-fast"): PersistentVolume {
    return {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name },
      spec: {
        capacity: { storage: "1Gi" },
        accessModes: ["ReadWriteOnce"],
        storageClassName,
        persistentVolumeReclaimPolicy: "Delete",
        hostPath: { path: `/tmp/${name}`, type: "DirectoryOrCreate" },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] }] } },
        ...(claimRef ? { claimRef } : {}),
      },
    };
  }

  it("a WaitForFirstConsumer claim of a provisioning class gets the selected node, and the pod binds once the claim is bound", async () => {
    await client.forKind("storage.k8s.io/v1", "StorageClass").create({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "local-fast" }, provisioner: "k8ts.io/local-path", volumeBindingMode: "WaitForFirstConsumer", reclaimPolicy: "Delete" });
    const claim = await createClaim("web-data", "local-fast");
    await createPod("web", "100m", withClaim("web-data"));
    const selected = await waitFor("selected-node on the claim", async () => (await claims().get("web-data")).metadata?.annotations?.["volume.kubernetes.io/selected-node"]);
    assert.ok(selected);
    assert.equal((await pods().get("web")).spec?.nodeName, undefined, "not bound before its claim is");
    // The provisioner makes the volume on the selected node; the PV controller binds.
    await volumes().create(hostPathVolume(`pvc-${claim.metadata!.uid!}`, selected, { kind: "PersistentVolumeClaim", apiVersion: "v1", namespace: "default", name: "web-data", uid: claim.metadata!.uid! }));
    await bindClaim("web-data", `pvc-${claim.metadata!.uid!}`);
    assert.equal(await boundTo("web"), selected);
  });

  it("a pod whose claim does not exist is unschedulable with upstream's message", async () => {
    await createPod("orphan", "100m", withClaim("no-such-claim"));
    const n = (await nodes().list()).items.length;
    const cond = await waitFor("PodScheduled=False", async () => (await pods().get("orphan")).status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False"));
    assert.equal(cond.reason, "Unschedulable");
    assert.equal(cond.message, `0/${n} nodes are available: persistentvolumeclaim "no-such-claim" not found. preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`);
    const report = await explainFromApi(client, "default", "orphan");
    assert.equal(report.podLevel?.why, "its claim no-such-claim does not exist");
  });

  it("a static volume with node affinity takes the pod to its node", async () => {
    await client.forKind("storage.k8s.io/v1", "StorageClass").create({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "manual" }, provisioner: "kubernetes.io/no-provisioner", volumeBindingMode: "WaitForFirstConsumer" });
    await createNode("disk-node", "4");
    const pv = await volumes().create(hostPathVolume("pv-disk", "disk-node", undefined, "manual"));
    await volumes().updateStatus({ ...pv, status: { phase: "Available" } });
    await createClaim("disk-data", "manual");
    await createPod("disk-user", "100m", withClaim("disk-data"));
    // The scheduler pre-binds the volume (claimRef); then the PV controller's part.
    const ref = await waitFor("the volume's claimRef", async () => (await volumes().get("pv-disk")).spec?.claimRef);
    assert.equal(ref.name, "disk-data");
    assert.equal(ref.namespace, "default");
    assert.equal(ref.uid, (await claims().get("disk-data")).metadata?.uid);
    assert.equal((await volumes().get("pv-disk")).metadata?.annotations?.["pv.kubernetes.io/bound-by-controller"], "yes");
    await bindClaim("disk-data", "pv-disk");
    assert.equal(await boundTo("disk-user"), "disk-node");
  });

  it("a standby scheduler takes over when the leader stops", async () => {
    const config = await loadKubeconfig(server.kubeconfig);
    standby = new Scheduler(compileSchedulerOptions({ clientConfig: config, serve: false, qps: Infinity, identity: "standby", leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500, log }));
    await standby.start();
    assert.equal(standby.isLeading(), false);
    await scheduler.stop();
    assert.equal(await standby.waitUntilLeading(AbortSignal.timeout(20_000)), true);
    const lease: Lease = await client.forKind("coordination.k8s.io/v1", "Lease").namespace("kube-system").get("kube-scheduler");
    assert.equal(lease.spec?.holderIdentity, "standby");
    await createPod("after-failover", "100m");
    assert.ok(await boundTo("after-failover"));
  });
});
