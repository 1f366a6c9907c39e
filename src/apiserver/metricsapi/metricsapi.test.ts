// metrics.k8s.io through the API server, read by the official kubectl (`kubectl top`), from a
// stand-in kubelet whose counters grow at known rates. The real kubelet's endpoint is checked
// end to end in test/e2e/node.test.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:https";
import type { TLSSocket } from "node:tls";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { adminClient, type RawClient } from "../../testing/client.js";
import { until } from "../../testing/wait.js";
import { clusterPKIPaths, createCA, issueCertificate } from "../../util/pki.js";
import { ensureKubeletClientCert, KUBELET_CLIENT_USER } from "../proxy/certs.js";
import { Scraper } from "./scraper.js";

interface Kubelet {
  readonly server: Server;
  readonly port: number;
  /** The client certificates' CNs of the scrapes, in order. */
  readonly scrapedBy: string[];
}

/** Node CPU grows at 0.5 core, web-1's container at 0.25, web-2's at 0.1; working sets are fixed. */
async function standInKubelet(caPem: string): Promise<Kubelet> {
  const ca = await createCA("stand-in-kubelet-ca");
  const serving = await issueCertificate(ca, { commonName: "stand-in-kubelet", ipAddresses: ["127.0.0.1"], usages: "server", validityDays: 1 });
  const t0 = Date.now() - 60_000;
  const scrapedBy: string[] = [];
  const server = createServer({ cert: serving.certPem, key: serving.keyPem, ca: caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    scrapedBy.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? ""));
    if (req.url !== "/metrics/resource") return void res.writeHead(404).end();
    const at = Date.now();
    const up = (at - t0) / 1000;
    const container = (pod: string, name: string, rate: number, mem: number): string => {
      const labels = `container="${name}",namespace="default",pod="${pod}"`;
      return [`container_cpu_usage_seconds_total{${labels}} ${rate * up} ${at}`, `container_memory_working_set_bytes{${labels}} ${mem} ${at}`, `container_start_time_seconds{${labels}} ${t0 / 1000}`].join("\n");
    };
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(
      [
        "# TYPE node_cpu_usage_seconds_total counter",
        `node_cpu_usage_seconds_total ${100 + 0.5 * up} ${at}`,
        `node_memory_working_set_bytes ${512 * 2 ** 20} ${at}`,
        container("web-1", "main", 0.25, 64 * 2 ** 20),
        container("web-2", "main", 0.1, 32 * 2 ** 20),
        container("web-2", "sidecar", 0.1, 16 * 2 ** 20),
        container("gone", "main", 0.1, 2 ** 20),
        "scrape_error 0",
      ].join("\n") + "\n",
    );
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as { port: number }).port, scrapedBy };
}

