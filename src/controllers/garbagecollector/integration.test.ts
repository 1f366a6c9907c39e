// The garbage collector against a real API server, through the real client, informers and
// queues: background, foreground (with blockOwnerDeletion and a dependent held by a finalizer)
// and orphan propagation, dangling references found at startup, owner uid checks.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { ConfigMap } from "kubernetes-types/core/v1.js";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { newControllerMetrics } from "../../client/controller.js";
import { isNotFound } from "../../client/errors.js";
import { SharedInformerFactory } from "../../client/informer.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { createLogger } from "../../util/log.js";
import type { ControllerContext } from "../context.js";
import { RecordingEventSink } from "../testing/index.js";
import { garbageCollectorController } from "./controller.js";
import { until } from "../../testing/wait.js";

void describe("garbage collector against an API server", () => {
  let srv: TestApiServer;
  let client: RestClient;
  const ac = new AbortController();
  let run: Promise<void> | undefined;
  let informers: SharedInformerFactory;

  const cms = () => client.forKind("v1", "ConfigMap").namespace("default");
  const ref = (o: ConfigMap, block = false): OwnerReference => ({ apiVersion: "v1", kind: "ConfigMap", name: o.metadata!.name!, uid: o.metadata!.uid!, ...(block ? { blockOwnerDeletion: true } : {}) });
  const cm = (name: string, owners: OwnerReference[] = [], finalizers?: string[]): Promise<ConfigMap> =>
    cms().create({ metadata: { name, ownerReferences: owners, ...(finalizers ? { finalizers } : {}) }, data: { k: name } });
  const get = async (name: string): Promise<ConfigMap | undefined> => {
    try {
      return await cms().get(name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const gone = (name: string) => until(`${name} to be deleted`, async () => ((await get(name)) === undefined ? true : undefined));

  let startupOwner: ConfigMap;

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    // Present before the collector starts: one dependent of nothing, one of a replaced owner, one of a live owner.
    await cm("startup-orphan", [{ apiVersion: "v1", kind: "ConfigMap", name: "never-was", uid: "00000000-0000-0000-0000-000000000001" }]);
    startupOwner = await cm("startup-owner");
    await cm("startup-wrong-uid", [{ ...ref(startupOwner), uid: "00000000-0000-0000-0000-000000000002" }]);
    await cm("startup-kept", [ref(startupOwner)]);

    const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");
    informers = new SharedInformerFactory({ client, log });
    const registry = new Registry();
    const ctx: ControllerContext = { client, informers, events: new RecordingEventSink(), log, metrics: newControllerMetrics(registry), registry };
    const gc = garbageCollectorController(ctx);
    informers.start(ac.signal);
    run = gc.run(ac.signal, 4);
  });

  after(async () => {
    ac.abort();
    await run;
    await informers?.shutdown();
    client?.close();
    await srv?.stop();
  });

  void it("deletes dependents whose owners never existed or were replaced, keeps those with a live owner", async () => {
    await gone("startup-orphan");
    await gone("startup-wrong-uid");
    assert.ok(await get("startup-kept"));
  });

  void it("background: deleting an owner deletes its dependents, transitively", async () => {
    const a = await cm("bg-a");
    const b = await cm("bg-b", [ref(a)]);
    await cm("bg-c", [ref(b)]);
    await cms().delete("bg-a", { propagationPolicy: "Background" });
    await gone("bg-b");
    await gone("bg-c");
  });

  void it("foreground: the owner stays (deletionTimestamp, finalizer) until blocking dependents are gone", async () => {
    const a = await cm("fg-a");
    const b = await cm("fg-b", [ref(a, true)]);
    await cm("fg-c", [ref(b, true)], ["example.com/hold"]);
    await cms().delete("fg-a", { propagationPolicy: "Foreground" });
    // c is held by its own finalizer, so b (deleted in the foreground, it has a dependent) and a wait.
    await until("fg-c to be marked for deletion", async () => ((await get("fg-c"))?.metadata?.deletionTimestamp ? true : undefined));
    const bNow = await until("fg-b to wait for its dependents", async () => {
      const o = await get("fg-b");
      return o?.metadata?.deletionTimestamp ? o : undefined;
    });
    assert.deepEqual(bNow.metadata?.finalizers, ["foregroundDeletion"]);
    const aNow = await get("fg-a");
    assert.ok(aNow?.metadata?.deletionTimestamp);
    assert.deepEqual(aNow.metadata.finalizers, ["foregroundDeletion"]);

    await cms().patch("fg-c", "merge", { metadata: { finalizers: null } });
    await gone("fg-c");
    await gone("fg-b");
    await gone("fg-a");
  });

  void it("foreground: a non-blocking dependent is deleted but not waited for", async () => {
    const a = await cm("nb-a");
    await cm("nb-b", [ref(a, false)], ["example.com/hold"]);
    await cms().delete("nb-a", { propagationPolicy: "Foreground" });
    await gone("nb-a");
    const b = await until("nb-b to be marked for deletion", async () => {
      const o = await get("nb-b");
      return o?.metadata?.deletionTimestamp ? o : undefined;
    });
    assert.ok(b);
    await cms().patch("nb-b", "merge", { metadata: { finalizers: null } });
    await gone("nb-b");
  });

  void it("orphan: dependents stay, without the owner's reference; the owner goes", async () => {
    const keep = await cm("or-keep");
    const a = await cm("or-a");
    await cm("or-b", [ref(a, true), ref(keep)]);
    await cm("or-c", [ref(a)]);
    await cms().delete("or-a", { propagationPolicy: "Orphan" });
    await gone("or-a");
    const b = await get("or-b");
    const c = await get("or-c");
    assert.deepEqual(b?.metadata?.ownerReferences?.map((r) => r.name), ["or-keep"]);
    assert.ok(c);
    assert.equal(c.metadata?.ownerReferences?.length ?? 0, 0);
  });

  void it("removes only the dangling reference of an object that still has a live owner", async () => {
    const live = await cm("mix-live");
    const dead = await cm("mix-dead");
    await cm("mix-dep", [ref(live), ref(dead)]);
    await cms().delete("mix-dead");
    await until("the dangling reference to be removed", async () => {
      const o = await get("mix-dep");
      return o?.metadata?.ownerReferences?.length === 1 ? o : undefined;
    });
    assert.equal((await get("mix-dep"))?.metadata?.ownerReferences?.[0]?.name, "mix-live");
  });
});
