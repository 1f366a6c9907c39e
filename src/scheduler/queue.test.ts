import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../client/clock.js";
import { makePod } from "./fixtures.js";
import { PodInfoCache, type RPod } from "./framework/podinfo.js";
import type { ClusterEvent } from "./framework/types.js";
import { isPodUpdated, SchedulingQueue, type QueuedPodInfo } from "./queue.js";

const interest: Partial<Record<ClusterEvent, string[]>> = {
  NodeAdd: ["NodeResourcesFit", "TaintToleration"],
  AssignedPodDelete: ["NodeResourcesFit"],
  AssignedPodAdd: ["InterPodAffinity"],
};

function newQueue(clock = new FakeClock(1_000_000)): { q: SchedulingQueue; clock: FakeClock } {
  const infos = new PodInfoCache();
  const q = new SchedulingQueue({ podInfoOf: (p) => infos.get(p), pluginsInterestedIn: (ev) => new Set(interest[ev] ?? []), clock });
  return { q, clock };
}

async function popKey(q: SchedulingQueue): Promise<string> {
  const p = await q.pop();
  assert.ok(p);
  return p.key;
}

/** Pops a pod and fails it with these plugins, as the scheduler does. */
async function failWith(q: SchedulingQueue, plugins: string[]): Promise<QueuedPodInfo> {
  const p = (await q.pop())!;
  p.unschedulablePlugins = new Set(plugins);
  q.addUnschedulableIfNotPresent(p, q.schedulingCycle);
  return p;
}

describe("SchedulingQueue ordering", () => {
  it("pops by priority, then by time queued", async () => {
    const { q, clock } = newQueue();
    q.add(makePod("low", { priority: 0 }));
    clock.step(10);
    q.add(makePod("high", { priority: 1000 }));
    clock.step(10);
    q.add(makePod("low-later", { priority: 0 }));
    q.add(makePod("mid", { priority: 10 }));
    assert.deepEqual([await popKey(q), await popKey(q), await popKey(q), await popKey(q)], ["default/high", "default/mid", "default/low", "default/low-later"]);
    assert.equal(q.schedulingCycle, 4);
  });

  it("pop waits for a pod and resolves undefined once closed", async () => {
    const { q } = newQueue();
    const waiting = q.pop();
    q.add(makePod("p"));
    assert.equal((await waiting)?.key, "default/p");
    const closed = q.pop();
    q.close();
    assert.equal(await closed, undefined);
  });

  it("gated pods wait until their scheduling gates are removed", async () => {
    const { q } = newQueue();
    const gated = makePod("g", { spec: { schedulingGates: [{ name: "example.com/wait" }] } });
    q.add(gated);
    assert.equal(q.where("default/g"), "unschedulable");
    assert.equal(q.moveAllToActiveOrBackoff("WildCard"), 0);
    q.update(gated, makePod("g"));
    assert.equal(q.where("default/g"), "active");
  });
});

describe("SchedulingQueue backoff", () => {
  it("backoff doubles per attempt from 1 s and caps at 10 s", () => {
    const { q } = newQueue();
    const info = { attempts: 0 } as QueuedPodInfo;
    const durations = [0, 1, 2, 3, 4, 5, 6].map((a) => q.backoffDuration({ ...info, attempts: a }));
    assert.deepEqual(durations, [0, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it("a pod failed without rejecting plugins backs off, then returns to activeQ when its timer fires", async () => {
    const { q, clock } = newQueue();
    q.add(makePod("p"));
    await failWith(q, []);
    assert.equal(q.where("default/p"), "backoff");
    clock.step(999);
    assert.equal(q.where("default/p"), "backoff");
    clock.step(1);
    assert.equal(q.where("default/p"), "active");
    // Second failure: 2 s.
    await failWith(q, []);
    clock.step(1999);
    assert.equal(q.where("default/p"), "backoff");
    clock.step(1);
    assert.equal(q.where("default/p"), "active");
  });
});

describe("SchedulingQueue unschedulable pods", () => {
  it("waits for an event one of its rejecting plugins registered for", async () => {
    const { q, clock } = newQueue();
    q.add(makePod("p"));
    await failWith(q, ["NodeResourcesFit"]);
    assert.equal(q.where("default/p"), "unschedulable");
    assert.equal(q.moveAllToActiveOrBackoff("AssignedPodAdd"), 0, "NodeResourcesFit ignores pod adds");
    assert.equal(q.where("default/p"), "unschedulable");
    // Within its backoff the pod goes to backoffQ, after it straight to activeQ.
    assert.equal(q.moveAllToActiveOrBackoff("AssignedPodDelete"), 1);
    assert.equal(q.where("default/p"), "backoff");
    clock.step(1000);
    assert.equal(q.where("default/p"), "active");

    await failWith(q, ["TaintToleration"]);
    clock.step(5000);
    q.moveAllToActiveOrBackoff("NodeAdd");
    assert.equal(q.where("default/p"), "active");
  });

  it("a move request during the attempt sends the pod to backoff instead of unschedulable", async () => {
    const { q } = newQueue();
    q.add(makePod("p"));
    const p = (await q.pop())!;
    const cycle = q.schedulingCycle;
    q.moveAllToActiveOrBackoff("NodeAdd");
    p.unschedulablePlugins = new Set(["NodeResourcesFit"]);
    q.addUnschedulableIfNotPresent(p, cycle);
    assert.equal(q.where("default/p"), "backoff");
  });

  it("is flushed back after 5 minutes without a relevant event", async () => {
    const { q, clock } = newQueue();
    q.add(makePod("p"));
    await failWith(q, ["NodeResourcesFit"]);
    clock.step(4 * 60_000);
    assert.equal(q.where("default/p"), "unschedulable");
    clock.step(90_000);
    assert.equal(q.where("default/p"), "active");
  });

  it("a spec or label update moves it; a status update does not", async () => {
    const { q, clock } = newQueue();
    const v1 = makePod("p");
    q.add(v1);
    await failWith(q, ["NodeResourcesFit"]);
    const statusOnly = { ...v1, metadata: { ...v1.metadata, resourceVersion: "2" }, status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False" }] } } as RPod;
    assert.equal(isPodUpdated(v1, statusOnly), false);
    q.update(v1, statusOnly);
    assert.equal(q.where("default/p"), "unschedulable");
    clock.step(2000);
    const relabelled = makePod("p", { labels: { x: "y" } });
    assert.equal(isPodUpdated(statusOnly, relabelled), true);
    q.update(statusOnly, relabelled);
    assert.equal(q.where("default/p"), "active");
    assert.deepEqual((await q.pop())?.podInfo.labels, { x: "y" });
  });

  it("delete removes a pod from whichever queue holds it", async () => {
    const { q } = newQueue();
    q.add(makePod("a"));
    q.add(makePod("b"));
    await failWith(q, ["NodeResourcesFit"]);
    q.delete("default/a");
    q.delete("default/b");
    assert.deepEqual(q.lengths, { active: 0, backoff: 0, unschedulable: 0 });
  });
});
