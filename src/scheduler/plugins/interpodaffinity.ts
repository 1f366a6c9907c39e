// InterPodAffinity: where a pod may go depending on the pods already running, per topology
// domain (the value of topologyKey on a node: a host, a zone, ...).
//
// Filter: the pod's required affinity terms must each be satisfied by some pod in the node's
// domain; none of its required anti-affinity terms may be; and no pod already running may have
// a required anti-affinity term that the new pod matches within that pod's domain. PreFilter
// counts matching pods per (topologyKey, value) once per cycle, so Filter is a map lookup per
// node; the counting visits only the pods the terms' selectors can match (label index), and
// tests each distinct term that running pods carry once (term groups), not once per pod.
//
// Score: preferred terms, both the pod's and (mirrored) those of running pods, plus running
// pods' required affinity terms with weight 1 (hardPodAffinityWeight), summed per domain and
// scaled to 0..100 between the lowest and the highest node.
import type { Labels } from "../framework/helpers.js";
import type { Handle } from "../framework/handle.js";
import type { NodeInfo } from "../framework/nodeinfo.js";
import type { TermGroup } from "../framework/podindex.js";
import { termMatches, type AffinityTerm, type PodInfo, type WeightedAffinityTerm } from "../framework/podinfo.js";
import { nothing } from "../../api/labels.js";
import {
  Code,
  MAX_NODE_SCORE,
  Status,
  type ClusterEvent,
  type CycleState,
  type FilterPlugin,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type ScorePlugin,
  type StateData,
} from "../framework/types.js";
import { INTER_POD_AFFINITY } from "./names.js";

export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";

const PRE_FILTER_KEY = "PreFilter" + INTER_POD_AFFINITY;
const PRE_SCORE_KEY = "PreScore" + INTER_POD_AFFINITY;

const AFFINITY_REJECTED = new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_AFFINITY], INTER_POD_AFFINITY);
const ANTI_REJECTED = new Status(Code.Unschedulable, [ERR_REASON_ANTI_AFFINITY], INTER_POD_AFFINITY);
const EXISTING_ANTI_REJECTED = new Status(Code.Unschedulable, [ERR_REASON_EXISTING_ANTI_AFFINITY], INTER_POD_AFFINITY);

/** Upstream's default hardPodAffinityWeight. */
const HARD_POD_AFFINITY_WEIGHT = 1;

/** Counts per topology pair "key\0value". */
class TopologyCounts {
  readonly counts = new Map<string, number>();
  /** How many live pairs each topology key has (so Filter can look keys up on the node). */
  readonly keys = new Map<string, number>();

  update(labels: Labels, topologyKey: string, delta: number): void {
    const value = labels[topologyKey];
    if (value === undefined) return;
    const pair = `${topologyKey}\x00${value}`;
    const before = this.counts.get(pair) ?? 0;
    const after = before + delta;
    if (after === 0) this.counts.delete(pair);
    else this.counts.set(pair, after);
    if (before === 0 && after !== 0) this.keys.set(topologyKey, (this.keys.get(topologyKey) ?? 0) + 1);
    else if (before !== 0 && after === 0) {
      const n = (this.keys.get(topologyKey) ?? 0) - 1;
      if (n > 0) this.keys.set(topologyKey, n);
      else this.keys.delete(topologyKey);
    }
  }

  get(topologyKey: string, value: string): number {
    return this.counts.get(`${topologyKey}\x00${value}`) ?? 0;
  }

  get size(): number {
    return this.counts.size;
  }

  clone(): TopologyCounts {
    const c = new TopologyCounts();
    for (const [k, v] of this.counts) c.counts.set(k, v);
    for (const [k, v] of this.keys) c.keys.set(k, v);
    return c;
  }
}

/** Whether `pod` matches every one of `terms` (upstream podMatchesAllAffinityTerms). */
function matchesAllTerms(terms: readonly AffinityTerm[], pod: PodInfo): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!termMatches(t, pod, undefined)) return false;
  return true;
}

