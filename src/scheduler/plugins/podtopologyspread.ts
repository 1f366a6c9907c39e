// PodTopologySpread: spreads matching pods over topology domains (hosts, zones, ...).
//
// Filter (whenUnsatisfiable: DoNotSchedule): placing the pod in a node's domain must not make
// that domain hold more than maxSkew matching pods above the emptiest eligible domain (or above
// zero while fewer than minDomains domains exist). Nodes without the topology key are out.
// Score (ScheduleAnyway): fewer matching pods in the node's domains scores higher. Only the
// pod's own constraints count: the cluster-level default constraints are off.
//
// Eligible nodes follow nodeAffinityPolicy (default Honor: only nodes the pod's nodeSelector
// and required node affinity allow) and nodeTaintsPolicy (default Ignore).
import type { TopologySpreadConstraint } from "kubernetes-types/core/v1.js";
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { labelSelectorAsSelector, newRequirement, type Selector } from "../../api/labels.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { Snapshot } from "../framework/cache.js";
import type { Handle } from "../framework/handle.js";
import { findUntoleratedTaint, LABEL_HOSTNAME, type Labels } from "../framework/helpers.js";
import type { NodeInfo } from "../framework/nodeinfo.js";
import type { PodInfo } from "../framework/podinfo.js";
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
import { POD_TOPOLOGY_SPREAD } from "./names.js";
import { requiredNodeAffinityOf } from "./nodeaffinity.js";

export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)";

const PRE_FILTER_KEY = "PreFilter" + POD_TOPOLOGY_SPREAD;
const PRE_SCORE_KEY = "PreScore" + POD_TOPOLOGY_SPREAD;
const MAX_INT32 = 2147483647;

const SKEW_REJECTED = new Status(Code.Unschedulable, [ERR_REASON_CONSTRAINTS_NOT_MATCH], POD_TOPOLOGY_SPREAD);
const LABEL_REJECTED = new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_NODE_LABEL_NOT_MATCH], POD_TOPOLOGY_SPREAD);

export interface SpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly selector: Selector;
  readonly minDomains: number;
  readonly nodeAffinityPolicy: "Honor" | "Ignore";
  readonly nodeTaintsPolicy: "Honor" | "Ignore";
  readonly whenUnsatisfiable: string;
}

function constraintOf(pod: PodInfo, c: DeepReadonly<TopologySpreadConstraint>): SpreadConstraint {
  let selector = labelSelectorAsSelector(c.labelSelector as LabelSelector | undefined);
  // matchLabelKeys: pods of the same revision/group only, by this pod's own label values.
  for (const k of c.matchLabelKeys ?? []) {
    const v = pod.labels[k];
    if (v !== undefined) selector = selector.add(newRequirement(k, "in", [v]));
  }
  return {
    maxSkew: c.maxSkew,
    topologyKey: c.topologyKey,
    selector,
    minDomains: c.minDomains ?? 1,
    nodeAffinityPolicy: c.nodeAffinityPolicy === "Ignore" ? "Ignore" : "Honor",
    nodeTaintsPolicy: c.nodeTaintsPolicy === "Honor" ? "Honor" : "Ignore",
    whenUnsatisfiable: c.whenUnsatisfiable,
  };
}

const constraintCache = new WeakMap<object, { hard: SpreadConstraint[]; soft: SpreadConstraint[]; error?: string }>();

export function constraintsOf(pod: PodInfo): { readonly hard: readonly SpreadConstraint[]; readonly soft: readonly SpreadConstraint[]; readonly error?: string } {
  let c = constraintCache.get(pod.pod);
  if (!c) {
    const hard: SpreadConstraint[] = [];
    const soft: SpreadConstraint[] = [];
    let error: string | undefined;
    for (const raw of pod.pod.spec?.topologySpreadConstraints ?? []) {
      try {
        const sc = constraintOf(pod, raw);
        (sc.whenUnsatisfiable === "ScheduleAnyway" ? soft : hard).push(sc);
      } catch (err) {
        error ??= err instanceof Error ? err.message : String(err);
      }
    }
    c = error === undefined ? { hard, soft } : { hard, soft, error };
    constraintCache.set(pod.pod, c);
  }
  return c;
}

