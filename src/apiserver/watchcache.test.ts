import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CachedObject, ParsedObjects, ResourceCache, TooOldError, WatchCache, WrittenObjects, jsonOfStored, markStored, type ObjectFilter } from "./watchcache.js";
import { MemoryStore } from "../storage/memory.js";
import type { WatchEvent } from "../storage/interface.js";

const enc = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
const kv = (key: string, o: unknown, rev: number) => ({ key, value: enc(o), createRevision: rev, modRevision: rev, ttlSeconds: 0 });

describe("CachedObject", () => {
  it("serves the stored bytes with the resourceVersion spliced in, equal to decoding and re-encoding", () => {
    for (const obj of [
      { apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels: { a: "b" } }, spec: { containers: [{ name: "c" }] } },
      { apiVersion: "v1", kind: "ConfigMap", metadata: {}, data: { "metadata\":{": "x" } },
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { template: { metadata: { labels: { a: "b" } } } } },
    ]) {
      const fast = CachedObject.decode(kv("/k", obj, 7));
      const slow = CachedObject.decode(kv("/k", obj, 7));
      assert.deepEqual(JSON.parse(fast.json()), slow.object);
      assert.equal((JSON.parse(fast.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion, "7");
      const bytes = CachedObject.decode(kv("/k", obj, 7)).jsonBytes(Buffer.from("<"), Buffer.from(">"));
      assert.equal(bytes.toString(), `<${fast.json()}>`, "the same JSON as bytes, between head and tail");
    }
  });

  it("splices the resourceVersion into bytes after non-ASCII characters as into the string", () => {
    const obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", annotations: { note: "ünïcödé ✓" } }, data: { "€": "→" } };
    const o = CachedObject.decode(kv("/k", obj, 11));
    assert.deepEqual(JSON.parse(o.jsonBytes(Buffer.alloc(0), Buffer.alloc(0)).toString()), { ...obj, metadata: { resourceVersion: "11", ...obj.metadata } });
    assert.equal(o.jsonBytes(Buffer.alloc(0), Buffer.alloc(0)).toString(), o.json());
  });

  it("falls back to decoding when metadata does not follow apiVersion and kind", () => {
    const obj = { spec: { template: { metadata: { name: "inner" } } }, apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "outer" } };
    const o = CachedObject.decode(kv("/k", obj, 3));
    const parsed = JSON.parse(o.json()) as { metadata: { name: string; resourceVersion: string }; spec: { template: { metadata: Record<string, string> } } };
    assert.equal(parsed.metadata.resourceVersion, "3");
    assert.equal(parsed.spec.template.metadata["resourceVersion"], undefined);
    assert.deepEqual(JSON.parse(o.jsonBytes(Buffer.alloc(0), Buffer.alloc(0)).toString()), parsed);
  });
});

