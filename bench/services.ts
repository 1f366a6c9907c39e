// Service proxy benchmark: `npm run bench -- services [--services N] [--endpoints E] [--skip-traffic]`.
// Everything runs inside network namespaces the benchmark creates (src/proxy/testnet.ts): the
// host's tables are never touched. One JSON object per line:
//  - proxy-sync, per mode (iptables, nftables) and size (100 and N services × E endpoints):
//    the Proxier's first (full) sync and a one-service change (median of 5), with the rules
//    each wrote; and the baseline measured in the same run: one raw
//    `iptables-restore --noflush` / `nft -f` of the same full ruleset into an empty namespace.
//  - service-ready, per mode: time from creating a Service (and its EndpointSlice) to it
//    answering on its cluster IP from a pod, p50/p99 over 50 services.
//  - throughput, per mode: HTTP requests/s (a new connection each, 8 at a time, 3 s) from an
//    off-cluster client through the cluster IP vs. straight to the pod IP, and their ratio.
//  - dns: the bundled cluster DNS server's queries/s and p50/p99 from one client, against a raw
//    UDP echo in the same run (bench/dns.ts).
// Needs root, iproute2, iptables, nftables and /bin/busybox.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { createClientFromKubeconfig, type RestClient } from "../src/client/rest.js";
import { cleanupProxyRules, Proxier, type ProxyMode } from "../src/proxy/index.js";
import { commandRunner } from "../src/proxy/exec.js";
import { RESTORE } from "../src/proxy/iptables/backend.js";
import { iptablesJumps, iptablesRuleset, planRestore, restoreScript } from "../src/proxy/iptables/rules.js";
import { buildServicePorts } from "../src/proxy/model.js";
import { IptablesNames, NftNames } from "../src/proxy/names.js";
import { nftRuleset, nftScript } from "../src/proxy/nftables/rules.js";
import { createTestNet, type TestNet } from "../src/proxy/testnet.js";
import { startTestApiServer, type TestApiServer } from "../src/testing/apiserver.js";
import { runDnsBenchmark } from "./dns.js";
import { until } from "../src/testing/wait.js";
import { createLogger } from "../src/util/log.js";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const SERVICES = arg("--services", 1000);
const ENDPOINTS = arg("--endpoints", 3);
const SKIP_TRAFFIC = process.argv.includes("--skip-traffic");
const MODES: readonly ProxyMode[] = ["iptables", "nftables"];
const NODE = "bench-node";
const NS = "bench";
const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;
const emit = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ bench: "services", ...o }) + "\n");
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

const id = randomBytes(2).toString("hex");
const prefix = `KB${id.toUpperCase()}`;
const log = createLogger((process.env["K8TS_BENCH_LOG"] as "info" | undefined) ?? "silent");

function fakeEndpoints(i: number): EndpointSlice["endpoints"] {
  // 10.200.0.0/14 holds 1,000 services × up to 64 endpoints without overlap.
  return Array.from({ length: ENDPOINTS }, (_, e) => {
    const n = i * 64 + e + 1;
    return { addresses: [`10.${200 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`], conditions: { ready: true }, nodeName: NODE };
  });
}

function svc(name: string, extra: Partial<NonNullable<Service["spec"]>> = {}): Service {
  return { metadata: { name, namespace: NS }, spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }], ...extra } };
}

function slice(name: string, svcName: string, endpoints: EndpointSlice["endpoints"]): EndpointSlice {
  return { metadata: { name, namespace: NS, labels: { "kubernetes.io/service-name": svcName } }, addressType: "IPv4", ports: [{ name: "http", port: 8080, protocol: "TCP" }], endpoints };
}

/** Creates services bench-<from>..bench-<to-1> with fake endpoints, 16 requests at a time. */
async function createServices(client: RestClient, from: number, to: number): Promise<void> {
  const services = client.forKind("v1", "Service").namespace(NS);
  const slices = client.forKind("discovery.k8s.io/v1", "EndpointSlice").namespace(NS);
  let next = from;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < to) {
        const i = next++;
        await services.create(svc(`bench-${i}`));
        await slices.create(slice(`bench-${i}-1`, `bench-${i}`, fakeEndpoints(i)));
      }
    }),
  );
}

