import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseResourceMetrics, parseSeries, usageBetween } from "./points.js";
import { MetricsStore } from "./store.js";

/** A kubelet's /metrics/resource answer, as ours writes it (kubelet/server/stats.ts). */
function exposition(o: { at: number; nodeCpu: number; nodeMem: number; pods: { ns: string; pod: string; containers: { name: string; cpu: number; mem: number; start: number }[] }[] }): string {
  const lines = ["# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds", "# TYPE node_cpu_usage_seconds_total counter"];
  lines.push(`node_cpu_usage_seconds_total ${o.nodeCpu} ${o.at}`, `node_memory_working_set_bytes ${o.nodeMem} ${o.at}`);
  for (const p of o.pods) {
    for (const c of p.containers) {
      const labels = `container="${c.name}",namespace="${p.ns}",pod="${p.pod}"`;
      lines.push(`container_cpu_usage_seconds_total{${labels}} ${c.cpu} ${o.at}`, `container_memory_working_set_bytes{${labels}} ${c.mem} ${o.at}`, `container_start_time_seconds{${labels}} ${c.start / 1000}`);
    }
  }
  lines.push("scrape_error 0");
  return lines.join("\n") + "\n";
}

void describe("resource metrics points", () => {
  void it("reads sample lines with labels, escapes and timestamps, and skips what is not one", () => {
    assert.deepEqual(parseSeries('container_cpu_usage_seconds_total{container="c",namespace="a\\"b",pod="p\\\\q"} 1.5 1700000000000'), {
      name: "container_cpu_usage_seconds_total",
      labels: { container: "c", namespace: 'a"b', pod: "p\\q" },
      value: 1.5,
      timestampMs: 1700000000000,
    });
    assert.deepEqual(parseSeries("scrape_error 0"), { name: "scrape_error", labels: {}, value: 0, timestampMs: undefined });
    for (const line of ["", "# HELP x y", "x{a=\"b\"", "x{a=b} 1", "x notanumber", "{a=\"b\"} 1"]) assert.equal(parseSeries(line), undefined, line);
  });

  void it("makes a node point and complete pods' container points; a pod missing a container's reading is left out", () => {
    const text =
      exposition({ at: 1000, nodeCpu: 100, nodeMem: 4096, pods: [{ ns: "default", pod: "web", containers: [{ name: "a", cpu: 2, mem: 100, start: 500 }, { name: "b", cpu: 1, mem: 50, start: 500 }] }] }) +
      'container_cpu_usage_seconds_total{container="x",namespace="default",pod="half"} 1 1000\n';
    const points = parseResourceMetrics(text, 9999);
    assert.deepEqual(points.node, { timestampMs: 1000, cpuSeconds: 100, memoryBytes: 4096 });
    assert.deepEqual([...points.pods.keys()], ["default/web"]);
    assert.deepEqual(points.pods.get("default/web")!.get("a"), { timestampMs: 1000, cpuSeconds: 2, memoryBytes: 100, startMs: 500 });
    // Samples without a timestamp were taken when scraped.
    assert.equal(parseResourceMetrics("node_cpu_usage_seconds_total 5\nnode_memory_working_set_bytes 7\n", 1234).node?.timestampMs, 1234);
    assert.equal(parseResourceMetrics("node_memory_working_set_bytes 7\n", 1234).node, undefined);
  });

  void it("gives usage over the window between two points, none across a restart or without time passing", () => {
    const prev = { timestampMs: 10_000, cpuSeconds: 1, memoryBytes: 10, startMs: 0 };
    assert.deepEqual(usageBetween(prev, { timestampMs: 12_000, cpuSeconds: 2, memoryBytes: 20, startMs: 0 }), { timestampMs: 12_000, windowMs: 2000, cpuNanoCores: 500_000_000, memoryBytes: 20 });
    assert.equal(usageBetween(prev, { ...prev }), undefined);
    assert.equal(usageBetween(prev, { timestampMs: 12_000, cpuSeconds: 0.5, memoryBytes: 20, startMs: 0 }), undefined);
    assert.equal(usageBetween(prev, { timestampMs: 12_000, cpuSeconds: 3, memoryBytes: 20, startMs: 11_000 }), undefined);
  });
});

void describe("MetricsStore", () => {
  const scrape = (at: number, cpu: number, containers = [{ name: "a", cpu: cpu / 10, mem: 100, start: 0 }]) =>
    parseResourceMetrics(exposition({ at, nodeCpu: cpu, nodeMem: 1 << 20, pods: [{ ns: "default", pod: "web", containers }] }), at);

  void it("needs two scrapes of a node for its usage and its pods'", () => {
    const s = new MetricsStore();
    s.record("n1", scrape(1000, 10), 1000);
    assert.equal(s.nodeUsage("n1"), undefined);
    assert.equal(s.podUsage("default", "web"), undefined);
    s.record("n1", scrape(3000, 12), 3000);
    assert.deepEqual(s.nodeUsage("n1"), { timestampMs: 3000, windowMs: 2000, cpuNanoCores: 1_000_000_000, memoryBytes: 1 << 20 });
    assert.deepEqual(s.podUsage("default", "web"), { timestampMs: 3000, windowMs: 2000, containers: [{ name: "a", cpuNanoCores: 100_000_000, memoryBytes: 100 }] });
    assert.equal(s.podUsage("default", "other"), undefined);
  });

  void it("keeps the earlier point when the kubelet answers the same samples again", () => {
    const s = new MetricsStore();
    s.record("n1", scrape(1000, 10), 1000);
    s.record("n1", scrape(3000, 12), 3000);
    s.record("n1", scrape(3000, 12), 3500);
    assert.equal(s.nodeUsage("n1")?.windowMs, 2000);
  });

  void it("has no pod usage while one of its containers has only one point, and forgets a node", () => {
    const s = new MetricsStore();
    s.record("n1", scrape(1000, 10), 1000);
    s.record("n1", scrape(2000, 11, [{ name: "a", cpu: 1, mem: 1, start: 0 }, { name: "b", cpu: 1, mem: 1, start: 0 }]), 2000);
    assert.equal(s.podUsage("default", "web"), undefined);
    s.forget("n1");
    assert.equal(s.nodeUsage("n1"), undefined);
    assert.deepEqual([...s.nodeNames()], []);
  });
});
