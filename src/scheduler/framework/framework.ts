// Runs a profile's plugins at each extension point (upstream framework/runtime/framework.go).
// A profile is the ordered plugin list of one scheduler name; the default one mirrors
// kube-scheduler's default profile, plugin order and score weights included.
import { NodeInfo } from "./nodeinfo.js";
import type { Nominator } from "./nominator.js";
import type { PodInfo } from "./podinfo.js";
import {
  Code,
  CycleState,
  Status,
  type BindPlugin,
  type ClusterEvent,
  type FilterPlugin,
  type NodeToStatus,
  type PermitPlugin,
  type Plugin,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreBindPlugin,
  type PreFilterPlugin,
  type PreFilterResult,
  type PreScorePlugin,
  type ReservePlugin,
  type ScorePluginWithWeight,
} from "./types.js";

export interface Profile {
  readonly schedulerName: string;
  readonly preFilter: readonly PreFilterPlugin[];
  readonly filter: readonly FilterPlugin[];
  readonly postFilter: readonly PostFilterPlugin[];
  readonly preScore: readonly PreScorePlugin[];
  readonly score: readonly ScorePluginWithWeight[];
  readonly reserve: readonly ReservePlugin[];
  readonly permit: readonly PermitPlugin[];
  /** Optional: a profile without PreBind plugins leaves it out. */
  readonly preBind?: readonly PreBindPlugin[];
  readonly bind: readonly BindPlugin[];
  /** 0 (default): adaptive, as upstream. */
  readonly percentageOfNodesToScore?: number;
}

export interface PreFilterOutcome {
  readonly result: PreFilterResult | undefined;
  readonly status: Status | null;
  /** Plugins that rejected the pod (or narrowed the nodes to none). */
  readonly rejectedBy: ReadonlySet<string>;
  /** Plugins whose PreFilterResult narrowed the nodes to check. */
  readonly narrowedBy: readonly string[];
}

export class Framework {
  private readonly filterNames: ReadonlySet<string>;
  private readonly eventPlugins = new Map<ClusterEvent, Set<string>>();

  constructor(
    readonly profile: Profile,
    readonly nominator?: Nominator,
  ) {
    this.filterNames = new Set(profile.filter.map((p) => p.name));
    const all: Plugin[] = [...profile.preFilter, ...profile.filter, ...profile.postFilter, ...profile.reserve, ...profile.permit, ...(profile.preBind ?? [])];
    for (const p of all) {
      for (const ev of p.events ?? []) {
        let s = this.eventPlugins.get(ev);
        if (!s) this.eventPlugins.set(ev, (s = new Set()));
        s.add(p.name);
      }
    }
  }

  /** Plugins that registered for `event`: a pod one of them rejected may now fit. */
  pluginsInterestedIn(event: ClusterEvent): ReadonlySet<string> {
    return this.eventPlugins.get(event) ?? EMPTY;
  }

  get hasScorePlugins(): boolean {
    return this.profile.score.length > 0;
  }

  runPreFilter(state: CycleState, pod: PodInfo): PreFilterOutcome {
    let result: PreFilterResult | undefined;
    let deferred: Status | null = null;
    const rejectedBy = new Set<string>();
    const narrowing: string[] = [];
    for (const pl of this.profile.preFilter) {
      let r: { readonly result?: PreFilterResult; readonly status: Status | null };
      try {
        r = pl.preFilter(state, pod);
      } catch (err) {
        return { result: undefined, status: Status.error(err, pl.name), rejectedBy, narrowedBy: narrowing };
      }
      const s = r.status;
      if (s?.code === Code.Skip) {
        if (this.filterNames.has(pl.name)) state.skipFilterPlugins.add(pl.name);
        continue;
      }
      if (s && !s.isSuccess()) {
        const st = s.withPlugin(pl.name);
        if (st.code === Code.UnschedulableAndUnresolvable) return { result: undefined, status: st, rejectedBy: new Set([pl.name]), narrowedBy: narrowing };
        // Unschedulable: keep going, so every PreFilter state exists for preemption.
        if (st.code === Code.Unschedulable) {
          deferred ??= st;
          rejectedBy.add(pl.name);
          continue;
        }
        return { result: undefined, status: new Status(Code.Error, [`running PreFilter plugin "${pl.name}": ${st.message()}`], pl.name, st.error), rejectedBy, narrowedBy: narrowing };
      }
      if (r.result?.nodeNames) {
        narrowing.push(pl.name);
        result = { nodeNames: result?.nodeNames ? new Set([...result.nodeNames].filter((n) => r.result!.nodeNames!.has(n))) : r.result.nodeNames };
        if (result.nodeNames!.size === 0) {
          const msg = narrowing.length === 1 ? `node(s) didn't satisfy plugin ${narrowing[0]}` : `node(s) didn't satisfy plugin(s) [${narrowing.join(" ")}] simultaneously`;
          return { result, status: new Status(Code.UnschedulableAndUnresolvable, [msg]), rejectedBy: new Set(narrowing), narrowedBy: narrowing };
        }
      }
    }
    return { result, status: deferred, rejectedBy, narrowedBy: narrowing };
  }

