// ResourceQuota (upstream admission plugin of the same name): a create in a namespace with
// ResourceQuotas is charged to every quota that tracks what the object counts for
// (api/quota.ts), and refused with 403 when that would take a quota past its hard limit:
// `pods "p" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2`.
//
// As upstream, the limits and the usage are the quota's status, which the resource quota
// controller keeps (status.hard from spec.hard, status.used by counting): a quota whose status
// does not have them yet refuses ("status unknown for quota"). The charge is a compare-and-swap
// of the quota's status, checked again on every try, so concurrent creates cannot both take the
// last unit. A create that fails after its charge leaves the quota over-counted until the
// controller counts again, as upstream. Dry runs are checked, not charged. Updates of services
// and claims are charged for what they add (node ports, a load balancer, storage); pod updates
// are not (upstream charges in-place resizes, which k8ts does not do).
import { addUsage, exceeded, growth, masked, podConstraintProblem, prettyPrint, quotaCovers, tracksName, usageOf, type QuotaSpecLike, type ResourceList, type Usage } from "../../api/quota.js";
import type { KubeObject } from "../registry/types.js";
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from "./types.js";

export interface QuotaAccess {
  /** The namespace's ResourceQuotas, as the server's cache holds them. */
  quotasOf(namespace: string): readonly Readonly<KubeObject>[];
  /**
   * Writes quota `name`'s status as `next` makes it from the stored quota, trying again from
   * the stored one when another write got there first; `next` throws to refuse.
   */
  updateStatus(namespace: string, name: string, next: (current: Readonly<KubeObject>) => KubeObject): Promise<void>;
}

interface QuotaStatusLike {
  readonly hard?: ResourceList;
  readonly used?: ResourceList;
}

const specOf = (q: Readonly<KubeObject>): QuotaSpecLike => (q["spec"] as QuotaSpecLike | undefined) ?? {};
const statusOf = (q: Readonly<KubeObject>): QuotaStatusLike => (q["status"] as QuotaStatusLike | undefined) ?? {};

export function resourceQuota(access: QuotaAccess): AdmissionPlugin {
  return {
    name: "ResourceQuota",
    async validate(a) {
      if (!charged(a) || !a.object) return;
      const quotas = access.quotasOf(a.namespace);
      if (quotas.length === 0) return;
      const { group, plural } = a.resource;
      // A create counts whole, an update for what it adds; nothing added, nothing to charge.
      const usage = growth(usageOf(group, plural, a.object), a.oldObject ? usageOf(group, plural, a.oldObject) : new Map());
      if (usage.size === 0) return;
      const charges: { name: string; requested: Usage }[] = [];
      for (const q of quotas) {
        const spec = specOf(q);
        const status = statusOf(q);
        const { hard } = status;
        const name = q.metadata?.name ?? "";
        // Which of the quota's names this kind of object counts for; none: the quota does not track it.
        const tracked = Object.keys(hard ?? spec.hard ?? {}).filter((k) => tracksName(group, plural, k));
        if (tracked.length === 0 || !quotaCovers(spec, group, plural, a.object)) continue;
        if (group === "" && plural === "pods" && hard) {
          const problem = podConstraintProblem(hard, a.object);
          if (problem) throw admissionForbidden(a, `failed quota: ${name}: ${problem}`);
        }
        if (!hard || tracked.some((k) => hard[k] === undefined || status.used?.[k] === undefined)) {
          throw admissionForbidden(a, `status unknown for quota: ${name}, resources: ${tracked.sort().join(",")}`);
        }
        const requested = masked(usage, hard);
        if (requested.size === 0) continue;
        const over = exceeded(requested, status.used, hard);
        if (over.length > 0) throw admissionForbidden(a, exceededMessage(name, requested, status, over));
        charges.push({ name, requested });
      }
      if (a.dryRun) return;
      for (const { name, requested } of charges) {
        await access.updateStatus(a.namespace, name, (current) => {
          const status = statusOf(current);
          const hard = status.hard ?? {};
          const over = exceeded(requested, status.used, hard);
          if (over.length > 0) throw admissionForbidden(a, exceededMessage(name, requested, status, over));
          return { ...current, status: { ...status, used: addUsage(status.used, requested) } } as KubeObject;
        });
      }
    },
  };
}

/**
 * Creates of namespaced objects, and (as upstream's evaluators handle them) updates of services,
 * which may gain node ports or a load balancer, and of claims, which may grow.
 */
function charged(a: AdmissionAttributes): boolean {
  if (a.subresource !== "" || !a.resource.namespaced) return false;
  if (a.operation === "CREATE") return true;
  return a.operation === "UPDATE" && a.resource.group === "" && (a.resource.plural === "services" || a.resource.plural === "persistentvolumeclaims");
}

function exceededMessage(name: string, requested: Usage, status: QuotaStatusLike, over: readonly string[]): string {
  const pick = (list: ResourceList | undefined): ResourceList => Object.fromEntries(over.filter((k) => list?.[k] !== undefined).map((k) => [k, list![k]!]));
  const req = new Map([...requested].filter(([k]) => over.includes(k)));
  return `exceeded quota: ${name}, requested: ${prettyPrint(req)}, used: ${prettyPrint(pick(status.used))}, limited: ${prettyPrint(pick(status.hard))}`;
}

