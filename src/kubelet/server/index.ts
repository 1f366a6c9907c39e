// The kubelet's HTTPS server (port 10250), with upstream's endpoints: container logs, exec,
// attach and port-forward (streaming.ts), /stats/summary and /metrics/resource (stats.ts),
// /metrics, /healthz and /pods. Callers authenticate with a client certificate that chains to
// the cluster CA (the API server's kubelet client certificate does); anyone else gets 401.
// Containers are found through CRI labels only (containers.ts).
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { Pod } from "kubernetes-types/core/v1.js";
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { Logger } from "../../util/log.js";
import { isCriError, type CriClient } from "../cri/client.js";
import type { KubeletPaths } from "../types.js";
import { containerRestartPolicy, restartsAfterExit } from "../pods/status.js";
import { currentSandbox, logContainer, LookupError, runningContainer } from "./containers.js";
import { readContainerLog, type LogOptions } from "./logs.js";
import { resourceMetrics, StatsProvider } from "./stats.js";
import { bridgeRemoteCommand, passthrough, streamMode, tunnelPortForward, writeHttpError, type RemoteCommandOptions, type StreamKind } from "./streaming.js";
import { podContainer } from "../../api/containers.js";

export { ensureKubeletServingCert } from "./certs.js";

export interface KubeletServerOptions {
  cri: CriClient;
  nodeName: string;
  paths: KubeletPaths;
  /** 10250 upstream; 0 picks a free port (see `port` after start) */
  port: number;
  bindAddress: string;
  /** serving certificate and key, PEM */
  tls: { cert: string; key: string };
  /** PEM: client certificates must chain to it (the API server's kubelet client cert does); anonymous → 401 */
  clientCA: string;
  log: Logger;
  /** the pods this kubelet runs, for /pods */
  pods?: () => Pod[];
}

/** A request the server answers with an HTTP error: status and plain-text message, as upstream's kubelet writes them. */
class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Go's strconv.ParseBool, which upstream's query decoding uses. */
function parseBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === "") return false;
  if (["1", "t", "T", "true", "TRUE", "True"].includes(v)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(v)) return false;
  throw new HttpError(400, `${name}: invalid boolean value "${v}"`);
}

function parseIntParam(q: URLSearchParams, name: string, min: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^-?\d+$/.test(v)) throw new HttpError(400, `${name}: invalid integer value "${v}"`);
  const n = Number(v);
  if (n < min) throw new HttpError(400, `${name}: must be greater than or equal to ${min}`);
  return n;
}

export function parseLogOptions(q: URLSearchParams, now = Date.now()): LogOptions & { previous: boolean } {
  const sinceSeconds = parseIntParam(q, "sinceSeconds", 1);
  const sinceTime = q.get("sinceTime");
  let since: number | undefined;
  if (sinceSeconds !== undefined) since = now - sinceSeconds * 1000;
  if (sinceTime) {
    const t = Date.parse(sinceTime);
    if (!Number.isFinite(t)) throw new HttpError(400, `sinceTime: invalid time "${sinceTime}"`);
    since = t;
  }
  const tailLines = parseIntParam(q, "tailLines", 0);
  const limitBytes = parseIntParam(q, "limitBytes", 1);
  return {
    follow: parseBool(q, "follow"),
    previous: parseBool(q, "previous"),
    timestamps: parseBool(q, "timestamps"),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
    ...(since !== undefined ? { since } : {}),
  };
}

/** exec/attach query as upstream's kubelet reads it (the API server translates kubectl's stdin/stdout/stderr). */
export function parseRemoteCommandOptions(q: URLSearchParams): RemoteCommandOptions {
  const tty = parseBool(q, "tty");
  const opts = { stdin: parseBool(q, "input"), stdout: parseBool(q, "output"), stderr: parseBool(q, "error") && !tty, tty };
  if (!opts.stdin && !opts.stdout && !opts.stderr) throw new HttpError(400, "you must specify at least 1 of stdin, stdout, stderr");
  return opts;
}

