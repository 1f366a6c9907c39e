// The two kinds one controller serves: apps/v1 ReplicaSets and v1 ReplicationControllers have
// the same spec and status shapes and differ only in how the selector is written (a
// metav1.LabelSelector with set-based expressions, or a plain equality map). Upstream runs the
// ReplicaSet controller over RCs through a conversion layer; here the kind is a parameter.
import type { PodTemplateSpec } from "kubernetes-types/core/v1.js";
import type { ReplicaSet } from "kubernetes-types/apps/v1.js";
import type { ReplicationController } from "kubernetes-types/core/v1.js";
import { LabelSelectorError, labelSelectorAsSelector, selectorFromSet, type Selector } from "../../api/labels.js";
import type { DeepReadonly, KubeObject } from "../../client/objects.js";
import { WorkloadError } from "./errors.js";

export interface ReplicaCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaCondition[];
}

/** What the controller reads of either kind. */
export interface ReplicaObject extends KubeObject {
  spec?: { replicas?: number; minReadySeconds?: number; template?: PodTemplateSpec };
  status?: ReplicaStatus;
}

export type RReplica = DeepReadonly<ReplicaObject>;

export interface ReplicaKind {
  readonly kind: "ReplicaSet" | "ReplicationController";
  readonly apiVersion: string;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  /** The controller's name in logs and metrics. */
  readonly controllerName: string;
  /** The pod selector; throws WorkloadError InvalidSelector. */
  selector(obj: RReplica): Selector;
}

function convert(obj: RReplica, fn: () => Selector): Selector {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LabelSelectorError) throw new WorkloadError("InvalidSelector", `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}: ${err.message}`, { cause: err });
    throw err;
  }
}

export const REPLICA_SET: ReplicaKind = {
  kind: "ReplicaSet",
  apiVersion: "apps/v1",
  group: "apps",
  version: "v1",
  plural: "replicasets",
  controllerName: "replicaset",
  selector: (obj) => convert(obj, () => labelSelectorAsSelector((obj as DeepReadonly<ReplicaSet>).spec?.selector as Parameters<typeof labelSelectorAsSelector>[0])),
};

export const REPLICATION_CONTROLLER: ReplicaKind = {
  kind: "ReplicationController",
  apiVersion: "v1",
  group: "",
  version: "v1",
  plural: "replicationcontrollers",
  controllerName: "replicationcontroller",
  // An RC's selector is an equality map; the server defaults an empty one to the template's labels.
  selector: (obj) => convert(obj, () => selectorFromSet((obj as DeepReadonly<ReplicationController>).spec?.selector)),
};

export function desiredReplicas(obj: RReplica): number {
  return obj.spec?.replicas ?? 1;
}