async function syncBench(client: RestClient, net: TestNet, mode: ProxyMode): Promise<void> {
  const run = commandRunner(net.node);
  const proxier = new Proxier({ client, nodeName: NODE, mode, nodeIPs: [net.nodeIP], clusterCIDR: net.podCIDR, minSyncPeriodMs: 0, syncPeriodMs: 3_600_000, chainPrefix: prefix, netns: net.node, log });
  try {
    await proxier.start();
    const first = proxier.lastSync!;
    const slices = client.forKind("discovery.k8s.io/v1", "EndpointSlice").namespace(NS);
    const changes: { ms: number; writeMs: number; rules: number }[] = [];
    for (let k = 0; k < 5; k++) {
      const seen = proxier.syncs;
      const eps = fakeEndpoints(k);
      eps[0] = { ...eps[0]!, addresses: [`10.199.0.${k + 1}`] };
      await slices.patch("bench-0-1", "merge", { endpoints: eps });
      await until("the change's sync", () => (proxier.syncs > seen && proxier.lastSync!.wrote ? true : undefined), 60_000, 2);
      changes.push({ ms: proxier.lastSync!.durationMs, writeMs: proxier.lastSync!.writeMs, rules: proxier.lastSync!.rules });
    }
    const change = changes.sort((a, b) => a.ms - b.ms)[2]!;
    emit({ what: "proxy-sync", mode, services: first.services, endpointsPerService: ENDPOINTS, phase: "first-full", ms: first.durationMs, writeMs: first.writeMs, rulesWritten: first.rules, totalRules: first.totalRules });
    emit({ what: "proxy-sync", mode, services: first.services, endpointsPerService: ENDPOINTS, phase: "one-service-change", ms: change.ms, writeMs: change.writeMs, rulesWritten: change.rules, runs: changes.length });
  } finally {
    await proxier.stop();
    await cleanupProxyRules({ mode, chainPrefix: prefix, netns: net.node });
  }

  // Baseline: the same full ruleset written raw, into the (now empty) namespace.
  const svcs = (await client.forKind("v1", "Service").namespace(NS).listAll()).items;
  const sls = (await client.forKind("discovery.k8s.io/v1", "EndpointSlice").namespace(NS).listAll()).items;
  const ports = buildServicePorts(svcs, sls, NODE);
  const t0 = performance.now();
  let text: string;
  let rules: number;
  if (mode === "iptables") {
    const cfg = { names: new IptablesNames(prefix), clusterCIDR: net.podCIDR, masqueradeMark: "0x4000", nodeIPs: [net.nodeIP], localhostNodePorts: false };
    const rs = iptablesRuleset(ports, cfg);
    ({ text, rules } = restoreScript(rs, { ...planRestore(rs, undefined, { filter: [], nat: [] }), addJumps: iptablesJumps(cfg), dropJumps: [] }));
  } else {
    const rs = nftRuleset(ports, { table: prefix.toLowerCase(), names: new NftNames(), clusterCIDR: net.podCIDR, masqueradeMark: "0x4000", nodeIPs: [net.nodeIP] });
    ({ text, rules } = nftScript(prefix.toLowerCase(), rs, undefined, true, Date.now()));
  }
  const genMs = performance.now() - t0;
  const t1 = performance.now();
  await run(mode === "iptables" ? RESTORE : ["nft", "-f", "-"], text);
  const rawMs = performance.now() - t1;
  emit({ what: "proxy-sync", mode, services: ports.length, endpointsPerService: ENDPOINTS, phase: "raw-restore-baseline", ms: round(rawMs), generateMs: round(genMs), rulesWritten: rules, bytes: text.length });
  await cleanupProxyRules({ mode, chainPrefix: prefix, netns: net.node });
}

/** Seconds from creating a service and its slice to a pod getting an answer through the cluster IP. */
async function readyBench(client: RestClient, net: TestNet, mode: ProxyMode): Promise<void> {
  const proxier = new Proxier({ client, nodeName: NODE, mode, nodeIPs: [net.nodeIP], clusterCIDR: net.podCIDR, chainPrefix: prefix, netns: net.node, log });
  const services = client.forKind("v1", "Service").namespace("ready");
  const slices = client.forKind("discovery.k8s.io/v1", "EndpointSlice").namespace("ready");
  const eps: EndpointSlice["endpoints"] = net.pods.map((p) => ({ addresses: [p.ip], conditions: { ready: true }, nodeName: NODE }));
  const times: number[] = [];
  try {
    await proxier.start();
    for (let i = 0; i < 50; i++) {
      const name = `${mode.slice(0, 3)}-${i}`;
      const t0 = performance.now();
      const created = await services.create({ ...svc(name), metadata: { name, namespace: "ready" } });
      await slices.create({ ...slice(`${name}-1`, name, eps), metadata: { name: `${name}-1`, namespace: "ready", labels: { "kubernetes.io/service-name": name } } });
      const ip = created.spec?.clusterIP;
      await until(`${name} answering`, async () => ((await net.get(net.pods[0]!.netns, `http://${ip}/`, 1, 0.1))[0]?.startsWith("ERROR") === false ? true : undefined), 20_000, 5);
      times.push(performance.now() - t0);
    }
    emit({ what: "service-ready", mode, services: times.length, p50Ms: round(pct(times, 50)), p99Ms: round(pct(times, 99)), note: "create Service + EndpointSlice → answer via cluster IP from a pod (probe: one busybox wget per attempt)" });
    await throughputBench(net, mode, times.length > 0 ? (await services.get(`${mode.slice(0, 3)}-0`)).spec!.clusterIP! : "");
  } finally {
    await proxier.stop();
    await cleanupProxyRules({ mode, chainPrefix: prefix, netns: net.node });
  }
}

