import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Command } from "commander";
import type { DnsCommandFlags } from "../cli/dns-action.js";
import { registerDnsCommand } from "../cli/dns.js";
import { RestClient } from "../client/rest.js";
import { createLogger } from "../util/log.js";
import { DnsError } from "./errors.js";
import { parseUpstream, resolvConfNameservers } from "./forward.js";
import { DEFAULT_DNS_FLAGS, dnsFlagsFromArgs, dnsOptionsFromFlags, parseDnsArgv, parseListenAddress } from "./run.js";
import { compileDnsServerOptions, DnsServer } from "./server.js";
import { freePort } from "../testing/net.js";
import { until } from "../testing/wait.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const invalid = (e: unknown): boolean => e instanceof DnsError && e.code === "InvalidOptions";

void describe("DNS flags and options", () => {
  void it("reads listen addresses and upstreams in their usual spellings", () => {
    assert.deepEqual(parseListenAddress("0.0.0.0:53"), { address: "0.0.0.0", port: 53 });
    assert.deepEqual(parseListenAddress(":5353"), { address: "0.0.0.0", port: 5353 });
    assert.deepEqual(parseListenAddress("[::]:53"), { address: "::", port: 53 });
    assert.throws(() => parseListenAddress("53"), invalid);
    assert.equal(parseUpstream("10.0.0.2").label, "10.0.0.2:53");
    assert.equal(parseUpstream("10.0.0.2:5353").port, 5353);
    assert.equal(parseUpstream("[fd00::1]:53").label, "[fd00::1]:53");
    assert.equal(parseUpstream("fd00::1").address, "fd00::1");
    assert.throws(() => parseUpstream("dns.google"), invalid);
    assert.throws(() => parseUpstream("10.0.0.2:70000"), invalid);
  });

  void it("takes upstreams from resolv.conf, and never itself", () => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-dns-run-"));
    try {
      const conf = join(dir, "resolv.conf");
      writeFileSync(conf, "# comment\nsearch example.org\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nnameserver 127.0.0.1\noptions ndots:2\n");
      assert.deepEqual(resolvConfNameservers(conf), ["192.0.2.53", "127.0.0.1"]);
      assert.deepEqual(resolvConfNameservers(join(dir, "absent")), []);
      const client = new RestClient({ config: { server: "https://127.0.0.1:1", insecureSkipTLSVerify: false, namespace: "default" } });
      try {
        const o = compileDnsServerOptions({ client, log: createLogger("silent"), listen: [{ address: "0.0.0.0", port: 53 }], resolvConf: conf });
        assert.deepEqual(o.upstreams.map((u) => u.label), ["192.0.2.53:53"]);
        assert.equal(o.clusterDomain, "cluster.local");
        assert.equal(o.ttl, 5);
        assert.throws(() => compileDnsServerOptions({ client, log: createLogger("silent"), listen: [] }), invalid);
        assert.throws(() => compileDnsServerOptions({ client, log: createLogger("silent"), listen: [{ address: "0.0.0.0", port: 53 }], clusterDomain: "bad_domain" }), invalid);
        assert.throws(() => compileDnsServerOptions({ client, log: createLogger("silent"), listen: [{ address: "localhost", port: 53 }] }), invalid);
      } finally {
        client.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it("parses the standalone program's argv with CoreDNS's ports as defaults", () => {
    let printed = "";
    assert.equal(parseDnsArgv(["--help"], (s) => (printed += s)), undefined);
    assert.match(printed, /--kubeconfig <file>/);
    const f = parseDnsArgv(["--listen", "127.0.0.1:5353", "--listen", "[::1]:5353", "--upstream", "10.0.0.2", "--ttl", "30", "--metrics-port", "0"], () => undefined);
    assert.ok(f);
    assert.deepEqual(f.listen, ["127.0.0.1:5353", "[::1]:5353"]);
    const o = dnsOptionsFromFlags(f);
    assert.deepEqual(o.http?.map((h) => h.port), [8080, 8181]);
    assert.deepEqual(o.upstreams, ["10.0.0.2"]);
    assert.equal(o.ttl, 30);
    assert.throws(() => parseDnsArgv(["--ttl", "soon"], () => undefined), invalid);
    assert.throws(() => parseDnsArgv(["extra"], () => undefined), invalid);
    assert.deepEqual(dnsOptionsFromFlags(DEFAULT_DNS_FLAGS).listen, [{ address: "0.0.0.0", port: 53 }]);
  });

  void it("k8ts dns: commander's flags become the same options", async () => {
    let got: DnsCommandFlags | undefined;
    const program = new Command("k8ts").exitOverride();
    registerDnsCommand(program);
    const dns = program.commands.find((c) => c.name() === "dns")!;
    dns.action((flags: DnsCommandFlags) => {
      got = flags;
    });
    const args = ["--kubeconfig", "/tmp/k", "--listen", "127.0.0.1:53", "--upstream", "10.0.0.2", "--upstream", "10.0.0.3", "--health-port", "0"];
    await program.parseAsync(["node", "k8ts", "dns", ...args]);
    assert.ok(got);
    const flags = dnsFlagsFromArgs(got);
    assert.deepEqual(flags, parseDnsArgv(args, () => undefined), "k8ts dns and the standalone program read the same argv alike");
    assert.equal(flags.kubeconfig, "/tmp/k");
    assert.deepEqual(flags.upstreams, ["10.0.0.2", "10.0.0.3"]);
    assert.equal(flags.clusterDomain, "cluster.local");
    assert.deepEqual(dnsOptionsFromFlags(flags).http?.map((h) => h.port), [8181, 9153]);
    assert.throws(() => dnsFlagsFromArgs({ ...got!, ttl: "x" }), invalid);
  });

  void it("start waits for the API server and gives up when told to, closing what it opened", async () => {
    const dead = await freePort();
    const client = new RestClient({ config: { server: `https://127.0.0.1:${dead}`, insecureSkipTLSVerify: true, namespace: "default" }, maxRetries: 0 });
    const http = await freePort();
    const server = new DnsServer({ client, log: createLogger("silent"), listen: [{ address: "127.0.0.1", port: 0 }], upstreams: [], http: [{ address: "127.0.0.1", port: http }] });
    try {
      const started = server.start(AbortSignal.timeout(500));
      // /health answers while the caches fill; /ready does not
      const health = await until("/health", async () => (await fetch(`http://127.0.0.1:${http}/health`)).status);
      const ready = await fetch(`http://127.0.0.1:${http}/ready`);
      assert.equal(health, 200);
      assert.equal(ready.status, 503);
      await assert.rejects(started, (e: unknown) => e instanceof DnsError && e.code === "Stopped");
      assert.equal(server.ports.length, 0);
      await assert.rejects(fetch(`http://127.0.0.1:${http}/health`));
    } finally {
      await server.stop();
      client.close();
    }
  });
});
