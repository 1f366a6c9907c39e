// Reconciling the bootstrap policy at every start (upstream's rbac/bootstrap-roles post-start
// hook): missing roles and bindings are created.
import type { KubeObject } from "../registry/types.js";
import type { ResourceStore } from "../rest/store.js";
import { StatusError } from "../status.js";
import { SYSTEM_USER } from "../bootstrap.js";
import type { Logger } from "../../util/log.js";
import { bootstrapPolicy } from "./policy.js";

export interface RbacStores {
  readonly roles: ResourceStore;
  readonly clusterRoles: ResourceStore;
  readonly roleBindings: ResourceStore;
  readonly clusterRoleBindings: ResourceStore;
}

async function ensure(store: ResourceStore, obj: KubeObject): Promise<void> {
  try {
    await store.create(structuredClone(obj), { namespace: obj.metadata?.namespace ?? "", user: SYSTEM_USER, now: new Date(), dryRun: false });
  } catch (err) {
    if (err instanceof StatusError && err.code === 409) return;
    throw err;
  }
}

export async function reconcileBootstrapPolicy(stores: RbacStores, _log: Logger): Promise<void> {
  const p = bootstrapPolicy();
  for (const r of p.clusterRoles) await ensure(stores.clusterRoles, r as unknown as KubeObject);
  for (const r of p.roles) await ensure(stores.roles, r as unknown as KubeObject);
  for (const b of p.clusterRoleBindings) await ensure(stores.clusterRoleBindings, b as unknown as KubeObject);
  for (const b of p.roleBindings) await ensure(stores.roleBindings, b as unknown as KubeObject);
}
