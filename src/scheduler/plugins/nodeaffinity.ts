// NodeAffinity: spec.nodeSelector and requiredDuringScheduling node affinity decide which
// nodes a pod may use (filter); preferredDuringScheduling terms add their weights to the nodes
// they match (score). Required terms that pin metadata.name narrow the search up front, so a
// pod pinned to one node of thousands is checked against that node only.
import type { NodeSelector, PreferredSchedulingTerm } from "kubernetes-types/core/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import { nodeSelectorMatches, nodeSelectorTermMatches } from "../framework/helpers.js";
import type { NodeInfo } from "../framework/nodeinfo.js";
import { defaultNormalizeScore } from "../framework/normalize.js";
import type { PodInfo, RPod } from "../framework/podinfo.js";
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
import { NODE_AFFINITY } from "./names.js";

export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
export const ERR_REASON_CONFLICT = "pod affinity terms conflict";

const PRE_FILTER_KEY = "PreFilter" + NODE_AFFINITY;
const PRE_SCORE_KEY = "PreScore" + NODE_AFFINITY;

const REJECTED = new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_POD], NODE_AFFINITY);

/** The pod's nodeSelector and required node affinity, as one predicate over a node. */
export class RequiredNodeAffinity {
  private readonly selector: Readonly<Record<string, string>> | undefined;
  private readonly required: DeepReadonly<NodeSelector> | undefined;

  constructor(pod: RPod) {
    const spec = pod.spec;
    const ns = spec?.nodeSelector;
    this.selector = ns && Object.keys(ns).length > 0 ? ns : undefined;
    this.required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  }

  /** True when the pod constrains nodes at all. */
  get constrains(): boolean {
    return this.selector !== undefined || this.required !== undefined;
  }

  matches(node: NodeInfo): boolean {
    if (this.selector) {
      for (const k in this.selector) if (node.labels[k] !== this.selector[k]) return false;
    }
    if (this.required && !nodeSelectorMatches(this.required, node.labels, node.name)) return false;
    return true;
  }

  /** Which part fails on `node`, for explanations. */
  explain(node: NodeInfo): { readonly missingLabels: readonly string[]; readonly affinityFails: boolean } {
    const missingLabels: string[] = [];
    if (this.selector) for (const k in this.selector) if (node.labels[k] !== this.selector[k]) missingLabels.push(`${k}=${this.selector[k]}`);
    const affinityFails = this.required !== undefined && !nodeSelectorMatches(this.required, node.labels, node.name);
    return { missingLabels, affinityFails };
  }
}

const requiredCache = new WeakMap<object, RequiredNodeAffinity>();

export function requiredNodeAffinityOf(pod: RPod): RequiredNodeAffinity {
  let r = requiredCache.get(pod);
  if (!r) requiredCache.set(pod, (r = new RequiredNodeAffinity(pod)));
  return r;
}

class PreFilterState implements StateData {
  constructor(readonly required: RequiredNodeAffinity) {}
  clone(): StateData {
    return this;
  }
}

class PreScoreState implements StateData {
  constructor(readonly preferred: readonly DeepReadonly<PreferredSchedulingTerm>[]) {}
  clone(): StateData {
    return this;
  }
}

/**
 * Nodes named by `metadata.name In [...]` in every required term (terms are ORed, fields in a
 * term ANDed); undefined when some term does not pin names (every node may match).
 */
export function pinnedNodeNames(pod: RPod): Set<string> | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return undefined;
  let names: Set<string> | undefined;
  for (const t of terms) {
    let termNames: Set<string> | undefined;
    for (const r of t.matchFields ?? []) {
      if (r.key !== "metadata.name" || r.operator !== "In") continue;
      const s = new Set(r.values ?? []);
      termNames = termNames === undefined ? s : new Set([...termNames].filter((n) => s.has(n)));
    }
    if (termNames === undefined) return undefined;
    names = names === undefined ? termNames : new Set([...names, ...termNames]);
  }
  return names;
}

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = NODE_AFFINITY;
  readonly events: readonly ClusterEvent[] = ["NodeAdd", "NodeLabel"];

  preFilter(state: CycleState, pod: PodInfo): { result?: PreFilterResult; status: Status | null } {
    const required = requiredNodeAffinityOf(pod.pod);
    if (!required.constrains) return { status: Status.skip(NODE_AFFINITY) };
    state.write(PRE_FILTER_KEY, new PreFilterState(required));
    const names = pinnedNodeNames(pod.pod);
    if (names === undefined) return { status: null };
    if (names.size === 0) return { status: new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_CONFLICT], NODE_AFFINITY) };
    return { result: { nodeNames: names }, status: null };
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const required = state.read<PreFilterState>(PRE_FILTER_KEY)?.required ?? requiredNodeAffinityOf(pod.pod);
    return required.matches(node) ? null : REJECTED;
  }

  preScore(state: CycleState, pod: PodInfo): Status | null {
    const preferred = pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    if (preferred.length === 0) return Status.skip(NODE_AFFINITY);
    state.write(PRE_SCORE_KEY, new PreScoreState(preferred));
    return null;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const preferred = state.read<PreScoreState>(PRE_SCORE_KEY)?.preferred ?? pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    let total = 0;
    for (const t of preferred) {
      // An empty preference matches every node with weight 0: a no-op.
      if (t.weight !== 0 && nodeSelectorTermMatches(t.preference, node.labels, node.name)) total += t.weight;
    }
    return total;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, scores: Float64Array): void {
    defaultNormalizeScore(MAX_NODE_SCORE, false, scores);
  }
}
