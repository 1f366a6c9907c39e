// The reflector against a scripted lister-watcher on a fake clock (backoff, re-list and
// re-watch rules), and against a real API server (a cache that converges, 410 recovery).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { pino } from "pino";
import type { Pod } from "kubernetes-types/core/v1.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { FakeClock } from "./clock.js";
import { ApiError, ClientError } from "./errors.js";
import type { KubeObject } from "./objects.js";
import { Reflector, type ListerWatcher, type ReflectorStore } from "./reflector.js";
import { createClientFromKubeconfig, type ListOptions, type ObjectList, type RestClient, type WatchEvent, type WatchOptions } from "./rest.js";

const silent = pino({ level: "silent" });
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A watch the test feeds by hand. */
class ScriptedWatch<T> implements AsyncIterable<WatchEvent<T>> {
  private queue: (WatchEvent<T> | { end: true } | { fail: unknown })[] = [];
  private wake: (() => void) | undefined;
  stopped = false;

  push(ev: WatchEvent<T>): void {
    this.queue.push(ev);
    this.wake?.();
  }
  end(): void {
    this.queue.push({ end: true });
    this.wake?.();
  }
  fail(err: unknown): void {
    this.queue.push({ fail: err });
    this.wake?.();
  }
  stop(): void {
    this.stopped = true;
    this.end();
  }
  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    for (;;) {
      const next = this.queue.shift();
      if (!next) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      if ("end" in next) return;
      if ("fail" in next) throw next.fail;
      yield next;
    }
  }
}

type Obj = KubeObject;
const obj = (name: string, rv: string): Obj => ({ metadata: { name, namespace: "ns", resourceVersion: rv } });

class ScriptedLW implements ListerWatcher<Obj> {
  lists: ListOptions[] = [];
  watches: WatchOptions[] = [];
  listAnswers: ((o: ListOptions) => ObjectList<Obj>)[] = [];
  watchAnswers: (() => ScriptedWatch<Obj> | Error)[] = [];
  current: ScriptedWatch<Obj> | undefined;

