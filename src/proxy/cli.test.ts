// `k8ts proxy` through its action (the command definition only maps flags onto it).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { proxyOptionsFromFlags, runProxy, type ProxyFlags } from "../cli/proxy-action.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { until } from "../testing/wait.js";
import { createLogger } from "../util/log.js";
import { compileProxierOptions, Proxier, ProxyError, type CompiledProxierOptions } from "./index.js";
import { createTestNet, type TestNet } from "./testnet.js";

const defaults: ProxyFlags = { proxyMode: "iptables", clusterCidr: "10.42.0.0/16", nodeIp: "", syncPeriod: "30s", minSyncPeriod: "100ms", masqueradeBit: "14", logLevel: "silent" };

/** What the Proxier runs with, given these flags. */
async function compiled(f: ProxyFlags, log = createLogger("silent")): Promise<CompiledProxierOptions> {
  return compileProxierOptions(await proxyOptionsFromFlags(f, log));
}

describe("k8ts proxy flags", () => {
  let server: TestApiServer | undefined;
  before(async () => {
    server = await startTestApiServer();
  });
  after(async () => {
    await server?.stop();
  });

  it("compile into Proxier options, with upstream's defaults", async () => {
    const o = await compiled({ ...defaults, kubeconfig: server!.kubeconfig, nodeName: "n1", nodeIp: "192.0.2.1, 192.0.2.5" });
    assert.equal(o.mode, "iptables");
    assert.equal(o.nodeName, "n1");
    assert.deepEqual(o.nodeIPs, ["192.0.2.1", "192.0.2.5"]);
    assert.equal(o.clusterCIDR, "10.42.0.0/16");
    assert.equal(o.syncPeriodMs, 30_000);
    assert.equal(o.minSyncPeriodMs, 100);
    assert.equal(o.masqueradeMark, "0x4000");
    assert.equal(o.chainPrefix, "KUBE");
    assert.equal(o.nftTable, "k8ts");
    assert.equal(o.sysctls, true);
    const none = await compiled({ ...defaults, kubeconfig: server!.kubeconfig, clusterCidr: "" });
    assert.equal(none.clusterCIDR, undefined);
    assert.ok(none.nodeName.length > 0, "defaults to the host name");
  });

  it("reach the Proxier as given (a masquerade bit other than the default too)", async () => {
    const p = new Proxier(await proxyOptionsFromFlags({ ...defaults, kubeconfig: server!.kubeconfig, masqueradeBit: "15", nodeIp: "192.0.2.1" }, createLogger("silent")));
    assert.equal(p.options.masqueradeMark, "0x8000");
    assert.deepEqual(p.options.nodeIPs, ["192.0.2.1"]);
  });

  it("reject bad values with the flag's name", async () => {
    const log = createLogger("silent");
    const k = server!.kubeconfig;
    await assert.rejects(proxyOptionsFromFlags({ ...defaults, kubeconfig: k, proxyMode: "ipvs" }, log), /--proxy-mode/);
    await assert.rejects(proxyOptionsFromFlags({ ...defaults, kubeconfig: k, syncPeriod: "soon" }, log), /--sync-period/);
    await assert.rejects(compiled({ ...defaults, kubeconfig: k, clusterCidr: "10.42.0.0" }, log), /cluster CIDR/);
    await assert.rejects(compiled({ ...defaults, kubeconfig: k, nodeIp: "node-1" }, log), /node IP/);
    await assert.rejects(compiled({ ...defaults, kubeconfig: k, clusterCidr: "10.42.0.0/33" }, log), /cluster CIDR/);
    await assert.rejects(compiled({ ...defaults, kubeconfig: k, nodeIp: "192.0.2.256" }, log), /node IP/);
    await assert.rejects(compiled({ ...defaults, kubeconfig: k, masqueradeBit: "40" }, log), /masquerade bit/);
    await assert.rejects(proxyOptionsFromFlags({ ...defaults }, log), /--kubeconfig/);
  });

  it("a proxier whose rules cannot be written fails to start with the tool's error, and stops cleanly", async () => {
    const o = await proxyOptionsFromFlags({ ...defaults, kubeconfig: server!.kubeconfig, netns: `kt-missing-${randomBytes(3).toString("hex")}` }, createLogger("silent"));
    const p = new Proxier(o);
    await assert.rejects(p.start(), (err: unknown) => err instanceof ProxyError && err.code === "NotStarted" && /first iptables sync failed: .*iptables-save/.test(err.message));
    assert.equal(p.lastSync, undefined);
  });
});

describe("k8ts proxy in a network namespace", { skip: process.getuid?.() !== 0 ? "needs root" : false }, () => {
  const id = randomBytes(3).toString("hex");
  const chainPrefix = `KT${id.toUpperCase()}`;
  let server: TestApiServer | undefined;
  let net: TestNet | undefined;
  const ac = new AbortController();
  let running: Promise<void> | undefined;

  before(async () => {
    server = await startTestApiServer();
    net = await createTestNet({ id, pods: 0, httpd: false });
  });
  after(async () => {
    ac.abort();
    await running?.catch(() => undefined);
    await net?.cleanup();
    await server?.stop();
  });

  it("prints one ready line, programs the rules, and --cleanup removes them", async () => {
    const n = net!;
    const lines: string[] = [];
    running = runProxy({ ...defaults, kubeconfig: server!.kubeconfig, nodeName: "n1", chainPrefix, netns: n.node }, { signal: ac.signal, out: (l) => lines.push(l) });
    await until("the ready line", () => (lines.length > 0 ? true : undefined), 20_000);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^k8ts proxy started \(iptables mode, node n1; \d+ service ports, \d+ rules in \d+ ms\)$/);
    const save = (await n.exec(n.node, ["iptables-save"])).stdout;
    assert.match(save, new RegExp(`-A PREROUTING .*-j ${chainPrefix}-SERVICES`));
    ac.abort();
    await running;

    const cleanupLines: string[] = [];
    await runProxy({ ...defaults, cleanup: true, chainPrefix, netns: n.node }, { out: (l) => cleanupLines.push(l) });
    assert.deepEqual(cleanupLines, ["k8ts proxy: rules removed"]);
    assert.ok(!(await n.exec(n.node, ["iptables-save"])).stdout.includes(chainPrefix));
  });
});
