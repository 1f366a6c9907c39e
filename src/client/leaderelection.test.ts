import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { pino } from "pino";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { FakeClock } from "./clock.js";
import { ApiError, ClientError, isAlreadyExists } from "./errors.js";
import { LeaderElector, LeaseLock, type LeaderCallbacks, type LeaderElectionRecord, type ResourceLock } from "./leaderelection.js";
import { createClientFromKubeconfig, type RestClient } from "./rest.js";
import { rfc3339Micro } from "../util/time.js";

const silent = pino({ level: "silent" });

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** One record shared by several locks; writes are compare-and-swap on a version. */
class MemoryLease {
  record: LeaderElectionRecord | undefined;
  version = 0;
  failWrites = false;
  /** The next write is stored but reported as failed (a reply lost on the wire). */
  loseNextReply = false;
  writes = 0;
}

class MemoryLock implements ResourceLock {
  private readVersion = -1;
  constructor(
    private readonly lease: MemoryLease,
    readonly identity: string,
  ) {}

  get(): Promise<{ record: LeaderElectionRecord; raw: string } | undefined> {
    this.readVersion = this.lease.version;
    const r = this.lease.record;
    return Promise.resolve(r ? { record: { ...r }, raw: JSON.stringify(r) } : undefined);
  }
  create(record: LeaderElectionRecord): Promise<void> {
    return this.write(record, true);
  }
  update(record: LeaderElectionRecord): Promise<void> {
    return this.write(record, false);
  }
  private write(record: LeaderElectionRecord, create: boolean): Promise<void> {
    if (this.lease.failWrites) return Promise.reject(new ClientError("Transport", "connection refused"));
    if (create ? this.lease.record !== undefined : this.lease.version !== this.readVersion) {
      return Promise.reject(new ApiError({ kind: "Status", status: "Failure", reason: create ? "AlreadyExists" : "Conflict", code: 409 }));
    }
    this.lease.record = { ...record };
    this.lease.version++;
    this.lease.writes++;
    if (this.lease.loseNextReply) {
      this.lease.loseNextReply = false;
      return Promise.reject(new ClientError("Transport", "socket hang up"));
    }
    this.readVersion = this.lease.version;
    return Promise.resolve();
  }
  describe(): string {
    return "memory";
  }
}

interface Candidate {
  readonly elector: LeaderElector;
  readonly ac: AbortController;
  readonly run: Promise<void>;
  leading: boolean;
  stopped: boolean;
  leaderSignal: AbortSignal | undefined;
  readonly newLeaders: string[];
}

function candidate(lease: MemoryLease, id: string, clock: FakeClock, releaseOnCancel = true): Candidate {
  const elector = new LeaderElector({ lock: new MemoryLock(lease, id), leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, releaseOnCancel, log: silent, clock, random: () => 0 });
  const ac = new AbortController();
  const c = { elector, ac, leading: false, stopped: false, leaderSignal: undefined, newLeaders: [] } as unknown as Candidate;
  const callbacks: LeaderCallbacks = {
    onStartedLeading: (signal) => {
      c.leading = true;
      c.leaderSignal = signal;
      return new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    },
    onStoppedLeading: () => {
      c.leading = false;
      c.stopped = true;
    },
    onNewLeader: (who) => c.newLeaders.push(who),
  };
  (c as { run: Promise<void> }).run = elector.run(callbacks, ac.signal);
  return c;
}

/** Advances the fake clock one timer at a time, letting the electors react in between. */
async function advance(clock: FakeClock, ms: number): Promise<void> {
  const end = clock.now() + ms;
  for (;;) {
    await new Promise((r) => setImmediate(r));
    const next = clock.nextTimerAt();
    if (next === undefined || next > end) break;
    clock.step(next - clock.now());
  }
  clock.step(end - clock.now());
  await new Promise((r) => setImmediate(r));
}

