import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Volume } from "kubernetes-types/core/v1.js";
import { cacheWith, FakeVolumes, makeClaim, makeNode, makePod, makeVolume, podInfo } from "../fixtures.js";
import { newPodInfo } from "../framework/podinfo.js";
import { Code, CycleState } from "../framework/types.js";
import { ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT, VolumeRestrictions } from "./volumerestrictions.js";

const claimVolume = (claim: string): Volume => ({ name: "d", persistentVolumeClaim: { claimName: claim } });
const volumes = new FakeVolumes([
  makeClaim("solo", { accessModes: ["ReadWriteOncePod"], boundTo: "pv-solo" }),
  makeClaim("shared", { accessModes: ["ReadWriteOnce"], boundTo: "pv-shared" }),
  makeVolume("pv-solo", { accessModes: ["ReadWriteOncePod"] }),
]);
const nodes = [makeNode("a"), makeNode("b")];
const holder = makePod("holder", { nodeName: "a", spec: { volumes: [claimVolume("solo")] } });

describe("VolumeRestrictions (ReadWriteOncePod)", () => {
  it("skips pods without claims, with claims of other modes, and with ReadWriteOncePod claims nobody uses", () => {
    const { handle } = cacheWith(nodes, [makePod("other", { nodeName: "a", spec: { volumes: [claimVolume("shared")] } })]);
    const pl = new VolumeRestrictions(handle, volumes);
    assert.equal(pl.preFilter(new CycleState(), podInfo("p")).status?.code, Code.Skip);
    assert.equal(pl.preFilter(new CycleState(), podInfo("p", { spec: { volumes: [claimVolume("shared")] } })).status?.code, Code.Skip);
    assert.equal(pl.preFilter(new CycleState(), podInfo("p", { spec: { volumes: [claimVolume("solo")] } })).status?.code, Code.Skip);
  });

  it("rejects a missing claim as upstream does", () => {
    const { handle } = cacheWith(nodes);
    const s = new VolumeRestrictions(handle, volumes).preFilter(new CycleState(), podInfo("p", { spec: { volumes: [claimVolume("nope")] } })).status;
    assert.equal(s?.code, Code.UnschedulableAndUnresolvable);
    assert.deepEqual(s?.reasons, ['persistentvolumeclaim "nope" not found']);
  });

  it("a ReadWriteOncePod claim another pod uses fits no node, until that pod is removed (preemption)", () => {
    const { handle, cache } = cacheWith(nodes, [holder]);
    const pl = new VolumeRestrictions(handle, volumes);
    const pod = podInfo("p", { spec: { volumes: [claimVolume("solo")] } });
    const state = new CycleState();
    assert.equal(pl.preFilter(state, pod).status, null);
    for (const n of cache.list()) {
      const s = pl.filter(state, pod, n);
      assert.equal(s?.code, Code.Unschedulable, "preemption may help");
      assert.deepEqual(s?.reasons, [ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT]);
    }
    const copy = state.clone();
    pl.removePod(copy, pod, newPodInfo(holder), cache.get("a")!);
    assert.equal(pl.filter(copy, pod, cache.get("b")!), null);
    assert.notEqual(pl.filter(state, pod, cache.get("b")!), null, "the original state is untouched");
    assert.deepEqual(pl.explain(pod), [{ claim: "solo", pod: "holder", node: "a" }]);
  });

  it("a pod in another namespace using a claim of the same name is no conflict", () => {
    const { handle } = cacheWith(nodes, [makePod("holder", { namespace: "other", nodeName: "a", spec: { volumes: [claimVolume("solo")] } })]);
    assert.equal(new VolumeRestrictions(handle, volumes).preFilter(new CycleState(), podInfo("p", { spec: { volumes: [claimVolume("solo")] } })).status?.code, Code.Skip);
  });
});
