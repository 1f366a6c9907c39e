// A pod's quality-of-service class, as upstream's ComputePodQOS: the API server stores it in
// status.qosClass, the kubelet sets OOM scores from it, and ResourceQuota's BestEffort scopes
// match on it.
import { Quantity, quantityOf } from "./quantity.js";

export type QOSClass = "Guaranteed" | "Burstable" | "BestEffort";

interface ResourcesLike {
  readonly requests?: Readonly<Record<string, unknown>>;
  readonly limits?: Readonly<Record<string, unknown>>;
}

function containers(list: unknown): ResourcesLike[] {
  if (!Array.isArray(list)) return [];
  return list.map((c: unknown) => ((c as { resources?: unknown } | null)?.resources ?? {}) as ResourcesLike);
}

/**
 * Only cpu and memory count, in every container (init containers too). Guaranteed when every
 * container limits both and its requests equal its limits; BestEffort when no container asks
 * for either; Burstable otherwise. A request a container leaves out defaults to its limit (as
 * defaulting has done upstream).
 */
export function podQOSClass(spec: { readonly containers?: unknown; readonly initContainers?: unknown } | undefined): QOSClass {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  const add = (to: Map<string, Quantity>, name: string, raw: unknown): boolean => {
    if (name !== "cpu" && name !== "memory") return false;
    const q = quantityOf(raw);
    if (!q || q.sign() <= 0) return false;
    to.set(name, to.get(name)?.add(q) ?? q);
    return true;
  };
  let guaranteed = true;
  for (const r of [...containers(spec?.containers), ...containers(spec?.initContainers)]) {
    const lim = r.limits ?? {};
    for (const [name, raw] of Object.entries({ ...lim, ...r.requests })) add(requests, name, raw);
    const limited = new Set<string>();
    for (const [name, raw] of Object.entries(lim)) if (add(limits, name, raw)) limited.add(name);
    if (!limited.has("cpu") || !limited.has("memory")) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return "BestEffort";
  if (guaranteed && requests.size === limits.size) {
    for (const [name, req] of requests) if (limits.get(name)?.cmp(req) !== 0) return "Burstable";
    return "Guaranteed";
  }
  return "Burstable";
}
