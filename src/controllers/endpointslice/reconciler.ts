// The EndpointSlice reconciler (upstream staging/src/k8s.io/endpointslice/reconciler.go): from a
// service and the pods it selects, the slices to create, update and delete so that the
// controller's slices hold exactly the desired endpoints with as little churn as possible.
// Endpoints are grouped by the ports they serve (a named target port can resolve differently
// per pod); within a group, existing slices keep the endpoints still desired (updated in
// place when their conditions change), slices being updated anyway are filled up first, then
// the one existing slice closest to full that fits the rest, and only then new slices of at
// most maxEndpointsPerSlice. A service with no endpoints keeps one empty placeholder slice.
import type { Node } from "kubernetes-types/core/v1.js";
import type { Endpoint, EndpointPort, EndpointSlice } from "kubernetes-types/discovery/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import { findPort, isPodReady, podIPOfFamily, shouldPodBeInEndpoints, shouldSetHostname, type RPod, type RService } from "../endpoints/index.js";
import { jsonEqual } from "../../util/json.js";
import { SERVICE_NAME_LABEL } from "./tracker.js";

/** Upstream's --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
export const CONTROLLER_NAME = "endpointslice-controller.k8s.io";
export const HEADLESS_LABEL = "service.kubernetes.io/headless";
export const ZONE_LABEL = "topology.kubernetes.io/zone";

type AddressType = "IPv4" | "IPv6";
type RSlice = DeepReadonly<EndpointSlice>;

export interface ReconcilePlan {
  readonly create: EndpointSlice[];
  readonly update: EndpointSlice[];
  readonly delete: RSlice[];
  /** Pods left out because the node they name is not known (the sync retries later). */
  readonly podsOnMissingNodes: readonly string[];
}

export interface ReconcileInput {
  readonly service: RService;
  readonly pods: readonly RPod[];
  /** The controller's slices of the service (by label), from the cache. */
  readonly existing: readonly RSlice[];
  readonly node: (name: string) => DeepReadonly<Node> | undefined;
  readonly maxEndpointsPerSlice?: number;
}

/** The address types a service's endpoints are of (its ipFamilies; IPv4 when it names none). */
export function addressTypesOf(svc: RService): AddressType[] {
  const fams = (svc.spec?.ipFamilies ?? []).filter((f): f is AddressType => f === "IPv4" || f === "IPv6");
  if (fams.length > 0) return fams;
  const ip = svc.spec?.clusterIP;
  return [ip && ip !== "None" && ip.includes(":") ? "IPv6" : "IPv4"];
}

function ownedBy(slice: RSlice, svc: RService): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((r) => r.kind === "Service" && r.uid === svc.metadata?.uid && r.controller === true);
}

/** The endpoint ports of a pod for the service (ports the pod lacks are left out). */
export function endpointPorts(svc: RService, pod: RPod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({ name: sp.name ?? "", port, protocol: sp.protocol ?? "TCP", ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

/** Identifies a set of ports whatever their order (upstream NewPortMapKey). */
export function portMapKey(ports: readonly DeepReadonly<EndpointPort>[]): string {
  return JSON.stringify(ports.map((p) => [p.name ?? "", p.port ?? 0, p.protocol ?? "TCP", p.appProtocol ?? ""]).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)));
}

/** Identifies an endpoint across syncs: addresses, hostname and the pod it is (upstream hashEndpoint). */
function endpointKey(ep: DeepReadonly<Endpoint>): string {
  return JSON.stringify([[...ep.addresses].sort(), ep.hostname ?? "", ep.targetRef?.namespace ?? "", ep.targetRef?.name ?? ""]);
}

/** The slice endpoint of a pod (upstream podToEndpoint). */
export function podToEndpoint(pod: RPod, svc: RService, addressType: AddressType, node: DeepReadonly<Node> | undefined): Endpoint | undefined {
  const ip = podIPOfFamily(pod, addressType);
  if (!ip) return undefined;
  const serving = isPodReady(pod);
  const terminating = Boolean(pod.metadata?.deletionTimestamp);
  // A terminating pod is never ready unless the service publishes not-ready addresses.
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const zone = node?.metadata?.labels?.[ZONE_LABEL];
  return {
    addresses: [ip],
    conditions: { ready, serving, terminating },
    ...(shouldSetHostname(pod, svc) ? { hostname: pod.spec!.hostname! } : {}),
    targetRef: { kind: "Pod", namespace: pod.metadata?.namespace ?? "", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" },
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    ...(zone ? { zone } : {}),
  };
}

/** The labels the controller's slices of a service carry: the service's own, plus the reserved ones. */
export function sliceLabels(svc: RService): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) {
    if (k === SERVICE_NAME_LABEL || k === MANAGED_BY_LABEL || k === HEADLESS_LABEL) continue;
    labels[k] = v;
  }
  const ip = svc.spec?.clusterIP;
  if (!ip || ip === "None") labels[HEADLESS_LABEL] = "";
  labels[SERVICE_NAME_LABEL] = svc.metadata?.name ?? "";
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  return labels;
}