/** Whether the node counts for the constraint under its inclusion policies. */
function includes(c: SpreadConstraint, pod: PodInfo, node: NodeInfo): boolean {
  if (c.nodeAffinityPolicy === "Honor" && !requiredNodeAffinityOf(pod.pod).matches(node)) return false;
  if (c.nodeTaintsPolicy === "Honor" && findUntoleratedTaint(node.taints, pod.tolerations)) return false;
  return true;
}

function hasAllKeys(labels: Labels, cs: readonly SpreadConstraint[]): boolean {
  for (const c of cs) if (labels[c.topologyKey] === undefined) return false;
  return true;
}

/** Non-terminating pods in `namespace` that the selector matches (an empty selector: none). */
export function countMatching(pods: readonly PodInfo[], selector: Selector, namespace: string): number {
  if (selector.isEmpty()) return 0;
  let n = 0;
  for (const p of pods) {
    if (p.terminating || p.namespace !== namespace) continue;
    if (selector.matches(p.labels)) n++;
  }
  return n;
}

interface Domains {
  readonly generation: number;
  readonly domainOf: readonly Map<string, string>[];
  readonly values: readonly Set<string>[];
}

/** What decides which nodes are eligible: the constraints' keys and policies, and the pod's node affinity and tolerations where a policy honours them. */
function domainKey(pod: PodInfo, cs: readonly SpreadConstraint[]): string {
  const spec = pod.pod.spec;
  const honorAffinity = cs.some((c) => c.nodeAffinityPolicy === "Honor");
  const honorTaints = cs.some((c) => c.nodeTaintsPolicy === "Honor");
  return JSON.stringify([
    cs.map((c) => [c.topologyKey, c.nodeAffinityPolicy, c.nodeTaintsPolicy]),
    honorAffinity ? [spec?.nodeSelector ?? null, spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? null] : null,
    honorTaints ? (spec?.tolerations ?? null) : null,
  ]);
}

/** countMatching over the whole snapshot, through the label index: the pods it would count. */
function* matchingPods(snapshot: Snapshot, selector: Selector, namespace: string): Iterable<PodInfo> {
  if (selector.isEmpty()) return;
  for (const p of snapshot.candidatePods(new Set([namespace]), selector)) {
    if (p.terminating || p.namespace !== namespace || !selector.matches(p.labels)) continue;
    yield p;
  }
}

/** The two emptiest domains, as upstream's criticalPaths (approximate once counts rise). */
class CriticalPaths {
  v0 = "";
  n0 = MAX_INT32;
  v1 = "";
  n1 = MAX_INT32;

  update(value: string, num: number): void {
    if (value === this.v0 || value === this.v1) {
      if (value === this.v0) this.n0 = num;
      else this.n1 = num;
      if (this.n0 > this.n1) {
        [this.v0, this.n0, this.v1, this.n1] = [this.v1, this.n1, this.v0, this.n0];
      }
    } else if (num < this.n0) {
      this.v1 = this.v0;
      this.n1 = this.n0;
      this.v0 = value;
      this.n0 = num;
    } else if (num < this.n1) {
      this.v1 = value;
      this.n1 = num;
    }
  }

  clone(): CriticalPaths {
    const c = new CriticalPaths();
    c.v0 = this.v0;
    c.n0 = this.n0;
    c.v1 = this.v1;
    c.n1 = this.n1;
    return c;
  }
}

class PreFilterState implements StateData {
  constructor(
    readonly constraints: readonly SpreadConstraint[],
    /** Per constraint: domain value → matching pods. */
    readonly matchNum: Map<string, number>[],
    readonly critical: CriticalPaths[],
    /** Domains per topology key. */
    readonly domains: Map<string, number>,
  ) {}

  clone(): StateData {
    return new PreFilterState(
      this.constraints,
      this.matchNum.map((m) => new Map(m)),
      this.critical.map((c) => c.clone()),
      this.domains,
    );
  }

  minMatch(i: number): number {
    const c = this.constraints[i]!;
    if ((this.domains.get(c.topologyKey) ?? 0) < c.minDomains) return 0;
    return this.critical[i]!.n0;
  }

  updateWithPod(other: PodInfo, pod: PodInfo, node: NodeInfo, delta: number): void {
    if (other.namespace !== pod.namespace || !hasAllKeys(node.labels, this.constraints)) return;
    this.constraints.forEach((c, i) => {
      if (!c.selector.matches(other.labels) || !includes(c, pod, node)) return;
      const v = node.labels[c.topologyKey]!;
      const m = this.matchNum[i]!;
      const n = (m.get(v) ?? 0) + delta;
      m.set(v, n);
      this.critical[i]!.update(v, n);
    });
  }
}

