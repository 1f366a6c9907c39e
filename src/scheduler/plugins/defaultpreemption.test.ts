import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../../util/log.js";
import { cacheWith, FakeSchedulerApi, makeNode, makePod, podInfo, RecordingEvents } from "../fixtures.js";
import { Framework } from "../framework/framework.js";
import { Nominator } from "../framework/nominator.js";
import { CycleState } from "../framework/types.js";
import { filterOnlyProfile } from "../profile.js";
import { DefaultPreemption, pickOneNodeForPreemption, splitByPDBViolation, type Candidate, type RPDB } from "./defaultpreemption.js";

const pdb = (name: string, app: string, allowed: number, disrupted: string[] = []): RPDB => ({
  metadata: { name, namespace: "default" },
  spec: { selector: { matchLabels: { app } } },
  status: { disruptionsAllowed: allowed, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, ...(disrupted.length ? { disruptedPods: Object.fromEntries(disrupted.map((d) => [d, "2024-01-01T00:00:00Z"])) } : {}) },
});

describe("DefaultPreemption", () => {
  it("splits victims by PDB, spending each budget's allowance in order", () => {
    const pods = ["a", "b", "c"].map((n) => podInfo(n, { labels: { app: "db" } }));
    const { violating, nonViolating } = splitByPDBViolation(pods, [pdb("p", "db", 1)]);
    assert.deepEqual(nonViolating.map((p) => p.name), ["a"]);
    assert.deepEqual(violating.map((p) => p.name), ["b", "c"]);
    // A pod the PDB already counts as disrupted does not spend the allowance again.
    assert.equal(splitByPDBViolation([podInfo("x", { labels: { app: "db" } })], [pdb("p", "db", 0, ["x"])]).violating.length, 0);
  });

  it("picks the node with fewest PDB violations, then the lowest highest victim priority, then fewest victims", () => {
    const v = (name: string, priority: number): ReturnType<typeof podInfo> => podInfo(name, { priority });
    const c = (nodeName: string, victims: ReturnType<typeof podInfo>[], numPDBViolations = 0): Candidate => ({ nodeName, victims, numPDBViolations });
    assert.equal(pickOneNodeForPreemption([c("a", [v("1", 1)], 1), c("b", [v("2", 50)])]).nodeName, "b");
    assert.equal(pickOneNodeForPreemption([c("a", [v("1", 10)]), c("b", [v("2", 5), v("3", 5)])]).nodeName, "b");
    assert.equal(pickOneNodeForPreemption([c("a", [v("1", 5), v("2", 5)]), c("b", [v("3", 5), v("4", 1)])]).nodeName, "b");
    assert.equal(pickOneNodeForPreemption([c("a", [v("1", 5), v("2", 5)]), c("b", [v("3", 10)])]).nodeName, "a");
  });

  it("evicts as few pods as possible, lowest priority first, sparing PDB-protected ones when it can", () => {
    const node = makeNode("n", { cpu: "4" });
    const bound = [
      makePod("low-1", { cpu: "1", priority: 1, nodeName: "n", labels: { app: "db" } }),
      makePod("low-2", { cpu: "1", priority: 1, nodeName: "n", labels: { app: "web" } }),
      makePod("mid", { cpu: "1", priority: 5, nodeName: "n" }),
      makePod("peer", { cpu: "1", priority: 100, nodeName: "n" }),
    ];
    const { handle } = cacheWith([node], bound);
    const fwk = new Framework(filterOnlyProfile(handle));
    const pl = new DefaultPreemption({
      handle,
      framework: () => fwk,
      nominator: new Nominator(),
      pdbs: () => [],
      currentPod: () => undefined,
      api: new FakeSchedulerApi(),
      events: new RecordingEvents(),
      log: createLogger("silent"),
      schedulerName: "default-scheduler",
    });
    const pod = podInfo("p", { cpu: "1", priority: 100 });
    const state = new CycleState();
    fwk.runPreFilter(state, pod);
    const ni = handle.snapshot.get("n")!;
    const r = pl.selectVictimsOnNode(state.clone(), pod, ni.clone(), [pdb("db", "db", 0)]);
    assert.equal(r.status, null);
    assert.deepEqual(r.victims.map((p) => p.name), ["low-2"]);
    assert.equal(r.numPDBViolations, 0);
    // Two slots: PDB-protected pods are reprieved first, so the budget is kept and the
    // unprotected ones go, more important first (upstream's order).
    const two = pl.selectVictimsOnNode(state.clone(), podInfo("p2", { cpu: "2", priority: 100 }), ni.clone(), [pdb("db", "db", 0)]);
    assert.deepEqual(two.victims.map((p) => p.name), ["mid", "low-2"]);
    assert.equal(two.numPDBViolations, 0);
    // Three slots: every lower-priority pod goes, one against its budget.
    const three = pl.selectVictimsOnNode(state.clone(), podInfo("p3", { cpu: "3", priority: 100 }), ni.clone(), [pdb("db", "db", 0)]);
    assert.deepEqual(three.victims.map((p) => p.name).sort(), ["low-1", "low-2", "mid"]);
    assert.equal(three.numPDBViolations, 1);
    assert.equal(ni.pods.length, 4, "the cache's node is untouched");
  });
});
