// Query latency of the cluster DNS server, as a user's resolver sees it: the bundled server
// (dist/dns/k8ts-dns.cjs, what the image runs) in its own process against an API server (the
// caller's kubeconfig; 100 Services are created in a namespace of their own and deleted
// after), one client asking over UDP on loopback. Printed beside two baselines measured
// in the same run: a trivial UDP echo (the floor: two Node event loops and the loopback), and
// names forwarded to an upstream that answers at once (one more hop). Also the in-process cost
// of one cluster answer (parse, look up, encode) without sockets.
//   node dist/src/dns/bench.js --kubeconfig FILE [--queries 10000] [--concurrency 32]
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { createClientFromKubeconfig } from "../src/client/rest.js";
import { serviceRecords, zoneRecords } from "../src/dns/records.js";
import { Resolver } from "../src/dns/resolver.js";
import { RecordStore } from "../src/dns/store.js";
import { encodeQuery } from "../src/dns/testing.js";
import { parseQuery, udpLimit, WireWriter } from "../src/dns/wire.js";
import { startTestApiServer } from "../src/testing/apiserver.js";
import { freePort } from "../src/testing/net.js";
import { until } from "../src/testing/wait.js";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface LatencyStats {
  readonly name: string;
  readonly n: number;
  readonly p50us: number;
  readonly p90us: number;
  readonly p99us: number;
  readonly maxUs: number;
  /** queries per second, one at a time */
  readonly sequentialQps: number;
}

function stats(name: string, samples: number[], totalMs: number): LatencyStats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { name, n: s.length, p50us: at(0.5), p90us: at(0.9), p99us: at(0.99), maxUs: s[s.length - 1] ?? 0, sequentialQps: (s.length / totalMs) * 1000 };
}

/** One UDP socket, one query at a time or `concurrency` at once; matches replies by id. */
class Client {
  private readonly sock: Socket = createSocket("udp4");
  private readonly waiting = new Map<number, () => void>();
  constructor(private readonly port: number) {
    this.sock.on("message", (msg: Buffer) => {
      const done = this.waiting.get(msg.readUInt16BE(0));
      if (done) {
        this.waiting.delete(msg.readUInt16BE(0));
        done();
      }
    });
  }

