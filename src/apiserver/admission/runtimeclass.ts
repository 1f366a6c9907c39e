// RuntimeClass (upstream admission plugin of the same name), on pod creates: a pod naming a
// RuntimeClass gets the class's fixed overhead as spec.overhead and the class's scheduling
// (node selector merged, a conflicting key refused; tolerations merged, the ones another
// covers dropped). A pod whose overhead differs from its class's, or that sets an overhead
// without a class that defines one, is refused: spec.overhead is for this plugin to set.
import { quantityOf } from "../../api/quantity.js";
import type { KubeObject } from "../registry/types.js";
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from "./types.js";

interface Toleration {
  readonly key?: string;
  readonly operator?: string;
  readonly value?: string;
  readonly effect?: string;
  readonly tolerationSeconds?: number | null;
}

type ResourceList = Readonly<Record<string, unknown>>;

interface RuntimeClassLike {
  readonly metadata?: { readonly deletionTimestamp?: string };
  readonly overhead?: { readonly podFixed?: ResourceList } | null;
  readonly scheduling?: { readonly nodeSelector?: Readonly<Record<string, string>> | null; readonly tolerations?: readonly Toleration[] | null } | null;
}

interface PodSpecLike {
  runtimeClassName?: string | null;
  overhead?: ResourceList | null;
  nodeSelector?: Record<string, string> | null;
  tolerations?: Toleration[] | null;
}

/** A RuntimeClass by name (the watch cache's copy, or the store's when the cache has none yet). */
export type RuntimeClassLookup = (name: string) => Promise<Readonly<KubeObject> | undefined>;

/** Same resources, same quantities (Semantic.DeepEqual of two ResourceLists). */
function sameResources(a: ResourceList | null | undefined, b: ResourceList | null | undefined): boolean {
  const ka = Object.keys(a ?? {});
  const kb = Object.keys(b ?? {});
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b ?? {}, k)) return false;
    const x = quantityOf(a?.[k]);
    const y = quantityOf(b?.[k]);
    if (!x || !y || x.cmp(y) !== 0) return false;
  }
  return true;
}

const nonEmpty = (list: ResourceList | null | undefined): boolean => Object.keys(list ?? {}).length > 0;

const sameToleration = (a: Toleration, b: Toleration): boolean =>
  (a.key ?? "") === (b.key ?? "") && (a.operator ?? "") === (b.operator ?? "") && (a.value ?? "") === (b.value ?? "") && (a.effect ?? "") === (b.effect ?? "") && (a.tolerationSeconds ?? null) === (b.tolerationSeconds ?? null);

/** Whether `ss` tolerates everything `t` tolerates (upstream's isSuperset in util/tolerations). */
export function toleratesSuperset(ss: Toleration, t: Toleration): boolean {
  if (sameToleration(ss, t)) return true;
  // An empty key with Exists matches every key.
  if ((t.key ?? "") !== (ss.key ?? "") && ((ss.key ?? "") !== "" || ss.operator !== "Exists")) return false;
  // An empty effect matches every effect.
  if ((t.effect ?? "") !== (ss.effect ?? "") && (ss.effect ?? "") !== "") return false;
  if (ss.effect === "NoExecute" && ss.tolerationSeconds !== undefined && ss.tolerationSeconds !== null) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null || t.tolerationSeconds > ss.tolerationSeconds) return false;
  }
  switch (ss.operator ?? "") {
    case "Equal":
    case "":
      return t.operator === "Equal" && (t.value ?? "") === (ss.value ?? "");
    case "Exists":
      return true;
    default:
      return false;
  }
}

/** Both lists in one, each toleration that another covers left out; of equal ones the first kept (upstream's MergeTolerations). */
export function mergeTolerations(first: readonly Toleration[], second: readonly Toleration[]): Toleration[] {
  const all = [...first, ...second];
  const merged: Toleration[] = [];
  all.forEach((t, i) => {
    if (merged.some((m) => toleratesSuperset(m, t))) return;
    if (all.slice(i + 1).some((later) => !sameToleration(t, later) && toleratesSuperset(later, t))) return;
    merged.push(t);
  });
  return merged;
}

/** The spec of a pod being created; undefined for every other write (the plugin looks at pod creates only). */
function createdPodSpec(a: AdmissionAttributes): PodSpecLike | undefined {
  if (a.operation !== "CREATE" || a.resource.group !== "" || a.resource.plural !== "pods" || a.subresource !== "") return undefined;
  const spec = (a.object as { spec?: PodSpecLike } | undefined)?.spec;
  return typeof spec === "object" && spec !== null ? spec : undefined;
}

/** The RuntimeClass the pod names, if it names one; a missing (or deleted) class refuses the pod. */
async function classOf(a: AdmissionAttributes, spec: PodSpecLike, lookup: RuntimeClassLookup): Promise<RuntimeClassLike | undefined> {
  const name = spec.runtimeClassName;
  if (name === undefined || name === null) return undefined;
  const rc = (await lookup(name)) as RuntimeClassLike | undefined;
  if (!rc || rc.metadata?.deletionTimestamp) throw admissionForbidden(a, `pod rejected: RuntimeClass "${name}" not found`);
  return rc;
}

const OVERHEAD_MISMATCH = "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead";

export function runtimeClassAdmission(lookup: RuntimeClassLookup): AdmissionPlugin {
  return {
    name: "RuntimeClass",
    async admit(a) {
      const spec = createdPodSpec(a);
      const rc = spec && (await classOf(a, spec, lookup));
      if (!spec || !rc) return;
      const fixed = rc.overhead?.podFixed;
      if (rc.overhead) {
        if (nonEmpty(spec.overhead) && !sameResources(fixed, spec.overhead)) throw admissionForbidden(a, OVERHEAD_MISMATCH);
        if (fixed) spec.overhead = { ...fixed };
        else delete spec.overhead;
      }
      const scheduling = rc.scheduling;
      if (!scheduling) return;
      const selector = { ...(spec.nodeSelector ?? {}) };
      for (const [key, value] of Object.entries(scheduling.nodeSelector ?? {})) {
        const podValue = spec.nodeSelector?.[key];
        if (podValue !== undefined && podValue !== value) throw admissionForbidden(a, `conflict: runtimeClass.scheduling.nodeSelector[${key}] = ${value}; pod.spec.nodeSelector[${key}] = ${podValue}`);
        selector[key] = value;
      }
      if (Object.keys(selector).length > 0) spec.nodeSelector = selector;
      const tolerations = mergeTolerations(spec.tolerations ?? [], scheduling.tolerations ?? []);
      if (tolerations.length > 0) spec.tolerations = tolerations;
    },
    // Only a pod that sets an overhead has anything to check, so only such a pod's class is read again.
    async validate(a) {
      const spec = createdPodSpec(a);
      if (!spec || !nonEmpty(spec.overhead)) return;
      const rc = await classOf(a, spec, lookup);
      if (!rc?.overhead) throw admissionForbidden(a, "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead");
      if (!sameResources(rc.overhead.podFixed, spec.overhead)) throw admissionForbidden(a, OVERHEAD_MISMATCH);
    },
  };
}
