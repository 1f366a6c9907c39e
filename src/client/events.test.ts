import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { pino } from "pino";
import type { Pod } from "kubernetes-types/core/v1.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { FakeClock } from "./clock.js";
import { ApiError, ClientError } from "./errors.js";
import { COMBINED_PREFIX, EventRecorder, type CoreEvent, type EventWriter } from "./events.js";
import { createClientFromKubeconfig, type RestClient } from "./rest.js";

const silent = pino({ level: "silent" });

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

const POD = { apiVersion: "v1", kind: "Pod", metadata: { name: "web-1", namespace: "apps", uid: "uid-1", resourceVersion: "7" } } as const;

type Call = { op: "create"; event: CoreEvent } | { op: "patch"; event: CoreEvent; patch: Record<string, unknown> };

/** Stores events like the server would (names, resourceVersions), with scripted failures. */
class FakeWriter implements EventWriter {
  readonly calls: Call[] = [];
  readonly stored = new Map<string, CoreEvent>();
  failures: unknown[] = [];
  private rv = 0;
  gate: Promise<void> | undefined;

  async create(event: CoreEvent): Promise<CoreEvent> {
    this.calls.push({ op: "create", event: structuredClone(event) });
    await this.gate;
    const f = this.failures.shift();
    if (f) throw f;
    const key = `${event.metadata.namespace}/${event.metadata.name}`;
    if (this.stored.has(key)) throw new ApiError({ kind: "Status", status: "Failure", reason: "AlreadyExists", code: 409 });
    const out = { ...structuredClone(event), metadata: { ...event.metadata, resourceVersion: String(++this.rv) } };
    this.stored.set(key, out);
    return out;
  }

  async patch(event: CoreEvent, patch: Record<string, unknown>): Promise<CoreEvent> {
    this.calls.push({ op: "patch", event: structuredClone(event), patch: { ...patch } });
    await this.gate;
    const f = this.failures.shift();
    if (f) throw f;
    const key = `${event.metadata.namespace}/${event.metadata.name}`;
    const cur = this.stored.get(key);
    if (!cur) throw new ApiError({ kind: "Status", status: "Failure", reason: "NotFound", code: 404 });
    const out = { ...cur, ...patch, metadata: { ...cur.metadata, resourceVersion: String(++this.rv) } } as CoreEvent;
    this.stored.set(key, out);
    return out;
  }
}

function recorder(writer: FakeWriter, clock: FakeClock, extra: { queueSize?: number } = {}): EventRecorder {
  return new EventRecorder({ writer, component: "test-controller", log: silent, clock, random: () => 0.5, retryDelayMs: 10_000, ...extra });
}

