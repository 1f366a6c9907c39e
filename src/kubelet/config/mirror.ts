// Mirror pods (upstream pkg/kubelet/pod/mirror_client.go and the kubelet's sync of static
// pods): the API's read-only view of each static pod, so that `kubectl get pods` shows what
// the node runs from its manifests. A mirror pod is the static pod with the annotation
// kubernetes.io/config.mirror = the static pod's config.hash, owned by the Node (controller),
// so the garbage collector removes it with the node.
// sync(staticPods) makes the API match the list: it creates missing mirror pods, replaces
// those whose hash is stale (the manifest changed), and deletes mirror pods of static pods
// that are gone. With start(), deletions and changes of mirror pods are watched, so one
// deleted by hand comes back at once (upstream re-creates it on the pod's next sync).
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import { isAlreadyExists, isConflict, isNotFound } from "../../client/errors.js";
import { SharedInformer } from "../../client/informer.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { RestClient } from "../../client/rest.js";
import type { Logger } from "../../util/log.js";
import { ANNOTATION_CONFIG_HASH, ANNOTATION_CONFIG_MIRROR, isMirrorPod } from "../types.js";

export interface MirrorPodsOptions {
  client: RestClient;
  nodeName: string;
  log: Logger;
}

type AnyPod = Pod | DeepReadonly<Pod>;

function keyOf(p: AnyPod): string {
  return `${p.metadata?.namespace ?? ""}/${p.metadata?.name ?? ""}`;
}

function hashOf(p: AnyPod): string {
  return p.metadata?.annotations?.[ANNOTATION_CONFIG_HASH] ?? p.metadata?.uid ?? "";
}

/** The mirror pod of a static pod, as the kubelet creates it (upstream's CreateMirrorPod). */
export function mirrorPodFor(staticPod: Pod, node: { readonly name: string; readonly uid: string }): Pod {
  const m = staticPod.metadata ?? {};
  // Priority is only set on static pods of the system classes, whose values are fixed in every
  // cluster, so it matches what the API server's Priority admission computes.
  const spec = structuredClone(staticPod.spec!);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: m.name!,
      namespace: m.namespace ?? "default",
      ...(m.labels ? { labels: { ...m.labels } } : {}),
      annotations: { ...m.annotations, [ANNOTATION_CONFIG_MIRROR]: hashOf(staticPod) },
      ownerReferences: [{ apiVersion: "v1", kind: "Node", name: node.name, uid: node.uid, controller: true }],
    },
    spec,
  };
}

export class MirrorPods {
  private readonly log: Logger;
  private desired: readonly Pod[] | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private informer: SharedInformer<Pod> | undefined;
  private informerRun: Promise<void> | undefined;
  private readonly stopper = new AbortController();

  constructor(private readonly o: MirrorPodsOptions) {
    this.log = o.log.child({ component: "mirror-pods" });
  }

  private get pods() {
    return this.o.client.forKind("v1", "Pod");
  }

  /**
   * Watches this node's pods so that a mirror pod deleted or changed by someone else is put
   * back (against the list of the last sync). Optional: sync() works without it.
   */
  async start(): Promise<void> {
    if (this.informer) return;
    const inf = (this.informer = new SharedInformer<Pod>({
      name: "mirror-pods",
      lw: this.pods,
      log: this.log,
      selectors: { fieldSelector: `spec.nodeName=${this.o.nodeName}` },
      omitManagedFields: true,
    }));
    const wanted = (p: AnyPod): Pod | undefined => this.desired?.find((s) => keyOf(s) === keyOf(p));
    inf.addEventHandler({
      // Only a change that needs work: a mirror pod being deleted, or not (any more) the mirror of our static pod.
      onUpdate: (_old, p) => {
        const s = wanted(p);
        if (s && (p.metadata?.deletionTimestamp || p.metadata?.annotations?.[ANNOTATION_CONFIG_MIRROR] !== hashOf(s))) this.kick();
      },
      onDelete: (p) => {
        if (wanted("obj" in p ? p.obj : p)) this.kick();
      },
    });
    this.informerRun = inf.run(this.stopper.signal);
    await inf.waitForSync(this.stopper.signal);
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.informerRun;
    await this.running;
  }

