import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CNI_CONFIG_FILE, CniConfigError, compileCniOptions, renderCniConfig, writeCniConfig } from "./cni.js";

interface Plugin {
  type: string;
  bridge?: string;
  isGateway?: boolean;
  ipMasq?: boolean;
  snat?: boolean;
  capabilities?: Record<string, boolean>;
  ipam?: { type: string; dataDir: string; ranges: { subnet: string }[][]; routes: { dst: string }[] };
}

describe("CNI config", () => {
  it("bridge with gateway and masquerade, host-local on the pod CIDR, portmap with snat", () => {
    const conf = renderCniConfig(compileCniOptions({ dataDir: "/var/lib/k8ts", podCIDRs: ["10.42.0.0/24"] })) as { cniVersion: string; name: string; plugins: Plugin[] };
    assert.equal(conf.name, "k8ts");
    assert.equal(conf.cniVersion, "1.0.0");
    assert.deepEqual(conf.plugins.map((p) => p.type), ["bridge", "portmap"]);
    const [bridge, portmap] = conf.plugins;
    assert.equal(bridge?.bridge, "cni0");
    assert.equal(bridge?.isGateway, true);
    assert.equal(bridge?.ipMasq, false, "one masquerade rule per node (masquerade.ts), not a chain per pod");
    assert.deepEqual(bridge?.ipam, { type: "host-local", dataDir: "/var/lib/k8ts/cni/networks", ranges: [[{ subnet: "10.42.0.0/24" }]], routes: [{ dst: "0.0.0.0/0" }] });
    assert.equal(portmap?.snat, true);
    assert.deepEqual(portmap?.capabilities, { portMappings: true });
  });

  it("dual stack: one range and one default route per family", () => {
    const conf = renderCniConfig(compileCniOptions({ dataDir: "/d", podCIDRs: ["10.42.0.0/24", "fd00:42::/64"], bridge: "br-k8ts", networkName: "n" })) as { plugins: Plugin[] };
    assert.deepEqual(conf.plugins[0]?.ipam?.ranges, [[{ subnet: "10.42.0.0/24" }], [{ subnet: "fd00:42::/64" }]]);
    assert.deepEqual(conf.plugins[0]?.ipam?.routes, [{ dst: "0.0.0.0/0" }, { dst: "::/0" }]);
    assert.equal(conf.plugins[0]?.bridge, "br-k8ts");
  });

  it("refuses CIDRs and bridge names the plugins would reject", () => {
    const bad = (podCIDRs: string[], bridge?: string): void =>
      assert.throws(() => compileCniOptions({ dataDir: "/d", podCIDRs, ...(bridge ? { bridge } : {}) }), (e: unknown) => e instanceof CniConfigError);
    bad([]);
    bad(["10.42.0.0"]);
    bad(["10.42.0.0/31"]);
    bad(["300.1.1.0/24"]);
    bad(["10.42.0.0/24", "10.43.0.0/24"]);
    bad(["10.42.0.0/24"], "a-bridge-name-too-long");
    bad(["10.42.0.0/24"], "br 0");
  });

  it("writes the conflist into <data-dir>/cni/net.d atomically", async () => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-cni-"));
    try {
      const path = await writeCniConfig({ dataDir: dir, podCIDRs: ["10.42.3.0/24"] });
      assert.equal(path, join(dir, "cni", "net.d", CNI_CONFIG_FILE));
      assert.deepEqual(readdirSync(join(dir, "cni", "net.d")), [CNI_CONFIG_FILE]);
      assert.equal(statSync(path).mode & 0o777, 0o644);
      const conf = JSON.parse(readFileSync(path, "utf8")) as { plugins: Plugin[] };
      assert.equal(conf.plugins[0]?.ipam?.ranges[0]?.[0]?.subnet, "10.42.3.0/24");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
