// /stats/summary (stats/v1alpha1 Summary) and /metrics/resource, the two views of resource use
// the kubelet offers: node CPU and memory from /proc (what cAdvisor reads for the root cgroup),
// pods and containers from the runtime's CRI stats (cgroup figures containerd collects). Pod
// figures are the sums of their containers'. CPU rates (usageNanoCores) need two samples: the
// node's previous sample is kept here, containerd computes its own for containers.
import { readFile } from "node:fs/promises";
import { statfs } from "node:fs/promises";
import type { ContainerStats, CriClient } from "../cri/client.js";
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from "../types.js";
import { rfc3339 } from "../../util/time.js";

export interface CPUStats {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
}

export interface MemoryStats {
  time: string;
  availableBytes?: number;
  usageBytes?: number;
  workingSetBytes?: number;
  rssBytes?: number;
  pageFaults?: number;
  majorPageFaults?: number;
}

export interface FsStats {
  time: string;
  availableBytes?: number;
  capacityBytes?: number;
  usedBytes?: number;
  inodesFree?: number;
  inodes?: number;
  inodesUsed?: number;
}

export interface ContainerSummary {
  name: string;
  startTime: string;
  cpu?: CPUStats;
  memory?: MemoryStats;
  rootfs?: FsStats;
}

export interface PodSummary {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerSummary[];
  cpu?: CPUStats;
  memory?: MemoryStats;
}

export interface Summary {
  node: {
    nodeName: string;
    startTime: string;
    cpu: CPUStats;
    memory: MemoryStats;
    fs?: FsStats;
    runtime?: { imageFs?: FsStats };
  };
  pods: PodSummary[];
}

/** CPU time of the whole machine in ns and the wall clock it was read at. */
interface CpuSample {
  readonly usageNs: number;
  readonly at: number;
}

// /proc/stat counts in USER_HZ ticks, 100 per second on every Linux architecture we run on.
const NS_PER_TICK = 1e7;

async function readNodeCpu(): Promise<CpuSample> {
  const text = await readFile("/proc/stat", "utf8");
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  const f = (line ?? "").trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return { usageNs: busy * NS_PER_TICK, at: Date.now() };
}

async function readMeminfo(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const l of (await readFile("/proc/meminfo", "utf8")).split("\n")) {
    const m = /^([^:]+):\s+(\d+)(?:\s+kB)?/.exec(l);
    if (m) out.set(m[1]!, Number(m[2]) * (l.includes("kB") ? 1024 : 1));
  }
  return out;
}

async function readVmstat(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const l of (await readFile("/proc/vmstat", "utf8").catch(() => "")).split("\n")) {
    const [k, v] = l.split(" ");
    if (k && v) out.set(k, Number(v));
  }
  return out;
}

async function bootTime(): Promise<Date> {
  const up = Number((await readFile("/proc/uptime", "utf8")).split(" ")[0]);
  return new Date(Math.floor((Date.now() - up * 1000) / 1000) * 1000);
}

function iso(ns: number): string {
  return rfc3339(Math.floor(ns / 1e6));
}

function isoNano(ns: number): string {
  return new Date(ns / 1e6).toISOString();
}

function num(v: { value: number } | null | undefined): number | undefined {
  return v ? v.value : undefined;
}

