import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { serviceRecords, zoneRecords } from "./records.js";
import { Resolver, type Resolution } from "./resolver.js";
import { RecordStore } from "./store.js";
import { RCODE, TYPE, type Rdata, type ResourceRecord } from "./wire.js";

const ZONE = "cluster.local";

function setup(services: Service[], slices: EndpointSlice[] = []): { store: RecordStore; resolver: Resolver } {
  const store = new RecordStore(ZONE);
  store.set("zone", zoneRecords(ZONE));
  for (const s of services) {
    const key = `${s.metadata!.namespace}/${s.metadata!.name}`;
    const mine = slices.filter((sl) => sl.metadata?.namespace === s.metadata?.namespace && sl.metadata?.labels?.["kubernetes.io/service-name"] === s.metadata?.name);
    store.set(key, serviceRecords(s, mine, ZONE));
  }
  return { store, resolver: new Resolver({ store, zone: ZONE, ttl: 5, serial: () => 42 }) };
}

function show(rd: Rdata): string {
  switch (rd.type) {
    case TYPE.A:
      return [...rd.addr].join(".");
    case TYPE.AAAA:
      return rd.addr.toString("hex");
    case TYPE.SRV:
      return `${rd.priority} ${rd.weight} ${rd.port} ${rd.target}`;
    case TYPE.TXT:
      return rd.text.join(" ");
    case TYPE.SOA:
      return `${rd.mname} ${rd.rname} ${rd.serial}`;
    default:
      return rd.target;
  }
}

function rows(rrs: readonly ResourceRecord[]): string[] {
  return rrs.map((r) => `${r.name} ${r.data.type} ${show(r.data)}`).sort();
}

function ask(r: Resolver, name: string, type: number): Resolution {
  return r.resolve({ name, type, class: 1 });
}

const clusterIP: Service = {
  metadata: { name: "web", namespace: "default" },
  spec: { clusterIP: "10.43.0.10", clusterIPs: ["10.43.0.10"], ports: [{ name: "http", port: 80, protocol: "TCP" }, { port: 81 }, { name: "dns", port: 53, protocol: "UDP" }] },
};
const headless: Service = { metadata: { name: "db", namespace: "data" }, spec: { clusterIP: "None", ports: [{ name: "pg", port: 5432 }] } };
const dbSlice: EndpointSlice = {
  metadata: { name: "db-abc", namespace: "data", labels: { "kubernetes.io/service-name": "db" } },
  addressType: "IPv4",
  ports: [{ name: "pg", port: 5432, protocol: "TCP" }],
  endpoints: [
    { addresses: ["10.42.0.5"], hostname: "db-0", conditions: { ready: true } },
    { addresses: ["10.42.0.6"], conditions: {} },
    { addresses: ["10.42.0.7"], hostname: "db-2", conditions: { ready: false } },
  ],
};

