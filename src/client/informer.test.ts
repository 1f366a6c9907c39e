import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { pino } from "pino";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { Deployment } from "kubernetes-types/apps/v1.js";
import { parseSelector } from "../api/labels.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { FakeClock } from "./clock.js";
import { keyOf } from "./controller.js";
import { Indexer, Lister, NODE_NAME_INDEX, OWNER_UID_INDEX, SharedInformer, SharedInformerFactory, stripManagedFields, nodeNameIndexFunc, ownerUidIndexFunc, namespaceIndexFunc, NAMESPACE_INDEX, type EventHandler, type IndexFunc } from "./informer.js";
import { DeletedFinalStateUnknown, mutableCopy, type DeepReadonly, type KubeObject } from "./objects.js";
import type { ListerWatcher } from "./reflector.js";
import { createClientFromKubeconfig, type ObjectList, type RestClient, type WatchEvent, type WatchOptions } from "./rest.js";

const silent = pino({ level: "silent" });

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const pod = (ns: string, name: string, rv: string, extra: { node?: string; owner?: string; labels?: Record<string, string> } = {}): Pod => ({
  metadata: {
    namespace: ns,
    name,
    resourceVersion: rv,
    ...(extra.labels ? { labels: extra.labels } : {}),
    ...(extra.owner ? { ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: extra.owner }] } : {}),
  },
  spec: { containers: [], ...(extra.node ? { nodeName: extra.node } : {}) },
});

void describe("Indexer and Lister", () => {
  const indexers = { [NAMESPACE_INDEX]: namespaceIndexFunc, [OWNER_UID_INDEX]: ownerUidIndexFunc, [NODE_NAME_INDEX]: nodeNameIndexFunc } as Record<string, IndexFunc<Pod>>;

  void it("keeps every index consistent through add, update and delete", () => {
    const ix = new Indexer<Pod>(indexers);
    ix.upsert(pod("a", "p1", "1", { node: "n1", owner: "u1" }) as DeepReadonly<Pod>);
    ix.upsert(pod("a", "p2", "2", { node: "n1", owner: "u1" }) as DeepReadonly<Pod>);
    ix.upsert(pod("b", "p3", "3") as DeepReadonly<Pod>);
    assert.deepEqual(ix.indexKeys(NAMESPACE_INDEX, "a").sort(), ["a/p1", "a/p2"]);
    assert.deepEqual(ix.indexKeys(OWNER_UID_INDEX, "u1").sort(), ["a/p1", "a/p2"]);
    assert.deepEqual(ix.indexKeys(NODE_NAME_INDEX, "n1").sort(), ["a/p1", "a/p2"]);
    assert.deepEqual(ix.indexValues(NODE_NAME_INDEX), ["n1"], "unscheduled pods are in no bucket");

    ix.upsert(pod("a", "p2", "4", { node: "n2" }) as DeepReadonly<Pod>);
    assert.deepEqual(ix.indexKeys(NODE_NAME_INDEX, "n1"), ["a/p1"]);
    assert.deepEqual(ix.indexKeys(NODE_NAME_INDEX, "n2"), ["a/p2"]);
    assert.deepEqual(ix.indexKeys(OWNER_UID_INDEX, "u1"), ["a/p1"], "a released pod leaves its owner's bucket");

    ix.remove("a/p1");
    assert.deepEqual(ix.indexKeys(OWNER_UID_INDEX, "u1"), []);
    assert.deepEqual(ix.indexValues(OWNER_UID_INDEX), [], "empty buckets are dropped");
    assert.equal(ix.size, 2);
    assert.throws(() => ix.byIndex("nope", "x"), /index nope does not exist/);
    assert.throws(() => ix.addIndexers({ [NAMESPACE_INDEX]: namespaceIndexFunc as IndexFunc<Pod> }), /already exists/);

    ix.addIndexers({ byName: (p) => [p.metadata?.name ?? ""] });
    assert.deepEqual(ix.indexKeys("byName", "p3"), ["b/p3"], "a late index files existing items");
  });

  void it("lists by namespace and label selector", () => {
    const ix = new Indexer<Pod>(indexers);
    const l = new Lister<Pod>(ix);
    assert.equal(l.list().length, 0);
    ix.upsert(pod("a", "web-1", "1", { labels: { app: "web" } }) as DeepReadonly<Pod>);
    ix.upsert(pod("a", "db-1", "2", { labels: { app: "db" } }) as DeepReadonly<Pod>);
    ix.upsert(pod("b", "web-2", "3", { labels: { app: "web" } }) as DeepReadonly<Pod>);
    assert.deepEqual(l.list(parseSelector("app=web")).map((p) => keyOf(p)).sort(), ["a/web-1", "b/web-2"]);
    assert.deepEqual(l.namespace("a").list().map((p) => p.metadata?.name).sort(), ["db-1", "web-1"]);
    assert.deepEqual(l.namespace("a").list(parseSelector("app in (web)")).map((p) => p.metadata?.name), ["web-1"]);
    assert.equal(l.namespace("b").get("web-2")?.metadata?.resourceVersion, "3");
    assert.equal(l.get("b/web-2")?.metadata?.name, "web-2");
    assert.equal(l.namespace("b").get("nope"), undefined);
  });
});

