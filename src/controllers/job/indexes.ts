// Completion indexes of Indexed Jobs (upstream pkg/controller/job/indexed_job_utils.go): which
// index a pod runs, and the compressed text of a set of indexes that status.completedIndexes
// holds ("1,3-5,7": ascending, every run of consecutive indexes as a range).
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

/** The compressed text of `indexes`: ascending, each run of consecutive indexes as "a-b". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(",");
}
