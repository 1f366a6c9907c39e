// Finding a pod's container by name, as the kubelet does for downward API references, probes,
// hooks, attach and exec: regular containers first, then init containers, then (when asked)
// ephemeral ones. Names are unique across all three (API validation), so the order only
// decides which kind is looked at first.
import type { Container, EphemeralContainer, PodSpec } from "kubernetes-types/core/v1.js";

/** The regular or init container `name` of the pod spec. */
export function podContainer(spec: Readonly<PodSpec> | undefined, name: string | undefined): Container | undefined;
/** The regular, init or ephemeral container `name` of the pod spec. */
export function podContainer(spec: Readonly<PodSpec> | undefined, name: string | undefined, withEphemeral: true): Container | EphemeralContainer | undefined;
export function podContainer(spec: Readonly<PodSpec> | undefined, name: string | undefined, withEphemeral = false): Container | EphemeralContainer | undefined {
  if (spec === undefined || name === undefined) return undefined;
  const named = (c: { readonly name: string }): boolean => c.name === name;
  return spec.containers?.find(named) ?? spec.initContainers?.find(named) ?? (withEphemeral ? spec.ephemeralContainers?.find(named) : undefined);
}
