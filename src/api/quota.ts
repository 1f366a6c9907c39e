// ResourceQuota usage: what one object counts for under a quota's `hard` names, as upstream's
// quota evaluators count it. Shared by the API server's ResourceQuota admission (charging a
// create) and the resource quota controller (recounting a namespace).
//
// Names (upstream's): `count/<resource>` and `count/<resource>.<group>` for any namespaced
// resource; the legacy object counts `pods`, `services`, `configmaps`, `secrets`,
// `persistentvolumeclaims`, `replicationcontrollers`, `resourcequotas`; for pods the compute
// resources `requests.cpu` (= `cpu`), `requests.memory` (= `memory`), `limits.cpu`,
// `limits.memory`, `requests.ephemeral-storage` (= `ephemeral-storage`),
// `limits.ephemeral-storage`; for services `services.nodeports` and `services.loadbalancers`;
// for claims `requests.storage`. A pod that has ended (Succeeded or Failed) counts for nothing.
import { sumPodResources, type ResourceSum } from "./podresources.js";
import { podQOSClass } from "./qos.js";
import { Quantity, quantityOf } from "./quantity.js";

export type ResourceList = Record<string, string>;
/** Usage by quota resource name. */
export type Usage = Map<string, Quantity>;

/** What quotas read of an object. */
export interface CountedObject {
  metadata?: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number };
  spec?: unknown;
  status?: unknown;
}

interface ContainerLike {
  name?: string;
  restartPolicy?: string;
  resources?: { requests?: ResourceList; limits?: ResourceList };
}

export interface PodSpecLike {
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
  /** What running the pod costs beyond its containers (set from its RuntimeClass). */
  overhead?: ResourceList;
  activeDeadlineSeconds?: number;
  priorityClassName?: string;
}