function sum(values: (number | undefined)[]): number | undefined {
  const present = values.filter((v): v is number => v !== undefined);
  return present.length ? present.reduce((a, b) => a + b, 0) : undefined;
}

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export class StatsProvider {
  private lastCpu: CpuSample | undefined;

  constructor(
    private readonly cri: CriClient,
    private readonly nodeName: string,
    /** the kubelet's root dir: node fs stats are of the filesystem that holds it */
    private readonly rootDir: string,
  ) {}

  /** Takes the first CPU sample, so the first summary already has a rate. */
  async prime(): Promise<void> {
    this.lastCpu = await readNodeCpu();
  }

  private async nodeCpu(): Promise<CPUStats> {
    const now = await readNodeCpu();
    const prev = this.lastCpu;
    this.lastCpu = now;
    const rate = prev && now.at > prev.at ? Math.round(((now.usageNs - prev.usageNs) / (now.at - prev.at)) * 1e6) : undefined;
    return defined({ time: new Date(now.at).toISOString(), usageCoreNanoSeconds: now.usageNs, usageNanoCores: rate });
  }

  private async nodeMemory(): Promise<MemoryStats> {
    const [mi, vm] = await Promise.all([readMeminfo(), readVmstat()]);
    const total = mi.get("MemTotal") ?? 0;
    const usage = total - (mi.get("MemFree") ?? 0);
    // cAdvisor's working set: usage minus inactive file pages (reclaimable at once).
    const workingSet = Math.max(0, usage - (mi.get("Inactive(file)") ?? 0));
    return defined({
      time: new Date().toISOString(),
      availableBytes: Math.max(0, total - workingSet),
      usageBytes: usage,
      workingSetBytes: workingSet,
      rssBytes: (mi.get("Active(anon)") ?? 0) + (mi.get("Inactive(anon)") ?? 0),
      pageFaults: vm.get("pgfault"),
      majorPageFaults: vm.get("pgmajfault"),
    });
  }

  private async nodeFs(): Promise<FsStats | undefined> {
    try {
      const s = await statfs(this.rootDir);
      const capacity = s.blocks * s.bsize;
      const available = s.bavail * s.bsize;
      return { time: new Date().toISOString(), availableBytes: available, capacityBytes: capacity, usedBytes: (s.blocks - s.bfree) * s.bsize, inodesFree: s.ffree, inodes: s.files, inodesUsed: s.files - s.ffree };
    } catch {
      return undefined;
    }
  }

  private async imageFs(): Promise<FsStats | undefined> {
    try {
      const info = await this.cri.imageFsInfo({ timeoutMs: 10_000 });
      const fs = info.imageFilesystems[0];
      if (!fs) return undefined;
      return defined({ time: isoNano(fs.timestamp), usedBytes: num(fs.usedBytes), inodesUsed: num(fs.inodesUsed) });
    } catch {
      return undefined;
    }
  }

  async summary(): Promise<Summary> {
    const [cpu, memory, fs, imageFs, started] = await Promise.all([this.nodeCpu(), this.nodeMemory(), this.nodeFs(), this.imageFs(), bootTime()]);
    return {
      node: defined({ nodeName: this.nodeName, startTime: rfc3339(started), cpu, memory, fs, runtime: imageFs ? { imageFs } : undefined }),
      pods: await this.podSummaries(),
    };
  }

  private async podSummaries(): Promise<PodSummary[]> {
    const [sandboxes, containers, stats] = await Promise.all([
      this.cri.listPodSandbox({ state: { state: "SANDBOX_READY" } }, { timeoutMs: 10_000 }),
      this.cri.listContainers({ state: { state: "CONTAINER_RUNNING" } }, { timeoutMs: 10_000 }),
      this.cri.listContainerStats({}, { timeoutMs: 10_000 }),
    ]);
    const statsById = new Map<string, ContainerStats>();
    for (const s of stats) if (s.attributes) statsById.set(s.attributes.id, s);
    const pods: PodSummary[] = [];
    for (const sb of sandboxes) {
      const name = sb.labels[LABEL_POD_NAME];
      const namespace = sb.labels[LABEL_POD_NAMESPACE];
      if (!name || !namespace) continue;
      const list: ContainerSummary[] = [];
      for (const c of containers.filter((c) => c.podSandboxId === sb.id)) {
        const s = statsById.get(c.id);
        const cs: ContainerSummary = { name: c.labels[LABEL_CONTAINER_NAME] ?? c.metadata?.name ?? "", startTime: iso(c.createdAt) };
        if (s?.cpu) cs.cpu = defined({ time: isoNano(s.cpu.timestamp), usageNanoCores: num(s.cpu.usageNanoCores), usageCoreNanoSeconds: num(s.cpu.usageCoreNanoSeconds) });
        if (s?.memory) {
          cs.memory = defined({
            time: isoNano(s.memory.timestamp),
            availableBytes: num(s.memory.availableBytes),
            usageBytes: num(s.memory.usageBytes),
            workingSetBytes: num(s.memory.workingSetBytes),
            rssBytes: num(s.memory.rssBytes),
            pageFaults: num(s.memory.pageFaults),
            majorPageFaults: num(s.memory.majorPageFaults),
          });
        }
        if (s?.writableLayer) cs.rootfs = defined({ time: isoNano(s.writableLayer.timestamp), usedBytes: num(s.writableLayer.usedBytes), inodesUsed: num(s.writableLayer.inodesUsed) });
        list.push(cs);
      }
      list.sort((a, b) => a.name.localeCompare(b.name));
      const time = new Date().toISOString();
      const pod: PodSummary = { podRef: { name, namespace, uid: sb.labels[LABEL_POD_UID] ?? sb.metadata?.uid ?? "" }, startTime: iso(sb.createdAt), containers: list };
      if (list.some((c) => c.cpu)) {
        pod.cpu = defined({ time, usageNanoCores: sum(list.map((c) => c.cpu?.usageNanoCores)), usageCoreNanoSeconds: sum(list.map((c) => c.cpu?.usageCoreNanoSeconds)) });
      }
      if (list.some((c) => c.memory)) {
        pod.memory = defined({ time, usageBytes: sum(list.map((c) => c.memory?.usageBytes)), workingSetBytes: sum(list.map((c) => c.memory?.workingSetBytes)), rssBytes: sum(list.map((c) => c.memory?.rssBytes)) });
      }
      pods.push(pod);
    }
    pods.sort((a, b) => `${a.podRef.namespace}/${a.podRef.name}`.localeCompare(`${b.podRef.namespace}/${b.podRef.name}`));
    return pods;
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/**
 * The resource metrics endpoint (/metrics/resource) that metrics-server scrapes, in the
 * Prometheus text format with upstream's metric names, from a summary.
 */
export function resourceMetrics(s: Summary): string {
  const lines: string[] = [];
  const ms = (t: string | undefined): string => (t ? ` ${Date.parse(t)}` : "");
  const family = (name: string, help: string, type: "counter" | "gauge"): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  family("node_cpu_usage_seconds_total", "[STABLE] Cumulative cpu time consumed by the node in core-seconds", "counter");
  if (s.node.cpu.usageCoreNanoSeconds !== undefined) lines.push(`node_cpu_usage_seconds_total ${s.node.cpu.usageCoreNanoSeconds / 1e9}${ms(s.node.cpu.time)}`);
  family("node_memory_working_set_bytes", "[STABLE] Current working set of the node in bytes", "gauge");
  if (s.node.memory.workingSetBytes !== undefined) lines.push(`node_memory_working_set_bytes ${s.node.memory.workingSetBytes}${ms(s.node.memory.time)}`);
  family("pod_cpu_usage_seconds_total", "[STABLE] Cumulative cpu time consumed by the pod in core-seconds", "counter");
  for (const p of s.pods) {
    if (p.cpu?.usageCoreNanoSeconds !== undefined) lines.push(`pod_cpu_usage_seconds_total{namespace="${escapeLabel(p.podRef.namespace)}",pod="${escapeLabel(p.podRef.name)}"} ${p.cpu.usageCoreNanoSeconds / 1e9}${ms(p.cpu.time)}`);
  }
  family("pod_memory_working_set_bytes", "[STABLE] Current working set of the pod in bytes", "gauge");
  for (const p of s.pods) {
    if (p.memory?.workingSetBytes !== undefined) lines.push(`pod_memory_working_set_bytes{namespace="${escapeLabel(p.podRef.namespace)}",pod="${escapeLabel(p.podRef.name)}"} ${p.memory.workingSetBytes}${ms(p.memory.time)}`);
  }
  family("container_cpu_usage_seconds_total", "[STABLE] Cumulative cpu time consumed by the container in core-seconds", "counter");
  for (const p of s.pods) {
    for (const c of p.containers) {
      if (c.cpu?.usageCoreNanoSeconds !== undefined) lines.push(`container_cpu_usage_seconds_total{container="${escapeLabel(c.name)}",namespace="${escapeLabel(p.podRef.namespace)}",pod="${escapeLabel(p.podRef.name)}"} ${c.cpu.usageCoreNanoSeconds / 1e9}${ms(c.cpu.time)}`);
    }
  }
  family("container_memory_working_set_bytes", "[STABLE] Current working set of the container in bytes", "gauge");
  for (const p of s.pods) {
    for (const c of p.containers) {
      if (c.memory?.workingSetBytes !== undefined) lines.push(`container_memory_working_set_bytes{container="${escapeLabel(c.name)}",namespace="${escapeLabel(p.podRef.namespace)}",pod="${escapeLabel(p.podRef.name)}"} ${c.memory.workingSetBytes}${ms(c.memory.time)}`);
    }
  }
  family("container_start_time_seconds", "[STABLE] Start time of the container since unix epoch in seconds", "gauge");
  for (const p of s.pods) {
    for (const c of p.containers) lines.push(`container_start_time_seconds{container="${escapeLabel(c.name)}",namespace="${escapeLabel(p.podRef.namespace)}",pod="${escapeLabel(p.podRef.name)}"} ${Date.parse(c.startTime) / 1000}`);
  }
  family("scrape_error", "[ALPHA] 1 if there was an error while getting container metrics, 0 otherwise", "gauge");
  lines.push("scrape_error 0");
  return lines.join("\n") + "\n";
}
