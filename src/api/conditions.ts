// Status conditions change through one upsert, so a condition's lastTransitionTime means the
// same thing whoever writes it: the time its status last flipped. The API server (the binding
// handler's pod PodScheduled, the eviction handler's pod DisruptionTarget and
// PodDisruptionBudget DisruptionAllowed conditions) and the disruption controller
// (DisruptionAllowed) use it. The deployment and replica-set
// controllers do not: upstream's SetDeploymentCondition and SetCondition leave a condition
// with the same status and reason untouched (its message stays stale) and move a changed one
// to the end of the list, and clients see that order.
import { rfc3339 } from "../util/time.js";

/** What the upsert reads of a condition; the list's own condition type may carry more. */
export interface TransitionCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

/**
 * apimachinery's meta.SetStatusCondition (and, for pods, podutil.UpdatePodCondition): the
 * condition of `c.type` replaces the existing one where it stands, or is appended. Its
 * lastTransitionTime is `now` unless the status is unchanged, in which case the existing time
 * is kept. An existing entry without a time gets `now`: metav1.Condition validation requires
 * one, so keeping the gap would make the status write fail.
 */
export function setStatusCondition<C extends TransitionCondition>(conditions: C[], c: Omit<C, "lastTransitionTime">, now: number | Date): void {
  const i = conditions.findIndex((x) => x.type === c.type);
  const old = conditions[i];
  const kept = old !== undefined && old.status === c.status ? old.lastTransitionTime : undefined;
  const next = { ...c, lastTransitionTime: kept || rfc3339(now) } as C;
  if (old) conditions[i] = next;
  else conditions.push(next);
}

/** What the readiness helpers read of an object: its status conditions. */
interface WithConditions<C extends { readonly type: string; readonly status: string }> {
  readonly status?: { readonly conditions?: readonly C[] } | undefined;
}

/** An object's Ready condition (a node's, a pod's). */
export function readyConditionOf<C extends { readonly type: string; readonly status: string }>(o: WithConditions<C> | undefined): C | undefined {
  return o?.status?.conditions?.find((c) => c.type === "Ready");
}

/** Whether an object's Ready condition is True. */
export function isReady<C extends { readonly type: string; readonly status: string }>(o: WithConditions<C> | undefined): boolean {
  return readyConditionOf(o)?.status === "True";
}
