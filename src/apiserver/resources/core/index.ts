// core/v1: every kind of the legacy API group.
import type { ResourceDefinition } from "../../registry/types.js";
import { configMaps, endpoints, secrets, serviceAccounts } from "./config.js";
import { coreEvents } from "./event.js";
import { namespaces, nodes } from "./namespace-node.js";
import { limitRanges, persistentVolumeClaims, persistentVolumes, podTemplates, replicationControllers, resourceQuotas } from "./other.js";
import { pods } from "./pod.js";
import { services } from "./service.js";

export const coreResources: readonly ResourceDefinition[] = [
  configMaps,
  endpoints,
  coreEvents,
  limitRanges,
  namespaces,
  nodes,
  persistentVolumeClaims,
  persistentVolumes,
  pods,
  podTemplates,
  replicationControllers,
  resourceQuotas,
  secrets,
  serviceAccounts,
  services,
];
