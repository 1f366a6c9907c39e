// Test doubles for the autoscaler: PodMetrics seeded by the test instead of metrics.k8s.io,
// and a scale subresource that records its reads and writes.
import type { Scale } from "kubernetes-types/autoscaling/v1.js";
import { parseSelector } from "../../api/labels.js";
import { rfc3339 } from "../../util/time.js";
import { notFoundError } from "../testing/fake.js";
import type { MetricsClient, PodMetrics } from "./metrics.js";
import type { ScaleClient, ScaleTargetRef } from "./scale.js";
import { targetResource } from "./scale.js";

/** PodMetrics held in memory; a list filters them by namespace and labels as the API would. */
export class SeededMetricsClient implements MetricsClient {
  private items: PodMetrics[] = [];
  /** Makes every list fail with this error, when set. */
  failure: Error | undefined;

  set(...items: PodMetrics[]): void {
    this.items = items;
  }

  podMetrics(namespace: string, selector: string): Promise<readonly PodMetrics[]> {
    if (this.failure) return Promise.reject(this.failure);
    const sel = parseSelector(selector);
    return Promise.resolve(this.items.filter((m) => (m.metadata.namespace ?? "") === namespace && sel.matches(m.metadata.labels)));
  }
}

/** A PodMetrics of one pod, `usage` per container name (e.g. `{ c: { cpu: "250m" } }`). */
export function podMetrics(namespace: string, name: string, labels: Record<string, string>, at: number, usage: Record<string, Record<string, string>>, window = "30s"): PodMetrics {
  return {
    apiVersion: "metrics.k8s.io/v1beta1",
    kind: "PodMetrics",
    metadata: { name, namespace, labels },
    timestamp: rfc3339(at),
    window,
    containers: Object.entries(usage).map(([c, u]) => ({ name: c, usage: u })),
  };
}

export interface ScaleAction {
  readonly verb: "get" | "update";
  /** `plural ns/name` */
  readonly target: string;
  readonly replicas?: number;
}

/** Scales by `plural ns/name`; records every call; `fail` makes a verb throw. */
export class FakeScaleClient implements ScaleClient {
  readonly actions: ScaleAction[] = [];
  private readonly scales = new Map<string, Scale>();
  readonly fail: { get?: Error; update?: Error } = {};

  private key(namespace: string, ref: ScaleTargetRef): string {
    return `${targetResource(ref).plural} ${namespace}/${ref.name}`;
  }

  seed(namespace: string, ref: ScaleTargetRef, replicas: number, selector: string): void {
    this.scales.set(this.key(namespace, ref), { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: ref.name, namespace }, spec: { replicas }, status: { replicas, selector } });
  }

  replicas(namespace: string, ref: ScaleTargetRef): number | undefined {
    return this.scales.get(this.key(namespace, ref))?.spec?.replicas;
  }

  get(namespace: string, ref: ScaleTargetRef): Promise<Scale> {
    const target = this.key(namespace, ref);
    this.actions.push({ verb: "get", target });
    if (this.fail.get) return Promise.reject(this.fail.get);
    const s = this.scales.get(target);
    return s ? Promise.resolve(structuredClone(s)) : Promise.reject(notFoundError(targetResource(ref).plural, ref.name));
  }

  update(namespace: string, ref: ScaleTargetRef, scale: Scale): Promise<Scale> {
    const target = this.key(namespace, ref);
    this.actions.push({ verb: "update", target, replicas: scale.spec?.replicas ?? 0 });
    if (this.fail.update) return Promise.reject(this.fail.update);
    this.scales.set(target, structuredClone(scale));
    return Promise.resolve(structuredClone(scale));
  }

  /** `verb plural ns/name[ → replicas]` per call. */
  verbs(): string[] {
    return this.actions.map((a) => `${a.verb} ${a.target}${a.replicas !== undefined ? ` → ${a.replicas}` : ""}`);
  }
}
