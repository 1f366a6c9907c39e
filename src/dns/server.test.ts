// The DNS server against a real API server: Services and EndpointSlices created through the
// API, queries over UDP and TCP on loopback, forwarding to a scripted upstream.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { connect } from "node:net";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { until } from "../testing/wait.js";
import { createLogger } from "../util/log.js";
import { DnsServer } from "./server.js";
import { ask, encodeQuery, startFakeUpstream, type FakeUpstream } from "./testing.js";
import { frame } from "./wire.js";

void describe("DnsServer against an API server", () => {
  let api: TestApiServer;
  let client: RestClient;
  let upstream: FakeUpstream;
  let dns: DnsServer;
  let port = 0;

  before(async () => {
    api = await startTestApiServer();
    client = await createClientFromKubeconfig(api.kubeconfig, { qps: Infinity });
    upstream = await startFakeUpstream((name, type, proto) => {
      if (name === "slow.example") return "drop";
      if (name === "gone.example") return "nxdomain";
      if (name === "big.example" && proto === "udp") return "truncate";
      if (type === "A" && (name === "www.example.com" || name === "big.example")) return [{ type: "A", name, ttl: 300, data: "192.0.2.1" }];
      if (type === "PTR") return [{ type: "PTR", name, ttl: 300, data: "host.outside" }];
      return [];
    });
    const svcs = client.forKind("v1", "Service").namespace("default");
    await svcs.create({ metadata: { name: "web" }, spec: { clusterIP: "10.43.0.50", ports: [{ name: "http", port: 80, protocol: "TCP" }, { name: "syslog", port: 514, protocol: "UDP" }] } } as Service);
    dns = new DnsServer({
      client,
      log: createLogger("silent"),
      listen: [{ address: "127.0.0.1", port: 0 }],
      upstreams: [`127.0.0.1:${upstream.port}`],
      forwardTimeoutMs: 300,
      http: [{ address: "127.0.0.1", port: 0 }],
    });
    await dns.start();
    port = dns.ports[0]!.port;
  });

  after(async () => {
    await dns?.stop();
    await upstream?.close();
    client?.close();
    await api?.stop();
  });

  const svcs = (ns = "default") => client.forKind("v1", "Service").namespace(ns);
  const slices = (ns = "default") => client.forKind("discovery.k8s.io/v1", "EndpointSlice").namespace(ns);
  const addrs = (p: { answers?: unknown[] }): string[] => (p.answers ?? []).map((a) => String((a as { data: unknown }).data)).sort();

  void it("answers a Service that existed before start, over UDP and TCP, case-insensitively", async () => {
    for (const proto of ["udp", "tcp"] as const) {
      const r = await ask(port, "WEB.default.SVC.cluster.local", "A", { proto });
      assert.equal(r.rcode, "NOERROR");
      assert.equal(r.flag_aa, true);
      assert.equal(r.questions?.[0]?.name, "WEB.default.SVC.cluster.local");
      assert.deepEqual(addrs(r), ["10.43.0.50"]);
      assert.equal(r.answers?.[0]?.name, "WEB.default.SVC.cluster.local");
    }
    const srv = await ask(port, "_http._tcp.web.default.svc.cluster.local", "SRV");
    assert.deepEqual(srv.answers?.map((a) => (a as { data: unknown }).data), [{ priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local" }]);
    assert.deepEqual(srv.additionals?.filter((a) => a.type === "A").map((a) => (a as { data: unknown }).data), ["10.43.0.50"]);
    // the API server's own Service, as every pod asks for it
    const kube = await until("kubernetes.default", async () => {
      const k = await ask(port, "kubernetes.default.svc.cluster.local", "A");
      return k.answers?.length ? k : undefined;
    });
    const kubeIP = (await svcs().get("kubernetes")).spec?.clusterIP;
    assert.deepEqual(addrs(kube), [kubeIP]);
    assert.equal((await ask(port, "_https._tcp.kubernetes.default.svc.cluster.local", "SRV")).answers?.length, 1);
    const udpSrv = await ask(port, "_syslog._udp.web.default.svc.cluster.local", "SRV");
    assert.equal(udpSrv.answers?.length, 1);
    const ptr = await ask(port, "50.0.43.10.in-addr.arpa", "PTR");
    assert.deepEqual(addrs(ptr), ["web.default.svc.cluster.local"]);
  });

  void it("says NXDOMAIN with the zone's SOA for names that do not exist, NOERROR for others types of names that do", async () => {
    const nx = await ask(port, "nothing.default.svc.cluster.local", "A");
    assert.equal(nx.rcode, "NXDOMAIN");
    assert.equal(nx.authorities?.[0]?.type, "SOA");
    assert.equal(nx.authorities?.[0]?.name, "cluster.local");
    const nodata = await ask(port, "web.default.svc.cluster.local", "AAAA");
    assert.equal(nodata.rcode, "NOERROR");
    assert.equal(nodata.answers?.length, 0);
    assert.equal(nodata.authorities?.[0]?.type, "SOA");
    const version = await ask(port, "dns-version.cluster.local", "TXT");
    assert.deepEqual(version.answers?.map((a) => String((a as { data: Buffer[] }).data[0])), ["1.1.0"]);
    const pod = await ask(port, "10-244-3-7.default.pod.cluster.local", "A");
    assert.deepEqual(addrs(pod), ["10.244.3.7"]);
  });

  void it("follows a new headless Service's EndpointSlices: A per ready endpoint, hostnames, SRV and PTR", async () => {
    await svcs().create({ metadata: { name: "db" }, spec: { clusterIP: "None", ports: [{ name: "pg", port: 5432 }] } } as Service);
    await slices().create({
      metadata: { name: "db-1", labels: { "kubernetes.io/service-name": "db" }, managedFields: [] },
      addressType: "IPv4",
      ports: [{ name: "pg", port: 5432, protocol: "TCP" }],
      endpoints: [
        { addresses: ["10.42.0.5"], hostname: "db-0", conditions: { ready: true } },
        { addresses: ["10.42.0.6"], hostname: "db-1", conditions: { ready: true } },
        { addresses: ["10.42.0.7"], hostname: "db-2", conditions: { ready: false } },
      ],
    } as EndpointSlice);
    const all = await until("headless answer", async () => {
      const r = await ask(port, "db.default.svc.cluster.local", "A");
      return r.answers?.length === 2 ? r : undefined;
    });
    assert.deepEqual(addrs(all), ["10.42.0.5", "10.42.0.6"]);
    assert.deepEqual(addrs(await ask(port, "db-1.db.default.svc.cluster.local", "A")), ["10.42.0.6"]);
    assert.equal((await ask(port, "db-2.db.default.svc.cluster.local", "A")).rcode, "NXDOMAIN");
    const srv = await ask(port, "_pg._tcp.db.default.svc.cluster.local", "SRV", { proto: "tcp" });
    assert.deepEqual(srv.answers?.map((a) => (a as { data: { target: string } }).data.target).sort(), ["db-0.db.default.svc.cluster.local", "db-1.db.default.svc.cluster.local"]);
    assert.equal(srv.additionals?.filter((a) => a.type === "A").length, 2);
    assert.deepEqual(addrs(await ask(port, "5.0.42.10.in-addr.arpa", "PTR")), ["db-0.db.default.svc.cluster.local"]);

    // an endpoint turning ready shows up; the slice's removal empties the name
    const slice = await slices().get("db-1");
    slice.endpoints[2]!.conditions = { ready: true };
    await slices().update(slice);
    await until("third endpoint", async () => ((await ask(port, "db.default.svc.cluster.local", "A")).answers?.length === 3 ? true : undefined));
    await slices().delete("db-1");
    await until("NXDOMAIN without ready endpoints", async () => ((await ask(port, "db.default.svc.cluster.local", "A")).rcode === "NXDOMAIN" ? true : undefined));
  });

  void it("changes answers on update and says NXDOMAIN after delete", async () => {
    await svcs().create({ metadata: { name: "moving" }, spec: { clusterIP: "10.43.0.60", ports: [{ name: "http", port: 80 }] } } as Service);
    await until("new Service", async () => (addrs(await ask(port, "moving.default.svc.cluster.local", "A")).join() === "10.43.0.60" ? true : undefined));
    const svc = await svcs().get("moving");
    svc.spec!.ports = [{ name: "https", port: 443 }];
    await svcs().update(svc);
    await until("new port", async () => ((await ask(port, "_https._tcp.moving.default.svc.cluster.local", "SRV")).answers?.length === 1 ? true : undefined));
    assert.equal((await ask(port, "_http._tcp.moving.default.svc.cluster.local", "SRV")).rcode, "NXDOMAIN");
    await svcs().delete("moving");
    await until("NXDOMAIN after delete", async () => ((await ask(port, "moving.default.svc.cluster.local", "A")).rcode === "NXDOMAIN" ? true : undefined));
    assert.equal((await ask(port, "60.0.43.10.in-addr.arpa", "PTR")).answers?.[0]?.name, "60.0.43.10.in-addr.arpa", "the freed address is now asked upstream");
  });

  void it("answers ExternalName with a CNAME and the target's address from upstream", async () => {
    await svcs().create({ metadata: { name: "ext" }, spec: { type: "ExternalName", externalName: "www.example.com" } } as Service);
    const r = await until("ExternalName", async () => {
      const a = await ask(port, "ext.default.svc.cluster.local", "A");
      return a.answers?.length ? a : undefined;
    });
    assert.deepEqual(r.answers?.map((a) => [a.name, a.type, (a as { data: unknown }).data]), [["ext.default.svc.cluster.local", "CNAME", "www.example.com"], ["www.example.com", "A", "192.0.2.1"]]);
  });

  void it("forwards other names with the client's id, falls back to TCP on truncation, and says SERVFAIL when upstream is silent", async () => {
    const r = await ask(port, "www.example.com", "A", { id: 31337 });
    assert.equal(r.id, 31337);
    assert.deepEqual(addrs(r), ["192.0.2.1"]);
    const big = await ask(port, "big.example", "A");
    assert.equal(big.flag_tc, false);
    assert.deepEqual(addrs(big), ["192.0.2.1"]);
    assert.ok(upstream.asked.includes("udp big.example A") && upstream.asked.includes("tcp big.example A"), upstream.asked.join("; "));
    const nx = await ask(port, "gone.example", "A");
    assert.equal(nx.rcode, "NXDOMAIN");
    const t0 = Date.now();
    const slow = await ask(port, "slow.example", "A", { id: 77 });
    assert.equal(slow.rcode, "SERVFAIL");
    assert.equal(slow.id, 77);
    assert.ok(Date.now() - t0 >= 250, "waited for the upstream's timeout");
    const tcp = await ask(port, "www.example.com", "A", { proto: "tcp" });
    assert.deepEqual(addrs(tcp), ["192.0.2.1"]);
    assert.ok(upstream.asked.includes("tcp www.example.com A"));
  });

  void it("drops malformed messages and keeps serving; closes a TCP stream that carries garbage", async () => {
    const dropped = async (): Promise<number> => (await dns.registry.getSingleMetric("k8ts_dns_dropped_messages_total")!.get()).values.reduce((n, v) => n + v.value, 0);
    const droppedBefore = await dropped();
    // Two bad messages, then a query, from one socket: the first reply must be the query's.
    const sock = createSocket("udp4");
    try {
      sock.bind(0, "127.0.0.1");
      await once(sock, "listening");
      const first = once(sock, "message", { signal: AbortSignal.timeout(5000) }) as Promise<[Buffer]>;
      sock.send(Buffer.from("definitely not dns"), port, "127.0.0.1");
      sock.send(Buffer.alloc(3), port, "127.0.0.1");
      sock.send(encodeQuery("web.default.svc.cluster.local", "A", { id: 4242 }), port, "127.0.0.1");
      const [reply] = await first;
      assert.equal(reply.readUInt16BE(0), 4242, "a malformed message got a reply");
    } finally {
      sock.close();
    }
    assert.equal(await dropped(), droppedBefore + 2);
    assert.deepEqual(addrs(await ask(port, "web.default.svc.cluster.local", "A")), ["10.43.0.50"]);
    const closed = await new Promise<boolean>((resolve) => {
      const c = connect({ host: "127.0.0.1", port });
      c.on("connect", () => c.write(frame(Buffer.from("garbage!!!!!!!!!!!!!"))));
      c.on("close", () => resolve(true));
      c.on("error", () => undefined);
      setTimeout(() => {
        c.destroy();
        resolve(false);
      }, 3000);
    });
    assert.equal(closed, true);
    // two queries in one TCP write: two framed answers on the stream
    const replies = await new Promise<number[]>((resolve, reject) => {
      const c = connect({ host: "127.0.0.1", port });
      let buf = Buffer.alloc(0);
      const ids: number[] = [];
      c.on("connect", () => c.write(Buffer.concat([frame(encodeQuery("web.default.svc.cluster.local", "A", { id: 1 })), frame(encodeQuery("db.default.svc.cluster.local", "A", { id: 2 }))])));
      c.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
          ids.push(buf.readUInt16BE(2));
          buf = buf.subarray(buf.readUInt16BE(0) + 2);
        }
        if (ids.length === 2) {
          c.destroy();
          resolve(ids.sort());
        }
      });
      c.on("error", reject);
      setTimeout(() => {
        c.destroy();
        reject(new Error(`only ${ids.length} answers`));
      }, 3000);
    });
    assert.deepEqual(replies, [1, 2]);
  });

  void it("serves /health, /ready and CoreDNS's metrics", async () => {
    const base = dns.httpUrls[0]!;
    assert.equal((await fetch(`${base}/health`)).status, 200);
    const ready = await fetch(`${base}/ready`);
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), "OK");
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /coredns_dns_requests_total\{server="dns:\/\/127\.0\.0\.1:\d+",zone="cluster\.local\.",proto="udp",family="1",type="A"\} \d+/);
    assert.match(metrics, /coredns_dns_responses_total\{[^}]*rcode="NXDOMAIN"\} \d+/);
    assert.match(metrics, /coredns_forward_responses_total\{to="127\.0\.0\.1:\d+",rcode="timeout"\} [1-9]/);
    assert.match(metrics, /k8ts_dns_dropped_messages_total\{[^}]*\} [1-9]/);
  });
});
