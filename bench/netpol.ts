// Network policy benchmark: `npm run bench -- netpol [--pods N] [--policies M]`.
// Everything runs inside network namespaces the benchmark creates (src/proxy/testnet.ts): the
// host's tables are never touched. One JSON object per line:
//  - netpol-build: computing the node's filters (model.ts) and the nftables script (nft.ts) for
//    N pods (a tenth of them on this node) in 10 namespaces under M policies, median of 5, with
//    the table's rules and elements; then `nft -f` of that table into an empty namespace, and
//    the baseline measured in the same run: `nft -f` of the table with no policies (one nft
//    run's fixed cost).
//  - netpol-traffic: HTTP requests/s (a new connection each) from one pod to another through
//    the node namespace without policies, then with the M policies written and one of them
//    allowing the client, and their ratio: what the filters cost the packets that pass them.
// Needs root, iproute2, nftables and /bin/busybox.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Namespace, Pod } from "kubernetes-types/core/v1.js";
import type { NetworkPolicy } from "kubernetes-types/networking/v1.js";
import { commandRunner } from "../src/proxy/exec.js";
import { buildNodeFilters } from "../src/proxy/netpol/model.js";
import { renderTable } from "../src/proxy/netpol/nft.js";
import { createTestNet, type TestNet } from "../src/proxy/testnet.js";
import { until } from "../src/testing/wait.js";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const PODS = arg("--pods", 5000);
const POLICIES = arg("--policies", 200);
const NAMESPACES = 10;
const NODE = "bench-node";
const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;
const emit = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ bench: "netpol", ...o }) + "\n");
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function ip(n: number): string {
  return `10.${200 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

function pods(count: number): Pod[] {
  return Array.from({ length: count }, (_, i) => ({
    metadata: { namespace: `ns-${(i >> 4) % NAMESPACES}`, name: `pod-${i}`, labels: { app: `app-${i % 50}`, tier: i % 3 === 0 ? "web" : "db" } },
    spec: { nodeName: i % 10 === 0 ? NODE : "other", containers: [{ name: "c", ports: [{ name: "http", containerPort: 8080 }] }] },
    status: { phase: "Running", podIP: ip(i + 1), podIPs: [{ ip: ip(i + 1) }] },
  }));
}

function namespaces(): Namespace[] {
  return Array.from({ length: NAMESPACES }, (_, i) => ({ metadata: { name: `ns-${i}`, labels: { "kubernetes.io/metadata.name": `ns-${i}`, team: `t${i % 3}` } } }));
}

/** A mix of the shapes users write: default deny, allow from an app on a named port, from a team's namespaces, egress to DNS and the web tier. */
function policies(count: number): NetworkPolicy[] {
  return Array.from({ length: count }, (_, i): NetworkPolicy => {
    const namespace = `ns-${i % NAMESPACES}`;
    const name = `policy-${i}`;
    switch (i % 4) {
      case 0:
        return { metadata: { namespace, name }, spec: { podSelector: {}, policyTypes: ["Ingress"] } };
      case 1:
        return { metadata: { namespace, name }, spec: { podSelector: { matchLabels: { app: `app-${i % 50}` } }, ingress: [{ from: [{ podSelector: { matchLabels: { tier: "web" } } }], ports: [{ port: "http" }] }] } };
      case 2:
        return { metadata: { namespace, name }, spec: { podSelector: { matchLabels: { tier: "db" } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: `t${i % 3}` } } }, { ipBlock: { cidr: "192.168.0.0/16", except: ["192.168.1.0/24"] } }], ports: [{ port: 5432 }] }] } };
      default:
        return {
          metadata: { namespace, name },
          spec: { podSelector: { matchLabels: { tier: "web" } }, policyTypes: ["Egress"], egress: [{ ports: [{ protocol: "UDP", port: 53 }] }, { to: [{ podSelector: { matchLabels: { tier: "db" } } }], ports: [{ port: 5432 }, { port: 9000, endPort: 9100 }] }] },
        };
    }
  });
}

async function timeNft(node: string, script: string): Promise<number> {
  const t0 = performance.now();
  await commandRunner(node)(["nft", "-f", "-"], script);
  return performance.now() - t0;
}

async function build(net: TestNet): Promise<void> {
  const input = { nodeName: NODE, pods: pods(PODS), namespaces: namespaces(), policies: policies(POLICIES) };
  const buildMs: number[] = [];
  const renderMs: number[] = [];
  let rendered = renderTable("kb-netpol", { ingress: [], egress: [] });
  let isolated = { ingress: 0, egress: 0 };
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const filters = buildNodeFilters(input);
    const t1 = performance.now();
    rendered = renderTable("kb-netpol", filters);
    renderMs.push(performance.now() - t1);
    buildMs.push(t1 - t0);
    isolated = { ingress: filters.ingress.length, egress: filters.egress.length };
  }
  const empty = renderTable("kb-netpol", { ingress: [], egress: [] });
  const writeMs = await timeNft(net.node, rendered.script);
  const rewriteMs = await timeNft(net.node, rendered.script);
  const baselineMs = await timeNft(net.node, empty.script);
  await commandRunner(net.node)(["nft", "delete", "table", "ip", "kb-netpol"]);
  emit({
    metric: "netpol-build",
    pods: PODS,
    localPods: Math.ceil(PODS / 10),
    policies: POLICIES,
    isolatedIngress: isolated.ingress,
    isolatedEgress: isolated.egress,
    rules: rendered.rules,
    scriptKiB: round(Buffer.byteLength(rendered.script) / 1024),
    buildMsP50: round(median(buildMs)),
    renderMsP50: round(median(renderMs)),
    nftWriteMs: round(writeMs),
    nftRewriteMs: round(rewriteMs),
    baselineEmptyTableNftMs: round(baselineMs),
  });
}

async function requestsPerSecond(net: TestNet, from: string, url: string, n: number): Promise<number> {
  const t0 = performance.now();
  const lines = await net.get(from, url, n, 2);
  const ms = performance.now() - t0;
  const failed = lines.filter((l) => l.startsWith("ERROR")).length;
  if (failed > 0) throw new Error(`${failed} of ${n} requests failed: ${lines.find((l) => l.startsWith("ERROR"))}`);
  return (n / ms) * 1000;
}

async function traffic(net: TestNet): Promise<void> {
  const [server, client] = net.pods as [TestNet["pods"][number], TestNet["pods"][number]];
  const url = `http://${server.ip}:${net.httpPort}/cgi-bin/who`;
  const N = 300;
  await requestsPerSecond(net, client.netns, url, 20); // warm up
  const without = await requestsPerSecond(net, client.netns, url, N);
  // The benchmark's pods and policies, with the two test pods as local pods the first policy's namespace isolates and a last policy lets the client in.
  const all = pods(PODS);
  const local: Pod[] = [server, client].map((p, i) => ({
    metadata: { namespace: "ns-0", name: p.name, labels: { app: i === 0 ? "server" : "client", tier: "web" } },
    spec: { nodeName: NODE, containers: [{ name: "c", ports: [{ name: "http", containerPort: net.httpPort }] }] },
    status: { phase: "Running", podIP: p.ip, podIPs: [{ ip: p.ip }] },
  }));
  const allow: NetworkPolicy = { metadata: { namespace: "ns-0", name: "allow-client" }, spec: { podSelector: { matchLabels: { app: "server" } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: "client" } } }], ports: [{ port: "http" }] }] } };
  const filters = buildNodeFilters({ nodeName: NODE, pods: [...all, ...local], namespaces: namespaces(), policies: [...policies(POLICIES), allow] });
  await commandRunner(net.node)(["nft", "-f", "-"], renderTable("kb-netpol", filters).script);
  try {
    const denied = await net.get(net.pods[2]!.netns, url, 1, 1);
    if (denied[0] !== "ERROR timeout") throw new Error(`a pod the policies do not allow got through: ${denied[0]}`);
    const withPolicies = await requestsPerSecond(net, client.netns, url, N);
    emit({ metric: "netpol-traffic", requests: N, withoutPoliciesRps: round(without), withPoliciesRps: round(withPolicies), ratio: round(withPolicies / without, 2) });
  } finally {
    await commandRunner(net.node)(["nft", "delete", "table", "ip", "kb-netpol"]).catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const net = await createTestNet({ id: `np${randomBytes(2).toString("hex")}`, pods: 3 });
  try {
    for (const p of net.pods) await until(`httpd in ${p.name}`, async () => ((await net.get(net.node, `http://${p.ip}:${net.httpPort}/cgi-bin/who`, 1, 1))[0]?.startsWith(p.name) ? true : undefined), 10_000);
    await build(net);
    await traffic(net);
  } finally {
    await net.cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