  ask(msg: Buffer, id: number): Promise<void> {
    msg.writeUInt16BE(id, 0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer to query ${id} within 2 s`));
      }, 2000);
      this.waiting.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
      this.sock.send(msg, this.port, "127.0.0.1");
    });
  }

  async sequential(name: string, queries: readonly Buffer[], n: number): Promise<LatencyStats> {
    const samples: number[] = [];
    // warm-up: JIT on both sides, label children of the metrics
    for (let i = 0; i < Math.min(500, n); i++) await this.ask(Buffer.from(queries[i % queries.length]!), i & 0xffff);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const q = Buffer.from(queries[i % queries.length]!);
      const s = process.hrtime.bigint();
      await this.ask(q, i & 0xffff);
      samples.push(Number(process.hrtime.bigint() - s) / 1000);
    }
    return stats(name, samples, performance.now() - t0);
  }

  async concurrent(queries: readonly Buffer[], n: number, concurrency: number): Promise<number> {
    let next = 0;
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        await this.ask(Buffer.from(queries[i % queries.length]!), i & 0xffff);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return (n / (performance.now() - t0)) * 1000;
  }

  close(): void {
    this.sock.close();
  }
}

/**
 * A process with a UDP echo on one port and a resolver on another that answers any question
 * with one A record: the byte surgery needs no library, so it costs what an echo costs.
 */
const HELPERS = `
const dgram = require("node:dgram");
const echo = dgram.createSocket("udp4");
echo.on("message", (m, r) => echo.send(m, r.port, r.address));
const up = dgram.createSocket("udp4");
up.on("message", (m, r) => {
  const tail = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
  const out = Buffer.concat([m.subarray(0, 12 + qlen(m)), tail]);
  out.writeUInt16BE(0x8180, 2); out.writeUInt16BE(1, 6); out.writeUInt16BE(0, 8); out.writeUInt16BE(0, 10);
  up.send(out, r.port, r.address);
});
function qlen(m) { let o = 12; while (m[o] !== 0) o += m[o] + 1; return o + 1 + 4 - 12; }
let n = 0;
const ready = () => { if (++n === 2) process.stdout.write(JSON.stringify({ echo: echo.address().port, upstream: up.address().port }) + "\\n"); };
echo.bind(0, "127.0.0.1", ready);
up.bind(0, "127.0.0.1", ready);
`;

export interface DnsBenchReport {
  readonly echo: LatencyStats;
  readonly cluster: LatencyStats;
  readonly forwarded: LatencyStats;
  readonly headlessSrv: LatencyStats;
  readonly concurrentQps: number;
  readonly concurrency: number;
  /** parse + resolve + encode of one cluster A answer, in-process */
  readonly inProcessUs: number;
  readonly serverRssMiB: number;
}

function inProcessCost(n: number): number {
  const zone = "cluster.local";
  const store = new RecordStore(zone);
  store.set("zone", zoneRecords(zone));
  for (let i = 0; i < 100; i++) {
    const svc: Service = { metadata: { name: `svc-${i}`, namespace: "bench" }, spec: { clusterIP: `10.43.1.${i}`, ports: [{ name: "http", port: 80 }] } };
    store.set(`bench/svc-${i}`, serviceRecords(svc, [], zone));
  }
  const resolver = new Resolver({ store, zone, ttl: 5, serial: () => 1 });
  const writer = new WireWriter();
  const queries = Array.from({ length: 100 }, (_, i) => encodeQuery(`svc-${i}.bench.svc.cluster.local`, "A"));
  const once = (q: Buffer): void => {
    const p = parseQuery(q);
    const r = resolver.resolve(p.question!);
    if (r.kind !== "answer") throw new Error("expected an answer");
    writer.encode({ id: p.id, opcode: 0, rcode: r.rcode, authoritative: true, recursionDesired: true, question: p.question!, answers: r.answers, authorities: r.authorities, additionals: r.additionals }, udpLimit(undefined));
  };
  for (let i = 0; i < 20_000; i++) once(queries[i % 100]!);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) once(queries[i % 100]!);
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

export async function runDnsBenchmark(o: { kubeconfig: string; queries?: number; concurrency?: number }): Promise<DnsBenchReport> {
  const n = o.queries ?? 10_000;
  const concurrency = o.concurrency ?? 32;
  const bundle = join(repo, "dist", "dns", "k8ts-dns.cjs");
  if (!existsSync(bundle)) execFileSync(process.execPath, [join(repo, "scripts", "bundle-dns.mjs")], { stdio: "ignore" });
  const ns = `k8ts-dns-bench-${randomBytes(3).toString("hex")}`;
  const children: ChildProcess[] = [];
  const clients: Client[] = [];
  const client = await createClientFromKubeconfig(o.kubeconfig, { qps: Infinity });
  try {
    await client.forKind("v1", "Namespace").create({ metadata: { name: ns } });
    const svcs = client.forKind("v1", "Service").namespace(ns);
    for (let i = 0; i < 100; i++) await svcs.create({ metadata: { name: `svc-${i}` }, spec: { ports: [{ name: "http", port: 80 }] } } as Service);
    await svcs.create({ metadata: { name: "headless" }, spec: { clusterIP: "None", ports: [{ name: "http", port: 80 }] } } as Service);
    await client.forKind("discovery.k8s.io/v1", "EndpointSlice").namespace(ns).create({
      metadata: { name: "headless-1", labels: { "kubernetes.io/service-name": "headless" } },
      addressType: "IPv4",
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      endpoints: Array.from({ length: 10 }, (_, i) => ({ addresses: [`10.42.0.${i + 1}`], hostname: `web-${i}`, conditions: { ready: true } })),
    } as EndpointSlice);

    const helpers = spawn(process.execPath, ["-e", HELPERS], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(helpers);
    const [line] = (await once(helpers.stdout!, "data")) as [Buffer];
    const ports = JSON.parse(line.toString()) as { echo: number; upstream: number };

    const dnsPort = await freePort();
    const readyPort = await freePort();
    const server = spawn(process.execPath, [bundle, "--kubeconfig", o.kubeconfig, "--listen", `127.0.0.1:${dnsPort}`, "--http-address", "127.0.0.1", "--health-port", "0", "--ready-port", String(readyPort), "--metrics-port", "0", "--upstream", `127.0.0.1:${ports.upstream}`, "--log-level", "warn"], { stdio: ["ignore", "ignore", "inherit"] });
    children.push(server);
    await until(
      "the DNS server ready",
      async () => {
        if (server.exitCode !== null) throw new Error(`the DNS server exited with ${server.exitCode}`);
        return (await fetch(`http://127.0.0.1:${readyPort}/ready`)).ok ? true : undefined;
      },
      30_000,
      50,
    );

