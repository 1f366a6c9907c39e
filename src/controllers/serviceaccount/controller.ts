// The ServiceAccount controller (upstream pkg/controller/serviceaccount/serviceaccounts_controller.go):
// every active namespace has a `default` ServiceAccount, and gets it back if it is deleted.
// Keys are namespace names: a namespace appearing or changing, and one of the managed
// ServiceAccounts disappearing, both enqueue the namespace.
import type { Namespace, ServiceAccount } from "kubernetes-types/core/v1.js";
import { runController } from "../../client/controller.js";
import { isAlreadyExists, isForbidden, isNamespaceTerminating, isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import { DeletedFinalStateUnknown, type DeepReadonly } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { Controller, ControllerContext } from "../context.js";
import type { Api } from "../api.js";

export const SERVICE_ACCOUNT_CONTROLLER = "serviceaccount-controller";

/** The ServiceAccounts every namespace gets (upstream's --service-account-names default). */
export const DEFAULT_SERVICE_ACCOUNTS: readonly string[] = ["default"];

export interface ServiceAccountsControllerDeps {
  readonly api: Api;
  readonly namespaces: Lister<Namespace>;
  readonly serviceAccounts: Lister<ServiceAccount>;
  readonly log: Logger;
  readonly names?: readonly string[];
}

export class ServiceAccountsController {
  readonly queue = new WorkQueue<string>();
  private readonly names: readonly string[];

  constructor(private readonly d: ServiceAccountsControllerDeps) {
    this.names = d.names ?? DEFAULT_SERVICE_ACCOUNTS;
  }

  namespaceChanged(ns: DeepReadonly<Namespace>): void {
    if (ns.metadata?.name) this.queue.add(ns.metadata.name);
  }

  serviceAccountDeleted(sa: DeepReadonly<ServiceAccount> | DeletedFinalStateUnknown<ServiceAccount>): void {
    const obj = sa instanceof DeletedFinalStateUnknown ? sa.obj : sa;
    const name = obj.metadata?.name ?? "";
    const ns = obj.metadata?.namespace;
    if (ns && this.names.includes(name)) this.queue.add(ns);
  }

  /** Creates the managed ServiceAccounts the namespace lacks. */
  async sync(key: string, _signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const ns = this.d.namespaces.get(key);
    // Terminating namespaces refuse creates; a gone one needs nothing.
    if (!ns || ns.status?.phase !== "Active") return;
    for (const name of this.names) {
      if (this.d.serviceAccounts.get(`${key}/${name}`)) continue;
      const sa: ServiceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: key } };
      try {
        await this.d.api.resource<ServiceAccount>("", "v1", "serviceaccounts").namespace(key).create(sa);
        log.info({ serviceAccount: `${key}/${name}` }, "created service account");
      } catch (err) {
        // Already there (the cache lags), or the namespace started terminating meanwhile.
        if (isAlreadyExists(err) || isNotFound(err) || (isForbidden(err) && isNamespaceTerminating(err))) continue;
        throw err;
      }
    }
  }
}

/** NamespaceLifecycle's refusal carries the cause NamespaceTerminating (upstream's HasStatusCause test). */
export function serviceAccountsController(ctx: ControllerContext): Controller {
  const namespaces = ctx.informers.forKind("v1", "Namespace");
  const serviceAccounts = ctx.informers.forKind("v1", "ServiceAccount");
  const log = ctx.log.child({ controller: SERVICE_ACCOUNT_CONTROLLER });
  const c = new ServiceAccountsController({ api: ctx.client, namespaces: namespaces.lister, serviceAccounts: serviceAccounts.lister, log });
  namespaces.addEventHandler({ onAdd: (ns) => c.namespaceChanged(ns), onUpdate: (_old, ns) => c.namespaceChanged(ns) });
  serviceAccounts.addEventHandler({ onDelete: (sa) => c.serviceAccountDeleted(sa) });
  return {
    name: SERVICE_ACCOUNT_CONTROLLER,
    async run(signal, workers) {
      if (!(await namespaces.waitForSync(signal)) || !(await serviceAccounts.waitForSync(signal))) return;
      await runController({ name: SERVICE_ACCOUNT_CONTROLLER, queue: c.queue, workers, sync: (key, s, l) => c.sync(key, s, l), log: ctx.log, signal, metrics: ctx.metrics });
    },
  };
}