/** A lister-watcher whose list and watch the test scripts. */
class FeedLW implements ListerWatcher<Pod> {
  listItems: Pod[] = [];
  listRV = "1";
  watching = 0;
  private queue: (WatchEvent<Pod> | "end")[] = [];
  private wake: (() => void) | undefined;

  list(): Promise<ObjectList<Pod>> {
    return Promise.resolve({ metadata: { resourceVersion: this.listRV }, items: structuredClone(this.listItems) });
  }
  /** The options of each watch opened. */
  readonly watchOpts: WatchOptions[] = [];
  watch(opts: WatchOptions): Promise<AsyncIterable<WatchEvent<Pod>> & { stop(): void }> {
    this.watchOpts.push(opts);
    this.watching++;
    return Promise.resolve({ stop: () => this.emit("end"), [Symbol.asyncIterator]: () => this.events() });
  }
  private async *events(): AsyncGenerator<WatchEvent<Pod>> {
    for (;;) {
      const next = this.queue.shift();
      if (next === undefined) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      if (next === "end") return;
      yield next;
    }
  }
  emit(ev: WatchEvent<Pod> | "end"): void {
    this.queue.push(ev);
    this.wake?.();
  }
  /** Ends the current watch with 410 (the informer re-lists after its backoff). */
  breakWatch(): void {
    this.emit({ type: "ERROR", object: { kind: "Status", status: "Failure", reason: "Expired", code: 410 } });
  }
}

/** Never answers, but honours the abort signal as every ListerWatcher must. */
function neverLW(): ListerWatcher<Pod> {
  const hang = (signal: AbortSignal | undefined): Promise<never> =>
    new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason as Error), { once: true }));
  return { list: (o) => hang(o.signal), watch: (o) => hang(o.signal) };
}

interface Recorded {
  readonly what: string;
  readonly key: string;
  readonly rv?: string | undefined;
}

function recorder(into: Recorded[], tag = ""): EventHandler<Pod> {
  return {
    onAdd: (o, initial) => into.push({ what: `${tag}add${initial ? "(initial)" : ""}`, key: keyOf(o), rv: o.metadata?.resourceVersion }),
    onUpdate: (o, n) => into.push({ what: `${tag}update${o === n ? "(resync)" : ""}`, key: keyOf(n), rv: n.metadata?.resourceVersion }),
    onDelete: (o) => into.push({ what: `${tag}delete${o instanceof DeletedFinalStateUnknown ? "(tombstone)" : ""}`, key: keyOf(o) }),
  };
}

