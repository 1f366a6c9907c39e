// Resources served by handlers of their own rather than the generic store (reviews, bindings,
// component statuses, resource metrics): what discovery and OpenAPI list of them, and what a
// request's object of one is decoded against.
import type { SchemaTarget } from "../decode.js";

/** A resource served by a handler rather than the generic store (e.g. SelfSubjectAccessReview). */
export interface VirtualResource {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly shortNames?: readonly string[];
  /** Its OpenAPI definition, when not `io.k8s.api.<group's first label, or core>.<version>.<Kind>`. */
  readonly definition?: string;
}

/** A virtual resource's OpenAPI definition: its own, or `io.k8s.api.<group's first label, or core>.<version>.<Kind>`. */
export function virtualDefinition(v: VirtualResource): string {
  return v.definition ?? `io.k8s.api.${v.group === "" ? "core" : v.group.split(".")[0]}.${v.version}.${v.kind}`;
}

/** What a request's object of a virtual resource is decoded against. */
export function schemaTargetOf(v: VirtualResource): SchemaTarget {
  return { group: v.group, version: v.version, kind: v.kind, definition: virtualDefinition(v) };
}
