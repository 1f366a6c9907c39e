// The cluster DNS server: Services and EndpointSlices from informers become records in a
// map (records.ts, store.ts), queries over UDP and TCP are answered from it (resolver.ts) or
// forwarded to the node's resolvers (forward.ts). /health, /ready and /metrics are served
// over HTTP where asked, as CoreDNS serves them on 8080, 8181 and 9153.
//
// Informer events only mark a Service key dirty; a flush on the next turn of the event loop
// rebuilds each dirty Service's records from the listers (level-based: the event payload is
// never used), so the burst of the first list, or a slice and its Service changing together,
// costs one rebuild per Service.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from "node:dgram";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, isIP, type Server as TcpServer, type Socket } from "node:net";
import { once } from "node:events";
import dnsPacket from "dns-packet";
import { Counter, Histogram, Registry } from "prom-client";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { SharedInformerFactory, type SharedInformer } from "../client/informer.js";
import { DeletedFinalStateUnknown, keyOf, type DeepReadonly, type KubeObject } from "../client/objects.js";
import type { RestClient } from "../client/rest.js";
import type { Logger } from "../util/log.js";
import { DnsError } from "./errors.js";
import { Forwarder, parseUpstream, resolvConfNameservers, type Upstream } from "./forward.js";
import { canonicalName, ipv4Bytes, ipv6Bytes, isDnsLabel } from "./names.js";
import { serviceRecords, sliceServiceKey, zoneRecords } from "./records.js";
import { Resolver, type Chase } from "./resolver.js";
import { RecordStore } from "./store.js";
import { frame, MalformedMessage, parseQuery, RCODE, TYPE, udpLimit, WireWriter, type ParsedQuery, type ResourceRecord, type ResponseSpec } from "./wire.js";
import { DEFAULT_CLUSTER_DOMAIN } from "../api/dns.js";

export interface ListenAddress {
  readonly address: string;
  readonly port: number;
}

export interface DnsServerOptions {
  readonly client: RestClient;
  readonly log: Logger;
  /** UDP and TCP on each; port 0 picks a port free for both */
  readonly listen: readonly ListenAddress[];
  /** default cluster.local */
  readonly clusterDomain?: string;
  /** `ip` or `ip:port`; default: the nameservers of `resolvConf` */
  readonly upstreams?: readonly string[];
  /** default /etc/resolv.conf */
  readonly resolvConf?: string;
  /** TTL of cluster records, seconds; default 5 (CoreDNS's) */
  readonly ttl?: number;
  /** where /health, /ready and /metrics are served (each address serves all three); default none */
  readonly http?: readonly ListenAddress[];
  /** per upstream attempt; default 2000 ms */
  readonly forwardTimeoutMs?: number;
  /** an idle TCP client is closed after this long; default 10 s */
  readonly tcpIdleTimeoutMs?: number;
  /** metrics go here; default a registry of the server's own */
  readonly registry?: Registry;
}

export interface CompiledDnsServerOptions {
  readonly client: RestClient;
  readonly log: Logger;
  readonly listen: readonly ListenAddress[];
  /** canonical: lower case, no trailing dot */
  readonly clusterDomain: string;
  readonly upstreams: readonly Upstream[];
  readonly ttl: number;
  readonly http: readonly ListenAddress[];
  readonly forwardTimeoutMs: number;
  readonly tcpIdleTimeoutMs: number;
  readonly registry: Registry;
}

function checkListen(list: readonly ListenAddress[], what: string): void {
  for (const l of list) {
    if (isIP(l.address) === 0) throw new DnsError("InvalidOptions", `${what} address ${JSON.stringify(l.address)} is not an IP address`);
    if (!Number.isInteger(l.port) || l.port < 0 || l.port > 65535) throw new DnsError("InvalidOptions", `${what} port ${l.port} is out of range`);
  }
}

function isWildcard(address: string): boolean {
  return address === "0.0.0.0" || address === "::";
}

