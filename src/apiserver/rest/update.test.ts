// ResourceStore.update when the watch cache lags the store (another writer, or the cache's
// storage watch not yet delivered): the try on the cached copy fails, the store is read once to
// prove it, and the next try starts from what that read returned, as upstream's
// GuaranteedUpdate starts from getCurrentState's result. And as there, an update that did not
// pin a resourceVersion is retried until it gets through, however many writers it meets.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryStore } from "../../storage/memory.js";
import { openStore } from "../../storage/index.js";
import type { Store, Watch } from "../../storage/interface.js";
import { AdmissionChain } from "../admission/types.js";
import { configMaps } from "../resources/core/config.js";
import * as status from "../status.js";
import { WatchCache } from "../watchcache.js";
import { ResourceStore, type RequestContext } from "./store.js";

/** A store whose watch events wait while the gate is shut, and which counts its reads. */
function gatedStore(inner: Store): { store: Store; shut(): void; open(): void; reads(): number } {
  let gate: Promise<void> = Promise.resolve();
  let release = (): void => {};
  let reads = 0;
  const get: Store["get"] = (...a) => {
    reads++;
    return inner.get(...a);
  };
  const watch: Store["watch"] = async (...a) => {
    const w = await inner.watch(...a);
    return {
      stop: () => w.stop(),
      async *[Symbol.asyncIterator]() {
        for await (const ev of w) {
          await gate;
          yield ev;
        }
      },
    } satisfies Watch;
  };
  // Everything else is the inner store's own method (its private fields need it as `this`).
  const store = new Proxy(inner, {
    get: (t, p) => {
      if (p === "get") return get;
      if (p === "watch") return watch;
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
  return {
    store,
    shut: () => {
      gate = new Promise((r) => (release = r));
    },
    open: () => release(),
    reads: () => reads,
  };
}

const ctx: RequestContext = { namespace: "default", user: { username: "tester", groups: [] }, now: new Date(), dryRun: false };
const dataOf = (o: unknown): Record<string, string> | undefined => (o as { data?: Record<string, string> } | undefined)?.data;
const bytes = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));

/** A configmap written through the store, then moved on to data v=2 by another writer the cache does not see yet. */
async function lagging(): Promise<{ rs: ResourceStore; g: ReturnType<typeof gatedStore>; inner: MemoryStore; cache: WatchCache; key: string; newerRevision: number }> {
  const inner = await MemoryStore.open();
  const g = gatedStore(inner);
  const cache = new WatchCache(g.store, ["/registry/configmaps/"], { historySize: 100, watcherQueueLimit: 100, root: "/registry/" });
  await cache.start();
  const rs = new ResourceStore(configMaps, { store: g.store, cache, admission: new AdmissionChain([]) });
  const created = await rs.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "default" }, data: { v: "1" } }, ctx);
  assert.ok(await cache.waitFor(Number(created.metadata?.resourceVersion), 3000));
  g.shut();
  const key = rs.key("default", "cm");
  const { kv } = await inner.get(key);
  const newer = await inner.update(key, bytes({ ...created, metadata: { ...created.metadata, resourceVersion: undefined }, data: { v: "2" } }), kv!.modRevision);
  assert.equal(dataOf(cache.resource("/registry/configmaps/").get(key)?.object)?.["v"], "1", "the cache lags");
  return { rs, g, inner, cache, key, newerRevision: newer.modRevision };
}

async function storedData(inner: MemoryStore, key: string): Promise<Record<string, string> | undefined> {
  return dataOf(JSON.parse(new TextDecoder().decode((await inner.get(key)).kv!.value)));
}

