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

function fileIn<K>(m: Map<K, Set<PodInfo>>, k: K, p: PodInfo): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(p);
}

function unfileFrom<K>(m: Map<K, Set<PodInfo>>, k: K, p: PodInfo): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(p);
  if (s.size === 0) m.delete(k);
}

const EMPTY: ReadonlySet<PodInfo> = new Set();

export class PodIndex {
  private readonly byNsLabel = new Map<string, Set<PodInfo>>();
  private readonly byNs = new Map<string, Set<PodInfo>>();
  private readonly all = new Set<PodInfo>();
  private readonly groups = new Map<string, TermGroup>();
  private readonly byKind: Record<TermKind, Set<TermGroup>> = {
    requiredAffinity: new Set(),
    requiredAntiAffinity: new Set(),
    preferredAffinity: new Set(),
    preferredAntiAffinity: new Set(),
  };

  add(p: PodInfo): void {
    this.all.add(p);
    fileIn(this.byNs, p.namespace, p);
    for (const k in p.labels) fileIn(this.byNsLabel, `${p.namespace}\x00${k}\x00${p.labels[k]}`, p);
    if (p.hasAffinity) this.eachTerm(p, (kind, t, w) => this.group(kind, t, w, p.nodeName, 1));
  }

  remove(p: PodInfo): void {
    this.all.delete(p);
    unfileFrom(this.byNs, p.namespace, p);
    for (const k in p.labels) unfileFrom(this.byNsLabel, `${p.namespace}\x00${k}\x00${p.labels[k]}`, p);
    if (p.hasAffinity) this.eachTerm(p, (kind, t, w) => this.group(kind, t, w, p.nodeName, -1));
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
    let best: Set<PodInfo>[] | undefined;
    let bestSize = Infinity;
    for (const r of requirements) {
      if (r.operator !== "=" && r.operator !== "==" && r.operator !== "in") continue;
      const buckets: Set<PodInfo>[] = [];
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
    if (!namespaces) return this.all;
    return flatten([...nss].map((ns) => this.byNs.get(ns)).filter((s): s is Set<PodInfo> => s !== undefined));
  }
}

function* flatten(sets: readonly Set<PodInfo>[]): Iterable<PodInfo> {
  for (const s of sets) yield* s;
}
