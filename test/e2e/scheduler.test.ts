// The scheduler, the controllers and simulated nodes end to end (issue #5): `k8ts server`
// (controllers embedded, with their upstream defaults), `k8ts scheduler` and two
// `k8ts sim-nodes` processes, driven with the official kubectl.
//
// - placement on three simulated nodes: node selectors, taints and tolerations, node
//   affinity, resources (an unschedulable pod with upstream's FailedScheduling message and
//   `k8ts why`), required pod anti-affinity and topology spread, with kubectl get nodes,
//   describe node and rollout status as on a real cluster;
// - a node whose simulator is killed: after the node monitor grace period (40 s) the node
//   lifecycle controller marks it NotReady (Unknown) and taints it unreachable, the
//   taint-eviction controller evicts the ReplicaSet's pods (they tolerate the taint for 0 s),
//   the ReplicaSet replaces them and the scheduler puts the replacements on the other
//   simulator's node.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Node, Pod } from "kubernetes-types/core/v1.js";
import { kubectlOk, kubectlRunner, type Kubectl } from "../../src/testing/apiserver.js";
import { K8TS_CLI, K8tsProcesses, type K8tsProcess } from "../../src/testing/process.js";
import { until as waitUntil } from "../../src/testing/wait.js";
import { freePort } from "../../src/testing/net.js";

const logLevel = process.env["K8TS_TEST_LOG"] ?? "warn";

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> => waitUntil(what, probe, ms);


