import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { isNotFound } from "../client/errors.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { createLogger } from "../util/log.js";
import type { Controller } from "./context.js";
import { builtinControllers, compileControllerManagerOptions, ControllerManager, controllerServiceAccount, isControllerEnabled, type KnownController } from "./manager.js";
import { bootstrapPolicy } from "../apiserver/rbac/policy.js";
import { until } from "../testing/wait.js";
import { httpGet } from "../testing/http.js";

const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");

void describe("compileControllerManagerOptions", () => {
  const names = (list: string[]): string[] => compileControllerManagerOptions({ kubeconfig: "k", controllers: list, log, serve: false }).enabled.map((e) => e.controller.name);

  void it("follows kube-controller-manager's --controllers rules, with upstream names and short aliases", () => {
    const all = builtinControllers().map((k) => k.name);
    assert.deepEqual(names(["*"]), all);
    assert.deepEqual(names(["*", "-garbagecollector"]), all.filter((n) => n !== "garbage-collector-controller"));
    assert.deepEqual(names(["namespace-controller", "serviceaccount"]), ["namespace-controller", "serviceaccount-controller"]);
    assert.deepEqual(names(["-namespace", "namespace", "*"]), all.filter((n) => n !== "namespace-controller"), "the first mention wins");
    assert.deepEqual(names([]), []);
    const k: KnownController = { name: "x-controller", aliases: ["x"], factory: () => ({ name: "x", run: () => Promise.resolve() }), workers: 1 };
    assert.equal(isControllerEnabled(k, ["*", "-x"]), false);
  });

  void it("refuses unknown controllers, bad lease timings and bad workers, and applies defaults", () => {
    assert.throws(() => names(["*", "-nope"]), /"nope" is not in the list of known controllers/);
    assert.throws(() => compileControllerManagerOptions({ kubeconfig: "k", log, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }), /lease-duration must be greater/);
    assert.throws(() => compileControllerManagerOptions({ kubeconfig: "k", log, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }), /renew-deadline must be greater/);
    assert.throws(() => compileControllerManagerOptions({ kubeconfig: "k", log, workers: { namespace: 0 } }), /positive integer/);
    const o = compileControllerManagerOptions({ kubeconfig: "k", log, workers: { "garbage-collector-controller": 3 } });
    assert.equal(o.leaderElect, true);
    assert.equal(`${o.leaseNamespace}/${o.leaseName}`, "kube-system/kube-controller-manager");
    assert.deepEqual([o.leaseDurationMs, o.renewDeadlineMs, o.retryPeriodMs, o.qps, o.burst], [15_000, 10_000, 2_000, 20, 30]);
    assert.deepEqual(o.serve, { host: "127.0.0.1", port: 10257 });
    assert.equal(o.enabled.find((e) => e.controller.name === "garbage-collector-controller")?.workers, 3);
    assert.equal(o.enabled.find((e) => e.controller.name === "namespace-controller")?.workers, 10);
  });
});

void describe("controllers' ServiceAccounts (--use-service-account-credentials)", () => {
  void it("is off by default, as upstream", () => {
    assert.equal(compileControllerManagerOptions({ kubeconfig: "k", log }).useServiceAccountCredentials, false);
    assert.equal(compileControllerManagerOptions({ kubeconfig: "k", log, useServiceAccountCredentials: true }).useServiceAccountCredentials, true);
  });

  void it("names upstream's account for every controller, each bound by the bootstrap policy", () => {
    const accounts = Object.fromEntries(builtinControllers().map((k) => [k.name, controllerServiceAccount(k)]));
    assert.deepEqual(
      {
        deployment: accounts["deployment-controller"],
        rc: accounts["replicationcontroller-controller"],
        daemonset: accounts["daemonset-controller"],
        gc: accounts["garbage-collector-controller"],
        serviceaccount: accounts["serviceaccount-controller"],
        endpoints: accounts["endpoints-controller"],
        lifecycle: accounts["node-lifecycle-controller"],
        taints: accounts["taint-eviction-controller"],
        ipam: accounts["node-ipam-controller"],
        podgc: accounts["pod-garbage-collector-controller"],
        csr: [accounts["csrsigning-controller"], accounts["csrapproving-controller"], accounts["certificatesigningrequest-cleaner-controller"]],
        hpa: accounts["horizontal-pod-autoscaler-controller"],
        pv: accounts["persistentvolume-binder-controller"],
      },
      {
        deployment: "deployment-controller",
        rc: "replication-controller",
        daemonset: "daemon-set-controller",
        gc: "generic-garbage-collector",
        serviceaccount: "service-account-controller",
        endpoints: "endpoint-controller",
        lifecycle: "node-controller",
        taints: "node-controller",
        ipam: "node-controller",
        podgc: "pod-garbage-collector",
        csr: ["certificate-controller", "certificate-controller", "certificate-controller"],
        hpa: "horizontal-pod-autoscaler",
        pv: "persistent-volume-binder",
      },
    );
    const policy = bootstrapPolicy();
    const bound = new Set(
      [...policy.clusterRoleBindings, ...policy.roleBindings].flatMap((b) => (b.subjects ?? []).filter((s) => s.kind === "ServiceAccount" && s.namespace === "kube-system").map((s) => s.name)),
    );
    for (const [controller, account] of Object.entries(accounts)) assert.ok(bound.has(account), `${controller}: kube-system/${account} is bound to a role`);
  });
});

