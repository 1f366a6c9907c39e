// A pod as the scheduler needs it, computed once per object (upstream framework.PodInfo):
// requests as numbers, host ports, tolerations, parsed affinity terms, its priority. Informer
// objects are frozen and replaced on every change, so a WeakMap keyed by the object is an exact
// cache: a new version of the pod is a new key.
import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from "kubernetes-types/core/v1.js";
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { everything, labelSelectorAsSelector, newRequirement, nothing, type Selector } from "../../api/labels.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { Labels, RToleration } from "./helpers.js";
import { podRequests, Resource } from "./resources.js";

export type RPod = DeepReadonly<Pod>;

export interface AffinityTerm {
  /** Namespaces named by the term (the pod's own when it names none and has no namespaceSelector). */
  readonly namespaces: ReadonlySet<string>;
  readonly selector: Selector;
  readonly topologyKey: string;
  /** Matches nothing when the term has no namespaceSelector; everything for `{}`. */
  readonly namespaceSelector: Selector;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  readonly weight: number;
}

export interface HostPort {
  readonly protocol: string;
  /** "0.0.0.0" when the container port names no hostIP. */
  readonly ip: string;
  readonly port: number;
}

export interface PodInfo {
  readonly pod: RPod;
  /** namespace/name */
  readonly key: string;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly nodeName: string;
  readonly priority: number;
  /** What Filter compares against allocatable. */
  readonly requests: Resource;
  /** Requests with 100m/200Mi for containers that ask for nothing: what scoring spreads by. */
  readonly nonZeroRequests: Resource;
  readonly hostPorts: readonly HostPort[];
  readonly tolerations: readonly RToleration[];
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  /** Any pod (anti-)affinity, required or preferred. */
  readonly hasAffinity: boolean;
  readonly hasRequiredAntiAffinity: boolean;
  /** metadata.deletionTimestamp is set. */
  readonly terminating: boolean;
  /** Why the pod's affinity terms could not be parsed, if they could not. */
  readonly parseError: string | undefined;
  /** The pod's start time (status.startTime, else creation), ms; for preemption's tie-breaks. */
  readonly startTime: number;
}

/** The pod with `nodeName` set: what the cache holds for an assumed pod. */
export function withNodeName(pi: PodInfo, nodeName: string): PodInfo {
  const pod = { ...pi.pod, spec: { ...pi.pod.spec!, nodeName } } as RPod;
  return { ...pi, pod, nodeName };
}

function termNamespaces(pod: RPod, t: DeepReadonly<PodAffinityTerm>): Set<string> {
  if ((t.namespaces ?? []).length === 0 && !t.namespaceSelector) return new Set([pod.metadata?.namespace ?? ""]);
  return new Set(t.namespaces ?? []);
}

function termOf(pod: RPod, t: DeepReadonly<PodAffinityTerm>): AffinityTerm {
  let selector = labelSelectorAsSelector(t.labelSelector as LabelSelector | undefined);
  // matchLabelKeys / mismatchLabelKeys narrow the selector by this pod's own label values
  // (upstream's API server merges them at creation; doing it again here is harmless).
  const labels = pod.metadata?.labels ?? {};
  if (t.labelSelector) {
    for (const k of t.matchLabelKeys ?? []) {
      const v = labels[k];
      if (v !== undefined) selector = selector.add(newRequirement(k, "in", [v]));
    }
    for (const k of t.mismatchLabelKeys ?? []) {
      const v = labels[k];
      if (v !== undefined) selector = selector.add(newRequirement(k, "notin", [v]));
    }
  }
  return {
    namespaces: termNamespaces(pod, t),
    selector,
    topologyKey: t.topologyKey,
    namespaceSelector: t.namespaceSelector ? labelSelectorAsSelector(t.namespaceSelector as LabelSelector) : nothing(),
  };
}

function weightedTermsOf(pod: RPod, ts: readonly DeepReadonly<WeightedPodAffinityTerm>[] | undefined): WeightedAffinityTerm[] {
  return (ts ?? []).map((t) => ({ ...termOf(pod, t.podAffinityTerm), weight: t.weight }));
}

