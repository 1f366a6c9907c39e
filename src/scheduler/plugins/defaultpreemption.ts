// DefaultPreemption (PostFilter): when no node fits a pod, look for a node where evicting pods
// of lower priority would make it fit (upstream framework/preemption + defaultpreemption).
//
// For each node that failed with a resolvable status (Unschedulable, not ...AndUnresolvable),
// a dry run removes every lower-priority pod, checks that the pod then fits, and puts back
// ("reprieves") as many as possible, most important first and PodDisruptionBudget-protected
// ones before the rest. Among the candidate nodes it picks the one with the fewest PDB
// violations, then the lowest highest victim priority, the lowest sum of priorities, the
// fewest victims, the latest start of the highest-priority victims. The pod is nominated to
// that node (status.nominatedNodeName) and the victims are marked DisruptionTarget and deleted
// with their grace period; the pod is retried once they are gone.
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { labelSelectorAsSelector } from "../../api/labels.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { Logger } from "../../util/log.js";
import type { EventSink, SchedulerApi } from "../api.js";
import type { Framework } from "../framework/framework.js";
import type { Handle } from "../framework/handle.js";
import type { NodeInfo } from "../framework/nodeinfo.js";
import type { Nominator } from "../framework/nominator.js";
import type { PodInfo } from "../framework/podinfo.js";
import { fitErrorMessage } from "../framework/fiterror.js";
import { Code, NodeToStatus, Status, type CycleState, type PostFilterPlugin, type PostFilterResult } from "../framework/types.js";
import { DEFAULT_PREEMPTION } from "./names.js";
import { rfc3339 } from "../../util/time.js";

export type RPDB = DeepReadonly<PodDisruptionBudget>;

/** upstream's defaults for DefaultPreemptionArgs */
const MIN_CANDIDATE_NODES_PERCENTAGE = 10;
const MIN_CANDIDATE_NODES_ABSOLUTE = 100;

export const REASON_NOT_HELPFUL = "Preemption is not helpful for scheduling";
export const REASON_NO_VICTIMS = "No preemption victims found for incoming pod";

const NO_VICTIMS = new Status(Code.UnschedulableAndUnresolvable, [REASON_NO_VICTIMS]);

export interface Candidate {
  readonly nodeName: string;
  readonly victims: readonly PodInfo[];
  readonly numPDBViolations: number;
}

export interface DefaultPreemptionDeps {
  readonly handle: Handle;
  /** The framework of the profile (for Filter and the PreFilter extensions); set after construction. */
  readonly framework: () => Framework;
  readonly nominator: Nominator;
  readonly pdbs: () => readonly RPDB[];
  /** The current version of a pod from the informer cache. */
  readonly currentPod: (pod: PodInfo) => PodInfo | undefined;
  readonly api: SchedulerApi;
  readonly events: EventSink;
  readonly log: Logger;
  readonly schedulerName: string;
  readonly random?: () => number;
  /** Tracks the asynchronous victim deletions so that stop() can wait for them. */
  readonly track?: (p: Promise<void>) => void;
}

function isTerminatingByPreemption(p: PodInfo): boolean {
  if (!p.terminating) return false;
  return (p.pod.status?.conditions ?? []).some((c) => c.type === "DisruptionTarget" && c.status === "True" && c.reason === "PreemptionByScheduler");
}

/** Upstream's MoreImportantPod: higher priority, then the one that started earlier. */
function moreImportant(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.startTime - b.startTime;
}

