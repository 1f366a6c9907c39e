// The last two scrapes of every node's kubelet, and the usage they give: a node's, and a pod's
// per container. As metrics-server: usage needs two points of the same node or container, a
// pod needs them for every container it reported, and a restarted container has no usage
// until its next two points.
import { podKey, usageBetween, type KubeletPoints, type MetricsPoint, type Usage } from "./points.js";

export interface ContainerUsage {
  readonly name: string;
  readonly cpuNanoCores: number;
  readonly memoryBytes: number;
}

export interface PodUsage {
  /** The earliest of its containers' samples, and that sample's window. */
  readonly timestampMs: number;
  readonly windowMs: number;
  readonly containers: readonly ContainerUsage[];
}

interface Scrapes {
  readonly prev?: KubeletPoints;
  readonly last: KubeletPoints;
  /** When `last` was taken. */
  readonly atMs: number;
}

/** When a scrape's samples were taken: its node's CPU reading, or the scrape itself. */
const sampledAt = (points: KubeletPoints, scrapedAtMs: number): number => points.node?.timestampMs ?? scrapedAtMs;

export class MetricsStore {
  private readonly nodes = new Map<string, Scrapes>();
  /** Which node's scrapes hold a pod, by `namespace/name`. */
  private readonly podNodes = new Map<string, string>();

  /** Records a scrape of `node`; the one before becomes the earlier point unless the kubelet answered the same samples again. */
  record(node: string, points: KubeletPoints, scrapedAtMs: number): void {
    const had = this.nodes.get(node);
    const advanced = had === undefined || sampledAt(points, scrapedAtMs) > sampledAt(had.last, had.atMs);
    const prev = advanced ? had?.last : had.prev;
    this.nodes.set(node, { ...(prev ? { prev } : {}), last: points, atMs: scrapedAtMs });
    if (had) for (const key of had.last.pods.keys()) if (this.podNodes.get(key) === node) this.podNodes.delete(key);
    for (const key of points.pods.keys()) this.podNodes.set(key, node);
  }

  /** Drops what a node that is gone (or no longer scraped) left. */
  forget(node: string): void {
    const had = this.nodes.get(node);
    if (!had) return;
    for (const key of had.last.pods.keys()) if (this.podNodes.get(key) === node) this.podNodes.delete(key);
    this.nodes.delete(node);
  }

  /** The nodes that have scrapes recorded. */
  nodeNames(): IterableIterator<string> {
    return this.nodes.keys();
  }

  nodeUsage(node: string): Usage | undefined {
    const s = this.nodes.get(node);
    return s?.prev?.node && s.last.node ? usageBetween(s.prev.node, s.last.node) : undefined;
  }

  podUsage(namespace: string, name: string): PodUsage | undefined {
    const key = podKey(namespace, name);
    const node = this.podNodes.get(key);
    const s = node === undefined ? undefined : this.nodes.get(node);
    const last = s?.last.pods.get(key);
    const prev = s?.prev?.pods.get(key);
    if (!last || !prev) return undefined;
    const containers: ContainerUsage[] = [];
    let earliest: Usage | undefined;
    for (const [cname, point] of last) {
      const before: MetricsPoint | undefined = prev.get(cname);
      if (!before) return undefined;
      const u = usageBetween(before, point);
      if (!u) continue;
      containers.push({ name: cname, cpuNanoCores: u.cpuNanoCores, memoryBytes: u.memoryBytes });
      if (!earliest || u.timestampMs < earliest.timestampMs) earliest = u;
    }
    return earliest ? { timestampMs: earliest.timestampMs, windowMs: earliest.windowMs, containers } : undefined;
  }
}
