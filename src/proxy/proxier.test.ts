// The Proxier against a real API server, programming real iptables/nftables rules inside a
// network namespace (see testnet.ts), with busybox httpd "pods" answering their own name and
// the client address they saw. Both modes run the same checks.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { until } from "../testing/wait.js";
import { createLogger } from "../util/log.js";
import { cleanupProxyRules, Proxier, type ProxyMode } from "./index.js";
import { createTestNet, type TestNet } from "./testnet.js";

const NODE = "node-a";

function skipReason(mode: ProxyMode): string | false {
  if (process.getuid?.() !== 0) return "needs root (network namespaces)";
  const tool = mode === "iptables" ? "iptables-restore" : "nft";
  if (!["/usr/sbin", "/sbin", "/usr/bin"].some((d) => existsSync(`${d}/${tool}`))) return `${tool} is not installed`;
  if (!existsSync("/bin/busybox")) return "needs /bin/busybox";
  return false;
}

function service(name: string, spec: Service["spec"]): Service {
  return { metadata: { name, namespace: "default" }, spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }], ...spec } };
}

function endpoints(net: TestNet, pods: readonly { readonly i: number; readonly node?: string }[]): EndpointSlice["endpoints"] {
  return pods.map(({ i, node }) => ({ addresses: [net.pods[i]!.ip], conditions: { ready: true }, nodeName: node ?? NODE }));
}

function slice(name: string, svc: string, eps: EndpointSlice["endpoints"]): EndpointSlice {
  return {
    metadata: { name, namespace: "default", labels: { "kubernetes.io/service-name": svc } },
    addressType: "IPv4",
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    endpoints: eps,
  };
}

/** "pod2 [::ffff:10.244.0.1]" → ["pod2", "10.244.0.1"] */
function parse(line: string): [string, string] {
  const m = /^(\S+) \S*?(\d+\.\d+\.\d+\.\d+)/.exec(line);
  assert.ok(m, `an answer, got ${JSON.stringify(line)}`);
  return [m[1]!, m[2]!];
}

function names(lines: readonly string[]): Set<string> {
  return new Set(lines.map((l) => parse(l)[0]));
}

