// Completion indexes of Indexed Jobs (upstream pkg/controller/job/indexed_job_utils.go): which
// index a pod runs, and the compressed text of a set of indexes that status.completedIndexes
// holds ("1,3-5,7": ascending, every run of three or more consecutive indexes as a range).
import type { DeepReadonly } from "../../client/objects.js";
import type { Pod } from "kubernetes-types/core/v1.js";

export const COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";
export const JOB_COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX";

/** The pod's completion index, from its annotation (then its label); undefined when absent or not a valid index. */
export function completionIndexOf(pod: DeepReadonly<Pod>, completions: number): number | undefined {
  const v = pod.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? pod.metadata?.labels?.[COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^(0|[1-9][0-9]*)$/.test(v)) return undefined;
  const i = Number(v);
  return i < completions ? i : undefined;
}

/** Parses completedIndexes; indexes at or above `completions` and malformed parts are dropped, as upstream does. */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  if (!text) return out;
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    const first = Number(m[1]);
    const last = m[2] !== undefined ? Number(m[2]) : first;
    for (let i = first; i <= last && i < completions; i++) out.add(i);
  }
  return out;
}

/** The compressed text of `indexes`: ascending, each run of three or more consecutive indexes as "a-b". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    // Upstream's orderedIntervals.String: only three or more consecutive indexes are a range.
    if (j === i) parts.push(String(sorted[i]));
    else parts.push(`${sorted[i]}${j === i + 1 ? "," : "-"}${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * With backoffLimitPerIndex, each pod of an index carries the failures of the pods of that
 * index before it: the controller sets these on the replacement pod it creates (upstream's
 * JobIndexFailureCountAnnotation and JobIndexIgnoredFailureCountAnnotation), so that the count
 * survives the failed pods' deletion and a controller restart.
 */
export const INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count";
export const INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-ignored-failure-count";

const MAX_INT32 = 2 ** 31 - 1;

/** An annotation's count; 0 when absent, malformed or out of int32 range (a user may have written it). */
function countAnnotation(pod: DeepReadonly<Pod>, key: string): number {
  const v = pod.metadata?.annotations?.[key];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n < 0 || n > MAX_INT32 ? 0 : n;
}

/** Failures of the pod's index before it that counted towards backoffLimitPerIndex. */
export function indexFailureCount(pod: DeepReadonly<Pod>): number {
  return countAnnotation(pod, INDEX_FAILURE_COUNT_ANNOTATION);
}

/** Failures of the pod's index before it, counted or ignored by the pod failure policy (the per-index backoff delay grows with these). */
export function indexAbsoluteFailureCount(pod: DeepReadonly<Pod>): number {
  return countAnnotation(pod, INDEX_FAILURE_COUNT_ANNOTATION) + countAnnotation(pod, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION);
}

/** The ignored failures of the pod's index before it. */
export function indexIgnoredFailureCount(pod: DeepReadonly<Pod>): number {
  return countAnnotation(pod, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION);
}
