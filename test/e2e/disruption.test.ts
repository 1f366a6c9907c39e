// PodDisruptionBudgets end to end with the official kubectl: `k8ts server` (controllers and
// scheduler embedded) and two `k8ts sim-nodes` processes. A Deployment of 3 on node a-0 with
// a PDB minAvailable 3: `kubectl drain a-0` is refused (429 from the eviction subresource,
// the pods stay); with minAvailable 2 drain evicts one pod at a time, each time waiting for the
// replacement on b-0 to turn Ready before the budget allows the next.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { PodDisruptionBudget } from "kubernetes-types/policy/v1.js";
import { ApiError } from "../../src/client/errors.js";
import { RestClient } from "../../src/client/rest.js";
import { kubectlOk, kubectlRunner, type Kubectl, type KubectlResult } from "../../src/testing/apiserver.js";
import { K8tsProcesses, type K8tsProcess } from "../../src/testing/process.js";
import { loadKubeconfig } from "../../src/util/kubeconfig.js";
import { until as waitUntil } from "../../src/testing/wait.js";
import { freePort } from "../../src/testing/net.js";

const logLevel = process.env["K8TS_TEST_LOG"] ?? "warn";

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> => waitUntil(what, probe, ms, 200);


void describe("PodDisruptionBudgets and kubectl drain", () => {
  let dir: string;
  let kubeconfig: string;
  const procs = new K8tsProcesses();

  let run: Kubectl;
  const kubectl = (a: readonly string[], stdin?: string): Promise<KubectlResult> => run(a, { stdin });
  const ok = (a: readonly string[], stdin?: string): Promise<string> => kubectlOk(run, a, stdin);
  const simNodes = (prefix: string): Promise<K8tsProcess> => procs.simNodes(kubeconfig, prefix, logLevel);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-e2e-disruption-"));
    kubeconfig = join(dir, "admin.kubeconfig");
    run = kubectlRunner(kubeconfig, join(dir, "kubectl-cache"), dir, 120_000);
    const port = await freePort();
    await procs.start("k8ts server", ["server", "--data-dir", dir, "--port", String(port), "--store", "memory://", "--disable-agent", "--disable-addons", "--log-level", logLevel], "k8ts server ready");
  });

  after(async () => {
    await procs.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const pods = async (): Promise<Pod[]> => (JSON.parse(await ok(["get", "pods", "-l", "app=web", "-o", "json"])) as { items: Pod[] }).items;
  const isReady = (p: Pod): boolean => !p.metadata?.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
  const pdbStatus = async (): Promise<PodDisruptionBudget> => JSON.parse(await ok(["get", "pdb", "web", "-o", "json"])) as PodDisruptionBudget;

  void it("refuses a drain the budget forbids and lets it through one pod at a time once allowed", { timeout: 240_000 }, async () => {
    await simNodes("a-");
    const sim = { key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" };
    await ok(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web" },
        spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "busybox:1.35" }], tolerations: [sim] } } },
      }),
    );
    await until("3 pods Ready on a-0", async () => {
      const ps = (await pods()).filter(isReady);
      return ps.length === 3 && ps.every((p) => p.spec?.nodeName === "a-0") ? true : undefined;
    });
    await ok(["create", "poddisruptionbudget", "web", "--selector", "app=web", "--min-available", "3"]);
    const counted = await until("the PDB status to be computed", async () => {
      const p = await pdbStatus();
      return p.status?.observedGeneration === p.metadata?.generation && p.status?.currentHealthy === 3 ? p : undefined;
    });
    assert.deepEqual([counted.status?.expectedPods, counted.status?.desiredHealthy, counted.status?.disruptionsAllowed], [3, 3, 0]);
    assert.deepEqual(
      counted.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [["DisruptionAllowed", "False", "InsufficientPods"]],
    );
    assert.match(await ok(["get", "pdb", "web"]), /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nweb\s+3\s+N\/A\s+0\s+/);

    // The replacements need somewhere to go once a-0 is cordoned.
    await simNodes("b-");
    const before = new Set((await pods()).map((p) => p.metadata?.name));
    const refused = await kubectl(["drain", "a-0", "--ignore-daemonsets", "--timeout=5s"]);
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.match(refused.stderr, /error when evicting pods\/"web-[a-z0-9-]+" -n "default" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);
    assert.match(refused.stderr, /global timeout reached: 5s/);
    // kubectl prints only the message; the Status says which budget and why.
    const client = new RestClient({ config: await loadKubeconfig(kubeconfig), component: "e2e" });
    try {
      const name = [...before][0]!;
      const err = await client.forKind("v1", "Pod").namespace("default").evict(name).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof ApiError, String(err));
      assert.equal(err.code, 429);
      assert.equal(err.message, "Cannot evict pod as it would violate the pod's disruption budget.");
      assert.deepEqual(err.details?.causes, [{ reason: "DisruptionBudget", message: "The disruption budget web needs 3 healthy pods and has 3 currently" }]);
      // A dry run is judged the same way and spends nothing.
      await assert.rejects(client.forKind("v1", "Pod").namespace("default").evict(name, { dryRun: true }), (e: unknown) => e instanceof ApiError && e.code === 429);
    } finally {
      client.close();
    }
    const still = await pods();
    assert.deepEqual(new Set(still.map((p) => p.metadata?.name)), before);
    assert.ok(
      still.every((p) => !p.metadata?.deletionTimestamp && p.spec?.nodeName === "a-0"),
      "no pod was evicted",
    );

    await ok(["patch", "pdb", "web", "--type=merge", "-p", JSON.stringify({ spec: { minAvailable: 2 } })]);
    await until("the PDB to allow one disruption", async () => {
      const p = await pdbStatus();
      return p.status?.observedGeneration === p.metadata?.generation && p.status?.disruptionsAllowed === 1 ? true : undefined;
    });
    // A dry-run eviction the budget allows answers 201 and neither deletes nor spends anything.
    const dry = await kubectl(["create", "--raw", `/api/v1/namespaces/default/pods/${[...before][0]!}/eviction?dryRun=All`, "-f", "-"], JSON.stringify({ apiVersion: "policy/v1", kind: "Eviction", metadata: { name: [...before][0]!, namespace: "default" } }));
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /"status":"Success"/);
    assert.equal((await pdbStatus()).status?.disruptionsAllowed, 1);
    assert.equal((await pods()).filter((p) => !p.metadata?.deletionTimestamp).length, 3);
    const drained = await kubectl(["drain", "a-0", "--ignore-daemonsets", "--timeout=150s"]);
    assert.equal(drained.code, 0, `drain failed:\n${drained.stderr}\n${drained.stdout}`);
    assert.match(drained.stdout, /node\/a-0 drained/);
    for (const name of before) assert.match(drained.stdout, new RegExp(`pod/${name} evicted`));
    // drain asks for all three evictions at once; the budget lets one through at a time, so the
    // others were refused and retried until each replacement was Ready.
    assert.match(drained.stderr, /will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);
    await until("3 pods Ready on b-0", async () => {
      const ps = (await pods()).filter(isReady);
      return ps.length === 3 && ps.every((p) => p.spec?.nodeName === "b-0") ? true : undefined;
    });
    const final = await until("the PDB to allow one disruption again", async () => {
      const p = await pdbStatus();
      return p.status?.currentHealthy === 3 && p.status.disruptionsAllowed === 1 && !p.status.disruptedPods ? p : undefined;
    });
    assert.deepEqual(
      final.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [["DisruptionAllowed", "True", "SufficientPods"]],
    );
  });
});
