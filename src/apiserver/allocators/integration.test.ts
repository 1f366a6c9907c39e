// Service allocation through a real API server and the official kubectl; and a server
// restarted on the same SQLite data dir, which keeps what was allocated and repairs keys that
// leaked or went missing while it was down.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiServer, compileApiServerOptions } from "../server.js";
import { builtinResources } from "../resources/index.js";
import { openStore, DEFAULT_STORE_URL } from "../../storage/index.js";
import { createLogger } from "../../util/log.js";
import { adminClient } from "../../testing/client.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { IP_ADDRESS_PREFIX, NODE_PORT_PREFIX } from "./allocator.js";
import { MASTER_LEASES_PREFIX } from "./kubernetes.js";
import { rfc3339 } from "../../util/time.js";

interface Svc {
  metadata: { name: string; resourceVersion?: string; labels?: Record<string, string> };
  spec: { clusterIP?: string; clusterIPs?: string[]; type?: string; ports?: { name?: string; port: number; nodePort?: number; targetPort?: number | string; protocol?: string }[] };
}

function manifest(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name }, spec: { ports: [{ port: 80 }], ...spec } });
}

void describe("service allocation through the API server", () => {
  let srv: TestApiServer;

  before(async () => {
    srv = await startTestApiServer();
  });
  after(async () => {
    await srv?.stop();
  });

  async function get(name: string, ns = "default"): Promise<Svc> {
    const r = await srv.kubectl(["get", "svc", name, "-n", ns, "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Svc;
  }

  async function keys(prefix: string): Promise<string[]> {
    return (await srv.server.services!.allocator[prefix === IP_ADDRESS_PREFIX ? "ipKeys" : "portKeys"].list()).entries.map((e) => e.name).sort();
  }

  void it("gives `kubectl create service clusterip` an address in the range, shown by `kubectl get svc`", async () => {
    const r = await srv.kubectl(["create", "service", "clusterip", "web", "--tcp=80:8080"]);
    assert.equal(r.code, 0, r.stderr);
    const svc = await get("web");
    const ip = svc.spec.clusterIP!;
    assert.match(ip, /^10\.43\.\d+\.\d+$/);
    assert.deepEqual(svc.spec.clusterIPs, [ip]);
    // Dynamic addresses come from above the static band (10.43.0.1 - 10.43.1.0).
    const [, , c, d] = ip.split(".").map(Number);
    assert.ok(c! * 256 + d! > 256, ip);
    const table = await srv.kubectl(["get", "svc", "web"]);
    assert.match(table.stdout, new RegExp(`^web\\s+ClusterIP\\s+${ip.replace(/\./g, "\\.")}\\s+<none>\\s+80/TCP\\s+\\d+s\\n$`, "m"));
    assert.ok((await keys(IP_ADDRESS_PREFIX)).includes(ip));
  });

  void it("answers a taken cluster IP or node port with upstream's 422, and frees them on delete", async () => {
    let r = await srv.kubectl(["create", "-f", "-"], { stdin: manifest("fixed", { type: "NodePort", clusterIP: "10.43.0.5", ports: [{ port: 80, nodePort: 30080 }] }) });
    assert.equal(r.code, 0, r.stderr);
    r = await srv.kubectl(["create", "-f", "-"], { stdin: manifest("again", { clusterIP: "10.43.0.5" }) });
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim(), 'The Service "again" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.0.5"}: failed to allocate IP 10.43.0.5: provided IP is already allocated');
    r = await srv.kubectl(["create", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Service "np" is invalid: spec\.ports\[0\]\.nodePort: Invalid value: 30080: provided port is already allocated/);
    r = await srv.kubectl(["create", "-f", "-"], { stdin: manifest("outside", { clusterIP: "10.99.0.5" }) });
    assert.match(r.stderr, /failed to allocate IP 10\.99\.0\.5: the provided IP \(10\.99\.0\.5\) is not in the valid range\. The range of valid IPs is 10\.43\.0\.0\/16/);
    // The failed creates left nothing behind.
    assert.ok(!(await srv.kubectl(["get", "svc", "np"])).stdout.includes("np"));
    assert.deepEqual(await keys(NODE_PORT_PREFIX), ["30080"]);

    assert.equal((await srv.kubectl(["delete", "svc", "fixed"])).code, 0);
    assert.ok(!(await keys(IP_ADDRESS_PREFIX)).includes("10.43.0.5"));
    assert.deepEqual(await keys(NODE_PORT_PREFIX), []);
    r = await srv.kubectl(["create", "-f", "-"], { stdin: manifest("fixed", { type: "NodePort", clusterIP: "10.43.0.5", ports: [{ port: 80, nodePort: 30080 }] }) });
    assert.equal(r.code, 0, r.stderr);
    const svc = await get("fixed");
    assert.equal(svc.spec.clusterIP, "10.43.0.5");
    assert.equal(svc.spec.ports![0]!.nodePort, 30080);
  });

  void it("releases node ports on a type change and allocates them on the way back", async () => {
    assert.equal((await srv.kubectl(["create", "service", "nodeport", "flip", "--tcp=80:8080"])).code, 0);
    const np = (await get("flip")).spec.ports![0]!.nodePort!;
    assert.ok(np >= 30086 && np <= 32767, String(np));
    assert.ok((await keys(NODE_PORT_PREFIX)).includes(String(np)));
    let r = await srv.kubectl(["patch", "svc", "flip", "--type=merge", "-p", '{"spec":{"type":"ClusterIP"}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await get("flip")).spec.ports![0]!.nodePort, undefined);
    assert.ok(!(await keys(NODE_PORT_PREFIX)).includes(String(np)));
    r = await srv.kubectl(["patch", "svc", "flip", "--type=merge", "-p", '{"spec":{"type":"NodePort"}}']);
    assert.equal(r.code, 0, r.stderr);
    const back = (await get("flip")).spec.ports![0]!.nodePort!;
    assert.ok((await keys(NODE_PORT_PREFIX)).includes(String(back)));
  });

  void it("releases a service held by a finalizer once the finalizer goes", async () => {
    let r = await srv.kubectl(["create", "-f", "-"], { stdin: JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "held", finalizers: ["example.com/hold"] }, spec: { clusterIP: "10.43.0.30", ports: [{ port: 80 }] } }) });
    assert.equal(r.code, 0, r.stderr);
    r = await srv.kubectl(["delete", "svc", "held", "--wait=false"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await keys(IP_ADDRESS_PREFIX)).includes("10.43.0.30"), "a terminating service keeps its address");
    r = await srv.kubectl(["patch", "svc", "held", "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!(await keys(IP_ADDRESS_PREFIX)).includes("10.43.0.30"));
  });

  void it("allocates nothing for a headless service, and nothing on a dry run", async () => {
    const before = await keys(IP_ADDRESS_PREFIX);
    let r = await srv.kubectl(["create", "service", "clusterip", "headless", "--clusterip=None"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await get("headless")).spec.clusterIP, "None");
    r = await srv.kubectl(["create", "service", "nodeport", "dry", "--tcp=80:8080", "--dry-run=server", "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const dry = JSON.parse(r.stdout) as Svc;
    assert.match(dry.spec.clusterIP!, /^10\.43\./);
    assert.ok(dry.spec.ports![0]!.nodePort);
    assert.deepEqual(await keys(IP_ADDRESS_PREFIX), before);
  });

  void it("serves the kubernetes Service at the first address, with endpoints pointing at the API server", async () => {
    const svc = await get("kubernetes");
    const port = Number(new URL(srv.url).port);
    assert.equal(svc.spec.clusterIP, "10.43.0.1");
    assert.deepEqual(svc.metadata.labels, { component: "apiserver", provider: "kubernetes" });
    assert.deepEqual(svc.spec.ports, [{ name: "https", port: 443, protocol: "TCP", targetPort: port }]);
    const addr = srv.server.options.advertiseAddress;
    assert.ok(addr, "the test machine has a host address");
    const ep = await srv.kubectl(["get", "endpoints", "kubernetes", "-o", "json"]);
    assert.deepEqual((JSON.parse(ep.stdout) as { subsets: unknown }).subsets, [{ addresses: [{ ip: addr }], ports: [{ name: "https", port, protocol: "TCP" }] }]);
    const slice = JSON.parse((await srv.kubectl(["get", "endpointslice", "kubernetes", "-o", "json"])).stdout) as Record<string, unknown> & { metadata: { labels: Record<string, string>; resourceVersion: string } };
    assert.equal(slice.metadata.labels["kubernetes.io/service-name"], "kubernetes");
    assert.equal(slice["addressType"], "IPv4");
    assert.deepEqual(slice["endpoints"], [{ addresses: [addr], conditions: { ready: true } }]);
    assert.deepEqual(slice["ports"], [{ name: "https", port, protocol: "TCP" }]);
    // A reconcile of what is already right writes nothing.
    await srv.server.services!.reconcileKubernetesService();
    const again = JSON.parse((await srv.kubectl(["get", "endpointslice", "kubernetes", "-o", "json"])).stdout) as { metadata: { resourceVersion: string } };
    assert.equal(again.metadata.resourceVersion, slice.metadata.resourceVersion);
  });

  void it("puts the kubernetes Service's ports back when someone changes them", async () => {
    const r = await srv.kubectl(["patch", "svc", "kubernetes", "--type=json", "-p", '[{"op":"replace","path":"/spec/ports/0/port","value":8443}]']);
    assert.equal(r.code, 0, r.stderr);
    await srv.server.services!.reconcileKubernetesService();
    assert.equal((await get("kubernetes")).spec.ports![0]!.port, 443);
  });
});

void describe("allocations across a restart on the same data dir", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "k8ts-alloc-restart-"));
  const log = createLogger("silent");
  const newServer = (): ApiServer => new ApiServer(compileApiServerOptions({ dataDir, port: 0, resources: builtinResources(), log }));
  let server: ApiServer | undefined;

  after(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function request(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const c = adminClient(server!.url, dataDir);
    try {
      const r = await c.request(method, path, body === undefined ? undefined : JSON.stringify(body));
      return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> };
    } finally {
      c.close();
    }
  }

  void it("keeps allocations, frees a leaked key, restores a missing one and fills a service stored without an address", async () => {
    server = newServer();
    await server.start();
    const first = await request("POST", "/api/v1/namespaces/default/services", { metadata: { name: "keep" }, spec: { type: "NodePort", clusterIP: "10.43.0.20", ports: [{ port: 80, nodePort: 30020 }] } });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const second = await request("POST", "/api/v1/namespaces/default/services", { metadata: { name: "lost" }, spec: { clusterIP: "10.43.0.21", ports: [{ port: 80 }] } });
    assert.equal(second.status, 201);
    const addr = server.options.advertiseAddress!;
    await server.stop();
    server = undefined;

    // While the server is down: a key leaks (its service never got written), one goes missing,
    // and a service appears that has no address (as one written before allocation existed).
    const store = await openStore(DEFAULT_STORE_URL(dataDir));
    const enc = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
    const longAgo = rfc3339(Date.now() - 3_600_000);
    try {
      assert.equal((await store.get(MASTER_LEASES_PREFIX + addr)).kv, undefined, "a stopped server removed its lease");
      await store.create(IP_ADDRESS_PREFIX + "10.43.0.99", enc({ apiVersion: "networking.k8s.io/v1", kind: "IPAddress", metadata: { name: "10.43.0.99", creationTimestamp: longAgo }, spec: { parentRef: { group: "", resource: "services", namespace: "default", name: "never-written" } } }));
      await store.create(NODE_PORT_PREFIX + "30099", enc({ metadata: { name: "30099", creationTimestamp: longAgo }, spec: { parentRef: { group: "", resource: "services", namespace: "default", name: "never-written" } } }));
      await store.delete(IP_ADDRESS_PREFIX + "10.43.0.21");
      const { kv } = await store.get("/registry/services/default/lost");
      const legacy = JSON.parse(new TextDecoder().decode(kv!.value)) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
      legacy.metadata["name"] = "legacy";
      legacy.metadata["uid"] = "legacy-uid";
      delete legacy.spec["clusterIP"];
      delete legacy.spec["clusterIPs"];
      await store.create("/registry/services/default/legacy", enc(legacy));
    } finally {
      await store.close();
    }

    server = newServer();
    await server.start();
    const allocator = server.services!.allocator;
    const ipKeys = (await allocator.ipKeys.list()).entries.map((e) => e.name);
    const portKeys = (await allocator.portKeys.list()).entries.map((e) => e.name);
    assert.ok(!ipKeys.includes("10.43.0.99"), "the leaked address was released");
    assert.ok(!portKeys.includes("30099"), "the leaked port was released");
    assert.ok(ipKeys.includes("10.43.0.21"), "the missing key was restored");
    assert.ok(ipKeys.includes("10.43.0.20") && portKeys.includes("30020"), "allocations survived the restart");
    const legacy = await request("GET", "/api/v1/namespaces/default/services/legacy");
    const legacyIP = (legacy.body["spec"] as { clusterIP?: string }).clusterIP;
    assert.match(legacyIP ?? "", /^10\.43\./);
    assert.ok(ipKeys.includes(legacyIP!));

    const taken = await request("POST", "/api/v1/namespaces/default/services", { metadata: { name: "dup" }, spec: { clusterIP: "10.43.0.20", ports: [{ port: 80 }] } });
    assert.equal(taken.status, 422);
    assert.equal(taken.body["message"], 'Service "dup" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.0.20"}: failed to allocate IP 10.43.0.20: provided IP is already allocated');
    const leaked = await request("POST", "/api/v1/namespaces/default/services", { metadata: { name: "reuse" }, spec: { clusterIP: "10.43.0.99", type: "NodePort", ports: [{ port: 80, nodePort: 30099 }] } });
    assert.equal(leaked.status, 201, JSON.stringify(leaked.body));
    const events = await request("GET", "/api/v1/namespaces/default/events");
    const reasons = ((events.body["items"] ?? []) as { reason?: string; involvedObject?: { name?: string } }[]).map((e) => `${e.involvedObject?.name ?? ""}:${e.reason ?? ""}`);
    assert.ok(reasons.includes("lost:ClusterIPNotAllocated"), reasons.join(","));
  });
});