function newSlice(svc: RService, addressType: AddressType, ports: EndpointPort[]): EndpointSlice {
  const name = svc.metadata?.name ?? "";
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      // A service name of 63 characters leaves no room for the dash within a label-sized prefix.
      generateName: name.length < 63 ? `${name}-` : name,
      namespace: svc.metadata?.namespace ?? "",
      labels: sliceLabels(svc),
      ownerReferences: [{ apiVersion: "v1", kind: "Service", name, uid: svc.metadata?.uid ?? "", controller: true, blockOwnerDeletion: true }],
    },
    addressType,
    endpoints: [],
    ports,
  };
}

function copySlice(s: RSlice): EndpointSlice {
  return structuredClone(s) as EndpointSlice;
}

interface Desired {
  readonly ports: EndpointPort[];
  readonly endpoints: Map<string, Endpoint>;
}

export function reconcile(input: ReconcileInput): ReconcilePlan {
  const max = input.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  const svc = input.service;
  const types = addressTypesOf(svc);
  const plan = { create: [] as EndpointSlice[], update: [] as EndpointSlice[], delete: [] as RSlice[], podsOnMissingNodes: [] as string[] };
  const byType = new Map<string, RSlice[]>();
  for (const s of input.existing) {
    if (!types.includes(s.addressType as AddressType)) plan.delete.push(s);
    else byType.set(s.addressType, [...(byType.get(s.addressType) ?? []), s]);
  }
  const missing = new Set<string>();
  for (const t of types) reconcileAddressType(input, t, byType.get(t) ?? [], max, plan, missing);
  plan.podsOnMissingNodes.push(...missing);
  return plan;
}

function reconcileAddressType(input: ReconcileInput, addressType: AddressType, existing: readonly RSlice[], max: number, plan: { create: EndpointSlice[]; update: EndpointSlice[]; delete: RSlice[] }, missingNodes: Set<string>): void {
  const svc = input.service;
  const toDelete: RSlice[] = [];
  const toCreate: EndpointSlice[] = [];
  const toUpdate: EndpointSlice[] = [];
  const existingByPorts = new Map<string, RSlice[]>();
  for (const s of existing) {
    if (ownedBy(s, svc)) {
      const k = portMapKey(s.ports ?? []);
      existingByPorts.set(k, [...(existingByPorts.get(k) ?? []), s]);
    } else {
      // A slice of an earlier service of the same name: the garbage collector may be slow.
      toDelete.push(s);
    }
  }

  const desired = new Map<string, Desired>();
  for (const pod of input.pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const nodeName = pod.spec?.nodeName;
    const node = nodeName ? input.node(nodeName) : undefined;
    // A pod on a node that does not exist is left out (it may be stale) and the service retried,
    // unless the service publishes every address anyway. A pod not yet bound names no node.
    if (nodeName && !node && svc.spec?.publishNotReadyAddresses !== true) {
      missingNodes.add(pod.metadata?.name ?? "");
      continue;
    }
    const ports = endpointPorts(svc, pod);
    const k = portMapKey(ports);
    let d = desired.get(k);
    if (!d) desired.set(k, (d = { ports, endpoints: new Map() }));
    const ep = podToEndpoint(pod, svc, addressType, node);
    if (ep) d.endpoints.set(endpointKey(ep), ep);
  }

  for (const [k, d] of desired) {
    const r = reconcilePorts(svc, addressType, existingByPorts.get(k) ?? [], d, max);
    toCreate.push(...r.create);
    toUpdate.push(...r.update);
    toDelete.push(...r.delete);
  }
  for (const [k, slices] of existingByPorts) if (!desired.has(k)) toDelete.push(...slices);

  // A service without endpoints keeps exactly one empty slice (so that consumers can tell
  // "no endpoints" from "not synced yet").
  if (existing.length === toDelete.length && toCreate.length === 0) {
    const placeholder = newSlice(svc, addressType, []);
    const only = toDelete.length === 1 ? toDelete[0]! : undefined;
    if (only && ownedBy(only, svc) && only.addressType === addressType && (only.endpoints ?? []).length === 0 && (only.ports ?? []).length === 0 && jsonEqual(only.metadata?.labels ?? {}, placeholder.metadata!.labels)) {
      toDelete.length = 0;
    } else {
      toCreate.push(placeholder);
    }
  }

  // A delete plus a create of the same kind is an update: reuse the name.
  for (let i = 0; i < toDelete.length && toCreate.length > 0; ) {
    const gone = toDelete[i]!;
    if (gone.addressType === addressType && ownedBy(gone, svc)) {
      const slice = toCreate.pop()!;
      const meta = { ...slice.metadata! };
      delete meta.generateName;
      slice.metadata = { ...meta, name: gone.metadata?.name ?? "", ...(gone.metadata?.resourceVersion ? { resourceVersion: gone.metadata.resourceVersion } : {}) };
      toUpdate.push(slice);
      toDelete.splice(i, 1);
    } else i++;
  }
  plan.create.push(...toCreate);
  plan.update.push(...toUpdate);
  plan.delete.push(...toDelete);
}

