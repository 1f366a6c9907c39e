// metrics.k8s.io/v1beta1, served as metrics-server serves it (`kubectl top node|pod`): NodeMetrics
// and PodMetrics, read-only (get, list), made on request from the scraper's last two points of
// each node and container, for the nodes and pods the watch cache has now. Label and field
// selectors are the nodes' and pods' own. Nothing of it is stored.
import type { KubeObject, ResourceDefinition, TableColumn } from "../registry/types.js";
import { sendJSON, type HttpContext } from "../http.js";
import { selectionFilter } from "../handlers/selection.js";
import { notFoundResource } from "../handlers/rest.js";
import type { VirtualResource } from "../handlers/virtual.js";
import { answerShape, buildTable } from "../table.js";
import * as status from "../status.js";
import { Quantity } from "../../api/quantity.js";
import { goDuration, rfc3339 } from "../../util/time.js";
import type { Scraper } from "./scraper.js";

export const METRICS_GROUP = "metrics.k8s.io";
export const METRICS_VERSION = "v1beta1";
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

export const metricsResources: readonly VirtualResource[] = [
  { group: METRICS_GROUP, version: METRICS_VERSION, kind: "NodeMetrics", plural: "nodes", singular: "", namespaced: false, verbs: ["get", "list"], definition: "io.k8s.metrics.pkg.apis.metrics.v1beta1.NodeMetrics" },
  { group: METRICS_GROUP, version: METRICS_VERSION, kind: "PodMetrics", plural: "pods", singular: "", namespaced: true, verbs: ["get", "list"], definition: "io.k8s.metrics.pkg.apis.metrics.v1beta1.PodMetrics" },
];

export interface MetricsApiOptions {
  readonly scraper: Scraper;
  readonly nodes: ResourceDefinition;
  readonly pods: ResourceDefinition;
  /** The objects of a resource in a namespace ("" for all), as the watch cache has them now. */
  readonly list: (def: ResourceDefinition, namespace: string) => readonly Readonly<KubeObject>[];
  /** One object, as the watch cache has it now. */
  readonly get: (def: ResourceDefinition, namespace: string, name: string) => Readonly<KubeObject> | undefined;
}

type Usage = Record<"cpu" | "memory", string>;

const usageOf = (cpuNanoCores: number, memoryBytes: number): Usage => ({
  cpu: Quantity.fromScaled(BigInt(Math.max(0, cpuNanoCores)), -9).toString(),
  memory: Quantity.fromInt(BigInt(Math.max(0, Math.round(memoryBytes))), "BinarySI").toString(),
});

/** The metrics object's metadata: the node's or pod's name and labels, created now (it is made for this answer). */
function metadataOf(obj: Readonly<KubeObject>, now: Date): Record<string, unknown> {
  const m = obj.metadata ?? {};
  return { name: m.name, ...(m.namespace ? { namespace: m.namespace } : {}), creationTimestamp: rfc3339(now), ...(m.labels ? { labels: m.labels } : {}) };
}

const byNamespaceAndName = (a: Readonly<KubeObject>, b: Readonly<KubeObject>): number => {
  const an = a.metadata?.namespace ?? "";
  const bn = b.metadata?.namespace ?? "";
  if (an !== bn) return an < bn ? -1 : 1;
  const x = a.metadata?.name ?? "";
  const y = b.metadata?.name ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
};

const metricsColumns: readonly TableColumn[] = [
  { name: "Name", type: "string", format: "name", description: "Name of the resource", priority: 0 },
  { name: "cpu", type: "string", format: "quantity", description: "", priority: 0 },
  { name: "memory", type: "string", format: "quantity", description: "", priority: 0 },
  { name: "Window", type: "string", format: "duration", description: "", priority: 0 },
];

/** metrics-server's table of a metrics kind: name, usage (a pod's summed over its containers), window. */
const printedAs = (usage: (m: KubeObject) => Usage): Pick<ResourceDefinition, "table"> => ({
  table: {
    columns: metricsColumns,
    row: (m) => {
      const u = usage(m);
      return [m.metadata?.name ?? "", u.cpu, u.memory, m["window"]];
    },
  },
});

