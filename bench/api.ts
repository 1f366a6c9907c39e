// API server benchmark: `npm run bench -- api [--seconds S]`. One JSON object per line:
//  - create and update (PUT with resourceVersion) through HTTPS with 1 and 32 concurrent
//    clients, next to the raw SQLite store doing the same writes at the same concurrency in the
//    same run (ratio = API / store; each the median of three runs taken in turn), and the
//    server's storage calls per API write over those runs by operation (storeCallsPerOp, from
//    its own metrics: a create should cost one store create, an update one update);
//  - get and list p50/p99 with 10,000 pods stored;
//  - watch delivery (write acknowledged → event received) p50/p99 to 100 and 1,000 watchers.
// The server runs as its own process (`k8ts server`, default store: SQLite, synchronous=FULL,
// in a temp dir), as it does for users, but without the embedded controllers and scheduler:
// they would answer every pod created with writes of their own (status, events), and the
// figures are of the API server. This process is the client. The ServiceAccount controller's
// one write that pods need (the namespace's `default` ServiceAccount) is made here.
// Updates are what clients do: PUT the object last read back, with one annotation changed.
// The writes are measured twice: on SQLite, whose raw figure is an in-process library call
// (tens of microseconds, no request to parse, authenticate or encode), and on etcd (3.4, a
// local member with its own data dir), where the raw figure is the same writes sent from this
// process to etcd over gRPC — the comparison upstream's apiserver-over-etcd invites.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { request } from "node:https";
import { openStore, type Store } from "../src/storage/index.js";
import { adminClient, createDefaultServiceAccount, type RawClient } from "../src/testing/client.js";
import { K8tsProcess } from "../src/testing/process.js";
import { freePort } from "../src/testing/net.js";
import { ETCD_BINARY, startEtcd } from "../src/testing/etcd.js";

const seconds = Number(process.argv[process.argv.indexOf("--seconds") + 1] || 0) || 2;

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
const round = (n: number): number => Math.round(n * 100) / 100;
const emit = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ bench: "api", ...o }) + "\n");

/** A pod as the server returns it (the parts the benchmark changes or reads). */
interface Obj {
  metadata: { resourceVersion: string; annotations?: Record<string, string> };
}

function pod(name: string, i = 0, namespace = "bench"): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace, labels: { app: "bench", i: String(i % 10) } },
    spec: { containers: [{ name: "c", image: "busybox:1.35", command: ["sleep", "3600"], resources: { requests: { cpu: "10m", memory: "16Mi" } } }] },
  };
}

interface Driven {
  /** Operations done. */
  readonly ops: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Runs `op` from `concurrency` loops for `seconds`; returns throughput and latencies. */
async function drive(concurrency: number, op: (i: number, worker: number) => Promise<void>): Promise<Driven> {
  const lat: number[] = [];
  let next = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < end) {
        const i = next++;
        const t = performance.now();
        await op(i, worker);
        lat.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  return { ops: lat.length, opsPerSec: round(lat.length / elapsed), p50Ms: round(percentile(lat, 0.5)), p99Ms: round(percentile(lat, 0.99)) };
}

async function expect(c: RawClient, method: string, path: string, body: unknown, status: number): Promise<string> {
  const r = await c.request(method, path, body === undefined ? undefined : JSON.stringify(body));
  if (r.status !== status) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
  return r.body;
}

/** Where the raw writes go: a SQLite file of their own, or the server's etcd outside the keys it serves. */
type RawTarget = { readonly sqliteDir: string } | { readonly etcdUrl: string };

async function rawStore(target: RawTarget, concurrency: number, kind: "create" | "update", round: number): Promise<number> {
  const url = "sqliteDir" in target ? `sqlite://${join(target.sqliteDir, `raw-${kind}-${concurrency}-${round}.db`)}` : target.etcdUrl;
  const prefix = `/raw-bench/${kind}-${concurrency}-${round}`;
  const store: Store = await openStore(url);
  const value = Buffer.from(JSON.stringify(pod("raw")));
  try {
    const revs = new Map<number, number>();
    if (kind === "update") for (let i = 0; i < concurrency; i++) revs.set(i, (await store.create(`${prefix}/u${i}`, value)).modRevision);
    const r = await drive(concurrency, async (i, slot) => {
      if (kind === "create") await store.create(`${prefix}/p${i}`, value);
      else {
        revs.set(slot, (await store.update(`${prefix}/u${slot}`, value, revs.get(slot)!)).modRevision);
      }
    });
    return r.opsPerSec;
  } finally {
    await store.close();
  }
}

function openWatch(url: string, c: RawClient, path: string, onLine: (line: string) => void): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { agent: c.agent }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch ${res.statusCode}`));
        return;
      }
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          onLine(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
      resolve(() => req.destroy());
    });
    req.on("error", () => undefined);
    req.end();
  });
}

/** `k8ts server` in its own process, once it printed its ready line (the end of its log in the error if it exits first). */
async function startServer(dir: string, store?: string): Promise<{ url: string; server: K8tsProcess }> {
  const port = await freePort();
  const storeArgs = store === undefined ? [] : ["--store", store];
  const server = K8tsProcess.start("k8ts server", ["server", "--data-dir", dir, "--port", String(port), ...storeArgs, "--disable-agent", "--disable-addons", "--disable-controllers", "--disable-scheduler", "--log-level", "warn"]);
  await server.ready("k8ts server ready", 60_000);
  return { url: `https://127.0.0.1:${port}`, server };
}