/** Splits pods into those whose eviction would break a PDB and the rest (upstream filterPodsWithPDBViolation). */
export function splitByPDBViolation(pods: readonly PodInfo[], pdbs: readonly RPDB[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const selectors = pdbs.map((p) => {
    try {
      return labelSelectorAsSelector(p.spec?.selector as LabelSelector | undefined);
    } catch {
      return undefined;
    }
  });
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const p of pods) {
    let violated = false;
    if (Object.keys(p.labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        const sel = selectors[i];
        if (pdb.metadata?.namespace !== p.namespace || !sel || sel.isEmpty() || !sel.matches(p.labels)) return;
        if (pdb.status?.disruptedPods && p.name in pdb.status.disruptedPods) return;
        allowed[i] = allowed[i]! - 1;
        if (allowed[i]! < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(p);
  }
  return { violating, nonViolating };
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = DEFAULT_PREEMPTION;
  private readonly random: () => number;

  constructor(private readonly d: DefaultPreemptionDeps) {
    this.random = d.random ?? Math.random;
  }

  postFilter(state: CycleState, pod: PodInfo, statuses: NodeToStatus): { result?: PostFilterResult; status: Status } {
    const current = this.d.currentPod(pod) ?? pod;
    const eligible = this.eligible(current, statuses);
    if (eligible !== true) return { status: new Status(Code.Unschedulable, [`preemption: ${eligible}`], DEFAULT_PREEMPTION) };
    const all = this.d.handle.snapshot.list();
    if (all.length === 0) return { status: new Status(Code.Error, ["preemption: no nodes available"], DEFAULT_PREEMPTION) };
    const { candidates, nodeStatuses } = this.findCandidates(state, current, all, statuses);
    if (candidates.length === 0) {
      nodeStatuses.absent = new Status(Code.UnschedulableAndUnresolvable, [REASON_NOT_HELPFUL]);
      return { result: { nominatedNodeName: "" }, status: new Status(Code.Unschedulable, [`preemption: ${fitErrorMessage(all.length, nodeStatuses, "")}`], DEFAULT_PREEMPTION) };
    }
    const best = pickOneNodeForPreemption(candidates);
    this.prepareCandidate(best, current);
    return { result: { nominatedNodeName: best.nodeName }, status: new Status(Code.Success, [], DEFAULT_PREEMPTION) };
  }

  /** true, or why the pod may not preempt (upstream PodEligibleToPreemptOthers). */
  eligible(pod: PodInfo, statuses: NodeToStatus): true | string {
    if (pod.pod.spec?.preemptionPolicy === "Never") return "not eligible due to preemptionPolicy=Never.";
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      // A nominated node that can never fit the pod is no reason to wait.
      if (statuses.get(nominated)?.code === Code.UnschedulableAndUnresolvable) return true;
      const ni = this.d.handle.snapshot.get(nominated);
      if (ni) {
        for (const p of ni.pods) if (p.priority < pod.priority && isTerminatingByPreemption(p)) return "not eligible due to a terminating pod on the nominated node.";
      }
    }
    return true;
  }

  findCandidates(state: CycleState, pod: PodInfo, all: readonly NodeInfo[], statuses: NodeToStatus): { candidates: Candidate[]; nodeStatuses: NodeToStatus } {
    const nodeStatuses = new NodeToStatus();
    const potential = all.filter((n) => statuses.get(n.name)?.code === Code.Unschedulable);
    if (potential.length === 0) return { candidates: [], nodeStatuses };
    const pdbs = this.d.pdbs();
    const n = potential.length;
    const offset = Math.floor(this.random() * n);
    const numCandidates = Math.min(n, Math.max(Math.trunc((n * MIN_CANDIDATE_NODES_PERCENTAGE) / 100), MIN_CANDIDATE_NODES_ABSOLUTE));
    const nonViolating: Candidate[] = [];
    const violating: Candidate[] = [];
    for (let i = 0; i < n; i++) {
      const node = potential[(offset + i) % n]!;
      // Most nodes of a full cluster hold nothing the pod may evict: say so without copying them.
      if (!node.pods.some((p) => p.priority < pod.priority)) {
        nodeStatuses.set(node.name, NO_VICTIMS);
        continue;
      }
      const r = this.selectVictimsOnNode(state.clone(), pod, node.clone(), pdbs);
      if (r.status === null && r.victims.length > 0) {
        const c: Candidate = { nodeName: node.name, victims: r.victims, numPDBViolations: r.numPDBViolations };
        (c.numPDBViolations === 0 ? nonViolating : violating).push(c);
        if (nonViolating.length > 0 && nonViolating.length + violating.length >= numCandidates) break;
        continue;
      }
      nodeStatuses.set(node.name, r.status ?? new Status(Code.Error, [`expected at least one victim pod on node "${node.name}"`]));
    }
    return { candidates: [...nonViolating, ...violating], nodeStatuses };
  }

  /** The fewest pods to evict from `node` (a copy) so that `pod` fits; `state` is a copy too. */
  selectVictimsOnNode(state: CycleState, pod: PodInfo, node: NodeInfo, pdbs: readonly RPDB[]): { victims: PodInfo[]; numPDBViolations: number; status: Status | null } {
    const fwk = this.d.framework();
    const remove = (p: PodInfo): void => {
      node.removePod(p.uid);
      fwk.runPreFilterRemovePod(state, pod, p, node);
    };
    const add = (p: PodInfo): void => {
      node.addPod(p);
      fwk.runPreFilterAddPod(state, pod, p, node);
    };
    const potential = node.pods.filter((p) => p.priority < pod.priority);
    if (potential.length === 0) return { victims: [], numPDBViolations: 0, status: NO_VICTIMS };
    for (const p of potential) remove(p);
    // The pod must fit with every lower-priority pod gone, or this node cannot help. (Affinity
    // to one of the victims is not considered, as upstream.)
    const fits = fwk.runFilterWithNominatedPods(state, pod, node);
    if (fits !== null) return { victims: [], numPDBViolations: 0, status: fits };
    potential.sort(moreImportant);
    const { violating, nonViolating } = splitByPDBViolation(potential, pdbs);
    const victims: PodInfo[] = [];
    let numPDBViolations = 0;
    const reprieve = (p: PodInfo): boolean => {
      add(p);
      if (fwk.runFilterWithNominatedPods(state, pod, node) === null) return true;
      remove(p);
      victims.push(p);
      return false;
    };
    for (const p of violating) if (!reprieve(p)) numPDBViolations++;
    for (const p of nonViolating) reprieve(p);
    victims.sort(moreImportant);
    return { victims, numPDBViolations, status: null };
  }

  /** Marks and deletes the victims and takes lower nominations off the node, asynchronously. */
  private prepareCandidate(c: Candidate, pod: PodInfo): void {
    const lowerNominated = this.d.nominator.podsOn(c.nodeName).filter((p) => p.priority < pod.priority && p.uid !== pod.uid);
    for (const p of lowerNominated) this.d.nominator.delete(p.uid);
    const work = (async () => {
      await Promise.all(
        c.victims.map(async (v) => {
          try {
            await this.d.api.patchPodStatus(v.namespace, v.name, {
              conditions: [{ type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler", message: `${this.d.schedulerName}: preempting to accommodate a higher priority pod`, lastTransitionTime: rfc3339(Date.now()) }],
            });
            await this.d.api.deletePod(v.namespace, v.name, v.uid);
            this.d.events.event(v.pod, "Normal", "Preempted", `Preempted by pod ${pod.uid} on node ${c.nodeName}`);
          } catch (err) {
            this.d.log.warn({ err, victim: v.key, preemptor: pod.key }, "could not preempt victim");
          }
        }),
      );
      await Promise.all(
        lowerNominated.map(async (p) => {
          try {
            await this.d.api.patchPodStatus(p.namespace, p.name, { nominatedNodeName: null });
          } catch (err) {
            this.d.log.warn({ err, pod: p.key }, "could not clear the nomination of a lower-priority pod");
          }
        }),
      );
    })();
    if (this.d.track) this.d.track(work);
    else work.catch(() => undefined);
  }
}

/** Upstream's pickOneNodeForPreemption with its default criteria, in order. */
export function pickOneNodeForPreemption(candidates: readonly Candidate[]): Candidate {
  const highest = (c: Candidate): number => (c.victims.length === 0 ? -Infinity : Math.max(...c.victims.map((v) => v.priority)));
  const sum = (c: Candidate): number => c.victims.reduce((s, v) => s + v.priority + 2147483648, 0);
  const earliestOfHighest = (c: Candidate): number => {
    const h = highest(c);
    const times = c.victims.filter((v) => v.priority === h).map((v) => v.startTime);
    return times.length === 0 ? -Infinity : Math.min(...times);
  };
  const criteria: ((c: Candidate) => number)[] = [
    (c) => -c.numPDBViolations,
    (c) => -highest(c),
    (c) => -sum(c),
    (c) => -c.victims.length,
    (c) => earliestOfHighest(c),
  ];
  let pool = [...candidates];
  for (const score of criteria) {
    if (pool.length === 1) break;
    let best = -Infinity;
    for (const c of pool) best = Math.max(best, score(c));
    pool = pool.filter((c) => score(c) === best);
  }
  return pool[0]!;
}