export function compileDnsServerOptions(o: DnsServerOptions): CompiledDnsServerOptions {
  const clusterDomain = canonicalName(o.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN);
  if (clusterDomain === "" || !clusterDomain.split(".").every(isDnsLabel)) throw new DnsError("InvalidOptions", `cluster domain ${JSON.stringify(o.clusterDomain)} is not a DNS name`);
  if (o.listen.length === 0) throw new DnsError("InvalidOptions", "the server needs at least one address to listen on");
  checkListen(o.listen, "listen");
  checkListen(o.http ?? [], "http");
  const ttl = o.ttl ?? 5;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 3600) throw new DnsError("InvalidOptions", `ttl must be a whole number of seconds in 0..3600, got ${ttl}`);
  const forwardTimeoutMs = o.forwardTimeoutMs ?? 2000;
  if (!(forwardTimeoutMs > 0)) throw new DnsError("InvalidOptions", `forward timeout must be > 0 ms, got ${forwardTimeoutMs}`);
  const tcpIdleTimeoutMs = o.tcpIdleTimeoutMs ?? 10_000;
  if (!(tcpIdleTimeoutMs > 0)) throw new DnsError("InvalidOptions", `TCP idle timeout must be > 0 ms, got ${tcpIdleTimeoutMs}`);
  const all = (o.upstreams ?? resolvConfNameservers(o.resolvConf)).map(parseUpstream);
  // Forwarding to ourselves would loop every query until it times out (CoreDNS's loop plugin
  // exists for the same reason).
  const upstreams = all.filter((u) => {
    const self = o.listen.some((l) => l.port === u.port && (l.address === u.address || (isWildcard(l.address) && (u.address.startsWith("127.") || u.address === "::1"))));
    if (self) o.log.warn({ upstream: u.label }, "upstream is this server itself; not forwarding to it");
    return !self;
  });
  return { client: o.client, log: o.log, listen: o.listen, clusterDomain, upstreams, ttl, http: o.http ?? [], forwardTimeoutMs, tcpIdleTimeoutMs, registry: o.registry ?? new Registry() };
}

