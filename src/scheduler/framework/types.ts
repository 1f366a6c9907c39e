// The scheduling framework's vocabulary (upstream pkg/scheduler/framework/interface.go): plugin
// statuses, the extension points a plugin may implement, the per-cycle state, and the cluster
// events that can make a rejected pod schedulable again.
//
// One difference from upstream shapes everything here: a scheduling cycle (PreFilter → Filter
// → PostFilter → Score → Reserve) runs synchronously on the event loop, so no informer event
// lands in the middle of it and the scheduler cache itself serves as the cycle's snapshot.
// Only Permit, PreBind and Bind may be asynchronous; they run in the binding cycle.
import type { NodeInfo } from "./nodeinfo.js";
import type { PodInfo } from "./podinfo.js";

export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

/** Upstream's framework.Code values. */
export const Code = {
  Success: 0,
  /** Something unexpected (an internal failure): the pod is retried after backoff. */
  Error: 1,
  /** The node does not fit now, but preemption might help. */
  Unschedulable: 2,
  /** The node does not fit and preempting pods on it would not change that. */
  UnschedulableAndUnresolvable: 3,
  /** Permit only: hold the pod until allowed or rejected. */
  Wait: 4,
  /** PreFilter/PreScore: the plugin has nothing to check for this pod; its Filter/Score is skipped. */
  Skip: 5,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

const CODE_NAMES: Readonly<Record<Code, string>> = {
  0: "Success",
  1: "Error",
  2: "Unschedulable",
  3: "UnschedulableAndUnresolvable",
  4: "Wait",
  5: "Skip",
};

/**
 * A plugin's verdict. Success is represented by `null` on hot paths (Filter, Score) so that
 * passing nodes allocate nothing; statuses with fixed reasons are shared constants.
 */
export class Status {
  constructor(
    readonly code: Code,
    readonly reasons: readonly string[] = [],
    /** The plugin that produced it ("" when the framework made it). */
    readonly plugin = "",
    readonly error?: unknown,
  ) {}

  static error(err: unknown, plugin = ""): Status {
    return new Status(Code.Error, [err instanceof Error ? err.message : String(err)], plugin, err);
  }

  static skip(plugin = ""): Status {
    return new Status(Code.Skip, [], plugin);
  }

  isSuccess(): boolean {
    return this.code === Code.Success;
  }

  /** Unschedulable or UnschedulableAndUnresolvable. */
  isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable;
  }

  message(): string {
    return this.reasons.join(", ");
  }

  withPlugin(plugin: string): Status {
    return this.plugin === plugin ? this : new Status(this.code, this.reasons, plugin, this.error);
  }

  toString(): string {
    return `${CODE_NAMES[this.code]}${this.reasons.length ? `: ${this.message()}` : ""}`;
  }
}

/** Per-cycle data a plugin computes once (in PreFilter/PreScore) and reads per node. */
export interface StateData {
  /** A copy that may be changed independently (preemption simulates on copies). */
  clone(): StateData;
}

export class CycleState {
  private readonly data = new Map<string, StateData>();
  /** Filter plugins whose PreFilter returned Skip. */
  readonly skipFilterPlugins = new Set<string>();
  /** Score plugins whose PreScore returned Skip. */
  readonly skipScorePlugins = new Set<string>();
  /**
   * The Framework's memo of the filters left to run: `list` is `of` less skipFilterPlugins as
   * it was at `skipped` entries (the set only grows, during PreFilter).
   */
  activeFilters: { readonly of: readonly FilterPlugin[]; readonly skipped: number; readonly list: readonly FilterPlugin[] } | undefined = undefined;

  read<T extends StateData>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }

  write(key: string, value: StateData): void {
    this.data.set(key, value);
  }

  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v.clone());
    for (const p of this.skipFilterPlugins) c.skipFilterPlugins.add(p);
    for (const p of this.skipScorePlugins) c.skipScorePlugins.add(p);
    // The same skips: the memo holds for the copy (the nominated-pods pass filters every node with one).
    c.activeFilters = this.activeFilters;
    return c;
  }
}

/**
 * What an unschedulable pod waits for. Each plugin names the events that could undo its
 * rejection (upstream's EventsToRegister, with queueing hints reduced to event type → plugin).
 */
