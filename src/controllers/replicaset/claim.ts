// Adoption and release by ownerReferences (upstream BaseControllerRefManager.ClaimObject):
// a controller owns what carries its controllerRef and matches its selector; it adopts
// orphans that match, releases what it owns but no longer matches, and leaves alone what
// another controller owns. Adoption is a strategic merge patch that adds the controllerRef
// with the object's uid as a precondition, so a pod deleted and recreated under the same
// name is never adopted by mistake.
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import type { Selector } from "../../api/labels.js";
import { isInvalid, isNotFound } from "../../client/errors.js";
import type { DeepReadonly, KubeObject } from "../../client/objects.js";
import { controllerRefOf } from "./podutil.js";
import { WorkloadError } from "./errors.js";

export interface Owner {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly uid?: string; readonly deletionTimestamp?: string };
}

/** The controllerRef that a controller puts on what it creates or adopts. */
export function controllerRefFor(owner: Owner): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata?.name ?? "", uid: owner.metadata?.uid ?? "", controller: true, blockOwnerDeletion: true };
}

/** The adoption patch (strategic merge: ownerReferences merge by uid). */
export function adoptPatch(owner: Owner, objUid: string): unknown {
  return { metadata: { ownerReferences: [controllerRefFor(owner)], uid: objUid } };
}

/** The release patch: deletes our ownerReference by uid. */
export function releasePatch(ownerUid: string, objUid: string): unknown {
  return { metadata: { ownerReferences: [{ $patch: "delete", uid: ownerUid }], uid: objUid } };
}

export interface ClaimActions<T> {
  /** Adds the controllerRef (after canAdopt). */
  adopt(obj: DeepReadonly<T>): Promise<unknown>;
  release(obj: DeepReadonly<T>): Promise<unknown>;
  /**
   * Rejects when the owner must not adopt: called at most once per claim, before the first
   * adoption, to re-read the owner live (upstream RecheckDeletionTimestamp: a cached owner may
   * already be deleted, and adopting for it would orphan the pods again at once).
   */
  canAdopt(): Promise<void>;
}

export interface ClaimResult<T> {
  /** What the owner controls after the claim (owned and matching, or just adopted). */
  readonly claimed: DeepReadonly<T>[];
  /** Failed adoptions and releases; the claim carries on past them. */
  readonly errors: unknown[];
}

export async function claimObjects<T extends KubeObject>(owner: Owner, selector: Selector, objs: readonly DeepReadonly<T>[], actions: ClaimActions<T>): Promise<ClaimResult<T>> {
  const claimed: DeepReadonly<T>[] = [];
  const errors: unknown[] = [];
  const ownerUid = owner.metadata?.uid ?? "";
  const ownerDeleting = Boolean(owner.metadata?.deletionTimestamp);
  let canAdopt: Promise<void> | undefined;
  for (const obj of objs) {
    const meta = (obj as DeepReadonly<KubeObject>).metadata;
    const ref = controllerRefOf(obj as DeepReadonly<KubeObject>);
    const matches = selector.matches(meta?.labels);
    if (ref) {
      if (ref.uid !== ownerUid) continue;
      if (matches) {
        claimed.push(obj);
        continue;
      }
      // Ours but no longer selected: release it, unless we are going away anyway (the
      // garbage collector then deals with it through the ownerReference).
      if (ownerDeleting) continue;
      try {
        await actions.release(obj);
      } catch (err) {
        if (!isNotFound(err) && !isInvalid(err)) errors.push(err);
      }
      continue;
    }
    if (ownerDeleting || !matches || meta?.deletionTimestamp || (meta?.namespace ?? "") !== (owner.metadata?.namespace ?? "")) continue;
    try {
      canAdopt ??= actions.canAdopt();
      await canAdopt;
    } catch (err) {
      errors.push(new WorkloadError("CannotAdopt", `${owner.kind} ${owner.metadata?.namespace ?? ""}/${owner.metadata?.name ?? ""} cannot adopt ${meta?.name ?? ""}: ${(err as Error).message}`, { cause: err }));
      continue;
    }
    try {
      await actions.adopt(obj);
      claimed.push(obj);
    } catch (err) {
      if (!isNotFound(err)) errors.push(err);
    }
  }
  return { claimed, errors };
}