void describe("SharedInformer (scripted)", () => {
  void it("delivers initial adds, watch events in order, and re-list differences with tombstones", async () => {
    const lw = new FeedLW();
    lw.listItems = [pod("a", "p1", "1"), pod("a", "p2", "2")];
    const inf = new SharedInformer<Pod>({ name: "pods", lw, log: silent, clock: new FakeClock() });
    const events: Recorded[] = [];
    inf.addEventHandler(recorder(events));
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    assert.equal(await inf.waitForSync(ac.signal), true);
    assert.deepEqual(events.map((e) => `${e.what} ${e.key}`), ["add(initial) a/p1", "add(initial) a/p2"]);

    lw.emit({ type: "MODIFIED", object: pod("a", "p1", "5") });
    lw.emit({ type: "ADDED", object: pod("a", "p3", "6") });
    lw.emit({ type: "DELETED", object: pod("a", "p2", "7") });
    lw.emit({ type: "DELETED", object: pod("a", "never-seen", "8") });
    await until(() => events.length === 5, "watch events");
    assert.deepEqual(events.slice(2).map((e) => `${e.what} ${e.key}`), ["update a/p1", "add a/p3", "delete a/p2"]);

    const handlerAfterSync: Recorded[] = [];
    inf.addEventHandler(recorder(handlerAfterSync));
    assert.deepEqual(handlerAfterSync.map((e) => `${e.what} ${e.key}`), ["add(initial) a/p1", "add(initial) a/p3"], "a late handler first hears of everything cached");
    ac.abort();
    await run;
  });

  void it("watches without managedFields when it is told to, whatever its transform, not otherwise", async () => {
    const cases: [Partial<ConstructorParameters<typeof SharedInformer<Pod>>[0]>, boolean][] = [
      [{ omitManagedFields: true }, true],
      [{ transform: (p: Pod) => p, omitManagedFields: true }, true],
      [{ transform: stripManagedFields }, false],
      [{ transform: stripManagedFields, omitManagedFields: false }, false],
      [{}, false],
    ];
    for (const [opts, omitted] of cases) {
      const lw = new FeedLW();
      const inf = new SharedInformer<Pod>({ name: "pods", lw, log: silent, clock: new FakeClock(), ...opts });
      const ac = new AbortController();
      const run = inf.run(ac.signal);
      await until(() => lw.watchOpts.length === 1, "a watch");
      assert.equal(lw.watchOpts[0]!.omitManagedFields === true, omitted, JSON.stringify(opts));
      assert.ok(lw.watchOpts[0]!.resourceVersion, "the reflector's own options are kept");
      ac.abort();
      lw.emit("end");
      await run;
    }
  });

  void it("turns objects missing from a re-list into tombstones, and skips unchanged ones", async () => {
    const clock = new FakeClock();
    const lw = new FeedLW();
    lw.listItems = [pod("a", "keep", "1"), pod("a", "change", "2"), pod("a", "vanish", "3")];
    const inf = new SharedInformer<Pod>({ name: "pods", lw, log: silent, clock });
    const events: Recorded[] = [];
    inf.addEventHandler(recorder(events));
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    await inf.waitForSync();
    events.length = 0;
    lw.listItems = [pod("a", "keep", "1"), pod("a", "change", "20"), pod("a", "new", "21")];
    lw.listRV = "21";
    lw.breakWatch();
    await until(() => clock.pending === 1, "backoff");
    clock.step(clock.nextTimerAt()! - clock.now());
    await until(() => lw.watching === 2, "watch after re-list");
    assert.deepEqual(events.map((e) => `${e.what} ${e.key}`).sort(), ["add a/new", "delete(tombstone) a/vanish", "update a/change"]);
    assert.equal(inf.lastSyncResourceVersion, "21");
    assert.deepEqual(inf.indexer.listKeys().sort(), ["a/change", "a/keep", "a/new"]);
    ac.abort();
    await run;
  });

  void it("hands out frozen objects; a copy is mutable", async () => {
    const lw = new FeedLW();
    lw.listItems = [pod("a", "p1", "1", { labels: { app: "x" } })];
    const inf = new SharedInformer<Pod>({ name: "pods", lw, log: silent, clock: new FakeClock() });
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    await inf.waitForSync();
    const cached = inf.lister.namespace("a").get("p1")!;
    assert.throws(() => {
      (cached.metadata!.labels as Record<string, string>)["app"] = "mutated";
    }, TypeError);
    assert.equal(cached.metadata?.labels?.["app"], "x");
    const copy = mutableCopy<Pod>(cached);
    copy.metadata!.labels!["app"] = "changed";
    assert.equal(copy.metadata?.labels?.["app"], "changed");
    assert.equal(cached.metadata?.labels?.["app"], "x");
    ac.abort();
    await run;
  });

  void it("isolates a throwing handler and stops calling a removed one", async () => {
    const lw = new FeedLW();
    const inf = new SharedInformer<Pod>({ name: "pods", lw, log: silent, clock: new FakeClock() });
    const good: Recorded[] = [];
    const removed: Recorded[] = [];
    inf.addEventHandler({
      onAdd: () => {
        throw new Error("handler bug");
      },
    });
    inf.addEventHandler(recorder(good));
    const reg = inf.addEventHandler(recorder(removed));
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    await inf.waitForSync();
    assert.equal(reg.hasSynced(), true);
    lw.emit({ type: "ADDED", object: pod("a", "p1", "2") });
    await until(() => good.length === 1, "event after a throwing handler");
    reg.remove();
    lw.emit({ type: "ADDED", object: pod("a", "p2", "3") });
    await until(() => good.length === 2, "second event");
    assert.equal(removed.length, 1);
    ac.abort();
    await run;
  });

  void it("a handler removed during an event misses it; one added during an event hears from the cache, then from the next", async () => {
    const lw = new FeedLW();
    const inf = new SharedInformer<Pod>({ name: "pods", lw, log: silent, clock: new FakeClock() });
    const late: Recorded[] = [];
    const victim: Recorded[] = [];
    let added = false;
    inf.addEventHandler({
      onAdd: (o) => {
        if (o.metadata?.name !== "p1") return;
        victimReg.remove();
        if (!added) {
          added = true;
          inf.addEventHandler(recorder(late));
        }
      },
    });
    const victimReg = inf.addEventHandler(recorder(victim));
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    await inf.waitForSync();
    lw.emit({ type: "ADDED", object: pod("a", "p1", "2") });
    lw.emit({ type: "ADDED", object: pod("a", "p2", "3") });
    await until(() => late.length === 2, "the late handler's replay and next event");
    assert.deepEqual(late, [
      { what: "add(initial)", key: "a/p1", rv: "2" },
      { what: "add", key: "a/p2", rv: "3" },
    ]);
    assert.deepEqual(victim, []);
    ac.abort();
    await run;
  });

  void it("resyncs each handler at its own period on the injected clock", async () => {
    const clock = new FakeClock();
    const lw = new FeedLW();
    lw.listItems = [pod("a", "p1", "1"), pod("a", "p2", "2")];
    const inf = new SharedInformer<Pod>({ name: "pods", lw, log: silent, clock, resyncPeriodMs: 30_000 });
    const fast: Recorded[] = [];
    const slow: Recorded[] = [];
    const none: Recorded[] = [];
    inf.addEventHandler(recorder(fast), { resyncPeriodMs: 10_000 });
    inf.addEventHandler(recorder(slow));
    inf.addEventHandler(recorder(none), { resyncPeriodMs: 0 });
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    await inf.waitForSync();
    clock.step(30_000);
    assert.equal(fast.filter((e) => e.what === "update(resync)").length, 6, "3 resyncs × 2 objects");
    assert.equal(slow.filter((e) => e.what === "update(resync)").length, 2);
    assert.equal(none.filter((e) => e.what === "update(resync)").length, 0);
    ac.abort();
    await run;
    assert.equal(clock.pending, 0, "resync timers stop with the informer");
  });

  void it("waitForSync answers false when stopped before the first list", async () => {
    const inf = new SharedInformer<Pod>({ name: "pods", lw: neverLW(), log: silent });
    const ac = new AbortController();
    const run = inf.run(ac.signal);
    const waiting = inf.waitForSync();
    ac.abort();
    assert.equal(await waiting, false);
    await run;
    await assert.rejects(async () => inf.run(new AbortController().signal), /already started/);
  });
});

