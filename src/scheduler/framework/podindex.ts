// Indexes over the pods in the cache that keep affinity and spreading from scanning every pod
// of the cluster in every cycle (upstream does scan them, in 16 threads):
//
// - by label: (namespace, key, value) → pods, so that a selector with an equality or `in`
//   requirement visits only the pods that can match it;
// - affinity term groups: pods of one Deployment carry identical terms, so terms are grouped
//   by their content with a count per node; a cycle tests each distinct term against the
//   incoming pod once, instead of once per pod that carries it.
import type { Selector } from "../../api/labels.js";
import type { AffinityTerm, PodInfo } from "./podinfo.js";
import { labelsEqual } from "../../api/labels.js";

export type TermKind = "requiredAffinity" | "requiredAntiAffinity" | "preferredAffinity" | "preferredAntiAffinity";

export interface TermGroup {
  readonly kind: TermKind;
  readonly term: AffinityTerm;
  /** 1 for required terms. */
  readonly weight: number;
  /** node name → pods on it carrying the term. */
  readonly nodes: Map<string, number>;
}

const signatures = new WeakMap<AffinityTerm, string>();

function signature(kind: TermKind, t: AffinityTerm, weight: number): string {
  let s = signatures.get(t);
  if (s === undefined) {
    const ns = t.namespaceSelector.isNothing() ? "<nil>" : t.namespaceSelector.toString();
    s = `${t.topologyKey}\x00${t.selector.isNothing() ? "<nil>" : t.selector.toString()}\x00${[...t.namespaces].sort().join(",")}\x00${ns}`;
    signatures.set(t, s);
  }
  return `${kind}\x00${weight}\x00${s}`;
}

// Buckets map uid → pod: a new version of a pod (the informer's, after every status write)
// takes its predecessor's entry in place, where a set of PodInfo objects had to drop one and
// add the other, building every bucket key again.
type Bucket = Map<string, PodInfo>;

function fileIn(m: Map<string, Bucket>, k: string, p: PodInfo): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Map()));
  s.set(p.uid, p);
}

function unfileFrom(m: Map<string, Bucket>, k: string, p: PodInfo): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(p.uid);
  if (s.size === 0) m.delete(k);
}

function labelKeysOf(p: PodInfo): string[] {
  const keys: string[] = [];
  for (const k in p.labels) keys.push(`${p.namespace}\x00${k}\x00${p.labels[k]}`);
  return keys;
}

const EMPTY: Iterable<PodInfo> = [];

export class PodIndex {
  private readonly byNsLabel = new Map<string, Bucket>();
  private readonly byNs = new Map<string, Bucket>();
  private readonly all: Bucket = new Map();
  /** uid → the byNsLabel keys the pod is filed under. */
  private readonly labelKeys = new Map<string, string[]>();
  private readonly groups = new Map<string, TermGroup>();
  private readonly byKind: Record<TermKind, Set<TermGroup>> = {
    requiredAffinity: new Set(),
    requiredAntiAffinity: new Set(),
    preferredAffinity: new Set(),
    preferredAntiAffinity: new Set(),
  };

  /** Files a pod; its uid must not be filed already (the cache removes a pod's old version first). */
  add(p: PodInfo): void {
    this.all.set(p.uid, p);
    fileIn(this.byNs, p.namespace, p);
    const keys = labelKeysOf(p);
    for (const k of keys) fileIn(this.byNsLabel, k, p);
    this.labelKeys.set(p.uid, keys);
    if (p.hasAffinity) this.eachTerm(p, (kind, t, w) => this.group(kind, t, w, p.nodeName, 1));
  }

  remove(p: PodInfo): void {
    this.all.delete(p.uid);
    unfileFrom(this.byNs, p.namespace, p);
    for (const k of this.labelKeys.get(p.uid) ?? labelKeysOf(p)) unfileFrom(this.byNsLabel, k, p);
    this.labelKeys.delete(p.uid);
    if (p.hasAffinity) this.eachTerm(p, (kind, t, w) => this.group(kind, t, w, p.nodeName, -1));
  }

  /**
   * Puts `next` where `prev` (a filed pod) is, when both are filed alike: same uid, node,
   * namespace and labels, and no affinity terms. False (nothing changed) otherwise.
   */
  replace(prev: PodInfo, next: PodInfo): boolean {
    if (prev.uid !== next.uid || prev.nodeName !== next.nodeName || prev.namespace !== next.namespace || prev.hasAffinity || next.hasAffinity || !labelsEqual(prev.labels, next.labels)) return false;
    const keys = this.labelKeys.get(prev.uid);
    if (this.all.get(prev.uid) !== prev || !keys) return false;
    this.all.set(next.uid, next);
    this.byNs.get(next.namespace)!.set(next.uid, next);
    for (const k of keys) this.byNsLabel.get(k)!.set(next.uid, next);
    return true;
  }

  private eachTerm(p: PodInfo, f: (kind: TermKind, t: AffinityTerm, weight: number) => void): void {
    for (const t of p.requiredAffinityTerms) f("requiredAffinity", t, 1);
    for (const t of p.requiredAntiAffinityTerms) f("requiredAntiAffinity", t, 1);
    for (const t of p.preferredAffinityTerms) f("preferredAffinity", t, t.weight);
    for (const t of p.preferredAntiAffinityTerms) f("preferredAntiAffinity", t, t.weight);
  }

  private group(kind: TermKind, t: AffinityTerm, weight: number, node: string, delta: number): void {
    const sig = signature(kind, t, weight);
    let g = this.groups.get(sig);
    if (!g) {
      if (delta < 0) return;
      g = { kind, term: t, weight, nodes: new Map() };
      this.groups.set(sig, g);
      this.byKind[kind].add(g);
    }
    const n = (g.nodes.get(node) ?? 0) + delta;
    if (n > 0) g.nodes.set(node, n);
    else g.nodes.delete(node);
    if (g.nodes.size === 0) {
      this.groups.delete(sig);
      this.byKind[kind].delete(g);
    }
  }

  /** The distinct terms of one kind that pods in the cache carry. */
  termGroups(kind: TermKind): ReadonlySet<TermGroup> {
    return this.byKind[kind];
  }

  get termGroupCount(): number {
    return this.groups.size;
  }

  /**
   * Pods that may match `selector` in `namespaces` (undefined: all namespaces): a superset;
   * callers still test each pod. Uses the most selective equality/`in` requirement.
   */
  candidates(namespaces: ReadonlySet<string> | undefined, selector: Selector): Iterable<PodInfo> {
    const { requirements, selectable } = selector.requirements();
    if (!selectable) return EMPTY;
    const nss = namespaces ?? new Set(this.byNs.keys());
    let best: Bucket[] | undefined;
    let bestSize = Infinity;
    for (const r of requirements) {
      if (r.operator !== "=" && r.operator !== "==" && r.operator !== "in") continue;
      const buckets: Bucket[] = [];
      let size = 0;
      for (const ns of nss) {
        for (const v of r.values) {
          const b = this.byNsLabel.get(`${ns}\x00${r.key}\x00${v}`);
          if (b) {
            buckets.push(b);
            size += b.size;
          }
        }
      }
      if (size < bestSize) {
        best = buckets;
        bestSize = size;
      }
    }
    if (best) return flatten(best);
    if (!namespaces) return this.all.values();
    return flatten([...nss].map((ns) => this.byNs.get(ns)).filter((s): s is Bucket => s !== undefined));
  }
}

function* flatten(buckets: readonly Bucket[]): Iterable<PodInfo> {
  for (const b of buckets) yield* b.values();
}
