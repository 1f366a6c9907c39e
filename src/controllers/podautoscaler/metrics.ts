// Where the autoscaler reads pod usage from: metrics.k8s.io's PodMetrics, behind a small
// interface so that unit tests (and clusters whose nodes report no stats) can seed them.
// resourceMetric turns the raw PodMetrics into per-pod values the way upstream's
// resourceMetricsClient.GetResourceMetric does (pkg/controller/podautoscaler/metrics).
import { parseGoDuration } from "../../api/cron.js";
import { Quantity } from "../../api/quantity.js";
import type { RestClient } from "../../client/rest.js";

/** metrics.k8s.io/v1beta1 PodMetrics, as far as the autoscaler reads it. */
export interface PodMetrics {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  /** RFC 3339: the end of the window the usage was measured over. */
  readonly timestamp: string;
  /** A Go duration, e.g. "30s". */
  readonly window: string;
  readonly containers: readonly { readonly name: string; readonly usage: Readonly<Record<string, string>> }[];
}

/** The metric source: PodMetrics of the pods of `namespace` that `selector` (label selector string) matches. */
export interface MetricsClient {
  podMetrics(namespace: string, selector: string): Promise<readonly PodMetrics[]>;
}

/** One pod's value of one resource, in milli-units (millicores, millibytes), as upstream's PodMetric. */
export interface PodMetric {
  readonly timestamp: number;
  readonly windowMs: number;
  readonly value: number;
}

export type PodMetricsInfo = Map<string, PodMetric>;

export const METRICS_API_PATH = "/apis/metrics.k8s.io/v1beta1";

/** Reads PodMetrics from the API server's metrics.k8s.io. */
export class RestMetricsClient implements MetricsClient {
  constructor(private readonly client: Pick<RestClient, "request">) {}

  async podMetrics(namespace: string, selector: string): Promise<readonly PodMetrics[]> {
    const list = await this.client.request<{ items?: PodMetrics[] }>({
      method: "GET",
      path: `${METRICS_API_PATH}/namespaces/${encodeURIComponent(namespace)}/pods`,
      query: { labelSelector: selector },
    });
    return list.items ?? [];
  }
}

const milli = (q: string): number => Number(Quantity.parse(q).milliValue());

function windowOf(m: PodMetrics): number {
  try {
    return parseGoDuration(m.window);
  } catch {
    return 0;
  }
}

/**
 * Per pod, the usage of `resource`: summed over its containers (a pod missing the resource in
 * any container, or reporting no containers, is left out), or of the named container only
 * (a pod without that container is an error, as upstream's getContainerMetrics).
 */
export async function resourceMetric(
  client: MetricsClient,
  resource: string,
  namespace: string,
  selector: string,
  container: string,
): Promise<{ readonly metrics: PodMetricsInfo; readonly timestamp: number }> {
  let items: readonly PodMetrics[];
  try {
    items = await client.podMetrics(namespace, selector);
  } catch (err) {
    throw new Error(`unable to fetch metrics from resource metrics API: ${messageOf(err)}`, { cause: err });
  }
  if (items.length === 0) throw new Error("no metrics returned from resource metrics API");
  const metrics: PodMetricsInfo = new Map();
  for (const m of items) {
    const at = { timestamp: Date.parse(m.timestamp), windowMs: windowOf(m) };
    if (container !== "") {
      const c = m.containers.find((x) => x.name === container);
      if (!c) throw new Error(`failed to get container metrics: container ${container} not present in metrics for pod ${m.metadata.namespace ?? namespace}/${m.metadata.name}`);
      const v = c.usage[resource];
      if (v !== undefined) metrics.set(m.metadata.name, { ...at, value: milli(v) });
      continue;
    }
    if (m.containers.length === 0) continue;
    let sum = 0;
    let missing = false;
    for (const c of m.containers) {
      const v = c.usage[resource];
      if (v === undefined) {
        missing = true;
        break;
      }
      sum += milli(v);
    }
    if (!missing) metrics.set(m.metadata.name, { ...at, value: sum });
  }
  return { metrics, timestamp: Date.parse(items[0]!.timestamp) };
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
