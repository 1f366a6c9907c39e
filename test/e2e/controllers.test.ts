// The controllers end to end: the official kubectl against `k8ts server` running its embedded
// controller-manager (issue #4). No node runs pods yet, so a stand-in kubelet in this test
// marks every pod Running and Ready through pods/status, which is what rollouts wait for.
//
// - a Deployment's whole life: create → rollout → set image → history → undo to revision 1 →
//   pause → edit → resume → scale 5 → 1 → delete with each cascade mode;
// - a ReplicaSet with set-based selectors adopting pods that were there first; an RC;
// - a namespace deleted with content in it;
// - the controller-manager (its own process) killed in the middle of a rollout and started
//   again: the rollout converges with no duplicate ReplicaSet and no lost pod.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.js";
import { runController } from "../../src/client/controller.js";
import { isNotFound } from "../../src/client/errors.js";
import { SharedInformerFactory } from "../../src/client/informer.js";
import { keyOf, splitKey, type DeepReadonly } from "../../src/client/objects.js";
import { createClientFromKubeconfig, type RestClient } from "../../src/client/rest.js";
import { WorkQueue } from "../../src/client/workqueue.js";
import { kubectlOk, kubectlRunner, type KubectlResult } from "../../src/testing/apiserver.js";
import { K8tsProcess } from "../../src/testing/process.js";
import { createLogger } from "../../src/util/log.js";
import { until as waitUntil } from "../../src/testing/wait.js";
import { freePort } from "../../src/testing/net.js";

const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> => waitUntil(what, probe, ms);


interface Cluster {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly server: K8tsProcess;
  kubectl(args: readonly string[], stdin?: string): Promise<KubectlResult>;
  ok(args: readonly string[], stdin?: string): Promise<string>;
  stop(): Promise<void>;
}

