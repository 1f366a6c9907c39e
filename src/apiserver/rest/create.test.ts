// ResourceStore.create with generateName, as upstream's apiserver since RetryGenerateName (GA
// in 1.32): a generated name that is taken is replaced by a fresh one, up to 8 tries in all,
// each validated again; a name the client chose is never replaced. And as upstream's name
// generator, a prefix longer than 58 characters is cut so that the name fits in 63.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore } from "../../storage/memory.js";
import { AdmissionChain } from "../admission/types.js";
import { configMaps } from "../resources/core/config.js";
import * as status from "../status.js";
import { WatchCache } from "../watchcache.js";
import { generateName } from "./meta.js";
import { ResourceStore, type RequestContext } from "./store.js";

const ctx: RequestContext = { namespace: "default", user: { username: "tester", groups: [] }, now: new Date(), dryRun: false };

/** A store whose generated names come from `names` in turn (the last one repeated), counting the names made and the validations. */
async function withNames(names: readonly string[], run: (rs: ResourceStore, count: { made: number; validated: string[] }) => Promise<void>): Promise<void> {
  const store = await MemoryStore.open();
  const cache = new WatchCache(store, ["/registry/configmaps/"], { historySize: 100, watcherQueueLimit: 100, root: "/registry/" });
  await cache.start();
  const count = { made: 0, validated: [] as string[] };
  const admission = new AdmissionChain([{ name: "Counter", validate: (a) => void count.validated.push(a.name) }]);
  const rs = new ResourceStore(configMaps, { store, cache, admission, generateName: (prefix) => prefix + names[Math.min(count.made++, names.length - 1)] });
  try {
    await run(rs, count);
  } finally {
    await cache.stop();
    await store.close();
  }
}

const configMap = (meta: Record<string, string>): { apiVersion: string; kind: string; metadata: Record<string, string>; data: Record<string, string> } => ({ apiVersion: "v1", kind: "ConfigMap", metadata: meta, data: { a: "b" } });

async function refusal(p: Promise<unknown>): Promise<status.StatusError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof status.StatusError, `expected a StatusError, got ${String(err)}`);
  return err;
}

describe("ResourceStore.create with generateName", () => {
  it("tries fresh names while the generated one is taken, validating each", async () => {
    await withNames(["aaaaa", "aaaaa", "bbbbb", "ccccc", "ddddd"], async (rs, count) => {
      await rs.create(configMap({ name: "cm-aaaaa" }), ctx);
      await rs.create(configMap({ name: "cm-bbbbb" }), ctx);
      const made = await rs.create(configMap({ generateName: "cm-" }), ctx);
      assert.equal(made.metadata?.name, "cm-ccccc");
      assert.equal(count.made, 4, "aaaaa twice and bbbbb were taken");
      assert.deepEqual(count.validated, ["cm-aaaaa", "cm-bbbbb", "cm-aaaaa", "cm-aaaaa", "cm-bbbbb", "cm-ccccc"]);
      const a = await rs.get("default", "cm-aaaaa");
      const c = await rs.get("default", "cm-ccccc");
      assert.notEqual(a.metadata?.uid, c.metadata?.uid);
      assert.equal(c.metadata?.generateName, "cm-");
    });
  });

  it("answers AlreadyExists after 8 names that are all taken", async () => {
    await withNames(["aaaaa"], async (rs, count) => {
      await rs.create(configMap({ name: "cm-aaaaa" }), ctx);
      const err = await refusal(rs.create(configMap({ generateName: "cm-" }), ctx));
      assert.equal(err.status.code, 409);
      assert.equal(err.status.reason, "AlreadyExists");
      assert.equal(err.status.message, 'configmaps "cm-aaaaa" already exists');
      assert.equal(count.made, 8);
    });
  });

  it("never renames an object whose client chose the name, generateName or not", async () => {
    await withNames(["zzzzz"], async (rs, count) => {
      await rs.create(configMap({ name: "taken" }), ctx);
      for (const meta of [{ name: "taken" }, { name: "taken", generateName: "cm-" }] as Record<string, string>[]) {
        const err = await refusal(rs.create(configMap(meta), ctx));
        assert.equal(err.status.reason, "AlreadyExists");
      }
      assert.equal(count.made, 0);
    });
  });

  it("renames in a dry run too, and stores nothing", async () => {
    await withNames(["aaaaa", "bbbbb"], async (rs) => {
      await rs.create(configMap({ name: "cm-aaaaa" }), ctx);
      const made = await rs.create(configMap({ generateName: "cm-" }), { ...ctx, dryRun: true });
      assert.equal(made.metadata?.name, "cm-bbbbb");
      await assert.rejects(rs.get("default", "cm-bbbbb"), (e: unknown) => e instanceof status.StatusError && e.status.code === 404);
    });
  });
});

describe("generateName", () => {
  it("appends 5 characters of upstream's alphabet, cutting a prefix over 58 characters", () => {
    assert.match(generateName("web-"), /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const long = "x".repeat(70);
    const name = generateName(long);
    assert.equal(name.length, 63);
    assert.ok(name.startsWith("x".repeat(58)));
    assert.equal(generateName("x".repeat(58)).length, 63);
  });
});
