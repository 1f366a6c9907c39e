// Two API servers on one etcd allocating from one small range at the same time: every address
// goes to exactly one service, the rest are told the range is full, and both serve the same
// `kubernetes` Service with both servers' leases behind it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiServer, compileApiServerOptions } from "../server.js";
import { builtinResources } from "../resources/index.js";
import { createLogger } from "../../util/log.js";
import { adminClient, type RawClient } from "../../testing/client.js";
import { startEtcd, type RunningEtcd } from "../../testing/etcd.js";

void describe("allocation with two API servers on one etcd", () => {
  let etcd: RunningEtcd;
  const dirs: string[] = [];
  const servers: ApiServer[] = [];
  const clients: RawClient[] = [];

  before(async () => {
    etcd = await startEtcd();
    const url = etcd.endpoint.replace(/^http:/, "etcd:");
    // Distinct advertised addresses, as two machines would have.
    for (const addr of ["192.0.2.101", "192.0.2.102"]) {
      const dataDir = mkdtempSync(join(tmpdir(), "k8ts-alloc-multi-"));
      dirs.push(dataDir);
      const s = new ApiServer(compileApiServerOptions({ dataDir, storeUrl: url, port: 0, resources: builtinResources(), log: createLogger("silent"), serviceClusterIPRange: "10.0.0.0/27", serviceNodePortRange: "30000-30019", advertiseAddress: addr }));
      servers.push(s);
    }
    // Started together: both race to create the kubernetes Service.
    await Promise.all(servers.map((s) => s.start()));
    for (let i = 0; i < servers.length; i++) clients.push(adminClient(servers[i]!.url, dirs[i]!));
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.stop();
    await etcd?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  void it("gives each of 29 free addresses and 20 node ports to exactly one of 40 concurrent creates", async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        clients[i % 2]!.request("POST", "/api/v1/namespaces/default/services", JSON.stringify({ metadata: { name: `s${i}` }, spec: { type: i < 20 ? "NodePort" : "ClusterIP", ports: [{ port: 80 }] } })),
      ),
    );
    const created = results.filter((r) => r.status === 201).map((r) => JSON.parse(r.body) as { spec: { clusterIP: string; ports: { nodePort?: number }[] } });
    const refused = results.filter((r) => r.status !== 201).map((r) => JSON.parse(r.body) as { code: number; message: string });
    // 30 addresses in 10.0.0.0/27; 10.0.0.1 is the kubernetes Service's.
    assert.equal(created.length, 29, JSON.stringify(refused.slice(0, 3)));
    assert.equal(new Set(created.map((s) => s.spec.clusterIP)).size, 29, "no address twice");
    assert.ok(!created.some((s) => s.spec.clusterIP === "10.0.0.1"));
    const nodePorts = created.flatMap((s) => s.spec.ports.map((p) => p.nodePort).filter((p): p is number => p !== undefined));
    assert.equal(new Set(nodePorts).size, nodePorts.length, "no node port twice");
    for (const r of refused) {
      assert.equal(r.code, 422);
      assert.match(r.message, /failed to allocate a (serviceIP|nodePort): range is full/);
    }
  });

  void it("serves one kubernetes Service with both servers' addresses behind it", async () => {
    const svc = JSON.parse((await clients[0]!.request("GET", "/api/v1/namespaces/default/services/kubernetes")).body) as { spec: { clusterIP: string } };
    assert.equal(svc.spec.clusterIP, "10.0.0.1");
    // Each server counts the leases it sees; the second to reconcile sees both.
    for (const s of servers) await s.services!.reconcileKubernetesService();
    const ep = JSON.parse((await clients[1]!.request("GET", "/api/v1/namespaces/default/endpoints/kubernetes")).body) as { subsets: { addresses: { ip: string }[] }[] };
    assert.deepEqual(ep.subsets[0]!.addresses.map((a) => a.ip), ["192.0.2.101", "192.0.2.102"]);
    // A server that stops takes its address out.
    const second = servers.pop()!;
    await second.stop();
    const after = JSON.parse((await clients[0]!.request("GET", "/api/v1/namespaces/default/endpoints/kubernetes")).body) as { subsets: { addresses: { ip: string }[] }[] };
    assert.deepEqual(after.subsets[0]!.addresses.map((a) => a.ip), ["192.0.2.101"]);
  });
});