function reconcilePorts(svc: RService, addressType: AddressType, existing: readonly RSlice[], d: Desired, max: number): { create: EndpointSlice[]; update: EndpointSlice[]; delete: RSlice[] } {
  const labels = sliceLabels(svc);
  const remaining = new Map(d.endpoints);
  const toUpdate = new Map<string, EndpointSlice>();
  const unchanged = new Map<string, RSlice>();
  const toDelete: RSlice[] = [];

  // 1. Keep what is still desired in each slice (with its current conditions); drop the rest.
  for (const s of existing) {
    const name = s.metadata?.name ?? "";
    const kept: Endpoint[] = [];
    let changed = false;
    for (const ep of s.endpoints ?? []) {
      const k = endpointKey(ep);
      const want = remaining.get(k);
      if (!want) continue;
      kept.push(want);
      if (!jsonEqual(want, ep)) changed = true;
      remaining.delete(k);
    }
    const labelsChanged = !jsonEqual(s.metadata?.labels ?? {}, labels);
    if (changed || kept.length !== (s.endpoints ?? []).length) {
      if (kept.length === 0) toDelete.push(s);
      else {
        const u = copySlice(s);
        u.endpoints = kept;
        u.metadata = { ...u.metadata, labels };
        toUpdate.set(name, u);
      }
    } else if (labelsChanged) {
      const u = copySlice(s);
      u.metadata = { ...u.metadata, labels };
      toUpdate.set(name, u);
    } else {
      unchanged.set(name, s);
    }
  }

  // Sorted, so that the same input places endpoints the same way.
  const pending = [...remaining.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ep]) => ep);
  // 2. Fill the slices that are written anyway, fullest first.
  if (pending.length > 0) {
    for (const u of [...toUpdate.values()].sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0))) {
      while (pending.length > 0 && (u.endpoints?.length ?? 0) < max) u.endpoints = [...(u.endpoints ?? []), pending.shift()!];
    }
  }
  // 3. The rest: into the one unchanged slice closest to full that fits them all, else new slices.
  const create: EndpointSlice[] = [];
  while (pending.length > 0) {
    let fill: EndpointSlice | undefined;
    if (pending.length < max && unchanged.size > 0) {
      let best: RSlice | undefined;
      for (const s of unchanged.values()) {
        const n = s.endpoints?.length ?? 0;
        if (n + pending.length <= max && (!best || n > (best.endpoints?.length ?? 0))) best = s;
      }
      if (best) {
        fill = copySlice(best);
        unchanged.delete(best.metadata?.name ?? "");
        toUpdate.set(fill.metadata?.name ?? "", fill);
      }
    }
    if (!fill) {
      fill = newSlice(svc, addressType, d.ports);
      create.push(fill);
    }
    while (pending.length > 0 && (fill.endpoints?.length ?? 0) < max) fill.endpoints = [...(fill.endpoints ?? []), pending.shift()!];
  }
  return { create, update: [...toUpdate.values()], delete: toDelete };
}