  runPreFilterAddPod(state: CycleState, pod: PodInfo, podToAdd: PodInfo, node: NodeInfo): void {
    for (const pl of this.profile.preFilter) {
      if (state.skipFilterPlugins.has(pl.name)) continue;
      pl.addPod?.(state, pod, podToAdd, node);
    }
  }

  runPreFilterRemovePod(state: CycleState, pod: PodInfo, podToRemove: PodInfo, node: NodeInfo): void {
    for (const pl of this.profile.preFilter) {
      if (state.skipFilterPlugins.has(pl.name)) continue;
      pl.removePod?.(state, pod, podToRemove, node);
    }
  }

  /** The first plugin that rejects the node decides; null when every plugin passes. */
  runFilter(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    for (const pl of this.activeFilters(state)) {
      let s: Status | null;
      try {
        s = pl.filter(state, pod, node);
      } catch (err) {
        return Status.error(err, pl.name);
      }
      if (s !== null && s.code !== Code.Success) return s.plugin ? s : s.withPlugin(pl.name);
    }
    return null;
  }

  /** The profile's filters less those PreFilter skipped, listed once per cycle rather than checked per node. */
  private activeFilters(state: CycleState): readonly FilterPlugin[] {
    const all = this.profile.filter;
    const skip = state.skipFilterPlugins;
    if (skip.size === 0) return all;
    const c = state.activeFilters;
    if (c && c.of === all && c.skipped === skip.size) return c.list;
    const list = all.filter((p) => !skip.has(p.name));
    state.activeFilters = { of: all, skipped: skip.size, list };
    return list;
  }

