// One node and what is placed on it (upstream framework.NodeInfo): the node's parsed
// allocatable, labels and taints, the pods bound or assumed to it, the sums of their requests,
// the host ports in use, and the pods with affinity terms (so that affinity checks visit only
// those). Every change bumps `generation`.
import type { Node } from "kubernetes-types/core/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { Labels, RTaint } from "./helpers.js";
import type { HostPort, PodInfo } from "./podinfo.js";
import { nodeAllocatable, Resource } from "./resources.js";

export type RNode = DeepReadonly<Node>;

let generationCounter = 0;
function nextGeneration(): number {
  return ++generationCounter;
}

const ANY_IP = "0.0.0.0";

/** Host ports in use: ip → "protocol/port" → how many pods hold it. */
export class HostPortInfo {
  private readonly byIP = new Map<string, Map<string, number>>();

  add(p: HostPort): void {
    let m = this.byIP.get(p.ip);
    if (!m) this.byIP.set(p.ip, (m = new Map()));
    const k = `${p.protocol}/${p.port}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }

  remove(p: HostPort): void {
    const m = this.byIP.get(p.ip);
    if (!m) return;
    const k = `${p.protocol}/${p.port}`;
    const n = (m.get(k) ?? 0) - 1;
    if (n > 0) m.set(k, n);
    else m.delete(k);
    if (m.size === 0) this.byIP.delete(p.ip);
  }

  /**
   * Upstream's CheckConflict: a wildcard address conflicts with the same protocol/port on any
   * address; a specific address conflicts with itself and with the wildcard.
   */
  conflicts(p: HostPort): boolean {
    const k = `${p.protocol}/${p.port}`;
    if (p.ip === ANY_IP) {
      for (const m of this.byIP.values()) if (m.has(k)) return true;
      return false;
    }
    return (this.byIP.get(ANY_IP)?.has(k) ?? false) || (this.byIP.get(p.ip)?.has(k) ?? false);
  }

  get size(): number {
    return this.byIP.size;
  }

  clone(): HostPortInfo {
    const c = new HostPortInfo();
    for (const [ip, m] of this.byIP) c.byIP.set(ip, new Map(m));
    return c;
  }
}

const EMPTY_LABELS: Labels = Object.freeze({});

/**
 * Taint lists by what toleration matching reads of them (key, value, effect; not timeAdded):
 * nodes with equal lists share an id, so a plugin can check a pod's tolerations once per
 * distinct list instead of once per node. Ids are never reused; past MAX_TAINT_SETS distinct
 * lists, further ones get NO_TAINT_SET and are checked node by node.
 */
const taintSetIds = new Map<string, number>();
const MAX_TAINT_SETS = 4096;
export const NO_TAINT_SET = -1;

export function taintSetIdOf(taints: readonly RTaint[]): number {
  if (taints.length === 0) return 0;
  const key = JSON.stringify(taints.map((t) => [t.key ?? null, t.value ?? null, t.effect ?? null]));
  let id = taintSetIds.get(key);
  if (id === undefined) {
    if (taintSetIds.size >= MAX_TAINT_SETS) return NO_TAINT_SET;
    id = taintSetIds.size + 1;
    taintSetIds.set(key, id);
  }
  return id;
}

export class NodeInfo {
  node: RNode | undefined;
  name: string;
  labels: Labels = EMPTY_LABELS;
  taints: readonly RTaint[] = [];
  /** taintSetIdOf(taints): 0 for none. */
  taintSetId = 0;
  unschedulable = false;
  allocatable = new Resource();
  /** Sum of the pods' requests. */
  requested = new Resource();
  /** Sum of the pods' requests with 100m/200Mi for those that ask for nothing (scoring). */
  nonZeroRequested = new Resource();
  readonly pods: PodInfo[] = [];
  private readonly podIndex = new Map<string, number>();
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  usedPorts = new HostPortInfo();
  generation = nextGeneration();

  constructor(node?: RNode, name?: string) {
    this.name = name ?? node?.metadata?.name ?? "";
    if (node) this.setNode(node);
  }

  setNode(node: RNode): void {
    this.node = node;
    this.name = node.metadata?.name ?? this.name;
    this.labels = node.metadata?.labels ?? EMPTY_LABELS;
    this.taints = node.spec?.taints ?? [];
    this.taintSetId = taintSetIdOf(this.taints);
    this.unschedulable = node.spec?.unschedulable === true;
    this.allocatable = nodeAllocatable(node.status?.allocatable as Readonly<Record<string, string>> | undefined);
    this.generation = nextGeneration();
  }

  /** Forgets the Node object (it was deleted) while pods may still point at it. */
  removeNode(): void {
    this.node = undefined;
    this.generation = nextGeneration();
  }

  hasPod(uid: string): boolean {
    return this.podIndex.has(uid);
  }

  getPod(uid: string): PodInfo | undefined {
    const i = this.podIndex.get(uid);
    return i === undefined ? undefined : this.pods[i];
  }

  addPod(pi: PodInfo): void {
    if (this.podIndex.has(pi.uid)) this.removePod(pi.uid);
    this.podIndex.set(pi.uid, this.pods.length);
    this.pods.push(pi);
    if (pi.hasAffinity) this.podsWithAffinity.push(pi);
    if (pi.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity.push(pi);
    this.update(pi, 1);
  }

  /**
   * Puts `next` in the place of `prev`, a pod of this node with the same uid, when neither has
   * affinity terms (nothing but the sums changes then). False (nothing changed) otherwise.
   */
  replacePod(prev: PodInfo, next: PodInfo): boolean {
    const i = this.podIndex.get(prev.uid);
    if (i === undefined || this.pods[i] !== prev || next.uid !== prev.uid || prev.hasAffinity || next.hasAffinity) return false;
    this.pods[i] = next;
    this.update(prev, -1);
    this.update(next, 1);
    return true;
  }

  /** Removes the pod with this uid; returns it. */
  removePod(uid: string): PodInfo | undefined {
    const i = this.podIndex.get(uid);
    if (i === undefined) return undefined;
    const pi = this.pods[i]!;
    const last = this.pods.pop()!;
    if (last !== pi) {
      this.pods[i] = last;
      this.podIndex.set(last.uid, i);
    }
    this.podIndex.delete(uid);
    if (pi.hasAffinity) this.podsWithAffinity = this.podsWithAffinity.filter((p) => p.uid !== uid);
    if (pi.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.filter((p) => p.uid !== uid);
    this.update(pi, -1);
    return pi;
  }

  private update(pi: PodInfo, sign: 1 | -1): void {
    this.requested.add(pi.requests, sign);
    this.nonZeroRequested.add(pi.nonZeroRequests, sign);
    for (const p of pi.hostPorts) {
      if (sign > 0) this.usedPorts.add(p);
      else this.usedPorts.remove(p);
    }
    this.generation = nextGeneration();
  }

  /** A copy whose pod list and sums may be changed without touching this one. */
  clone(): NodeInfo {
    const c = new NodeInfo(undefined, this.name);
    c.node = this.node;
    c.labels = this.labels;
    c.taints = this.taints;
    c.taintSetId = this.taintSetId;
    c.unschedulable = this.unschedulable;
    c.allocatable = this.allocatable.clone();
    c.requested = this.requested.clone();
    c.nonZeroRequested = this.nonZeroRequested.clone();
    for (const p of this.pods) {
      c.podIndex.set(p.uid, c.pods.length);
      c.pods.push(p);
    }
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.usedPorts = this.usedPorts.clone();
    c.generation = this.generation;
    return c;
  }
}
