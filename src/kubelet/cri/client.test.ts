// CriClient against an in-process gRPC server that serves runtime.proto on a unix socket: how
// messages decode, how failures map to codes, deadlines and cancellation. The wire against a
// real runtime is covered by runtime.test.ts (containerd, as root).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { CriClient, CriError, isCriError, normalizeEndpoint, protoPath } from "./client.js";

type Handler = (req: Record<string, unknown>) => Promise<Record<string, unknown>> | Record<string, unknown>;

describe("CriClient", () => {
  let dir: string;
  let socket: string;
  let server: grpc.Server;
  let client: CriClient;
  const requests: { method: string; req: Record<string, unknown> }[] = [];
  const handlers: Record<string, Handler> = {
    Version: (req) => ({ version: req["version"], runtimeName: "fake", runtimeVersion: "1.2.3", runtimeApiVersion: "v1" }),
    RunPodSandbox: (req) => {
      const config = req["config"] as { metadata: { name: string } };
      return { podSandboxId: `sb-${config.metadata.name}` };
    },
    ContainerStatus: (req) => {
      if (req["containerId"] !== "c1") throw Object.assign(new Error(), { code: grpc.status.NOT_FOUND, details: `an error occurred when try to find container "${String(req["containerId"])}": not found` });
      return {
        status: { id: "c1", state: "CONTAINER_EXITED", createdAt: "1795716924180998100", startedAt: 1795716924264147200, finishedAt: 0, exitCode: 143, reason: "Error", labels: { a: "b" } },
      };
    },
    ExecSync: (req) => ({ stdout: Buffer.from(`ran ${(req["cmd"] as string[]).join(" ")}`), stderr: Buffer.alloc(0), exitCode: 3 }),
    ImageStatus: () => ({}),
    ListPodSandbox: (req) => ({ items: [{ id: "x", state: "SANDBOX_NOTREADY", labels: (req["filter"] as { labelSelector: Record<string, string> } | null)?.labelSelector ?? {} }] }),
    StopContainer: () => new Promise(() => undefined),
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-cri-"));
    socket = join(dir, "cri.sock");
    const def = protoLoader.loadSync(protoPath(), { keepCase: false, longs: String, enums: String, defaults: false });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { runtime: { v1: { RuntimeService: { service: grpc.ServiceDefinition }; ImageService: { service: grpc.ServiceDefinition } } } };
    server = new grpc.Server();
    const impl = (service: grpc.ServiceDefinition): grpc.UntypedServiceImplementation =>
      Object.fromEntries(
        Object.keys(service).map((method) => [
          method,
          (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, callback: grpc.sendUnaryData<unknown>) => {
            requests.push({ method, req: call.request });
            const h = handlers[method];
            if (!h) return callback({ code: grpc.status.UNIMPLEMENTED, details: `${method} not in fake` });
            Promise.resolve()
              .then(() => h(call.request))
              .then(
                (res) => callback(null, res),
                (err: { code: number; details: string }) => callback(err),
              );
          },
        ]),
      );
    server.addService(pkg.runtime.v1.RuntimeService.service, impl(pkg.runtime.v1.RuntimeService.service));
    server.addService(pkg.runtime.v1.ImageService.service, impl(pkg.runtime.v1.ImageService.service));
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
    client = new CriClient({ endpoint: `unix://${socket}`, defaultTimeoutMs: 5000 });
  });

  after(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("asks for API v1 and decodes the answer in camelCase", async () => {
    const v = await client.version();
    assert.deepEqual(v, { version: "v1", runtimeName: "fake", runtimeVersion: "1.2.3", runtimeApiVersion: "v1" });
  });

  it("sends nested requests with enums by name and returns the id", async () => {
    const id = await client.runPodSandbox({
      metadata: { name: "web", namespace: "default", uid: "u1" },
      portMappings: [{ protocol: "UDP", containerPort: 53, hostPort: 5353 }],
      linux: { securityContext: { namespaceOptions: { pid: "CONTAINER" } } },
    });
    assert.equal(id, "sb-web");
    const sent = requests.findLast((r) => r.method === "RunPodSandbox")?.req as { config: { portMappings: { protocol: string; hostPort: number }[]; linux: { securityContext: { namespaceOptions: { pid: string } } } } };
    assert.equal(sent.config.portMappings[0]?.protocol, "UDP");
    assert.equal(sent.config.portMappings[0]?.hostPort, 5353);
    assert.equal(sent.config.linux.securityContext.namespaceOptions.pid, "CONTAINER");
  });

  it("fills defaults, gives enums as names and int64 as numbers", async () => {
    const { status } = await client.containerStatus("c1");
    assert.ok(status);
    assert.equal(status.state, "CONTAINER_EXITED");
    assert.equal(typeof status.createdAt, "number");
    assert.ok(Math.abs(status.createdAt - 1795716924180998100) < 1000);
    assert.equal(status.exitCode, 143);
    assert.deepEqual(status.labels, { a: "b" });
    assert.deepEqual(status.annotations, {});
    assert.deepEqual(status.mounts, []);
    assert.equal(status.message, "");
    assert.equal(status.metadata, null);
  });

  it("returns bytes as Buffers", async () => {
    const r = await client.execSync("c1", ["echo", "hi"], 5);
    assert.ok(Buffer.isBuffer(r.stdout));
    assert.equal(r.stdout.toString(), "ran echo hi");
    assert.equal(r.exitCode, 3);
  });

  it("reports an absent image as null, not an error", async () => {
    const r = await client.imageStatus("docker.io/library/nothing:1");
    assert.equal(r.image, null);
  });

  it("passes map filters through", async () => {
    const items = await client.listPodSandbox({ labelSelector: { app: "web" } });
    assert.deepEqual(items[0]?.labels, { app: "web" });
    assert.equal(items[0]?.state, "SANDBOX_NOTREADY");
  });

  it("maps a gRPC status to a CriError code with the runtime's message", async () => {
    await assert.rejects(client.containerStatus("nope"), (err: unknown) => {
      assert.ok(isCriError(err, "NotFound"));
      assert.equal(err.method, "ContainerStatus");
      assert.match(err.details, /not found/);
      return true;
    });
    await assert.rejects(client.removeImage("x"), (err: unknown) => isCriError(err, "Unimplemented"));
  });

  it("fails with DeadlineExceeded at the call's deadline", async () => {
    const t0 = Date.now();
    await assert.rejects(client.stopContainer("c1", 0, { timeoutMs: 150 }), (err: unknown) => isCriError(err, "DeadlineExceeded"));
    assert.ok(Date.now() - t0 < 3000);
  });

  it("cancels a call when its signal aborts", async () => {
    const ac = new AbortController();
    const p = client.stopContainer("c1", 0, { signal: ac.signal });
    setImmediate(() => ac.abort());
    await assert.rejects(p, (err: unknown) => isCriError(err, "Cancelled"));
    await assert.rejects(client.version({ signal: ac.signal }), (err: unknown) => isCriError(err, "Cancelled"));
  });

  it("fails with Unavailable when nothing listens on the socket", async () => {
    const c = new CriClient({ endpoint: join(dir, "absent.sock") });
    try {
      await assert.rejects(c.version({ timeoutMs: 2000 }), (err: unknown) => isCriError(err, "Unavailable"));
    } finally {
      c.close();
    }
  });

  it("normalizes endpoints and refuses what grpc cannot dial", () => {
    assert.equal(normalizeEndpoint("unix:///run/containerd/containerd.sock"), "unix:///run/containerd/containerd.sock");
    assert.equal(normalizeEndpoint("/run/x.sock"), "unix:///run/x.sock");
    assert.equal(normalizeEndpoint("unix:/run/x.sock"), "unix:///run/x.sock");
    assert.throws(() => normalizeEndpoint("tcp://127.0.0.1:1"), (e: unknown) => e instanceof CriError && e.code === "InvalidArgument");
    assert.throws(() => normalizeEndpoint("unix://relative.sock"), (e: unknown) => e instanceof CriError && e.code === "InvalidArgument");
    assert.throws(() => normalizeEndpoint(`/${"a".repeat(120)}.sock`), (e: unknown) => e instanceof CriError && e.code === "InvalidArgument");
  });
});