void describe("EventRecorder (fake writer and clock)", () => {
  void it("creates a complete core/v1 Event, then counts repeats with patches", async () => {
    const clock = new FakeClock(Date.parse("2026-05-01T10:00:00Z"));
    const w = new FakeWriter();
    const r = recorder(w, clock);
    r.event(POD, "Normal", "Started", "started container");
    await r.idle();
    const first = w.calls[0]!;
    assert.equal(first.op, "create");
    const ev = first.event;
    assert.match(ev.metadata.name!, /^web-1\.[0-9a-f]+$/);
    // The time in nanoseconds: the recorder's clock's milliseconds, and below them a random part (0.5 here).
    assert.equal(ev.metadata.name, `web-1.${(BigInt(Date.parse("2026-05-01T10:00:00Z")) * 1_000_000n + 500_000n).toString(16)}`);
    assert.equal(ev.metadata.namespace, "apps");
    assert.deepEqual(ev.involvedObject, { kind: "Pod", apiVersion: "v1", name: "web-1", namespace: "apps", uid: "uid-1", resourceVersion: "7" });
    assert.equal(ev.type, "Normal");
    assert.equal(ev.reason, "Started");
    assert.equal(ev.message, "started container");
    assert.equal(ev.count, 1);
    assert.equal(ev.firstTimestamp, "2026-05-01T10:00:00Z");
    assert.equal(ev.lastTimestamp, "2026-05-01T10:00:00Z");
    assert.deepEqual(ev.source, { component: "test-controller" });
    assert.equal(ev.reportingComponent, "test-controller");

    clock.step(5_000);
    r.event(POD, "Normal", "Started", "started container");
    clock.step(5_000);
    r.event(POD, "Normal", "Started", "started container");
    await r.idle();
    assert.deepEqual(w.calls.map((c) => c.op), ["create", "patch", "patch"]);
    const last = w.calls[2]!;
    assert.ok(last.op === "patch");
    assert.deepEqual(last.patch, { count: 3, lastTimestamp: "2026-05-01T10:00:10Z", message: "started container" });
    assert.equal(last.event.metadata.name, ev.metadata.name, "repeats patch the first event");
    const stored = [...w.stored.values()];
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.count, 3);
    assert.equal(stored[0]!.firstTimestamp, "2026-05-01T10:00:00Z");
    await r.shutdown();
  });

  void it("combines more than 9 distinct messages per object and reason within 10 minutes", async () => {
    const clock = new FakeClock(Date.parse("2026-05-01T10:00:00Z"));
    const w = new FakeWriter();
    const r = recorder(w, clock);
    for (let i = 0; i < 12; i++) {
      r.event(POD, "Warning", "FailedCreate", `attempt ${i} failed`);
      clock.step(1_000);
    }
    await r.idle();
    const creates = w.calls.filter((c) => c.op === "create").map((c) => c.event.message);
    assert.deepEqual(creates.slice(0, 9), Array.from({ length: 9 }, (_, i) => `attempt ${i} failed`));
    assert.equal(creates[9], `${COMBINED_PREFIX}attempt 9 failed`);
    assert.equal(creates.length, 10, "later ones patch the combined event");
    const patches = w.calls.filter((c) => c.op === "patch");
    assert.deepEqual(patches.map((c) => (c.op === "patch" ? c.patch["message"] : "")), [`${COMBINED_PREFIX}attempt 10 failed`, `${COMBINED_PREFIX}attempt 11 failed`]);
    assert.deepEqual(patches.map((c) => (c.op === "patch" ? c.patch["count"] : 0)), [2, 3]);

    // Ten quiet minutes reset the aggregation: a new message is its own event again.
    clock.step(601_000);
    r.event(POD, "Warning", "FailedCreate", "fresh failure");
    await r.idle();
    const lastCall = w.calls.at(-1)!;
    assert.equal(lastCall.op, "create");
    assert.equal(lastCall.event.message, "fresh failure");
    await r.shutdown();
  });

  void it("drops events beyond 25 per source and object, refilling one per 5 minutes", async () => {
    const clock = new FakeClock(0);
    const w = new FakeWriter();
    const r = recorder(w, clock);
    // Distinct reasons: neither aggregated nor deduplicated, so only the spam filter limits them.
    for (let i = 0; i < 30; i++) r.event(POD, "Normal", `Reason${i}`, "m");
    r.event({ ...POD, metadata: { ...POD.metadata, name: "web-2", uid: "uid-2" } }, "Normal", "Other", "another object has its own budget");
    await r.idle();
    assert.equal(w.calls.length, 26);
    clock.step(300_000);
    r.event(POD, "Normal", "Later1", "m");
    r.event(POD, "Normal", "Later2", "m");
    await r.idle();
    assert.equal(w.calls.length, 27, "one token refilled in 5 minutes");
    await r.shutdown();
  });

  void it("retries transport failures after a delay, gives up on refusals, re-creates expired events", async () => {
    const clock = new FakeClock(0);
    const w = new FakeWriter();
    const r = recorder(w, clock);
    w.failures = [new ClientError("Transport", "connection refused"), new ClientError("Transport", "connection refused")];
    r.event(POD, "Normal", "Retried", "m");
    await until(() => w.calls.length === 1 && clock.pending === 1, "first retry scheduled");
    assert.equal(clock.nextTimerAt(), 5_000, "the first retry waits a random part of the delay");
    clock.step(5_000);
    await until(() => w.calls.length === 2 && clock.pending === 1, "second retry scheduled");
    assert.equal(clock.nextTimerAt()! - clock.now(), 10_000);
    clock.step(10_000);
    await r.idle();
    assert.equal(w.stored.size, 1);

    w.failures = [new ApiError({ kind: "Status", status: "Failure", reason: "Invalid", code: 422 })];
    r.event(POD, "Normal", "Refused", "m");
    await r.idle();
    assert.equal(clock.pending, 0, "a refusal is not retried");
    assert.equal(w.stored.size, 1);

    // The stored event disappears (events expire after an hour): the repeat is created anew.
    w.stored.clear();
    r.event(POD, "Normal", "Retried", "m");
    await r.idle();
    assert.deepEqual(w.calls.slice(-2).map((c) => c.op), ["patch", "create"]);
    assert.equal(w.stored.size, 1);
    await r.shutdown();
  });

  void it("bounds its queue, never throws at the caller, and drains on shutdown", async () => {
    const clock = new FakeClock(0);
    const w = new FakeWriter();
    let open!: () => void;
    w.gate = new Promise<void>((r) => (open = r));
    const r = recorder(w, clock, { queueSize: 3 });
    for (let i = 0; i < 10; i++) r.event(POD, "Normal", `R${i}`, "m");
    r.event({ kind: "Pod", metadata: { name: "no-api-version" } }, "Normal", "R", "m");
    r.event(POD, "Bogus" as "Normal", "R", "m");
    await until(() => w.calls.length === 1, "first write in flight");
    const done = r.shutdown();
    r.event(POD, "Normal", "AfterShutdown", "m");
    open();
    await done;
    // The ten calls ran before the worker took anything: three queued, the rest dropped.
    assert.deepEqual(w.calls.map((c) => c.event.reason), ["R0", "R1", "R2"]);
  });

  void it("logs drops on a full queue once per 10 s with their count, not once each", async () => {
    const clock = new FakeClock(0);
    const w = new FakeWriter();
    let open!: () => void;
    w.gate = new Promise<void>((r) => (open = r));
    const lines: { msg: string; dropped?: number }[] = [];
    const log = pino({ level: "error" }, { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string; dropped?: number }) });
    const r = new EventRecorder({ writer: w, component: "test-controller", log, clock, queueSize: 2 });
    for (let i = 0; i < 50; i++) r.event(POD, "Normal", `R${i}`, "m");
    clock.step(10_000);
    for (let i = 0; i < 5; i++) r.event(POD, "Normal", `S${i}`, "m");
    const done = r.shutdown();
    open();
    await done;
    const drops = lines.filter((l) => l.msg.startsWith("too many queued events"));
    assert.deepEqual(drops.map((l) => l.dropped), [1, 48, 4], "the first at once, the rest of the burst with the next, the remainder at shutdown");
  });

  void it("files events about cluster-scoped objects in the default namespace", async () => {
    const w = new FakeWriter();
    const r = recorder(w, new FakeClock(0));
    r.event({ apiVersion: "v1", kind: "Node", metadata: { name: "node-1", uid: "n1" } }, "Warning", "NodeNotReady", "kubelet stopped posting status");
    await r.idle();
    assert.equal(w.calls[0]?.event.metadata.namespace, "default");
    assert.equal(w.calls[0]?.event.involvedObject.namespace, undefined);
    await r.shutdown();
  });
});