class PreFilterState implements StateData {
  constructor(
    readonly pod: PodInfo,
    /** The pod's required terms with namespaceSelector folded into namespaces. */
    readonly affinityTerms: readonly AffinityTerm[],
    readonly antiAffinityTerms: readonly AffinityTerm[],
    readonly namespaceLabels: Labels | undefined,
    /** Pairs where a running pod's required anti-affinity term matches the incoming pod. */
    readonly existingAnti: TopologyCounts,
    /** Pairs holding pods that match all of the incoming pod's required affinity terms. */
    readonly affinity: TopologyCounts,
    /** Pairs holding pods that match one of the incoming pod's required anti-affinity terms. */
    readonly anti: TopologyCounts,
  ) {}

  clone(): StateData {
    return new PreFilterState(this.pod, this.affinityTerms, this.antiAffinityTerms, this.namespaceLabels, this.existingAnti.clone(), this.affinity.clone(), this.anti.clone());
  }

  /** Accounts for `other` appearing on (delta 1) or leaving (delta −1) `node`. */
  updateWithPod(other: PodInfo, node: NodeInfo, delta: number): void {
    for (const t of other.requiredAntiAffinityTerms) if (termMatches(t, this.pod, this.namespaceLabels)) this.existingAnti.update(node.labels, t.topologyKey, delta);
    if (matchesAllTerms(this.affinityTerms, other)) for (const t of this.affinityTerms) this.affinity.update(node.labels, t.topologyKey, delta);
    for (const t of this.antiAffinityTerms) if (termMatches(t, other, undefined)) this.anti.update(node.labels, t.topologyKey, delta);
  }
}

class PreScoreState implements StateData {
  constructor(
    /** topologyKey → value → score */
    readonly topologyScore: Map<string, Map<string, number>>,
  ) {}
  clone(): StateData {
    return this;
  }
}

