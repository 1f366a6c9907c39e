// What a ResourceQuota's status should be (upstream's syncResourceQuota without the write):
// status.hard is spec.hard, status.used is, for exactly the names in spec.hard, the sum of what
// the namespace's objects that the quota covers count for (src/api/quota.ts counts one object).
import type { ResourceQuota } from "kubernetes-types/core/v1.js";
import { quantityOf } from "../../api/quantity.js";
import { COUNTED_RESOURCES, quotaCovers, totalUsage, tracksName, usageOf, type CountedObject, type CountedResource, type QuotaSpecLike, type ResourceList, type Usage } from "../../api/quota.js";
import type { DeepReadonly, KubeObject } from "../../client/objects.js";

export type RQuota = DeepReadonly<ResourceQuota>;

/** The objects of one tracked resource in the quota's namespace. */
export type NamespaceObjects = (r: CountedResource) => readonly DeepReadonly<KubeObject>[];

/** What one object counts for under the quota's names, or nothing if the quota does not cover it. */
export function objectUsage(spec: QuotaSpecLike, r: CountedResource, obj: DeepReadonly<KubeObject>): Usage {
  const o = obj as unknown as CountedObject;
  return quotaCovers(spec, r.group, r.plural, o) ? usageOf(r.group, r.plural, o) : new Map();
}

/** status.used: every name of spec.hard, summed over the covered objects (0 where nothing counts). */
export function computeUsed(quota: RQuota, objects: NamespaceObjects): ResourceList {
  const spec = (quota.spec ?? {}) as QuotaSpecLike;
  const names = Object.keys(spec.hard ?? {});
  const usages: Usage[] = [];
  for (const r of COUNTED_RESOURCES) {
    // Skip resources the quota names nothing of: most quotas limit pods' resources only.
    if (!names.some((n) => tracksName(r.group, r.plural, n))) continue;
    for (const obj of objects(r)) usages.push(objectUsage(spec, r, obj));
  }
  return totalUsage(names, usages);
}

/**
 * Whether two resource lists hold the same names with equal quantities (upstream's
 * quota.Equals): "1000m" and "1" are equal, so a status the API server normalized differently
 * is not rewritten.
 */
export function sameResourceList(a: DeepReadonly<ResourceList> | undefined, b: DeepReadonly<ResourceList> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  for (const k of ka) {
    const x = a?.[k];
    const y = b?.[k];
    if (x === undefined || y === undefined) return false;
    if (x === y) continue;
    const qx = quantityOf(x);
    const qy = quantityOf(y);
    if (!qx || !qy || qx.cmp(qy) !== 0) return false;
  }
  return true;
}

/** The status the quota should have, or undefined when its current status already says so. */
export function nextStatus(quota: RQuota, objects: NamespaceObjects): ResourceQuota["status"] | undefined {
  const hard: ResourceList = { ...quota.spec?.hard };
  const used = computeUsed(quota, objects);
  // A missing status.hard or status.used compares as empty, so it is written whenever spec.hard
  // names anything; a quota of no names keeps its empty status (the server drops empty maps,
  // so writing `{}` would only come back as missing).
  if (sameResourceList(quota.status?.hard, hard) && sameResourceList(quota.status?.used, used)) return undefined;
  return { hard, used };
}