void describe("metrics.k8s.io and kubectl top", () => {
  let api: TestApiServer;
  let raw: RawClient;
  let kubelet: Kubelet;
  /** A kubelet that takes connections and never answers. */
  let hung: TcpServer;
  const hungSockets: Socket[] = [];

  before(async () => {
    api = await startTestApiServer();
    raw = adminClient(api.url, api.dataDir);
    kubelet = await standInKubelet(readFileSync(clusterPKIPaths(api.dataDir).caCert, "utf8"));
    const node = async (name: string, ready: boolean, annotations: Record<string, string> = {}, port = kubelet.port): Promise<void> => {
      await raw.request("POST", "/api/v1/nodes", JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name, labels: { pool: name }, annotations } }));
      const status = {
        addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
        daemonEndpoints: { kubeletEndpoint: { Port: port } },
        capacity: { cpu: "4", memory: "2Gi", pods: "110" },
        allocatable: { cpu: "4", memory: "2Gi", pods: "110" },
        conditions: [{ type: "Ready", status: ready ? "True" : "False", reason: "KubeletReady", message: "", lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
      };
      await raw.request("PATCH", `/api/v1/nodes/${name}/status`, JSON.stringify({ status }), { "Content-Type": "application/merge-patch+json" });
    };
    hung = createTcpServer((socket) => void hungSockets.push(socket));
    hung.listen(0, "127.0.0.1");
    await once(hung, "listening");
    await node("n1", true);
    await node("hung", true, {}, (hung.address() as { port: number }).port);
    await node("down", false);
    await node("sim", true, { "kwok.x-k8s.io/node": "fake" });
    const pod = async (name: string, containers: string[]): Promise<void> => {
      const r = await raw.request("POST", "/api/v1/namespaces/default/pods", JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, labels: { app: "web", name } }, spec: { nodeName: "n1", containers: containers.map((c) => ({ name: c, image: "busybox:1.35" })) } }));
      assert.equal(r.status, 201, r.body);
    };
    await pod("web-1", ["main"]);
    await pod("web-2", ["main", "sidecar"]);
    await pod("quiet", ["main"]);
  });

  after(async () => {
    raw?.close();
    kubelet?.server.close();
    kubelet?.server.closeAllConnections();
    for (const socket of hungSockets) socket.destroy();
    hung?.close();
    await api?.stop();
  });

  void it("kubectl top node: usage from two scrapes of each Ready kubelet, as a share of allocatable", async () => {
    // The first request waits for the first scrapes, but not for a kubelet that never answers:
    // the answer comes while that scrape is still waiting (it gives up after 10 s and closes).
    const r = await api.kubectl(["top", "node"]);
    assert.equal(hungSockets.length, 1);
    assert.equal(hungSockets[0]!.destroyed, false, "kubectl top waited for the kubelet that never answers");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/));
    assert.deepEqual(lines.slice(0, 2), [
      ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"],
      ["n1", "500m", "12%", "512Mi", "25%"],
    ]);
    // kubectl lists the nodes it has no metrics for, in no set order: "down" is not Ready, "sim" is simulated, "hung" never answers.
    assert.deepEqual(lines.slice(2).sort((a, b) => a[0]!.localeCompare(b[0]!)), [
      ["down", "<unknown>", "<unknown>", "<unknown>", "<unknown>"],
      ["hung", "<unknown>", "<unknown>", "<unknown>", "<unknown>"],
      ["sim", "<unknown>", "<unknown>", "<unknown>", "<unknown>"],
    ]);
    // Only n1 was scraped, with the kubelet client certificate.
    assert.equal(kubelet.scrapedBy.length, 2);
    assert.ok(kubelet.scrapedBy.every((cn) => cn === KUBELET_CLIENT_USER));
    const one = await api.kubectl(["top", "node", "n1", "--no-headers"]);
    assert.match(one.stdout, /^n1\s+500m\s+12%\s+512Mi\s+25%\s*$/);
    const selected = await api.kubectl(["top", "node", "-l", "pool=down"]);
    assert.notEqual(selected.code, 0);
    assert.match(selected.stderr, /metrics not available yet/);
  });

  void it("kubectl top pod: per pod and per container, selected by label; pods without points are not listed", async () => {
    const r = await api.kubectl(["top", "pod"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)), [
      ["NAME", "CPU(cores)", "MEMORY(bytes)"],
      ["web-1", "250m", "64Mi"],
      ["web-2", "200m", "48Mi"],
    ]);
    const containers = await api.kubectl(["top", "pod", "web-2", "--containers", "--no-headers"]);
    assert.deepEqual(containers.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)), [
      ["web-2", "main", "100m", "32Mi"],
      ["web-2", "sidecar", "100m", "16Mi"],
    ]);
    const labelled = await api.kubectl(["top", "pod", "-l", "name=web-1", "--no-headers"]);
    assert.match(labelled.stdout, /^web-1\s+250m\s+64Mi\s*$/);
    const missing = await api.kubectl(["top", "pod", "nope"]);
    assert.match(missing.stderr, /pods "nope" not found/);
    // A pod that exists but that no kubelet reports: NotFound from the metrics API, as metrics-server answers.
    const quiet = await raw.request("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/quiet");
    assert.equal(quiet.status, 404);
    assert.equal(JSON.parse(quiet.body).message, 'pods.metrics.k8s.io "default/quiet" not found');
  });

  void it("serves the objects, lists, tables and discovery as metrics-server does", async () => {
    const node = JSON.parse((await raw.request("GET", "/apis/metrics.k8s.io/v1beta1/nodes/n1")).body) as Record<string, unknown>;
    assert.equal(node["kind"], "NodeMetrics");
    assert.equal(node["apiVersion"], "metrics.k8s.io/v1beta1");
    assert.deepEqual((node["metadata"] as { labels: unknown }).labels, { pool: "n1" });
    assert.match(String(node["window"]), /^\d+(\.\d+)?m?s$/);
    assert.equal((node["usage"] as { memory: string }).memory, "512Mi");
    const list = JSON.parse((await raw.request("GET", "/apis/metrics.k8s.io/v1beta1/pods")).body) as { kind: string; items: { metadata: { namespace: string; name: string }; containers: { name: string }[] }[] };
    assert.equal(list.kind, "PodMetricsList");
    assert.deepEqual(list.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}:${i.containers.map((c) => c.name).join("+")}`), ["default/web-1:main", "default/web-2:main+sidecar"]);
    const table = await api.kubectl(["get", "nodemetrics"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+CPU\s+MEMORY\s+WINDOW\nn1\s+500m\s+512Mi\s+\d+(\.\d+)?s\n$/);
    const resources = await api.kubectl(["api-resources", "--api-group=metrics.k8s.io", "--no-headers"]);
    assert.deepEqual(resources.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)), [
      ["nodes", "metrics.k8s.io/v1beta1", "false", "NodeMetrics"],
      ["pods", "metrics.k8s.io/v1beta1", "true", "PodMetrics"],
    ]);
    const explain = await api.kubectl(["explain", "podmetrics.containers"]);
    assert.equal(explain.code, 0, explain.stderr);
    assert.match(explain.stdout, /The usage of each of the pod's containers/);
  });

  void it("refuses what metrics-server refuses", async () => {
    const cases: [string, string, number][] = [
      ["GET", "/apis/metrics.k8s.io/v1beta1/watch/nodes", 405],
      ["GET", "/apis/metrics.k8s.io/v1beta1/nodes?watch=true", 405],
      ["DELETE", "/apis/metrics.k8s.io/v1beta1/nodes/n1", 405],
      ["POST", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods", 405],
      ["GET", "/apis/metrics.k8s.io/v1beta1/nodes/nope", 404],
      ["GET", "/apis/metrics.k8s.io/v1beta1/nodes/sim", 404],
      ["GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/things", 404],
      ["GET", "/apis/metrics.k8s.io/v1/nodes", 404],
      ["GET", "/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=a%20in", 400],
      ["GET", "/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=spec.nope%3Dx", 400],
    ];
    for (const [method, path, code] of cases) {
      const r = await raw.request(method, path, method === "POST" ? "{}" : undefined);
      assert.equal(r.status, code, `${method} ${path}: ${r.body}`);
      assert.equal(JSON.parse(r.body).kind, "Status", `${method} ${path}`);
    }
    const byNode = JSON.parse((await raw.request("GET", "/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=spec.nodeName%3Dn1,metadata.name!%3Dweb-1")).body) as { items: { metadata: { name: string } }[] };
    assert.deepEqual(byNode.items.map((i) => i.metadata.name), ["web-2"]);
  });
});

void describe("the metrics scraper", () => {
  void it("scrapes while used, pauses when idle, and starts afresh after a pause", async (t) => {
    const ca = await createCA("scraper-test-ca");
    const dir = mkdtempSync(join(tmpdir(), "k8ts-scraper-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const kubelet = await standInKubelet(ca.certPem);
    t.after(() => {
      kubelet.server.close();
      kubelet.server.closeAllConnections();
    });
    const node = { metadata: { name: "n1" }, status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } }, conditions: [{ type: "Ready", status: "True" }] } };
    // The first requests wait 50 ms for the warm-up, whose two scrapes are 150 ms apart: they
    // return between the two.
    const scraper = new Scraper({ nodes: () => [node], kubeletClient: await ensureKubeletClientCert(dir, ca), log: { warn: () => undefined }, resolutionMs: 50, idleMs: 500, warmupGapMs: 150, firstAnswerMs: 50 });
    t.after(() => scraper.stop());
    await scraper.used();
    assert.equal(scraper.store.nodeUsage("n1"), undefined, "one scrape is no usage yet");
    const first = await until("usage from the warm-up", () => scraper.store.nodeUsage("n1"), 10_000, 10);
    assert.ok(first.windowMs >= 150, `first window ${first.windowMs} ms: the warm-up's two scrapes`);
    // Scraping goes on every 50 ms while used, then pauses once unused for 500 ms.
    await until("scraping to pause", () => (scraper.scraping ? undefined : true), 10_000, 20);
    assert.ok(kubelet.scrapedBy.length > 2);
    const idle = scraper.store.nodeUsage("n1")!.timestampMs;
    // After the pause the warm-up starts afresh: one new scrape is no usage (not usage over the pause).
    await scraper.used();
    assert.equal(scraper.store.nodeUsage("n1"), undefined, "no usage across the pause");
    const after = await until("usage after the pause", () => scraper.store.nodeUsage("n1"), 10_000, 10);
    // Its window starts after the pause began: it is the new warm-up's, not one over the pause.
    assert.ok(after.timestampMs - after.windowMs > idle, `window after the pause ${after.windowMs} ms`);
  });
});
