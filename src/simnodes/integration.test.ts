// The node simulator against a real API server: registration, heartbeats, the life of a pod
// bound to a simulated node, repair of conditions changed by someone else, failure injection
// and deletion on exit.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { isNotFound } from "../client/errors.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { createLogger } from "../util/log.js";
import { compileSimNodesOptions, type SimNodesOptionsInput } from "./options.js";
import { SimNodes } from "./simulator.js";
import { parseCidr, ipToInt } from "./network.js";
import { until as waitUntil } from "../testing/wait.js";

const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> => waitUntil(what, probe, ms);

const kwokToleration = { key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" } as const;

function podSpec(name: string, extra: Partial<NonNullable<Pod["spec"]>> = {}): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "app", image: "busybox:1.35" }], tolerations: [kwokToleration], ...extra } };
}

void describe("sim-nodes against an API server", () => {
  let srv: TestApiServer;
  let client: RestClient;
  const sims: SimNodes[] = [];

  const start = async (o: Omit<SimNodesOptionsInput, "client" | "log">): Promise<SimNodes> => {
    const sim = new SimNodes(compileSimNodesOptions({ client, log, renewIntervalMs: 200, readyDelayMs: 300, ...o }));
    sims.push(sim);
    await sim.start();
    return sim;
  };

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
  });

  after(async () => {
    await Promise.all(sims.map((s) => s.stop()));
    client?.close();
    await srv?.stop();
  });

  const nodes = () => client.forKind("v1", "Node");
  const leases = () => client.forKind("coordination.k8s.io/v1", "Lease").namespace("kube-node-lease");
  const pods = () => client.forKind("v1", "Pod").namespace("default");

  void it("registers Ready nodes with distinct pod CIDRs and keeps their leases renewed", async () => {
    const sim = await start({ count: 3, namePrefix: "sim-" });
    assert.deepEqual(sim.nodeNames, ["sim-0", "sim-1", "sim-2"]);
    const list = (await nodes().list()).items.filter((n) => n.metadata?.name?.startsWith("sim-"));
    assert.equal(list.length, 3);
    for (const n of list) {
      assert.equal(n.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
      assert.equal(n.metadata?.labels?.["type"], "kwok");
    }
    assert.equal(new Set(list.map((n) => n.spec?.podCIDR)).size, 3);
    const first = (await leases().get("sim-1")).spec?.renewTime;
    const renewed = await until("a renewal of sim-1's lease", async () => {
      const l: Lease = await leases().get("sim-1");
      return l.spec?.renewTime !== first ? l : undefined;
    });
    assert.equal(renewed.spec?.holderIdentity, "sim-1");
    assert.equal(renewed.metadata?.ownerReferences?.[0]?.uid, list.find((n) => n.metadata?.name === "sim-1")?.metadata?.uid);
    const out = await srv.kubectl(["get", "nodes", "sim-0", "--no-headers"]);
    assert.match(out.stdout, /^sim-0\s+Ready\s+<none>\s+\S+\s+v1\.32\.0-k8ts-sim/);
  });

  void it("posts each node's status again when a report is due, as a kubelet does every 5 minutes: fresh heartbeats, same transitions", async () => {
    await start({ count: 2, namePrefix: "hb-", statusReportMs: 1500 });
    const readyOf = async (name: string) => (await nodes().get(name)).status?.conditions?.find((c) => c.type === "Ready");
    const before = await until("hb-1 registered", () => readyOf("hb-1"));
    const after = await until("a fresh heartbeat of hb-1", async () => {
      const c = await readyOf("hb-1");
      return c && c.lastHeartbeatTime !== before.lastHeartbeatTime ? c : undefined;
    });
    assert.ok(Date.parse(after.lastHeartbeatTime!) > Date.parse(before.lastHeartbeatTime!));
    assert.equal(after.lastTransitionTime, before.lastTransitionTime);
    assert.equal(after.status, "True");
  });

  void it("runs a bound pod: Running with an address from the node's block, then Ready", async () => {
    await pods().create(podSpec("web"));
    await pods().bind("web", "sim-1");
    const running = await until("web Running", async () => {
      const p = await pods().get("web");
      return p.status?.phase === "Running" ? p : undefined;
    });
    const node: Node = await nodes().get("sim-1");
    const block = parseCidr(node.spec!.podCIDR!)!;
    const ip = ipToInt(running.status!.podIP!);
    assert.ok(ip > block.base && ip < block.base + block.size - 1, `${running.status?.podIP} in ${node.spec?.podCIDR}`);
    assert.equal(running.status?.hostIP, node.status?.addresses?.find((a) => a.type === "InternalIP")?.address);
    assert.ok(running.status?.startTime);
    const ready = await until("web Ready", async () => {
      const p = await pods().get("web");
      return p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? p : undefined;
    });
    const types = ready.status!.conditions!.map((c) => `${c.type}=${c.status}`).sort();
    assert.deepEqual(types, ["ContainersReady=True", "Initialized=True", "PodReadyToStartContainers=True", "PodScheduled=True", "Ready=True"]);
    const readyCond = ready.status!.conditions!.find((c) => c.type === "Ready")!;
    assert.deepEqual([readyCond.reason, readyCond.message], [undefined, undefined], "the not-ready reason went with the transition");
    assert.deepEqual(ready.status!.containerStatuses!.map((c) => [c.name, c.ready, c.started, !!c.state?.running]), [["app", true, true, true]]);
  });

  void it("finishes a deleted pod after its grace period", async () => {
    await pods().create(podSpec("short", { terminationGracePeriodSeconds: 1 }));
    await pods().bind("short", "sim-2");
    await until("short Running", async () => ((await pods().get("short")).status?.phase === "Running" ? true : undefined));
    const began = Date.now();
    const deleting = await pods().delete("short");
    assert.ok((deleting as Pod).metadata?.deletionTimestamp, "graceful: the pod is terminating first");
    await until("short gone", async () => {
      try {
        await pods().get("short");
        return undefined;
      } catch (err) {
        return isNotFound(err) ? true : undefined;
      }
    });
    assert.ok(Date.now() - began >= 900, "not before the grace period");
  });

  void it("puts back conditions someone else changed", async () => {
    await nodes().patch("sim-0", "strategic", { status: { conditions: [{ type: "Ready", status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." }] } }, { subresource: "status" });
    await until("sim-0 Ready again", async () => ((await nodes().get("sim-0")).status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? true : undefined));
    await pods().create(podSpec("marked"));
    await pods().bind("marked", "sim-0");
    await until("marked Ready", async () => ((await pods().get("marked")).status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? true : undefined));
    await pods().patch("marked", "strategic", { status: { conditions: [{ type: "Ready", status: "False" }] } }, { subresource: "status" });
    await until("marked Ready again", async () => ((await pods().get("marked")).status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? true : undefined));
  });

  void it("writes one status per pod when containers are ready at once (no readiness delay)", async () => {
    const sim = await start({ count: 1, namePrefix: "instant-", readyDelayMs: 0 });
    const names = ["one-a", "one-b", "one-c", "one-d"];
    for (const n of names) {
      await pods().create(podSpec(n));
      await pods().bind(n, "instant-0");
    }
    const isReady = (p: Pod): boolean => p.status?.phase === "Running" && p.status.conditions?.find((c) => c.type === "Ready")?.status === "True";
    const readyVersions = await until("every pod Running and Ready", async () => {
      const ps = await Promise.all(names.map((n) => pods().get(n)));
      return ps.every(isReady) ? ps.map((p) => p.metadata?.resourceVersion) : undefined;
    });
    assert.equal(sim.stats().statusWrites, names.length);
    // A pod bound later and seen Ready: by then the watch has echoed the earlier writes back.
    await pods().create(podSpec("one-last"));
    await pods().bind("one-last", "instant-0");
    await until("one-last Ready", async () => (isReady(await pods().get("one-last")) ? true : undefined));
    assert.deepEqual((await Promise.all(names.map((n) => pods().get(n)))).map((p) => p.metadata?.resourceVersion), readyVersions, "no write after the first");
    assert.deepEqual([sim.stats().statusWrites, sim.stats().writeFailures], [names.length + 1, 0]);
  });

  void it("completes a Job's pod after its run time, releases its address and writes it no more", async () => {
    const sim = await start({ count: 1, namePrefix: "job-", readyDelayMs: 0, jobPodRunTimeMs: 300 });
    // The API server takes a reference to a Job that does not exist; nothing here collects garbage.
    const owned = (name: string): Pod => {
      const p = podSpec(name, { restartPolicy: "Never" });
      p.metadata!.ownerReferences = [{ apiVersion: "batch/v1", kind: "Job", name: "batch", uid: "00000000-0000-4000-8000-0000000000b1", controller: true }];
      return p;
    };
    await pods().create(owned("batch-a"));
    await pods().bind("batch-a", "job-0");
    const done = await until("batch-a Succeeded", async () => {
      const p = await pods().get("batch-a");
      return p.status?.phase === "Succeeded" ? p : undefined;
    });
    const app = done.status!.containerStatuses![0]!;
    assert.deepEqual([app.state?.terminated?.exitCode, app.state?.terminated?.reason, app.ready, app.started], [0, "Completed", false, false]);
    assert.equal(app.state?.terminated?.containerID, app.containerID);
    const ran = Date.parse(app.state!.terminated!.finishedAt!) - Date.parse(app.state!.terminated!.startedAt!);
    assert.ok(ran >= 0 && ran <= 1000, `ran ${ran} ms: startedAt and finishedAt are RFC 3339 seconds`);
    const ready = done.status!.conditions!.find((c) => c.type === "Ready")!;
    assert.deepEqual([ready.status, ready.reason], ["False", "PodCompleted"]);
    assert.ok(done.status?.podIP);
    // Running (and ready at once), then Succeeded; the address went back to the node's pool.
    assert.deepEqual([sim.stats().statusWrites, sim.stats().podsRunning], [2, 0]);

    // Someone else changes the finished pod: the simulator looks at it again and finds nothing to write.
    await pods().patch("batch-a", "strategic", { metadata: { labels: { seen: "yes" } } });
    const rv = (await pods().get("batch-a")).metadata?.resourceVersion;
    // A pod bound later and seen Succeeded: by then the simulator has long had the label change.
    await pods().create(owned("batch-b"));
    await pods().bind("batch-b", "job-0");
    await until("batch-b Succeeded", async () => ((await pods().get("batch-b")).status?.phase === "Succeeded" ? true : undefined));
    assert.equal((await pods().get("batch-a")).metadata?.resourceVersion, rv, "batch-a not written again");
    assert.deepEqual([sim.stats().statusWrites, sim.stats().podsRunning, sim.stats().writeFailures], [4, 0, 0]);
  });

  void it("fails pods as told, and deletes its nodes and leases on exit", async () => {
    await start({ count: 2, namePrefix: "flaky-", failRate: 1, failAfterMs: 100, readyDelayMs: 0, deleteOnExit: true });
    await pods().create(podSpec("once", { restartPolicy: "Never" }));
    await pods().bind("once", "flaky-0");
    await pods().create(podSpec("again"));
    await pods().bind("again", "flaky-1");
    const failed = await until("once Failed", async () => {
      const p = await pods().get("once");
      return p.status?.phase === "Failed" ? p : undefined;
    });
    assert.equal(failed.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 1);
    const restarted = await until("again restarted and ready", async () => {
      const p = await pods().get("again");
      const c = p.status?.containerStatuses?.[0];
      return c?.restartCount === 1 && c.ready ? p : undefined;
    });
    assert.equal(restarted.status?.phase, "Running");
    const sim = sims.at(-1)!;
    await sim.stop();
    for (const name of ["flaky-0", "flaky-1"]) {
      await assert.rejects(nodes().get(name), isNotFound);
      await assert.rejects(leases().get(name), isNotFound);
    }
  });
});
