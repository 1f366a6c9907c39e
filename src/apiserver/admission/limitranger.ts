// LimitRanger (upstream admission plugin of the same name): the LimitRanges of a namespace give
// its new pods' containers default requests and limits, and bound what containers, pods and
// PersistentVolumeClaims may ask for. A write outside the bounds is refused with 403 Forbidden
// and upstream's words ("maximum memory usage per Container is 1Gi, but limit is 2Gi").
//
// As upstream: only pods being created and claims being created or updated are looked at (a
// pod's containers cannot change after creation), never subresources; the defaults are applied
// in the mutating phase and recorded in the `kubernetes.io/limit-ranger` annotation, the bounds
// checked in the validating phase; every LimitRange of the namespace applies.
import { Quantity, quantityOf } from "../../api/quantity.js";
import { podResources, type PodSpecLike } from "../../api/quota.js";
import type { KubeObject } from "../registry/types.js";
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from "./types.js";

export const LIMIT_RANGER_ANNOTATION = "kubernetes.io/limit-ranger";

type ResourceList = Record<string, string>;

interface LimitRangeItem {
  readonly type?: string;
  readonly max?: ResourceList;
  readonly min?: ResourceList;
  readonly default?: ResourceList;
  readonly defaultRequest?: ResourceList;
  readonly maxLimitRequestRatio?: ResourceList;
}

interface ContainerLike {
  name?: string;
  restartPolicy?: string;
  resources?: { requests?: ResourceList; limits?: ResourceList };
}

/** The LimitRanges of a namespace, as the server's cache holds them. */
export type LimitRangesOf = (namespace: string) => readonly Readonly<KubeObject>[];

