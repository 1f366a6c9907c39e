// The namespace and ServiceAccount controllers against a real API server: a namespace deleted
// with content in it empties and goes; one held by a finalizer on its content waits and says
// so in its conditions; every namespace gets a `default` ServiceAccount back when it is deleted.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { Namespace } from "kubernetes-types/core/v1.js";
import { newControllerMetrics } from "../../client/controller.js";
import { isNotFound } from "../../client/errors.js";
import { SharedInformerFactory } from "../../client/informer.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { createLogger } from "../../util/log.js";
import type { ControllerContext } from "../context.js";
import { RecordingEventSink } from "../testing/index.js";
import { serviceAccountsController } from "../serviceaccount/controller.js";
import { namespaceController } from "./controller.js";
import { until } from "../../testing/wait.js";

void describe("namespace and serviceaccount controllers against an API server", () => {
  let srv: TestApiServer;
  let client: RestClient;
  const ac = new AbortController();
  const runs: Promise<void>[] = [];
  let informers: SharedInformerFactory;

  const nsClient = () => client.forKind("v1", "Namespace");
  const getNs = async (name: string): Promise<Namespace | undefined> => {
    try {
      return await nsClient().get(name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");
    informers = new SharedInformerFactory({ client, log });
    const registry = new Registry();
    const ctx: ControllerContext = { client, informers, events: new RecordingEventSink(), log, metrics: newControllerMetrics(registry), registry };
    const controllers = [namespaceController(ctx), serviceAccountsController(ctx)];
    informers.start(ac.signal);
    for (const c of controllers) runs.push(c.run(ac.signal, 2));
  });

  after(async () => {
    ac.abort();
    await Promise.all(runs);
    await informers?.shutdown();
    client?.close();
    await srv?.stop();
  });

  void it("gives every namespace a default ServiceAccount, and gives it back when deleted", async () => {
    const sas = () => client.forKind("v1", "ServiceAccount");
    await until("default in kube-system", () => sas().namespace("kube-system").get("default"));
    await nsClient().create({ metadata: { name: "team" } });
    const first = await until("default in team", () => sas().namespace("team").get("default"));
    await sas().namespace("team").delete("default");
    const again = await until("default back in team", async () => {
      const sa = await sas().namespace("team").get("default");
      return sa.metadata?.uid !== first.metadata?.uid ? sa : undefined;
    });
    assert.equal(again.metadata?.name, "default");
  });

  void it("deletes the content of a deleted namespace, then the namespace", async () => {
    await nsClient().create({ metadata: { name: "shop" } });
    const ns = client.forKind("v1", "ConfigMap").namespace("shop");
    for (let i = 0; i < 5; i++) await ns.create({ metadata: { name: `cm-${i}` } });
    await client.forKind("v1", "Secret").namespace("shop").create({ metadata: { name: "s" }, stringData: { a: "b" } });
    await client.forKind("v1", "Pod").namespace("shop").create({ metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } });
    await client
      .forKind("apps/v1", "Deployment")
      .namespace("shop")
      .create({ metadata: { name: "web" }, spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } } } });
    await nsClient().delete("shop");
    await until("namespace shop to go", async () => ((await getNs("shop")) === undefined ? true : undefined));
    // Nothing of it is left behind under the namespace's name.
    assert.equal((await client.forKind("v1", "ConfigMap").namespace("shop").list()).items.length, 0);
    assert.equal((await client.forKind("apps/v1", "Deployment").namespace("shop").list()).items.length, 0);
  });

  void it("waits for content held by a finalizer, with conditions saying so, and finishes once it is released", async () => {
    await nsClient().create({ metadata: { name: "held" } });
    const cms = client.forKind("v1", "ConfigMap").namespace("held");
    await cms.create({ metadata: { name: "stuck", finalizers: ["example.com/hold"] } });
    await nsClient().delete("held");
    const ns = await until("the content conditions", async () => {
      const n = await getNs("held");
      return n?.status?.conditions?.some((c) => c.type === "NamespaceFinalizersRemaining" && c.status === "True") ? n : undefined;
    });
    assert.equal(ns.status?.phase, "Terminating");
    const byType = Object.fromEntries((ns.status?.conditions ?? []).map((c) => [c.type, c]));
    assert.equal(byType["NamespaceContentRemaining"]?.message, "Some resources are remaining: configmaps. has 1 resource instances");
    assert.equal(byType["NamespaceFinalizersRemaining"]?.message, "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances");
    assert.equal(byType["NamespaceDeletionDiscoveryFailure"]?.status, "False");
    assert.deepEqual(ns.spec?.finalizers, ["kubernetes"]);
    await cms.patch("stuck", "merge", { metadata: { finalizers: null } });
    // The controller looks again after its estimate (15 s for finalizers: 8 s).
    await until("namespace held to go", async () => ((await getNs("held")) === undefined ? true : undefined), 30_000);
  });
});