  /** Makes the API's mirror pods match `staticPods`; resolves when done (a failure rejects; the next sync retries). */
  async sync(staticPods: readonly Pod[]): Promise<void> {
    this.desired = staticPods.map((p) => structuredClone(p));
    // One reconcile at a time; calls made while one runs share the next, which takes the newest list.
    this.next ??= (async () => {
      await this.running?.catch(() => undefined);
      this.next = undefined;
      const run = this.reconcile(this.desired ?? []);
      this.running = run;
      try {
        await run;
      } finally {
        if (this.running === run) this.running = undefined;
      }
    })();
    return this.next;
  }

  private kick(): void {
    if (!this.desired || this.stopper.signal.aborted) return;
    void this.sync(this.desired).catch((err: unknown) => this.log.warn({ err }, "re-syncing mirror pods failed"));
  }

  private async existing(): Promise<AnyPod[]> {
    if (this.informer?.hasSynced()) return this.informer.lister.list();
    return (await this.pods.listAll({ fieldSelector: `spec.nodeName=${this.o.nodeName}` })).items;
  }

  private async reconcile(staticPods: readonly Pod[]): Promise<void> {
    const want = new Map(staticPods.map((p) => [keyOf(p), p]));
    const have = new Map<string, AnyPod>();
    const others = new Set<string>();
    for (const p of await this.existing()) {
      if (isMirrorPod(p as Pod)) have.set(keyOf(p), p);
      else others.add(keyOf(p));
    }
    const errors: unknown[] = [];
    const create: Pod[] = [];
    for (const [key, mirror] of have) {
      const s = want.get(key);
      if (s && !mirror.metadata?.deletionTimestamp && mirror.metadata?.annotations?.[ANNOTATION_CONFIG_MIRROR] === hashOf(s)) continue;
      // Gone from the manifests, made from an older version of it, or deleted by someone (a
      // mirror pod has no containers of its own to wait for): delete at once, and re-create.
      try {
        await this.delete(mirror);
        if (s) create.push(s);
      } catch (err) {
        errors.push(err);
      }
    }
    for (const [key, s] of want) if (!have.has(key)) create.push(s);
    if (create.length > 0) {
      const node = await this.node();
      if (!node) {
        this.log.info({ pods: create.map(keyOf) }, "the node is not registered yet; mirror pods wait");
      } else {
        for (const s of create) {
          if (others.has(keyOf(s))) {
            this.log.warn({ pod: keyOf(s) }, "a pod of the same name that is not a mirror pod exists; no mirror pod for this static pod");
            continue;
          }
          try {
            await this.pods.namespace(s.metadata?.namespace ?? "default").create(mirrorPodFor(s, node));
            this.log.info({ pod: keyOf(s) }, "created mirror pod");
          } catch (err) {
            // Still terminating, or created meanwhile: the watch brings the next chance.
            if (isAlreadyExists(err)) this.log.debug({ pod: keyOf(s) }, "mirror pod exists (terminating?); will retry");
            else errors.push(err);
          }
        }
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  private async node(): Promise<{ name: string; uid: string } | undefined> {
    try {
      const n: Node = await this.o.client.forKind("v1", "Node").get(this.o.nodeName);
      return n.metadata?.uid ? { name: this.o.nodeName, uid: n.metadata.uid } : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** upstream's DeleteMirrorPod: at once (grace 0), only the pod we saw (uid precondition). */
  private async delete(mirror: AnyPod): Promise<void> {
    const ns = mirror.metadata?.namespace ?? "default";
    const name = mirror.metadata?.name ?? "";
    const uid = mirror.metadata?.uid;
    try {
      await this.pods.namespace(ns).delete(name, { gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) });
      this.log.info({ pod: `${ns}/${name}` }, "deleted mirror pod");
    } catch (err) {
      // Already gone, or replaced by another pod of that name since (the precondition failed).
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}
