// The local-path provisioner against a real API server, with no real node (and no PV
// controller: the tests play its part where they need a volume Released).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event, PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import { ANN_SELECTED_NODE, LOCAL_PATH_PROVISIONER } from "../../api/persistentvolume.js";
import { isNotFound } from "../../client/errors.js";
import { SharedInformerFactory } from "../../client/informer.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { until } from "../../testing/wait.js";
import { createLogger } from "../../util/log.js";
import { LocalPathProvisioner } from "./index.js";

const log = createLogger("silent");
const NODE = "node-test";

describe("LocalPathProvisioner", () => {
  let srv: TestApiServer;
  let client: RestClient;
  let dataDir: string;
  let storageRoot: string;
  const running: { provisioner: LocalPathProvisioner; informers: SharedInformerFactory }[] = [];

  async function startProvisioner(nodeName: string, root = storageRoot): Promise<LocalPathProvisioner> {
    const informers = new SharedInformerFactory({ client, log, omitManagedFields: true });
    // One worker: keys are worked on in the order their events came, which the tests use as a barrier.
    const provisioner = new LocalPathProvisioner({ client, informers, nodeName, storageRoot: root, log, workers: 1 });
    running.push({ provisioner, informers });
    await provisioner.start();
    return provisioner;
  }

  async function stopAll(): Promise<void> {
    for (const r of running.splice(0)) {
      await r.provisioner.stop();
      await r.informers.shutdown();
    }
  }

  async function createClaim(name: string, over: Partial<NonNullable<PersistentVolumeClaim["spec"]>> = {}, node = NODE): Promise<PersistentVolumeClaim> {
    const claim: PersistentVolumeClaim = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name, namespace: "default", ...(node ? { annotations: { [ANN_SELECTED_NODE]: node } } : {}) },
      spec: { storageClassName: "local-path", accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, ...over },
    };
    return (await client.forKind("v1", "PersistentVolumeClaim").namespace("default").create(claim)) as PersistentVolumeClaim;
  }

  async function getVolume(name: string): Promise<PersistentVolume | undefined> {
    try {
      return (await client.forKind("v1", "PersistentVolume").get(name)) as PersistentVolume;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async function eventsOf(claim: string): Promise<Event[]> {
    const list = await client.forKind("v1", "Event").namespace("default").list();
    return (list.items as Event[]).filter((e) => e.involvedObject.name === claim);
  }

  async function release(name: string): Promise<void> {
    const pv = (await client.forKind("v1", "PersistentVolume").get(name)) as PersistentVolume;
    await client.forKind("v1", "PersistentVolume").updateStatus({ ...pv, status: { phase: "Released" } });
  }

  /** The volume is gone, or (held by the pv-protection finalizer) being deleted. */
  async function deleted(name: string): Promise<boolean | undefined> {
    const pv = await getVolume(name);
    return pv === undefined || pv.metadata?.deletionTimestamp ? true : undefined;
  }

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    dataDir = mkdtempSync(join(tmpdir(), "k8ts-provisioner-"));
    storageRoot = join(dataDir, "agent", "storage");
    await startProvisioner(NODE);
  });
  after(async () => {
    await stopAll();
    client?.close();
    await srv?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("offers the local-path StorageClass: default, WaitForFirstConsumer, Delete", async () => {
    const sc = await until("the local-path class", async () => {
      try {
        return (await client.forKind("storage.k8s.io/v1", "StorageClass").get("local-path")) as StorageClass;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
    assert.equal(sc.provisioner, LOCAL_PATH_PROVISIONER);
    assert.equal(sc.volumeBindingMode, "WaitForFirstConsumer");
    assert.equal(sc.reclaimPolicy, "Delete");
    assert.equal(sc.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"], "true");
  });

  it("a claim scheduled to this node gets its directory and a PV pre-bound to it, with the sidecar's events", async () => {
    const claim = await createClaim("web", { resources: { requests: { storage: "3Gi" } } });
    const uid = claim.metadata!.uid!;
    const pv = await until("the provisioned PV", () => getVolume(`pvc-${uid}`));
    const dir = join(storageRoot, `pvc-${uid}_default_web`);
    assert.equal(pv.metadata?.annotations?.["pv.kubernetes.io/provisioned-by"], "k8ts.io/local-path");
    assert.deepEqual(pv.spec?.capacity, { storage: "3Gi" });
    assert.deepEqual(pv.spec?.accessModes, ["ReadWriteOnce"]);
    assert.equal(pv.spec?.volumeMode, "Filesystem");
    assert.equal(pv.spec?.storageClassName, "local-path");
    assert.equal(pv.spec?.persistentVolumeReclaimPolicy, "Delete");
    assert.deepEqual(pv.spec?.hostPath, { path: dir, type: "DirectoryOrCreate" });
    // No Node object here: the hostname label falls back to the node's name.
    assert.deepEqual(pv.spec?.nodeAffinity, { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [NODE] }] }] } });
    assert.deepEqual(pv.spec?.claimRef, { kind: "PersistentVolumeClaim", apiVersion: "v1", namespace: "default", name: "web", uid, resourceVersion: claim.metadata!.resourceVersion });
    assert.ok(statSync(dir).isDirectory());
    assert.equal(statSync(dir).mode & 0o777, 0o777);

    const events = await until("Provisioning and ProvisioningSucceeded", async () => {
      const es = await eventsOf("web");
      return es.some((e) => e.reason === "ProvisioningSucceeded") ? es : undefined;
    });
    const byReason = new Map(events.map((e) => [e.reason, e]));
    assert.equal(byReason.get("Provisioning")?.message, 'External provisioner is provisioning volume for claim "default/web"');
    assert.equal(byReason.get("Provisioning")?.type, "Normal");
    assert.equal(byReason.get("ProvisioningSucceeded")?.message, `Successfully provisioned volume pvc-${uid}`);
    assert.equal(byReason.get("ProvisioningSucceeded")?.source?.component, "k8ts.io/local-path_node-test");
    assert.equal(byReason.get("ProvisioningSucceeded")?.involvedObject.kind, "PersistentVolumeClaim");
  });

  it("a Released volume with reclaim policy Delete loses its directory, then its PV; Retain is left alone", async () => {
    await client.forKind("storage.k8s.io/v1", "StorageClass").create({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "keep" },
      provisioner: LOCAL_PATH_PROVISIONER,
      volumeBindingMode: "WaitForFirstConsumer",
      reclaimPolicy: "Retain",
    });
    const kept = await createClaim("kept", { storageClassName: "keep" });
    const gone = await createClaim("gone");
    const keptPv = await until("the Retain PV", () => getVolume(`pvc-${kept.metadata!.uid!}`));
    assert.equal(keptPv.spec?.persistentVolumeReclaimPolicy, "Retain");
    const gonePv = await until("the Delete PV", () => getVolume(`pvc-${gone.metadata!.uid!}`));
    const keptDir = keptPv.spec!.hostPath!.path;
    const goneDir = gonePv.spec!.hostPath!.path;
    writeFileSync(join(keptDir, "data"), "x");
    writeFileSync(join(goneDir, "data"), "x");

    // The PV controller's part: both claims are gone, their volumes Released. The Retain one
    // first: once the Delete one is handled, the Retain one has been looked at.
    await release(keptPv.metadata!.name!);
    await release(gonePv.metadata!.name!);
    await until("the Delete volume deleted", () => deleted(gonePv.metadata!.name!));
    assert.ok(!existsSync(goneDir));
    assert.ok(existsSync(join(keptDir, "data")));
    const still = await getVolume(keptPv.metadata!.name!);
    assert.equal(still?.metadata?.deletionTimestamp, undefined);
  });

  it("ignores claims of other nodes; another node's provisioner leaves the class and this node's volumes alone", async () => {
    // A user's class of the name is never overwritten.
    const scs = client.forKind("storage.k8s.io/v1", "StorageClass");
    const sc = (await scs.get("local-path")) as StorageClass;
    await scs.update({ ...sc, metadata: { ...sc.metadata, annotations: { "storageclass.kubernetes.io/is-default-class": "false" } } });
    const otherRoot = join(dataDir, "other", "agent", "storage");
    await startProvisioner("node-other", otherRoot);

    const theirs = await createClaim("theirs", {}, "node-elsewhere");
    const mine = await createClaim("mine");
    const minePv = await until("this node's PV", () => getVolume(`pvc-${mine.metadata!.uid!}`));
    // Ours is handled after theirs (one worker, events in order).
    assert.equal(await getVolume(`pvc-${theirs.metadata!.uid!}`), undefined);
    assert.ok(!existsSync(otherRoot) || !existsSync(join(otherRoot, `pvc-${mine.metadata!.uid!}_default_mine`)));
    assert.ok(minePv.spec?.hostPath?.path.startsWith(storageRoot));
    assert.equal(((await scs.get("local-path")) as StorageClass).metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"], "false");

    // Released: only this node's provisioner deletes it (the other one's affinity does not match).
    await release(minePv.metadata!.name!);
    await until("this node's volume deleted", () => deleted(minePv.metadata!.name!));
    assert.ok(!existsSync(minePv.spec!.hostPath!.path));
    // Two recorders in one process name events by the millisecond: two provisioners reporting
    // on one claim at once could collide (and one event be dropped) in the tests that follow.
    const other = running.pop()!;
    await other.provisioner.stop();
    await other.informers.shutdown();
  });

  it("refuses ReadWriteMany and Immediate classes with ProvisioningFailed", async () => {
    await createClaim("shared", { accessModes: ["ReadWriteMany"] });
    const failed = await until("ProvisioningFailed for ReadWriteMany", async () => (await eventsOf("shared")).find((e) => e.reason === "ProvisioningFailed"));
    assert.equal(failed.type, "Warning");
    assert.equal(failed.message, 'failed to provision volume with StorageClass "local-path": NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes');
    assert.ok(!(await eventsOf("shared")).some((e) => e.reason === "Provisioning"));

    await client.forKind("storage.k8s.io/v1", "StorageClass").create({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "now" }, provisioner: LOCAL_PATH_PROVISIONER, volumeBindingMode: "Immediate" });
    await createClaim("eager", { storageClassName: "now" }, "");
    const refused = await until("ProvisioningFailed for an Immediate class", async () => (await eventsOf("eager")).find((e) => e.reason === "ProvisioningFailed" && e.source?.component === "k8ts.io/local-path_node-test"));
    assert.ok(!(await eventsOf("eager")).some((e) => e.reason === "Provisioning"));
    assert.match(refused.message ?? "", /^failed to provision volume with StorageClass "now": configuration error, no node was specified .*WaitForFirstConsumer/);
  });

  it("a restarted provisioner does not provision a claim again", async () => {
    const claim = await createClaim("again");
    const pvName = `pvc-${claim.metadata!.uid!}`;
    await until("the PV", () => getVolume(pvName));
    await until("ProvisioningSucceeded", async () => ((await eventsOf("again")).some((e) => e.reason === "ProvisioningSucceeded") ? true : undefined));
    await stopAll();
    await startProvisioner(NODE);
    // The claim is still unbound (no PV controller here); a later claim is the barrier.
    const next = await createClaim("next");
    await until("the next PV", () => getVolume(`pvc-${next.metadata!.uid!}`));
    const provisioning = (await eventsOf("again")).filter((e) => e.reason === "Provisioning");
    assert.deepEqual(
      provisioning.map((e) => e.count),
      [1],
    );
  });
});