void describe("SharedInformerFactory against the API server", () => {
  let s: TestApiServer;
  let client: RestClient;
  before(async () => {
    s = await startTestApiServer();
    const deadline = Date.now() + 5000;
    while (!existsSync(s.kubeconfig) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    client = await createClientFromKubeconfig(s.kubeconfig, { component: "informer-test", qps: Infinity });
    for (const name of ["inf", "other"]) await client.forKind("v1", "Namespace").create({ metadata: { name } });
  });
  after(async () => {
    client?.close();
    await s?.stop();
  });

  void it("hands omitManagedFields to its informers: listed and watched objects come without managedFields", async () => {
    const listed = await client.forKind("v1", "Pod").namespace("other").create({ metadata: { name: "listed" }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } });
    assert.ok(listed.metadata?.managedFields?.length, "the server records managedFields");
    const factory = new SharedInformerFactory({ client, log: silent, namespace: "other", omitManagedFields: true });
    const podInformer = factory.forKind("v1", "Pod");
    const ac = new AbortController();
    factory.start(ac.signal);
    try {
      assert.equal(await factory.waitForCacheSync(ac.signal), true);
      assert.ok(podInformer.lister.namespace("other").get("listed"), "the listed pod cached");
      assert.equal(podInformer.lister.namespace("other").get("listed")?.metadata?.managedFields, undefined);
      const created = await client.forKind("v1", "Pod").namespace("other").create({ metadata: { name: "lean" }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } });
      assert.ok(created.metadata?.managedFields?.length, "the server records managedFields");
      await until(() => podInformer.lister.namespace("other").get("lean") !== undefined, "the pod cached");
      assert.equal(podInformer.lister.namespace("other").get("lean")?.metadata?.managedFields, undefined);
    } finally {
      ac.abort();
      for (const name of ["lean", "listed"]) await client.forKind("v1", "Pod").namespace("other").delete(name, { gracePeriodSeconds: 0 });
    }
  });

  void it("shares one informer per resource, syncs, delivers events and serves listers", async () => {
    const pods = client.forKind("v1", "Pod").namespace("inf");
    await pods.create({ metadata: { name: "pre", labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } });
    const factory = new SharedInformerFactory({ client, log: silent, namespace: "inf" });
    const podInformer = factory.forKind("v1", "Pod");
    assert.equal(factory.informerFor(client.resource<Pod>("", "v1", "pods")), podInformer, "one informer per resource");
    const deployInformer = factory.forKind("apps/v1", "Deployment");
    podInformer.addIndexers({ [OWNER_UID_INDEX]: ownerUidIndexFunc as IndexFunc<Pod> });
    const events: Recorded[] = [];
    podInformer.addEventHandler(recorder(events));
    const deployKeys: string[] = [];
    deployInformer.addEventHandler({ onAdd: (d: DeepReadonly<Deployment>) => deployKeys.push(keyOf(d)) });

    const ac = new AbortController();
    factory.start(ac.signal);
    try {
      assert.equal(await factory.waitForCacheSync(ac.signal), true);
      assert.deepEqual(events.map((e) => `${e.what} ${e.key}`), ["add(initial) inf/pre"]);

      const owner = "6a1f7c2e-0000-4000-8000-000000000001";
      const created = await pods.create({
        metadata: { name: "owned", labels: { app: "web" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: owner }] },
        spec: { containers: [{ name: "c", image: "busybox:1.35" }] },
      });
      await client.forKind("v1", "Pod").namespace("other").create({ metadata: { name: "elsewhere" }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } });
      await client.forKind("apps/v1", "Deployment").namespace("inf").create({
        metadata: { name: "d" },
        spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } } },
      });
      await until(() => podInformer.lister.namespace("inf").get("owned") !== undefined && deployKeys.length === 1, "new objects cached");
      assert.equal(podInformer.lister.namespace("inf").get("owned")?.metadata?.uid, created.metadata?.uid);
      assert.deepEqual(podInformer.indexer.byIndex(OWNER_UID_INDEX, owner).map((p) => p.metadata?.name), ["owned"]);
      assert.equal(podInformer.lister.list(parseSelector("app=web")).length, 2);
      assert.equal(podInformer.lister.namespace("other").list().length, 0, "the factory watches one namespace");

      await pods.delete("pre", { gracePeriodSeconds: 0 });
      await until(() => events.some((e) => e.what === "delete" && e.key === "inf/pre"), "delete event");
      assert.equal(podInformer.lister.namespace("inf").get("pre"), undefined);

      // A handler that mutates a cached object fails loudly instead of corrupting the cache.
      const obj = podInformer.lister.namespace("inf").get("owned") as DeepReadonly<KubeObject>;
      assert.ok(Object.isFrozen(obj) && Object.isFrozen(obj.metadata) && Object.isFrozen(obj.metadata?.ownerReferences?.[0]));
    } finally {
      ac.abort();
      await factory.shutdown();
    }
  });
});

describe("informer transform", () => {
  it("caches objects without managedFields when told to strip them", () => {
    const withFields = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "n", managedFields: [{ manager: "x" }] } } as KubeObject;
    const stripped = stripManagedFields(withFields);
    assert.equal(stripped.metadata?.managedFields, undefined);
    assert.equal(stripped.metadata?.name, "a");
    assert.notEqual(withFields.metadata?.managedFields, undefined, "the input is not changed");
  });
});