/** `k8ts server` as its own process (controllers embedded unless disabled), and kubectl pointed at it. */
async function startCluster(opts: { readonly disableControllers?: boolean } = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), "k8ts-e2e-controllers-"));
  const port = await freePort();
  const args = ["server", "--data-dir", dir, "--port", String(port), "--store", "memory://", "--disable-agent", "--log-level", process.env["K8TS_TEST_LOG"] ?? "warn"];
  if (opts.disableControllers) args.push("--disable-controllers");
  const server = K8tsProcess.start("k8ts server", args);
  try {
    await server.ready("k8ts server ready");
  } catch (err) {
    await server.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const kubeconfig = join(dir, "admin.kubeconfig");
  const run = kubectlRunner(kubeconfig, join(dir, "kubectl-cache"), dir, 120_000);
  const kubectl = (a: readonly string[], stdin?: string): Promise<KubectlResult> => run(a, { stdin });
  return {
    dir,
    kubeconfig,
    server,
    kubectl,
    ok: (a, stdin) => kubectlOk(run, a, stdin),
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The stand-in kubelet: every pod that is not terminating is made Running with Ready and
 * ContainersReady True, through pods/status, driven by a watch.
 */
async function startReadyMarker(kubeconfig: string): Promise<{ client: RestClient; stop(): Promise<void> }> {
  const client = await createClientFromKubeconfig(kubeconfig, { qps: Infinity });
  const informers = new SharedInformerFactory({ client, log });
  const pods = informers.forKind("v1", "Pod");
  const queue = new WorkQueue<string>();
  const enqueue = (p: DeepReadonly<Pod>): void => queue.add(keyOf(p));
  pods.addEventHandler({ onAdd: enqueue, onUpdate: (_o, p) => enqueue(p) });
  const ac = new AbortController();
  informers.start(ac.signal);
  const run = runController({
    name: "ready-marker",
    queue,
    workers: 4,
    log,
    signal: ac.signal,
    sync: async (key) => {
      const p = pods.lister.get(key);
      if (!p || p.metadata?.deletionTimestamp) return;
      if (p.status?.phase === "Running" && p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return;
      const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const { namespace, name } = splitKey(key);
      try {
        const fresh = await client.forKind("v1", "Pod").namespace(namespace).get(name);
        const status: Pod["status"] = {
          ...fresh.status,
          phase: "Running",
          startTime: now,
          conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({ type, status: "True", lastTransitionTime: now })),
        };
        await client.forKind("v1", "Pod").namespace(namespace).updateStatus({ ...fresh, status });
      } catch (err) {
        // Gone: nothing to mark. A Conflict is retried through the queue like any error.
        if (isNotFound(err)) return;
        throw err;
      }
    },
  });
  return {
    client,
    async stop() {
      ac.abort();
      await run;
      await informers.shutdown();
      client.close();
    },
  };
}

void describe("controllers end to end (kubectl against k8ts server)", () => {
  let c: Cluster;
  let marker: Awaited<ReturnType<typeof startReadyMarker>>;

  before(async () => {
    c = await startCluster();
    marker = await startReadyMarker(c.kubeconfig);
  });

  after(async () => {
    await marker?.stop();
    await c?.stop();
  });

  /** Names of the live (not terminating) pods matching a selector. */
  async function livePods(selector: string, ns = "default"): Promise<Pod[]> {
    const out = JSON.parse(await c.ok(["get", "pods", "-n", ns, "-l", selector, "-o", "json"])) as { items: Pod[] };
    return out.items.filter((p) => !p.metadata?.deletionTimestamp);
  }

  async function replicaSets(selector: string): Promise<{ name: string; image: string; replicas: number; ready: number; revision: string; owners: number }[]> {
    const out = JSON.parse(await c.ok(["get", "rs", "-l", selector, "-o", "json"])) as {
      items: { metadata: { name: string; annotations?: Record<string, string>; ownerReferences?: unknown[]; deletionTimestamp?: string }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } }; status: { readyReplicas?: number } }[];
    };
    return out.items
      .filter((r) => !r.metadata.deletionTimestamp)
      .map((r) => ({
        name: r.metadata.name,
        image: r.spec.template.spec.containers[0]!.image,
        replicas: r.spec.replicas,
        ready: r.status.readyReplicas ?? 0,
        revision: r.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? "",
        owners: r.metadata.ownerReferences?.length ?? 0,
      }))
      .sort((a, b) => Number(a.revision) - Number(b.revision));
  }

  async function rolledOut(name: string): Promise<void> {
    const out = await c.ok(["rollout", "status", `deployment/${name}`, "--timeout=90s"]);
    assert.match(out, new RegExp(`deployment "${name}" successfully rolled out`));
  }

  async function gone(args: string[]): Promise<void> {
    await until(`${args.join(" ")} to be gone`, async () => {
      const r = await c.kubectl(["get", ...args, "-o", "name"]);
      return r.code !== 0 && /NotFound|not found/.test(r.stderr) ? true : r.code === 0 && r.stdout.trim() === "" ? true : undefined;
    });
  }

  void it("takes a Deployment through its life: rollout, set image, history, undo, pause/resume, scale", async () => {
    assert.match(await c.ok(["create", "deployment", "web", "--image=busybox:1.35", "--replicas=3"]), /deployment.apps\/web created/);
    await rolledOut("web");
    assert.equal((await livePods("app=web")).length, 3);
    assert.deepEqual((await replicaSets("app=web")).map((r) => [r.image, r.replicas, r.ready, r.revision]), [["busybox:1.35", 3, 3, "1"]]);

    assert.match(await c.ok(["set", "image", "deployment/web", "busybox=busybox:1.36"]), /deployment.apps\/web image updated/);
    await rolledOut("web");
    assert.deepEqual((await replicaSets("app=web")).map((r) => [r.image, r.replicas, r.revision]), [["busybox:1.35", 0, "1"], ["busybox:1.36", 3, "2"]]);
    const pods = await livePods("app=web");
    assert.equal(pods.length, 3);
    assert.ok(pods.every((p) => p.spec?.containers[0]?.image === "busybox:1.36"));

    const history = await c.ok(["rollout", "history", "deployment/web"]);
    assert.match(history, /^deployment\.apps\/web\s*\nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    assert.match(await c.ok(["rollout", "history", "deployment/web", "--revision=1"]), /Image:\s+busybox:1\.35/);

    assert.match(await c.ok(["rollout", "undo", "deployment/web", "--to-revision=1"]), /deployment.apps\/web rolled back/);
    await rolledOut("web");
    assert.deepEqual((await replicaSets("app=web")).map((r) => [r.image, r.replicas, r.revision]), [["busybox:1.36", 0, "2"], ["busybox:1.35", 3, "3"]], "undo re-uses revision 1's ReplicaSet as revision 3");
    assert.match(await c.ok(["rollout", "history", "deployment/web"]), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>\n/);

    assert.match(await c.ok(["rollout", "pause", "deployment/web"]), /deployment.apps\/web paused/);
    await c.ok(["set", "image", "deployment/web", "busybox=busybox:1.37"]);
    // Once the controller has seen the edit, a paused Deployment has still made no new ReplicaSet.
    await until("the paused edit to be observed", async () => {
      const d = JSON.parse(await c.ok(["get", "deployment", "web", "-o", "json"])) as { metadata: { generation: number }; status: { observedGeneration?: number } };
      return d.status.observedGeneration === d.metadata.generation ? true : undefined;
    });
    assert.ok(!(await replicaSets("app=web")).some((r) => r.image === "busybox:1.37"));
    assert.match(await c.ok(["rollout", "resume", "deployment/web"]), /deployment.apps\/web resumed/);
    await rolledOut("web");
    const afterResume = await replicaSets("app=web");
    assert.deepEqual(afterResume[afterResume.length - 1], { ...afterResume[afterResume.length - 1]!, image: "busybox:1.37", replicas: 3, ready: 3, revision: "4" });

    assert.match(await c.ok(["scale", "deployment/web", "--replicas=5"]), /deployment.apps\/web scaled/);
    await rolledOut("web");
    await until("5 ready pods", async () => ((await livePods("app=web")).length === 5 ? true : undefined));
    await until("READY 5/5", async () => (/^web\s+5\/5\s+5\s+5\s+/m.test(await c.ok(["get", "deployment", "web"])) ? true : undefined));
    await c.ok(["scale", "deployment/web", "--replicas=1"]);
    await rolledOut("web");
    await until("1 pod", async () => ((await livePods("app=web")).length === 1 ? true : undefined));
    // As upstream, rollout status may report success before the status has counted the scale-down.
    await until("READY 1/1", async () => (/^web\s+1\/1\s+1\s+1\s+/m.test(await c.ok(["get", "deployment", "web"])) ? true : undefined));
  });

  void it("deletes a Deployment in the background: its ReplicaSets and pods go", async () => {
    await c.ok(["delete", "deployment", "web", "--cascade=background"]);
    await gone(["rs", "-l", "app=web"]);
    await until("web's pods to go", async () => ((await livePods("app=web")).length === 0 ? true : undefined));
  });

  void it("deletes a Deployment in the foreground: it stays until its dependents are gone", async () => {
    await c.ok(["create", "deployment", "fg", "--image=busybox:1.35", "--replicas=2"]);
    await rolledOut("fg");
    const [held] = await livePods("app=fg");
    // A finalizer of our own holds one pod, so the cascade has to wait for it.
    await c.ok(["patch", "pod", held!.metadata!.name!, "--type=merge", "-p", '{"metadata":{"finalizers":["example.com/hold"]}}']);
    await c.ok(["delete", "deployment", "fg", "--cascade=foreground", "--wait=false"]);
    await until("the held pod to be terminating", async () => {
      const p = JSON.parse(await c.ok(["get", "pod", held!.metadata!.name!, "-o", "json"])) as Pod;
      return p.metadata?.deletionTimestamp ? true : undefined;
    });
    const d = JSON.parse(await c.ok(["get", "deployment", "fg", "-o", "json"])) as { metadata: { deletionTimestamp?: string; finalizers?: string[] } };
    assert.ok(d.metadata.deletionTimestamp);
    assert.deepEqual(d.metadata.finalizers, ["foregroundDeletion"]);
    await c.ok(["patch", "pod", held!.metadata!.name!, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
    await c.ok(["wait", "--for=delete", "deployment/fg", "--timeout=60s"]);
    await gone(["rs", "-l", "app=fg"]);
    assert.equal((await livePods("app=fg")).length, 0);
  });

  void it("deletes a Deployment with --cascade=orphan: the ReplicaSet stays, without its owner reference", async () => {
    await c.ok(["create", "deployment", "or", "--image=busybox:1.35", "--replicas=2"]);
    await rolledOut("or");
    await c.ok(["delete", "deployment", "or", "--cascade=orphan"]);
    await gone(["deployment", "or"]);
    const rs = await replicaSets("app=or");
    assert.equal(rs.length, 1);
    assert.equal(rs[0]!.owners, 0);
    assert.equal(rs[0]!.replicas, 2);
    assert.equal((await livePods("app=or")).length, 2, "the pods stay with their ReplicaSet");
  });

  void it("a ReplicaSet with In, NotIn, Exists and DoesNotExist adopts the matching pods that were there first", async () => {
    const pod = (name: string, labels: Record<string, string>): string =>
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  labels: ${JSON.stringify(labels)}\nspec:\n  containers: [{name: c, image: "busybox:1.35"}]\n---\n`;
    await c.ok(
      ["apply", "-f", "-"],
      pod("adopt-a", { tier: "frontend", env: "dev", app: "front" }) +
        pod("adopt-b", { tier: "frontend", app: "other" }) +
        pod("skip-prod", { tier: "frontend", env: "prod", app: "front" }) +
        pod("skip-legacy", { tier: "frontend", app: "front", legacy: "yes" }) +
        pod("skip-notier", { app: "front" }),
    );
    const rs = `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: front
spec:
  replicas: 3
  selector:
    matchExpressions:
    - {key: tier, operator: In, values: [frontend]}
    - {key: env, operator: NotIn, values: [prod]}
    - {key: app, operator: Exists}
    - {key: legacy, operator: DoesNotExist}
  template:
    metadata:
      labels: {tier: frontend, env: dev, app: front}
    spec:
      containers: [{name: c, image: "busybox:1.35"}]
`;
    await c.ok(["apply", "-f", "-"], rs);
    await until("front to be ready", async () => (/^front\s+3\s+3\s+3\s+/m.test(await c.ok(["get", "rs", "front"])) ? true : undefined));
    const uid = (await c.ok(["get", "rs", "front", "-o", "jsonpath={.metadata.uid}"])).trim();
    const all = JSON.parse(await c.ok(["get", "pods", "-o", "json"])) as { items: Pod[] };
    const owned = all.items.filter((p) => !p.metadata?.deletionTimestamp && p.metadata?.ownerReferences?.some((r) => r.uid === uid && r.controller)).map((p) => p.metadata!.name!);
    assert.equal(owned.length, 3);
    assert.ok(owned.includes("adopt-a") && owned.includes("adopt-b"), `adopted: ${owned.join(", ")}`);
    for (const name of ["skip-prod", "skip-legacy", "skip-notier"]) {
      const p = all.items.find((x) => x.metadata?.name === name);
      assert.equal(p?.metadata?.ownerReferences, undefined, `${name} must not be adopted`);
    }
    await c.ok(["delete", "rs", "front"]);
    await until("front's pods to go", async () => {
      const left = (JSON.parse(await c.ok(["get", "pods", "-o", "json"])) as { items: Pod[] }).items.filter((p) => owned.includes(p.metadata!.name!) && !p.metadata?.deletionTimestamp);
      return left.length === 0 ? true : undefined;
    });
    assert.deepEqual((await livePods("app=front")).map((p) => p.metadata!.name).sort(), ["skip-legacy", "skip-notier", "skip-prod"], "the pods it never owned stay");
  });

  void it("a ReplicationController keeps its replicas, scales, and takes its pods when deleted", async () => {
    await c.ok(
      ["apply", "-f", "-"],
      `apiVersion: v1
kind: ReplicationController
metadata:
  name: rc-demo
spec:
  replicas: 2
  selector: {app: rc-demo}
  template:
    metadata:
      labels: {app: rc-demo}
    spec:
      containers: [{name: c, image: "busybox:1.35"}]
`,
    );
    await until("rc-demo to be ready", async () => (/^rc-demo\s+2\s+2\s+2\s+/m.test(await c.ok(["get", "rc", "rc-demo"])) ? true : undefined));
    const [victim] = await livePods("app=rc-demo");
    await c.ok(["delete", "pod", victim!.metadata!.name!, "--wait=false"]);
    await until("a replacement pod", async () => {
      const pods = await livePods("app=rc-demo");
      return pods.length === 2 && !pods.some((p) => p.metadata?.name === victim!.metadata!.name) ? true : undefined;
    });
    await c.ok(["scale", "rc", "rc-demo", "--replicas=3"]);
    await until("rc-demo at 3", async () => (/^rc-demo\s+3\s+3\s+3\s+/m.test(await c.ok(["get", "rc", "rc-demo"])) ? true : undefined));
    await c.ok(["delete", "rc", "rc-demo"]);
    await until("rc-demo's pods to go", async () => ((await livePods("app=rc-demo")).length === 0 ? true : undefined));
  });

  void it("deletes a namespace with content in it", async () => {
    await c.ok(["create", "namespace", "doomed"]);
    await c.ok(["create", "deployment", "d", "-n", "doomed", "--image=busybox:1.35", "--replicas=2"]);
    await c.ok(["create", "configmap", "cm", "-n", "doomed", "--from-literal=a=b"]);
    await c.ok(["create", "secret", "generic", "s", "-n", "doomed", "--from-literal=a=b"]);
    await c.ok(["create", "service", "clusterip", "svc", "-n", "doomed", "--tcp=80:8080"]);
    await until("the deployment's pods", async () => ((await livePods("app=d", "doomed")).length === 2 ? true : undefined));
    await until("the default ServiceAccount", async () => ((await c.kubectl(["get", "sa", "default", "-n", "doomed"])).code === 0 ? true : undefined));
    assert.match(await c.ok(["delete", "namespace", "doomed", "--timeout=90s"]), /namespace "doomed" deleted/);
    const r = await c.kubectl(["get", "namespace", "doomed"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /namespaces "doomed" not found/);
    assert.equal((await c.ok(["get", "all", "-n", "doomed"])).trim(), "");
  });

  void it("enforces a ResourceQuota: the controller counts, creates past it are refused, a delete makes room", async () => {
    const ns = ["-n", "limited"];
    await c.ok(["create", "namespace", "limited"]);
    await c.ok(["create", "quota", "q", ...ns, "--hard=pods=2,count/configmaps=3"]);
    const usedPods = async (): Promise<string> => (await c.ok(["get", "quota", "q", ...ns, "-o", "jsonpath={.status.used.pods}"])).trim();
    await until("the quota's status", async () => ((await usedPods()) === "0" ? true : undefined));
    await c.ok(["run", "a", ...ns, "--image=busybox:1.35"]);
    await c.ok(["run", "b", ...ns, "--image=busybox:1.35"]);
    const third = await c.kubectl(["run", "c", ...ns, "--image=busybox:1.35"]);
    assert.notEqual(third.code, 0);
    assert.match(third.stderr, /pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2/);
    assert.match(await c.ok(["describe", "quota", "q", ...ns]), /count\/configmaps\s+1\s+3\n\s*pods\s+2\s+2/);

    // A Deployment that wants more says why in its ReplicaSet's events.
    await c.ok(["create", "deployment", "many", ...ns, "--image=busybox:1.35", "--replicas=2"]);
    await until("a FailedCreate event", async () => ((await c.ok(["get", "events", ...ns, "--field-selector", "reason=FailedCreate", "-o", "jsonpath={.items[*].message}"])).includes("exceeded quota: q") ? true : undefined));

    await c.ok(["delete", "deployment", "many", ...ns, "--wait=true"]);

    // Deleting a pod gives its unit back once the controller counts again.
    await c.ok(["delete", "pod", "a", ...ns, "--wait=true"]);
    await until("the unit back", async () => ((await usedPods()) === "1" ? true : undefined));
    await c.ok(["run", "c", ...ns, "--image=busybox:1.35"]);
    await until("the unit taken", async () => ((await usedPods()) === "2" ? true : undefined));
    await c.ok(["delete", "namespace", "limited", "--wait=false"]);
  });
});

void describe("controller-manager restarted in the middle of a rollout", () => {
  let c: Cluster;
  let marker: Awaited<ReturnType<typeof startReadyMarker>>;
  let manager: K8tsProcess | undefined;

  const startManager = (): K8tsProcess =>
    K8tsProcess.start("k8ts controller-manager", ["controller-manager", "--kubeconfig", c.kubeconfig, "--secure-port", "0", "--leader-elect-lease-duration", "3s", "--leader-elect-renew-deadline", "2s", "--leader-elect-retry-period", "500ms", "--log-level", process.env["K8TS_TEST_LOG"] ?? "warn"]);

  before(async () => {
    c = await startCluster({ disableControllers: true });
    marker = await startReadyMarker(c.kubeconfig);
    manager = startManager();
  });

  after(async () => {
    await manager?.stop("SIGKILL");
    await marker?.stop();
    await c?.stop();
  });

  void it("converges after a kill: one new ReplicaSet, every pod accounted for", async () => {
    const deploy = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: roll
spec:
  replicas: 10
  minReadySeconds: 2
  selector: {matchLabels: {app: roll}}
  template:
    metadata:
      labels: {app: roll}
    spec:
      containers: [{name: c, image: "busybox:1.35"}]
`;
    await c.ok(["apply", "-f", "-"], deploy);
    await c.ok(["rollout", "status", "deployment/roll", "--timeout=120s"]);
    await c.ok(["set", "image", "deployment/roll", "c=busybox:1.36"]);
    // Mid-rollout: some pods of the new template exist, not all.
    await until("the rollout to be under way", async () => {
      const d = JSON.parse(await c.ok(["get", "deployment", "roll", "-o", "json"])) as { status: { updatedReplicas?: number } };
      const u = d.status.updatedReplicas ?? 0;
      return u >= 1 && u < 10 ? true : undefined;
    });
    assert.equal(await manager!.stop("SIGKILL"), null);
    manager = startManager();
    await c.ok(["rollout", "status", "deployment/roll", "--timeout=120s"]);

    const rs = JSON.parse(await c.ok(["get", "rs", "-l", "app=roll", "-o", "json"])) as { items: { metadata: { name: string; uid: string; labels: Record<string, string> }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } }; status: { readyReplicas?: number } }[] };
    assert.equal(rs.items.length, 2, `exactly the old and the new ReplicaSet: ${rs.items.map((r) => r.metadata.name).join(", ")}`);
    const hashes = new Set(rs.items.map((r) => r.metadata.labels["pod-template-hash"]));
    assert.equal(hashes.size, 2);
    const newRs = rs.items.find((r) => r.spec.template.spec.containers[0]!.image === "busybox:1.36")!;
    const oldRs = rs.items.find((r) => r.spec.template.spec.containers[0]!.image === "busybox:1.35")!;
    assert.deepEqual([newRs.spec.replicas, newRs.status.readyReplicas], [10, 10]);
    assert.equal(oldRs.spec.replicas, 0);
    await until("the old ReplicaSet's pods to go", async () => {
      const pods = (JSON.parse(await c.ok(["get", "pods", "-l", "app=roll", "-o", "json"])) as { items: Pod[] }).items.filter((p) => !p.metadata?.deletionTimestamp);
      return pods.length === 10 && pods.every((p) => p.metadata?.ownerReferences?.[0]?.uid === newRs.metadata.uid) ? true : undefined;
    });
    assert.match(await c.ok(["get", "deployment", "roll"]), /^roll\s+10\/10\s+10\s+10\s+/m);
  });
});