void describe("EventRecorder against the API server", () => {
  let s: TestApiServer;
  let client: RestClient;
  before(async () => {
    s = await startTestApiServer();
    const deadline = Date.now() + 5000;
    while (!existsSync(s.kubeconfig) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    client = await createClientFromKubeconfig(s.kubeconfig, { component: "events-test", qps: Infinity });
    await client.forKind("v1", "Namespace").create({ metadata: { name: "ev" } });
  });
  after(async () => {
    client?.close();
    await s?.stop();
  });

  void it("writes events, counts repeats and combines similar ones on a real server", async () => {
    const pod: Pod = await client.forKind("v1", "Pod").namespace("ev").create({ metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } });
    const r = EventRecorder.forClient(client, { component: "replicaset-controller", log: silent });
    try {
      r.event(pod, "Normal", "Scheduled", "assigned ev/p to node-1");
      r.event(pod, "Normal", "Scheduled", "assigned ev/p to node-1");
      r.event(pod, "Normal", "Scheduled", "assigned ev/p to node-1");
      for (let i = 0; i < 11; i++) r.event(pod, "Warning", "BackOff", `back-off ${i}`);
      await r.idle();
      const events = (await client.forKind("v1", "Event").namespace("ev").list()).items;
      const scheduled = events.filter((e) => e.reason === "Scheduled");
      assert.equal(scheduled.length, 1);
      const ev = scheduled[0]!;
      assert.equal(ev.count, 3);
      assert.equal(ev.involvedObject.uid, pod.metadata?.uid);
      assert.equal(ev.involvedObject.kind, "Pod");
      assert.equal(ev.source?.component, "replicaset-controller");
      assert.equal(ev.reportingComponent, "replicaset-controller");
      assert.ok(ev.firstTimestamp && ev.lastTimestamp && ev.lastTimestamp >= ev.firstTimestamp);
      assert.match(ev.metadata.name!, /^p\.[0-9a-f]+$/);

      const backoff = events.filter((e) => e.reason === "BackOff");
      assert.equal(backoff.length, 10, "nine distinct events and one combined");
      const combined = backoff.find((e) => e.message?.startsWith(COMBINED_PREFIX));
      assert.equal(combined?.count, 2);
      assert.equal(combined?.message, `${COMBINED_PREFIX}back-off 10`);
    } finally {
      await r.shutdown();
    }
  });
});