describe("ResourceCache", () => {
  const put = (rev: number, name: string, prev?: number): WatchEvent => ({
    type: prev === undefined ? "create" : "update",
    revision: rev,
    kv: kv(`/registry/pods/default/${name}`, { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" } }, rev),
    ...(prev !== undefined ? { prevKv: kv(`/registry/pods/default/${name}`, { apiVersion: "v1", kind: "Pod", metadata: { name } }, prev) } : {}),
  });

  it("replays history after a revision and refuses revisions older than its window", async () => {
    let rev = 10;
    const cache = new ResourceCache("/registry/pods/", 3, 100, () => rev, 10);
    for (let i = 11; i <= 15; i++) {
      rev = i;
      cache.apply(put(i, `p${i}`));
    }
    assert.throws(() => cache.watch("/registry/pods/", () => true, 11), TooOldError);
    const w = cache.watch("/registry/pods/", () => true, 13);
    assert.deepEqual([w.takeNow()?.event.revision, w.takeNow()?.event.revision, w.takeNow()], [14, 15, undefined]);
    w.close();
  });

  it("keeps a decoded snapshot until the resource changes, whatever the ring of parsed objects does", () => {
    const cache = new ResourceCache("/registry/pods/", 10, 100, () => 0, 0, { parsed: new ParsedObjects(1) });
    cache.apply(put(1, "a"));
    cache.apply(put(2, "b"));
    const first = cache.decoded();
    assert.deepEqual(first.list.map((o) => o.metadata?.name), ["a", "b"]);
    assert.equal(first.byKey.get("/registry/pods/default/b"), first.list[1]);
    // Reading other objects moves the ring of one: the snapshot's objects stay, and are the same.
    cache.list().forEach((c) => c.object);
    assert.equal(cache.decoded(), first);
    cache.apply(put(3, "c"));
    const next = cache.decoded();
    assert.notEqual(next, first);
    assert.deepEqual(next.list.map((o) => o.metadata?.name), ["a", "b", "c"]);
  });

  it("turns a change that leaves a watcher's selection into DELETED and one that enters it into ADDED", () => {
    const cache = new ResourceCache("/registry/pods/", 10, 100, () => 0, 0);
    const labelled = (rev: number, app: string | undefined, prev?: number): WatchEvent => ({
      type: prev === undefined ? "create" : "update",
      revision: rev,
      kv: kv("/registry/pods/default/p", { apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels: app ? { app } : {} } }, rev),
    });
    const w = cache.watch("/registry/pods/", (o) => o.metadata?.labels?.["app"] === "web", 0);
    cache.apply(labelled(1, undefined));
    cache.apply(labelled(2, "web", 1));
    cache.apply(labelled(3, "db", 2));
    assert.deepEqual([w.takeNow()?.type, w.takeNow()?.type, w.takeNow()], ["ADDED", "DELETED", undefined]);
  });

  it("cuts off a watcher that falls too far behind", () => {
    const cache = new ResourceCache("/registry/pods/", 10, 2, () => 0, 0);
    const w = cache.watch("/registry/pods/", () => true, 0);
    for (let i = 1; i <= 3; i++) cache.apply(put(i, `p${i}`));
    assert.equal(w.closed, true);
    assert.match(String(w.error), /behind/);
  });
});

describe("ResourceCache history by time", () => {
  const put = (rev: number, name: string): WatchEvent => ({
    type: "create",
    revision: rev,
    kv: kv(`/registry/pods/default/${name}`, { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" } }, rev),
  });
  const drain = (w: { takeNow(): { event: { revision: number } } | undefined }): number[] => {
    const out: number[] = [];
    for (let e = w.takeNow(); e; e = w.takeNow()) out.push(e.event.revision);
    return out;
  };

  it("keeps every event younger than the window beyond the floor, and drops older ones once past it", () => {
    let now = 0;
    const cache = new ResourceCache("/registry/pods/", 2, 100, () => 0, 0, { windowMs: 1000, now: () => now });
    for (let i = 1; i <= 5; i++) cache.apply(put(i, `p${i}`));
    assert.equal(cache.historyLength, 5, "all five are younger than the window");
    assert.deepEqual(drain(cache.watch("/registry/pods/", () => true, 0)), [1, 2, 3, 4, 5]);
    now = 1500;
    cache.apply(put(6, "p6"));
    assert.equal(cache.historyLength, 2, "older than the window: only the floor of two stays");
    assert.throws(() => cache.watch("/registry/pods/", () => true, 3), TooOldError);
    assert.deepEqual(drain(cache.watch("/registry/pods/", () => true, 4)), [5, 6]);
  });

  it("never keeps more than the ceiling, however young the events", () => {
    const cache = new ResourceCache("/registry/pods/", 2, 100, () => 0, 0, { windowMs: 60_000, maxEvents: 4, now: () => 0 });
    for (let i = 1; i <= 10; i++) cache.apply(put(i, `p${i}`));
    assert.equal(cache.historyLength, 4);
    assert.throws(() => cache.watch("/registry/pods/", () => true, 5), TooOldError);
    assert.deepEqual(drain(cache.watch("/registry/pods/", () => true, 6)), [7, 8, 9, 10]);
  });

  it("replays more history than the live queue holds, then the live events, in order", () => {
    const cache = new ResourceCache("/registry/pods/", 5000, 10, () => 0, 0);
    for (let i = 1; i <= 3000; i++) cache.apply(put(i, `p${i}`));
    const w = cache.watch("/registry/pods/", (o) => Number(o.metadata?.name?.slice(1)) % 2 === 0, 1000);
    cache.apply(put(3001, "p3001"));
    cache.apply(put(3002, "p3002"));
    const got = drain(w);
    assert.equal(w.closed, false);
    assert.equal(got.length, 1001);
    assert.deepEqual([got[0], got.at(-2), got.at(-1)], [1002, 3000, 3002]);
    assert.equal(w.pending, 0);
  });

  it("delivers an initial state larger than the live queue", async () => {
    const cache = new ResourceCache("/registry/pods/", 10, 5, () => 0, 0);
    for (let i = 1; i <= 50; i++) cache.apply(put(i, `p${i}`));
    const w = cache.watch("/registry/pods/", () => true, undefined);
    cache.apply(put(51, "p51"));
    const seen: string[] = [];
    for await (const e of w) {
      seen.push(`${e.type} ${e.object.object.metadata?.name ?? ""}`);
      if (seen.length === 51) w.close();
    }
    assert.equal(seen.length, 51);
    assert.equal(seen.at(-1), "ADDED p51");
    assert.ok(seen.slice(0, 50).every((s) => s.startsWith("ADDED ")));
  });

  it("cuts off a replay whose next events the history dropped meanwhile", () => {
    const cache = new ResourceCache("/registry/pods/", 4, 1000, () => 0, 0);
    for (let i = 1; i <= 4; i++) cache.apply(put(i, `p${i}`));
    const w = cache.watch("/registry/pods/", () => true, 0);
    assert.equal(w.takeNow()?.event.revision, 1);
    for (let i = 5; i <= 8; i++) cache.apply(put(i, `p${i}`));
    assert.equal(w.takeNow(), undefined);
    assert.equal(w.closed, true);
    assert.match(String(w.error), /history moved past/);
  });

  it("serves a superseded object from its stored bytes after forgetting its parsed form", () => {
    const cache = new ResourceCache("/registry/pods/", 10, 100, () => 0, 0);
    cache.apply(put(1, "p"));
    const first = cache.get("/registry/pods/default/p")!;
    assert.equal(first.object.metadata?.resourceVersion, "1");
    cache.apply({ ...put(2, "p"), type: "update" });
    const w = cache.watch("/registry/pods/", () => true, 0);
    const added = w.takeNow()!;
    assert.equal(added.object, first);
    assert.equal(added.object.object.metadata?.resourceVersion, "1");
    assert.equal((JSON.parse(added.object.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion, "1");
    assert.equal(w.takeNow()?.type, "MODIFIED");
  });
});

describe("CacheEvent encodings", () => {
  it("serializes once per id, and lets the serialized form go once 1024 events followed", () => {
    const cache = new ResourceCache("/registry/pods/", 5000, 5000, () => 0, 0);
    const w = cache.watch("/registry/pods/", undefined, undefined);
    const put = (rev: number): WatchEvent => ({ type: "create", revision: rev, kv: kv(`/registry/pods/default/p${rev}`, { apiVersion: "v1", kind: "Pod", metadata: { name: `p${rev}` } }, rev) });
    cache.apply(put(1));
    const first = w.takeNow()!.event;
    let calls = 0;
    const encode = (): Buffer => Buffer.from(`json ${++calls}`);
    const encoded = (id: string): string => first.encode(id, encode).toString();
    assert.equal(encoded("a"), "json 1");
    assert.equal(encoded("a"), "json 1");
    assert.equal(encoded("b"), "json 2");
    assert.equal(encoded("a"), "json 1");
    for (let rev = 2; rev <= 1024; rev++) cache.apply(put(rev));
    assert.equal(encoded("b"), "json 2", "1023 events later: still held");
    cache.apply(put(1025));
    assert.equal(encoded("a"), "json 3", "1024 events later: serialized again");
    w.close();
  });
});

describe("CacheWatcher filters", () => {
  const pod = (rev: number, node: string, prev?: number): WatchEvent => ({
    type: prev === undefined ? "create" : "update",
    revision: rev,
    kv: kv("/registry/pods/default/p", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { nodeName: node } }, rev),
  });

  it("asks a watcher's filter once per object, even after the object lost its parsed form", () => {
    const parsed = new ParsedObjects(1);
    const cache = new ResourceCache("/registry/pods/", 10, 100, () => 0, 0, { parsed });
    const asked: string[] = [];
    const onA = (o: Parameters<ObjectFilter>[0]): boolean => {
      asked.push(o.metadata?.resourceVersion ?? "");
      return (o as { spec?: { nodeName?: string } }).spec?.nodeName === "a";
    };
    const w = cache.watch("/registry/pods/", onA, 0);
    cache.apply(pod(1, "a"));
    // Another object parsed since: p@1's parsed form is gone from the ring of one.
    void CachedObject.decode(kv("/registry/pods/default/q", { apiVersion: "v1", kind: "Pod", metadata: { name: "q" } }, 1), 1, parsed).object;
    cache.apply(pod(2, "b", 1));
    cache.apply(pod(3, "a", 2));
    assert.deepEqual(asked, ["1", "2", "3"], "p@1 and p@2 were judged once each, when they were new");
    assert.deepEqual([w.takeNow()?.type, w.takeNow()?.type, w.takeNow()?.type, w.takeNow()], ["ADDED", "DELETED", "ADDED", undefined]);
  });

  it("gives two watchers their own verdicts on the same object", () => {
    const cache = new ResourceCache("/registry/pods/", 10, 100, () => 0, 0);
    const onNode = (n: string): ObjectFilter => (o) => (o as { spec?: { nodeName?: string } }).spec?.nodeName === n;
    const wa = cache.watch("/registry/pods/", onNode("a"), 0);
    const wb = cache.watch("/registry/pods/", onNode("b"), 0);
    cache.apply(pod(1, "a"));
    cache.apply(pod(2, "b", 1));
    assert.deepEqual([wa.takeNow()?.type, wa.takeNow()?.type, wa.takeNow()], ["ADDED", "DELETED", undefined]);
    assert.deepEqual([wb.takeNow()?.type, wb.takeNow()], ["ADDED", undefined]);
  });

  it("delivers every event to a watcher without a filter without parsing the objects", () => {
    const cache = new ResourceCache("/registry/pods/", 10, 100, () => 0, 0);
    const w = cache.watch("/registry/pods/", undefined, 0);
    // Bytes that are not JSON past metadata: a parse would throw.
    const raw = new TextEncoder().encode('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":');
    cache.apply({ type: "create", revision: 1, kv: { key: "/registry/pods/default/p", value: raw, createRevision: 1, modRevision: 1, ttlSeconds: 0 } });
    cache.apply({ type: "update", revision: 2, kv: { key: "/registry/pods/default/p", value: raw, createRevision: 1, modRevision: 2, ttlSeconds: 0 } });
    const [a, b] = [w.takeNow(), w.takeNow()];
    assert.deepEqual([a?.type, b?.type], ["ADDED", "MODIFIED"]);
    assert.match(b!.object.json(), /"resourceVersion":"2"/);
  });
});

describe("ParsedObjects", () => {
  const obj = (name: string, rev: number, parsed: ParsedObjects): CachedObject => CachedObject.decode(kv(`/registry/pods/default/${name}`, { apiVersion: "v1", kind: "Pod", metadata: { name } }, rev), rev, parsed);

  it("keeps only the most recently parsed objects parsed, and parses the others again when asked", () => {
    const parsed = new ParsedObjects(2);
    const [a, b, c] = [obj("a", 1, parsed), obj("b", 2, parsed), obj("c", 3, parsed)];
    const firstA = a.object;
    assert.equal(a.object, firstA, "parsed once while among the two most recent");
    void b.object;
    void c.object;
    const againA = a.object;
    assert.notEqual(againA, firstA, "a was pushed out by b and c: parsed anew");
    assert.deepEqual(againA, firstA);
    assert.equal(againA.metadata?.resourceVersion, "1");
    const firstC = c.object;
    void obj("d", 4, parsed).object;
    assert.equal(a.object, againA);
    assert.notEqual(c.object, firstC, "c was pushed out by a and d");
  });

  it("does not let an object's old slot take away the parsed form it got again since", () => {
    const parsed = new ParsedObjects(2);
    const a = obj("a", 1, parsed);
    void a.object;
    a.forget();
    const again = a.object;
    // Both slots name a now; recycling the first (its stale registration) leaves it parsed.
    void obj("b", 2, parsed).object;
    assert.equal(a.object, again);
  });

  it("serves JSON from the stored bytes whether or not the object is parsed", () => {
    const parsed = new ParsedObjects(1);
    const o = obj("p", 9, parsed);
    void o.object;
    assert.deepEqual(JSON.parse(o.json()), o.object);
    assert.match(o.json(), /^\{"apiVersion":"v1","kind":"Pod","metadata":\{"resourceVersion":"9","name":"p"\}\}$/);
  });
});

describe("WrittenObjects", () => {
  // A type alias (not an interface): it must fit KubeObject's index signature.
  type TestPod = {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace: string; resourceVersion: string; labels: Record<string, string> };
    spec: { nodeName: string };
  };
  const pod: TestPod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", resourceVersion: "3", labels: { a: "b" } }, spec: { nodeName: "n" } };
  const bytesOf = (o: TestPod): Uint8Array => {
    const { resourceVersion: _, ...meta } = o.metadata;
    return enc({ apiVersion: o.apiVersion, kind: o.kind, metadata: meta, spec: o.spec });
  };

  it("hands over an offered object only to the event whose value is the offered bytes, once", () => {
    const w = new WrittenObjects();
    const value = bytesOf(pod);
    w.offer("/registry/pods/default/p", value, pod);
    assert.equal(w.take("/registry/pods/default/p", enc({ other: true })), undefined, "another write's bytes");
    assert.equal(w.take("/registry/pods/default/p", new Uint8Array(value)), undefined, "the offer was spent by the event before");
    w.offer("/registry/pods/default/p", value, pod);
    assert.equal(w.take("/registry/pods/default/p", new Uint8Array(value)), pod, "the same bytes, copied by the store");
    assert.equal(w.size, 0);
  });

  it("serves a handed-over object as decoding its bytes would, with the event's resourceVersion", () => {
    const parsed = new ParsedObjects(4);
    const k = kv("/registry/pods/default/p", JSON.parse(new TextDecoder().decode(bytesOf(pod))), 9);
    const handed = CachedObject.written(k, pod, parsed);
    const decoded = CachedObject.decode(k, 9);
    assert.deepEqual(handed.object, decoded.object);
    assert.deepEqual(Object.keys(handed.object.metadata ?? {}), Object.keys(decoded.object.metadata ?? {}), "resourceVersion last, as a parse gives it");
    assert.equal(JSON.stringify(handed.object), JSON.stringify(decoded.object));
    assert.equal(handed.json(), decoded.json());
    assert.equal(pod.metadata.resourceVersion, "3", "the offered object is not changed");
  });

  it("puts the offered object in the cache for a write that lands, and never the object of a write that failed", async () => {
    const store = await MemoryStore.open();
    const cache = new WatchCache(store, ["/registry/pods/"], { historySize: 100, watcherQueueLimit: 100, root: "/registry/" });
    await cache.start();
    try {
      const key = "/registry/pods/default/p";
      const first = { ...pod, metadata: { ...pod.metadata, labels: { v: "1" } } };
      cache.offerWrite(key, bytesOf(first), first);
      const created = await store.create(key, bytesOf(first));
      assert.ok(await cache.waitFor(created.modRevision, 3000));
      const landed = cache.resource("/registry/pods/").get(key)!.object;
      assert.equal(landed.spec, first.spec, "the offered object itself, not a parse of its bytes");
      assert.equal(landed.metadata?.resourceVersion, String(created.modRevision));
      // A write that fails (stale revision): offered, never stored.
      const lost = { ...pod, metadata: { ...pod.metadata, labels: { v: "lost" } } };
      cache.offerWrite(key, bytesOf(lost), lost);
      await assert.rejects(store.update(key, bytesOf(lost), created.modRevision + 100));
      // Another writer's update lands with other bytes than the offer.
      const other = { ...pod, metadata: { ...pod.metadata, labels: { v: "2" } } };
      const updated = await store.update(key, bytesOf(other), created.modRevision);
      assert.ok(await cache.waitFor(updated.modRevision, 3000));
      const cached = cache.resource("/registry/pods/").get(key)!;
      assert.equal(cached.object.metadata?.labels?.["v"], "2");
      assert.equal(cached.object.metadata?.resourceVersion, String(updated.modRevision));
      const w = cache.resource("/registry/pods/").watch("/registry/pods/", undefined, 0);
      const [a, b] = [w.takeNow(), w.takeNow()];
      w.close();
      assert.equal(a?.object.object.metadata?.labels?.["v"], "1");
      assert.equal(a?.object.object.metadata?.resourceVersion, String(created.modRevision), "the landed offer, with its own revision");
      assert.equal(b?.object.object.metadata?.labels?.["v"], "2");
    } finally {
      await cache.stop();
      await store.close();
    }
  });
});

describe("markStored", () => {
  it("serves a marked object's JSON from its stored bytes, equal to stringifying it", () => {
    const stored = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", labels: { a: "b" } }, data: { k: "v" } };
    const k = kv("/registry/configmaps/default/c", stored, 12);
    const obj = markStored({ ...stored, metadata: { ...stored.metadata, resourceVersion: "12" } }, k);
    assert.deepEqual(JSON.parse(jsonOfStored(obj)!.toString()), JSON.parse(JSON.stringify(obj)));
    assert.equal(jsonOfStored({ ...obj }), undefined, "an object not marked");
  });

  it("declines bytes that do not begin with apiVersion, kind and metadata", () => {
    const k = kv("/k", { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "c" } }, 3);
    assert.equal(jsonOfStored(markStored({}, k)), undefined);
  });
});

describe("WatchCache prefixes added while it runs", () => {
  it("lists what a prefix holds, then follows it without losing or repeating events; removed, it is gone", async () => {
    const store = await MemoryStore.open();
    const cache = new WatchCache(store, ["/registry/pods/"], { historySize: 100, watcherQueueLimit: 100, root: "/registry/" });
    await cache.start();
    try {
      const prefix = "/registry/stable.example.com/crontabs/";
      const before = await store.create(`${prefix}default/a`, enc({ apiVersion: "stable.example.com/v1", kind: "CronTab", metadata: { name: "a", namespace: "default" } }));
      assert.equal(cache.hasPrefix(prefix), false);
      // Writes while the prefix is being added land in the cache once, in order.
      const adding = cache.addPrefix(prefix);
      const during = store.create(`${prefix}default/b`, enc({ apiVersion: "stable.example.com/v1", kind: "CronTab", metadata: { name: "b", namespace: "default" } }));
      await adding;
      const b = await during;
      assert.ok(await cache.waitFor(b.modRevision, 3000));
      const r = cache.resource(prefix);
      assert.deepEqual(r.list().map((o) => o.object.metadata?.name), ["a", "b"]);
      assert.equal(r.get(`${prefix}default/a`)?.revision, before.modRevision);
      const w = r.watch(prefix, undefined, b.modRevision);
      const c = await store.create(`${prefix}default/c`, enc({ apiVersion: "stable.example.com/v1", kind: "CronTab", metadata: { name: "c", namespace: "default" } }));
      assert.ok(await cache.waitFor(c.modRevision, 3000));
      assert.equal(r.size, 3);
      const ev = w.takeNow();
      assert.equal(ev?.type, "ADDED");
      assert.equal(ev?.object.object.metadata?.name, "c");
      cache.removePrefix(prefix);
      assert.equal(cache.hasPrefix(prefix), false);
      assert.throws(() => cache.resource(prefix));
      // Events of a removed prefix are dropped, not an error.
      const d = await store.create(`${prefix}default/d`, enc({ metadata: { name: "d" } }));
      assert.ok(await cache.waitFor(d.modRevision, 3000));
    } finally {
      await cache.stop();
      await store.close();
    }
  });
});
