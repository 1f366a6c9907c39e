// The node lifecycle and taint-eviction controllers against a real API server, with nodes
// simulated by two real `k8ts sim-nodes` processes: one is killed, its nodes go Unknown and
// get the unreachable taints, its pods are marked not ready and those that tolerate the taint
// for 0 s are evicted; started again, its nodes are Ready and untainted.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import { newControllerMetrics } from "../../client/controller.js";
import { SharedInformerFactory } from "../../client/informer.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { createLogger } from "../../util/log.js";
import type { ControllerContext } from "../context.js";
import { RecordingEventSink } from "../testing/index.js";
import { nodeLifecycleControllerFactory, taintEvictionController } from "./index.js";
import { K8tsProcesses, type K8tsProcess } from "../../testing/process.js";
import { until } from "../../testing/wait.js";

const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");

const kwok = { key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" } as const;

void describe("node lifecycle against simulated nodes", () => {
  let srv: TestApiServer;
  let client: RestClient;
  const ac = new AbortController();
  const runs: Promise<void>[] = [];
  let informers: SharedInformerFactory;
  const events = new RecordingEventSink();
  const sims = new K8tsProcesses();

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    informers = new SharedInformerFactory({ client, log });
    const registry = new Registry();
    const ctx: ControllerContext = { client, informers, events, log, metrics: newControllerMetrics(registry), registry };
    const nlc = nodeLifecycleControllerFactory({ nodeMonitorPeriodMs: 200, nodeMonitorGracePeriodMs: 2_000, nodeStartupGracePeriodMs: 5_000, evictionLimiterQPS: 100 })(ctx);
    const tec = taintEvictionController(ctx);
    informers.start(ac.signal);
    runs.push(nlc.run(ac.signal, 2), tec.run(ac.signal, 2));
  });

  after(async () => {
    await sims.stopAll("SIGKILL");
    ac.abort();
    await Promise.all(runs);
    await informers?.shutdown();
    client?.close();
    await srv?.stop();
  });

  const nodes = () => client.forKind("v1", "Node");
  const pods = () => client.forKind("v1", "Pod").namespace("default");
  const readyOf = async (name: string): Promise<string | undefined> => ((await nodes().get(name)) as Node).status?.conditions?.find((c) => c.type === "Ready")?.status;
  const taintsOf = async (name: string): Promise<string[]> => (((await nodes().get(name)) as Node).spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

  void it("marks a killed simulator's nodes Unknown, taints them, evicts pods that do not tolerate it, and untaints them when it is back", async () => {
    const up = (prefix: string): Promise<K8tsProcess> =>
      sims.start(`sim-nodes ${prefix}`, ["sim-nodes", "--kubeconfig", srv.kubeconfig, "--count", "2", "--name-prefix", prefix, "--lease-renew-interval", "200ms", "--ready-delay", "0s", "--log-level", "warn"], "sim-nodes ready");
    await up("alive-");
    const doomed = await up("doomed-");
    for (const n of ["alive-0", "alive-1", "doomed-0", "doomed-1"]) await until(`${n} Ready`, async () => ((await readyOf(n)) === "True" ? true : undefined));

    const make = async (name: string, node: string, seconds?: number): Promise<void> => {
      const tolerations = seconds === undefined ? [kwok] : [kwok, { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: seconds }];
      await pods().create({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "busybox" }], tolerations } });
      await pods().bind(name, node);
    };
    await make("evict-now", "doomed-0", 0);
    await make("tolerates", "doomed-0");
    await make("safe", "alive-0", 0);
    for (const name of ["evict-now", "tolerates", "safe"]) {
      await until(`${name} Ready`, async () => ((await pods().get(name)).status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? true : undefined));
    }

    await doomed.stop("SIGKILL");
    const unknown = await until("doomed-0 Unknown", async () => {
      const n: Node = await nodes().get("doomed-0");
      const c = n.status?.conditions?.find((x) => x.type === "Ready");
      return c?.status === "Unknown" ? c : undefined;
    });
    assert.equal(unknown.reason, "NodeStatusUnknown");
    assert.equal(unknown.message, "Kubelet stopped posting node status.");
    await until("doomed-0 tainted unreachable", async () => {
      const t = await taintsOf("doomed-0");
      return t.includes("node.kubernetes.io/unreachable:NoExecute") && t.includes("node.kubernetes.io/unreachable:NoSchedule") ? t : undefined;
    });
    await until("doomed-1 tainted unreachable", async () => ((await taintsOf("doomed-1")).includes("node.kubernetes.io/unreachable:NoExecute") ? true : undefined));

    // The simulator is dead, so nobody finishes the deletion: the pod stays terminating.
    const evicted = await until("evict-now deleted", async () => {
      const p: Pod = await pods().get("evict-now");
      return p.metadata?.deletionTimestamp ? p : undefined;
    });
    assert.equal(evicted.status?.conditions?.find((c) => c.type === "DisruptionTarget")?.reason, "DeletionByTaintManager");
    const tolerating: Pod = await pods().get("tolerates");
    assert.equal(tolerating.metadata?.deletionTimestamp, undefined, "the default 300 s toleration holds it");
    assert.equal(tolerating.status?.conditions?.find((c) => c.type === "Ready")?.status, "False");
    const safe: Pod = await pods().get("safe");
    assert.equal(safe.metadata?.deletionTimestamp, undefined);
    assert.equal(safe.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
    assert.equal(await readyOf("alive-0"), "True");
    assert.deepEqual(await taintsOf("alive-0"), ["kwok.x-k8s.io/node:NoSchedule"]);
    assert.ok(events.lines().includes("Normal TaintManagerEviction Marking for deletion Pod default/evict-now"));
    assert.ok(events.lines().includes("Normal NodeNotReady Node doomed-0 status is now: NodeNotReady"));

    // Back again: the simulator takes its nodes over, they turn Ready, the taints go.
    await up("doomed-");
    await until("doomed-0 untainted", async () => {
      const t = await taintsOf("doomed-0");
      return t.length === 1 && (await readyOf("doomed-0")) === "True" ? t : undefined;
    });
    await until("tolerates Ready again", async () => ((await pods().get("tolerates")).status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? true : undefined));
  });
});
