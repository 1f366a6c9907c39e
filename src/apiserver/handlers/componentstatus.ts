// core/v1 ComponentStatus (`kubectl get componentstatuses`, `kubectl get cs`): the health of the
// control plane's parts, made on request and never stored. Upstream probes the scheduler's and
// the controller-manager's /healthz on 127.0.0.1 and each etcd server. A k8ts scheduler or
// controller-manager may run in `k8ts server` (which serves no health port for them) or in a
// process of its own, here or on another machine; what every running one does is hold its
// leader-election Lease in kube-system. So a component is healthy when its Lease has a holder
// that renewed it within the lease's duration, and the store when it answers a read within two
// seconds. Upstream deprecated the API in 1.19 and still serves it, with a warning; so does
// this. Read-only (get, list; selectors ignored, as upstream); no watch.
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { ComponentCondition, ComponentStatus } from "kubernetes-types/core/v1.js";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { sendJSON, type HttpContext } from "../http.js";
import { answerShape, buildTable } from "../table.js";
import type { VirtualResource } from "./virtual.js";
import { notFoundResource } from "./rest.js";
import * as status from "../status.js";
import { column, humanDuration, nameColumn } from "../resources/print.js";
import { goDuration } from "../../util/time.js";
import { parseStoreUrl } from "../../storage/index.js";

export const componentStatusResource: VirtualResource = {
  group: "",
  version: "v1",
  kind: "ComponentStatus",
  plural: "componentstatuses",
  singular: "componentstatus",
  namespaced: false,
  verbs: ["get", "list"],
  shortNames: ["cs"],
  definition: "io.k8s.api.core.v1.ComponentStatus",
};

export const COMPONENT_STATUS_DEPRECATION = "v1 ComponentStatus is deprecated in v1.19+";

/** One part's health: healthy with a message, or not with an error. */
export type Health = { readonly healthy: true; readonly message: string } | { readonly healthy: false; readonly error: string };

export interface ComponentCheck {
  readonly name: string;
  readonly check: () => Promise<Health>;
}

/** Healthy when the Lease `namespace/name` has a holder who renewed it within its duration. */
export function leaseHealth(lease: Readonly<Lease> | undefined, ref: string, component: string, now: number): Health {
  if (!lease) return { healthy: false, error: `no ${component} has taken the Lease ${ref}: none runs, or it runs without leader election` };
  const spec = lease.spec;
  if (!spec?.holderIdentity) return { healthy: false, error: `the Lease ${ref} has no holder: the last ${component} released it` };
  const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? "");
  const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
  if (Number.isNaN(renewed)) return { healthy: false, error: `the Lease ${ref} held by ${spec.holderIdentity} has no renewTime` };
  if (renewed + durationMs < now) {
    return { healthy: false, error: `the Lease ${ref} held by ${spec.holderIdentity} was last renewed ${humanDuration(now - renewed)} ago; it lasts ${humanDuration(durationMs)}` };
  }
  return { healthy: true, message: "ok" };
}

/** The store's entry: etcd-0 for etcd, as upstream names its first etcd server; else the backend's name. */
export function storeComponentName(storeUrl: string): string {
  const { backend } = parseStoreUrl(storeUrl);
  return backend === "etcd" ? "etcd-0" : backend;
}

/** Healthy when `read` answers within `timeoutMs`. */
export async function storeHealth(read: () => Promise<unknown>, timeoutMs = 2000): Promise<Health> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${goDuration(timeoutMs)}`)), timeoutMs);
  });
  try {
    await Promise.race([read(), timeout]);
    return { healthy: true, message: "ok" };
  } catch (err) {
    return { healthy: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

function componentStatusOf(name: string, h: Health): ComponentStatus & KubeObject {
  const condition: ComponentCondition = h.healthy ? { type: "Healthy", status: "True", message: h.message } : { type: "Healthy", status: "False", error: h.error };
  return { kind: "ComponentStatus", apiVersion: "v1", metadata: { name, creationTimestamp: null as unknown as string }, conditions: [condition] };
}

/** Upstream's printer: NAME STATUS MESSAGE ERROR, STATUS from the Healthy condition. */
const printed: Pick<ResourceDefinition, "table"> = {
  table: {
    columns: [nameColumn(), column("Status", "string", "Status of the component conditions"), column("Message", "string", "Message of the component conditions"), column("Error", "string", "Error of the component conditions")],
    row: (o) => {
      const c = ((o as ComponentStatus).conditions ?? []).find((x) => x.type === "Healthy");
      const state = !c ? "Unknown" : c.status === "True" ? "Healthy" : "Unhealthy";
      return [o.metadata?.name ?? "", state, c?.message ?? "", c?.error ?? ""];
    },
  },
};

/** Serves core/v1 componentstatuses; false for any other request. */
export function componentStatusApi(checks: readonly ComponentCheck[]): (ctx: HttpContext) => Promise<boolean> {
  const gr = { group: "", resource: componentStatusResource.plural };
  return async (ctx) => {
    const i = ctx.info;
    if (!i.isResourceRequest || i.apiGroup !== "" || i.apiVersion !== "v1" || i.resource !== componentStatusResource.plural) return false;
    // Cluster-scoped, without subresources: any other path is not one this API serves.
    if (i.namespace !== "" || i.subresource !== "") throw notFoundResource();
    if (i.verb !== "get" && i.verb !== "list") throw status.methodNotSupported(gr, i.verb);
    const { rendering, include } = answerShape(ctx);
    const table = rendering === "table";
    ctx.warnings.push(COMPONENT_STATUS_DEPRECATION);
    const wanted = checks.filter((c) => i.verb === "list" || c.name === i.name);
    if (i.verb === "get" && wanted.length === 0) throw status.notFound(gr, i.name);
    const items = await Promise.all(wanted.map(async (c) => componentStatusOf(c.name, await c.check())));
    if (i.verb === "get") sendJSON(ctx, 200, table ? buildTable(printed, items, {}, include) : items[0]);
    else sendJSON(ctx, 200, table ? buildTable(printed, items, {}, include) : { kind: "ComponentStatusList", apiVersion: "v1", metadata: {}, items });
    return true;
  };
}
