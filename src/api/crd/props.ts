// The Kubernetes vendor extensions of a CRD schema node, which kubernetes-types' JSONSchemaProps
// does not declare.
import type { JSONSchemaProps } from "kubernetes-types/apiextensions/v1.js";

export interface ValidationRuleProps {
  rule?: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

export interface KubeExtensions {
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-map-type"?: string;
  "x-kubernetes-validations"?: ValidationRuleProps[];
}

/** The node's x-kubernetes-* extensions. */
export function ext(p: JSONSchemaProps): KubeExtensions {
  return p as KubeExtensions;
}