/** A node script run in the off-cluster namespace: new connection per request, 8 at a time, for 3 s. */
const LOAD = `
const http = require("node:http");
const [url] = process.argv.slice(1);
let n = 0, errors = 0; const end = Date.now() + 3000;
const agent = new http.Agent({ keepAlive: false });
async function worker() {
  while (Date.now() < end) {
    await new Promise((res) => {
      http.get(url, { agent }, (r) => { r.resume(); r.on("end", () => { n++; res(); }); }).on("error", () => { errors++; res(); });
    });
  }
}
Promise.all(Array.from({ length: 8 }, worker)).then(() => console.log(JSON.stringify({ n, errors })));
`;

async function throughputBench(net: TestNet, mode: ProxyMode, clusterIP: string): Promise<void> {
  if (SKIP_TRAFFIC || !clusterIP) return;
  const load = async (url: string): Promise<number> => {
    const { stdout } = await net.exec(net.ext, [process.execPath, "-e", LOAD, url]);
    const r = JSON.parse(stdout) as { n: number; errors: number };
    if (r.errors > r.n / 100) throw new Error(`${url}: ${r.errors} errors in ${r.n} requests`);
    return r.n / 3;
  };
  // Static files: busybox httpd still forks per connection, the same for both paths.
  const viaService = await load(`http://${clusterIP}/`);
  const direct = await load(`http://${net.pods[0]!.ip}:8080/`);
  emit({ what: "throughput", mode, clusterIPRequestsPerSec: round(viaService), podIPRequestsPerSec: round(direct), ratio: round(viaService / direct, 2), note: "3 pods behind the cluster IP, one pod direct; new connection per request, 8 concurrent, from an off-cluster namespace" });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("the services benchmark needs root (network namespaces)");
  let server: TestApiServer | undefined;
  let net: TestNet | undefined;
  let client: RestClient | undefined;
  const stop = (): void => void cleanup().finally(() => process.exit(130));
  const cleanup = async (): Promise<void> => {
    client?.close();
    await net?.cleanup();
    await server?.stop();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    server = await startTestApiServer();
    net = await createTestNet({ id: `b${id}`, pods: 3 });
    client = await createClientFromKubeconfig(server.kubeconfig, { qps: Infinity, maxSockets: 32 });
    for (const ns of [NS, "ready"]) await client.forKind("v1", "Namespace").create({ metadata: { name: ns } });
    // Every pod's index.html names it, for the throughput runs (static file, no CGI).
    for (const p of net.pods) writeFileSync(join(net.webRoot(p), "index.html"), `${p.name}\n`);

    let made = 0;
    for (const count of [...new Set([100, SERVICES])].sort((a, b) => a - b)) {
      await createServices(client, made, count);
      made = count;
      for (const mode of MODES) await syncBench(client, net, mode);
    }
    // The readiness and traffic runs keep the N services in place: a node with a full ruleset.
    for (const mode of MODES) await readyBench(client, net, mode);
    // Cluster DNS: the bundled server in its own process, one UDP client on loopback.
    const dns = await runDnsBenchmark({ kubeconfig: server.kubeconfig });
    emit({ what: "dns", oneClient: { p50us: dns.cluster.p50us, p99us: dns.cluster.p99us, qps: dns.cluster.sequentialQps }, baselineUdpEcho: { p50us: dns.echo.p50us, p99us: dns.echo.p99us, qps: dns.echo.sequentialQps }, forwarded: { p50us: dns.forwarded.p50us, p99us: dns.forwarded.p99us }, concurrentQps: dns.concurrentQps, concurrency: dns.concurrency, serverRssMiB: dns.serverRssMiB });
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await cleanup();
  }
}

await main();
