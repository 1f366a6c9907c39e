// The status conditions a terminating namespace carries (upstream
// pkg/controller/namespace/deletion/status_condition_utils.go): five condition types, each
// either True with the failure's reason and message, or False with a fixed "all is well"
// reason and message. Pure: the deleter collects what happened, this computes the conditions.
import type { NamespaceCondition } from "kubernetes-types/core/v1.js";

export const CONDITION_TYPES = [
  "NamespaceDeletionDiscoveryFailure",
  "NamespaceDeletionGroupVersionParsingFailure",
  "NamespaceDeletionContentFailure",
  "NamespaceContentRemaining",
  "NamespaceFinalizersRemaining",
] as const;

export type NamespaceConditionType = (typeof CONDITION_TYPES)[number];

const OK: Readonly<Record<NamespaceConditionType, { readonly reason: string; readonly message: string }>> = {
  NamespaceDeletionDiscoveryFailure: { reason: "ResourcesDiscovered", message: "All resources successfully discovered" },
  NamespaceDeletionGroupVersionParsingFailure: { reason: "ParsedGroupVersions", message: "All legacy kube types successfully parsed" },
  NamespaceDeletionContentFailure: { reason: "ContentDeleted", message: "All content successfully deleted, may be waiting on finalization" },
  NamespaceContentRemaining: { reason: "ContentRemoved", message: "All content successfully removed" },
  NamespaceFinalizersRemaining: { reason: "ContentHasNoFinalizers", message: "All content-preserving finalizers finished" },
};

/** What one pass over a namespace's content found. */
export interface DeletionOutcome {
  /** Discovery failed for some group versions (client-go's ErrGroupDiscoveryFailed message), or another discovery error. */
  readonly discoveryError?: { readonly message: string; readonly failedGroups?: number };
  readonly groupVersionError?: string;
  /** One message per resource whose content could not be deleted. */
  readonly contentErrors: readonly string[];
  /** `resource.group` → objects still there (e.g. `pods.` for core pods, as upstream prints it). */
  readonly remaining: ReadonlyMap<string, number>;
  /** finalizer → objects still held by it. */
  readonly finalizersRemaining: ReadonlyMap<string, number>;
}

/** The conditions the outcome calls for, in upstream's order; `failed` are the True ones. */
export function desiredConditions(o: DeletionOutcome): Map<NamespaceConditionType, { reason: string; message: string }> {
  const failed = new Map<NamespaceConditionType, { reason: string; message: string }>();
  if (o.discoveryError) {
    const msg = o.discoveryError.failedGroups !== undefined ? `Discovery failed for some groups, ${o.discoveryError.failedGroups} failing: ${o.discoveryError.message}` : o.discoveryError.message;
    failed.set("NamespaceDeletionDiscoveryFailure", { reason: "DiscoveryFailed", message: msg });
  }
  if (o.groupVersionError) failed.set("NamespaceDeletionGroupVersionParsingFailure", { reason: "GroupVersionParsingFailed", message: o.groupVersionError });
  if (o.contentErrors.length > 0) {
    const msgs = [...o.contentErrors].sort();
    failed.set("NamespaceDeletionContentFailure", { reason: "ContentDeletionFailed", message: `Failed to delete all resource types, ${msgs.length} remaining: ${msgs.join(", ")}` });
  }
  const remaining = [...o.remaining].filter(([, n]) => n > 0).map(([r, n]) => `${r} has ${n} resource instances`).sort();
  if (o.remaining.size > 0) failed.set("NamespaceContentRemaining", { reason: "SomeResourcesRemain", message: `Some resources are remaining: ${remaining.join(", ")}` });
  const byFinalizer = [...o.finalizersRemaining].filter(([, n]) => n > 0).map(([f, n]) => `${f} in ${n} resource instances`).sort();
  if (o.finalizersRemaining.size > 0) failed.set("NamespaceFinalizersRemaining", { reason: "SomeFinalizersRemain", message: `Some content in the namespace has finalizers remaining: ${byFinalizer.join(", ")}` });
  return failed;
}

/**
 * The namespace's conditions after this outcome: every managed type present, existing entries
 * updated in place (lastTransitionTime moves only when status flips), others kept. Returns
 * undefined when nothing changed, so no status write is needed.
 */
export function updateConditions(current: readonly NamespaceCondition[] | undefined, o: DeletionOutcome, now: string): NamespaceCondition[] | undefined {
  const failed = desiredConditions(o);
  const next = (current ?? []).map((c) => ({ ...c }));
  let changed = false;
  for (const type of CONDITION_TYPES) {
    const f = failed.get(type);
    const want = f ? { status: "True", ...f } : { status: "False", ...OK[type] };
    const old = next.find((c) => c.type === type);
    if (!old) {
      next.push({ type, status: want.status, lastTransitionTime: now, reason: want.reason, message: want.message });
      changed = true;
    } else if (old.status !== want.status || old.reason !== want.reason || old.message !== want.message) {
      if (old.status !== want.status) old.lastTransitionTime = now;
      old.status = want.status;
      old.reason = want.reason;
      old.message = want.message;
      changed = true;
    }
  }
  return changed ? next : undefined;
}
