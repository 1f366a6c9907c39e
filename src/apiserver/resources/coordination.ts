// coordination.k8s.io/v1 leases: the heartbeat and leader-election objects. Upstream keeps no
// generation and no status for them, and a PUT may create one (AllowCreateOnUpdate), which is
// how client-go's lease lock first takes a lease it has never seen.
import { FieldPath, forbidden, invalid, notSupported, type FieldError } from "../../api/fielderrors.js";
import type { ResourceDefinition } from "../registry/types.js";
import { validateMeta, validateMetaUpdate } from "./common.js";
import { D } from "./descriptions.js";
import { ageColumn, column, nameColumn, since } from "./print.js";
import { asNum, asObj, asStr, creationOf, nameOf, type Json } from "./util.js";

const SPEC = FieldPath.of("spec");

function specOf(obj: Json): Json {
  return asObj(obj.spec) ?? {};
}

/**
 * The coordinated-leader-election fields (strategy, preferredHolder) belong to an alpha
 * feature that is off, so upstream drops them unless the stored lease already had them.
 */
function dropDisabledFields(lease: Json, old: Json | undefined): void {
  const spec = asObj(lease.spec);
  if (!spec) return;
  const oldSpec = old ? specOf(old) : {};
  if (oldSpec.strategy === undefined) delete spec.strategy;
  if (oldSpec.preferredHolder === undefined) delete spec.preferredHolder;
}

function validateLeaseSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const duration = asNum(spec.leaseDurationSeconds);
  if (duration !== undefined && duration <= 0) errs.push(invalid(SPEC.child("leaseDurationSeconds"), duration, "must be greater than 0"));
  const transitions = asNum(spec.leaseTransitions);
  if (transitions !== undefined && transitions < 0) errs.push(invalid(SPEC.child("leaseTransitions"), transitions, "must be greater than or equal to 0"));
  const strategy = spec.strategy;
  // A strategy without a domain prefix must be one Kubernetes defines.
  if (typeof strategy === "string" && !strategy.includes("/") && strategy !== "OldestEmulationVersion") {
    errs.push(notSupported(SPEC.child("strategy"), strategy, ["OldestEmulationVersion"]));
  }
  const preferred = asStr(spec.preferredHolder);
  if (preferred !== undefined && preferred !== "" && (strategy === undefined || strategy === null || strategy === "")) {
    errs.push(forbidden(SPEC.child("preferredHolder"), "may only be specified if `strategy` is defined"));
  }
  return errs;
}

export const leases: ResourceDefinition = {
  group: "coordination.k8s.io",
  version: "v1",
  kind: "Lease",
  plural: "leases",
  singular: "lease",
  namespaced: true,
  definition: "io.k8s.api.coordination.v1.Lease",
  strategy: {
    prepareForCreate: (obj) => dropDisabledFields(obj, undefined),
    prepareForUpdate: (obj, old) => dropDisabledFields(obj, old),
    validate: (obj) => [...validateMeta(obj, true), ...validateLeaseSpec(specOf(obj))],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateLeaseSpec(specOf(obj))],
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: true,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [nameColumn(), column("Holder", "string", D.leaseHolder), ageColumn],
    row: (obj, now) => [nameOf(obj), asStr(specOf(obj).holderIdentity) ?? "", since(creationOf(obj), now)],
  },
};

export const coordinationResources: readonly ResourceDefinition[] = [leases];
