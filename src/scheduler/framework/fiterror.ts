// The message of a failed scheduling attempt, exactly as upstream's FitError.Error() builds it
// (what users see in FailedScheduling events and the PodScheduled condition).
import type { NodeToStatus } from "./types.js";

/**
 * Upstream's FitError message: "0/N nodes are available: <prefilter msg>." or the sorted
 * histogram of node reasons ("1 Insufficient cpu, 2 node(s) had untolerated taint {...}."),
 * then the PostFilter message.
 */
export function fitErrorMessage(numAllNodes: number, statuses: NodeToStatus, preFilterMsg: string, postFilterMsg = ""): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (preFilterMsg !== "") {
    msg += ` ${preFilterMsg}.`;
  } else {
    const counts = new Map<string, number>();
    for (const s of statuses.map.values()) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    if (statuses.absent && statuses.size < numAllNodes) {
      for (const r of statuses.absent.reasons) counts.set(r, (counts.get(r) ?? 0) + numAllNodes - statuses.size);
    }
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort(compareBytes);
    if (parts.length > 0) msg += ` ${parts.join(", ")}.`;
  }
  if (postFilterMsg !== "") msg += ` ${postFilterMsg}`;
  return msg;
}

/** Go's sort.Strings order (byte-wise), which differs from localeCompare. */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