export type ClusterEvent =
  | "NodeAdd"
  | "NodeDelete"
  | "NodeAllocatable"
  | "NodeLabel"
  /** Taints changed, or spec.unschedulable (upstream files both under UpdateNodeTaint). */
  | "NodeTaint"
  | "NodeCondition"
  /** A pod was bound (or an already bound pod appeared). */
  | "AssignedPodAdd"
  | "AssignedPodUpdateLabel"
  /** A bound pod's requests went down. */
  | "AssignedPodScaleDown"
  /** A bound pod was deleted, finished (Succeeded/Failed), or an assumed pod was forgotten. */
  | "AssignedPodDelete"
  /** A namespace's labels changed (namespaceSelector of affinity terms). */
  | "NamespaceLabel"
  /** A PersistentVolumeClaim was created or changed (its binding, its selected node, ...). */
  | "PersistentVolumeClaimAdd"
  | "PersistentVolumeClaimUpdate"
  /** A PersistentVolume was created or changed (its phase, its claimRef, ...). */
  | "PersistentVolumeAdd"
  | "PersistentVolumeUpdate"
  /** A StorageClass was created or changed (its allowedTopologies). */
  | "StorageClassAdd"
  | "StorageClassUpdate"
  /** Anything else: moves every unschedulable pod (the periodic flush, unknown failures). */
  | "WildCard";

export interface Plugin {
  readonly name: string;
  /** Cluster events that may make a pod this plugin rejected schedulable. */
  readonly events?: readonly ClusterEvent[];
}

/** The nodes PreFilter narrowed the search to; undefined: every node. */
export interface PreFilterResult {
  readonly nodeNames?: ReadonlySet<string>;
}

export interface PreFilterPlugin extends Plugin {
  /** Computes per-cycle state. A Skip status skips this plugin's Filter for the cycle. */
  preFilter(state: CycleState, pod: PodInfo): { readonly result?: PreFilterResult; readonly status: Status | null };
  /**
   * PreFilter extensions: keep the state right when the framework pretends a pod is added to
   * or removed from a node (nominated pods, preemption's dry run).
   */
  addPod?(state: CycleState, podToSchedule: PodInfo, podToAdd: PodInfo, nodeInfo: NodeInfo): void;
  removePod?(state: CycleState, podToSchedule: PodInfo, podToRemove: PodInfo, nodeInfo: NodeInfo): void;
}

export interface FilterPlugin extends Plugin {
  /** null: the node fits. */
  filter(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): Status | null;
}

/** Statuses of the nodes that failed Filter, plus one status for nodes never evaluated. */
export class NodeToStatus {
  readonly map = new Map<string, Status>();
  /** For nodes that are not in `map` (PreFilter narrowed the search, or rejected the pod outright). */
  absent: Status | undefined;

  get(node: string): Status | undefined {
    return this.map.get(node) ?? this.absent;
  }

  set(node: string, status: Status): void {
    this.map.set(node, status);
  }

  get size(): number {
    return this.map.size;
  }
}

export interface PostFilterResult {
  /** The node the pod is nominated to ("" clears a nomination). */
  readonly nominatedNodeName?: string;
}

export interface PostFilterPlugin extends Plugin {
  postFilter(state: CycleState, pod: PodInfo, statuses: NodeToStatus): { readonly result?: PostFilterResult; readonly status: Status };
}

export interface PreScorePlugin extends Plugin {
  /** A Skip status skips this plugin's Score for the cycle. */
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null;
}

export interface ScorePlugin extends Plugin {
  /** Raw score of one feasible node. */
  score(state: CycleState, pod: PodInfo, nodeInfo: NodeInfo): number;
  /** Rescales the raw scores (indexed like `nodes`) into [0, MAX_NODE_SCORE] in place. */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: Float64Array, nodes: readonly NodeInfo[]): void;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status | null;
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

export interface PermitPlugin extends Plugin {
  /** null: allowed. A promise holds the pod (upstream's Wait) until it settles. */
  permit(state: CycleState, pod: PodInfo, nodeName: string): Status | null | Promise<Status | null>;
}

export interface PreBindPlugin extends Plugin {
  /**
   * Upstream's PreBindPreFlight: a cheap, synchronous check whether PreBind has anything to do
   * for the pod. Skip leaves its PreBind out (a binding cycle with every PreBind skipped awaits
   * nothing); null (or no method): PreBind runs.
   */
  preBindPreFlight?(state: CycleState, pod: PodInfo, nodeName: string): Status | null;
  /**
   * Work that must be done before the pod is bound, in the binding cycle (after Permit): e.g.
   * binding the pod's volumes and waiting until they are. A failure unreserves the pod and
   * sends it back to the queue with the status's message. `signal` aborts when the scheduler stops.
   */
  preBind(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null>;
}

export interface BindPlugin extends Plugin {
  /** Skip: let the next binder do it. */
  bind(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null>;
}

export interface ScorePluginWithWeight {
  readonly plugin: ScorePlugin;
  readonly weight: number;
}