void describe("ControllerManager against an API server", () => {
  let srv: TestApiServer;
  let client: RestClient;

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
  });

  after(async () => {
    client?.close();
    await srv?.stop();
  });

  /** A controller that counts how many of its instances run at once across managers. */
  function probe(state: { running: number; max: number; starts: number }): KnownController {
    return {
      name: "probe-controller",
      aliases: [],
      workers: 1,
      factory: (): Controller => ({
        name: "probe-controller",
        async run(signal) {
          state.starts++;
          state.running++;
          state.max = Math.max(state.max, state.running);
          await new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener("abort", () => r(), { once: true })));
          state.running--;
        },
      }),
    };
  }

  void it("two managers: only the lease holder runs controllers; the other takes over when it stops", async () => {
    const state = { running: 0, max: 0, starts: 0 };
    const known = [...builtinControllers(), probe(state)];
    const make = (id: string): ControllerManager =>
      new ControllerManager(
        compileControllerManagerOptions({ kubeconfig: srv.kubeconfig, identity: id, known, log, serve: { host: "127.0.0.1", port: 0 }, leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500, qps: 1000, burst: 1000 }),
      );
    const a = make("manager-a");
    const b = make("manager-b");
    try {
      await a.start();
      assert.ok(await a.waitUntilLeading(AbortSignal.timeout(15_000)));
      await b.start();
      const lease = await client.forKind("coordination.k8s.io/v1", "Lease").namespace("kube-system").get("kube-controller-manager");
      assert.equal((lease as Lease).spec?.holderIdentity, "manager-a");

      // The leader's controllers act (the serviceaccount controller fills a new namespace).
      await client.forKind("v1", "Namespace").create({ metadata: { name: "team" } });
      await until("default ServiceAccount in team", () => client.forKind("v1", "ServiceAccount").namespace("team").get("default"));
      // The resource quota controller counts through its own informers of pods and deployments.
      const quotas = client.forKind("v1", "ResourceQuota").namespace("team");
      await quotas.create({ metadata: { name: "q" }, spec: { hard: { pods: "4", "count/deployments.apps": "2" } } });
      // Until the controller has written the quota's status, the server refuses what it limits.
      await until("quota status", async () => ((await quotas.get("q")).status?.used?.["count/deployments.apps"] === "0" ? true : undefined));
      await client.forKind("apps/v1", "Deployment").namespace("team").create({
        metadata: { name: "web" },
        spec: { replicas: 0, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "nginx" }] } } },
      });
      await until("quota status counts the deployment", async () => {
        const st = (await quotas.get("q")).status;
        return st?.used?.["count/deployments.apps"] === "1" && st.used["pods"] === "0" && st.hard?.["pods"] === "4" ? st : undefined;
      });

      const health = await httpGet(`${a.healthUrl!}/healthz`);
      assert.deepEqual(health, { status: 200, body: "ok" });
      const metrics = await httpGet(`${a.healthUrl!}/metrics`);
      assert.match(metrics.body, /leader_election_master_status\{name="kube-controller-manager"\} 1/);
      assert.match(metrics.body, /k8ts_controller_reconcile_total\{controller="serviceaccount-controller",result="success"\}/);
      assert.match((await httpGet(`${b.healthUrl!}/metrics`)).body, /leader_election_master_status\{name="kube-controller-manager"\} 0/);
      assert.equal(b.isLeading(), false);

      await a.stop();
      assert.ok(await b.waitUntilLeading(AbortSignal.timeout(15_000)), "b takes over once a released the lease");
      await client.forKind("v1", "Namespace").create({ metadata: { name: "team2" } });
      await until("default ServiceAccount in team2", () => client.forKind("v1", "ServiceAccount").namespace("team2").get("default"));
      assert.equal(state.max, 1, "never two probe controllers at once");
      assert.equal(state.starts, 2);
    } finally {
      await a.stop();
      await b.stop();
    }
    assert.equal(state.running, 0, "stop drains the controllers");
  });

  void it("without leader election, runs the controllers at once and takes no lease", async () => {
    const state = { running: 0, max: 0, starts: 0 };
    const m = new ControllerManager(
      compileControllerManagerOptions({ kubeconfig: srv.kubeconfig, known: [probe(state)], controllers: ["*"], leaderElect: false, leaseName: "unused-lease", log, serve: false }),
    );
    try {
      await m.start();
      assert.ok(await m.waitUntilLeading(AbortSignal.timeout(5_000)));
      assert.equal(m.healthUrl, undefined);
      await assert.rejects(client.forKind("coordination.k8s.io/v1", "Lease").namespace("kube-system").get("unused-lease"), isNotFound);
    } finally {
      await m.stop();
    }
    assert.equal(state.running, 0);
  });
});
