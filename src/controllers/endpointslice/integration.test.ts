// The Endpoints and EndpointSlice controllers against a real API server, through the real
// client, informers and work queue. There are no nodes: a stand-in kubelet gives pods an
// address and readiness through pods/status.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { Endpoints, Pod } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { newControllerMetrics } from "../../client/controller.js";
import { SharedInformerFactory } from "../../client/informer.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { createLogger } from "../../util/log.js";
import type { ControllerContext } from "../context.js";
import { RecordingEventSink } from "../testing/index.js";
import { endpointsController } from "../endpoints/index.js";
import { endpointSliceController } from "./index.js";
import { until } from "../../testing/wait.js";
import { rfc3339 } from "../../util/time.js";

void describe("endpoints and endpointslice controllers against an API server", () => {
  let srv: TestApiServer;
  let client: RestClient;
  const ac = new AbortController();
  const runs: Promise<void>[] = [];
  let informers: SharedInformerFactory;

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    const log = createLogger("silent");
    informers = new SharedInformerFactory({ client, log });
    const registry = new Registry();
    const ctx: ControllerContext = { client, informers, events: new RecordingEventSink(), log, metrics: newControllerMetrics(registry), registry };
    const controllers = [endpointsController(ctx), endpointSliceController(ctx)];
    informers.start(ac.signal);
    for (const c of controllers) runs.push(c.run(ac.signal, 5));
  });

  after(async () => {
    ac.abort();
    await Promise.all(runs);
    await informers?.shutdown();
    client?.close();
    await srv?.stop();
  });

  const pods = () => client.forKind("v1", "Pod").namespace("default");
  const slicesOf = async (svc: string): Promise<EndpointSlice[]> => (await client.forKind("discovery.k8s.io/v1", "EndpointSlice").namespace("default").list({ labelSelector: `kubernetes.io/service-name=${svc}` })).items;
  const endpointsOf = async (svc: string): Promise<Endpoints | undefined> => client.forKind("v1", "Endpoints").namespace("default").get(svc).catch(() => undefined);

  /** Creates pod web-<i> with label app=<app>, a container port named http, then sets its address and readiness through pods/status. */
  async function runPod(app: string, i: number, ready = true): Promise<void> {
    const name = `${app}-${i}`;
    await pods().create({ metadata: { name, labels: { app } }, spec: { containers: [{ name: "c", image: "busybox", ports: [{ name: "http", containerPort: 8080 }] }] } } as Pod);
    await setStatus(name, `10.42.${Math.floor(i / 200)}.${(i % 200) + 1}`, ready);
  }

  async function setStatus(name: string, ip: string, ready: boolean): Promise<void> {
    for (;;) {
      const p = await pods().get(name);
      (p as { status?: Pod["status"] }).status = { phase: "Running", podIP: ip, podIPs: [{ ip }], conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: rfc3339(Date.now()) }] };
      try {
        await pods().updateStatus(p);
        return;
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
      }
    }
  }

  const readyIPs = (slices: EndpointSlice[]): string[] =>
    slices
      .flatMap((s) => s.endpoints ?? [])
      .filter((e) => e.conditions?.ready)
      .map((e) => e.addresses[0]!)
      .sort();

  void it("publishes ready pods in Endpoints and EndpointSlices, follows a scale to 1 and back, and shows a not-ready pod as such", async () => {
    // kubectl selects app=<name> and names the port <port>-<targetPort>.
    assert.equal((await srv.kubectl(["create", "service", "clusterip", "web", "--tcp=80:http"])).code, 0);
    for (let i = 0; i < 3; i++) await runPod("web", i);
    const three = ["10.42.0.1", "10.42.0.2", "10.42.0.3"];
    const slices = await until("a slice with the 3 ready pods", async () => {
      const s = await slicesOf("web");
      return s.length === 1 && JSON.stringify(readyIPs(s)) === JSON.stringify(three) ? s : undefined;
    });
    const slice = slices[0]!;
    assert.equal(slice.metadata?.labels?.["endpointslice.kubernetes.io/managed-by"], "endpointslice-controller.k8s.io");
    assert.equal(slice.metadata?.ownerReferences?.[0]?.kind, "Service");
    assert.deepEqual(slice.ports, [{ name: "80-http", port: 8080, protocol: "TCP" }]);
    const ep = await until("endpoints with the 3 pods", async () => {
      const e = await endpointsOf("web");
      return e?.subsets?.[0]?.addresses?.length === 3 ? e : undefined;
    });
    assert.deepEqual(ep.subsets?.[0]?.ports, [{ name: "80-http", port: 8080, protocol: "TCP" }]);
    const table = await srv.kubectl(["get", "endpoints", "web"]);
    assert.match(table.stdout, /^web\s+10\.42\.0\.1:8080,10\.42\.0\.2:8080,10\.42\.0\.3:8080\s+\d+s$/m);

    // Scale to 1: the same slice loses two endpoints; back to 3: the same slice gains them.
    const name = slice.metadata!.name!;
    await pods().delete("web-1", { gracePeriodSeconds: 0 });
    await pods().delete("web-2", { gracePeriodSeconds: 0 });
    await until("the slice down to 1", async () => {
      const s = await slicesOf("web");
      return s.length === 1 && s[0]!.metadata!.name === name && readyIPs(s).join() === "10.42.0.1" ? true : undefined;
    });
    await until("endpoints down to 1", async () => ((await endpointsOf("web"))?.subsets?.[0]?.addresses?.length === 1 ? true : undefined));
    await runPod("web", 1);
    await runPod("web", 2);
    await until("the same slice back to 3", async () => {
      const s = await slicesOf("web");
      return s.length === 1 && s[0]!.metadata!.name === name && readyIPs(s).join() === three.join() ? true : undefined;
    });

    // A pod failing readiness stays listed, as not ready.
    await setStatus("web-2", "10.42.0.3", false);
    const notReady = await until("web-2 not ready in the slice", async () => {
      const e = (await slicesOf("web")).flatMap((s) => s.endpoints ?? []).find((x) => x.targetRef?.name === "web-2");
      return e && e.conditions?.ready === false ? e : undefined;
    });
    assert.deepEqual(notReady.conditions, { ready: false, serving: false, terminating: false });
    const eps = await until("web-2 under notReadyAddresses", async () => {
      const e = await endpointsOf("web");
      return e?.subsets?.[0]?.notReadyAddresses?.length === 1 ? e : undefined;
    });
    assert.equal(eps.subsets?.[0]?.notReadyAddresses?.[0]?.ip, "10.42.0.3");
    assert.deepEqual(eps.subsets?.[0]?.addresses?.map((a) => a.ip), ["10.42.0.1", "10.42.0.2"]);
  });

  void it("spreads 250 pods over 3 slices", async () => {
    assert.equal((await srv.kubectl(["create", "service", "clusterip", "many", "--tcp=80:8080"])).code, 0);
    const batch = 25;
    for (let i = 0; i < 250; i += batch) await Promise.all(Array.from({ length: batch }, (_, j) => runPod("many", i + j)));
    const slices = await until("250 ready endpoints", async () => {
      const s = await slicesOf("many");
      return readyIPs(s).length === 250 ? s : undefined;
    }, 60_000);
    assert.deepEqual(slices.map((s) => s.endpoints?.length ?? 0).sort((a, b) => b - a), [100, 100, 50]);
    const ep = await until("endpoints with 250 addresses", async () => {
      const e = await endpointsOf("many");
      return (e?.subsets?.[0]?.addresses?.length ?? 0) === 250 ? e : undefined;
    });
    assert.equal(ep.subsets?.length, 1);
  });

  void it("leaves the endpoints of a service without a selector to the user", async () => {
    const svc = { apiVersion: "v1", kind: "Service", metadata: { name: "manual" }, spec: { ports: [{ port: 80, targetPort: 8080 }] } };
    const eps = { apiVersion: "v1", kind: "Endpoints", metadata: { name: "manual" }, subsets: [{ addresses: [{ ip: "192.0.2.10" }], ports: [{ port: 8080 }] }] };
    const r = await srv.kubectl(["apply", "-f", "-"], { stdin: JSON.stringify({ apiVersion: "v1", kind: "List", items: [svc, eps] }) });
    assert.equal(r.code, 0, r.stderr);
    // A pod the user's service would select if it had a selector, and a service (queued after
    // it) that does select it: once that one has its endpoints, the first has been looked at.
    await runPod("manual", 1);
    assert.equal((await srv.kubectl(["create", "service", "clusterip", "probe", "--tcp=80:8080"])).code, 0);
    await srv.kubectl(["set", "selector", "svc", "probe", "app=manual"]);
    await until("the probe service's endpoints", async () => ((await endpointsOf("probe"))?.subsets?.[0]?.addresses?.length === 1 ? true : undefined));
    await until("the probe service's slice", async () => (readyIPs(await slicesOf("probe")).length === 1 ? true : undefined));
    const ep = await endpointsOf("manual");
    assert.deepEqual(ep?.subsets, [{ addresses: [{ ip: "192.0.2.10" }], ports: [{ port: 8080, protocol: "TCP" }] }]);
    assert.deepEqual(await slicesOf("manual"), []);
  });
});