void describe("LeaderElector (fake clock)", () => {
  void it("one candidate leads; on release the other takes over at its next retry", async () => {
    const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
    const lease = new MemoryLease();
    const a = candidate(lease, "a", clock);
    await until(() => a.leading, "a leads");
    const b = candidate(lease, "b", clock);
    await advance(clock, 30_000);
    assert.equal(a.leading, true);
    assert.equal(b.leading, false, "a renews every 2 s, so b never sees an expired lease");
    assert.deepEqual(b.newLeaders, ["a"]);
    assert.equal(lease.record?.holderIdentity, "a");
    assert.equal(lease.record?.acquireTime, rfc3339Micro(Date.parse("2026-01-01T00:00:00Z")), "renewals keep the acquire time");
    assert.equal(lease.record?.renewTime, rfc3339Micro(clock.now() - (clock.now() % 2000)));
    assert.equal(lease.record?.leaseDurationSeconds, 15);

    a.ac.abort();
    await a.run;
    assert.equal(a.stopped, true);
    assert.equal(a.leaderSignal?.aborted, true);
    assert.equal(lease.record?.holderIdentity, "", "released");
    assert.equal(lease.record?.leaseDurationSeconds, 1);
    await advance(clock, 2_000);
    assert.equal(b.leading, true);
    assert.equal(lease.record?.holderIdentity, "b");
    assert.equal(lease.record?.leaseTransitions, 1);
    assert.deepEqual(b.newLeaders, ["a", "b"]);
    b.ac.abort();
    await b.run;
  });

  void it("after a leader dies silently, waits a full lease duration from its own last observation", async () => {
    const clock = new FakeClock(1_000_000);
    const lease = new MemoryLease();
    const a = candidate(lease, "a", clock, false);
    await until(() => a.leading, "a leads");
    const b = candidate(lease, "b", clock);
    await advance(clock, 4_000);
    const writesBefore = lease.writes;
    a.ac.abort();
    await a.run;
    assert.equal(lease.writes, writesBefore, "no release without releaseOnCancel");
    const lastRenewal = clock.now() - (clock.now() % 2_000);
    // b observed the last renewal at its next poll after it; it must wait 15 s from then.
    await advance(clock, 14_000);
    assert.equal(b.leading, false);
    await advance(clock, 4_000);
    assert.equal(b.leading, true);
    assert.ok(clock.now() - lastRenewal >= 15_000);
    assert.equal(lease.record?.leaseTransitions, 1);
    b.ac.abort();
    await b.run;
  });

  void it("stops leading when it cannot renew within the renew deadline", async () => {
    const clock = new FakeClock(0);
    const lease = new MemoryLease();
    const a = candidate(lease, "a", clock);
    await until(() => a.leading, "a leads");
    lease.failWrites = true;
    const failedAt = clock.now();
    await advance(clock, 10_000);
    assert.equal(a.leading, true, "still within the renew deadline after the last renewal");
    await advance(clock, 4_000);
    assert.equal(a.leading, false);
    assert.equal(a.stopped, true);
    assert.equal(a.leaderSignal?.aborted, true);
    assert.ok(clock.now() - failedAt <= 14_000);
    await a.run;
    a.ac.abort();
  });

  void it("releases even when the last renewal was applied but its reply was lost", async () => {
    const clock = new FakeClock(0);
    const lease = new MemoryLease();
    const a = candidate(lease, "a", clock);
    await until(() => a.leading, "a leads");
    lease.loseNextReply = true;
    await advance(clock, 2_000);
    assert.equal(lease.loseNextReply, false, "the renewal went through");
    a.ac.abort();
    await a.run;
    assert.equal(lease.record?.holderIdentity, "", "the stale version was re-read and the lease released");
  });

  void it("validates its timing", () => {
    const lock = new MemoryLock(new MemoryLease(), "x");
    const bad = (o: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number }): void => {
      assert.throws(() => new LeaderElector({ lock, log: silent, ...o }), (e: unknown) => e instanceof ClientError && e.code === "InvalidOptions");
    };
    bad({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000 });
    bad({ renewDeadlineMs: 2_000, retryPeriodMs: 2_000 });
    bad({ retryPeriodMs: 0 });
    assert.ok(new LeaderElector({ lock, log: silent }));
  });
});

void describe("LeaderElector against the API server", () => {
  let s: TestApiServer;
  let client: RestClient;
  before(async () => {
    s = await startTestApiServer();
    const deadline = Date.now() + 5000;
    while (!existsSync(s.kubeconfig) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    client = await createClientFromKubeconfig(s.kubeconfig, { component: "leader-test", qps: Infinity });
    await client.forKind("v1", "Namespace").create({ metadata: { name: "kube-system" } }).catch((err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
    });
  });
  after(async () => {
    client?.close();
    await s?.stop();
  });

  void it("two electors on one Lease: exactly one leads; when it stops, the other takes over", async () => {
    const leases = client.forKind("coordination.k8s.io/v1", "Lease");
    const leading = new Set<string>();
    let overlap = false;
    const start = (id: string): { ac: AbortController; run: Promise<void> } => {
      const elector = new LeaderElector({ lock: new LeaseLock(leases, "kube-system", "k8ts-test", id), leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 250, releaseOnCancel: true, log: silent });
      const ac = new AbortController();
      const run = elector.run(
        {
          async onStartedLeading(signal) {
            if (leading.size > 0) overlap = true;
            leading.add(id);
            await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
            leading.delete(id);
          },
        },
        ac.signal,
      );
      return { ac, run };
    };
    const one = start("one");
    const two = start("two");
    try {
      await until(() => leading.size === 1, "a leader");
      const first = [...leading][0]!;
      const firstLease = await leases.namespace("kube-system").get("k8ts-test");
      assert.equal(firstLease.spec?.holderIdentity, first);
      assert.match(firstLease.spec?.renewTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      // Several renew periods pass with one leader and advancing renewals.
      await until(() => Date.now() - Date.parse(firstLease.spec!.renewTime!) > 1000, "time to pass", 5000);
      const renewed = await leases.namespace("kube-system").get("k8ts-test");
      assert.equal(renewed.spec?.holderIdentity, first);
      assert.ok(Date.parse(renewed.spec!.renewTime!) > Date.parse(firstLease.spec!.renewTime!));
      assert.equal(leading.size, 1);

      const [leader, other] = first === "one" ? [one, two] : [two, one];
      const stoppedAt = Date.now();
      leader.ac.abort();
      await leader.run;
      await until(() => leading.size === 1 && !leading.has(first), "takeover", 5000);
      assert.ok(Date.now() - stoppedAt < 2000, "a released lease is taken at the next retry, not after it expires");
      const taken: Lease = await leases.namespace("kube-system").get("k8ts-test");
      assert.notEqual(taken.spec?.holderIdentity, first);
      assert.equal(taken.spec?.leaseTransitions, 1);
      assert.equal(overlap, false, "never two leaders at once");
      other.ac.abort();
      await other.run;
      assert.equal((await leases.namespace("kube-system").get("k8ts-test")).spec?.holderIdentity ?? "", "", "released on stop");
    } finally {
      one.ac.abort();
      two.ac.abort();
      await Promise.all([one.run, two.run]);
    }
  });
});
