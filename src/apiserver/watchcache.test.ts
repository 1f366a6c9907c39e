import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CachedObject, ResourceCache, TooOldError } from "./watchcache.js";
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
    }
  });

  it("falls back to decoding when metadata does not follow apiVersion and kind", () => {
    const obj = { spec: { template: { metadata: { name: "inner" } } }, apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "outer" } };
    const o = CachedObject.decode(kv("/k", obj, 3));
    const parsed = JSON.parse(o.json()) as { metadata: { name: string; resourceVersion: string }; spec: { template: { metadata: Record<string, string> } } };
    assert.equal(parsed.metadata.resourceVersion, "3");
    assert.equal(parsed.spec.template.metadata["resourceVersion"], undefined);
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
