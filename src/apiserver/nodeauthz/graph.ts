// The Node authorizer's graph (upstream's plugin/pkg/auth/authorizer/node/graph.go, in the
// shape of an index): which objects each node may read because a pod bound to it needs them.
//
//   node ← pod ← secret | configmap | pvc | serviceaccount     (a pod's own references)
//   node ← pod ← pvc ← pv ← secret                              (a volume's node-side secrets)
//   node ← volumeattachment
//
// A pod's references are counted per node (`reach`), so "may node n read secret ns/x" is one
// map lookup however many pods use the secret; a PersistentVolume is reached through the claim
// its claimRef names. Mirror pods reach only their node: a node must never make itself a pod
// that grants it other objects (NodeRestriction refuses such pods; this is defence in depth).
//
// The index follows the API server's watch cache: one watch per resource, drained synchronously
// before each question, so an answer reflects everything the cache had applied when it was asked
// (as current as the server's own reads). A watch the cache cut off (it fell too far behind, or
// the cache was rebuilt) is opened again, and the resource's part of the index rebuilt from it.
import type { PersistentVolume, Pod } from "kubernetes-types/core/v1.js";
import type { VolumeAttachment } from "kubernetes-types/storage/v1.js";
import type { KubeObject } from "../registry/types.js";
import { MIRROR_POD_ANNOTATION } from "../resources/core/pod.js";
import { podClaimNames, podConfigMapNames, podSecretNames, pvKubeletSecrets } from "../../api/podreferences.js";

/** One change of a watched resource, as the watch cache's watchers give it. */
export interface GraphEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  /** The object (for DELETED, its last state). */
  readonly object: { readonly object: Readonly<KubeObject> };
}

/** A watch read synchronously: its current objects as ADDED events, then every change. */
export interface GraphFeed {
  /** The next event, if one is ready. */
  takeNow(): GraphEvent | undefined;
  /** True once the watch ended; the graph opens another. */
  readonly closed: boolean;
}

export type GraphResource = "pods" | "persistentvolumes" | "volumeattachments";

/** Where the graph's watches come from (the API server's watch cache). */
export interface NodeGraphSource {
  /** A new watch of every object of the resource; undefined when the server does not serve it. */
  watch(resource: GraphResource): GraphFeed | undefined;
}

/** Vertex kinds a node may be asked about. */
export type VertexType = "pod" | "secret" | "configmap" | "persistentvolumeclaim" | "persistentvolume" | "serviceaccount" | "volumeattachment";

const vertex = (type: VertexType, namespace: string, name: string): string => `${type}/${namespace}/${name}`;

interface PodEntry {
  readonly node: string;
  readonly refs: readonly string[];
}

interface PVEntry {
  /** The claim vertex the volume is bound to. */
  readonly claim: string;
  readonly secrets: readonly string[];
}

/** A count per key; a key whose count drops to zero is removed. */
class Counter {
  private readonly counts = new Map<string, Map<string, number>>();

  add(key: string, sub: string, delta: number): void {
    let m = this.counts.get(key);
    if (!m) {
      if (delta <= 0) return;
      m = new Map();
      this.counts.set(key, m);
    }
    const n = (m.get(sub) ?? 0) + delta;
    if (n > 0) m.set(sub, n);
    else {
      m.delete(sub);
      if (m.size === 0) this.counts.delete(key);
    }
  }

  has(key: string, sub: string): boolean {
    return (this.counts.get(key)?.get(sub) ?? 0) > 0;
  }

  subs(key: string): Iterable<string> {
    return this.counts.get(key)?.keys() ?? [];
  }

  clear(): void {
    this.counts.clear();
  }
}

const keyOf = (o: Readonly<KubeObject>): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

export class NodeGraph {
  private readonly feeds = new Map<GraphResource, GraphFeed | undefined>();
  private readonly pods = new Map<string, PodEntry>();
  /** vertex → node → how many of the node's pods refer to it (pods themselves included). */
  private readonly reach = new Counter();
  private readonly pvs = new Map<string, PVEntry>();
  /** secret vertex → the PersistentVolumes that name it. */
  private readonly pvsBySecret = new Counter();
  private readonly attachments = new Map<string, string>();

