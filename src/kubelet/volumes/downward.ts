// Downward API values as upstream's kubelet renders them into files (pkg/fieldpath and
// pkg/api/v1/resource): fieldRef on the pod's metadata, resourceFieldRef on one container's
// requests and limits.
import { statfsSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { Container, ObjectFieldSelector, Pod, ResourceFieldSelector } from "kubernetes-types/core/v1.js";
import { goQuote } from "../../api/fielderrors.js";
import { Quantity } from "../../api/quantity.js";
import { podContainer } from "../../api/containers.js";

/** A fieldRef or resourceFieldRef that cannot be resolved; the message is upstream's. */
export class DownwardApiError extends Error {
  override readonly name = "DownwardApiError";
}

/** `k="v"` lines sorted by key, no trailing newline (upstream's fieldpath.FormatMap). */
export function formatMap(m: Readonly<Record<string, string>> | undefined): string {
  if (!m) return "";
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${goQuote(m[k]!)}`)
    .join("\n");
}

/** `metadata.labels['app']` → ["metadata.labels", "app"] (upstream's SplitMaybeSubscriptedPath). */
function splitSubscript(path: string): [string, string | undefined] {
  const m = /^(.*)\['(.*)'\]$/.exec(path);
  return m ? [m[1]!, m[2]!] : [path, undefined];
}

/** The value of a fieldRef in a downwardAPI volume (metadata fields only, as upstream allows there). */
export function fieldRefValue(pod: Pod, ref: ObjectFieldSelector): string {
  const [path, subscript] = splitSubscript(ref.fieldPath);
  const md = pod.metadata ?? {};
  if (subscript !== undefined) {
    if (path === "metadata.labels") return md.labels?.[subscript] ?? "";
    if (path === "metadata.annotations") return md.annotations?.[subscript] ?? "";
    throw new DownwardApiError(`fieldPath ${JSON.stringify(ref.fieldPath)} does not support subscript`);
  }
  switch (path) {
    case "metadata.annotations":
      return formatMap(md.annotations);
    case "metadata.labels":
      return formatMap(md.labels);
    case "metadata.name":
      return md.name ?? "";
    case "metadata.namespace":
      return md.namespace ?? "";
    case "metadata.uid":
      return md.uid ?? "";
    default:
      throw new DownwardApiError(`unsupported fieldPath: ${ref.fieldPath}`);
  }
}

/** What a container's unset limits default to: the node's allocatable resources. */
export type NodeAllocatable = Readonly<Record<string, Quantity>>;

/**
 * The node's allocatable amounts as resourceFieldRef sees them, approximated by the host's
 * capacity: CPUs, memory, and the size of the filesystem of `root` (else /).
 */
export function hostAllocatable(root: string): NodeAllocatable {
  let storage = 0;
  for (const p of [root, "/"]) {
    try {
      const s = statfsSync(p);
      storage = s.blocks * s.bsize;
      break;
    } catch {
      // try the next
    }
  }
  return {
    cpu: Quantity.fromInt(cpus().length, "DecimalSI"),
    memory: Quantity.fromInt(totalmem(), "BinarySI"),
    "ephemeral-storage": Quantity.fromInt(storage, "BinarySI"),
  };
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b === a || a < 0n !== b < 0n ? q : q + 1n;
}

function quantityOf(v: string | number | undefined): Quantity | undefined {
  if (v === undefined) return undefined;
  return Quantity.parse(String(v));
}

/**
 * The value of a resourceFieldRef: the container's request or limit divided by the divisor,
 * rounded up. An unset limit is the node's allocatable amount, as upstream's
 * MergeContainerResourceLimits makes it; an unset request is 0.
 */
export function resourceFieldRefValue(pod: Pod, ref: ResourceFieldSelector, allocatable: NodeAllocatable): string {
  const c = podContainer(pod.spec, ref.containerName);
  if (!c) throw new DownwardApiError(`container ${ref.containerName ?? ""} not found`);
  return containerResourceValue(c, ref, allocatable);
}

/** resourceFieldRefValue for a container already found. */
export function containerResourceValue(c: Container, ref: ResourceFieldSelector, allocatable: NodeAllocatable): string {
  const dot = ref.resource.indexOf(".");
  const kind = ref.resource.slice(0, dot);
  const name = ref.resource.slice(dot + 1);
  const supported = dot > 0 && (kind === "limits" || kind === "requests") && (name === "cpu" || name === "memory" || name === "ephemeral-storage" || name.startsWith("hugepages-"));
  if (!supported) throw new DownwardApiError(`unsupported container resource : ${ref.resource}`);
  let divisor = quantityOf(ref.divisor);
  if (!divisor || divisor.isZero()) divisor = Quantity.fromInt(1, "DecimalSI");
  let q = quantityOf((kind === "limits" ? c.resources?.limits : c.resources?.requests)?.[name]);
  // upstream's MergeContainerResourceLimits: an unset or zero limit is the node's allocatable.
  if ((q === undefined || q.isZero()) && kind === "limits") q = allocatable[name] ?? q;
  q ??= Quantity.zero();
  const value = name === "cpu" ? ceilDiv(q.milliValue(), divisor.milliValue()) : ceilDiv(q.value(), divisor.value());
  return value.toString();
}