/** Whether `pod` (with its namespace's labels) is selected by the term. */
export function termMatches(t: AffinityTerm, pod: PodInfo, nsLabels: Labels | undefined): boolean {
  if (!t.namespaces.has(pod.namespace) && !t.namespaceSelector.matches(nsLabels)) return false;
  return t.selector.matches(pod.labels);
}

/** Resolves a pod's priority when spec.priority is unset (from its PriorityClass or the global default). */
export type PriorityResolver = (pod: RPod) => number;

export const specPriority: PriorityResolver = (pod) => pod.spec?.priority ?? 0;

function hostPortsOf(pod: RPod): HostPort[] {
  const out: HostPort[] = [];
  const spec = pod.spec;
  if (!spec) return out;
  const scan = (cs: readonly { readonly ports?: readonly { readonly hostPort?: number; readonly hostIP?: string; readonly protocol?: string }[] }[] | undefined): void => {
    for (const c of cs ?? []) {
      for (const p of c.ports ?? []) {
        if (!p.hostPort || p.hostPort <= 0) continue;
        out.push({ protocol: p.protocol || "TCP", ip: p.hostIP || "0.0.0.0", port: p.hostPort });
      }
    }
  };
  scan(spec.containers);
  // Sidecar init containers keep their ports for the pod's whole life.
  scan((spec.initContainers ?? []).filter((c) => c.restartPolicy === "Always"));
  return out;
}

function timeOf(s: string | undefined): number {
  if (!s) return 0;
  const t = Date.parse(s);
  return Number.isNaN(t) ? 0 : t;
}

export function newPodInfo(pod: RPod, priorityOf: PriorityResolver = specPriority): PodInfo {
  const meta = pod.metadata ?? {};
  const spec = pod.spec;
  const affinity = spec?.affinity;
  let parseError: string | undefined;
  const parse = <T>(f: () => T[]): T[] => {
    try {
      return f();
    } catch (err) {
      parseError ??= err instanceof Error ? err.message : String(err);
      return [];
    }
  };
  const requiredAffinityTerms = parse(() => (affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => termOf(pod, t)));
  const requiredAntiAffinityTerms = parse(() => (affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => termOf(pod, t)));
  const preferredAffinityTerms = parse(() => weightedTermsOf(pod, affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution));
  const preferredAntiAffinityTerms = parse(() => weightedTermsOf(pod, affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution));
  const namespace = meta.namespace ?? "";
  const name = meta.name ?? "";
  return {
    pod,
    key: `${namespace}/${name}`,
    uid: meta.uid ?? `${namespace}/${name}`,
    namespace,
    name,
    labels: meta.labels ?? {},
    nodeName: spec?.nodeName ?? "",
    priority: priorityOf(pod),
    requests: podRequests(pod, false),
    nonZeroRequests: podRequests(pod, true),
    hostPorts: hostPortsOf(pod),
    tolerations: spec?.tolerations ?? [],
    requiredAffinityTerms,
    requiredAntiAffinityTerms,
    preferredAffinityTerms,
    preferredAntiAffinityTerms,
    hasAffinity: affinity?.podAffinity !== undefined || affinity?.podAntiAffinity !== undefined,
    hasRequiredAntiAffinity: requiredAntiAffinityTerms.length > 0,
    terminating: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
    parseError,
    startTime: timeOf(pod.status?.startTime ?? meta.creationTimestamp),
  };
}

/** Makes each PodInfo once per pod object. */
export class PodInfoCache {
  private readonly cache = new WeakMap<object, PodInfo>();
  constructor(private readonly priorityOf: PriorityResolver = specPriority) {}

  get(pod: RPod): PodInfo {
    let pi = this.cache.get(pod);
    if (!pi) {
      pi = newPodInfo(pod, this.priorityOf);
      this.cache.set(pod, pi);
    }
    return pi;
  }
}

/** True for pods that no longer hold resources on their node. */
export function isTerminal(pod: RPod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/** A selector that matches every pod, for callers that need a default. */
export const MATCH_ALL: Selector = everything();