export function limitRanger(limitRangesOf: LimitRangesOf): AdmissionPlugin {
  const itemsIn = (namespace: string): LimitRangeItem[][] =>
    limitRangesOf(namespace).map((lr) => {
      const limits = (lr["spec"] as { limits?: unknown } | undefined)?.limits;
      return Array.isArray(limits) ? limits.filter((i): i is LimitRangeItem => typeof i === "object" && i !== null) : [];
    });
  return {
    name: "LimitRanger",
    admit(a) {
      if (kindOf(a) !== "pod") return;
      const pod = a.object as { metadata?: { annotations?: Record<string, string> }; spec?: { containers?: unknown; initContainers?: unknown } };
      for (const items of itemsIn(a.namespace)) {
        const defaults = containerDefaults(items);
        if (Object.keys(defaults.limits).length === 0 && Object.keys(defaults.requests).length === 0) continue;
        const notes = [...containersOf(pod.spec?.containers).flatMap((c) => applyDefaults(c, defaults, "container")), ...containersOf(pod.spec?.initContainers).flatMap((c) => applyDefaults(c, defaults, "init container"))];
        if (notes.length === 0) continue;
        pod.metadata ??= {};
        pod.metadata.annotations = { ...pod.metadata.annotations, [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join("; ")}` };
      }
    },
    validate(a) {
      const kind = kindOf(a);
      if (kind === undefined) return;
      const problems: string[] = [];
      for (const items of itemsIn(a.namespace)) problems.push(...(kind === "pod" ? podProblems(items, a.object) : claimProblems(items, a.object)));
      if (problems.length === 0) return;
      // Upstream's aggregate error: one message as it is, several in brackets.
      const why = problems.length === 1 ? problems[0]! : `[${problems.join(", ")}]`;
      throw admissionForbidden(a, why);
    },
  };
}

function kindOf(a: AdmissionAttributes): "pod" | "claim" | undefined {
  if (a.resource.group !== "" || a.subresource !== "" || !a.object) return undefined;
  if (a.resource.plural === "pods" && a.operation === "CREATE") return "pod";
  if (a.resource.plural === "persistentvolumeclaims" && (a.operation === "CREATE" || a.operation === "UPDATE")) return "claim";
  return undefined;
}

function containersOf(list: unknown): ContainerLike[] {
  return Array.isArray(list) ? list.filter((c): c is ContainerLike => typeof c === "object" && c !== null) : [];
}

/** Container items' `default` (limits) and `defaultRequest` (requests); a later item's value wins. */
function containerDefaults(items: readonly LimitRangeItem[]): { limits: ResourceList; requests: ResourceList } {
  const limits: ResourceList = {};
  const requests: ResourceList = {};
  for (const item of items) {
    if (item.type !== "Container") continue;
    Object.assign(limits, item.default);
    Object.assign(requests, item.defaultRequest);
  }
  return { limits, requests };
}

/** Fills in what the container does not set; returns upstream's notes ("cpu, memory request for container app"). */
function applyDefaults(c: ContainerLike, defaults: { limits: ResourceList; requests: ResourceList }, what: string): string[] {
  const resources = { ...c.resources };
  const fill = (have: ResourceList | undefined, add: ResourceList): { merged: ResourceList; set: string[] } => {
    const merged = { ...have };
    const set = Object.keys(add)
      .filter((k) => merged[k] === undefined)
      .sort();
    for (const k of set) merged[k] = add[k]!;
    return { merged, set };
  };
  const notes: string[] = [];
  const requests = fill(resources.requests, defaults.requests);
  const limits = fill(resources.limits, defaults.limits);
  if (requests.set.length > 0) {
    resources.requests = requests.merged;
    notes.push(`${requests.set.join(", ")} request for ${what} ${c.name ?? ""}`);
  }
  if (limits.set.length > 0) {
    resources.limits = limits.merged;
    notes.push(`${limits.set.join(", ")} limit for ${what} ${c.name ?? ""}`);
  }
  if (notes.length > 0) c.resources = resources;
  return notes;
}

// ---- bounds ------------------------------------------------------------------------------------

const MAX_MILLI_VALUE = 2n ** 63n / 1000n;

/**
 * The request, limit and bound as upstream compares them: in milli-units when none of them
 * overflows that, else in units. An absent quantity is 0.
 */
function observed(req: Quantity | undefined, lim: Quantity | undefined, enforced: Quantity): { r: bigint; l: bigint; e: bigint } {
  const zero = Quantity.zero();
  const [rq, lq] = [req ?? zero, lim ?? zero];
  const milli = rq.value() <= MAX_MILLI_VALUE && lq.value() <= MAX_MILLI_VALUE && enforced.value() <= MAX_MILLI_VALUE;
  return milli ? { r: rq.milliValue(), l: lq.milliValue(), e: enforced.milliValue() } : { r: rq.value(), l: lq.value(), e: enforced.value() };
}

function minProblem(kind: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = quantityOf(requests[name]);
  const lim = quantityOf(limits[name]);
  const { r, l, e } = observed(req, lim, enforced);
  if (req === undefined) return `minimum ${name} usage per ${kind} is ${enforced.toString()}.  No request is specified`;
  if (r < e) return `minimum ${name} usage per ${kind} is ${enforced.toString()}, but request is ${req.toString()}`;
  if (lim !== undefined && l < e) return `minimum ${name} usage per ${kind} is ${enforced.toString()}, but limit is ${lim.toString()}`;
  return undefined;
}

function maxProblem(kind: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = quantityOf(requests[name]);
  const lim = quantityOf(limits[name]);
  const { r, l, e } = observed(req, lim, enforced);
  if (lim === undefined) return `maximum ${name} usage per ${kind} is ${enforced.toString()}.  No limit is specified`;
  if (l > e) return `maximum ${name} usage per ${kind} is ${enforced.toString()}, but limit is ${lim.toString()}`;
  if (req !== undefined && r > e) return `maximum ${name} usage per ${kind} is ${enforced.toString()}, but request is ${req.toString()}`;
  return undefined;
}

/** A claim's maximum bounds what it requests (claims set no limits). */
function maxRequestProblem(kind: string, name: string, enforced: Quantity, requests: ResourceList): string | undefined {
  const req = quantityOf(requests[name]);
  if (req === undefined) return `maximum ${name} usage per ${kind} is ${enforced.toString()}.  No request is specified`;
  const { r, e } = observed(req, undefined, enforced);
  if (r > e) return `maximum ${name} usage per ${kind} is ${enforced.toString()}, but request is ${req.toString()}`;
  return undefined;
}

function ratioProblem(kind: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = quantityOf(requests[name]);
  const lim = quantityOf(limits[name]);
  const { r: reqValue, l: limValue } = observed(req, lim, enforced);
  if (req === undefined || reqValue === 0n) return `${name} max limit to request ratio per ${kind} is ${enforced.toString()}, but no request is specified or request is 0`;
  if (lim === undefined || limValue === 0n) return `${name} max limit to request ratio per ${kind} is ${enforced.toString()}, but no limit is specified or limit is 0`;
  const ratio = Number(limValue) / Number(reqValue);
  // The enforced ratio in milli-units when it fits, as upstream compares it.
  const max = Number(enforced.milliValue()) / 1000;
  if (ratio > max) return `${name} max limit to request ratio per ${kind} is ${enforced.toString()}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

/** `check` of every bound in `list`, in resource-name order: the problems it finds. */
function eachBound(list: ResourceList | undefined, check: (name: string, enforced: Quantity) => string | undefined): string[] {
  const out: string[] = [];
  for (const name of Object.keys(list ?? {}).sort()) {
    const enforced = quantityOf(list![name]);
    const p = enforced && check(name, enforced);
    if (p) out.push(p);
  }
  return out;
}

/** Every check of one item's bounds over `requests` and `limits`, in resource-name order. */
function boundsProblems(item: LimitRangeItem, kind: string, requests: ResourceList, limits: ResourceList): string[] {
  return [
    ...eachBound(item.min, (n, e) => minProblem(kind, n, e, requests, limits)),
    ...eachBound(item.max, (n, e) => maxProblem(kind, n, e, requests, limits)),
    ...eachBound(item.maxLimitRequestRatio, (n, e) => ratioProblem(kind, n, e, requests, limits)),
  ];
}

function podProblems(items: readonly LimitRangeItem[], obj: KubeObject | undefined): string[] {
  const spec = (obj as { spec?: { containers?: unknown; initContainers?: unknown } } | undefined)?.spec;
  const containers = containersOf(spec?.containers);
  const inits = containersOf(spec?.initContainers);
  const out: string[] = [];
  for (const item of items) {
    if (item.type === "Container") {
      for (const c of [...containers, ...inits]) out.push(...boundsProblems(item, "Container", c.resources?.requests ?? {}, c.resources?.limits ?? {}));
    } else if (item.type === "Pod") {
      out.push(...boundsProblems(item, "Pod", podTotal(spec, "requests"), podTotal(spec, "limits")));
    }
  }
  return out;
}

/** What the pod as a whole asks for (api/quota.ts: upstream's PodRequests / PodLimits), as a resource list. */
function podTotal(spec: unknown, which: "requests" | "limits"): ResourceList {
  return Object.fromEntries([...podResources(spec as PodSpecLike | undefined, which)].map(([k, q]) => [k, q.toString()]));
}

function claimProblems(items: readonly LimitRangeItem[], obj: KubeObject | undefined): string[] {
  const requests = (obj as { spec?: { resources?: { requests?: ResourceList } } } | undefined)?.spec?.resources?.requests ?? {};
  return items
    .filter((item) => item.type === "PersistentVolumeClaim")
    .flatMap((item) => [
      ...eachBound(item.min, (n, e) => minProblem("PersistentVolumeClaim", n, e, requests, {})),
      ...eachBound(item.max, (n, e) => maxRequestProblem("PersistentVolumeClaim", n, e, requests)),
    ]);
}