class PreScoreState implements StateData {
  constructor(
    readonly constraints: readonly SpreadConstraint[],
    readonly ignored: ReadonlySet<string>,
    /** "key\0value" → matching pods in the domain (not for hostname: counted per node). */
    readonly pairCounts: Map<string, number>,
    readonly weights: readonly number[],
  ) {}
  clone(): StateData {
    return this;
  }
}

export class PodTopologySpread implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = POD_TOPOLOGY_SPREAD;
  readonly events: readonly ClusterEvent[] = ["AssignedPodAdd", "AssignedPodUpdateLabel", "AssignedPodDelete", "NodeAdd", "NodeDelete", "NodeLabel", "NodeTaint"];

  /** Eligible nodes and their domains per constraint list, reused while no node changes shape. */
  private readonly domainCache = new Map<string, Domains>();

  constructor(private readonly handle: Handle) {}

  /**
   * For each constraint, every eligible node (it has all the constraints' keys and passes the
   * inclusion policies) → its domain value. Pods of one workload share constraints, selectors
   * and tolerations, so this is computed once per workload and node change, not per cycle.
   */
  private domains(pod: PodInfo, cs: readonly SpreadConstraint[]): Domains {
    const snapshot = this.handle.snapshot;
    const key = domainKey(pod, cs);
    const hit = this.domainCache.get(key);
    if (hit && hit.generation === snapshot.nodeShapeGeneration) return hit;
    const domainOf = cs.map(() => new Map<string, string>());
    const values = cs.map(() => new Set<string>());
    for (const node of snapshot.list()) {
      if (!hasAllKeys(node.labels, cs)) continue;
      cs.forEach((c, i) => {
        if (!includes(c, pod, node)) return;
        const v = node.labels[c.topologyKey]!;
        domainOf[i]!.set(node.name, v);
        values[i]!.add(v);
      });
    }
    const d: Domains = { generation: snapshot.nodeShapeGeneration, domainOf, values };
    if (this.domainCache.size >= 256) this.domainCache.delete(this.domainCache.keys().next().value!);
    this.domainCache.set(key, d);
    return d;
  }

  preFilter(state: CycleState, pod: PodInfo): { result?: PreFilterResult; status: Status | null } {
    const { hard, error } = constraintsOf(pod);
    if (error !== undefined) return { status: new Status(Code.UnschedulableAndUnresolvable, [`invalid topology spread constraints: ${error}`], POD_TOPOLOGY_SPREAD) };
    if (hard.length === 0) return { status: Status.skip(POD_TOPOLOGY_SPREAD) };
    const snapshot = this.handle.snapshot;
    const d = this.domains(pod, hard);
    const domainOf = d.domainOf;
    // Every eligible domain starts at zero matching pods.
    const matchNum = d.values.map((vs) => {
      const m = new Map<string, number>();
      for (const v of vs) m.set(v, 0);
      return m;
    });
    hard.forEach((c, i) => {
      const m = matchNum[i]!;
      const domains = domainOf[i]!;
      for (const p of matchingPods(snapshot, c.selector, pod.namespace)) {
        const v = domains.get(p.nodeName);
        if (v !== undefined) m.set(v, m.get(v)! + 1);
      }
    });
    const domains = new Map<string, number>();
    hard.forEach((c, i) => domains.set(c.topologyKey, matchNum[i]!.size));
    const critical = matchNum.map((m) => {
      const cp = new CriticalPaths();
      for (const [v, n] of m) cp.update(v, n);
      return cp;
    });
    state.write(PRE_FILTER_KEY, new PreFilterState(hard, matchNum, critical, domains));
    return { status: null };
  }

  addPod(state: CycleState, pod: PodInfo, podToAdd: PodInfo, node: NodeInfo): void {
    state.read<PreFilterState>(PRE_FILTER_KEY)?.updateWithPod(podToAdd, pod, node, 1);
  }

  removePod(state: CycleState, pod: PodInfo, podToRemove: PodInfo, node: NodeInfo): void {
    state.read<PreFilterState>(PRE_FILTER_KEY)?.updateWithPod(podToRemove, pod, node, -1);
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<PreFilterState>(PRE_FILTER_KEY);
    if (!s) return null;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const v = node.labels[c.topologyKey];
      if (v === undefined) return LABEL_REJECTED;
      const self = c.selector.matches(pod.labels) ? 1 : 0;
      const skew = (s.matchNum[i]!.get(v) ?? 0) + self - s.minMatch(i);
      if (skew > c.maxSkew) return SKEW_REJECTED;
    }
    return null;
  }

  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null {
    const { soft } = constraintsOf(pod);
    if (soft.length === 0) return Status.skip(POD_TOPOLOGY_SPREAD);
    const all = this.handle.snapshot.list();
    if (nodes.length === 0 || all.length === 0) return Status.skip(POD_TOPOLOGY_SPREAD);
    const ignored = new Set<string>();
    const pairCounts = new Map<string, number>();
    const sizes = soft.map(() => 0);
    for (const node of nodes) {
      if (!hasAllKeys(node.labels, soft)) {
        ignored.add(node.name);
        continue;
      }
      soft.forEach((c, i) => {
        if (c.topologyKey === LABEL_HOSTNAME) return;
        const pair = `${c.topologyKey}\x00${node.labels[c.topologyKey]!}`;
        if (!pairCounts.has(pair)) {
          pairCounts.set(pair, 0);
          sizes[i]!++;
        }
      });
    }
    const weights = soft.map((c, i) => Math.log((c.topologyKey === LABEL_HOSTNAME ? nodes.length - ignored.size : sizes[i]!) + 2));
    const d = this.domains(pod, soft);
    soft.forEach((c, i) => {
      if (c.topologyKey === LABEL_HOSTNAME) return;
      // Domains with no feasible node do not affect any score: their pods are not counted.
      const domainOf = d.domainOf[i]!;
      for (const p of matchingPods(this.handle.snapshot, c.selector, pod.namespace)) {
        const v = domainOf.get(p.nodeName);
        if (v === undefined) continue;
        const pair = `${c.topologyKey}\x00${v}`;
        const n = pairCounts.get(pair);
        if (n !== undefined) pairCounts.set(pair, n + 1);
      }
    });
    state.write(PRE_SCORE_KEY, new PreScoreState(soft, ignored, pairCounts, weights));
    return null;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s || s.ignored.has(node.name)) return 0;
    let score = 0;
    s.constraints.forEach((c, i) => {
      const v = node.labels[c.topologyKey];
      if (v === undefined) return;
      const count = c.topologyKey === LABEL_HOSTNAME ? countMatching(node.pods, c.selector, pod.namespace) : (s.pairCounts.get(`${c.topologyKey}\x00${v}`) ?? 0);
      score += count * s.weights[i]! + (c.maxSkew - 1);
    });
    return Math.round(score);
  }

  normalizeScore(state: CycleState, _pod: PodInfo, scores: Float64Array, nodes: readonly NodeInfo[]): void {
    const s = state.read<PreScoreState>(PRE_SCORE_KEY);
    if (!s) return;
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < scores.length; i++) {
      if (s.ignored.has(nodes[i]!.name)) continue;
      const v = scores[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    for (let i = 0; i < scores.length; i++) {
      if (s.ignored.has(nodes[i]!.name)) scores[i] = 0;
      else if (max === 0) scores[i] = MAX_NODE_SCORE;
      else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - scores[i]!)) / max);
    }
  }
}

/** Per hard constraint, the node's domain, its matching pods and the skew placing the pod would cause (for `k8ts why`). */
export function explainSpread(state: CycleState, pod: PodInfo, node: NodeInfo): { readonly topologyKey: string; readonly value: string | undefined; readonly skew: number; readonly maxSkew: number; readonly min: number }[] {
  const s = state.read<PreFilterState>(PRE_FILTER_KEY);
  if (!s) return [];
  return s.constraints.map((c, i) => {
    const v = node.labels[c.topologyKey];
    const min = s.minMatch(i);
    const self = c.selector.matches(pod.labels) ? 1 : 0;
    return { topologyKey: c.topologyKey, value: v, skew: v === undefined ? Infinity : (s.matchNum[i]!.get(v) ?? 0) + self - min, maxSkew: c.maxSkew, min };
  });
}
