import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { FakeClock } from "../client/clock.js";
import { FakeApi } from "../controllers/testing/index.js";
import { createLogger } from "../util/log.js";
import { LeaseRenewer, NODE_LEASE_NAMESPACE } from "./leases.js";

const log = createLogger("silent");
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(intervalMs = 1000): { api: FakeApi; clock: FakeClock; renewer: LeaseRenewer } {
  const api = new FakeApi();
  const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
  const renewer = new LeaseRenewer({ api: api.resource<Lease>("coordination.k8s.io", "v1", "leases").namespace(NODE_LEASE_NAMESPACE), clock, log, intervalMs, durationSeconds: 40 });
  return { api, clock, renewer };
}

void describe("LeaseRenewer", () => {
  void it("creates each node's lease, owned by the node, when it registers", async () => {
    const { api, renewer } = setup();
    await renewer.register({ name: "sim-0", uid: "node-uid" });
    const lease = api.object<Lease>("coordination.k8s.io", "leases", NODE_LEASE_NAMESPACE, "sim-0")!;
    assert.equal(lease.spec?.holderIdentity, "sim-0");
    assert.equal(lease.spec?.leaseDurationSeconds, 40);
    assert.equal(lease.spec?.renewTime, "2026-01-01T00:00:00.000000Z");
    assert.deepEqual(lease.metadata?.ownerReferences, [{ apiVersion: "v1", kind: "Node", name: "sim-0", uid: "node-uid" }]);
  });

  void it("renews every lease once per interval, spread evenly over it", async () => {
    const { api, clock, renewer } = setup();
    for (let i = 0; i < 10; i++) await renewer.register({ name: `sim-${i}`, uid: `u${i}` });
    api.clear();
    const ac = new AbortController();
    const run = renewer.run(ac.signal);
    const perStep: number[] = [];
    for (let step = 0; step < 20; step++) {
      const before = api.writes().length;
      clock.step(100);
      await settle();
      perStep.push(api.writes().length - before);
    }
    ac.abort();
    await run;
    // The first round starts one interval after registration; then one renewal per 100 ms slot.
    assert.deepEqual(perStep.slice(0, 9), [0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.ok(perStep.slice(10).every((n) => n === 1), perStep.join(","));
    const renewed = new Map<string, number>();
    for (const a of api.writes()) renewed.set(a.name, (renewed.get(a.name) ?? 0) + 1);
    assert.equal(renewed.size, 10);
    assert.ok([...renewed.values()].every((n) => n === 1 || n === 2));
    assert.equal(renewer.stats.renewals, api.writes().length);
    assert.equal(renewer.stats.failures, 0);
  });

  void it("re-reads a lease someone else changed and recreates a deleted one", async () => {
    const { api, clock, renewer } = setup();
    await renewer.register({ name: "a", uid: "ua" });
    await renewer.register({ name: "b", uid: "ub" });
    const leases = api.resource<Lease>("coordination.k8s.io", "v1", "leases").namespace(NODE_LEASE_NAMESPACE);
    const a = await leases.get("a");
    await leases.update({ ...a, metadata: { ...a.metadata, labels: { touched: "yes" } } });
    await leases.delete("b");
    api.clear();
    const ac = new AbortController();
    const run = renewer.run(ac.signal);
    for (let i = 0; i < 15; i++) {
      clock.step(100);
      await settle();
    }
    ac.abort();
    await run;
    assert.deepEqual(api.actions.map((x) => `${x.verb} ${x.name}${x.error ? " (failed)" : ""}`), ["update a (failed)", "get a", "update a", "update b (failed)", "create b"]);
    assert.equal(api.object<Lease>("coordination.k8s.io", "leases", NODE_LEASE_NAMESPACE, "a")!.metadata?.labels?.["touched"], "yes");
    assert.equal(renewer.stats.failures, 0);
  });

  void it("keeps a node whose first lease write failed in the rota", async () => {
    const { api, clock, renewer } = setup();
    api.failOn({ verb: "create" }, new Error("connection refused"), { times: 1 });
    await renewer.register({ name: "a", uid: "ua" });
    assert.equal(renewer.size, 1);
    assert.equal(renewer.stats.failures, 1);
    const ac = new AbortController();
    const run = renewer.run(ac.signal);
    for (let i = 0; i < 15; i++) {
      clock.step(100);
      await settle();
    }
    ac.abort();
    await run;
    assert.ok(api.object<Lease>("coordination.k8s.io", "leases", NODE_LEASE_NAMESPACE, "a"));
  });

  void it("counts failures and tries again next round", async () => {
    const { api, clock, renewer } = setup();
    await renewer.register({ name: "a", uid: "ua" });
    api.failOn({ verb: "update" }, new Error("connection refused"), { times: 1 });
    const ac = new AbortController();
    const run = renewer.run(ac.signal);
    for (let i = 0; i < 25; i++) {
      clock.step(100);
      await settle();
    }
    ac.abort();
    await run;
    assert.equal(renewer.stats.failures, 1);
    assert.equal(renewer.stats.renewals, 1);
  });
});
