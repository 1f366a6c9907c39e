// Admission: plugins that see every write after decoding and defaulting. Mutating plugins may
// change the object; validating plugins only accept or reject. A plugin rejects by throwing a
// StatusError (upstream: admission.NewForbidden and friends).
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { forbidden, type StatusError } from "../status.js";

export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface AdmissionUser {
  readonly username: string;
  readonly groups: readonly string[];
}

export interface AdmissionAttributes {
  readonly operation: AdmissionOperation;
  readonly resource: ResourceDefinition;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
  /** The object being written (mutable in the mutating phase); absent on DELETE. */
  readonly object: KubeObject | undefined;
  readonly oldObject: KubeObject | undefined;
  readonly user: AdmissionUser;
  readonly dryRun: boolean;
  /** The response's Warning headers, when the request has them (upstream's warning.AddWarning). */
  readonly warnings?: string[];
}

export interface AdmissionPlugin {
  readonly name: string;
  /** Mutating phase. */
  admit?(attrs: AdmissionAttributes): Promise<void> | void;
  /** Validating phase. */
  validate?(attrs: AdmissionAttributes): Promise<void> | void;
}

export class AdmissionChain {
  constructor(private readonly plugins: readonly AdmissionPlugin[]) {}

  async admit(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.admit) await p.admit(attrs);
  }

  async validate(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.validate) await p.validate(attrs);
  }
}

/**
 * A plugin's refusal, as upstream's admission.NewForbidden words it: `pods "p" is forbidden:
 * <why>`, naming the object, or its generateName before a name is made.
 */
export function admissionForbidden(a: AdmissionAttributes, why: string): StatusError {
  const meta = a.object?.metadata;
  const name = a.name || meta?.name || meta?.generateName || "Unknown";
  const resource = a.resource.group ? `${a.resource.plural}.${a.resource.group}` : a.resource.plural;
  return forbidden(`${resource} "${name}" is forbidden: ${why}`, { group: a.resource.group, resource: a.resource.plural }, name);
}