async function prepare(c: RawClient, ns = "bench"): Promise<void> {
  await expect(c, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, 201);
  await createDefaultServiceAccount(c, ns);
}

/**
 * The API's figure and the raw store's, each the median of ROUNDS runs taken in turn (API, raw,
 * API, raw, …): on a shared machine one run of each moved the ratio by ±30 %.
 */
const ROUNDS = 3;

/**
 * The server's storage calls so far by operation, from its apiserver_storage_request_duration_seconds
 * histogram: what one API write costs the store is the difference over a run, per write.
 */
async function storeCalls(c: RawClient): Promise<Map<string, number>> {
  const text = await expect(c, "GET", "/metrics", undefined, 200);
  const calls = new Map<string, number>();
  for (const m of text.matchAll(/^apiserver_storage_request_duration_seconds_count\{operation="(\w+)"[^}]*\} (\d+)$/gm)) calls.set(m[1]!, (calls.get(m[1]!) ?? 0) + Number(m[2]));
  return calls;
}

async function alternate(c: RawClient, api: (round: number) => Promise<Driven>, raw: (round: number) => Promise<number>): Promise<Omit<Driven, "ops"> & { baselineOpsPerSec: number; ratio: number; storeCallsPerOp: Record<string, number> }> {
  const apis: Driven[] = [];
  const raws: number[] = [];
  const calls = new Map<string, number>();
  let ops = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const before = await storeCalls(c);
    const d = await api(r);
    for (const [op, n] of await storeCalls(c)) calls.set(op, (calls.get(op) ?? 0) + n - (before.get(op) ?? 0));
    ops += d.ops;
    apis.push(d);
    raws.push(await raw(r));
  }
  apis.sort((a, b) => a.opsPerSec - b.opsPerSec);
  raws.sort((a, b) => a - b);
  const { ops: _, ...median } = apis[ROUNDS >> 1]!;
  const base = raws[ROUNDS >> 1]!;
  const storeCallsPerOp = Object.fromEntries([...calls].map(([op, n]) => [op, round(n / ops)] as const).filter(([, perOp]) => perOp > 0));
  return { ...median, baselineOpsPerSec: base, ratio: round(median.opsPerSec / base), storeCallsPerOp };
}

/** Creates and updates through the API at 1 and 32 clients, each next to the raw store's figure. */
async function writes(c: RawClient, store: "sqlite" | "etcd", raw: RawTarget): Promise<void> {
  for (const concurrency of [1, 32]) {
    const r = await alternate(
      c,
      (rd) => drive(concurrency, (i) => expect(c, "POST", "/api/v1/namespaces/bench/pods", pod(`c${concurrency}-${rd}-${i}`, i), 201).then(() => undefined)),
      (rd) => rawStore(raw, concurrency, "create", rd),
    );
    emit({ op: "create", store, concurrency, ...r, rounds: ROUNDS });
  }
  for (const concurrency of [1, 32]) {
    const last = new Map<number, Obj>();
    for (let i = 0; i < concurrency; i++) last.set(i, JSON.parse(await expect(c, "POST", "/api/v1/namespaces/bench/pods", pod(`u${concurrency}-${i}`), 201)) as Obj);
    const r = await alternate(
      c,
      () =>
        drive(concurrency, async (i, slot) => {
          const obj = last.get(slot)!;
          obj.metadata.annotations = { n: String(i) };
          last.set(slot, JSON.parse(await expect(c, "PUT", `/api/v1/namespaces/bench/pods/u${concurrency}-${slot}`, obj, 200)) as Obj);
        }),
      (rd) => rawStore(raw, concurrency, "update", rd),
    );
    emit({ op: "update", store, concurrency, ...r, rounds: ROUNDS });
  }
}

