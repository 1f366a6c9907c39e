// The Endpoints controller (upstream pkg/controller/endpoint): every Service with a selector
// gets an Endpoints object of the same name listing the selected pods that have an address —
// ready ones (or all, with publishNotReadyAddresses) under `addresses`, the others under
// `notReadyAddresses` — per service port, with named target ports resolved on each pod (a pod
// without the port gets no address for it; a Warning event on the Service says so). Services
// without a selector are the user's to fill; a deleted Service takes its Endpoints along.
import type { EndpointAddress, EndpointPort, Endpoints, Pod, Service } from "kubernetes-types/core/v1.js";
import { runController } from "../../client/controller.js";
import { isAlreadyExists, isConflict, isForbidden, isNotFound, type ApiError } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import { DeletedFinalStateUnknown, finalStateOf, keyOf, splitKey, type DeepReadonly } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { Controller, ControllerContext, EventSink } from "../context.js";
import type { Api } from "../api.js";
import { findPort, podEndpointsChanged, podIPOfFamily, serviceFamily, serviceSelector, servicesSelecting, shouldPodBeInEndpoints, shouldSetHostname, isPodReady, type RPod, type RService } from "./podutil.js";
import { jsonEqual } from "../../util/json.js";
import { OVER_CAPACITY_ANNOTATION, repackSubsets, truncateSubsets, type AddressEntry } from "./subsets.js";

export const ENDPOINTS_CONTROLLER = "endpoints-controller";
export const HEADLESS_LABEL = "service.kubernetes.io/headless";

export interface EndpointsControllerDeps {
  readonly api: Api;
  readonly services: Lister<Service>;
  readonly pods: Lister<Pod>;
  readonly endpoints: Lister<Endpoints>;
  readonly events: EventSink;
  readonly log: Logger;
}

/** A service IP is set: not headless (upstream helper.IsServiceIPSet). */
function isServiceIPSet(svc: RService): boolean {
  const ip = svc.spec?.clusterIP;
  return ip !== undefined && ip !== "" && ip !== "None";
}

export interface DesiredEndpoints {
  readonly subsets: Endpoints["subsets"];
  /** Pods (by name) that lack a named target port, per service port name. */
  readonly missingPorts: ReadonlyMap<string, readonly string[]>;
}

/** The subsets a service's Endpoints should have, from the pods it selects (pure: easy to test). */
export function desiredEndpoints(svc: RService, pods: readonly RPod[]): DesiredEndpoints {
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const family = serviceFamily(svc);
  const ports = svc.spec?.ports ?? [];
  const entries: AddressEntry[] = [];
  const missing = new Map<string, string[]>();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ip = podIPOfFamily(pod, family);
    if (!ip) continue;
    const address: EndpointAddress = {
      ip,
      ...(shouldSetHostname(pod, svc) ? { hostname: pod.spec!.hostname! } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: "Pod", namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" },
    };
    const ready = publishNotReady || isPodReady(pod);
    // A headless service may have no ports: its addresses are published without any.
    if (ports.length === 0) {
      if (svc.spec?.clusterIP === "None") entries.push({ address, port: undefined, ready });
      continue;
    }
    for (const sp of ports) {
      const num = findPort(pod, sp);
      if (num === undefined) {
        const name = sp.name ?? "";
        missing.set(name, [...(missing.get(name) ?? []), pod.metadata?.name ?? ""]);
        continue;
      }
      const port: EndpointPort = { ...(sp.name ? { name: sp.name } : {}), port: num, protocol: sp.protocol ?? "TCP", ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) };
      entries.push({ address, port, ready });
    }
  }
  return { subsets: repackSubsets(entries), missingPorts: missing };
}

export class EndpointsController {
  readonly queue = new WorkQueue<string>();
  /** The last missing-port report per service, so that an unchanged situation is reported once. */
  private readonly reported = new Map<string, string>();

  constructor(private readonly d: EndpointsControllerDeps) {}

  serviceChanged(svc: RService | DeletedFinalStateUnknown<Service>): void {
    this.queue.add(keyOf(svc instanceof DeletedFinalStateUnknown ? svc : (svc as DeepReadonly<Service>)));
  }

  private enqueueForPod(pod: RPod): void {
    const ns = pod.metadata?.namespace ?? "";
    for (const key of servicesSelecting(this.d.services.namespace(ns).list(), pod.metadata?.labels)) this.queue.add(key);
  }

  podAdded(pod: RPod): void {
    this.enqueueForPod(pod);
  }