  constructor(private readonly source: NodeGraphSource) {}

  /** Whether there is a path from the object to the node (upstream's hasPathFrom). */
  hasPathFrom(node: string, type: VertexType, namespace: string, name: string): boolean {
    this.sync();
    switch (type) {
      case "persistentvolume":
        return this.pvReaches(name, node);
      case "volumeattachment":
        return this.attachments.get(name) === node;
      case "secret": {
        const v = vertex(type, namespace, name);
        if (this.reach.has(v, node)) return true;
        for (const pv of this.pvsBySecret.subs(v)) if (this.pvReaches(pv, node)) return true;
        return false;
      }
      default:
        return this.reach.has(vertex(type, namespace, name), node);
    }
  }

  private pvReaches(pv: string, node: string): boolean {
    const e = this.pvs.get(pv);
    return e !== undefined && this.reach.has(e.claim, node);
  }

  /** Applies what the watches have brought since the last question. */
  sync(): void {
    this.drain("pods", (t, o) => this.applyPod(t, o as Readonly<Pod>), () => {
      this.pods.clear();
      this.reach.clear();
    });
    this.drain("persistentvolumes", (t, o) => this.applyPV(t, o as Readonly<PersistentVolume>), () => {
      this.pvs.clear();
      this.pvsBySecret.clear();
    });
    this.drain("volumeattachments", (t, o) => this.applyAttachment(t, o as Readonly<VolumeAttachment>), () => this.attachments.clear());
  }

  private drain(resource: GraphResource, apply: (type: GraphEvent["type"], obj: Readonly<KubeObject>) => void, reset: () => void): void {
    let feed = this.feeds.get(resource);
    if (feed === undefined && this.feeds.has(resource)) return; // not served
    if (feed === undefined || feed.closed) {
      reset();
      feed = this.source.watch(resource);
      this.feeds.set(resource, feed);
      if (!feed) return;
    }
    // A watch cut off while it is drained is opened again at the next question.
    for (let ev = feed.takeNow(); ev; ev = feed.takeNow()) apply(ev.type, ev.object.object);
  }

  private applyPod(type: GraphEvent["type"], pod: Readonly<Pod>): void {
    const key = keyOf(pod);
    const old = this.pods.get(key);
    if (old) {
      for (const r of old.refs) this.reach.add(r, old.node, -1);
      this.pods.delete(key);
    }
    const node = pod.spec?.nodeName ?? "";
    if (type === "DELETED" || node === "") return;
    const ns = pod.metadata?.namespace ?? "";
    const refs = [vertex("pod", ns, pod.metadata?.name ?? "")];
    if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] === undefined) {
      if (pod.spec?.serviceAccountName) refs.push(vertex("serviceaccount", ns, pod.spec.serviceAccountName));
      for (const s of podSecretNames(pod)) refs.push(vertex("secret", ns, s));
      for (const c of podConfigMapNames(pod)) refs.push(vertex("configmap", ns, c));
      for (const c of podClaimNames(pod)) refs.push(vertex("persistentvolumeclaim", ns, c));
    }
    for (const r of refs) this.reach.add(r, node, 1);
    this.pods.set(key, { node, refs });
  }

  private applyPV(type: GraphEvent["type"], pv: Readonly<PersistentVolume>): void {
    const name = pv.metadata?.name ?? "";
    const old = this.pvs.get(name);
    if (old) {
      for (const s of old.secrets) this.pvsBySecret.add(s, name, -1);
      this.pvs.delete(name);
    }
    const claim = pv.spec?.claimRef;
    if (type === "DELETED" || !claim?.name) return;
    const secrets = pvKubeletSecrets(pv).map((s) => vertex("secret", s.namespace, s.name));
    for (const s of secrets) this.pvsBySecret.add(s, name, 1);
    this.pvs.set(name, { claim: vertex("persistentvolumeclaim", claim.namespace ?? "", claim.name), secrets });
  }

  private applyAttachment(type: GraphEvent["type"], va: Readonly<VolumeAttachment>): void {
    const name = va.metadata?.name ?? "";
    const node = va.spec?.nodeName ?? "";
    if (type === "DELETED" || node === "") this.attachments.delete(name);
    else this.attachments.set(name, node);
  }
}
