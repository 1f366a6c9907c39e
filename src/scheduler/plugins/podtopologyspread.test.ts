import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { TopologySpreadConstraint } from "kubernetes-types/core/v1.js";
import { cacheWith, makeNode, makePod, podInfo } from "../fixtures.js";
import { Code, CycleState } from "../framework/types.js";
import { PodTopologySpread } from "./podtopologyspread.js";

const nodes = [
  makeNode("a1", { labels: { zone: "a" } }),
  makeNode("a2", { labels: { zone: "a" } }),
  makeNode("b1", { labels: { zone: "b" } }),
  makeNode("c1", { labels: { zone: "c", tier: "gpu" } }),
  makeNode("nozone"),
];

const web = (name: string, nodeName: string): ReturnType<typeof makePod> => makePod(name, { labels: { app: "web" }, nodeName });
const constraint = (c: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "web" } }, ...c });

function filter(existing: ReturnType<typeof makePod>[], constraints: TopologySpreadConstraint[], extra: Parameters<typeof podInfo>[1] = {}): Record<string, string> {
  const { handle } = cacheWith(nodes, existing);
  const pl = new PodTopologySpread(handle);
  const pod = podInfo("incoming", { labels: { app: "web" }, ...extra, spec: { topologySpreadConstraints: constraints, ...extra.spec } });
  const state = new CycleState();
  const pre = pl.preFilter(state, pod);
  assert.equal(pre.status, null);
  const out: Record<string, string> = {};
  for (const n of handle.snapshot.list()) {
    const s = pl.filter(state, pod, n);
    out[n.name] = s === null ? "ok" : `${s.code === Code.Unschedulable ? "U" : "UU"}: ${s.reasons.join(",")}`;
  }
  return out;
}

describe("PodTopologySpread filter", () => {
  it("maxSkew 1 over zones: only the emptiest zones", () => {
    const r = filter([web("w1", "a1"), web("w2", "b1")], [constraint()]);
    assert.equal(r["c1"], "ok");
    assert.equal(r["a1"], "U: node(s) didn't match pod topology spread constraints");
    assert.equal(r["b1"], "U: node(s) didn't match pod topology spread constraints");
    assert.equal(r["nozone"], "UU: node(s) didn't match pod topology spread constraints (missing required label)");
  });

  it("maxSkew 2 allows one more", () => {
    const r = filter([web("w1", "a1"), web("w2", "b1")], [constraint({ maxSkew: 2 })]);
    assert.equal(r["a1"], "ok");
    assert.equal(r["c1"], "ok");
  });

  it("pods of other apps, other namespaces and terminating pods do not count", () => {
    const r = filter([makePod("x", { labels: { app: "db" }, nodeName: "a1" }), makePod("y", { labels: { app: "web" }, nodeName: "a1", namespace: "other" }), makePod("z", { labels: { app: "web" }, nodeName: "a1", deleting: true })], [constraint()]);
    assert.equal(r["a1"], "ok");
  });

  it("nodeAffinityPolicy Honor leaves nodes the pod cannot use out of the domains", () => {
    // With only zones a and b eligible, zone c's emptiness does not hold the others back.
    const existing = [web("w1", "a1"), web("w2", "b1")];
    const spec = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }] }] } } } };
    assert.equal(filter(existing, [constraint()], { spec })["a1"], "ok");
    assert.equal(filter(existing, [constraint({ nodeAffinityPolicy: "Ignore" })], { spec })["a1"], "U: node(s) didn't match pod topology spread constraints");
  });

  it("minDomains: fewer domains than required makes the global minimum 0", () => {
    const existing = [web("w1", "a1"), web("w2", "b1"), web("w3", "c1")];
    assert.equal(filter(existing, [constraint()])["a1"], "ok");
    assert.equal(filter(existing, [constraint({ minDomains: 4 })])["a1"], "U: node(s) didn't match pod topology spread constraints");
  });

  it("hostname spreading", () => {
    const r = filter([web("w1", "a1")], [constraint({ topologyKey: "kubernetes.io/hostname" })]);
    assert.equal(r["a1"], "U: node(s) didn't match pod topology spread constraints");
    assert.equal(r["nozone"], "ok");
  });

  it("ScheduleAnyway constraints never filter", () => {
    const { handle } = cacheWith(nodes, []);
    const pod = podInfo("p", { labels: { app: "web" }, spec: { topologySpreadConstraints: [constraint({ whenUnsatisfiable: "ScheduleAnyway" })] } });
    assert.equal(new PodTopologySpread(handle).preFilter(new CycleState(), pod).status?.code, Code.Skip);
  });
});

describe("PodTopologySpread score", () => {
  it("prefers the domains with fewer matching pods; nodes missing the key are ignored", () => {
    const { handle } = cacheWith(nodes, [web("w1", "a1"), web("w2", "a2"), web("w3", "b1")]);
    const pl = new PodTopologySpread(handle);
    const pod = podInfo("p", { labels: { app: "web" }, spec: { topologySpreadConstraints: [constraint({ whenUnsatisfiable: "ScheduleAnyway" })] } });
    const list = handle.snapshot.list();
    const state = new CycleState();
    assert.equal(pl.preScore(state, pod, list), null);
    const scores = new Float64Array(list.map((n) => pl.score(state, pod, n)));
    pl.normalizeScore(state, pod, scores, list);
    const s = Object.fromEntries(list.map((n, i) => [n.name, scores[i]]));
    assert.equal(s["nozone"], 0);
    assert.ok(s["c1"]! > s["b1"]! && s["b1"]! > s["a1"]!, JSON.stringify(s));
    assert.equal(s["a1"], s["a2"]);
    assert.equal(s["c1"], 100);
  });
});

describe("PodTopologySpread domain cache", () => {
  it("recomputes domains when a node changes its labels", () => {
    const { cache, handle } = cacheWith([makeNode("a1", { labels: { zone: "a" } }), makeNode("b1", { labels: { zone: "b" } })], [web("w1", "a1")]);
    const pl = new PodTopologySpread(handle);
    const pod = podInfo("incoming", { labels: { app: "web" }, spec: { topologySpreadConstraints: [constraint()] } });
    const run = (): string | undefined => {
      const state = new CycleState();
      pl.preFilter(state, pod);
      return pl.filter(state, pod, handle.snapshot.get("a1")!)?.reasons[0];
    };
    assert.equal(run(), "node(s) didn't match pod topology spread constraints");
    // b1 moves to zone a: zone b, the empty domain, is gone.
    cache.updateNode(makeNode("b1", { labels: { zone: "a" } }));
    assert.equal(run(), undefined);
  });
});
