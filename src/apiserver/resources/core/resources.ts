// Compute resources of containers: quantity canonicalization (what a round trip through the
// upstream server does to "0.5" or "1024Mi") and ValidateResourceRequirements. The pod QoS
// class the pod strategy stores in status.qosClass is api/qos.ts's.
import { FieldPath, forbidden, invalid, required, type FieldError } from "../../../api/fielderrors.js";
import { Quantity, quantityOf } from "../../../api/quantity.js";
import { IS_NEGATIVE_ERROR_MSG, isQualifiedName } from "../../../api/validation.js";
import { asObj, isObj, objs, setValue, type Json } from "../util.js";

/** Rewrites each quantity of a map to upstream's canonical string; unparsable ones are left for validation. */
export function canonicalizeQuantities(list: unknown): void {
  if (!isObj(list)) return;
  for (const [k, v] of Object.entries(list)) {
    const q = quantityOf(v);
    if (q) setValue(list, k, q.toString());
  }
}

/** Canonicalizes one quantity field of `parent`. */
export function canonicalizeQuantity(parent: Json | undefined, key: string): void {
  if (!parent || parent[key] === undefined || parent[key] === null) return;
  const q = quantityOf(parent[key]);
  if (q) setValue(parent, key, q.toString());
}

const STANDARD_CONTAINER_RESOURCES = new Set(["cpu", "memory", "ephemeral-storage"]);
const INTEGER_RESOURCES = new Set(["pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps", "persistentvolumeclaims", "services.nodeports", "services.loadbalancers"]);

function isHugePages(name: string): boolean {
  return name.startsWith("hugepages-");
}

/** Native resources have no domain or a kubernetes.io one. */
function isNative(name: string): boolean {
  return !name.includes("/") || name.includes("kubernetes.io/");
}

function isExtended(name: string): boolean {
  if (isNative(name) || name.startsWith("requests.")) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}

function isOvercommitAllowed(name: string): boolean {
  return isNative(name) && !isHugePages(name);
}

function isIntegerResource(name: string): boolean {
  return isExtended(name) || INTEGER_RESOURCES.has(name);
}

function validateResourceName(name: string, path: FieldPath): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalid(path, name, m));
  if (errs.length > 0) return errs;
  if (!name.includes("/")) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePages(name)) return [invalid(path, name, "must be a standard resource for containers")];
  } else if (!isNative(name) && !isExtended(name)) {
    return [invalid(path, name, "doesn't follow extended resource name standard")];
  }
  return [];
}

function validateQuantityValue(name: string, raw: unknown, path: FieldPath): { q?: Quantity; errs: FieldError[] } {
  const q = quantityOf(raw);
  if (!q) return { errs: [invalid(path, raw, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")] };
  const errs: FieldError[] = [];
  if (q.sign() < 0) errs.push(invalid(path, q.toString(), IS_NEGATIVE_ERROR_MSG));
  if (isIntegerResource(name) && q.milliValue() % 1000n !== 0n) errs.push(invalid(path, q.toString(), "must be an integer"));
  return { q, errs };
}

/** ValidateResourceRequirements of one container at `path` (…resources). */
export function validateResourceRequirements(res: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const limPath = path.child("limits");
  const reqPath = path.child("requests");
  const limits = asObj(res.limits) ?? {};
  const requests = asObj(res.requests) ?? {};
  let limCPUOrMemory = false;
  let reqCPUOrMemory = false;
  let hugePages = false;
  const parsedLimits = new Map<string, Quantity>();
  for (const [name, raw] of Object.entries(limits)) {
    const p = limPath.key(name);
    errs.push(...validateResourceName(name, p));
    const { q, errs: qe } = validateQuantityValue(name, raw, p);
    errs.push(...qe);
    if (q) parsedLimits.set(name, q);
    if (isHugePages(name)) hugePages = true;
    if (name === "cpu" || name === "memory") limCPUOrMemory = true;
  }
  for (const [name, raw] of Object.entries(requests)) {
    const p = reqPath.key(name);
    errs.push(...validateResourceName(name, p));
    const { q, errs: qe } = validateQuantityValue(name, raw, p);
    errs.push(...qe);
    const limit = parsedLimits.get(name);
    if (q && limit) {
      if (q.cmp(limit) !== 0 && !isOvercommitAllowed(name)) {
        errs.push(invalid(reqPath, q.toString(), `must be equal to ${name} limit of ${limit.toString()}`));
      } else if (q.cmp(limit) > 0) {
        errs.push(invalid(reqPath, q.toString(), `must be less than or equal to ${name} limit of ${limit.toString()}`));
      }
    } else if (!(name in limits) && !isOvercommitAllowed(name)) {
      errs.push(required(limPath, "Limit must be set for non overcommitable resources"));
    }
    if (isHugePages(name)) hugePages = true;
    if (name === "cpu" || name === "memory") reqCPUOrMemory = true;
  }
  if (!limCPUOrMemory && !reqCPUOrMemory && hugePages) errs.push(forbidden(path, "HugePages require cpu or memory"));
  return errs;
}

/** Canonical quantities in every container's resources of a pod spec (and the pod overhead). */
export function canonicalizePodSpecQuantities(spec: Json): void {
  for (const list of [spec.containers, spec.initContainers, spec.ephemeralContainers]) {
    for (const c of objs(list)) {
      const res = asObj(c.resources);
      if (res) {
        canonicalizeQuantities(res.limits);
        canonicalizeQuantities(res.requests);
      }
      for (const e of objs(c.env)) canonicalizeQuantity(asObj(asObj(e.valueFrom)?.resourceFieldRef), "divisor");
    }
  }
  canonicalizeQuantities(spec.overhead);
  for (const v of objs(spec.volumes)) {
    canonicalizeQuantity(asObj(v.emptyDir), "sizeLimit");
    for (const item of objs(asObj(v.downwardAPI)?.items)) canonicalizeQuantity(asObj(item.resourceFieldRef), "divisor");
    const tmpl = asObj(asObj(v.ephemeral)?.volumeClaimTemplate);
    const res = asObj(asObj(tmpl?.spec)?.resources);
    if (res) {
      canonicalizeQuantities(res.requests);
      canonicalizeQuantities(res.limits);
    }
  }
}
