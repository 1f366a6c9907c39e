// Every built-in resource the API server serves. Groups come in upstream's discovery order
// (core first, then apps, events.k8s.io, autoscaling, batch, certificates.k8s.io, networking.k8s.io, policy, rbac,
// storage, admissionregistration, apiextensions, scheduling, coordination, node, discovery — the
// order of /apis on a real cluster), and within a group-version resources are sorted by name as
// upstream's discovery lists them.
import type { ResourceDefinition } from "../registry/types.js";
import { admissionRegistrationResources } from "./admissionregistration.js";
import { appsResources } from "./apps.js";
import { hpaV1, hpaV2 } from "./autoscaling.js";
import { batchResources } from "./batch.js";
import { certificatesResources } from "./certificates.js";
import { leases } from "./coordination.js";
import { eventsV1 } from "./core/event.js";
import { coreResources } from "./core/index.js";
import { endpointSlices } from "./discovery.js";
import { networkingResources } from "./networking.js";
import { runtimeClasses } from "./node.js";
import { podDisruptionBudgets } from "./policy.js";
import { rbacResources } from "./rbac.js";
import { priorityClasses } from "./scheduling.js";
import { csiResources } from "./csi.js";
import { storageClasses } from "./storage.js";
import { customResourceDefinitions } from "../crd/definition.js";

function byName(defs: readonly ResourceDefinition[]): ResourceDefinition[] {
  return [...defs].sort((a, b) => (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0));
}

export function builtinResources(): readonly ResourceDefinition[] {
  return [
    ...byName(coreResources),
    ...byName(appsResources),
    eventsV1,
    // autoscaling/v2 is the preferred version and comes first, as upstream lists it.
    hpaV2,
    hpaV1,
    ...byName(batchResources),
    ...byName(certificatesResources),
    ...byName(networkingResources),
    podDisruptionBudgets,
    ...byName(rbacResources),
    ...byName([storageClasses, ...csiResources]),
    ...byName(admissionRegistrationResources),
    customResourceDefinitions,
    priorityClasses,
    leases,
    runtimeClasses,
    endpointSlices,
  ];
}
