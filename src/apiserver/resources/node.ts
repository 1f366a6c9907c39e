// node.k8s.io/v1 runtime classes: which CRI handler runs a pod's containers (the pod names its
// class in spec.runtimeClassName), the overhead a pod of the class costs on top of its
// containers, and where such pods may run. Cluster-scoped; the handler is a DNS label and
// immutable. The RuntimeClass admission plugin applies a class to the pods that name it.
import { duplicate, FieldPath, type FieldError } from "../../api/fielderrors.js";
import { validateLabels } from "../../api/validation.js";
import type { ResourceDefinition } from "../registry/types.js";
import { dns1123Label, immutable, validateMeta, validateMetaUpdate } from "./common.js";
import { validateTolerations } from "./core/podspec-validation.js";
import { canonicalizeQuantities, validateResourceRequirements } from "./core/resources.js";
import { D } from "./descriptions.js";
import { ageColumn, column, nameColumn, since } from "./print.js";
import { asObj, asStr, creationOf, nameOf, objs, strMap, type Json } from "./util.js";

function validateScheduling(scheduling: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (scheduling.nodeSelector !== undefined && scheduling.nodeSelector !== null) errs.push(...validateLabels(strMap(scheduling.nodeSelector), path.child("nodeSelector")));
  const tolerationsPath = path.child("tolerations");
  errs.push(...validateTolerations(scheduling.tolerations, tolerationsPath));
  // Each toleration once, by the fields that identify it (not tolerationSeconds).
  const seen = new Set<string>();
  objs(scheduling.tolerations).forEach((t, i) => {
    const id = JSON.stringify([asStr(t.key) ?? "", asStr(t.operator) ?? "", asStr(t.value) ?? "", asStr(t.effect) ?? ""]);
    if (seen.has(id)) errs.push(duplicate(tolerationsPath.index(i), t));
    else seen.add(id);
  });
  return errs;
}

function validateRuntimeClass(rc: Json): FieldError[] {
  const errs = validateMeta(rc, false);
  const handler = asStr(rc.handler) ?? "";
  errs.push(...dns1123Label(handler, FieldPath.of("handler")));
  const overhead = asObj(rc.overhead);
  // As upstream: the fixed overhead is checked as a container's limits would be.
  if (overhead) errs.push(...validateResourceRequirements({ limits: overhead.podFixed }, FieldPath.of("overhead")));
  const scheduling = asObj(rc.scheduling);
  if (scheduling) errs.push(...validateScheduling(scheduling, FieldPath.of("scheduling")));
  return errs;
}

export const runtimeClasses: ResourceDefinition = {
  group: "node.k8s.io",
  version: "v1",
  kind: "RuntimeClass",
  plural: "runtimeclasses",
  singular: "runtimeclass",
  namespaced: false,
  definition: "io.k8s.api.node.v1.RuntimeClass",
  strategy: {
    // Quantities are stored in canonical form, as upstream's decoding leaves them ("0.1" → "100m").
    defaults: (rc) => canonicalizeQuantities(asObj(rc.overhead)?.podFixed),
    validate: validateRuntimeClass,
    // Upstream validates the whole object again on update, then the update rules.
    validateUpdate: (rc, old) => [...validateRuntimeClass(rc), ...validateMetaUpdate(rc, old), ...immutable(rc.handler, old.handler, FieldPath.of("handler"))],
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [nameColumn(), column("Handler", "string", D.rcHandler), ageColumn],
    row: (rc, now) => [nameOf(rc), asStr(rc.handler) ?? "", since(creationOf(rc), now)],
  },
};
