// DaemonSet facts the controller decides on (upstream pkg/controller/daemon/util and the
// helpers of daemon_controller.go): which pods belong to which node, which of them are of the
// current revision, and how many may surge or be unavailable during a rolling update.
import { scaledValueFromIntOrPercent, type IntOrString } from "../../api/intstr.js";
import type { Owner } from "../replicaset/claim.js";
import type { RPod } from "../replicaset/podutil.js";
import { CONTROLLER_REVISION_HASH_LABEL } from "../history/history.js";
import { targetNodeName, type RDaemonSet } from "./nodes.js";

export const DAEMONSET_API_VERSION = "apps/v1";
export const DAEMONSET_KIND = "DaemonSet";

/** The label extensions/v1beta1 DaemonSets used before revision hashes; still written when the DaemonSet carries the annotation below. */
export const TEMPLATE_GENERATION_LABEL = "pod-template-generation";
export const TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation";

export function dsOwner(ds: RDaemonSet): Owner {
  return { apiVersion: DAEMONSET_API_VERSION, kind: DAEMONSET_KIND, metadata: ds.metadata };
}

/** The DaemonSet's template generation from the deprecated annotation, if it carries a valid one. */
export function templateGeneration(ds: RDaemonSet): string | undefined {
  const v = ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  return v !== undefined && /^[+-]?\d+$/.test(v) ? String(Number(v)) : undefined;
}

function isPodTerminal(p: RPod): boolean {
  return p.status?.phase === "Failed" || p.status?.phase === "Succeeded";
}

/**
 * The DaemonSet's pods by the node each is for (upstream getNodesToDaemonPods). A pod that
 * names no node is left out. Unless `includeDeletedTerminal`, so is a finished pod being
 * deleted: the kubelet or pod GC is done with it and it must not hold its node's slot.
 */
export function podsByNode(pods: readonly RPod[], includeDeletedTerminal = false): Map<string, RPod[]> {
  const out = new Map<string, RPod[]>();
  for (const p of pods) {
    if (!includeDeletedTerminal && isPodTerminal(p) && p.metadata?.deletionTimestamp) continue;
    const node = targetNodeName(p);
    if (node === undefined) continue;
    const list = out.get(node);
    if (list) list.push(p);
    else out.set(node, [p]);
  }
  return out;
}

/** Bound pods first, then oldest first, then by name (upstream podByCreationTimestampAndPhase). */
export function byCreationAndPhase(a: RPod, b: RPod): number {
  const ba = (a.spec?.nodeName ?? "") !== "";
  const bb = (b.spec?.nodeName ?? "") !== "";
  if (ba !== bb) return ba ? -1 : 1;
  const ta = Date.parse(a.metadata?.creationTimestamp ?? "") || 0;
  const tb = Date.parse(b.metadata?.creationTimestamp ?? "") || 0;
  if (ta !== tb) return ta - tb;
  const na = a.metadata?.name ?? "";
  const nb = b.metadata?.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/**
 * Whether a pod was made from the current revision: its controller-revision-hash is `hash`, or
 * its pod-template-generation is the DaemonSet's template generation. (Upstream compares the
 * generation with the printed pointer, so that half never matches there; here it does what it
 * means to.)
 */
export function isPodUpdated(pod: RPod, hash: string, generation: string | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  if (hash !== "" && labels[CONTROLLER_REVISION_HASH_LABEL] === hash) return true;
  return generation !== undefined && labels[TEMPLATE_GENERATION_LABEL] === generation;
}

export function isRollingUpdate(ds: RDaemonSet): boolean {
  return (ds.spec?.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate";
}

/** maxSurge of `n` nodes, rounded up; 0 unless RollingUpdate with maxSurge set (upstream SurgeCount). Throws on an invalid value. */
export function surgeCount(ds: RDaemonSet, n: number): number {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  if (!isRollingUpdate(ds) || !ru || ru.maxSurge === undefined) return 0;
  return scaledValueFromIntOrPercent(ru.maxSurge as IntOrString, n, true);
}

/** maxUnavailable of `n` nodes, rounded up; 0 unless RollingUpdate (upstream UnavailableCount). Throws on an invalid value. */
export function unavailableCount(ds: RDaemonSet, n: number): number {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  if (!isRollingUpdate(ds) || !ru) return 0;
  return scaledValueFromIntOrPercent((ru.maxUnavailable ?? null) as IntOrString | null, n, true);
}

/** Whether a node may hold an old and a new pod at once (upstream AllowsSurge). */
export function allowsSurge(ds: RDaemonSet): boolean {
  try {
    return surgeCount(ds, 1) > 0;
  } catch {
    return false;
  }
}