void describe("resolver", () => {
  void it("answers a ClusterIP Service's A, SRV (named ports only) and PTR", () => {
    const { resolver } = setup([clusterIP]);
    const r = ask(resolver, "Web.Default.svc.Cluster.Local", TYPE.A);
    assert.equal(r.kind, "answer");
    if (r.kind !== "answer") return;
    assert.equal(r.rcode, RCODE.NOERROR);
    assert.equal(r.authoritative, true);
    assert.deepEqual(rows(r.answers), ["Web.Default.svc.Cluster.Local 1 10.43.0.10"]);
    const srv = ask(resolver, "_http._tcp.web.default.svc.cluster.local", TYPE.SRV);
    assert.ok(srv.kind === "answer");
    assert.deepEqual(rows(srv.answers), ["_http._tcp.web.default.svc.cluster.local 33 0 100 80 web.default.svc.cluster.local"]);
    assert.deepEqual(rows(srv.additionals), ["web.default.svc.cluster.local 1 10.43.0.10"]);
    const udp = ask(resolver, "_dns._udp.web.default.svc.cluster.local", TYPE.SRV);
    assert.ok(udp.kind === "answer" && udp.answers.length === 1);
    const ptr = ask(resolver, "10.0.43.10.in-addr.arpa", TYPE.PTR);
    assert.ok(ptr.kind === "answer");
    assert.deepEqual(rows(ptr.answers), ["10.0.43.10.in-addr.arpa 12 web.default.svc.cluster.local"]);
  });

  void it("answers NXDOMAIN with the SOA for missing names, NOERROR without data for names that exist", () => {
    const { resolver } = setup([clusterIP]);
    const nx = ask(resolver, "nope.default.svc.cluster.local", TYPE.A);
    assert.ok(nx.kind === "answer");
    assert.equal(nx.rcode, RCODE.NXDOMAIN);
    assert.deepEqual(rows(nx.authorities), ["cluster.local 6 ns.dns.cluster.local hostmaster.cluster.local 42"]);
    // ndots:5 search expansion of an already full name
    const searched = ask(resolver, "web.default.svc.cluster.local.default.svc.cluster.local", TYPE.A);
    assert.ok(searched.kind === "answer" && searched.rcode === RCODE.NXDOMAIN);
    for (const [name, type] of [["web.default.svc.cluster.local", TYPE.AAAA], ["default.svc.cluster.local", TYPE.A], ["svc.cluster.local", TYPE.A], ["_tcp.web.default.svc.cluster.local", TYPE.SRV], ["cluster.local", TYPE.A]] as const) {
      const r = ask(resolver, name, type);
      assert.ok(r.kind === "answer", name);
      assert.equal(r.rcode, RCODE.NOERROR, name);
      assert.equal(r.answers.length, 0, name);
      assert.equal(r.authorities[0]?.data.type, TYPE.SOA, name);
    }
    // the unnamed port has no SRV record
    const unnamed = ask(resolver, "_81._tcp.web.default.svc.cluster.local", TYPE.SRV);
    assert.ok(unnamed.kind === "answer" && unnamed.rcode === RCODE.NXDOMAIN);
  });

  void it("answers a headless Service with its ready endpoints, their hostnames, SRV per endpoint and PTRs", () => {
    const { resolver } = setup([headless], [dbSlice]);
    const r = ask(resolver, "db.data.svc.cluster.local", TYPE.A);
    assert.ok(r.kind === "answer");
    assert.deepEqual(rows(r.answers), ["db.data.svc.cluster.local 1 10.42.0.5", "db.data.svc.cluster.local 1 10.42.0.6"]);
    const host = ask(resolver, "db-0.db.data.svc.cluster.local", TYPE.A);
    assert.ok(host.kind === "answer");
    assert.deepEqual(rows(host.answers), ["db-0.db.data.svc.cluster.local 1 10.42.0.5"]);
    const unnamed = ask(resolver, "10-42-0-6.db.data.svc.cluster.local", TYPE.A);
    assert.ok(unnamed.kind === "answer" && unnamed.answers.length === 1);
    const notReady = ask(resolver, "db-2.db.data.svc.cluster.local", TYPE.A);
    assert.ok(notReady.kind === "answer" && notReady.rcode === RCODE.NXDOMAIN);
    const srv = ask(resolver, "_pg._tcp.db.data.svc.cluster.local", TYPE.SRV);
    assert.ok(srv.kind === "answer");
    assert.deepEqual(rows(srv.answers), ["_pg._tcp.db.data.svc.cluster.local 33 0 50 5432 10-42-0-6.db.data.svc.cluster.local", "_pg._tcp.db.data.svc.cluster.local 33 0 50 5432 db-0.db.data.svc.cluster.local"]);
    assert.equal(srv.additionals.length, 2);
    const ptr = ask(resolver, "5.0.42.10.in-addr.arpa", TYPE.PTR);
    assert.ok(ptr.kind === "answer");
    assert.deepEqual(rows(ptr.answers), ["5.0.42.10.in-addr.arpa 12 db-0.db.data.svc.cluster.local"]);
  });

  void it("publishes not-ready endpoints when the Service asks, and nothing for a headless Service without ready endpoints", () => {
    const tolerant: Service = { ...headless, spec: { ...headless.spec, publishNotReadyAddresses: true } };
    const { resolver } = setup([tolerant], [dbSlice]);
    const r = ask(resolver, "db.data.svc.cluster.local", TYPE.A);
    assert.ok(r.kind === "answer" && r.answers.length === 3);
    const empty = setup([headless], [{ ...dbSlice, endpoints: [{ addresses: ["10.42.0.9"], conditions: { ready: false } }] }]);
    const nx = ask(empty.resolver, "db.data.svc.cluster.local", TYPE.A);
    assert.ok(nx.kind === "answer" && nx.rcode === RCODE.NXDOMAIN);
  });

  void it("answers ExternalName with a CNAME and hands the outside target back to chase", () => {
    const ext: Service = { metadata: { name: "ext", namespace: "default" }, spec: { type: "ExternalName", externalName: "www.example.com" } };
    const inner: Service = { metadata: { name: "alias", namespace: "default" }, spec: { type: "ExternalName", externalName: "web.default.svc.cluster.local" } };
    const { resolver } = setup([ext, inner, clusterIP]);
    const r = ask(resolver, "ext.default.svc.cluster.local", TYPE.A);
    assert.equal(r.kind, "chase");
    if (r.kind !== "chase") return;
    assert.equal(r.name, "www.example.com");
    assert.deepEqual(rows(r.answers), ["ext.default.svc.cluster.local 5 www.example.com"]);
    const c = ask(resolver, "ext.default.svc.cluster.local", TYPE.CNAME);
    assert.ok(c.kind === "answer" && c.answers.length === 1);
    // a target inside the cluster is followed here
    const local = ask(resolver, "alias.default.svc.cluster.local", TYPE.A);
    assert.ok(local.kind === "answer");
    assert.deepEqual(rows(local.answers), ["alias.default.svc.cluster.local 5 web.default.svc.cluster.local", "web.default.svc.cluster.local 1 10.43.0.10"]);
  });

  void it("synthesises pod records, the schema version and the zone's SOA", () => {
    const { resolver } = setup([]);
    const pod = ask(resolver, "10-244-1-5.anything.pod.cluster.local", TYPE.A);
    assert.ok(pod.kind === "answer");
    assert.deepEqual(rows(pod.answers), ["10-244-1-5.anything.pod.cluster.local 1 10.244.1.5"]);
    const v6 = ask(resolver, "fd00--5.ns.pod.cluster.local", TYPE.AAAA);
    assert.ok(v6.kind === "answer" && v6.answers.length === 1);
    const badPod = ask(resolver, "10-244-1-500.ns.pod.cluster.local", TYPE.A);
    assert.ok(badPod.kind === "answer" && badPod.rcode === RCODE.NXDOMAIN);
    const ver = ask(resolver, "dns-version.cluster.local", TYPE.TXT);
    assert.ok(ver.kind === "answer");
    assert.deepEqual(rows(ver.answers), ["dns-version.cluster.local 16 1.1.0"]);
    const axfr = ask(resolver, "cluster.local", 252);
    assert.ok(axfr.kind === "answer" && axfr.rcode === RCODE.REFUSED);
    const soa = ask(resolver, "cluster.local", TYPE.SOA);
    assert.ok(soa.kind === "answer" && soa.answers[0]?.data.type === TYPE.SOA);
  });

  void it("forwards names outside the zone and reverse names the cluster does not own", () => {
    const { resolver } = setup([clusterIP]);
    assert.equal(ask(resolver, "example.com", TYPE.A).kind, "forward");
    assert.equal(ask(resolver, "1.1.168.192.in-addr.arpa", TYPE.PTR).kind, "forward");
    assert.equal(ask(resolver, "43.10.in-addr.arpa", TYPE.PTR).kind, "forward");
  });

  void it("replaces exactly one Service's records on change and counts empty non-terminals", () => {
    const { store, resolver } = setup([clusterIP, { ...clusterIP, metadata: { name: "api", namespace: "default" }, spec: { clusterIP: "10.43.0.11" } }]);
    store.set("default/web", new Map());
    const gone = ask(resolver, "web.default.svc.cluster.local", TYPE.A);
    assert.ok(gone.kind === "answer" && gone.rcode === RCODE.NXDOMAIN);
    assert.equal(ask(resolver, "10.0.43.10.in-addr.arpa", TYPE.PTR).kind, "forward");
    const ns = ask(resolver, "default.svc.cluster.local", TYPE.A);
    assert.ok(ns.kind === "answer" && ns.rcode === RCODE.NOERROR);
    store.set("default/api", new Map());
    const nsGone = ask(resolver, "default.svc.cluster.local", TYPE.A);
    assert.ok(nsGone.kind === "answer" && nsGone.rcode === RCODE.NXDOMAIN);
    assert.equal(store.owners, 1);
  });
});
