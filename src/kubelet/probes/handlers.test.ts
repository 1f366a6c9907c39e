// The handlers against real servers on 127.0.0.1: HTTP and HTTPS (status codes, redirects,
// headers, timeouts, body caps), TCP, the gRPC health service, sleep, and lifecycle hooks.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { Container, Pod } from "kubernetes-types/core/v1.js";
import { createCA, issueCertificate } from "../../util/pki.js";
import type { CriClient } from "../cri/client.js";
import {
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  encodeHealthCheckResponse,
  HEALTH_CHECK_METHOD,
  type ServingStatus,
} from "./grpc-health.js";
import { expandCommand, MAX_OUTPUT_BYTES, probeHeaders, resolvePort, runHandler, runLifecycleHook, type HandlerTarget } from "./handlers.js";
import { goDuration } from "./format.js";

const noCri: Pick<CriClient, "execSync"> = {
  execSync: () => Promise.reject(new Error("exec is not part of these tests")),
};

function target(container: Partial<Container> = {}, podIP: string | undefined = "127.0.0.1"): HandlerTarget {
  return { cri: noCri, containerId: "c1", podIP, container: { name: "web", ...container } };
}

function portOf(server: { address(): AddressInfo | string | null }): number {
  const a = server.address();
  assert.ok(a && typeof a === "object");
  return a.port;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = portOf(srv);
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function close(server: Server | ReturnType<typeof createTcpServer>): Promise<void> {
  if ("closeAllConnections" in server) server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

describe("pure helpers", () => {
  it("resolves ports by number, name and numeric string", () => {
    const c: Container = { name: "x", ports: [{ name: "http", containerPort: 8080 }] };
    assert.deepEqual(resolvePort(80, c), { port: 80 });
    assert.deepEqual(resolvePort("http", c), { port: 8080 });
    assert.deepEqual(resolvePort("9090", c), { port: 9090 });
    assert.deepEqual(resolvePort("metrics", c), { error: 'strconv.Atoi: parsing "metrics": invalid syntax' });
    assert.deepEqual(resolvePort(0, c), { error: "invalid port number: 0" });
    assert.deepEqual(resolvePort(70000, c), { error: "invalid port number: 70000" });
  });

  it("expands $(VAR) from static env values as upstream", () => {
    const env = [{ name: "FILE", value: "/tmp/ok" }, { name: "SECRET", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }];
    assert.deepEqual(expandCommand(["cat", "$(FILE)", "$(MISSING)", "$$(FILE)", "a$(SECRET)b", "$x", "$(open", "$"], env), [
      "cat",
      "/tmp/ok",
      "$(MISSING)",
      "$(FILE)",
      "ab",
      "$x",
      "$(open",
      "$",
    ]);
  });

  it("builds upstream's default headers, canonicalising names", () => {
    assert.deepEqual(probeHeaders({ port: 1 }, "probe"), { "User-Agent": ["kube-probe/1.32"], Accept: ["*/*"] });
    assert.deepEqual(
      probeHeaders({ port: 1, httpHeaders: [{ name: "x-custom", value: "a" }, { name: "X-CUSTOM", value: "b" }, { name: "accept", value: "" }, { name: "user-agent", value: "mine" }] }, "probe"),
      { "X-Custom": ["a", "b"], "User-Agent": ["mine"] },
    );
  });

  it("formats durations as Go does", () => {
    assert.equal(goDuration(1000), "1s");
    assert.equal(goDuration(1500), "1.5s");
    assert.equal(goDuration(250), "250ms");
    assert.equal(goDuration(90_000), "1m30s");
  });

  it("encodes and decodes the health check messages", () => {
    assert.deepEqual(encodeHealthCheckRequest(""), Buffer.alloc(0));
    assert.equal(decodeHealthCheckRequest(encodeHealthCheckRequest("my.Service")), "my.Service");
    const long = "s".repeat(300);
    assert.equal(decodeHealthCheckRequest(encodeHealthCheckRequest(long)), long);
    for (const [i, s] of (["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"] as const).entries()) assert.equal(decodeHealthCheckResponse(encodeHealthCheckResponse(s)), i);
    // Unknown fields before the status are skipped.
    assert.equal(decodeHealthCheckResponse(Buffer.from([0x12, 0x02, 0x61, 0x62, 0x08, 0x02])), 2);
  });
});

describe("httpGet", () => {
  let server: Server;
  let port: number;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

  before(async () => {
    server = createHttpServer((req, res) => {
      seen.push({ url: req.url ?? "", headers: req.headers });
      const url = new URL(req.url ?? "/", "http://x");
      switch (url.pathname) {
        case "/ok":
          res.end("fine");
          return;
        case "/fail":
          res.writeHead(500).end("secret details");
          return;
        case "/to-ok":
          res.writeHead(302, { location: "/ok" }).end();
          return;
        case "/elsewhere":
          res.writeHead(301, { location: `http://localhost:${port}/ok` }).end("moved away");
          return;
        case "/loop":
          res.writeHead(302, { location: "/loop" }).end();
          return;
        case "/hang":
          return; // never answers
        case "/big":
          res.end("x".repeat(100 * 1024));
          return;
        default:
          res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = portOf(server);
  });
  after(() => close(server));

  it("succeeds on 200 and sends upstream's headers", async () => {
    seen.length = 0;
    const r = await runHandler({ httpGet: { port, path: "/ok?x=1", httpHeaders: [{ name: "x-probe", value: "yes" }, { name: "Host", value: "example.test" }] } }, target(), 1000);
    assert.deepEqual(r, { ok: true, status: "success", message: "fine" });
    assert.equal(seen[0]?.url, "/ok?x=1");
    assert.equal(seen[0]?.headers["user-agent"], "kube-probe/1.32");
    assert.equal(seen[0]?.headers["accept"], "*/*");
    assert.equal(seen[0]?.headers["x-probe"], "yes");
    assert.equal(seen[0]?.headers["host"], "example.test");
    assert.equal(seen[0]?.headers["connection"], "close");
  });

  it("fails on 500 without the body in the message", async () => {
    const r = await runHandler({ httpGet: { port, path: "/fail" } }, target(), 1000);
    assert.deepEqual(r, { ok: false, status: "failure", message: "HTTP probe failed with statuscode: 500" });
  });

  it("uses a named container port and the host field", async () => {
    const r = await runHandler({ httpGet: { port: "web", path: "ok", host: "127.0.0.1" } }, { ...target({ ports: [{ name: "web", containerPort: port }] }), podIP: undefined }, 1000);
    assert.equal(r.status, "success");
  });

  it("errors (not fails) when a named port does not exist or there is no pod IP", async () => {
    assert.deepEqual(await runHandler({ httpGet: { port: "nope" } }, target(), 1000), { ok: false, status: "error", message: 'strconv.Atoi: parsing "nope": invalid syntax' });
    assert.equal((await runHandler({ httpGet: { port } }, { ...target(), podIP: undefined }, 1000)).status, "error");
  });

  it("follows a redirect to the same host", async () => {
    seen.length = 0;
    const r = await runHandler({ httpGet: { port, path: "/to-ok" } }, target(), 1000);
    assert.deepEqual(r, { ok: true, status: "success", message: "fine" });
    assert.deepEqual(seen.map((s) => s.url), ["/to-ok", "/ok"]);
    assert.equal(seen[1]?.headers["referer"], `http://127.0.0.1:${port}/to-ok`);
    assert.equal(seen[1]?.headers["user-agent"], "kube-probe/1.32");
  });

  it("does not follow a redirect to another host: success with a warning", async () => {
    seen.length = 0;
    const r = await runHandler({ httpGet: { port, path: "/elsewhere" } }, target(), 1000);
    assert.deepEqual(r, { ok: true, status: "warning", message: "Probe terminated redirects, Response body: moved away" });
    assert.equal(seen.length, 1);
  });

  it("stops after 10 redirects", async () => {
    const r = await runHandler({ httpGet: { port, path: "/loop" } }, target(), 2000);
    assert.deepEqual(r, { ok: false, status: "failure", message: `Get "http://127.0.0.1:${port}/loop": stopped after 10 redirects` });
  });

  it("fails when the server does not answer within the timeout", async () => {
    const t0 = Date.now();
    const r = await runHandler({ httpGet: { port, path: "/hang" } }, target(), 300);
    assert.ok(Date.now() - t0 >= 290);
    assert.deepEqual(r, { ok: false, status: "failure", message: `Get "http://127.0.0.1:${port}/hang": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
  });

  it("reads at most 10 KiB of the body", async () => {
    const r = await runHandler({ httpGet: { port, path: "/big" } }, target(), 1000);
    assert.equal(r.status, "success");
    assert.equal(r.message.length, MAX_OUTPUT_BYTES);
  });

  it("fails with Go's words when the connection is refused", async () => {
    const p = await closedPort();
    const r = await runHandler({ httpGet: { port: p, path: "/healthz" } }, target(), 1000);
    assert.deepEqual(r, { ok: false, status: "failure", message: `Get "http://127.0.0.1:${p}/healthz": dial tcp 127.0.0.1:${p}: connect: connection refused` });
  });

  it("lifecycle purpose: any response is done, User-Agent kube-lifecycle", async () => {
    seen.length = 0;
    const r = await runHandler({ httpGet: { port, path: "/fail" } }, target(), 1000, { purpose: "lifecycle" });
    assert.equal(r.ok, true);
    assert.equal(seen[0]?.headers["user-agent"], "kube-lifecycle/1.32");
  });

  it("an abort signal cancels the request", async () => {
    const ac = new AbortController();
    const pending = runHandler({ httpGet: { port, path: "/hang" } }, target(), 0, { signal: ac.signal });
    ac.abort();
    const r = await pending;
    assert.equal(r.status, "error");
    assert.match(r.message, /context canceled$/);
  });
});

describe("httpGet over HTTPS", () => {
  let server: ReturnType<typeof createHttpsServer>;
  let plain: Server;
  let port: number;
  let plainPort: number;

  before(async () => {
    const ca = await createCA("probe-test-ca");
    const cert = await issueCertificate(ca, { commonName: "probe-test", usages: "server", validityDays: 1, ipAddresses: ["127.0.0.1"] });
    server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => res.writeHead(req.url === "/ok" ? 200 : 503).end("tls"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = portOf(server);
    plain = createHttpServer((_req, res) => res.end("plain"));
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    plainPort = portOf(plain);
  });
  after(async () => {
    await close(server as unknown as Server);
    await close(plain);
  });

  it("does not verify the certificate", async () => {
    assert.deepEqual(await runHandler({ httpGet: { port, path: "/ok", scheme: "HTTPS" } }, target(), 2000), { ok: true, status: "success", message: "tls" });
    assert.equal((await runHandler({ httpGet: { port, path: "/down", scheme: "HTTPS" } }, target(), 2000)).message, "HTTP probe failed with statuscode: 503");
  });

  it("an HTTPS probe answered in plain HTTP fails as Go says; a lifecycle hook retries over HTTP", async () => {
    const r = await runHandler({ httpGet: { port: plainPort, path: "/x", scheme: "HTTPS" } }, target(), 2000);
    assert.deepEqual(r, { ok: false, status: "failure", message: `Get "https://127.0.0.1:${plainPort}/x": http: server gave HTTP response to HTTPS client` });
    const recorded: string[] = [];
    const hook = await runLifecycleHook({ httpGet: { port: plainPort, path: "/x", scheme: "HTTPS" } }, target(), pod(), {
      events: { event: (_o, type, reason, message) => recorded.push(`${type} ${reason} ${message}`) },
    });
    assert.deepEqual(hook, { ok: true, message: "" });
    assert.deepEqual(recorded, [`Warning LifecycleHTTPFallback request to HTTPS lifecycle hook 127.0.0.1:${plainPort} got HTTP response, retry with HTTP succeeded`]);
  });
});

function pod(): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "ns", uid: "u-1" }, spec: { containers: [{ name: "web" }] } };
}

describe("tcpSocket", () => {
  it("succeeds when the port accepts and fails when it refuses", async () => {
    const srv = createTcpServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    try {
      assert.deepEqual(await runHandler({ tcpSocket: { port: portOf(srv) } }, target(), 1000), { ok: true, status: "success", message: "" });
    } finally {
      await close(srv);
    }
    const p = await closedPort();
    assert.deepEqual(await runHandler({ tcpSocket: { port: p } }, target(), 1000), { ok: false, status: "failure", message: `dial tcp 127.0.0.1:${p}: connect: connection refused` });
  });
});

describe("grpc", () => {
  let server: grpc.Server;
  let port: number;
  let bare: grpc.Server;
  let barePort: number;
  const statuses = new Map<string, ServingStatus>();
  const agents: string[] = [];

  before(async () => {
    server = new grpc.Server();
    server.addService(
      {
        Check: {
          path: HEALTH_CHECK_METHOD,
          requestStream: false,
          responseStream: false,
          // Objects, not bare values: grpc-js takes a falsy message ("" or 0) for a missing one.
          requestSerialize: (r: { service: string }) => encodeHealthCheckRequest(r.service),
          requestDeserialize: (b: Buffer) => ({ service: decodeHealthCheckRequest(b) }),
          responseSerialize: (r: { status: ServingStatus }) => encodeHealthCheckResponse(r.status),
          responseDeserialize: (b: Buffer) => ({ status: (["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"] as const)[decodeHealthCheckResponse(b)] ?? "UNKNOWN" }),
        },
      },
      {
        Check: (call: grpc.ServerUnaryCall<{ service: string }, { status: ServingStatus }>, callback: grpc.sendUnaryData<{ status: ServingStatus }>) => {
          agents.push(String(call.metadata.get("user-agent")[0] ?? ""));
          const s = statuses.get(call.request.service);
          if (s === undefined) callback({ code: grpc.status.NOT_FOUND, details: "unknown service" });
          else callback(null, { status: s });
        },
      },
    );
    port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    bare = new grpc.Server();
    barePort = await new Promise<number>((resolve, reject) => bare.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  });
  after(() => {
    server.forceShutdown();
    bare.forceShutdown();
  });

  it("is healthy only when the service is SERVING", async () => {
    statuses.set("", "SERVING");
    statuses.set("db", "NOT_SERVING");
    assert.deepEqual(await runHandler({ grpc: { port } }, target(), 2000), { ok: true, status: "success", message: "service healthy" });
    assert.match(agents[0] ?? "", /^kube-probe\/1\.32/);
    assert.deepEqual(await runHandler({ grpc: { port, service: "db" } }, target(), 2000), { ok: false, status: "failure", message: 'service unhealthy (responded with "NOT_SERVING")' });
    assert.deepEqual(await runHandler({ grpc: { port, service: "cache" } }, target(), 2000), { ok: false, status: "failure", message: "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service" });
    statuses.set("", "NOT_SERVING");
    assert.equal((await runHandler({ grpc: { port } }, target(), 2000)).ok, false);
  });

  it("reports a server without the health service and one that cannot be reached", async () => {
    const r = await runHandler({ grpc: { port: barePort } }, target(), 2000);
    assert.equal(r.status, "failure");
    assert.match(r.message, /^this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): /);
    const p = await closedPort();
    assert.deepEqual(await runHandler({ grpc: { port: p } }, target(), 500), { ok: false, status: "failure", message: `timeout: failed to connect service "127.0.0.1:${p}" within 500ms: context deadline exceeded` });
  });
});

describe("sleep and lifecycle hooks", () => {
  it("sleep waits, and fails when cut short", async () => {
    assert.deepEqual(await runHandler({ sleep: { seconds: 0 } }, target(), 0), { ok: true, status: "success", message: "" });
    const ac = new AbortController();
    const pending = runLifecycleHook({ sleep: { seconds: 30 } }, target(), pod(), { signal: ac.signal });
    ac.abort();
    assert.deepEqual(await pending, { ok: false, message: 'Sleep lifecycle hook (30) for Container "web" in Pod "p_ns(u-1)" failed - error: container terminated before sleep hook finished' });
  });

  it("an HTTP hook fails only when no response comes", async () => {
    const srv = createHttpServer((_req, res) => res.writeHead(500).end());
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    try {
      assert.deepEqual(await runLifecycleHook({ httpGet: { port: portOf(srv), path: "/stop" } }, target(), pod()), { ok: true, message: "" });
    } finally {
      await close(srv);
    }
    const p = await closedPort();
    assert.deepEqual(await runLifecycleHook({ httpGet: { port: p, path: "/stop" } }, target(), pod()), {
      ok: false,
      message: `HTTP lifecycle hook (/stop) for Container "web" in Pod "p_ns(u-1)" failed - error: Get "http://127.0.0.1:${p}/stop": dial tcp 127.0.0.1:${p}: connect: connection refused`,
    });
  });

  it("a tcpSocket hook is not run", async () => {
    const r = await runLifecycleHook({ tcpSocket: { port: 80 } }, target(), pod());
    assert.equal(r.ok, false);
    assert.match(r.message, /^Cannot run handler: invalid handler: /);
  });
});