void describe("scheduler, controllers and simulated nodes end to end", () => {
  let dir: string;
  let kubeconfig: string;
  const procs = new K8tsProcesses();

  let run: Kubectl;
  const ok = (a: readonly string[], stdin?: string): Promise<string> => kubectlOk(run, a, stdin);
  const simNodes = (prefix: string): Promise<K8tsProcess> => procs.simNodes(kubeconfig, prefix, logLevel);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-e2e-scheduler-"));
    kubeconfig = join(dir, "admin.kubeconfig");
    run = kubectlRunner(kubeconfig, join(dir, "kubectl-cache"), dir, 120_000);
    const port = await freePort();
    await procs.start("k8ts server", ["server", "--data-dir", dir, "--port", String(port), "--store", "memory://", "--disable-agent", "--log-level", logLevel], "k8ts server ready");
    await procs.start("k8ts scheduler", ["scheduler", "--kubeconfig", kubeconfig, "--secure-port", "0", "--log-level", logLevel], "k8ts scheduler started");
  });

  after(async () => {
    await procs.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function pods(selector: string): Promise<Pod[]> {
    return (JSON.parse(await ok(["get", "pods", "-l", selector, "-o", "json"])) as { items: Pod[] }).items;
  }
  const isReady = (p: Pod): boolean => p.status?.phase === "Running" && (p.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

  void it("places pods by selectors, taints, affinity, resources, anti-affinity and spread", { timeout: 180_000 }, async () => {
    await procs.start("sim-nodes p-", ["sim-nodes", "--kubeconfig", kubeconfig, "--count", "3", "--cpu", "2", "--name-prefix", "p-", "--ready-delay", "0s", "--log-level", logLevel], "sim-nodes ready");
    const nodes = await ok(["get", "nodes", "-l", "kubernetes.io/hostname in (p-0,p-1,p-2)"]);
    assert.match(nodes, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
    assert.equal((nodes.match(/\sReady\s/g) ?? []).length, 3, nodes);
    await ok(["label", "node", "p-0", "disk=ssd", "topology.kubernetes.io/zone=z1"]);
    await ok(["label", "node", "p-1", "topology.kubernetes.io/zone=z2"]);
    await ok(["label", "node", "p-2", "topology.kubernetes.io/zone=z3"]);
    await ok(["taint", "node", "p-2", "dedicated=gpu:NoSchedule"]);
    const described = await ok(["describe", "node", "p-2"]);
    assert.match(described, /Taints:\s+dedicated=gpu:NoSchedule/);
    assert.match(described, /Capacity:\n\s+cpu:\s+2/);

    const sim = { key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" };
    const pod = (name: string, spec: Record<string, unknown>, cpu = "100m"): string =>
      JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, labels: { test: "placement" } }, spec: { containers: [{ name: "c", image: "busybox:1.35", resources: { requests: { cpu } } }], ...spec, tolerations: [sim, ...((spec["tolerations"] as unknown[]) ?? [])] } });
    const nodeOf = (name: string): Promise<string> => until(`${name} to be bound`, async () => (JSON.parse(await ok(["get", "pod", name, "-o", "json"])) as Pod).spec?.nodeName || undefined);

    await ok(["apply", "-f", "-"], pod("ssd", { nodeSelector: { disk: "ssd" } }));
    assert.equal(await nodeOf("ssd"), "p-0");
    await ok(["apply", "-f", "-"], pod("gpu", { tolerations: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "topology.kubernetes.io/zone", operator: "In", values: ["z3"] }] }] } } } }));
    assert.equal(await nodeOf("gpu"), "p-2");

    // Pending pods say why, as upstream: the first failing filter per node.
    const reasons = (name: string): Promise<string> =>
      until(`FailedScheduling for ${name}`, async () => {
        const ev = await ok(["get", "events", "--field-selector", `involvedObject.name=${name},reason=FailedScheduling`, "-o", "jsonpath={.items[*].message}"]);
        return ev.includes("nodes are available") ? ev : undefined;
      });
    await ok(["apply", "-f", "-"], pod("huge", { nodeSelector: { "kubernetes.io/hostname": "p-2" }, tolerations: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] }, "3"));
    assert.match(await reasons("huge"), /^0\/\d+ nodes are available: 1 Insufficient cpu, \d+ node\(s\) didn't match Pod's node affinity\/selector\./);
    await ok(["apply", "-f", "-"], pod("tainted", { nodeSelector: { "kubernetes.io/hostname": "p-2" } }));
    assert.match(await reasons("tainted"), /1 node\(s\) had untolerated taint \{dedicated: gpu\}/);
    const huge = JSON.parse(await ok(["get", "pod", "huge", "-o", "json"])) as Pod;
    assert.equal(huge.status?.conditions?.find((c) => c.type === "PodScheduled")?.reason, "Unschedulable");
    const why = await new Promise<string>((done) => execFile(process.execPath, [K8TS_CLI, "why", "pod/huge", "-n", "default", "--kubeconfig", kubeconfig], (_e, out, err) => done(out + err)));
    assert.match(why, /p-2/);
    assert.match(why, /CPU/);

    // Required anti-affinity: one replica per node among the untainted two.
    const deploy = (name: string, replicas: number, spec: Record<string, unknown>): string =>
      JSON.stringify({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name }, spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "busybox:1.35", resources: { requests: { cpu: "100m" } } }], tolerations: [sim], ...spec } } } });
    await ok(["apply", "-f", "-"], deploy("anti", 2, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "anti" } }, topologyKey: "kubernetes.io/hostname" }] } } }));
    assert.match(await ok(["rollout", "status", "deploy/anti", "--timeout=60s"]), /successfully rolled out/);
    const anti = await pods("app=anti");
    assert.deepEqual(new Set(anti.map((p) => p.spec?.nodeName)), new Set(["p-0", "p-1"]));

    // Topology spread over the zones the pods may use (z3 is tainted): 2 and 2.
    await ok(["apply", "-f", "-"], deploy("spread", 4, { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "spread" } }, nodeAffinityPolicy: "Honor", nodeTaintsPolicy: "Honor" }] }));
    assert.match(await ok(["rollout", "status", "deploy/spread", "--timeout=60s"]), /successfully rolled out/);
    const zones = (await pods("app=spread")).map((p) => p.spec?.nodeName);
    assert.equal(zones.filter((n) => n === "p-0").length, 2, String(zones));
    assert.equal(zones.filter((n) => n === "p-1").length, 2, String(zones));
  });

  void it("replaces the pods of a node whose simulator was killed on another simulator's node", { timeout: 240_000 }, async () => {
    const a = await simNodes("a-");
    await ok(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: { name: "web" },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: {
              containers: [{ name: "web", image: "busybox:1.35", resources: { requests: { cpu: "100m", memory: "64Mi" } } }],
              tolerations: [
                { key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" },
                { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 0 },
              ],
            },
          },
        },
      }),
    );
    const first = await until("3 pods Ready on a-0", async () => {
      const ps = (await pods("app=web")).filter(isReady);
      return ps.length === 3 && ps.every((p) => p.spec?.nodeName === "a-0") ? ps : undefined;
    });
    const firstNames = new Set(first.map((p) => p.metadata?.name));
    await simNodes("b-");

    await a.stop("SIGKILL");
    const notReady = await until(
      "a-0 NotReady and tainted unreachable",
      async () => {
        const n = JSON.parse(await ok(["get", "node", "a-0", "-o", "json"])) as Node;
        const ready = n.status?.conditions?.find((c) => c.type === "Ready");
        const taints = (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);
        return ready?.status === "Unknown" && taints.includes("node.kubernetes.io/unreachable:NoExecute") ? { ready, taints } : undefined;
      },
      120_000,
    );
    assert.equal(notReady.ready.reason, "NodeStatusUnknown");
    assert.ok(notReady.taints.includes("node.kubernetes.io/unreachable:NoSchedule"));
    assert.match(await ok(["get", "node", "a-0", "--no-headers"]), /^a-0\s+NotReady\s/);

    const replaced = await until(
      "3 replacement pods Ready on b-0",
      async () => {
        const ps = (await pods("app=web")).filter((p) => !p.metadata?.deletionTimestamp && isReady(p));
        return ps.length === 3 && ps.every((p) => p.spec?.nodeName === "b-0" && !firstNames.has(p.metadata?.name)) ? ps : undefined;
      },
      60_000,
    );
    assert.equal(replaced.length, 3);
    // Nobody finishes the evicted pods (their kubelet is gone): they stay terminating, marked as disrupted.
    const evicted = (await pods("app=web")).filter((p) => firstNames.has(p.metadata?.name));
    assert.equal(evicted.length, 3);
    for (const p of evicted) {
      assert.ok(p.metadata?.deletionTimestamp, `${p.metadata?.name} is terminating`);
      assert.equal(p.status?.conditions?.find((c) => c.type === "DisruptionTarget")?.reason, "DeletionByTaintManager");
    }
    assert.match(await ok(["get", "rs", "web", "--no-headers"]), /^web\s+3\s+3\s+3\s/);
    const events = await ok(["get", "events", "--field-selector", "reason=TaintManagerEviction", "-o", "name"]);
    assert.ok(events.trim().split("\n").length >= 3, events);
  });
});
