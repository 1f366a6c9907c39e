import { test } from "node:test";
import assert from "node:assert/strict";
import { Compactor } from "./compactor.js";
import { compacted, unavailable } from "./errors.js";

class FakeStore {
  revision = 0;
  compactions: number[] = [];
  failWith: Error | undefined;
  async currentRevision(): Promise<number> {
    return this.revision;
  }
  async compact(revision?: number): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.compactions.push(revision ?? this.revision);
  }
}

void test("compacts to the newest revision that is both minRevisions behind and minAgeMs old", async () => {
  const store = new FakeStore();
  let now = 0;
  const c = new Compactor({ store, options: { minRevisions: 50, minAgeMs: 1500, intervalMs: 1000 }, now: () => now });
  const step = async (time: number, revision: number): Promise<number | undefined> => {
    now = time;
    store.revision = revision;
    return c.runOnce();
  };
  assert.equal(await step(0, 0), undefined);
  assert.equal(await step(1000, 100), undefined);
  // Nothing but revision 0 is 1.5 s old yet.
  assert.equal(await step(2000, 300), undefined);
  // Revision 100 (seen at t=1000) is now old enough; the revision bound allows up to 350.
  assert.equal(await step(3000, 400), 100);
  // Revision 300 (seen at t=2000) is old enough and below the revision bound of 320.
  assert.equal(await step(4000, 370), 300);
  // Few writes since: the revision bound (390 - 50 = 340) limits it below the aged 370.
  assert.equal(await step(5000, 390), 340);
  // Nothing new is due: no call.
  assert.equal(await step(5100, 390), undefined);
  assert.deepEqual(store.compactions, [100, 300, 340]);
});

void test("someone else having compacted further is not an error; other errors reach onError and runs go on", async () => {
  const store = new FakeStore();
  const errors: unknown[] = [];
  const c = new Compactor({ store, options: { minRevisions: 0, minAgeMs: 0, intervalMs: 5 }, onError: (e) => errors.push(e) });
  store.revision = 10;
  store.failWith = compacted(10, 20);
  assert.equal(await c.runOnce(), 10);
  store.revision = 30;
  store.failWith = unavailable("etcd down");
  c.start();
  const deadline = Date.now() + 5000;
  while (errors.length === 0) {
    assert.ok(Date.now() < deadline, "the error never reached onError");
    await new Promise((r) => setTimeout(r, 5));
  }
  store.failWith = undefined;
  while (!store.compactions.includes(30)) {
    assert.ok(Date.now() < deadline, "the compactor stopped after an error");
    await new Promise((r) => setTimeout(r, 5));
  }
  await c.stop();
  const calls = store.compactions.length;
  store.revision = 40;
  // An absence can only be watched for a while: six intervals without a run.
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(store.compactions.length, calls, "no run after stop()");
});

void test("intervalMs 0 disables automatic runs", async () => {
  const store = new FakeStore();
  store.revision = 100;
  let reads = 0;
  const c = new Compactor({
    store: { currentRevision: async () => (reads++, store.revision), compact: (r) => store.compact(r) },
    options: { minRevisions: 0, minAgeMs: 0, intervalMs: 0 },
  });
  c.start();
  await c.stop();
  assert.equal(reads, 0);
});