  list(opts: ListOptions): Promise<ObjectList<Obj>> {
    this.lists.push(opts);
    const answer = this.listAnswers.shift();
    if (!answer) return Promise.reject(new Error("unexpected list"));
    try {
      return Promise.resolve(answer(opts));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  watch(opts: WatchOptions): Promise<ScriptedWatch<Obj>> {
    this.watches.push(opts);
    const answer = this.watchAnswers.shift()?.() ?? new ScriptedWatch<Obj>();
    if (answer instanceof Error) return Promise.reject(answer);
    this.current = answer;
    return Promise.resolve(answer);
  }
}

class MapStore implements ReflectorStore<Obj> {
  readonly items = new Map<string, Obj>();
  replaces = 0;
  replace(items: Obj[]): void {
    this.replaces++;
    this.items.clear();
    for (const i of items) this.items.set(i.metadata!.name!, i);
  }
  add(o: Obj): void {
    this.items.set(o.metadata!.name!, o);
  }
  update(o: Obj): void {
    this.items.set(o.metadata!.name!, o);
  }
  delete(o: Obj): void {
    this.items.delete(o.metadata!.name!);
  }
}

const list = (rv: string, items: Obj[], cont?: string): ObjectList<Obj> => ({ metadata: { resourceVersion: rv, ...(cont ? { continue: cont } : {}) }, items });
const expired = (): ApiError => new ApiError({ kind: "Status", status: "Failure", reason: "Expired", code: 410, message: "too old resource version" });

function setup(): { clock: FakeClock; lw: ScriptedLW; store: MapStore; reflector: Reflector<Obj>; ac: AbortController } {
  const clock = new FakeClock(1_000_000);
  const lw = new ScriptedLW();
  const store = new MapStore();
  const reflector = new Reflector<Obj>({ name: "test", lw, store, log: silent, clock, random: () => 0, pageSize: 2 });
  return { clock, lw, store, reflector, ac: new AbortController() };
}

void describe("Reflector (scripted)", () => {
  void it("lists every page, then watches from the list's resourceVersion with bookmarks", async () => {
    const { lw, store, reflector, ac } = setup();
    lw.listAnswers.push(() => list("10", [obj("a", "3"), obj("b", "4")], "tok"), () => list("10", [obj("c", "5")]));
    const run = reflector.run(ac.signal);
    await until(() => lw.watches.length === 1, "watch");
    assert.deepEqual(lw.lists.map((l) => [l.limit, l.continue]), [[2, undefined], [2, "tok"]]);
    assert.equal(store.items.size, 3);
    assert.ok(reflector.hasSynced());
    assert.equal(reflector.lastSyncResourceVersion, "10");
    const w = lw.watches[0]!;
    assert.equal(w.resourceVersion, "10");
    assert.equal(w.allowWatchBookmarks, true);
    assert.equal(w.timeoutSeconds, 300, "min watch timeout · (1 + random)");

    lw.current!.push({ type: "ADDED", object: obj("d", "11") });
    lw.current!.push({ type: "MODIFIED", object: obj("a", "12") });
    lw.current!.push({ type: "DELETED", object: obj("b", "13") });
    lw.current!.push({ type: "BOOKMARK", object: { metadata: { resourceVersion: "20" } } });
    await until(() => reflector.lastSyncResourceVersion === "20", "bookmark");
    assert.deepEqual([...store.items.keys()].sort(), ["a", "c", "d"]);
    assert.equal(store.items.get("a")?.metadata?.resourceVersion, "12");

    // The server ends the watch (its timeout): resume from the bookmark, no re-list.
    lw.current!.end();
    await until(() => lw.watches.length === 2, "second watch");
    assert.equal(lw.watches[1]!.resourceVersion, "20");
    assert.equal(lw.lists.length, 2);
    ac.abort();
    await run;
    assert.ok(lw.current!.stopped);
  });

  void it("re-lists after 410 with backoff 800 ms, doubling to 30 s, reset after 2 min of health", async () => {
    const { clock, lw, reflector, ac, store } = setup();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) lw.listAnswers.push(() => list(String(100 + i), [obj(`x${i}`, String(100 + i))]));
    // Every watch opens and at once reports that its resourceVersion is too old.
    lw.watchAnswers = Array.from({ length: 8 }, () => () => {
      const w = new ScriptedWatch<Obj>();
      w.push({ type: "ERROR", object: expired().status });
      return w;
    });
    const run = reflector.run(ac.signal);
    for (let i = 1; i < 9; i++) {
      await until(() => clock.pending === 1 && lw.lists.length === i, `backoff ${i}`);
      const wait = clock.nextTimerAt()! - clock.now();
      delays.push(wait);
      clock.step(wait);
    }
    assert.deepEqual(delays, [800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
    await until(() => store.replaces === 9, "ninth list");
    assert.ok(lw.watches.length >= 8);
    assert.equal(lw.watches[3]!.resourceVersion, "103", "each watch starts at its own list");

    // The ninth watch is healthy; when it breaks two quiet minutes later, the backoff starts over.
    await until(() => lw.watches.length === 9, "healthy watch");
    clock.step(121_000);
    lw.current!.fail(new ClientError("Transport", "watch broken: socket hang up"));
    lw.listAnswers.push(() => list("201", []));
    await until(() => clock.pending === 1, "backoff after health");
    assert.equal(clock.nextTimerAt()! - clock.now(), 800);
    ac.abort();
    await run;
  });

  void it("a broken watch re-lists; a refused or throttled one resumes the watch without re-listing", async () => {
    const { clock, lw, reflector, ac } = setup();
    lw.listAnswers.push(() => list("10", []));
    const refused = new ClientError("Transport", "connect ECONNREFUSED", { cause: Object.assign(new Error("refused"), { code: "ECONNREFUSED" }) });
    const throttled = new ApiError({ kind: "Status", status: "Failure", reason: "TooManyRequests", code: 429 });
    lw.watchAnswers.push(() => refused, () => throttled);
    const run = reflector.run(ac.signal);
    await until(() => lw.watches.length === 1 && clock.pending === 1, "refused watch backs off");
    clock.step(clock.nextTimerAt()! - clock.now());
    await until(() => lw.watches.length === 2 && clock.pending === 1, "throttled watch backs off");
    clock.step(clock.nextTimerAt()! - clock.now());
    await until(() => lw.watches.length === 3, "third watch");
    assert.equal(lw.lists.length, 1, "no re-list for a refused or throttled watch");
    assert.equal(lw.watches[2]!.resourceVersion, "10");

    lw.listAnswers.push(() => list("30", []));
    lw.current!.push({ type: "ADDED", object: obj("a", "11") });
    lw.current!.fail(new ClientError("Transport", "watch broken: aborted"));
    await until(() => clock.pending === 1, "backoff after a broken watch");
    clock.step(clock.nextTimerAt()! - clock.now());
    await until(() => lw.lists.length === 2 && lw.watches.length === 4, "re-list");
    assert.equal(lw.watches[3]!.resourceVersion, "30");
    ac.abort();
    await run;
  });

  void it("a watch closed at once with nothing in it counts as broken", async () => {
    const { clock, lw, reflector, ac } = setup();
    lw.listAnswers.push(() => list("10", []), () => list("11", []));
    const empty = new ScriptedWatch<Obj>();
    empty.end();
    lw.watchAnswers.push(() => empty);
    const run = reflector.run(ac.signal);
    await until(() => clock.pending === 1, "backoff");
    assert.equal(lw.watches.length, 1);
    clock.step(clock.nextTimerAt()! - clock.now());
    await until(() => lw.lists.length === 2, "re-list");
    ac.abort();
    await run;
  });

  void it("falls back to an unpaged list when a continue token expires", async () => {
    const { lw, store, reflector, ac } = setup();
    lw.listAnswers.push(
      () => list("10", [obj("a", "1"), obj("b", "2")], "tok"),
      () => {
        throw expired();
      },
      (o) => {
        assert.equal(o.limit, undefined);
        return list("12", [obj("a", "1"), obj("b", "2"), obj("c", "3")]);
      },
    );
    const run = reflector.run(ac.signal);
    await until(() => lw.watches.length === 1, "watch");
    assert.equal(store.items.size, 3);
    assert.equal(reflector.lastSyncResourceVersion, "12");
    ac.abort();
    await run;
  });

  void it("stops promptly when aborted during a backoff or a list", async () => {
    const { clock, lw, reflector, ac } = setup();
    lw.listAnswers.push(() => {
      throw new ClientError("Transport", "refused");
    });
    const run = reflector.run(ac.signal);
    await until(() => clock.pending === 1, "backoff");
    ac.abort();
    await run;
    assert.equal(clock.pending, 0);
    await flush();
  });
});

void describe("Reflector against the API server", () => {
  let s: TestApiServer;
  let client: RestClient;
  before(async () => {
    s = await startTestApiServer({ watchCacheHistory: 8 });
    const deadline = Date.now() + 5000;
    while (!existsSync(s.kubeconfig) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    client = await createClientFromKubeconfig(s.kubeconfig, { component: "reflector-test", qps: Infinity });
    for (const name of ["mirror", "noise"]) await client.forKind("v1", "Namespace").create({ metadata: { name } });
  });
  after(async () => {
    client?.close();
    await s?.stop();
  });

  const pod = (name: string): Pod => ({ metadata: { name }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } });

  void it("mirrors the collection, and recovers from an expired watch by re-listing", async () => {
    const pods = client.forKind("v1", "Pod").namespace("mirror");
    const noise = client.forKind("v1", "Pod").namespace("noise");
    for (let i = 0; i < 5; i++) await pods.create(pod(`p${i}`));
    let lists = 0;
    const lw: ListerWatcher<Pod> = {
      list: (o) => {
        if (!o.continue) lists++;
        return pods.list(o);
      },
      watch: (o) => pods.watch(o),
    };
    const mirror = new Map<string, string>();
    const store: ReflectorStore<Pod> = {
      replace(items) {
        mirror.clear();
        for (const p of items) mirror.set(p.metadata!.name!, p.metadata!.resourceVersion!);
      },
      add: (p) => void mirror.set(p.metadata!.name!, p.metadata!.resourceVersion!),
      update: (p) => void mirror.set(p.metadata!.name!, p.metadata!.resourceVersion!),
      delete: (p) => void mirror.delete(p.metadata!.name!),
    };
    const reflector = new Reflector<Pod>({ name: "pods", lw, store, log: silent, pageSize: 2, minWatchTimeoutSeconds: 1 });
    const ac = new AbortController();
    const run = reflector.run(ac.signal);
    try {
      await until(() => reflector.hasSynced(), "sync");
      assert.equal(mirror.size, 5);
      assert.equal(lists, 1);

      await pods.delete("p0", { gracePeriodSeconds: 0 });
      const p1 = await pods.patch("p1", "merge", { metadata: { labels: { v: "2" } } });
      await pods.create(pod("p5"));
      await until(() => !mirror.has("p0") && mirror.has("p5") && mirror.get("p1") === p1.metadata!.resourceVersion, "watch events applied");

      // Push the server's history past our position while our watch (1–2 s) is open; its
      // successor then starts from a compacted resourceVersion and gets 410.
      const before = reflector.lastSyncResourceVersion;
      for (let i = 0; i < 12; i++) await noise.create(pod(`n${i}`));
      await until(() => lists >= 2, "re-list after 410");
      await pods.create(pod("after-relist"));
      await until(() => mirror.has("after-relist"), "watch resumed after re-list");
      assert.ok(Number(reflector.lastSyncResourceVersion) > Number(before));
      const truth = (await pods.list()).items.map((p) => [p.metadata!.name!, p.metadata!.resourceVersion!] as const);
      assert.deepEqual([...mirror.entries()].sort(), [...truth].sort());
    } finally {
      ac.abort();
      await run;
    }
  });
});
