// Pod GC against a real API server and simulated nodes: pods of a deleted node, terminated
// pods beyond the threshold, terminating pods on an out-of-service node.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { Pod } from "kubernetes-types/core/v1.js";
import { newControllerMetrics } from "../../client/controller.js";
import { isNotFound } from "../../client/errors.js";
import { SharedInformerFactory } from "../../client/informer.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { compileSimNodesOptions } from "../../simnodes/options.js";
import { SimNodes } from "../../simnodes/simulator.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { createLogger } from "../../util/log.js";
import type { ControllerContext } from "../context.js";
import { RecordingEventSink } from "../testing/index.js";
import { podGCControllerFactory } from "./index.js";
import { until as waitUntil } from "../../testing/wait.js";

const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> => waitUntil(what, probe, ms);

void describe("pod GC against an API server", () => {
  let srv: TestApiServer;
  let client: RestClient;
  let sim: SimNodes | undefined;
  const ac = new AbortController();
  const runs: Promise<void>[] = [];
  let informers: SharedInformerFactory;

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    sim = new SimNodes(compileSimNodesOptions({ client, log, count: 2, namePrefix: "gc-", readyDelayMs: 0, renewIntervalMs: 500 }));
    await sim.start();
    informers = new SharedInformerFactory({ client, log });
    const registry = new Registry();
    const ctx: ControllerContext = { client, informers, events: new RecordingEventSink(), log, metrics: newControllerMetrics(registry), registry };
    const gc = podGCControllerFactory({ gcCheckPeriodMs: 200, quarantineMs: 500, terminatedPodThreshold: 2 })(ctx);
    informers.start(ac.signal);
    runs.push(gc.run(ac.signal, 1));
  });

  after(async () => {
    ac.abort();
    await Promise.all(runs);
    await informers?.shutdown();
    await sim?.stop();
    client?.close();
    await srv?.stop();
  });

  const pods = () => client.forKind("v1", "Pod").namespace("default");
  const gone = (name: string) => async (): Promise<true | undefined> => {
    try {
      await pods().get(name);
      return undefined;
    } catch (err) {
      return isNotFound(err) ? true : undefined;
    }
  };
  const create = (name: string): Promise<Pod> =>
    pods().create({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "busybox" }], tolerations: [{ key: "kwok.x-k8s.io/node", operator: "Exists" }] } });

  void it("removes the pods of a deleted node", async () => {
    await create("orphan");
    await pods().bind("orphan", "gc-1");
    await until("orphan Running", async () => ((await pods().get("orphan")).status?.phase === "Running" ? true : undefined));
    await create("stays");
    await pods().bind("stays", "gc-0");
    await client.forKind("v1", "Node").delete("gc-1");
    await until("orphan gone", gone("orphan"));
    assert.equal((await pods().get("stays")).status?.phase, "Running");
  });

  void it("keeps only the newest terminated pods beyond the threshold", async () => {
    for (const name of ["done-1", "done-2", "done-3"]) {
      await create(name);
      await pods().patch(name, "merge", { status: { phase: "Succeeded" } }, { subresource: "status" });
      // Creation timestamps have one-second resolution: space the pods so their age orders them.
      await new Promise((r) => setTimeout(r, 1100));
    }
    await until("done-1 gone", gone("done-1"));
    await pods().get("done-2");
    await pods().get("done-3");
  });

  void it("force-deletes terminating pods on a not-ready, out-of-service node", async () => {
    await client.forKind("v1", "Node").create({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "dead" },
      spec: { taints: [{ key: "node.kubernetes.io/out-of-service", value: "nodeshutdown", effect: "NoExecute" }] },
      status: { conditions: [{ type: "Ready", status: "False", reason: "KubeletNotReady" }] },
    });
    await create("stuck");
    await pods().bind("stuck", "dead");
    const deleting = (await pods().delete("stuck")) as Pod;
    assert.ok(deleting.metadata?.deletionTimestamp, "a bound pod terminates gracefully first");
    await until("stuck gone", gone("stuck"));
  });
});
