// The ReplicaSet and ReplicationController controllers: one implementation, two kinds.
import type { ControllerFactory } from "../context.js";
import { newReplicaController } from "./controller.js";
import { REPLICATION_CONTROLLER, REPLICA_SET } from "./kinds.js";

export const replicaSetController: ControllerFactory = (ctx) => newReplicaController(ctx, REPLICA_SET);
export const replicationControllerController: ControllerFactory = (ctx) => newReplicaController(ctx, REPLICATION_CONTROLLER);

export { newReplicaController, ReplicaEventHandlers, type SyncingController, type ReplicaControllerOptions } from "./controller.js";
export { ReplicaSyncer, slowStartBatch, BURST_REPLICAS, type ReplicaCaches, type ReplicaSyncDeps } from "./sync.js";
export { REPLICA_SET, REPLICATION_CONTROLLER, type ReplicaKind, type ReplicaObject, type ReplicaStatus } from "./kinds.js";
export { Expectations } from "./expectations.js";
export { WorkloadError, isWorkloadError, type WorkloadErrorCode } from "./errors.js";