function criHttpStatus(err: unknown): number {
  if (!isCriError(err)) return 500;
  switch (err.code) {
    case "NotFound":
      return 404;
    case "InvalidArgument":
    case "FailedPrecondition":
      return 400;
    case "Unavailable":
      return 503;
    default:
      return 500;
  }
}

function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof LookupError) return new HttpError(err.httpStatus, err.message);
  if (isCriError(err)) return new HttpError(criHttpStatus(err), err.details || err.message);
  return undefined;
}

/** Path segments, percent-decoded. */
function segments(pathname: string): string[] {
  return pathname
    .split("/")
    .filter((s) => s !== "")
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

interface StreamTarget {
  readonly kind: StreamKind;
  readonly namespace: string;
  readonly pod: string;
  readonly uid: string | undefined;
  readonly container: string;
}

/** /exec|attach/{ns}/{pod}[/{uid}]/{container}, /portForward/{ns}/{pod}[/{uid}] */
function streamTarget(segs: readonly string[]): StreamTarget | undefined {
  const [head, namespace, pod, a, b] = segs;
  if (!namespace || !pod) return undefined;
  if (head === "exec" || head === "attach") {
    if (segs.length === 4) return { kind: head, namespace, pod, uid: undefined, container: a! };
    if (segs.length === 5) return { kind: head, namespace, pod, uid: a, container: b! };
    return undefined;
  }
  if (head === "portForward" && (segs.length === 3 || segs.length === 4)) return { kind: "portforward", namespace, pod, uid: a, container: "" };
  return undefined;
}

export class KubeletServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Duplex>();
  private readonly stats: StatsProvider;
  private readonly registry = new Registry();
  private readonly requests: Counter<"method" | "path" | "server_type" | "long_running">;
  private readonly inflight: Gauge<"method" | "path" | "server_type" | "long_running">;
  /** k8ts's own: which way each stream was served (see streaming.ts), to see what clients speak */
  private readonly streams: Counter<"kind" | "mode">;
  private readonly log: Logger;

  constructor(private readonly o: KubeletServerOptions) {
    this.log = o.log.child({ component: "kubelet-server" });
    this.stats = new StatsProvider(o.cri, o.nodeName, o.paths.root);
    const labelNames = ["method", "path", "server_type", "long_running"] as const;
    this.requests = new Counter({ name: "kubelet_http_requests_total", help: "Number of the http requests received since the server started", labelNames, registers: [this.registry] });
    this.inflight = new Gauge({ name: "kubelet_http_inflight_requests", help: "Number of the inflight http requests", labelNames, registers: [this.registry] });
    this.streams = new Counter({ name: "kubelet_streaming_requests_total", help: "Streaming requests (exec, attach, portforward) by how they were served: passthrough to the runtime, WebSocket v5 bridged to SPDY, or port-forward tunnel unwrapped", labelNames: ["kind", "mode"] as const, registers: [this.registry] });
    collectDefaultMetrics({ register: this.registry });
  }

  /** The port it listens on (after start). */
  get port(): number {
    const addr = this.server?.address() as AddressInfo | null | undefined;
    if (!addr) throw new Error("kubelet server is not listening");
    return addr.port;
  }

  async start(): Promise<void> {
    await this.stats.prime().catch(() => undefined);
    const server = createServer({
      cert: this.o.tls.cert,
      key: this.o.tls.key,
      ca: this.o.clientCA,
      requestCert: true,
      // Checked per request, so that the refusal is a 401 the client can read.
      rejectUnauthorized: false,
      keepAlive: true,
    });
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    server.on("connection", (s: Duplex) => this.track(s));
    server.on("secureConnection", (s: Duplex) => this.track(s));
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      this.serve(req, res).catch((err: unknown) => {
        this.log.error({ err, path: req.url }, "request failed");
        if (!res.headersSent) this.writeError(res, 500, (err as Error).message);
        else res.destroy();
      });
    });
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(req, socket, head).catch((err: unknown) => {
        this.log.error({ err, path: req.url }, "streaming request failed");
        writeHttpError(socket, 500, (err as Error).message);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.o.port, this.o.bindAddress, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.server = server;
    this.log.info({ port: this.port, address: this.o.bindAddress }, "kubelet server listening");
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    server.closeAllConnections();
    await closed;
  }

  private track(s: Duplex): void {
    this.sockets.add(s);
    s.once("close", () => this.sockets.delete(s));
  }

  private authenticated(socket: unknown): boolean {
    return (socket as TLSSocket).authorized === true;
  }

  private writeError(res: ServerResponse, status: number, message: string): void {
    const body = message.endsWith("\n") ? message : message + "\n";
    res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  }

  private count(method: string, segs: readonly string[], longRunning: boolean): () => void {
    const labels = { method, path: segs[0] ?? "", server_type: "readwrite", long_running: String(longRunning) };
    this.requests.inc(labels);
    this.inflight.inc(labels);
    return () => this.inflight.dec(labels);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://kubelet");
    const segs = segments(url.pathname);
    const done = this.count(req.method ?? "GET", segs, segs[0] === "containerLogs");
    res.once("close", done);
    if (!this.authenticated(req.socket)) return this.writeError(res, 401, "Unauthorized");
    try {
      await this.route(req, res, url, segs);
    } catch (err) {
      const h = toHttpError(err);
      if (!h) throw err;
      if (res.headersSent) res.end();
      else this.writeError(res, h.status, h.message);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, segs: readonly string[]): Promise<void> {
    const path = "/" + segs.join("/");
    const isGet = req.method === "GET" || req.method === "HEAD";
    if (path === "/healthz" && isGet) {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" }).end("ok");
      return;
    }
    if (path === "/pods" && isGet) {
      const items = this.o.pods?.() ?? [];
      const body = JSON.stringify({ kind: "PodList", apiVersion: "v1", metadata: {}, items });
      res.writeHead(200, { "Content-Type": "application/json" }).end(body);
      return;
    }
    if (path === "/stats/summary" && isGet) {
      const body = JSON.stringify(await this.stats.summary());
      res.writeHead(200, { "Content-Type": "application/json" }).end(body);
      return;
    }
    if (path === "/metrics" && isGet) {
      const body = await this.registry.metrics();
      res.writeHead(200, { "Content-Type": this.registry.contentType }).end(body);
      return;
    }
    if (path === "/metrics/resource" && isGet) {
      const body = resourceMetrics(await this.stats.summary());
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(body);
      return;
    }
    if (segs[0] === "containerLogs" && segs.length === 4 && isGet) {
      return this.serveLogs(req, res, url, segs[1]!, segs[2]!, segs[3]!);
    }
    if (streamTarget(segs)) throw new HttpError(400, "Upgrade request required");
    throw new HttpError(404, "404 page not found");
  }

  private async serveLogs(req: IncomingMessage, res: ServerResponse, url: URL, namespace: string, pod: string, container: string): Promise<void> {
    const opts = parseLogOptions(url.searchParams);
    // Whether an exited newest attempt is waiting to be restarted, as the pod's status says it.
    const policy = restartPolicyOf(podSpec(this.o.pods?.(), namespace, pod), container);
    const restarts = (exitCode: number): boolean => restartsAfterExit(policy, exitCode);
    const c = await logContainer(this.o.cri, namespace, pod, container, opts.previous, restarts);
    if (c.logPath === "") throw new HttpError(400, `container "${container}" in pod "${pod}" has no log file`);
    const abort = new AbortController();
    res.once("close", () => abort.abort());
    const isRunning = async (): Promise<boolean> => {
      try {
        const s = (await this.o.cri.containerStatus(c.id, false, { timeoutMs: 10_000 })).status;
        return s?.state === "CONTAINER_RUNNING" || s?.state === "CONTAINER_CREATED";
      } catch (err) {
        if (isCriError(err, "NotFound")) return false;
        return true;
      }
    };
    res.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "no-cache, private" });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    res.flushHeaders();
    const sink = (chunk: Buffer): Promise<void> =>
      new Promise((resolve) => {
        if (res.write(chunk)) resolve();
        else {
          res.once("drain", resolve);
          res.once("close", resolve);
        }
      });
    try {
      await readContainerLog(c.logPath, opts, sink, { isRunning, signal: abort.signal });
    } catch (err) {
      // A container that never started has no file yet: no lines, as upstream shows.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    res.end();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "https://kubelet");
    const segs = segments(url.pathname);
    const done = this.count(req.method ?? "GET", segs, true);
    socket.once("close", done);
    if (!this.authenticated(socket)) return writeHttpError(socket, 401, "Unauthorized");
    const target = streamTarget(segs);
    if (!target) return writeHttpError(socket, 404, "404 page not found");
    try {
      await this.stream(req, socket, head, url, target);
    } catch (err) {
      const h = toHttpError(err);
      if (!h) throw err;
      writeHttpError(socket, h.status, h.message);
    }
  }

  private async stream(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, t: StreamTarget): Promise<void> {
    const q = url.searchParams;
    const mode = streamMode(t.kind, req);
    const log = this.log.child({ pod: `${t.namespace}/${t.pod}`, container: t.container || undefined, stream: t.kind, mode });
    if (t.kind === "portforward") {
      const sandbox = await currentSandbox(this.o.cri, t.namespace, t.pod, t.uid);
      const ports = q.getAll("port").map(Number).filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
      const location = new URL(await this.o.cri.portForward(sandbox.id, ports));
      this.streams.inc({ kind: t.kind, mode });
      if (mode === "tunnel") return tunnelPortForward(req, socket, head, location, log);
      return passthrough(req, socket, head, location, log);
    }
    let opts = parseRemoteCommandOptions(q);
    const c = await runningContainer(this.o.cri, t.namespace, t.pod, t.container, t.uid);
    let location: URL;
    if (t.kind === "exec") {
      const cmd = q.getAll("command");
      if (cmd.length === 0) throw new HttpError(400, "you must specify at least one command for the container");
      location = new URL(await this.o.cri.exec({ containerId: c.id, cmd, tty: opts.tty, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr }));
    } else {
      // Whether the process runs on a terminal was settled when it started: attach takes its TTY
      // from the container's spec, not from the client, as upstream's kubelet does. A client
      // without a terminal (`kubectl run -it … < /dev/null`) still asks for stderr, which a TTY
      // does not have; the runtime refuses that pair and kubectl falls back to streaming the
      // logs. Taking the client's word instead left that kubectl waiting, after the container
      // exited, for a stderr that never ends.
      const tty = podContainer(podSpec(this.o.pods?.(), t.namespace, t.pod), t.container, true)?.tty ?? opts.tty;
      opts = { ...opts, tty };
      location = new URL(await this.o.cri.attach({ containerId: c.id, tty: opts.tty, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr }));
    }
    log.debug({ location: location.origin }, "streaming");
    this.streams.inc({ kind: t.kind, mode });
    if (mode === "bridge-v5") return bridgeRemoteCommand(req, socket, head, location, opts, log);
    return passthrough(req, socket, head, location, log);
  }
}

/** The spec of the pod this kubelet runs, if it knows the pod. */
function podSpec(pods: readonly Pod[] | undefined, namespace: string, pod: string): Pod["spec"] {
  return pods?.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === pod)?.spec;
}

/** The restart policy of the pod's container `name`, by its kind (containerRestartPolicy). */
function restartPolicyOf(spec: Pod["spec"], name: string): string {
  const init = spec?.initContainers?.find((c) => c.name === name);
  if (init) return containerRestartPolicy("init", init, spec?.restartPolicy);
  if (spec?.ephemeralContainers?.some((c) => c.name === name)) return containerRestartPolicy("ephemeral", {}, spec.restartPolicy);
  return containerRestartPolicy("regular", {}, spec?.restartPolicy);
}