export class InterPodAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = INTER_POD_AFFINITY;
  readonly events: readonly ClusterEvent[] = ["AssignedPodAdd", "AssignedPodUpdateLabel", "AssignedPodDelete", "NodeAdd", "NodeLabel", "NamespaceLabel"];

  constructor(private readonly handle: Handle) {}

  /** Folds a namespaceSelector into the namespace set, against the namespaces known now. */
  private mergeNamespaces<T extends AffinityTerm>(terms: readonly T[]): T[] {
    return terms.map((t) => {
      if (t.namespaceSelector.isNothing()) return t;
      const namespaces = new Set(t.namespaces);
      for (const ns of this.handle.namespaces()) if (t.namespaceSelector.matches(ns.labels)) namespaces.add(ns.name);
      return { ...t, namespaces, namespaceSelector: nothing() };
    });
  }

  preFilter(state: CycleState, pod: PodInfo): { result?: PreFilterResult; status: Status | null } {
    if (pod.parseError !== undefined) return { status: new Status(Code.UnschedulableAndUnresolvable, [`invalid affinity terms: ${pod.parseError}`], INTER_POD_AFFINITY) };
    const snapshot = this.handle.snapshot;
    const withAnti = snapshot.termGroups("requiredAntiAffinity");
    const affinityTerms = this.mergeNamespaces(pod.requiredAffinityTerms);
    const antiAffinityTerms = this.mergeNamespaces(pod.requiredAntiAffinityTerms);
    if (withAnti.size === 0 && affinityTerms.length === 0 && antiAffinityTerms.length === 0) return { status: Status.skip(INTER_POD_AFFINITY) };
    const nsLabels = this.handle.namespaceLabels(pod.namespace);
    const s = new PreFilterState(pod, affinityTerms, antiAffinityTerms, nsLabels, new TopologyCounts(), new TopologyCounts(), new TopologyCounts());
    // Running pods' anti-affinity, one test per distinct term rather than per pod.
    for (const g of snapshot.termGroups("requiredAntiAffinity")) {
      if (!termMatches(g.term, pod, nsLabels)) continue;
      for (const [nodeName, n] of g.nodes) {
        const node = snapshot.get(nodeName);
        if (node) s.existingAnti.update(node.labels, g.term.topologyKey, n);
      }
    }
    // The pod's own terms, against the pods their selectors can match.
    if (affinityTerms.length > 0) {
      const first = affinityTerms[0]!;
      for (const existing of snapshot.candidatePods(first.namespaces, first.selector)) {
        if (!matchesAllTerms(affinityTerms, existing)) continue;
        const node = snapshot.get(existing.nodeName);
        if (node) for (const t of affinityTerms) s.affinity.update(node.labels, t.topologyKey, 1);
      }
    }
    for (const t of antiAffinityTerms) {
      for (const existing of snapshot.candidatePods(t.namespaces, t.selector)) {
        if (!termMatches(t, existing, undefined)) continue;
        const node = snapshot.get(existing.nodeName);
        if (node) s.anti.update(node.labels, t.topologyKey, 1);
      }
    }
    if (s.existingAnti.size === 0 && affinityTerms.length === 0 && antiAffinityTerms.length === 0) return { status: Status.skip(INTER_POD_AFFINITY) };
    state.write(PRE_FILTER_KEY, s);
    return { status: null };
  }

  addPod(state: CycleState, _pod: PodInfo, podToAdd: PodInfo, node: NodeInfo): void {
    state.read<PreFilterState>(PRE_FILTER_KEY)?.updateWithPod(podToAdd, node, 1);
  }

  removePod(state: CycleState, _pod: PodInfo, podToRemove: PodInfo, node: NodeInfo): void {
    state.read<PreFilterState>(PRE_FILTER_KEY)?.updateWithPod(podToRemove, node, -1);
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (!s) return null;
    if (!satisfiesAffinity(s, node)) return AFFINITY_REJECTED;
    if (!satisfiesAntiAffinity(s, node)) return ANTI_REJECTED;
    if (!satisfiesExistingAntiAffinity(s, node)) return EXISTING_ANTI_REJECTED;
    return null;
  }

  preScore(state: CycleState, pod: PodInfo): Status | null {
    const snapshot = this.handle.snapshot;
    const hasPreferred = pod.preferredAffinityTerms.length > 0 || pod.preferredAntiAffinityTerms.length > 0;
    const carried = (["requiredAffinity", "preferredAffinity", "preferredAntiAffinity"] as const).map((k) => snapshot.termGroups(k));
    if (!hasPreferred && carried.every((g) => g.size === 0)) return Status.skip(INTER_POD_AFFINITY);
    const nsLabels = this.handle.namespaceLabels(pod.namespace);
    const scores = new Map<string, Map<string, number>>();
    const add = (topologyKey: string, nodeName: string, weight: number): void => {
      const node = snapshot.get(nodeName);
      // Upstream skips pods on nodes without labels.
      if (!node || Object.keys(node.labels).length === 0) return;
      const v = node.labels[topologyKey];
      if (v === undefined) return;
      let m = scores.get(topologyKey);
      if (!m) scores.set(topologyKey, (m = new Map()));
      m.set(v, (m.get(v) ?? 0) + weight);
    };
    // The pod's preferred terms, against the pods their selectors can match.
    const own = (ts: readonly WeightedAffinityTerm[], sign: number): void => {
      for (const t of this.mergeNamespaces(ts)) {
        for (const existing of snapshot.candidatePods(t.namespaces, t.selector)) if (termMatches(t, existing, undefined)) add(t.topologyKey, existing.nodeName, sign * t.weight);
      }
    };
    own(pod.preferredAffinityTerms, 1);
    own(pod.preferredAntiAffinityTerms, -1);
    // Running pods' terms towards this pod: their required affinity (hardPodAffinityWeight) and
    // preferred terms, one test per distinct term.
    const [required, preferred, preferredAnti] = carried as [ReadonlySet<TermGroup>, ReadonlySet<TermGroup>, ReadonlySet<TermGroup>];
    const theirs = (groups: ReadonlySet<TermGroup>, weightOf: (g: TermGroup) => number): void => {
      for (const g of groups) {
        if (!termMatches(g.term, pod, nsLabels)) continue;
        const w = weightOf(g);
        for (const [nodeName, n] of g.nodes) add(g.term.topologyKey, nodeName, w * n);
      }
    };
    theirs(required, () => HARD_POD_AFFINITY_WEIGHT);
    theirs(preferred, (g) => g.weight);
    theirs(preferredAnti, (g) => -g.weight);
    if (scores.size === 0) return Status.skip(INTER_POD_AFFINITY);
    state.write(PRE_SCORE_KEY, new PreScoreState(scores));
    return null;
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s) return 0;
    let total = 0;
    for (const [key, values] of s.topologyScore) {
      const v = node.labels[key];
      if (v !== undefined) total += values.get(v) ?? 0;
    }
    return total;
  }

  normalizeScore(state: CycleState, _pod: PodInfo, scores: Float64Array): void {
    if (!state.read<PreScoreState>(PRE_SCORE_KEY)) return;
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc((MAX_NODE_SCORE * (scores[i]! - min)) / diff) : 0;
  }
}