/** A resource whose objects quotas count. */
export interface CountedResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/** The core resources with a legacy object-count name (`pods`, `services`, …) beside their `count/` one. */
const LEGACY_COUNTS: ReadonlySet<string> = new Set(["pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "replicationcontrollers", "resourcequotas"]);

/**
 * The resources quotas count: the core ones upstream's legacy evaluators know, and the common
 * workloads of apps and batch for their `count/<resource>.<group>` names. Upstream counts
 * `count/…` of any resource the server serves; here the quota controller reports a name of any
 * other resource (say `count/ingresses.networking.k8s.io`) as used 0 and the admission does not
 * charge it, so that such a quota gets a status but does not limit anything.
 */
export const COUNTED_RESOURCES: readonly CountedResource[] = [
  ...[...LEGACY_COUNTS].map((plural) => ({ group: "", version: "v1", plural })),
  ...["deployments", "replicasets", "statefulsets", "daemonsets"].map((plural) => ({ group: "apps", version: "v1", plural })),
  ...["jobs", "cronjobs"].map((plural) => ({ group: "batch", version: "v1", plural })),
];

/** `count/<resource>` for core resources, `count/<resource>.<group>` otherwise. */
export function countName(group: string, plural: string): string {
  return group === "" ? `count/${plural}` : `count/${plural}.${group}`;
}

/** Quantities are immutable: one `1` serves every count. */
const ONE = Quantity.parse("1");

/** Whether a pod has ended: it then holds no resources and counts for no quota. */
export function podIsTerminal(pod: CountedObject): boolean {
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/** Quantities by resource name, added up and compared name by name. */
const USAGE_SUM: ResourceSum<Usage> = {
  zero: () => new Map(),
  add: (to, from) => {
    for (const [k, q] of from) to.set(k, to.get(k)?.add(q) ?? q);
  },
  max: (to, from) => {
    for (const [k, q] of from) if (!to.has(k) || q.cmp(to.get(k)!) > 0) to.set(k, q);
  },
};

/** A resource list's quantities (what does not parse is left out). */
function usageOfList(list: ResourceList | undefined): Usage {
  const out: Usage = new Map();
  for (const [k, v] of Object.entries(list ?? {})) {
    const q = quantityOf(v);
    if (q) out.set(k, q);
  }
  return out;
}

/** What a pod asks for in all (upstream's PodRequests / PodLimits; api/podresources.ts). */
export function podResources(spec: PodSpecLike | undefined, which: "requests" | "limits"): Usage {
  return sumPodResources(spec, (c) => usageOfList(c.resources?.[which]), USAGE_SUM);
}

const COMPUTE: readonly (readonly [string, "requests" | "limits", string])[] = [
  ["requests.cpu", "requests", "cpu"],
  ["cpu", "requests", "cpu"],
  ["requests.memory", "requests", "memory"],
  ["memory", "requests", "memory"],
  ["requests.ephemeral-storage", "requests", "ephemeral-storage"],
  ["ephemeral-storage", "requests", "ephemeral-storage"],
  ["limits.cpu", "limits", "cpu"],
  ["limits.memory", "limits", "memory"],
  ["limits.ephemeral-storage", "limits", "ephemeral-storage"],
];

/** Everything `obj` (of resource `plural` in `group`) counts for, whatever a quota limits. */
export function usageOf(group: string, plural: string, obj: CountedObject): Usage {
  const usage: Usage = new Map();
  if (group === "" && plural === "pods" && podIsTerminal(obj)) return usage;
  usage.set(countName(group, plural), ONE);
  if (group !== "") return usage;
  if (LEGACY_COUNTS.has(plural)) usage.set(plural, ONE);
  if (plural === "pods") {
    const spec = obj.spec as PodSpecLike | undefined;
    const requests = podResources(spec, "requests");
    const limits = podResources(spec, "limits");
    // As upstream's PodRequests and PodLimits (LimitRanger's sums leave it out): the overhead
    // on top of the requests, and on top of each limit the containers set.
    const overhead = usageOfList(spec?.overhead);
    USAGE_SUM.add(requests, overhead);
    for (const [k, q] of overhead) {
      const limit = limits.get(k);
      if (limit) limits.set(k, limit.add(q));
    }
    for (const [name, which, resource] of COMPUTE) {
      const q = (which === "requests" ? requests : limits).get(resource);
      if (q) usage.set(name, q);
    }
  } else if (plural === "services") {
    const spec = obj.spec as { type?: string; ports?: { nodePort?: number }[] } | undefined;
    const type = spec?.type ?? "ClusterIP";
    if (type === "LoadBalancer") usage.set("services.loadbalancers", ONE);
    if (type === "NodePort" || type === "LoadBalancer") usage.set("services.nodeports", Quantity.parse(String((spec?.ports ?? []).length)));
  } else if (plural === "persistentvolumeclaims") {
    const storage = quantityOf((obj.spec as { resources?: { requests?: ResourceList } } | undefined)?.resources?.requests?.["storage"]);
    if (storage) usage.set("requests.storage", storage);
  }
  return usage;
}

/**
 * Whether an object of resource `plural` in `group` counts for quota name `name` (upstream's
 * evaluator MatchingResources), for the COUNTED_RESOURCES.
 */
export function tracksName(group: string, plural: string, name: string): boolean {
  if (!COUNTED_RESOURCES.some((r) => r.group === group && r.plural === plural)) return false;
  if (name === countName(group, plural)) return true;
  if (group !== "") return false;
  if (name === plural && LEGACY_COUNTS.has(plural)) return true;
  if (plural === "pods") return COMPUTE.some(([n]) => n === name);
  if (plural === "services") return name === "services.nodeports" || name === "services.loadbalancers";
  if (plural === "persistentvolumeclaims") return name === "requests.storage";
  return false;
}

/**
 * What `next` adds to `prev`, name by name, where that is more than nothing (upstream's
 * SubtractWithNonNegativeResult and RemoveZeros): an update's charge, or a create's with `prev` empty.
 */
export function growth(next: Usage, prev: Usage): Usage {
  const out: Usage = new Map();
  for (const [k, q] of next) {
    const d = prev.has(k) ? q.sub(prev.get(k)!) : q;
    if (d.cmpInt(0) > 0) out.set(k, d);
  }
  return out;
}

/** The part of `usage` a quota with these `hard` names tracks. */
export function masked(usage: Usage, hard: ResourceList): Usage {
  return new Map([...usage].filter(([k]) => hard[k] !== undefined));
}

// ---- scopes ------------------------------------------------------------------------------------

interface ScopeSelectorLike {
  readonly matchExpressions?: readonly { readonly scopeName?: string; readonly operator?: string; readonly values?: readonly string[] }[];
}

export interface QuotaSpecLike {
  readonly hard?: ResourceList;
  readonly scopes?: readonly string[];
  readonly scopeSelector?: ScopeSelectorLike;
}

function scopeMatches(scope: string, operator: string, values: readonly string[], pod: CountedObject): boolean {
  const spec = pod.spec as PodSpecLike | undefined;
  switch (scope) {
    case "Terminating":
      return spec?.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds >= 0;
    case "NotTerminating":
      return spec?.activeDeadlineSeconds === undefined || spec.activeDeadlineSeconds < 0;
    case "BestEffort":
      return podQOSClass(spec) === "BestEffort";
    case "NotBestEffort":
      return podQOSClass(spec) !== "BestEffort";
    case "PriorityClass": {
      const name = spec?.priorityClassName ?? "";
      if (operator === "Exists") return name !== "";
      if (operator === "DoesNotExist") return name === "";
      if (operator === "In") return values.includes(name);
      if (operator === "NotIn") return !values.includes(name);
      return false;
    }
    default:
      // Scopes of other kinds (CrossNamespacePodAffinity, …) are not evaluated: they match nothing.
      return false;
  }
}

/**
 * Whether a quota with scopes covers `obj`. Scoped quotas track pods only (and only pods'
 * resources); a quota without scopes covers everything it names.
 */
export function quotaCovers(quota: QuotaSpecLike, group: string, plural: string, obj: CountedObject): boolean {
  const scopes = quota.scopes ?? [];
  const expressions = quota.scopeSelector?.matchExpressions ?? [];
  if (scopes.length === 0 && expressions.length === 0) return true;
  if (group !== "" || plural !== "pods") return false;
  return scopes.every((s) => scopeMatches(s, "Exists", [], obj)) && expressions.every((e) => scopeMatches(e.scopeName ?? "", e.operator ?? "", e.values ?? [], obj));
}

// ---- constraints -------------------------------------------------------------------------------

/**
 * Upstream's pod constraint: under a quota that limits cpu or memory, every container must ask
 * for it explicitly. Returns upstream's message ("must specify limits.cpu for: app; …") or
 * undefined.
 */
export function podConstraintProblem(hard: ResourceList, pod: CountedObject): string | undefined {
  const spec = pod.spec as PodSpecLike | undefined;
  const missing = new Map<string, Set<string>>();
  const all = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  for (const [name, which, resource] of COMPUTE) {
    if (hard[name] === undefined || resource === "ephemeral-storage") continue;
    for (const c of all) {
      if (c.resources?.[which]?.[resource] !== undefined) continue;
      if (!missing.has(name)) missing.set(name, new Set());
      missing.get(name)!.add(c.name ?? "");
    }
  }
  if (missing.size === 0) return undefined;
  const parts = [...missing.keys()].sort().map((name) => `${name} for: ${[...missing.get(name)!].sort().join(",")}`);
  return `must specify ${parts.join("; ")}`;
}

/** Upstream's prettyPrint of a resource list: `name=value` in name order, comma-separated. */
export function prettyPrint(list: Usage | ResourceList): string {
  const entries = list instanceof Map ? [...list].map(([k, q]) => [k, q.toString()] as const) : Object.entries(list);
  return entries
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** `used` plus `delta`, as a ResourceList (for status.used). */
export function addUsage(used: ResourceList | undefined, delta: Usage): ResourceList {
  const out: ResourceList = { ...used };
  for (const [k, q] of delta) out[k] = (quantityOf(out[k])?.add(q) ?? q).toString();
  return out;
}

/** Sums of every usage, as a ResourceList with each of `names` present (0 if nothing counts). */
export function totalUsage(names: Iterable<string>, usages: Iterable<Usage>): ResourceList {
  const sum: Usage = new Map();
  for (const n of names) sum.set(n, Quantity.zero());
  for (const u of usages) for (const [k, q] of u) if (sum.has(k)) sum.set(k, sum.get(k)!.add(q));
  return Object.fromEntries([...sum].map(([k, q]) => [k, q.toString()]));
}

/** The names in `requested` whose used + requested exceeds `hard` (upstream's LessThanOrEqual). */
export function exceeded(requested: Usage, used: ResourceList | undefined, hard: ResourceList): string[] {
  const out: string[] = [];
  for (const [k, q] of requested) {
    const limit = quantityOf(hard[k]);
    if (!limit) continue;
    const now = quantityOf(used?.[k]) ?? Quantity.zero();
    if (now.add(q).cmp(limit) > 0) out.push(k);
  }
  return out.sort();
}