/** The same writes with the server and the raw figure on one etcd member of their own. */
async function etcdWrites(): Promise<void> {
  if (!existsSync(ETCD_BINARY)) {
    emit({ op: "create", store: "etcd", skipped: `${ETCD_BINARY} is not installed` });
    return;
  }
  const etcd = await startEtcd();
  const dir = mkdtempSync(join(tmpdir(), "k8ts-bench-api-etcd-"));
  const etcdUrl = etcd.endpoint.replace(/^http:/, "etcd:");
  const { url, server } = await startServer(dir, etcdUrl);
  const c = adminClient(url, dir, { maxSockets: 2000 });
  try {
    await prepare(c);
    await writes(c, "etcd", { etcdUrl });
  } finally {
    c.close();
    await server.stop();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "k8ts-bench-api-"));
  const { url, server } = await startServer(dir);
  const c = adminClient(url, dir, { maxSockets: 2000 });
  try {
    await prepare(c);
    await writes(c, "sqlite", { sqliteDir: dir });

    // Reads of a namespace of their own with 10,000 pods (however many the writes left elsewhere).
    await prepare(c, "reads");
    const fill: Promise<unknown>[] = [];
    for (let i = 0; i < 10_000; i++) {
      fill.push(expect(c, "POST", "/api/v1/namespaces/reads/pods", pod(`fill-${i}`, i, "reads"), 201));
      if (fill.length >= 64) await Promise.all(fill.splice(0));
    }
    await Promise.all(fill);
    const names = (JSON.parse(await expect(c, "GET", "/api/v1/namespaces/reads/pods?resourceVersion=0", undefined, 200)) as { items: { metadata: { name: string } }[] }).items.map((p) => p.metadata.name);
    const get = await drive(8, (i) => expect(c, "GET", `/api/v1/namespaces/reads/pods/${names[i % names.length]}`, undefined, 200).then(() => undefined));
    emit({ op: "get", concurrency: 8, stored: names.length, ...get });
    const listCached = await drive(1, () => expect(c, "GET", "/api/v1/namespaces/reads/pods?resourceVersion=0", undefined, 200).then(() => undefined));
    emit({ op: "list", from: "watch cache (resourceVersion=0)", concurrency: 1, stored: names.length, ...listCached });
    const listConsistent = await drive(1, () => expect(c, "GET", "/api/v1/namespaces/reads/pods", undefined, 200).then(() => undefined));
    emit({ op: "list", from: "watch cache after catching up (consistent)", concurrency: 1, stored: names.length, ...listConsistent });
    const listPaged = await drive(1, () => expect(c, "GET", "/api/v1/namespaces/reads/pods?limit=500", undefined, 200).then(() => undefined));
    emit({ op: "list", from: "store, limit=500 (kubectl get)", concurrency: 1, stored: names.length, ...listPaged });

    // Watch delivery: one pod is updated; every watcher must see each update.
    for (const watchers of [100, 1000]) {
      const target = `w${watchers}`;
      let obj = JSON.parse(await expect(c, "POST", "/api/v1/namespaces/bench/pods", pod(target), 201)) as Obj;
      const pending = new Map<string, { at: number; left: number }>();
      const lat: number[] = [];
      const closers = await Promise.all(
        Array.from({ length: watchers }, () =>
          openWatch(url, c, `/api/v1/namespaces/bench/pods?watch=true&fieldSelector=metadata.name%3D${target}&resourceVersion=${obj.metadata.resourceVersion}`, (line) => {
            const rv = /"resourceVersion":"(\d+)"/.exec(line)?.[1];
            const p = rv ? pending.get(rv) : undefined;
            if (!p) return;
            lat.push(performance.now() - p.at);
            if (--p.left === 0) pending.delete(rv!);
          }),
        ),
      );
      const writes = 50;
      for (let i = 0; i < writes; i++) {
        obj.metadata.annotations = { n: String(i) };
        const t = performance.now();
        obj = JSON.parse(await expect(c, "PUT", `/api/v1/namespaces/bench/pods/${target}`, obj, 200)) as Obj;
        const rv = obj.metadata.resourceVersion;
        pending.set(rv, { at: t, left: watchers });
        const deadline = performance.now() + 10_000;
        while (pending.has(rv) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      }
      for (const close of closers) close();
      lat.sort((a, b) => a - b);
      emit({ op: "watch-delivery", watchers, writes, delivered: lat.length, expected: writes * watchers, p50Ms: round(percentile(lat, 0.5)), p99Ms: round(percentile(lat, 0.99)) });
    }
  } finally {
    c.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  await etcdWrites();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
