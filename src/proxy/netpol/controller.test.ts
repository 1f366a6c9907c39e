// The NetworkPolicyController against a real API server, programming its nftables table inside
// the node namespace of a test network (../testnet.ts): real packets between "pods" (network
// namespaces running busybox httpd), an off-cluster client and the node itself.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { NetworkPolicy, NetworkPolicySpec } from "kubernetes-types/networking/v1.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { until } from "../../testing/wait.js";
import { createLogger } from "../../util/log.js";
import { cleanupProxyRules, NetworkPolicyController, netpolTableFor } from "../index.js";
import { createTestNet, type TestNet, type TestPod } from "../testnet.js";
import { commandRunner } from "../exec.js";

const NODE = "node-a";

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return "needs root (network namespaces)";
  if (!["/usr/sbin", "/sbin", "/usr/bin"].some((d) => existsSync(`${d}/nft`))) return "nft is not installed";
  if (!existsSync("/bin/busybox")) return "needs /bin/busybox";
  return false;
}

describe("NetworkPolicyController: real nftables rules in network namespaces", { skip: skipReason(), concurrency: false }, () => {
  const id = randomBytes(3).toString("hex");
  const chainPrefix = `KT${id.toUpperCase()}`;
  const table = netpolTableFor(chainPrefix.toLowerCase());
  let server: TestApiServer | undefined;
  let net: TestNet | undefined;
  let client: RestClient;
  let controller: NetworkPolicyController | undefined;
  // pod1 web (default), pod2 client (default), pod3 other (default), pod4 in namespace "team-x"
  let web: TestPod, clientPod: TestPod, other: TestPod, remote: TestPod;

  const policies = (ns = "default") => client.forKind("networking.k8s.io/v1", "NetworkPolicy").namespace(ns);
  const pods = (ns: string) => client.forKind("v1", "Pod").namespace(ns);

  async function runPod(ns: string, p: TestPod, labels: Record<string, string>): Promise<void> {
    const created = await pods(ns).create({
      metadata: { name: p.name, namespace: ns, labels },
      spec: { nodeName: NODE, containers: [{ name: "web", image: "busybox", ports: [{ name: "http", containerPort: 8080 }] }] },
    } satisfies Pod);
    await pods(ns).updateStatus({ ...created, status: { phase: "Running", podIP: p.ip, podIPs: [{ ip: p.ip }] } });
  }

  /** One GET from `from` to `to`'s httpd: the name of who answered, or "timeout"/"refused". */
  async function reach(from: string, toIP: string): Promise<string> {
    const line = (await net!.get(from, `http://${toIP}:8080/cgi-bin/who`, 1, 1))[0] ?? "";
    if (line === "ERROR timeout") return "timeout";
    if (line.startsWith("ERROR")) return "refused";
    return line.split(" ")[0]!;
  }

  /** Waits until every [from, to, outcome] holds (the controller syncs a moment after the API write). */
  async function expectReach(cases: readonly (readonly [string, TestPod | { ip: string; name: string }, "ok" | "timeout"])[]): Promise<void> {
    for (const [from, to, want] of cases) {
      await until(`${from} → ${to.name}: ${want}`, async () => {
        const got = await reach(from, to.ip);
        return (want === "ok" ? got === to.name : got === "timeout") ? true : undefined;
      }, 15_000);
    }
  }

  async function apply(name: string, spec: NetworkPolicySpec, ns = "default"): Promise<void> {
    await policies(ns).create({ metadata: { name, namespace: ns }, spec } satisfies NetworkPolicy);
  }

  before(async () => {
    server = await startTestApiServer();
    net = await createTestNet({ id, pods: 4, udp: true, nodeHttpd: true });
    client = await createClientFromKubeconfig(server.kubeconfig, { qps: Infinity });
    [web, clientPod, other, remote] = net.pods as [TestPod, TestPod, TestPod, TestPod];
    const n = net;
    for (const p of n.pods) await until(`httpd in ${p.name}`, async () => ((await n.get(n.node, `http://${p.ip}:8080/cgi-bin/who`, 1))[0]?.startsWith(p.name) ? true : undefined), 10_000);
    await client.forKind("v1", "Namespace").create({ metadata: { name: "team-x", labels: { team: "x" } } });
    await runPod("default", web, { app: "web" });
    await runPod("default", clientPod, { app: "client" });
    await runPod("default", other, { app: "other" });
    await runPod("team-x", remote, { app: "client" });
    controller = new NetworkPolicyController({ client, nodeName: NODE, table, netns: n.node, minSyncPeriodMs: 20, syncPeriodMs: 5_000, log: createLogger("silent") });
    await controller.start();
  });

  after(async () => {
    await controller?.stop();
    if (net) await cleanupProxyRules({ mode: "nftables", chainPrefix, netns: net.node });
    await net?.cleanup();
    await server?.stop();
  });

  it("without policies everything flows, and the table is there, empty", async () => {
    await expectReach([
      [clientPod.netns, web, "ok"],
      [remote.netns, web, "ok"],
      [net!.ext, web, "ok"],
    ]);
    assert.deepEqual(controller!.lastSync && { i: controller!.lastSync.ingressPods, e: controller!.lastSync.egressPods }, { i: 0, e: 0 });
    const { stdout } = await commandRunner(net!.node)(["nft", "list", "table", "ip", table]);
    assert.match(stdout, /hook forward/);
  });

  it("deny-all ingress isolates the selected pods only; their own connections out still get answers", async () => {
    await apply("web-deny", { podSelector: { matchLabels: { app: "web" } } });
    await expectReach([
      [clientPod.netns, web, "timeout"],
      [net!.ext, web, "timeout"],
      [web.netns, clientPod, "ok"],
      [other.netns, clientPod, "ok"],
    ]);
    // The node's own traffic (the kubelet's probes) leaves through output and is never filtered.
    assert.equal(await reach(net!.node, web.ip), web.name);
  });

  it("ingress from pods by label, from namespaces by label, from an ipBlock; rules of several policies add up", async () => {
    await apply("web-from-clients", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: "client" } } }], ports: [{ port: "http" }] }] });
    await expectReach([
      [clientPod.netns, web, "ok"],
      [other.netns, web, "timeout"],
      [remote.netns, web, "timeout"],
    ]);
    await apply("web-from-team-x", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "x" } } }] }] });
    await apply("web-from-ext", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from: [{ ipBlock: { cidr: "192.0.2.0/24", except: ["192.0.2.1/32"] } }], ports: [{ port: 8000, endPort: 8100 }] }] });
    await expectReach([
      [remote.netns, web, "ok"],
      [net!.ext, web, "ok"],
      [other.netns, web, "timeout"],
    ]);
  });

  it("a pod relabelled into a rule's peers is let in; a port the rule does not list stays closed", async () => {
    const p = await pods("default").get(other.name);
    await pods("default").update({ ...p, metadata: { ...p.metadata, labels: { app: "client" } } });
    await expectReach([[other.netns, web, "ok"]]);
    await policies().delete("web-from-clients");
    await policies().delete("web-from-team-x");
    await apply("web-wrong-port", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 9090 }, { protocol: "UDP", port: 8080 }] }] });
    await expectReach([[other.netns, web, "timeout"]]);
    assert.equal(controller!.lastSync?.ingressPods, 1);
  });

  it("egress: only to the listed pods and ports; the node's own addresses count as destinations too", async () => {
    for (const name of ["web-deny", "web-from-ext", "web-wrong-port"]) await policies().delete(name);
    await expectReach([[other.netns, web, "ok"]]);
    await apply("client-out", { podSelector: { matchLabels: { app: "client" } }, policyTypes: ["Egress"], egress: [{ to: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: "http" }] }, { ports: [{ protocol: "UDP", port: 5353 }] }] });
    await expectReach([
      [clientPod.netns, web, "ok"],
      [clientPod.netns, other, "timeout"],
      [clientPod.netns, { name: "node", ip: net!.nodeIP }, "timeout"],
      // pod3, relabelled a client above, is selected too.
      [other.netns, web, "ok"],
      [other.netns, clientPod, "timeout"],
      [web.netns, clientPod, "ok"],
    ]);
    assert.equal(await net!.udp(clientPod.netns, other.ip, 5353, 40000), other.name, "UDP 5353 is allowed anywhere");
    assert.equal(await net!.udp(web.netns, clientPod.ip, 5353, 40001), clientPod.name, "ingress to the client is not isolated");
  });

  it("deleting the policies opens everything again", async () => {
    await policies().delete("client-out");
    await expectReach([
      [clientPod.netns, other, "ok"],
      [clientPod.netns, { name: "node", ip: net!.nodeIP }, "ok"],
      [net!.ext, web, "ok"],
    ]);
    assert.deepEqual({ i: controller!.lastSync?.ingressPods, e: controller!.lastSync?.egressPods }, { i: 0, e: 0 });
  });
});