describe("ResourceStore.update behind a lagging watch cache", () => {
  it("reads the store once when the update fails on the cached copy, and writes from that read", async () => {
    const { rs, g, inner, cache, key, newerRevision } = await lagging();
    try {
      // A PUT carrying the newer resourceVersion: a conflict on the cached copy.
      const before = g.reads();
      const { object } = await rs.update(
        "default",
        "cm",
        (current) => {
          if (current?.metadata?.resourceVersion !== String(newerRevision)) throw status.modifiedConflict(rs.qualified, "cm");
          return { ...current, data: { v: "3" } };
        },
        ctx,
      );
      assert.equal(dataOf(object)?.["v"], "3");
      assert.equal(g.reads() - before, 1, "one store read: the check of the cached copy, reused by the next try");
      assert.deepEqual(await storedData(inner, key), { v: "3" });
    } finally {
      g.open();
      await cache.stop();
      await inner.close();
    }
  });

  it("reads nothing when the write from the cached copy meets a Conflict: the next try starts from what the Conflict carries", async () => {
    const { rs, g, inner, cache, key } = await lagging();
    try {
      // A patch-like update (no resourceVersion of its own) adds a key to what it is given.
      const before = g.reads();
      const { object } = await rs.update("default", "cm", (current) => ({ ...current!, data: { ...dataOf(current), w: "x" } }), ctx);
      assert.deepEqual(dataOf(object), { v: "2", w: "x" }, "applied to the stored object, not the cached one");
      assert.equal(g.reads() - before, 0);
      assert.deepEqual(await storedData(inner, key), { v: "2", w: "x" });
    } finally {
      g.open();
      await cache.stop();
      await inner.close();
    }
  });

  it("starts from its own write the cache has not applied yet: an update with the resourceVersion that write answered reads nothing", async () => {
    const inner = await MemoryStore.open();
    const g = gatedStore(inner);
    const cache = new WatchCache(g.store, ["/registry/configmaps/"], { historySize: 100, watcherQueueLimit: 100, root: "/registry/" });
    await cache.start();
    const rs = new ResourceStore(configMaps, { store: g.store, cache, admission: new AdmissionChain([]) });
    const put = (v: string, rv: string | undefined) =>
      rs.update(
        "default",
        "cm",
        (current) => {
          if (rv !== undefined && current?.metadata?.resourceVersion !== rv) throw status.modifiedConflict(rs.qualified, "cm");
          return { ...current, data: { v } };
        },
        ctx,
      );
    try {
      const created = await rs.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "default" }, data: { v: "1" } }, ctx);
      assert.ok(await cache.waitFor(Number(created.metadata?.resourceVersion), 3000));
      g.shut();
      const before = g.reads();
      // A client's read-modify-write loop: each PUT carries the resourceVersion the last one answered.
      let rv = created.metadata?.resourceVersion;
      for (const v of ["2", "3", "4"]) rv = (await put(v, rv)).object.metadata?.resourceVersion;
      assert.equal(g.reads() - before, 0, "no store read: each try starts from the write before it");
      const key = rs.key("default", "cm");
      assert.equal(dataOf(cache.resource("/registry/configmaps/").get(key)?.object)?.["v"], "1", "the cache still lags");
      assert.deepEqual(await storedData(inner, key), { v: "4" });

      // Another writer moves the store past this server's last write: the write from it meets a
      // Conflict, and the next try starts from what the Conflict carries.
      const { kv } = await inner.get(key);
      await inner.update(key, bytes({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "default", uid: created.metadata?.uid }, data: { v: "5" } }), kv!.modRevision);
      const { object } = await rs.update("default", "cm", (current) => ({ ...current!, data: { ...dataOf(current), w: "x" } }), ctx);
      assert.deepEqual(dataOf(object), { v: "5", w: "x" });
      assert.deepEqual(await storedData(inner, key), { v: "5", w: "x" });

      // Once the events come through, the cache holds the last write.
      g.open();
      assert.ok(await cache.waitFor(Number(object.metadata?.resourceVersion), 3000));
      assert.deepEqual(dataOf(cache.resource("/registry/configmaps/").get(key)?.object), { v: "5", w: "x" });
    } finally {
      g.open();
      await cache.stop();
      await inner.close();
    }
  });
});

describe("ResourceStore.update under contention", () => {
  it("gets every one of many concurrent unconditional updates of one object through, as upstream's GuaranteedUpdate does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-update-"));
    const store = await openStore(`sqlite://${join(dir, "state.db")}`);
    const cache = new WatchCache(store, ["/registry/configmaps/"], { historySize: 100, watcherQueueLimit: 100, root: "/registry/" });
    try {
      await cache.start();
      const rs = new ResourceStore(configMaps, { store, cache, admission: new AdmissionChain([]) });
      await rs.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "default" }, data: {} }, ctx);
      // 50 patch-like updates at once, each adding its own key: one wins each commit, the rest try again.
      const writers = Array.from({ length: 50 }, (_, i) => `k${i}`);
      await Promise.all(writers.map((k) => rs.update("default", "cm", (current) => ({ ...current!, data: { ...dataOf(current), [k]: "x" } }), ctx)));
      const { kv } = await store.get(rs.key("default", "cm"));
      const data = dataOf(JSON.parse(new TextDecoder().decode(kv!.value)));
      assert.deepEqual(Object.keys(data ?? {}).sort(), [...writers].sort(), "no update lost, none refused");
    } finally {
      await cache.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
