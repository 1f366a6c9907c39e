import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Affinity, PodAffinityTerm } from "kubernetes-types/core/v1.js";
import { cacheWith, makeNode, makePod, podInfo } from "../fixtures.js";
import { Code, CycleState, type Status } from "../framework/types.js";
import { InterPodAffinity } from "./interpodaffinity.js";

// Two zones, two nodes each.
const nodes = [
  makeNode("a1", { labels: { zone: "a" } }),
  makeNode("a2", { labels: { zone: "a" } }),
  makeNode("b1", { labels: { zone: "b" } }),
  makeNode("b2", { labels: { zone: "b" } }),
  makeNode("nolabel"),
];

const term = (app: string, topologyKey: string, extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({ labelSelector: { matchLabels: { app } }, topologyKey, ...extra });

function run(existing: ReturnType<typeof makePod>[], affinity: Affinity, labels: Record<string, string> = {}, namespaces: { name: string; labels: Record<string, string> }[] = []): Record<string, string> {
  const { handle } = cacheWith(nodes, existing, namespaces);
  const pl = new InterPodAffinity(handle);
  const pod = podInfo("incoming", { labels, spec: { affinity } });
  const state = new CycleState();
  const pre = pl.preFilter(state, pod);
  const out: Record<string, string> = {};
  for (const n of handle.snapshot.list()) {
    let s: Status | null = null;
    if (pre.status?.code !== Code.Skip) s = pl.filter(state, pod, n);
    out[n.name] = s === null ? "ok" : `${s.code === Code.Unschedulable ? "U" : "UU"}: ${s.reasons.join(",")}`;
  }
  return out;
}

describe("InterPodAffinity filter", () => {
  it("required affinity: only the zone holding a matching pod", () => {
    const r = run([makePod("db", { labels: { app: "db" }, nodeName: "b1" })], { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("db", "zone")] } });
    assert.equal(r["b1"], "ok");
    assert.equal(r["b2"], "ok");
    assert.equal(r["a1"], "UU: node(s) didn't match pod affinity rules");
    assert.equal(r["nolabel"], "UU: node(s) didn't match pod affinity rules");
  });

  it("required affinity to itself: the first pod of the group may go anywhere with the key", () => {
    const r = run([], { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web", "zone")] } }, { app: "web" });
    assert.equal(r["a1"], "ok");
    assert.equal(r["b2"], "ok");
    assert.equal(r["nolabel"], "UU: node(s) didn't match pod affinity rules");
  });

  it("required affinity to a group that does not exist and does not match itself", () => {
    const r = run([], { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("db", "zone")] } }, { app: "web" });
    assert.equal(r["a1"], "UU: node(s) didn't match pod affinity rules");
  });

  it("required anti-affinity per host", () => {
    const r = run([makePod("web-0", { labels: { app: "web" }, nodeName: "a1" })], { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web", "kubernetes.io/hostname")] } }, { app: "web" });
    assert.equal(r["a1"], "U: node(s) didn't match pod anti-affinity rules");
    assert.equal(r["a2"], "ok");
  });

  it("required anti-affinity per zone", () => {
    const r = run([makePod("web-0", { labels: { app: "web" }, nodeName: "a1" })], { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web", "zone")] } }, { app: "web" });
    assert.equal(r["a2"], "U: node(s) didn't match pod anti-affinity rules");
    assert.equal(r["b1"], "ok");
    assert.equal(r["nolabel"], "ok");
  });

  it("existing pods' anti-affinity keeps the incoming pod out of their domain", () => {
    const loner = makePod("loner", { labels: { app: "loner" }, nodeName: "b1", spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web", "zone")] } } } });
    const r = run([loner], {}, { app: "web" });
    assert.equal(r["b1"], "U: node(s) didn't satisfy existing pods anti-affinity rules");
    assert.equal(r["b2"], "U: node(s) didn't satisfy existing pods anti-affinity rules");
    assert.equal(r["a1"], "ok");
  });

  it("terms only see the namespaces they name", () => {
    const other = makePod("db", { labels: { app: "db" }, nodeName: "b1", namespace: "other" });
    assert.equal(run([other], { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("db", "zone")] } })["b1"], "UU: node(s) didn't match pod affinity rules");
    assert.equal(run([other], { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("db", "zone", { namespaces: ["other"] })] } })["b1"], "ok");
  });

  it("namespaceSelector picks namespaces by label; {} means all", () => {
    const other = makePod("db", { labels: { app: "db" }, nodeName: "b1", namespace: "other" });
    const ns: { name: string; labels: Record<string, string> }[] = [{ name: "other", labels: { team: "data" } }, { name: "default", labels: {} }];
    assert.equal(run([other], { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("db", "zone", { namespaceSelector: { matchLabels: { team: "data" } } })] } }, {}, ns)["b1"], "ok");
    assert.equal(run([other], { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("db", "zone", { namespaceSelector: { matchLabels: { team: "web" } } })] } }, {}, ns)["b1"], "UU: node(s) didn't match pod affinity rules");
    assert.equal(run([other], { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("db", "zone", { namespaceSelector: {} })] } }, {}, ns)["b1"], "ok");
  });

  it("PreFilter skips when nothing has required terms", () => {
    const { handle } = cacheWith(nodes, [makePod("x", { nodeName: "a1" })]);
    assert.equal(new InterPodAffinity(handle).preFilter(new CycleState(), podInfo("p")).status?.code, Code.Skip);
  });

  it("AddPod/RemovePod keep the counts (preemption's dry run)", () => {
    const { handle } = cacheWith(nodes, []);
    const pl = new InterPodAffinity(handle);
    const pod = podInfo("p", { labels: { app: "web" }, spec: { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("web", "kubernetes.io/hostname")] } } } });
    const state = new CycleState();
    pl.preFilter(state, pod);
    const a1 = handle.snapshot.get("a1")!;
    const other = podInfo("web-0", { labels: { app: "web" }, nodeName: "a1" });
    pl.addPod(state, pod, other, a1);
    assert.equal(pl.filter(state, pod, a1)?.code, Code.Unschedulable);
    pl.removePod(state, pod, other, a1);
    assert.equal(pl.filter(state, pod, a1), null);
  });
});