/** A pod's usage: its containers' summed (the table's cells). */
function podTotal(o: KubeObject): Usage {
  let cpu = Quantity.zero();
  let memory = Quantity.zero("BinarySI");
  for (const c of (o["containers"] as { usage: Usage }[] | undefined) ?? []) {
    cpu = cpu.add(Quantity.parse(c.usage.cpu));
    memory = memory.add(Quantity.parse(c.usage.memory));
  }
  return { cpu: cpu.toString(), memory: memory.toString() };
}

const nodeMetricsTable = printedAs((m) => m["usage"] as Usage);
const podMetricsTable = printedAs(podTotal);

/** Serves a metrics.k8s.io request; false when the request is for another group. */
export function metricsApi(o: MetricsApiOptions): (ctx: HttpContext) => Promise<boolean> {
  const nodeMetrics = (node: Readonly<KubeObject>, now: Date): KubeObject | undefined => {
    const u = o.scraper.store.nodeUsage(node.metadata?.name ?? "");
    if (!u) return undefined;
    return { kind: "NodeMetrics", apiVersion: API_VERSION, metadata: metadataOf(node, now), timestamp: rfc3339(u.timestampMs), window: goDuration(u.windowMs), usage: usageOf(u.cpuNanoCores, u.memoryBytes) };
  };
  const podMetrics = (pod: Readonly<KubeObject>, now: Date): KubeObject | undefined => {
    const u = o.scraper.store.podUsage(pod.metadata?.namespace ?? "", pod.metadata?.name ?? "");
    if (!u) return undefined;
    return {
      kind: "PodMetrics",
      apiVersion: API_VERSION,
      metadata: metadataOf(pod, now),
      timestamp: rfc3339(u.timestampMs),
      window: goDuration(u.windowMs),
      containers: u.containers.map((c) => ({ name: c.name, usage: usageOf(c.cpuNanoCores, c.memoryBytes) })),
    };
  };

  return async (ctx) => {
    const i = ctx.info;
    if (!i.isResourceRequest || i.apiGroup !== METRICS_GROUP) return false;
    const resource = metricsResources.find((r) => r.version === i.apiVersion && r.plural === i.resource);
    if (!resource || i.subresource !== "" || (resource.namespaced === false && i.namespace !== "")) throw notFoundResource();
    const gr = { group: METRICS_GROUP, resource: i.resource };
    if (i.verb !== "get" && i.verb !== "list") throw status.methodNotSupported(gr, i.verb);
    const { rendering, include } = answerShape(ctx);
    const table = rendering === "table";
    const isNodes = resource.kind === "NodeMetrics";
    const def = isNodes ? o.nodes : o.pods;
    const make = isNodes ? nodeMetrics : podMetrics;
    const printed = isNodes ? nodeMetricsTable : podMetricsTable;
    const filter = i.verb === "list" ? selectionFilter(def, ctx.url.searchParams) : undefined;
    await o.scraper.used();
    const now = new Date();

    if (i.verb === "get") {
      const source = o.get(def, i.namespace, i.name);
      if (!source) throw status.notFound({ group: "", resource: def.plural }, i.name);
      const m = make(source, now);
      if (!m) throw status.notFound(gr, isNodes ? i.name : `${i.namespace}/${i.name}`);
      sendJSON(ctx, 200, table ? buildTable(printed, [m], {}, include) : m);
      return true;
    }
    const items: KubeObject[] = [];
    for (const source of [...o.list(def, i.namespace)].sort(byNamespaceAndName)) {
      if (filter && !filter(source)) continue;
      const m = make(source, now);
      if (m) items.push(m);
    }
    sendJSON(ctx, 200, table ? buildTable(printed, items, {}, include) : { kind: `${resource.kind}List`, apiVersion: API_VERSION, metadata: {}, items });
    return true;
  };
}
