// The Deployment and ReplicaSet controllers against a real API server, driven by the official
// kubectl. There are no nodes: a stand-in kubelet here marks every new pod Running and Ready
// through pods/status, which is all the controllers look at.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { Deployment, ReplicaSet } from "kubernetes-types/apps/v1.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { newControllerMetrics } from "../../client/controller.js";
import { ApiError, isConflict, isNotFound } from "../../client/errors.js";
import { SharedInformerFactory } from "../../client/informer.js";
import type { DeepReadonly } from "../../client/objects.js";
import { createClientFromKubeconfig, type ResourceClient, type RestClient } from "../../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { createLogger } from "../../util/log.js";
import type { ControllerContext } from "../context.js";
import { replicaSetController } from "../replicaset/index.js";
import { RecordingEventSink } from "../testing/index.js";
import { deploymentController } from "./index.js";
import { REVISION_ANNOTATION } from "./util.js";
import { until } from "../../testing/wait.js";
import { rfc3339 } from "../../util/time.js";

void describe("deployment controller against an API server", () => {
  let srv: TestApiServer;
  let client: RestClient;
  let informers: SharedInformerFactory;
  const ac = new AbortController();
  const runs: Promise<void>[] = [];
  const readiness = new Set<Promise<void>>();
  const events = new RecordingEventSink();

  /** The stand-in kubelet: Running and Ready, now. */
  async function markReady(p: DeepReadonly<Pod>): Promise<void> {
    const pods = client.forKind("v1", "Pod").namespace(p.metadata?.namespace ?? "");
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const fresh = await pods.get(p.metadata?.name ?? "");
        if (fresh.metadata?.deletionTimestamp || fresh.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return;
        (fresh as { status?: Pod["status"] }).status = { ...fresh.status, phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: rfc3339(Date.now()) }] };
        await pods.updateStatus(fresh);
        return;
      } catch (err) {
        if (isNotFound(err) || ac.signal.aborted) return;
        if (!isConflict(err)) throw err;
      }
    }
  }

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    const log = createLogger("silent");
    informers = new SharedInformerFactory({ client, log });
    const registry = new Registry();
    const ctx: ControllerContext = { client, informers, events, log, metrics: newControllerMetrics(registry), registry };
    const controllers = [deploymentController(ctx), replicaSetController(ctx)];
    informers.forKind("v1", "Pod").addEventHandler({
      onAdd: (p) => {
        const done = markReady(p).finally(() => readiness.delete(done));
        readiness.add(done);
      },
    });
    informers.start(ac.signal);
    for (const c of controllers) runs.push(c.run(ac.signal, 2));
  });

  after(async () => {
    ac.abort();
    await Promise.all(runs);
    await Promise.allSettled([...readiness]);
    await informers?.shutdown();
    client?.close();
    await srv?.stop();
  });

  const kubectl = async (...args: string[]): Promise<string> => {
    const r = await srv.kubectl(args);
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };

  const rsApi = () => client.forKind("apps/v1", "ReplicaSet").namespace("default");
  const ownedReplicaSets = async (uid: string): Promise<ReplicaSet[]> => (await rsApi().list()).items.filter((rs) => rs.metadata?.ownerReferences?.some((r) => r.uid === uid && r.controller));

  void it("rolls out, updates, rolls back, pauses, resumes and scales as kubectl expects", async () => {
    await kubectl("create", "deployment", "web", "--image=busybox:1", "--replicas=3");
    const out = await kubectl("rollout", "status", "deployment/web", "--timeout=60s");
    assert.match(out, /successfully rolled out/);

    const d = await client.forKind("apps/v1", "Deployment").namespace("default").get("web");
    const uid = d.metadata!.uid!;
    const [rs1] = await ownedReplicaSets(uid);
    assert.ok(rs1);
    assert.match(rs1.metadata!.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(rs1.metadata?.annotations?.[REVISION_ANNOTATION], "1");
    assert.equal(rs1.spec?.template?.metadata?.labels?.["pod-template-hash"], rs1.metadata!.name!.slice("web-".length));
    const pods = (await client.forKind("v1", "Pod").namespace("default").list()).items.filter((p) => p.metadata?.ownerReferences?.[0]?.uid === rs1.metadata!.uid);
    assert.equal(pods.length, 3);
    for (const p of pods) assert.deepEqual(p.metadata?.ownerReferences, [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: rs1.metadata!.name!, uid: rs1.metadata!.uid!, controller: true, blockOwnerDeletion: true }]);
    assert.equal(await kubectl("get", "deployment", "web", "-o", `jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}`), "1");

    // A new image: a second ReplicaSet takes over.
    await kubectl("set", "image", "deployment/web", "busybox=busybox:2");
    assert.match(await kubectl("rollout", "status", "deployment/web", "--timeout=60s"), /successfully rolled out/);
    const afterUpdate = await ownedReplicaSets(uid);
    assert.equal(afterUpdate.length, 2);
    const old = afterUpdate.find((rs) => rs.metadata?.uid === rs1.metadata?.uid)!;
    assert.equal(old.spec?.replicas, 0);
    const history = await kubectl("rollout", "history", "deployment/web");
    assert.match(history, /^1\s/m);
    assert.match(history, /^2\s/m);

    // Undo: the first ReplicaSet is reused and becomes revision 3.
    await kubectl("rollout", "undo", "deployment/web");
    assert.match(await kubectl("rollout", "status", "deployment/web", "--timeout=60s"), /successfully rolled out/);
    const afterUndo = await ownedReplicaSets(uid);
    assert.equal(afterUndo.length, 2, "no third ReplicaSet");
    const reused = afterUndo.find((rs) => rs.metadata?.uid === rs1.metadata?.uid)!;
    assert.equal(reused.metadata?.annotations?.[REVISION_ANNOTATION], "3");
    assert.equal(reused.metadata?.annotations?.["deployment.kubernetes.io/revision-history"], "1");
    assert.equal(reused.spec?.replicas, 3);
    assert.match(await kubectl("rollout", "history", "deployment/web"), /^3\s/m);

    // Paused: an edit makes no new ReplicaSet; resume rolls it out.
    await kubectl("rollout", "pause", "deployment/web");
    await kubectl("set", "image", "deployment/web", "busybox=busybox:3");
    await until("the paused condition", async () => {
      const cur = await client.forKind("apps/v1", "Deployment").namespace("default").get("web");
      return cur.status?.conditions?.some((c) => c.type === "Progressing" && c.reason === "DeploymentPaused") && (cur.status.observedGeneration ?? 0) >= (cur.metadata?.generation ?? 0) ? true : undefined;
    });
    assert.equal((await ownedReplicaSets(uid)).length, 2);
    await kubectl("rollout", "resume", "deployment/web");
    assert.match(await kubectl("rollout", "status", "deployment/web", "--timeout=60s"), /successfully rolled out/);
    assert.equal((await ownedReplicaSets(uid)).length, 3);

    // Scale.
    await kubectl("scale", "deployment/web", "--replicas=5");
    assert.match(await kubectl("rollout", "status", "deployment/web", "--timeout=60s"), /successfully rolled out/);
    const final = await until("5 available", async () => {
      const cur: Deployment = await client.forKind("apps/v1", "Deployment").namespace("default").get("web");
      const s = cur.status;
      return s?.replicas === 5 && s.availableReplicas === 5 && s.updatedReplicas === 5 ? cur : undefined;
    });
    assert.deepEqual(
      final.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`).sort(),
      ["Available=True/MinimumReplicasAvailable", "Progressing=True/NewReplicaSetAvailable"],
    );
    assert.ok(events.events.some((e) => e.kind === "Deployment" && e.reason === "ScalingReplicaSet" && /^Scaled up replica set web-\w+ from 0 to 3$/.test(e.message)));
  });
});

void describe("a Deployment whose pods can never be created", () => {
  let srv: TestApiServer;
  let client: RestClient;
  let informers: SharedInformerFactory;
  const ac = new AbortController();
  const runs: Promise<void>[] = [];
  const events = new RecordingEventSink();
  const attempts: number[] = [];

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    const log = createLogger("silent");
    informers = new SharedInformerFactory({ client, log });
    const registry = new Registry();
    const metrics = newControllerMetrics(registry);
    // What a quota or an admission webhook would do: every pod create answers 403.
    const refusing = (rc: object): object =>
      new Proxy(rc, {
        get(target, prop, receiver) {
          if (prop === "create")
            return () => {
              attempts.push(performance.now());
              return Promise.reject(new ApiError({ kind: "Status", apiVersion: "v1", status: "Failure", code: 403, reason: "Forbidden", message: 'pods "web-" is forbidden: exceeded quota: pods' }));
            };
          if (prop === "namespace") return (ns: string) => refusing((target as ResourceClient<Pod>).namespace(ns));
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    const failingClient = new Proxy(client, {
      get(target, prop, receiver) {
        if (prop === "resource")
          return (g: string, v: string, plural: string, o?: { namespaced?: boolean; kind?: string }) => {
            const rc = target.resource(g, v, plural, o);
            return plural === "pods" ? refusing(rc) : rc;
          };
        const val = Reflect.get(target, prop, receiver) as unknown;
        return typeof val === "function" ? (val as (...a: unknown[]) => unknown).bind(target) : val;
      },
    });
    const controllers = [
      deploymentController({ client, informers, events, log, metrics, registry }),
      replicaSetController({ client: failingClient, informers, events, log, metrics, registry }),
    ];
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

  void it("says why in conditions and events, and retries with growing backoff", async () => {
    await client.forKind("apps/v1", "Deployment").namespace("default").create({
      metadata: { name: "web" },
      spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } },
    });
    const failure = await until("ReplicaFailure on the Deployment", async () => {
      const d = await client.forKind("apps/v1", "Deployment").namespace("default").get("web");
      return d.status?.conditions?.find((c) => c.type === "ReplicaFailure");
    });
    assert.equal(failure.reason, "FailedCreate");
    assert.match(failure.message ?? "", /exceeded quota/);
    assert.ok(events.events.some((e) => e.kind === "ReplicaSet" && e.type === "Warning" && e.reason === "FailedCreate" && /exceeded quota/.test(e.message)));
    await until("8 create attempts", () => (attempts.length >= 8 ? true : undefined));
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // Slow start tries one pod per sync, and the queue's per-item backoff doubles each time:
    // the 8th attempt comes at least 100 ms after the 7th (a hot loop would be ~1 ms).
    assert.ok(gaps.at(-1)! >= 100, `gaps ${gaps.map((g) => g.toFixed(0)).join(",")}`);
    // One Warning per failed attempt (the last may still be on its way).
    assert.ok(events.events.filter((e) => e.reason === "FailedCreate").length >= attempts.length - 1);
  });
});