    const echoClient = new Client(ports.echo);
    const dns = new Client(dnsPort);
    clients.push(echoClient, dns);
    const clusterQueries = Array.from({ length: 100 }, (_, i) => encodeQuery(`svc-${i}.${ns}.svc.cluster.local`, "A"));
    const echo = await echoClient.sequential("udp echo (floor)", clusterQueries, n);
    const cluster = await dns.sequential("cluster A (cache)", clusterQueries, n);
    const forwarded = await dns.sequential("forwarded A", [encodeQuery("www.example.com", "A")], n);
    const headlessSrv = await dns.sequential("headless SRV, 10 endpoints", [encodeQuery(`_http._tcp.headless.${ns}.svc.cluster.local`, "SRV", { ednsSize: 1232 })], Math.ceil(n / 5));
    const concurrentQps = await dns.concurrent(clusterQueries, n * 2, concurrency);
    const status = existsSync(`/proc/${server.pid}/status`) ? readFileSync(`/proc/${server.pid}/status`, "utf8") : "";
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { echo, cluster, forwarded, headlessSrv, concurrentQps, concurrency, inProcessUs: inProcessCost(200_000), serverRssMiB: rssKb / 1024 };
  } finally {
    for (const c of clients) c.close();
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill("SIGTERM");
        await once(c, "exit");
      }
    }
    await client.forKind("v1", "Namespace").delete(ns).catch(() => undefined);
    client.close();
  }
}

export function formatDnsReport(r: DnsBenchReport): string {
  const row = (s: LatencyStats): string => `${s.name.padEnd(28)} ${String(s.n).padStart(6)}  p50 ${s.p50us.toFixed(0).padStart(5)} µs  p90 ${s.p90us.toFixed(0).padStart(5)} µs  p99 ${s.p99us.toFixed(0).padStart(5)} µs  max ${s.maxUs.toFixed(0).padStart(6)} µs  ${s.sequentialQps.toFixed(0).padStart(6)} q/s one at a time`;
  return [
    "cluster DNS, one UDP client on loopback (server: the bundled k8ts-dns in its own process)",
    row(r.echo),
    row(r.cluster),
    row(r.forwarded),
    row(r.headlessSrv),
    `cluster A with ${r.concurrency} in flight: ${r.concurrentQps.toFixed(0)} q/s`,
    `in-process parse + lookup + encode of one cluster answer: ${r.inProcessUs.toFixed(2)} µs`,
    `server RSS after the run: ${r.serverRssMiB.toFixed(1)} MiB`,
  ].join("\n");
}

// `npm run bench -- dns [--kubeconfig F] [--queries N] [--concurrency N]`: against the API
// server of that kubeconfig, or one this run starts.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { kubeconfig: { type: "string" }, queries: { type: "string" }, concurrency: { type: "string" } } });
  const api = values.kubeconfig ? undefined : await startTestApiServer();
  try {
    const report = await runDnsBenchmark({
      kubeconfig: values.kubeconfig ?? api!.kubeconfig,
      ...(values.queries ? { queries: Number(values.queries) } : {}),
      ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    });
    process.stdout.write(`${formatDnsReport(report)}\n`);
  } finally {
    await api?.stop();
  }
}
