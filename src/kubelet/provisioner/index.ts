// The node-local provisioner (k3s's local-path-provisioner, run by every agent for its own
// node, as k8ts.io/local-path): a claim of a class of this provisioner, once the scheduler has
// picked this node for it (volume.kubernetes.io/selected-node), gets a directory under the
// agent's data dir and a hostPath PersistentVolume pre-bound to it (the PV controller completes
// the binding); a Released volume it made, with reclaim policy Delete, loses its directory and
// then its PV. On start it offers the `local-path` StorageClass (the default) unless one of
// that name exists. Events on claims read as the external-provisioner sidecar's.
//
// Level-based: the informers' handlers only enqueue keys; `sync` reads the caches. Idle, it
// costs nothing but the watches (shared with the kubelet's object source).
import { resolve } from "node:path";
import type { Node, PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import { ANN_DYNAMICALLY_PROVISIONED, LOCAL_PATH_PROVISIONER, LOCAL_PATH_STORAGE_CLASS } from "../../api/persistentvolume.js";
import { goQuote } from "../../api/fielderrors.js";
import { runController } from "../../client/controller.js";
import { isAlreadyExists, isConflict, isNotFound } from "../../client/errors.js";
import { EventRecorder } from "../../client/events.js";
import type { SharedInformer, SharedInformerFactory } from "../../client/informer.js";
import { finalStateOf, keyOf, splitKey, type DeepReadonly } from "../../client/objects.js";
import type { ResourceClient, RestClient } from "../../client/rest.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import { decideClaim, HOSTNAME_LABEL, isReleasedForDeletion, localPathStorageClass, makeVolumeDir, provisionedVolume, removeVolumeDir, volumeDir, volumeName } from "./volume.js";

export interface LocalPathProvisionerOptions {
  readonly client: RestClient;
  /** Where the claims', volumes' and classes' informers come from (shared with the agent's object source). */
  readonly informers: SharedInformerFactory;
  readonly nodeName: string;
  /** <agent data dir>/storage */
  readonly storageRoot: string;
  readonly log: Logger;
  /** Claims and volumes worked on at once; default 2. */
  readonly workers?: number;
}

const CLASS_KEY = "class";
const claimKey = (key: string): string => `claim:${key}`;
const volumeKey = (name: string): string => `volume:${name}`;

export class LocalPathProvisioner {
  private readonly log: Logger;
  private readonly claims: SharedInformer<PersistentVolumeClaim>;
  private readonly volumes: SharedInformer<PersistentVolume>;
  private readonly classes: SharedInformer<StorageClass>;
  private readonly volumeClient: ResourceClient<PersistentVolume>;
  private readonly classClient: ResourceClient<StorageClass>;
  private readonly nodeClient: ResourceClient<Node>;
  private readonly queue = new WorkQueue<string>();
  private readonly events: EventRecorder;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  /** claim key → uid of the claim whose PV this provisioner created, until the PV's informer shows it */
  private readonly created = new Map<string, string>();
  /** absolute: it goes into PVs' hostPath */
  private readonly storageRoot: string;

  constructor(private readonly o: LocalPathProvisionerOptions) {
    this.storageRoot = resolve(o.storageRoot);
    this.log = o.log.child({ component: "local-path-provisioner", node: o.nodeName });
    this.volumeClient = o.client.forKind("v1", "PersistentVolume");
    this.classClient = o.client.forKind("storage.k8s.io/v1", "StorageClass");
    this.nodeClient = o.client.forKind("v1", "Node");
    this.claims = o.informers.informerFor(o.client.forKind("v1", "PersistentVolumeClaim"));
    this.volumes = o.informers.informerFor(this.volumeClient);
    this.classes = o.informers.informerFor(this.classClient);
    // The external-provisioner's event source: `<provisioner>_<identity>`, no host.
    this.events = EventRecorder.forClient(o.client, { component: `${LOCAL_PATH_PROVISIONER}_${o.nodeName}`, log: this.log });
  }

  /** Starts the informers and workers once the caches have synced (so nothing is provisioned twice). */
  async start(): Promise<void> {
    const signal = this.stopping.signal;
    this.claims.addEventHandler({
      onAdd: (c) => this.queue.add(claimKey(keyOf(c))),
      onUpdate: (_old, c) => this.queue.add(claimKey(keyOf(c))),
      onDelete: (c) => this.queue.add(claimKey(keyOf(c))),
    });
    const onVolume = (pv: DeepReadonly<PersistentVolume>): void => {
      if (pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== LOCAL_PATH_PROVISIONER) return;
      this.queue.add(volumeKey(pv.metadata?.name ?? ""));
      // A claim whose volume went away before it was bound is provisioned again.
      const ref = pv.spec?.claimRef;
      if (ref?.namespace && ref.name) this.queue.add(claimKey(`${ref.namespace}/${ref.name}`));
    };
    this.volumes.addEventHandler({
      onAdd: (pv) => onVolume(pv),
      onUpdate: (_old, pv) => onVolume(pv),
      onDelete: (pv) => onVolume(finalStateOf(pv)),
    });
    // A class made or changed after its claims: they are looked at again.
    const onClass = (): void => {
      for (const c of this.claims.lister.list()) if (!c.spec?.volumeName) this.queue.add(claimKey(keyOf(c)));
    };
    this.classes.addEventHandler({
      onAdd: (_c, initial) => {
        if (!initial) onClass();
      },
      onUpdate: onClass,
    });
    this.o.informers.start(signal);
    if (!(await this.o.informers.waitForCacheSync(signal))) return;
    this.queue.add(CLASS_KEY);
    this.running = runController({
      name: "local-path-provisioner",
      queue: this.queue,
      workers: this.o.workers ?? 2,
      sync: (key, _signal, log) => this.sync(key, log),
      log: this.log,
      signal,
    });
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.queue.shutDown();
    await this.running;
    await this.events.shutdown().catch(() => undefined);
  }

  private sync(key: string, log: Logger): Promise<void> {
    if (key === CLASS_KEY) return this.ensureStorageClass(log);
    if (key.startsWith("claim:")) return this.syncClaim(key.slice("claim:".length), log);
    return this.syncVolume(key.slice("volume:".length), log);
  }

  /** Creates the local-path class when none of its name exists; a user's class of that name is theirs. */
  private async ensureStorageClass(log: Logger): Promise<void> {
    if (this.classes.lister.get(LOCAL_PATH_STORAGE_CLASS)) return;
    try {
      await this.classClient.create(localPathStorageClass());
      log.info({ storageClass: LOCAL_PATH_STORAGE_CLASS }, "created the default StorageClass");
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  /** The node's hostname label (what its volumes' node affinity names); its name when there is no Node object or label. */
  private async nodeHostname(): Promise<string> {
    try {
      const node = await this.nodeClient.get(this.o.nodeName, { omitManagedFields: true });
      return node.metadata?.labels?.[HOSTNAME_LABEL] || this.o.nodeName;
    } catch (err) {
      if (isNotFound(err)) return this.o.nodeName;
      throw err;
    }
  }

  private async syncClaim(key: string, log: Logger): Promise<void> {
    const { namespace, name } = splitKey(key);
    const claim = this.claims.lister.namespace(namespace).get(name);
    if (!claim) {
      this.created.delete(key);
      return;
    }
    const decision = decideClaim(claim, (n) => this.classes.lister.get(n), this.o.nodeName);
    if (decision.action === "ignore") return;
    const ref = { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: claim.metadata ?? {} };
    if (decision.action === "refuse") {
      this.events.event(ref, "Warning", "ProvisioningFailed", decision.message);
      return;
    }
    const pvName = volumeName(claim);
    // Made already (by this run, or before a restart): the PV controller binds it.
    if (this.volumes.lister.get(pvName) || this.created.get(key) === claim.metadata?.uid) return;
    const cls = this.classes.lister.get(decision.className)!;
    this.events.event(ref, "Normal", "Provisioning", `External provisioner is provisioning volume for claim ${goQuote(key)}`);
    try {
      const dir = volumeDir(this.storageRoot, claim);
      await makeVolumeDir(this.storageRoot, dir);
      const pv = provisionedVolume(claim, cls, decision.className, dir, await this.nodeHostname());
      try {
        await this.volumeClient.create(pv);
      } catch (err) {
        // A PV of that name is the one made for this claim before (names carry the claim's uid).
        if (!isAlreadyExists(err)) throw err;
      }
      log.info({ claim: key, volume: pvName, path: dir }, "provisioned volume");
    } catch (err) {
      this.events.event(ref, "Warning", "ProvisioningFailed", `failed to provision volume with StorageClass ${goQuote(decision.className)}: ${(err as Error).message}`);
      throw err;
    }
    this.created.set(key, claim.metadata?.uid ?? "");
    this.events.event(ref, "Normal", "ProvisioningSucceeded", `Successfully provisioned volume ${pvName}`);
  }

  private async syncVolume(name: string, log: Logger): Promise<void> {
    const pv = this.volumes.lister.get(name);
    if (!pv) return;
    const ref = pv.spec?.claimRef;
    if (ref?.namespace && ref.name && this.created.get(`${ref.namespace}/${ref.name}`) === ref.uid) this.created.delete(`${ref.namespace}/${ref.name}`);
    // Cheap checks first: the node is read only for a Released volume of ours.
    if (pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== LOCAL_PATH_PROVISIONER || pv.status?.phase !== "Released" || pv.spec?.persistentVolumeReclaimPolicy !== "Delete") return;
    if (!isReleasedForDeletion(pv, this.o.nodeName, await this.nodeHostname())) return;
    const path = pv.spec?.hostPath?.path ?? "";
    try {
      await removeVolumeDir(this.storageRoot, path);
    } catch (err) {
      this.events.event({ apiVersion: "v1", kind: "PersistentVolume", metadata: pv.metadata ?? {} }, "Warning", "VolumeFailedDelete", (err as Error).message);
      throw err;
    }
    // Being deleted already (the pv-protection finalizer holds it until it is unbound): asked once is enough.
    if (pv.metadata?.deletionTimestamp) return;
    try {
      await this.volumeClient.delete(name, { ...(pv.metadata?.uid ? { preconditions: { uid: pv.metadata.uid } } : {}) });
    } catch (err) {
      // Gone, or a new PV under the name (the uid precondition failed): not this one to delete.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
    log.info({ volume: name, path }, "deleted volume");
  }
}