function satisfiesAffinity(s: PreFilterState, node: NodeInfo): boolean {
  let podsExist = true;
  for (const t of s.affinityTerms) {
    const v = node.labels[t.topologyKey];
    // Every topology key of the pod's affinity terms must exist on the node.
    if (v === undefined) return false;
    if (s.affinity.get(t.topologyKey, v) <= 0) podsExist = false;
  }
  if (podsExist) return true;
  // The first pod of a group with affinity to itself: when no pod anywhere matches, a pod that
  // matches its own terms may go to any node that has the topology keys.
  return s.affinity.size === 0 && matchesAllTerms(s.affinityTerms, s.pod);
}

function satisfiesAntiAffinity(s: PreFilterState, node: NodeInfo): boolean {
  if (s.anti.size === 0) return true;
  for (const t of s.antiAffinityTerms) {
    const v = node.labels[t.topologyKey];
    if (v !== undefined && s.anti.get(t.topologyKey, v) > 0) return false;
  }
  return true;
}

function satisfiesExistingAntiAffinity(s: PreFilterState, node: NodeInfo): boolean {
  if (s.existingAnti.size === 0) return true;
  for (const key of s.existingAnti.keys.keys()) {
    const v = node.labels[key];
    if (v !== undefined && s.existingAnti.get(key, v) > 0) return false;
  }
  return true;
}

/** Which of the pod's rules `node` breaks, for `k8ts why`; empty when it satisfies them all. */
export function explainAffinity(state: CycleState, node: NodeInfo): { readonly rule: "affinity" | "anti-affinity" | "existing-anti-affinity"; readonly topologyKeys: readonly string[] }[] {
  const s = state.read<PreFilterState>(PRE_FILTER_KEY);
  if (!s) return [];
  const out: { rule: "affinity" | "anti-affinity" | "existing-anti-affinity"; topologyKeys: string[] }[] = [];
  if (!satisfiesAffinity(s, node)) out.push({ rule: "affinity", topologyKeys: s.affinityTerms.map((t) => t.topologyKey) });
  if (!satisfiesAntiAffinity(s, node)) out.push({ rule: "anti-affinity", topologyKeys: s.antiAffinityTerms.filter((t) => node.labels[t.topologyKey] !== undefined && s.anti.get(t.topologyKey, node.labels[t.topologyKey]!) > 0).map((t) => t.topologyKey) });
  if (!satisfiesExistingAntiAffinity(s, node)) out.push({ rule: "existing-anti-affinity", topologyKeys: [...s.existingAnti.keys.keys()].filter((k) => node.labels[k] !== undefined && s.existingAnti.get(k, node.labels[k]!) > 0) });
  return out;
}
