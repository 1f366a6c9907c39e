// Prometheus metrics of the API server (/metrics), named as upstream names them so existing
// dashboards read them: request counts and latency by verb/resource/code, long-running
// requests (watches), and storage latency per operation.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Store } from "../storage/interface.js";
import type { Filter } from "./http.js";

export class ApiServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "apiserver_request_total",
    help: "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
    labelNames: ["verb", "group", "version", "resource", "subresource", "scope", "component", "code"] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "apiserver_request_duration_seconds",
    help: "Response latency distribution in seconds for each verb, group, version, resource, subresource, scope and component.",
    labelNames: ["verb", "group", "version", "resource", "subresource", "scope", "component"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 10, 15, 30, 60],
    registers: [this.registry],
  });
  readonly longRunning = new Gauge({
    name: "apiserver_longrunning_requests",
    help: "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.",
    labelNames: ["verb", "group", "version", "resource", "subresource", "scope", "component"] as const,
    registers: [this.registry],
  });
  readonly storageLatency = new Histogram({
    name: "apiserver_storage_request_duration_seconds",
    help: "Storage request latency in seconds for each operation.",
    labelNames: ["operation", "backend"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly storageObjects = new Gauge({
    name: "apiserver_storage_objects",
    help: "Number of stored objects at the time of last check split by kind.",
    labelNames: ["resource"] as const,
    registers: [this.registry],
  });

  // Label sets recur (a few verbs × resources × scopes): each is built once and reused for
  // every request, with the request counter's one per response code.
  private readonly labelSets = new Map<string, RequestLabels>();

  private labelsOf(verb: string, group: string, version: string, resource: string, subresource: string, scope: string): RequestLabels {
    const key = `${verb}\0${group}\0${version}\0${resource}\0${subresource}\0${scope}`;
    let l = this.labelSets.get(key);
    if (l === undefined) {
      // Paths are the client's: bound what unknown resources can make this hold.
      if (this.labelSets.size >= maxLabelSets) this.labelSets.clear();
      l = { labels: { verb: verbLabel(verb), group, version, resource, subresource, scope, component: "apiserver" }, byCode: new Map() };
      this.labelSets.set(key, l);
    }
    return l;
  }

  filter(): Filter {
    return async (ctx, next) => {
      const i = ctx.info;
      const scope = !i.isResourceRequest ? "" : i.name !== "" ? "resource" : i.namespace !== "" ? "namespace" : "cluster";
      const set = this.labelsOf(i.verb, i.apiGroup, i.apiVersion, i.resource, i.subresource, scope);
      const labels = set.labels;
      const long = i.verb === "watch" || longRunningSubresources.has(i.subresource);
      if (long) this.longRunning.inc(labels);
      const start = performance.now();
      try {
        await next(ctx);
      } finally {
        if (long) this.longRunning.dec(labels);
        else this.latency.observe(labels, (performance.now() - start) / 1000);
        const code = ctx.code || ctx.res.statusCode;
        let withCode = set.byCode.get(code);
        if (withCode === undefined) {
          withCode = { ...labels, code: String(code) };
          set.byCode.set(code, withCode);
        }
        this.requests.inc(withCode);
      }
    };
  }

  /** Wraps a store so every call is timed by operation. */
  instrument(store: Store): Store {
    const h = this.storageLatency;
    const timed = <A extends unknown[], R>(op: string, fn: (...a: A) => Promise<R>) => {
      const labels = { operation: op, backend: store.backend };
      return async (...a: A): Promise<R> => {
        const start = performance.now();
        try {
          return await fn(...a);
        } finally {
          h.observe(labels, (performance.now() - start) / 1000);
        }
      };
    };
    return {
      backend: store.backend,
      get: timed("get", store.get.bind(store)),
      create: timed("create", store.create.bind(store)),
      update: timed("update", store.update.bind(store)),
      delete: timed("delete", store.delete.bind(store)),
      list: timed("list", store.list.bind(store)),
      count: timed("count", store.count.bind(store)),
      watch: store.watch.bind(store),
      currentRevision: timed("currentRevision", store.currentRevision.bind(store)),
      compactedRevision: store.compactedRevision.bind(store),
      compact: timed("compact", store.compact.bind(store)),
      snapshot: store.snapshot.bind(store),
      close: store.close.bind(store),
    };
  }
}

type RequestLabelNames = "verb" | "group" | "version" | "resource" | "subresource" | "scope" | "component";

interface RequestLabels {
  readonly labels: Record<RequestLabelNames, string>;
  readonly byCode: Map<number, Record<RequestLabelNames | "code", string>>;
}

const maxLabelSets = 4096;
const longRunningSubresources = new Set(["exec", "attach", "portforward", "proxy"]);

/** Upstream reports verbs upper-case (GET, LIST, WATCH, POST, PUT, PATCH, DELETE). */
function verbLabel(verb: string): string {
  switch (verb) {
    case "create":
      return "POST";
    case "update":
      return "PUT";
    case "deletecollection":
      return "DELETE";
    default:
      return verb.toUpperCase();
  }
}