  podUpdated(old: RPod, cur: RPod): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    const { changed, labelsChanged } = podEndpointsChanged(old, cur);
    if (!changed) return;
    this.enqueueForPod(cur);
    if (labelsChanged) this.enqueueForPod(old);
  }

  podDeleted(pod: RPod | DeletedFinalStateUnknown<Pod>): void {
    this.enqueueForPod(finalStateOf(pod));
  }

  /** Endpoints deleted by someone else are recreated if the service still wants them. */
  endpointsDeleted(ep: DeepReadonly<Endpoints> | DeletedFinalStateUnknown<Endpoints>): void {
    this.queue.add(keyOf(ep instanceof DeletedFinalStateUnknown ? ep : (ep as DeepReadonly<Endpoints>)));
  }

  async sync(key: string, _signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const { namespace, name } = splitKey(key);
    const endpointsApi = this.d.api.resource<Endpoints>("", "v1", "endpoints").namespace(namespace);
    const svc = this.d.services.get(key);
    if (!svc) {
      this.reported.delete(key);
      try {
        await endpointsApi.delete(name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    // ExternalName services and services without a selector get no endpoints from here.
    if (svc.spec?.type === "ExternalName") return;
    const selector = serviceSelector(svc);
    if (!selector) return;

    const pods = this.d.pods.namespace(namespace).list(selector);
    const { subsets, missingPorts } = desiredEndpoints(svc, pods);
    this.reportMissingPorts(key, svc, missingPorts);

    const current = this.d.endpoints.get(key);
    const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
    if (isServiceIPSet(svc)) delete labels[HEADLESS_LABEL];
    else labels[HEADLESS_LABEL] = "";
    // No labels at all rather than `labels: {}`, as upstream's (an empty map is omitted from Go's JSON).
    const next: Endpoints = { apiVersion: "v1", kind: "Endpoints", metadata: { name, namespace, ...(Object.keys(labels).length > 0 ? { labels } : {}) }, subsets: [...(subsets ?? [])] };
    const truncated = truncateSubsets(next.subsets as NonNullable<Endpoints["subsets"]>);

    if (current) {
      const annotations: Record<string, string> = { ...(current.metadata?.annotations ?? {}) };
      if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = "truncated";
      else delete annotations[OVER_CAPACITY_ANNOTATION];
      if (jsonEqual(current.subsets ?? [], next.subsets) && jsonEqual(current.metadata?.labels ?? {}, labels) && jsonEqual(current.metadata?.annotations ?? {}, annotations)) return;
      const updated: Endpoints = { ...next, metadata: { ...structuredClone(current.metadata) as Endpoints["metadata"], labels, annotations } };
      if (Object.keys(annotations).length === 0) delete updated.metadata!.annotations;
      if (Object.keys(labels).length === 0) delete updated.metadata!.labels;
      try {
        await endpointsApi.update(updated);
        log.debug({ endpoints: key }, "updated endpoints");
      } catch (err) {
        // A cache that lags our own last write: the next sync reads the newer one.
        if (!isConflict(err) && !isNotFound(err)) this.d.events.event(svc as Service, "Warning", "FailedToUpdateEndpoint", `Failed to update endpoint ${namespace}/${name}: ${(err as Error).message}`);
        throw err;
      }
      return;
    }
    if (truncated) next.metadata = { ...next.metadata, annotations: { [OVER_CAPACITY_ANNOTATION]: "truncated" } };
    try {
      await endpointsApi.create(next);
      log.debug({ endpoints: key }, "created endpoints");
    } catch (err) {
      // The namespace is going away: creates keep failing, drop the key.
      if (isForbidden(err) && ((err as ApiError).details?.causes ?? []).some((c) => c.reason === "NamespaceTerminating")) return;
      if (!isAlreadyExists(err)) this.d.events.event(svc as Service, "Warning", "FailedToCreateEndpoint", `Failed to create endpoint for service ${namespace}/${name}: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Named target ports some selected pods lack: a Warning on the Service, once per change. */
  private reportMissingPorts(key: string, svc: RService, missing: ReadonlyMap<string, readonly string[]>): void {
    const parts: string[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const pods = missing.get(sp.name ?? "");
      if (!pods || pods.length === 0 || typeof sp.targetPort !== "string") continue;
      const shown = pods.slice(0, 3).join(", ") + (pods.length > 3 ? ` and ${pods.length - 3} more` : "");
      parts.push(`port ${JSON.stringify(sp.targetPort)} (${sp.protocol ?? "TCP"}) for service port ${sp.name ? JSON.stringify(sp.name) : sp.port}: not found on pod${pods.length > 1 ? "s" : ""} ${shown}`);
    }
    const message = parts.join("; ");
    if (message === (this.reported.get(key) ?? "")) return;
    this.reported.set(key, message);
    if (message !== "") this.d.events.event(svc as Service, "Warning", "FailedToResolveTargetPort", `Selected pods without the named target port get no endpoint for it: ${message}`);
  }
}

export function endpointsController(ctx: ControllerContext): Controller {
  const services = ctx.informers.forKind("v1", "Service");
  const pods = ctx.informers.forKind("v1", "Pod");
  const endpoints = ctx.informers.forKind("v1", "Endpoints");
  const log = ctx.log.child({ controller: ENDPOINTS_CONTROLLER });
  const c = new EndpointsController({ api: ctx.client, services: services.lister, pods: pods.lister, endpoints: endpoints.lister, events: ctx.events, log });
  services.addEventHandler({ onAdd: (s) => c.serviceChanged(s), onUpdate: (_o, s) => c.serviceChanged(s), onDelete: (s) => c.serviceChanged(s) });
  pods.addEventHandler({ onAdd: (p) => c.podAdded(p), onUpdate: (o, p) => c.podUpdated(o, p), onDelete: (p) => c.podDeleted(p) });
  endpoints.addEventHandler({ onDelete: (e) => c.endpointsDeleted(e) });
  return {
    name: ENDPOINTS_CONTROLLER,
    async run(signal, workers) {
      for (const inf of [services, pods, endpoints]) if (!(await inf.waitForSync(signal))) return;
      await runController({ name: ENDPOINTS_CONTROLLER, queue: c.queue, workers, sync: (key, s, l) => c.sync(key, s, l), log: ctx.log, signal, metrics: ctx.metrics });
    },
  };
}