  /**
   * Filter with nominated pods of equal or higher priority counted on the node as if they ran
   * there, then (if any were added and the node passed) again without them: the pod must not
   * take room made for them, and must not depend on them (upstream's two passes).
   */
  runFilterWithNominatedPods(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null {
    const nominated = this.nominator && this.nominator.size > 0 ? this.nominator.podsOn(node.name) : undefined;
    if (!nominated || nominated.length === 0) return this.runFilter(state, pod, node);
    let stateWith: CycleState | undefined;
    let nodeWith: NodeInfo | undefined;
    for (const p of nominated) {
      if (p.uid === pod.uid || p.priority < pod.priority) continue;
      stateWith ??= state.clone();
      nodeWith ??= node.clone();
      nodeWith.addPod(p);
      this.runPreFilterAddPod(stateWith, pod, p, nodeWith);
    }
    if (!stateWith || !nodeWith) return this.runFilter(state, pod, node);
    const first = this.runFilter(stateWith, pod, nodeWith);
    if (first !== null) return first;
    return this.runFilter(state, pod, node);
  }

  runPostFilter(state: CycleState, pod: PodInfo, statuses: NodeToStatus): { result?: PostFilterResult; status: Status } {
    let last: { result?: PostFilterResult; status: Status } = { status: new Status(Code.Unschedulable, [], "") };
    const messages: string[] = [];
    for (const pl of this.profile.postFilter) {
      let r: { result?: PostFilterResult; status: Status };
      try {
        r = pl.postFilter(state, pod, statuses);
      } catch (err) {
        return { status: Status.error(err, pl.name) };
      }
      if (r.status.isSuccess()) return r;
      if (r.status.code !== Code.Unschedulable) return r;
      if (r.status.message()) messages.push(r.status.message());
      last = r;
    }
    return { ...(last.result ? { result: last.result } : {}), status: new Status(Code.Unschedulable, messages, last.status.plugin) };
  }

  runPreScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null {
    for (const pl of this.profile.preScore) {
      let s: Status | null;
      try {
        s = pl.preScore(state, pod, nodes);
      } catch (err) {
        return Status.error(err, pl.name);
      }
      if (s?.code === Code.Skip) {
        state.skipScorePlugins.add(pl.name);
        continue;
      }
      if (s && !s.isSuccess()) return s.withPlugin(pl.name);
    }
    return null;
  }

  /** Weighted sum of every score plugin's normalized scores, indexed like `nodes`. */
  runScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Float64Array {
    const total = new Float64Array(nodes.length);
    const scores = new Float64Array(nodes.length);
    for (const { plugin, weight } of this.profile.score) {
      if (state.skipScorePlugins.has(plugin.name)) continue;
      for (let i = 0; i < nodes.length; i++) scores[i] = plugin.score(state, pod, nodes[i]!);
      plugin.normalizeScore?.(state, pod, scores, nodes);
      for (let i = 0; i < nodes.length; i++) total[i] = total[i]! + scores[i]! * weight;
    }
    return total;
  }

  runReserve(state: CycleState, pod: PodInfo, nodeName: string): Status | null {
    for (const pl of this.profile.reserve) {
      const s = pl.reserve(state, pod, nodeName);
      if (s && !s.isSuccess()) return s.withPlugin(pl.name);
    }
    return null;
  }

  /** Every Reserve plugin's Unreserve, in reverse order. */
  runUnreserve(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (let i = this.profile.reserve.length - 1; i >= 0; i--) this.profile.reserve[i]!.unreserve(state, pod, nodeName);
  }

  async runPermit(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status | null> {
    for (const pl of this.profile.permit) {
      const s = await pl.permit(state, pod, nodeName);
      if (s && !s.isSuccess()) return s.withPlugin(pl.name);
    }
    return null;
  }

  /**
   * PreBindPreFlight, then every PreBind plugin that did not skip, in order; the first failure
   * decides. A rejection keeps its code, any other failure becomes an Error "running PreBind
   * plugin ...: ..." (upstream's RunPreBindPlugins). null, without a promise, when every plugin
   * skipped: pods without volumes pay nothing for the step.
   */
  runPreBind(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null> | null {
    const all = this.profile.preBind;
    if (all === undefined || all.length === 0) return null;
    let todo: PreBindPlugin[] | undefined;
    for (const pl of all) {
      let s: Status | null;
      try {
        s = pl.preBindPreFlight?.(state, pod, nodeName) ?? null;
      } catch (err) {
        s = Status.error(err, pl.name);
      }
      if (s?.code === Code.Skip) continue;
      if (s !== null && !s.isSuccess()) return Promise.resolve(new Status(Code.Error, [`running PreBindPreFlight "${pl.name}": ${s.message()}`], pl.name, s.error));
      (todo ??= []).push(pl);
    }
    return todo === undefined ? null : this.runPreBindPlugins(todo, state, pod, nodeName, signal);
  }

  private async runPreBindPlugins(plugins: readonly PreBindPlugin[], state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null> {
    for (const pl of plugins) {
      let s: Status | null;
      try {
        s = await pl.preBind(state, pod, nodeName, signal);
      } catch (err) {
        s = Status.error(err, pl.name);
      }
      if (s === null || s.isSuccess()) continue;
      if (s.isRejected()) return s.withPlugin(pl.name);
      return new Status(Code.Error, [`running PreBind plugin "${pl.name}": ${s.message()}`], pl.name, s.error);
    }
    return null;
  }

  async runBind(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null> {
    for (const pl of this.profile.bind) {
      const s = await pl.bind(state, pod, nodeName, signal);
      if (s?.code === Code.Skip) continue;
      return s && !s.isSuccess() ? s.withPlugin(pl.name) : null;
    }
    return new Status(Code.Error, ["no bind plugin bound the pod"]);
  }
}

const EMPTY: ReadonlySet<string> = new Set();
