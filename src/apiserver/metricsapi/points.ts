// A kubelet's resource metrics (/metrics/resource, the Prometheus text format) as points, and
// usage (a CPU rate, a working set) from two points of the same node or container, as
// metrics-server computes them: CPU is the cumulative core-seconds' increase over the window
// between the two samples' timestamps, memory the later sample's working set.

/** One sample of a node or a container. */
export interface MetricsPoint {
  /** When the CPU counter was read (ms since the epoch). */
  readonly timestampMs: number;
  /** Cumulative CPU time since the node booted or the container started, in core-seconds. */
  readonly cpuSeconds: number;
  readonly memoryBytes: number;
  /** When the container started (ms since the epoch); nodes have none. */
  readonly startMs?: number;
}

/** One scrape of one kubelet: its node, and its pods' containers by `namespace/name`. */
export interface KubeletPoints {
  readonly node?: MetricsPoint;
  readonly pods: ReadonlyMap<string, ReadonlyMap<string, MetricsPoint>>;
}

/** What usage two points give: CPU in nanocores, memory in bytes, over `windowMs` ending at `timestampMs`. */
export interface Usage {
  readonly timestampMs: number;
  readonly windowMs: number;
  readonly cpuNanoCores: number;
  readonly memoryBytes: number;
}

export const podKey = (namespace: string, name: string): string => `${namespace}/${name}`;

interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs: number | undefined;
}

/** One sample line (`name{label="value",…} value [timestamp]`); undefined for comments, blanks and lines it cannot read. */
export function parseSeries(line: string): Series | undefined {
  const text = line.trim();
  if (text === "" || text.startsWith("#")) return undefined;
  const nameEnd = text.search(/[{\s]/);
  if (nameEnd <= 0) return undefined;
  const name = text.slice(0, nameEnd);
  const labels: Record<string, string> = {};
  let i = nameEnd;
  if (text[i] === "{") {
    i++;
    for (;;) {
      while (text[i] === " " || text[i] === ",") i++;
      if (text[i] === "}") {
        i++;
        break;
      }
      const eq = text.indexOf("=", i);
      if (eq < 0 || text[eq + 1] !== '"') return undefined;
      const key = text.slice(i, eq).trim();
      let value = "";
      let j = eq + 2;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\" && j + 1 < text.length) {
          j++;
          value += text[j] === "n" ? "\n" : text[j];
        } else value += text[j];
      }
      if (j >= text.length) return undefined;
      labels[key] = value;
      i = j + 1;
    }
  }
  const [rawValue, rawTimestamp] = text.slice(i).trim().split(/\s+/);
  const value = Number(rawValue);
  if (rawValue === undefined || rawValue === "" || Number.isNaN(value)) return undefined;
  const timestampMs = rawTimestamp === undefined ? undefined : Number(rawTimestamp);
  if (timestampMs !== undefined && !Number.isFinite(timestampMs)) return undefined;
  return { name, labels, value, timestampMs };
}

interface PartialPoint {
  timestampMs?: number;
  cpuSeconds?: number;
  memoryBytes?: number;
  startMs?: number;
}

const complete = (p: PartialPoint): MetricsPoint | undefined =>
  // As metrics-server: a point without a CPU reading, a time or a working set is no point.
  p.timestampMs === undefined || !p.cpuSeconds || !p.memoryBytes ? undefined : { timestampMs: p.timestampMs, cpuSeconds: p.cpuSeconds, memoryBytes: p.memoryBytes, ...(p.startMs !== undefined ? { startMs: p.startMs } : {}) };

/**
 * The points of one /metrics/resource answer. Samples without a timestamp were taken at
 * `scrapedAtMs`. A pod whose containers are not all complete is left out, as metrics-server
 * leaves it out: its usage would be short of some container's.
 */
export function parseResourceMetrics(text: string, scrapedAtMs: number): KubeletPoints {
  const node: PartialPoint = {};
  const containers = new Map<string, Map<string, PartialPoint>>();
  const containerOf = (s: Series): PartialPoint | undefined => {
    const ns = s.labels["namespace"];
    const pod = s.labels["pod"];
    const name = s.labels["container"];
    if (!ns || !pod || !name) return undefined;
    const key = podKey(ns, pod);
    let byName = containers.get(key);
    if (!byName) containers.set(key, (byName = new Map()));
    let p = byName.get(name);
    if (!p) byName.set(name, (p = {}));
    return p;
  };
  for (const line of text.split("\n")) {
    const s = parseSeries(line);
    if (!s) continue;
    const at = s.timestampMs ?? scrapedAtMs;
    switch (s.name) {
      case "node_cpu_usage_seconds_total":
        node.cpuSeconds = s.value;
        node.timestampMs = at;
        break;
      case "node_memory_working_set_bytes":
        node.memoryBytes = s.value;
        node.timestampMs ??= at;
        break;
      case "container_cpu_usage_seconds_total": {
        const p = containerOf(s);
        if (p) {
          p.cpuSeconds = s.value;
          p.timestampMs = at;
        }
        break;
      }
      case "container_memory_working_set_bytes": {
        const p = containerOf(s);
        if (p) {
          p.memoryBytes = s.value;
          p.timestampMs ??= at;
        }
        break;
      }
      case "container_start_time_seconds": {
        const p = containerOf(s);
        if (p) p.startMs = s.value * 1000;
        break;
      }
    }
  }
  const pods = new Map<string, ReadonlyMap<string, MetricsPoint>>();
  for (const [key, byName] of containers) {
    const points = new Map<string, MetricsPoint>();
    for (const [name, p] of byName) {
      const point = complete(p);
      if (point) points.set(name, point);
    }
    if (points.size === byName.size) pods.set(key, points);
  }
  const nodePoint = complete(node);
  return nodePoint ? { node: nodePoint, pods } : { pods };
}

/**
 * Usage between an earlier and a later point, or undefined when they do not make one: the same
 * time, a restart between them (a later start, a counter that went down).
 */
export function usageBetween(prev: MetricsPoint, last: MetricsPoint): Usage | undefined {
  const windowMs = last.timestampMs - prev.timestampMs;
  if (windowMs <= 0) return undefined;
  if (last.startMs !== undefined && prev.startMs !== undefined && last.startMs !== prev.startMs) return undefined;
  if (last.cpuSeconds < prev.cpuSeconds) return undefined;
  return { timestampMs: last.timestampMs, windowMs, cpuNanoCores: Math.round(((last.cpuSeconds - prev.cpuSeconds) * 1e9) / (windowMs / 1000)), memoryBytes: last.memoryBytes };
}
