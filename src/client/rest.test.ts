// The REST client against a real API server (verbs, subresources, errors, watches) and against
// small scripted HTTP servers for what a healthy server will not do on demand (Retry-After,
// reset sockets, silence, odd framing).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { Deployment } from "kubernetes-types/apps/v1.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { until } from "../testing/wait.js";
import { realClock, type Clock } from "./clock.js";
import { ApiError, ClientError, isAlreadyExists, isConflict, isExpired, isGoneOrExpired, isInvalid, isNotFound, isTooManyRequests } from "./errors.js";
import { RestClient, createClientFromKubeconfig, createInClusterClient, isStatus, managedFieldsCut, metadataAnswer, type WatchEvent } from "./rest.js";

const pod = (name: string, labels: Record<string, string> = { app: "t" }): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels },
  spec: { containers: [{ name: "c", image: "busybox:1.35" }] },
});

const deployment = (name: string): Deployment => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } },
  },
});

/** ApiServer.start() resolves before its kubeconfig is on disk (the write is not awaited there). */
async function kubeconfigWritten(s: TestApiServer): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!existsSync(s.kubeconfig)) {
    if (Date.now() > deadline) throw new Error(`${s.kubeconfig} never appeared`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function collect<T>(it: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) {
    out.push(v);
    if (out.length === n) break;
  }
  return out;
}

void describe("RestClient against the API server", () => {
  let s: TestApiServer;
  let client: RestClient;
  before(async () => {
    s = await startTestApiServer({ watchCacheHistory: 8 });
    await kubeconfigWritten(s);
    client = await createClientFromKubeconfig(s.kubeconfig, { component: "rest-test", qps: Infinity });
    const namespaces = client.forKind("v1", "Namespace");
    for (const name of ["paging", "watching", "churn"]) await namespaces.create({ metadata: { name } });
  });
  after(async () => {
    client?.close();
    await s?.stop();
  });

  void it("creates, reads, lists, updates, patches and deletes pods", async () => {
    const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
    const created = await pods.create(pod("crud"));
    assert.equal(created.metadata?.namespace, "default");
    assert.ok(created.metadata?.uid);
    assert.equal(created.metadata?.managedFields?.[0]?.manager, "k8ts-rest-test", "the user agent names the field manager");

    const got = await pods.get("crud");
    assert.equal(got.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.equal(got.kind, "Pod");

    const list = await pods.list({ labelSelector: "app=t" });
    assert.ok(list.items.some((p) => p.metadata?.name === "crud"));
    assert.ok(list.metadata.resourceVersion);
    assert.ok(list.items.every((p) => p.kind === "Pod" && p.apiVersion === "v1"));

    const changed = structuredClone(got);
    changed.metadata!.labels = { app: "t", step: "update" };
    const updated = await pods.update(changed);
    assert.equal(updated.metadata?.labels?.["step"], "update");
    await assert.rejects(pods.update(changed), (e: unknown) => isConflict(e) && (e as ApiError).code === 409, "a stale resourceVersion is a Conflict");

    const withStatus: Pod = { ...structuredClone(updated), status: { phase: "Running" } };
    withStatus.metadata!.labels = { ignored: "by-status" };
    const st = await pods.updateStatus(withStatus);
    assert.equal(st.status?.phase, "Running");
    assert.equal(st.metadata?.labels?.["step"], "update", "status updates leave metadata alone");

    assert.equal((await pods.patch("crud", "merge", { metadata: { labels: { merge: "1" } } })).metadata?.labels?.["merge"], "1");
    assert.equal((await pods.patch("crud", "strategic", { metadata: { labels: { smp: "1" } } })).metadata?.labels?.["smp"], "1");
    assert.equal((await pods.patch("crud", "json", [{ op: "add", path: "/metadata/labels/json", value: "1" }])).metadata?.labels?.["json"], "1");
    const applied = await pods.patch("crud", "apply", { apiVersion: "v1", kind: "Pod", metadata: { name: "crud", labels: { applied: "1" } } }, { fieldManager: "tester", force: true });
    assert.equal(applied.metadata?.labels?.["applied"], "1");
    const statusPatched = await pods.patch("crud", "merge", { status: { phase: "Succeeded" } }, { subresource: "status" });
    assert.equal(statusPatched.status?.phase, "Succeeded");

    const dry = await pods.create(pod("dry"), { dryRun: true });
    assert.equal(dry.metadata?.name, "dry");
    await assert.rejects(pods.get("dry"), isNotFound);

    const deleted = await pods.delete("crud", { gracePeriodSeconds: 0 });
    assert.ok(!isStatus(deleted));
    await assert.rejects(pods.get("crud"), (e: unknown) => isNotFound(e) && e instanceof ApiError && e.details?.name === "crud");
  });

  void it("reports server refusals as ApiError with the Status", async () => {
    const pods = client.resource<Pod>("", "v1", "pods").namespace("default");
    await pods.create(pod("dup"));
    await assert.rejects(pods.create(pod("dup")), isAlreadyExists);
    const bad = pod("Bad_Name");
    await assert.rejects(pods.create(bad), (e: unknown) => {
      assert.ok(isInvalid(e) && e instanceof ApiError);
      assert.equal(e.code, 422);
      assert.ok(e.details?.causes?.some((c) => c.field === "metadata.name"));
      return true;
    });
    await assert.rejects(pods.delete("never-was"), isNotFound);
  });

  void it("omitManagedFields: answers and watch events come without managedFields, otherwise the same", async () => {
    const pods = client.forKind("v1", "Pod").namespace("watching");
    const watch = await pods.watch({ omitManagedFields: true, resourceVersion: (await pods.list()).metadata.resourceVersion! });
    const events = collect(watch, 2);
    const lean = await pods.create(pod("lean"), { omitManagedFields: true });
    assert.equal(lean.metadata?.managedFields, undefined);
    const full = await pods.get("lean");
    assert.ok(full.metadata?.managedFields?.length, "without the option they are there");
    const { managedFields: _mf, ...meta } = full.metadata!;
    assert.deepEqual(await pods.get("lean", { omitManagedFields: true }), { ...full, metadata: meta });
    const patched = await pods.patch("lean", "merge", { metadata: { labels: { x: "y" } } }, { omitManagedFields: true });
    assert.equal(patched.metadata?.managedFields, undefined);
    assert.equal(patched.metadata?.labels?.["x"], "y");
    const seen = await events;
    assert.deepEqual(
      seen.map((e) => [e.type, (e.object as Pod).metadata?.name, (e.object as Pod).metadata?.managedFields, (e.object as Pod).kind]),
      [
        ["ADDED", "lean", undefined, "Pod"],
        ["MODIFIED", "lean", undefined, "Pod"],
      ],
    );
    assert.equal((seen[1]!.object as Pod).metadata?.resourceVersion, patched.metadata?.resourceVersion);
    watch.stop();
  });

  void it("answer: metadata: a write answers its object's metadata alone, without managedFields", async () => {
    const pods = client.forKind("v1", "Pod").namespace("watching");
    const created = await pods.create({ ...pod("meta-only"), metadata: { generateName: "meta-", labels: { a: "b" } } }, { answer: "metadata" });
    const full = await pods.get(created.metadata!.name!);
    const { managedFields: _mf, ...meta } = full.metadata!;
    assert.deepEqual(created, { metadata: meta });
    const patched = await pods.patch(created.metadata!.name!, "strategic", { status: { phase: "Running" } }, { subresource: "status", answer: "metadata" });
    assert.deepEqual(Object.keys(patched), ["metadata"]);
    assert.equal(patched.metadata?.managedFields, undefined);
    assert.notEqual(patched.metadata?.resourceVersion, full.metadata?.resourceVersion);
    const current = await pods.get(created.metadata!.name!);
    const updated = await pods.update({ ...current, metadata: { ...current.metadata, labels: { a: "c" } } }, { answer: "metadata" });
    assert.deepEqual(updated.metadata?.labels, { a: "c" });
    assert.equal(updated.kind, undefined, "only the metadata is decoded");
    assert.equal(patched.metadata?.resourceVersion, current.metadata?.resourceVersion);
  });

  void it("needs a namespace for namespaced writes and knows built-in kinds", async () => {
    const pods = client.forKind("v1", "Pod");
    await assert.rejects(async () => pods.get("x"), (e: unknown) => e instanceof ClientError && e.code === "NamespaceRequired");
    const p = pod("from-object");
    p.metadata!.namespace = "default";
    assert.equal((await pods.create(p)).metadata?.name, "from-object", "an unscoped client writes where the object says");
    assert.throws(() => client.forKind("example.com/v1", "Widget"), (e: unknown) => e instanceof ClientError && e.code === "UnknownResource");
    assert.throws(() => client.resource("example.com", "v1", "widgets"), (e: unknown) => e instanceof ClientError && e.code === "UnknownResource");
    const widgets = client.resource("example.com", "v1", "widgets", { namespaced: true }).namespace("a");
    assert.equal(widgets.path("a", "w", "status"), "/apis/example.com/v1/namespaces/a/widgets/w/status");
    assert.equal(client.forKind("v1", "Node").path("", "n1"), "/api/v1/nodes/n1");
  });

  void it("pages lists with limit/continue and listAll joins the pages at one resourceVersion", async () => {
    const pods = client.resource<Pod>("", "v1", "pods").namespace("paging");
    for (let i = 0; i < 7; i++) await pods.create(pod(`p${i}`, { page: "yes" }));
    const first = await pods.list({ limit: 3 });
    assert.equal(first.items.length, 3);
    assert.ok(first.metadata.continue);
    const second = await pods.list({ limit: 3, continue: first.metadata.continue! });
    assert.equal(second.metadata.resourceVersion, first.metadata.resourceVersion);
    const all = await pods.listAll({ limit: 2 });
    assert.deepEqual(all.items.map((p) => p.metadata?.name), ["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
    assert.equal(all.metadata.continue, undefined);
    const gone = await pods.deleteCollection({ labelSelector: "page=yes", gracePeriodSeconds: 0 });
    assert.ok(!isStatus(gone) && gone.items.length === 7);
    assert.equal((await pods.list()).items.length, 0);
  });

  void it("watches: events in order from a resourceVersion, ends on abort and on timeoutSeconds", async () => {
    const pods = client.resource<Pod>("", "v1", "pods").namespace("watching");
    const rv = (await pods.list()).metadata.resourceVersion!;
    const ac = new AbortController();
    const w = await pods.watch({ resourceVersion: rv, signal: ac.signal, allowWatchBookmarks: true });
    const got = collect(w, 3);
    await pods.create(pod("w"));
    await pods.patch("w", "merge", { metadata: { labels: { n: "1" } } });
    await pods.delete("w", { gracePeriodSeconds: 0 });
    const events = (await got) as WatchEvent<Pod>[];
    assert.deepEqual(events.map((e) => e.type), ["ADDED", "MODIFIED", "DELETED"]);
    const first = events[0]!;
    assert.ok(first.type === "ADDED" && first.object.kind === "Pod" && first.object.metadata?.name === "w");

    const ac2 = new AbortController();
    const idle = await pods.watch({ resourceVersion: rv, signal: ac2.signal, labelSelector: "none=here" });
    const drained = collect(idle, 100);
    ac2.abort();
    assert.deepEqual(await drained, [], "aborting ends the iteration without an error");

    const short = await pods.watch({ timeoutSeconds: 1, labelSelector: "none=here" });
    const t0 = Date.now();
    assert.deepEqual(await collect(short, 100), []);
    assert.ok(Date.now() - t0 < 5000, "the server ended the watch after timeoutSeconds");
    ac.abort();
  });

  void it("watch from a compacted resourceVersion yields ERROR 410 Expired", async () => {
    const pods = client.resource<Pod>("", "v1", "pods").namespace("churn");
    const rv = (await pods.create(pod("base"))).metadata!.resourceVersion!;
    for (let i = 0; i < 12; i++) await pods.create(pod(`c${i}`));
    const w = await pods.watch({ resourceVersion: rv });
    const [ev] = await collect(w, 1);
    assert.equal(ev?.type, "ERROR");
    assert.ok(ev?.type === "ERROR");
    const err = new ApiError(ev.object);
    assert.ok(isExpired(err) && isGoneOrExpired(err));
    assert.equal(err.code, 410);
  });

  void it("scale subresource", async () => {
    const deployments = client.forKind("apps/v1", "Deployment").namespace("default");
    await deployments.create(deployment("web"));
    const scale = await deployments.getScale("web");
    assert.equal(scale.spec?.replicas, 1);
    assert.equal(scale.kind, "Scale");
    scale.spec = { replicas: 3 };
    assert.equal((await deployments.updateScale("web", scale)).spec?.replicas, 3);
    assert.equal((await deployments.patchScale("web", "merge", { spec: { replicas: 5 } })).spec?.replicas, 5);
    assert.equal((await deployments.get("web")).spec?.replicas, 5);
  });

  void it("refuses a server certificate it cannot verify (Transport, not retried)", async () => {
    const untrusting = new RestClient({ config: { ...client.config, caPem: undefined }, qps: Infinity });
    try {
      await assert.rejects(untrusting.forKind("v1", "Namespace").list(), (e: unknown) => e instanceof ClientError && e.code === "Transport" && /certificate/i.test(e.message));
    } finally {
      untrusting.close();
    }
  });

  void it("binding subresource", async () => {
    const pods = client.forKind("v1", "Pod").namespace("default");
    await pods.create(pod("bind-me"));
    const bound = await pods.bind("bind-me", "node-1");
    assert.equal(bound.status, "Success");
    assert.equal((await pods.get("bind-me")).spec?.nodeName, "node-1");
    await assert.rejects(pods.bind("bind-me", "node-2"), isConflict);
  });

  void it("eviction subresource", async () => {
    const pods = client.forKind("v1", "Pod").namespace("default");
    await pods.create(pod("evict-me"));
    const evicted = await pods.evict("evict-me", { gracePeriodSeconds: 0 });
    assert.equal(evicted.status, "Success");
    await assert.rejects(pods.get("evict-me"), isNotFound);
  });
});

// ---- scripted servers ---------------------------------------------------------------------

interface Scripted {
  readonly url: string;
  readonly requests: { method: string; url: string; socket: Socket }[];
  close(): Promise<void>;
}

async function scripted(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<Scripted> {
  const requests: Scripted["requests"] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", socket: req.socket });
    req.resume();
    req.on("end", () => handler(req, res, requests.length));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A clock whose timers fire at once but remember what they were asked to wait. */
function recordingClock(): { clock: Clock; waits: number[] } {
  const waits: number[] = [];
  return { waits, clock: { now: () => Date.now(), setTimer: (ms, fn) => (waits.push(ms), realClock.setTimer(0, fn)) } };
}

const cfg = (server: string): ConstructorParameters<typeof RestClient>[0]["config"] => ({ server, insecureSkipTLSVerify: false, namespace: "default" });
const status = (code: number, reason: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `${reason}!`, reason, code, ...extra });

void describe("bearer token from a file", () => {
  void it("is read again after a minute, so a rotated service account token is used", async () => {
    const seen: string[] = [];
    const srv = await scripted((req, res) => {
      seen.push(req.headers.authorization ?? "");
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ kind: "Namespace", apiVersion: "v1", metadata: { name: "default" } }));
    });
    const dir = mkdtempSync(join(tmpdir(), "k8ts-token-"));
    const file = join(dir, "token");
    writeFileSync(file, "first\n");
    let now = 1_000_000;
    const client = new RestClient({ config: { ...cfg(srv.url), token: "first", tokenFile: file }, clock: { now: () => now, setTimer: realClock.setTimer } });
    try {
      await client.forKind("v1", "Namespace").get("default");
      writeFileSync(file, "second\n");
      await client.forKind("v1", "Namespace").get("default");
      now += 61_000;
      await client.forKind("v1", "Namespace").get("default");
      assert.deepEqual(seen, ["Bearer first", "Bearer first", "Bearer second"]);
    } finally {
      client.close();
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

void describe("createInClusterClient", () => {
  void it("reads the ServiceAccount mount and the service environment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-sa-"));
    try {
      writeFileSync(join(dir, "token"), "tok-123\n");
      writeFileSync(join(dir, "ca.crt"), "-----BEGIN CERTIFICATE-----\n");
      writeFileSync(join(dir, "namespace"), "team-a");
      const c = await createInClusterClient({ dir, env: { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, component: "in-pod" });
      try {
        assert.equal(c.config.server, "https://[fd00::1]:443");
        assert.equal(c.config.token, "tok-123");
        assert.equal(c.config.namespace, "team-a");
        assert.match(c.userAgent, /^k8ts-in-pod\//);
      } finally {
        c.close();
      }
      await assert.rejects(createInClusterClient({ dir, env: {} }), /KUBERNETES_SERVICE_HOST/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

void describe("RestClient retries, throttling and transport", () => {
  void it("retries 429 and 5xx with Retry-After after the time the server asked for", async () => {
    const srv = await scripted((_req, res, n) => {
      if (n === 1) res.writeHead(429, { "Retry-After": "2", "Content-Type": "application/json" }).end(status(429, "TooManyRequests", { details: { retryAfterSeconds: 2 } }));
      else if (n === 2) res.writeHead(503, { "Retry-After": "1" }).end("warming up");
      else res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ kind: "Pod", metadata: { name: "x" } }));
    });
    const { clock, waits } = recordingClock();
    const c = new RestClient({ config: cfg(srv.url), clock, qps: Infinity });
    try {
      const p = await c.resource<Pod>("", "v1", "pods").namespace("d").get("x");
      assert.equal(p.metadata?.name, "x");
      assert.deepEqual(waits, [2000, 1000]);
      assert.equal(srv.requests.length, 3);
    } finally {
      c.close();
      await srv.close();
    }
  });

  void it("gives up after maxRetries and does not retry 5xx without Retry-After", async () => {
    const srv = await scripted((req, res) => {
      if (req.url?.includes("busy")) res.writeHead(429, { "Retry-After": "1", "Content-Type": "application/json" }).end(status(429, "TooManyRequests"));
      else res.writeHead(500, { "Content-Type": "text/plain" }).end("kaboom");
    });
    const { clock, waits } = recordingClock();
    const c = new RestClient({ config: cfg(srv.url), clock, qps: Infinity, maxRetries: 3 });
    try {
      const pods = c.resource<Pod>("", "v1", "pods").namespace("d");
      await assert.rejects(pods.get("busy"), isTooManyRequests);
      assert.equal(srv.requests.length, 4, "one try and three retries");
      assert.equal(waits.length, 3);
      await assert.rejects(pods.get("boom"), (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.code, 500);
        assert.equal(e.reason, "InternalError", "a non-Status body gets the reason of its code");
        assert.equal(e.message, "kaboom");
        return true;
      });
      assert.equal(srv.requests.length, 5);
    } finally {
      c.close();
      await srv.close();
    }
  });

  void it("throttles to qps after the burst", async () => {
    const srv = await scripted((_req, res) => res.writeHead(200, { "Content-Type": "application/json" }).end("{}"));
    const { clock, waits } = recordingClock();
    // A fixed "now": only the reservations move the bucket, so the waits are exact.
    const frozen: Clock = { now: () => 0, setTimer: clock.setTimer };
    const c = new RestClient({ config: cfg(srv.url), clock: frozen, qps: 5, burst: 2 });
    try {
      const pods = c.resource<Pod>("", "v1", "pods").namespace("d");
      for (let i = 0; i < 4; i++) await pods.get(`p${i}`);
      assert.deepEqual(waits.map(Math.round), [200, 400]);
    } finally {
      c.close();
      await srv.close();
    }
  });

  void it("retries any verb whose reused keep-alive socket was reset before an answer", async () => {
    const served = new WeakSet<Socket>();
    const srv = await scripted((req, res) => {
      if (served.has(req.socket)) {
        req.socket.destroy();
        return;
      }
      served.add(req.socket);
      res.writeHead(201, { "Content-Type": "application/json" }).end(JSON.stringify({ metadata: { name: "ok" } }));
    });
    const c = new RestClient({ config: cfg(srv.url), qps: Infinity });
    try {
      const pods = c.resource<Pod>("", "v1", "pods").namespace("d");
      await pods.create(pod("a"));
      await pods.create(pod("b"));
      assert.equal(srv.requests.length, 3, "the second create died on the reused socket and went again on a new one");
      assert.notEqual(srv.requests[1]!.socket, srv.requests[2]!.socket);
    } finally {
      c.close();
      await srv.close();
    }
  });

  void it("retries a GET reset on a fresh socket with backoff, never a POST", async () => {
    let resets = 0;
    const srv = await scripted((req, res) => {
      if (resets < 2 || req.method === "POST") {
        resets++;
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
    });
    const { clock, waits } = recordingClock();
    const c = new RestClient({ config: cfg(srv.url), clock, qps: Infinity });
    try {
      const pods = c.resource<Pod>("", "v1", "pods").namespace("d");
      await pods.get("x");
      assert.equal(waits.length, 2);
      assert.ok(waits[1]! > waits[0]! * 0.9, "backoff grows");
      await assert.rejects(pods.create(pod("p")), (e: unknown) => e instanceof ClientError && e.code === "Transport");
    } finally {
      c.close();
      await srv.close();
    }
  });

  void it("times out a silent server and honours the caller's abort", async () => {
    const srv = await scripted(() => {});
    const c = new RestClient({ config: cfg(srv.url), qps: Infinity, timeoutMs: 200 });
    try {
      const pods = c.resource<Pod>("", "v1", "pods").namespace("d");
      await assert.rejects(pods.get("x"), (e: unknown) => e instanceof ClientError && e.code === "Timeout");
      const ac = new AbortController();
      const p = pods.get("y", { signal: ac.signal, timeoutMs: 0 });
      ac.abort(new Error("caller gave up"));
      await assert.rejects(p, /caller gave up/);
    } finally {
      c.close();
      await srv.close();
    }
  });

  void it("cuts a request in flight on abort or deadline, also while the answer is still arriving", async () => {
    // Request 1 gets nothing; 2 and 3 get their headers and half a body, then silence.
    let flushed = 0;
    const srv = await scripted((_req, res, n) => {
      if (n === 1) return;
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"kind":"Pod",', () => flushed++);
    });
    const c = new RestClient({ config: cfg(srv.url), qps: Infinity, timeoutMs: 0 });
    const arrived = (n: number): Promise<true> => until(`request ${n} to arrive`, () => (srv.requests.length >= n ? true : undefined), 5000, 1);
    try {
      const pods = c.resource<Pod>("", "v1", "pods").namespace("d");
      const ac1 = new AbortController();
      const p1 = pods.get("a", { signal: ac1.signal });
      await arrived(1);
      ac1.abort(new Error("gave up waiting for headers"));
      await assert.rejects(p1, /gave up waiting for headers/);

      const ac2 = new AbortController();
      const p2 = pods.get("b", { signal: ac2.signal });
      await arrived(2);
      await until("half of the body to be sent", () => (flushed >= 1 ? true : undefined), 5000, 1);
      ac2.abort(new Error("gave up reading the body"));
      await assert.rejects(p2, /gave up reading the body/);

      const ac3 = new AbortController();
      await assert.rejects(pods.get("c", { signal: ac3.signal, timeoutMs: 300 }), (e: unknown) => e instanceof ClientError && e.code === "Timeout");
      // A request that is over is not touched by a later abort of its signal.
      ac3.abort();

      // Requests sharing a signal all end when it aborts; one under another signal does not.
      const shared = new AbortController();
      const other = new AbortController();
      const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => "resolved", (e: unknown) => (e as Error).message);
      const s1 = outcome(pods.get("d", { signal: shared.signal }));
      const s2 = outcome(pods.get("e", { signal: shared.signal }));
      const o1 = outcome(pods.get("f", { signal: other.signal }));
      await arrived(6);
      shared.abort(new Error("shared stop"));
      assert.deepEqual(await Promise.all([s1, s2]), ["shared stop", "shared stop"]);
      const pending = Symbol("pending");
      assert.equal(await Promise.race([o1, new Promise((r) => setImmediate(() => r(pending)))]), pending);
      other.abort(new Error("other stop"));
      assert.equal(await o1, "other stop");
    } finally {
      c.close();
      await srv.close();
    }
  });

  void it("decodes watch streams split anywhere, with bookmarks and errors", async () => {
    const lines = [
      JSON.stringify({ type: "ADDED", object: { metadata: { name: "a", resourceVersion: "5" } } }),
      JSON.stringify({ type: "BOOKMARK", object: { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: "9" } } }),
      JSON.stringify({ type: "MODIFIED", object: { metadata: { name: "é", resourceVersion: "10" } } }),
      JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", status: "Failure", reason: "Expired", code: 410 } }),
    ];
    const bytes = Buffer.from(lines.join("\n") + "\n");
    const srv = await scripted((req, res) => {
      assert.match(req.url ?? "", /watch=true/);
      assert.match(req.url ?? "", /allowWatchBookmarks=true/);
      assert.match(req.url ?? "", /timeoutSeconds=7/);
      res.writeHead(200, { "Content-Type": "application/json" });
      // Split inside a line and inside the two bytes of "é".
      const cut = bytes.indexOf(Buffer.from("é")) + 1;
      res.write(bytes.subarray(0, 10));
      res.write(bytes.subarray(10, cut));
      res.end(bytes.subarray(cut));
    });
    const c = new RestClient({ config: cfg(srv.url), qps: Infinity });
    try {
      const w = await c.resource<Pod>("", "v1", "pods").watch({ allowWatchBookmarks: true, timeoutSeconds: 7 });
      const events = await collect(w, 10);
      assert.deepEqual(events.map((e) => e.type), ["ADDED", "BOOKMARK", "MODIFIED", "ERROR"]);
      assert.equal(events[0]!.object.kind, "Pod", "typed objects get apiVersion/kind");
      assert.equal((events[2]!.object as Pod).metadata?.name, "é");
      assert.equal(events[1]!.object.metadata?.resourceVersion, "9");
    } finally {
      c.close();
      await srv.close();
    }
  });

  void it("a watch cut mid-stream throws Transport; a refused watch throws ApiError", async () => {
    const srv = await scripted((req, res) => {
      if (req.url?.includes("labelSelector=refuse")) {
        res.writeHead(403, { "Content-Type": "application/json" }).end(status(403, "Forbidden"));
        return;
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write(JSON.stringify({ type: "ADDED", object: { metadata: { name: "a" } } }) + "\n");
      setImmediate(() => req.socket.destroy());
    });
    const c = new RestClient({ config: cfg(srv.url), qps: Infinity });
    try {
      const pods = c.resource<Pod>("", "v1", "pods");
      const w = await pods.watch();
      const seen: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const ev of w) seen.push(ev.type);
        })(),
        (e: unknown) => e instanceof ClientError && e.code === "Transport",
      );
      assert.deepEqual(seen, ["ADDED"]);
      await assert.rejects(pods.watch({ labelSelector: "refuse" }), (e: unknown) => e instanceof ApiError && e.reason === "Forbidden");
    } finally {
      c.close();
      await srv.close();
    }
  });

  void it("sends the bearer token, the user agent, Host, and a body's type and length", async () => {
    let headers: IncomingMessage["headers"] = {};
    let raw: string[] = [];
    const srv = await scripted((req, res) => {
      headers = req.headers;
      raw = req.rawHeaders;
      res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
    });
    const c = new RestClient({ config: { ...cfg(srv.url), token: "s3cret" }, component: "scheduler", qps: Infinity });
    try {
      await c.resource("", "v1", "nodes").get("n");
      assert.equal(headers["authorization"], "Bearer s3cret");
      assert.match(String(headers["user-agent"]), /^k8ts-scheduler\/v\d+\.\d+\.\d+\S* \(linux\/\w+\)$/);
      assert.equal(headers["host"], new URL(srv.url).host);
      assert.equal(headers["accept"], "application/json");
      assert.equal(headers["connection"], "keep-alive");
      assert.equal(raw.filter((h) => h.toLowerCase() === "host").length, 1, "one Host header");
      await c.resource("", "v1", "nodes").patch("n", "merge", { metadata: { labels: { "é": "ü" } } });
      assert.equal(headers["content-type"], "application/merge-patch+json");
      assert.equal(headers["content-length"], String(Buffer.byteLength('{"metadata":{"labels":{"é":"ü"}}}')));
      assert.equal(headers["transfer-encoding"], undefined);
    } finally {
      c.close();
      await srv.close();
    }
  });
});

void describe("managedFieldsCut", () => {
  const mf = '"managedFields":[{"manager":"m","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:a\\"]}":{}}}}}]';
  const ev = (meta: string): string => `{"type":"MODIFIED","object":{"kind":"Pod","apiVersion":"v1","metadata":{${meta}},"spec":{"x":"\\"managedFields\\":[]"}}}`;
  const parsedWithout = (text: string): unknown => {
    const o = JSON.parse(text) as { object: { metadata: Record<string, unknown> } };
    delete o.object.metadata["managedFields"];
    return o;
  };

  void it("cuts the member wherever it stands among metadata's members", () => {
    for (const meta of [`"name":"a",${mf},"uid":"u"`, `${mf},"name":"a"`, `"name":"a",${mf}`, mf, `"labels":{"managedFields":"x"},"n":1,"t":true,"z":null,"a":[1,{"b":"]"}],${mf},"s":"q\\\\"`]) {
      const text = ev(meta);
      const cut = managedFieldsCut(text, "event");
      assert.ok(cut.length < text.length, meta);
      assert.deepEqual(JSON.parse(cut), parsedWithout(text), meta);
    }
  });

  void it("cuts from an answer's object, not from a BOOKMARK, and leaves text it cannot be sure of", () => {
    const obj = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a",${mf}},"spec":{}}`;
    assert.equal(managedFieldsCut(obj, "object"), '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{}}');
    for (const text of [
      `{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{${mf}}}}`,
      `{"type":"ADDED","object":{"kind":"Pod","spec":{"metadata":{${mf}}},"metadata":{"name":"a"}}}`,
      `{"type":"ADDED","object":{"kind":"Pod","metadata":{"name": "a",${mf}}}}`,
      `{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","labels":{"x":"y"}}}}`,
      `{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","labels":{"x":"y"},"managedFields":null}}}`,
      `{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","managedFields":[{"unterminated":"]}}`,
      `{ "type":"ADDED","object":{"metadata":{${mf}}}}`,
    ]) {
      assert.equal(managedFieldsCut(text, "event"), text, text);
    }
    const nested = `{"type":"ADDED","object":{"metadata":{"labels":{${mf}},"name":"a"}}}`;
    assert.equal(managedFieldsCut(nested, "event"), nested, "a managedFields deeper down is not metadata's");
  });
});

void describe("metadataAnswer", () => {
  const mf = '"managedFields":[{"manager":"m","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:a\\"]}":{}}}}}]';
  const expected = (text: string): unknown => {
    const { managedFields: _, ...metadata } = (JSON.parse(text) as { metadata: Record<string, unknown> }).metadata;
    return { metadata };
  };

  void it("decodes the metadata alone from every layout, the compact one and any other", () => {
    for (const text of [
      `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a",${mf},"labels":{"x":"}\\""}},"spec":{"c":"}"}}`,
      `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"a","labels":{"x":"y"}},"spec":{}}`,
      `{"metadata":{${mf}},"status":{}}`,
      `{"spec":{"metadata":{"name":"inner"}},"metadata":{"name":"a",${mf}}}`,
      `{ "kind": "Pod", "metadata": { "name": "a", ${mf} } }`,
      `{"kind":"Pod","metadata":{"name":"a","managedFields":null}}`,
      `{"kind":"Status","status":"Success"}`,
    ]) {
      assert.deepEqual(metadataAnswer(text), text.includes('"metadata"') ? expected(text) : { metadata: {} }, text);
    }
  });

  void it("fails on text that is not JSON, as a whole decode does", () => {
    assert.throws(() => metadataAnswer(`{"kind":"Pod","metadata":{"name":"a",${mf}`), SyntaxError);
    assert.throws(() => metadataAnswer("<html>"), SyntaxError);
  });
});