const TYPE_NAMES: Readonly<Record<number, string>> = { 1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV", 65: "HTTPS", 255: "ANY" };
const RCODE_NAMES: Readonly<Record<number, string>> = { 0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED" };

const SERVICE_INDEX = "service";
const DURATION_BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192];

/** Metric names are CoreDNS's, so its dashboards and alerts read ours. */
class DnsMetrics {
  readonly requests: Counter<"server" | "zone" | "proto" | "family" | "type">;
  readonly responses: Counter<"server" | "zone" | "rcode">;
  readonly duration: Histogram<"server" | "zone" | "type">;
  readonly forwardRequests: Counter<"to">;
  readonly forwardResponses: Counter<"to" | "rcode">;
  readonly forwardDuration: Histogram<"to">;
  readonly dropped: Counter<"server">;
  private readonly children = new Map<string, { req: Counter.Internal; dur: Histogram.Internal<"server" | "zone" | "type"> }>();
  private readonly rcodes = new Map<string, Counter.Internal>();

  constructor(registry: Registry) {
    this.requests = new Counter({ name: "coredns_dns_requests_total", help: "Counter of DNS requests made per zone, protocol and family.", labelNames: ["server", "zone", "proto", "family", "type"], registers: [registry] });
    this.responses = new Counter({ name: "coredns_dns_responses_total", help: "Counter of response status codes.", labelNames: ["server", "zone", "rcode"], registers: [registry] });
    this.duration = new Histogram({ name: "coredns_dns_request_duration_seconds", help: "Histogram of the time (in seconds) each request took.", labelNames: ["server", "zone", "type"], buckets: DURATION_BUCKETS, registers: [registry] });
    this.forwardRequests = new Counter({ name: "coredns_forward_requests_total", help: "Counter of requests made per upstream.", labelNames: ["to"], registers: [registry] });
    this.forwardResponses = new Counter({ name: "coredns_forward_responses_total", help: "Counter of responses received per upstream.", labelNames: ["to", "rcode"], registers: [registry] });
    this.forwardDuration = new Histogram({ name: "coredns_forward_request_duration_seconds", help: "Histogram of the time each request took.", labelNames: ["to"], buckets: DURATION_BUCKETS, registers: [registry] });
    this.dropped = new Counter({ name: "k8ts_dns_dropped_messages_total", help: "Messages dropped because they could not be read as a query.", labelNames: ["server"], registers: [registry] });
  }

  /** Label lookups cost more than the increments: children are kept per label combination. */
  request(server: string, zone: string, proto: string, family: string, type: string): { req: Counter.Internal; dur: Histogram.Internal<"server" | "zone" | "type"> } {
    const key = `${server}|${zone}|${proto}|${family}|${type}`;
    let c = this.children.get(key);
    if (!c) this.children.set(key, (c = { req: this.requests.labels(server, zone, proto, family, type), dur: this.duration.labels(server, zone, type) }));
    return c;
  }

  response(server: string, zone: string, rcode: number): Counter.Internal {
    const key = `${server}|${zone}|${rcode}`;
    let c = this.rcodes.get(key);
    if (!c) this.rcodes.set(key, (c = this.responses.labels(server, zone, RCODE_NAMES[rcode] ?? String(rcode))));
    return c;
  }
}

interface Listener {
  readonly address: string;
  readonly port: number;
  readonly label: string;
  readonly udp: UdpSocket;
  readonly tcp: TcpServer;
}

type Reply = Buffer | undefined;

export class DnsServer {
  readonly options: CompiledDnsServerOptions;
  readonly registry: Registry;
  private readonly log: Logger;
  private readonly store: RecordStore;
  private readonly resolver: Resolver;
  private readonly writer = new WireWriter();
  private readonly forwarder: Forwarder;
  private readonly metrics: DnsMetrics;
  private readonly zoneLabel: string;
  private readonly informers: SharedInformerFactory;
  private readonly services: SharedInformer<Service>;
  private readonly slices: SharedInformer<EndpointSlice>;
  private readonly stopper = new AbortController();
  private readonly listeners: Listener[] = [];
  private readonly httpServers: HttpServer[] = [];
  private readonly tcpSockets = new Set<Socket>();
  private readonly dirty = new Set<string>();
  private flushScheduled = false;
  private synced = false;
  private started = false;
  private stopped = false;
  private serial = Math.floor(Date.now() / 1000);
  private servedGeneration = 0;

  constructor(o: DnsServerOptions) {
    this.options = compileDnsServerOptions(o);
    this.log = this.options.log.child({ component: "dns" });
    this.registry = this.options.registry;
    const zone = this.options.clusterDomain;
    this.zoneLabel = `${zone}.`;
    this.store = new RecordStore(zone);
    this.store.set("zone", zoneRecords(zone));
    this.resolver = new Resolver({ store: this.store, zone, ttl: this.options.ttl, serial: () => this.currentSerial() });
    this.metrics = new DnsMetrics(this.registry);
    this.forwarder = new Forwarder({
      upstreams: this.options.upstreams,
      timeoutMs: this.options.forwardTimeoutMs,
      log: this.log,
      onAttempt: (u, outcome, seconds) => {
        this.metrics.forwardRequests.labels(u.label).inc();
        this.metrics.forwardDuration.labels(u.label).observe(seconds);
        this.metrics.forwardResponses.labels(u.label, typeof outcome === "number" ? (RCODE_NAMES[outcome] ?? String(outcome)) : outcome).inc();
      },
    });
    this.informers = new SharedInformerFactory({ client: this.options.client, log: this.log, omitManagedFields: true });
    this.services = this.informers.forKind("v1", "Service");
    this.slices = this.informers.forKind("discovery.k8s.io/v1", "EndpointSlice");
    this.slices.addIndexers({ [SERVICE_INDEX]: (s) => {
      const key = sliceServiceKey(s);
      return key === undefined ? [] : [key];
    } });
    this.services.addEventHandler({
      onAdd: (svc) => this.markDirty(keyOf(svc as DeepReadonly<KubeObject>)),
      onUpdate: (_old, svc) => this.markDirty(keyOf(svc as DeepReadonly<KubeObject>)),
      onDelete: (svc) => this.markDirty(keyOf(svc as DeepReadonly<KubeObject> | DeletedFinalStateUnknown<unknown>)),
    });
    const sliceKey = (s: DeepReadonly<EndpointSlice> | DeletedFinalStateUnknown<EndpointSlice>): string | undefined => sliceServiceKey(s instanceof DeletedFinalStateUnknown ? s.obj : s);
    const markSlice = (s: DeepReadonly<EndpointSlice> | DeletedFinalStateUnknown<EndpointSlice>): void => {
      const key = sliceKey(s);
      if (key !== undefined) this.markDirty(key);
    };
    this.slices.addEventHandler({
      onAdd: markSlice,
      onUpdate: (old, slice) => {
        markSlice(old);
        markSlice(slice);
      },
      onDelete: markSlice,
    });
  }

  /** The addresses the server answers on, with the ports bound (UDP and TCP share each). */
  get ports(): readonly ListenAddress[] {
    return this.listeners.map((l) => ({ address: l.address, port: l.port }));
  }

  /** `http://address:port` of each HTTP listener, in the order given. */
  get httpUrls(): readonly string[] {
    return this.httpServers.map((s) => {
      const a = s.address();
      if (a === null || typeof a === "string") return "";
      return `http://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`;
    });
  }

  /** True once the caches have synced and every listener is bound. */
  get ready(): boolean {
    return this.synced && this.listeners.length === this.options.listen.length && !this.stopped;
  }

  get upstreams(): readonly Upstream[] {
    return this.forwarder.upstreams;
  }

  /**
   * Serves /health at once, lists Services and EndpointSlices, then binds the DNS listeners;
   * resolves when queries are answered from a synced cache. `signal` aborts the wait for the
   * first list (the server is then stopped).
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) throw new DnsError("InvalidOptions", "the DNS server was already started");
    this.started = true;
    try {
      for (const h of this.options.http) this.httpServers.push(await this.listenHttp(h));
      this.informers.start(this.stopper.signal);
      const waitSignal = signal ? AbortSignal.any([signal, this.stopper.signal]) : this.stopper.signal;
      if (!(await this.informers.waitForCacheSync(waitSignal))) throw new DnsError("Stopped", "stopped before the caches synced");
      this.synced = true;
      this.flush();
      for (const l of this.options.listen) this.listeners.push(await this.bind(l));
      this.log.info({ listen: this.ports, zone: this.options.clusterDomain, upstreams: this.upstreams.map((u) => u.label), services: this.services.indexer.size }, "cluster DNS serving");
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Closes the listeners and open TCP connections, stops the informers and the forwarder. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopper.abort();
    this.forwarder.close();
    for (const l of this.listeners) {
      l.udp.close();
      l.tcp.close();
    }
    for (const s of this.tcpSockets) s.destroy();
    for (const h of this.httpServers) {
      h.closeAllConnections();
      h.close();
    }
    await this.informers.shutdown();
  }

  // ---- cache ------------------------------------------------------------------------------

  private markDirty(key: string): void {
    this.dirty.add(key);
    if (!this.synced || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.dirty.size === 0) return;
    const zone = this.options.clusterDomain;
    for (const key of this.dirty) {
      const svc = this.services.lister.get(key);
      if (!svc) {
        this.store.set(key, new Map());
        continue;
      }
      const slices = this.slices.indexer.byIndex(SERVICE_INDEX, key);
      this.store.set(key, serviceRecords(svc, slices, zone));
    }
    this.log.debug({ services: this.dirty.size, names: this.store.names }, "records rebuilt");
    this.dirty.clear();
  }

  /** CoreDNS's SOA serial: the time of the last change, in seconds. */
  private currentSerial(): number {
    const gen = this.store.generation;
    if (gen !== this.servedGeneration) {
      this.servedGeneration = gen;
      this.serial = Math.max(this.serial + 1, Math.floor(Date.now() / 1000));
    }
    return this.serial;
  }

  // ---- queries ----------------------------------------------------------------------------

  /**
   * The reply to one message, or undefined to drop it. Synchronous for everything answered
   * from the cache; a promise only when an upstream is asked.
   */
  handle(msg: Buffer, proto: "udp" | "tcp", server = "dns://", family = "1"): Reply | Promise<Reply> {
    const t0 = process.hrtime.bigint();
    let q: ParsedQuery;
    try {
      q = parseQuery(msg);
    } catch (err) {
      if (!(err instanceof MalformedMessage)) throw err;
      this.metrics.dropped.labels(server).inc();
      return undefined;
    }
    const limit = proto === "tcp" ? 65535 : udpLimit(q.edns?.udpSize);
    const base = { id: q.id, opcode: q.opcode, recursionDesired: q.recursionDesired, checkingDisabled: q.checkingDisabled, ...(q.edns ? { edns: { udpSize: 1232 } } : {}) };
    const question = q.question;
    const typeName = question ? (TYPE_NAMES[question.type] ?? "other") : "other";
    const done = (reply: Reply, zone: string): Reply => {
      const m = this.metrics.request(server, zone, proto, family, typeName);
      m.req.inc();
      m.dur.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      if (reply) this.metrics.response(server, zone, reply.length >= 4 ? reply[3]! & 0xf : RCODE.SERVFAIL).inc();
      return reply;
    };
    if (q.opcode !== 0) return done(this.writer.encode({ ...base, rcode: RCODE.NOTIMP, authoritative: false }, limit), ".");
    if (q.questionCount !== 1 || question === undefined) return done(this.writer.encode({ ...base, rcode: RCODE.FORMERR, authoritative: false }, limit), ".");
    // A version the server does not speak gets BADVERS (RFC 6891 6.1.3), which needs the
    // extended rcode; refusing says the same to any client in practice.
    if (q.edns && q.edns.version !== 0) return done(this.writer.encode({ ...base, question, rcode: RCODE.REFUSED, authoritative: false }, limit), ".");
    let res;
    try {
      res = this.resolver.resolve(question);
    } catch (err) {
      this.log.error({ err, name: question.name }, "resolving failed");
      return done(this.writer.encode({ ...base, question, rcode: RCODE.SERVFAIL, authoritative: false }, limit), this.zoneLabel);
    }
    if (res.kind === "answer") {
      const spec: ResponseSpec = { ...base, question, rcode: res.rcode, authoritative: res.authoritative, answers: res.answers, authorities: res.authorities, additionals: res.additionals };
      return done(this.writer.encode(spec, limit), this.zoneLabel);
    }
    if (res.kind === "chase") {
      return this.chase(res).then((extra) => {
        const answers = [...res.answers, ...extra.answers];
        return done(this.writer.encode({ ...base, question, rcode: extra.rcode, authoritative: false, answers }, limit), this.zoneLabel);
      });
    }
    return this.forwarder.forward(msg, proto).then((answer) => {
      if (answer === undefined) return done(this.writer.encode({ ...base, question, rcode: RCODE.SERVFAIL, authoritative: false }, limit), ".");
      // An answer fetched over TCP after a truncated one may not fit the client's UDP size.
      if (answer.length > limit) return done(this.writer.encode({ ...base, question, rcode: answer[3]! & 0xf, authoritative: false, truncated: true }, limit), ".");
      return done(answer, ".");
    });
  }

  /** Resolves the out-of-cluster target of an ExternalName CNAME upstream; keeps only address and alias records. */
  private async chase(c: Chase): Promise<{ answers: ResourceRecord[]; rcode: number }> {
    const typeName = TYPE_NAMES[c.type];
    if (typeName === undefined || typeName === "ANY") return { answers: [], rcode: RCODE.NOERROR };
    const query = dnsPacket.encode({ type: "query", id: Math.floor(Math.random() * 65536), flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: typeName as dnsPacket.RecordType, name: c.name, class: "IN" }] });
    const reply = await this.forwarder.forward(query, "udp");
    if (reply === undefined) return { answers: [], rcode: RCODE.NOERROR };
    let decoded: dnsPacket.DecodedPacket;
    try {
      decoded = dnsPacket.decode(reply);
    } catch {
      return { answers: [], rcode: RCODE.NOERROR };
    }
    const answers: ResourceRecord[] = [];
    for (const a of decoded.answers ?? []) {
      const ttl = "ttl" in a && typeof a.ttl === "number" ? a.ttl : this.options.ttl;
      if (a.type === "A" && typeof a.data === "string") answers.push({ name: a.name, ttl, data: { type: TYPE.A, addr: ipv4Bytes(a.data) } });
      else if (a.type === "AAAA" && typeof a.data === "string") answers.push({ name: a.name, ttl, data: { type: TYPE.AAAA, addr: ipv6Bytes(a.data) } });
      else if (a.type === "CNAME" && typeof a.data === "string") answers.push({ name: a.name, ttl, data: { type: TYPE.CNAME, target: a.data } });
    }
    return { answers, rcode: reply[3]! & 0xf };
  }

  // ---- transports -------------------------------------------------------------------------

  private async bind(l: ListenAddress): Promise<Listener> {
    // Port 0: UDP picks a port, TCP must get the same one; another process may hold it for TCP.
    for (let attempt = 0; ; attempt++) {
      const udp = createSocket(isIP(l.address) === 6 ? "udp6" : "udp4");
      try {
        udp.bind(l.port, l.address);
        await once(udp, "listening");
      } catch (err) {
        udp.close();
        throw new DnsError("ListenFailed", `cannot listen on ${l.address}:${l.port}/udp: ${(err as Error).message}`, { cause: err });
      }
      const port = udp.address().port;
      const label = `dns://${isIP(l.address) === 6 ? `[${l.address}]` : l.address}:${port}`;
      const tcp = createTcpServer((sock) => this.onTcpConnection(sock, label));
      try {
        tcp.listen({ host: l.address, port, exclusive: true });
        await once(tcp, "listening");
      } catch (err) {
        udp.close();
        if (l.port === 0 && (err as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < 20) continue;
        throw new DnsError("ListenFailed", `cannot listen on ${l.address}:${port}/tcp: ${(err as Error).message}`, { cause: err });
      }
      tcp.maxConnections = 1000;
      tcp.on("error", (err) => this.log.error({ err, server: label }, "TCP listener error"));
      udp.on("error", (err) => this.log.error({ err, server: label }, "UDP listener error"));
      udp.on("message", (msg: Buffer, rinfo: RemoteInfo) => this.onUdpMessage(udp, msg, rinfo, label));
      return { address: l.address, port, label, udp, tcp };
    }
  }

  private onUdpMessage(udp: UdpSocket, msg: Buffer, rinfo: RemoteInfo, label: string): void {
    const send = (reply: Reply): void => {
      if (reply === undefined || this.stopped) return;
      udp.send(reply, rinfo.port, rinfo.address, (err) => {
        if (err) this.log.debug({ err, client: `${rinfo.address}:${rinfo.port}` }, "sending a reply failed");
      });
    };
    try {
      const r = this.handle(msg, "udp", label, rinfo.family === "IPv6" ? "2" : "1");
      if (r instanceof Promise) r.then(send, (err: unknown) => this.log.error({ err }, "query failed"));
      else send(r);
    } catch (err) {
      this.log.error({ err }, "query failed");
    }
  }

  /** RFC 1035 4.2.2 / RFC 7766: each message is preceded by its length; several may be in flight. */
  private onTcpConnection(sock: Socket, label: string): void {
    if (this.stopped) {
      sock.destroy();
      return;
    }
    this.tcpSockets.add(sock);
    sock.setNoDelay(true);
    sock.setTimeout(this.options.tcpIdleTimeoutMs, () => sock.destroy());
    const family = sock.remoteFamily === "IPv6" ? "2" : "1";
    let buf: Buffer = Buffer.alloc(0);
    const send = (reply: Reply): void => {
      if (reply === undefined || sock.destroyed) return;
      sock.write(frame(reply));
    };
    sock.on("data", (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const n = buf.readUInt16BE(0);
        if (buf.length < n + 2) break;
        const msg = buf.subarray(2, n + 2);
        buf = buf.subarray(n + 2);
        try {
          const r = this.handle(msg, "tcp", label, family);
          if (r instanceof Promise) r.then(send, (err: unknown) => this.log.error({ err }, "query failed"));
          else if (r === undefined) {
            // Garbage on a stream leaves no way to find the next message: close it.
            sock.destroy();
            return;
          } else send(r);
        } catch (err) {
          this.log.error({ err }, "query failed");
          sock.destroy();
          return;
        }
      }
    });
    sock.on("error", () => sock.destroy());
    sock.on("close", () => this.tcpSockets.delete(sock));
  }

  private async listenHttp(l: ListenAddress): Promise<HttpServer> {
    const server = createHttpServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (path === "/health") {
        res.writeHead(200, { "Content-Type": "text/plain" }).end("OK");
      } else if (path === "/ready") {
        const ok = this.ready;
        res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" }).end(ok ? "OK" : "not ready: caches not synced");
      } else if (path === "/metrics") {
        this.registry.metrics().then(
          (text) => res.writeHead(200, { "Content-Type": this.registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500).end(String(err)),
        );
      } else res.writeHead(404, { "Content-Type": "text/plain" }).end("404 page not found\n");
    });
    try {
      server.listen({ host: l.address, port: l.port });
      await once(server, "listening");
    } catch (err) {
      throw new DnsError("ListenFailed", `cannot serve HTTP on ${l.address}:${l.port}: ${(err as Error).message}`, { cause: err });
    }
    return server;
  }
}