describe("InterPodAffinity score", () => {
  it("preferred affinity and anti-affinity move scores per topology domain", () => {
    const existing = [makePod("db", { labels: { app: "db" }, nodeName: "a1" }), makePod("cache", { labels: { app: "cache" }, nodeName: "b1" })];
    const { handle } = cacheWith(nodes, existing);
    const pl = new InterPodAffinity(handle);
    const pod = podInfo("p", {
      spec: {
        affinity: {
          podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term("db", "zone") }] },
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term("cache", "kubernetes.io/hostname") }] },
        },
      },
    });
    const state = new CycleState();
    assert.equal(pl.preScore(state, pod), null);
    const list = handle.snapshot.list();
    const raw = new Float64Array(list.map((n) => pl.score(state, pod, n)));
    const byName = Object.fromEntries(list.map((n, i) => [n.name, raw[i]]));
    assert.deepEqual(byName, { a1: 10, a2: 10, b1: -5, b2: 0, nolabel: 0 });
    pl.normalizeScore(state, pod, raw);
    const norm = Object.fromEntries(list.map((n, i) => [n.name, raw[i]]));
    assert.deepEqual(norm, { a1: 100, a2: 100, b1: 0, b2: 33, nolabel: 33 });
  });

  it("existing pods' required affinity attracts matching pods (hardPodAffinityWeight 1)", () => {
    const existing = [makePod("follower", { labels: { app: "f" }, nodeName: "b2", spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term("leader", "zone")] } } } })];
    const { handle } = cacheWith(nodes, existing);
    const pl = new InterPodAffinity(handle);
    const pod = podInfo("leader", { labels: { app: "leader" } });
    const state = new CycleState();
    assert.equal(pl.preScore(state, pod), null);
    assert.equal(pl.score(state, pod, handle.snapshot.get("b1")!), 1);
    assert.equal(pl.score(state, pod, handle.snapshot.get("a1")!), 0);
  });

  it("skips when no pod anywhere has affinity and the pod has no preferred terms", () => {
    const { handle } = cacheWith(nodes, [makePod("x", { nodeName: "a1" })]);
    assert.equal(new InterPodAffinity(handle).preScore(new CycleState(), podInfo("p"))?.code, Code.Skip);
  });
});