for (const mode of ["iptables", "nftables"] as const) {
  describe(`Proxier in ${mode} mode, real rules in network namespaces`, { skip: skipReason(mode), concurrency: false }, () => {
    const id = randomBytes(3).toString("hex");
    const chainPrefix = `KT${id.toUpperCase()}`;
    let server: TestApiServer | undefined;
    let net: TestNet | undefined;
    let client: RestClient;
    let proxier: Proxier | undefined;
    let first: Proxier["lastSync"];
    const slices = () => client.forKind("discovery.k8s.io/v1", "EndpointSlice").namespace("default");

    before(async () => {
      server = await startTestApiServer();
      net = await createTestNet({ id, pods: 3, udp: true });
      client = await createClientFromKubeconfig(server.kubeconfig, { qps: Infinity });
      const n = net;
      for (const p of n.pods) await until(`httpd in ${p.name}`, async () => ((await n.get(n.node, `http://${p.ip}:8080/cgi-bin/who`, 1))[0]?.startsWith(p.name) ? true : undefined), 10_000);

      const services = client.forKind("v1", "Service").namespace("default");
      const all = [{ i: 0 }, { i: 1 }, { i: 2 }];
      await services.create(service("web", { clusterIP: "10.43.100.10" }));
      await slices().create(slice("web-1", "web", endpoints(n, all)));
      await services.create(service("web-np", { type: "NodePort", clusterIP: "10.43.100.11", ports: [{ name: "http", port: 80, targetPort: 8080, nodePort: 30080 }] }));
      await slices().create(slice("web-np-1", "web-np", endpoints(n, all)));
      await services.create(service("sticky", { clusterIP: "10.43.100.12", sessionAffinity: "ClientIP" }));
      await slices().create(slice("sticky-1", "sticky", endpoints(n, all)));
      await services.create(service("empty", { clusterIP: "10.43.100.13" }));
      await services.create(service("local", { type: "NodePort", clusterIP: "10.43.100.14", externalTrafficPolicy: "Local", ports: [{ name: "http", port: 80, targetPort: 8080, nodePort: 30081 }] }));
      await slices().create(slice("local-1", "local", endpoints(n, [{ i: 0 }, { i: 1, node: "node-b" }])));
      await services.create(service("headless", { clusterIP: "None" }));
      await services.create(service("dns", { clusterIP: "10.43.100.20", ports: [{ name: "dns", port: 53, targetPort: 5353, protocol: "UDP" }] }));
      await slices().create({ ...slice("dns-1", "dns", endpoints(n, [{ i: 0 }])), ports: [{ name: "dns", port: 5353, protocol: "UDP" }] });

      proxier = new Proxier({
        client,
        nodeName: NODE,
        mode,
        // iptables: NodePorts on every local address; nftables: only on the listed one.
        nodeIPs: mode === "iptables" ? [] : [n.nodeIP],
        clusterCIDR: n.podCIDR,
        minSyncPeriodMs: 20,
        syncPeriodMs: 1000,
        chainPrefix,
        netns: n.node,
        log: createLogger("silent"),
      });
      await proxier.start();
      first = proxier.lastSync;
    });

    after(async () => {
      await proxier?.stop();
      await net?.cleanup();
      await server?.stop();
    });

    it("the first sync is full and writes the whole ruleset", () => {
      const s = first!;
      assert.equal(s.mode, mode);
      assert.equal(s.full, true);
      assert.ok(s.rules > 20 && s.rules === s.totalRules + (mode === "iptables" ? 8 : 0), JSON.stringify(s));
    });

    it("a cluster IP reaches every endpoint, from a pod, from the node and from off the cluster (masqueraded)", async () => {
      const n = net!;
      const fromPod = await n.get(n.pods[2]!.netns, "http://10.43.100.10/cgi-bin/who", 30);
      assert.deepEqual(names(fromPod), new Set(["pod1", "pod2", "pod3"]), fromPod.join("\n"));
      for (const l of fromPod) {
        const [who, from] = parse(l);
        // Pod traffic keeps its source, except a pod reaching itself (hairpin), which is masqueraded.
        assert.equal(from, who === "pod3" ? n.nodePodSideIP : n.pods[2]!.ip, l);
      }
      const fromNode = await n.get(n.node, "http://10.43.100.10/cgi-bin/who", 30);
      assert.deepEqual(names(fromNode), new Set(["pod1", "pod2", "pod3"]));
      const fromExt = await n.get(n.ext, "http://10.43.100.10/cgi-bin/who", 30);
      assert.deepEqual(names(fromExt), new Set(["pod1", "pod2", "pod3"]));
      for (const l of fromExt) assert.equal(parse(l)[1], n.nodePodSideIP, `off-cluster clients are masqueraded: ${l}`);
    });

    it("a NodePort answers on the node's address, masqueraded", async () => {
      const n = net!;
      const lines = await n.get(n.ext, `http://${n.nodeIP}:30080/cgi-bin/who`, 30);
      assert.deepEqual(names(lines), new Set(["pod1", "pod2", "pod3"]), lines.join("\n"));
      for (const l of lines) assert.equal(parse(l)[1], n.nodePodSideIP, l);
    });

    it("sessionAffinity ClientIP pins each client to one endpoint", async () => {
      const n = net!;
      for (const ns of [n.ext, n.pods[0]!.netns]) {
        const lines = await n.get(ns, "http://10.43.100.12/cgi-bin/who", 15);
        assert.equal(names(lines).size, 1, lines.join("\n"));
      }
    });

    it("externalTrafficPolicy Local: the NodePort reaches only local endpoints and keeps the client's address; pods still reach all", async () => {
      const n = net!;
      const lines = await n.get(n.ext, `http://${n.nodeIP}:30081/cgi-bin/who`, 20);
      assert.deepEqual(names(lines), new Set(["pod1"]), lines.join("\n"));
      for (const l of lines) assert.equal(parse(l)[1], n.extIP, l);
      const fromPod = await n.get(n.pods[2]!.netns, `http://${n.nodeIP}:30081/cgi-bin/who`, 30);
      assert.deepEqual(names(fromPod), new Set(["pod1", "pod2"]), fromPod.join("\n"));
    });

    it("a service without endpoints rejects at once; endpoints that come and go switch it on and off", async () => {
      const n = net!;
      const t0 = Date.now();
      const [refused] = await n.get(n.pods[0]!.netns, "http://10.43.100.13/cgi-bin/who", 1, 5);
      assert.match(refused ?? "", /refused/i);
      assert.ok(Date.now() - t0 < 3000, "rejected, not dropped");
      await slices().create(slice("empty-1", "empty", endpoints(n, [{ i: 1 }])));
      await until("the service answers", async () => ((await n.get(n.pods[0]!.netns, "http://10.43.100.13/cgi-bin/who", 1))[0]?.startsWith("pod2") ? true : undefined), 5000);
      await slices().delete("empty-1");
      await until("the service rejects again", async () => (/refused/i.test((await n.get(n.pods[0]!.netns, "http://10.43.100.13/cgi-bin/who", 1))[0] ?? "") ? true : undefined), 5000);
      // Its service and endpoint chains are gone (nftables deletes them a second after flushing them).
      const leftover = mode === "iptables" ? /default\/empty:http ->/ : /chain \S*default\/empty\//;
      await until("no chain of the service is left", async () => {
        const dump = mode === "iptables" ? (await n.exec(n.node, ["iptables-save", "-t", "nat"])).stdout : (await n.exec(n.node, ["nft", "list", "table", "ip", chainPrefix.toLowerCase()])).stdout;
        return leftover.test(dump) ? undefined : true;
      }, 5000);
    });

    it("scaling the endpoints rewrites only that service's rules, within a sync", async () => {
      const n = net!;
      const before = proxier!.syncs;
      await slices().patch("web-1", "merge", { endpoints: endpoints(n, [{ i: 1 }]) });
      await until("only pod2 answers", async () => {
        const lines = await n.get(n.ext, "http://10.43.100.10/cgi-bin/who", 10);
        return lines.every((l) => l.startsWith("pod2 ")) ? true : undefined;
      }, 5000);
      assert.ok(proxier!.syncs > before);
      const s = proxier!.lastSync!;
      assert.equal(s.full, false);
      assert.ok(s.rules > 0 && s.rules < s.totalRules / 3, `a partial write: ${JSON.stringify(s)}`);
      await slices().patch("web-1", "merge", { endpoints: endpoints(n, [{ i: 0 }, { i: 1 }, { i: 2 }]) });
      await until("all three answer again", async () => (names(await n.get(n.ext, "http://10.43.100.10/cgi-bin/who", 30)).size === 3 ? true : undefined), 5000);
    });

    it("UDP: a client's flow moves to the new endpoint when its endpoint goes (stale conntrack entries are cleared)", { skip: existsSync("/usr/sbin/conntrack") ? false : "needs the conntrack tool" }, async () => {
      const n = net!;
      const client = n.pods[2]!.netns;
      await until("pod1 answers over UDP", async () => ((await n.udp(client, "10.43.100.20", 53, 40053)) === "pod1" ? true : undefined), 10_000);
      await slices().patch("dns-1", "merge", { endpoints: endpoints(n, [{ i: 1 }]) });
      // Same source port: the same conntrack tuple as before. pod1 still runs, so without the
      // cleanup the old entry would keep sending this client to it.
      await until("pod2 answers the same flow", async () => ((await n.udp(client, "10.43.100.20", 53, 40053)) === "pod2" ? true : undefined), 10_000);
    });

    it("a sync with nothing changed writes nothing", async () => {
      // The syncs right after the previous test may still delete chains it flushed (nftables
      // deletes them a second later, so a sync that writes nothing can come before the one that
      // deletes them, more so on a loaded machine); after that, periodic syncs write nothing:
      // two in a row must, within the deadline.
      let counted = proxier!.syncs;
      let quiet = 0;
      const s = await until(
        "two periodic syncs in a row that write nothing",
        () => {
          if (proxier!.syncs === counted) return undefined;
          // Two syncs between polls: the first one's result is unknown, so the count restarts.
          const one = proxier!.syncs === counted + 1;
          counted = proxier!.syncs;
          quiet = proxier!.lastSync?.wrote === false ? (one ? quiet + 1 : 1) : 0;
          return quiet >= 2 ? proxier!.lastSync : undefined;
        },
        15_000,
      );
      assert.equal(s.rules, 0);
    });

    it("cleanup removes every chain, rule and table the proxier made", async () => {
      const n = net!;
      const dump = async (): Promise<string> => (mode === "iptables" ? (await n.exec(n.node, ["iptables-save"])).stdout : (await n.exec(n.node, ["nft", "list", "ruleset"])).stdout);
      const table = chainPrefix.toLowerCase();
      const before = await dump();
      if (mode === "iptables") {
        assert.match(before, new RegExp(`-A PREROUTING .*-j ${chainPrefix}-SERVICES`));
        assert.match(before, new RegExp(`:${chainPrefix}-SEP-`));
      } else {
        assert.match(before, new RegExp(`table ip ${table} `));
      }
      await proxier!.stop();
      await cleanupProxyRules({ mode, chainPrefix, netns: n.node });
      const afterDump = await dump();
      assert.ok(!afterDump.includes(chainPrefix), afterDump);
      assert.ok(!afterDump.includes(`table ip ${table}`), afterDump);
      // Idempotent: nothing left to remove is no error.
      await cleanupProxyRules({ mode, chainPrefix, netns: n.node });
    });
  });
}
