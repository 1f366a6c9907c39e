// The actions a probe or a lifecycle hook performs against a container — exec through CRI
// ExecSync, httpGet, tcpSocket, grpc, sleep — with upstream's rules for each: what counts as
// success, which host and port, which headers, how redirects are followed, and the exact words
// of a failure, which users read in `kubectl describe` and in events.
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { Container, EnvVar, ExecAction, GRPCAction, HTTPGetAction, LifecycleHandler, Pod, TCPSocketAction } from "kubernetes-types/core/v1.js";
import { goQuote } from "../../api/fielderrors.js";
import { VERSION } from "../../util/version.js";
import { isCriError, type CriClient } from "../cri/client.js";
import { canonicalHeaderKey, goList, joinHostPort, netErrorMessage, podDesc } from "./format.js";
import { grpcHealthCheck } from "./grpc-health.js";

export interface HandlerTarget {
  /** only ExecSync is used (exec actions) */
  cri: Pick<CriClient, "execSync">;
  containerId: string;
  /** the default host of httpGet, tcpSocket and grpc (for hostNetwork pods: the node's address) */
  podIP: string | undefined;
  /** the container's spec: named ports, env for $(VAR) in exec commands */
  container: Container;
}

/**
 * upstream's probe results: `warning` is a success worth an event (an HTTP redirect that was not
 * followed); `error` means the action could not be performed at all (a named port that does not
 * exist, no pod IP, the runtime failing the exec call) — the prober discards such a result.
 */
export type HandlerStatus = "success" | "warning" | "failure" | "error";

export interface HandlerResult {
  /** success or warning */
  ok: boolean;
  /** the probe's output: what upstream puts after "Liveness probe failed: " */
  message: string;
  status: HandlerStatus;
}

export interface HandlerAction {
  exec?: ExecAction;
  httpGet?: HTTPGetAction;
  tcpSocket?: TCPSocketAction;
  grpc?: GRPCAction;
  sleep?: { seconds: number };
}

export interface HandlerOptions {
  /** aborts the action (the prober stopping, a grace period running out) */
  signal?: AbortSignal;
  /**
   * "probe" (default) judges HTTP status codes and sends User-Agent kube-probe/<v>;
   * "lifecycle" counts any HTTP response as done, as upstream's hooks do, and sends kube-lifecycle/<v>.
   */
  purpose?: "probe" | "lifecycle";
}

/** Output kept from exec and response bodies read, as upstream's prober (10 KiB). */
export const MAX_OUTPUT_BYTES = 10 * 1024;
const MAX_REDIRECTS = 10;

function userAgent(purpose: string): string {
  return `kube-${purpose}/${VERSION.major}.${VERSION.minor}`;
}

const success = (message: string): HandlerResult => ({ ok: true, status: "success", message });
const warning = (message: string): HandlerResult => ({ ok: true, status: "warning", message });
const failure = (message: string): HandlerResult => ({ ok: false, status: "failure", message });
const errored = (message: string): HandlerResult => ({ ok: false, status: "error", message });

/**
 * Runs one action. `timeoutMs` bounds it (0 or less: no limit, as for lifecycle exec hooks);
 * never throws: every outcome is a HandlerResult.
 */
export async function runHandler(action: HandlerAction, target: HandlerTarget, timeoutMs: number, opts: HandlerOptions = {}): Promise<HandlerResult> {
  try {
    if (action.exec) return await runExec(action.exec, target, timeoutMs, opts.signal);
    if (action.httpGet) return await runHttpGet(action.httpGet, target, timeoutMs, opts);
    if (action.tcpSocket) return await runTcp(action.tcpSocket, target, timeoutMs, opts.signal);
    if (action.grpc) return await runGrpc(action.grpc, target, timeoutMs, opts.signal);
    if (action.sleep) {
      const done = await sleepFor(action.sleep.seconds * 1000, opts.signal);
      return done ? success("") : failure("container terminated before sleep hook finished");
    }
    return errored("missing probe handler");
  } catch (err) {
    return errored(err instanceof Error ? err.message : String(err));
  }
}

// ---- ports and commands ---------------------------------------------------------------------

type PortResult = { port: number } | { error: string };

/** upstream's ResolveContainerPort: a number, a named container port, or a number written as a string. */
export function resolvePort(port: number | string | undefined, container: Container): PortResult {
  let n: number;
  if (typeof port === "number") n = port;
  else {
    const name = port ?? "";
    const named = container.ports?.find((p) => p.name !== undefined && p.name === name);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(name)) n = Number(name);
    else return { error: `strconv.Atoi: parsing ${goQuote(name)}: invalid syntax` };
  }
  if (Number.isInteger(n) && n > 0 && n < 65536) return { port: n };
  return { error: `invalid port number: ${n}` };
}

/**
 * $(VAR) references in an exec command, expanded from the container's env values as upstream's
 * ExpandContainerCommandOnlyStatic does: $$ is a literal $, an unknown $(VAR) stays as written,
 * and variables set through valueFrom expand to "" (their values are not known here).
 */
export function expandCommand(command: readonly string[], env: readonly EnvVar[] | undefined): string[] {
  const vars = new Map<string, string>();
  for (const e of env ?? []) vars.set(e.name, e.value ?? "");
  return command.map((arg) => expand(arg, vars));
}

function expand(input: string, vars: ReadonlyMap<string, string>): string {
  let out = "";
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch !== "$" || i + 1 >= input.length) {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1]!;
    if (next === "$") {
      out += "$";
      i += 2;
    } else if (next === "(") {
      const close = input.indexOf(")", i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      out += vars.get(name) ?? `$(${name})`;
      i = close + 1;
    } else {
      out += ch + next;
      i += 2;
    }
  }
  return out;
}

// ---- exec -----------------------------------------------------------------------------------

type ExecOutcome =
  | { kind: "exited"; exitCode: number; output: string; stderr: string }
  | { kind: "timeout"; message: string }
  | { kind: "error"; message: string };

async function execInContainer(command: readonly string[], target: HandlerTarget, timeoutMs: number, signal: AbortSignal | undefined): Promise<ExecOutcome> {
  const cmd = expandCommand(command, target.container.env);
  const timeoutSeconds = timeoutMs > 0 ? Math.max(1, Math.ceil(timeoutMs / 1000)) : 0;
  try {
    const r = await target.cri.execSync(target.containerId, cmd, timeoutSeconds, signal ? { signal } : undefined);
    // upstream runs the command with stdout and stderr combined, keeping the first 10 KiB.
    const output = Buffer.concat([r.stdout, r.stderr]).subarray(0, MAX_OUTPUT_BYTES).toString("utf8");
    return { kind: "exited", exitCode: r.exitCode, output, stderr: r.stderr.toString("utf8") };
  } catch (err) {
    // containerd ends an exec that outlives its timeout with DeadlineExceeded.
    if (isCriError(err, "DeadlineExceeded")) return { kind: "timeout", message: `command ${goQuote(cmd.join(" "))} timed out` };
    if (isCriError(err)) return { kind: "error", message: `rpc error: code = ${err.code === "Cancelled" ? "Canceled" : err.code} desc = ${err.details}` };
    return { kind: "error", message: err instanceof Error ? err.message : String(err) };
  }
}

async function runExec(action: ExecAction, target: HandlerTarget, timeoutMs: number, signal: AbortSignal | undefined): Promise<HandlerResult> {
  const r = await execInContainer(action.command ?? [], target, timeoutMs, signal);
  if (r.kind === "timeout") return failure(r.message);
  if (r.kind === "error") return errored(r.message);
  return r.exitCode === 0 ? success(r.output) : failure(r.output);
}

// ---- httpGet --------------------------------------------------------------------------------

type HttpOutcome =
  | { kind: "response"; statusCode: number; body: string }
  /** the request failed (refused, timed out, TLS): a probe failure */
  | { kind: "failure"; message: string }
  /** the request could not be made or its body not read: a probe error */
  | { kind: "error"; message: string };

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

function isHttpScheme(protocol: string): boolean {
  return protocol === "http:" || protocol === "https:";
}

/** The URL as Go prints it in errors: path joined as written, without Node's normalisation. */
function displayUrl(scheme: string, hostport: string, path: string): string {
  return `${scheme}://${hostport}${path && !path.startsWith("/") ? "/" : ""}${path}`;
}

/** The request headers of an HTTPGetAction, with upstream's defaults for User-Agent and Accept. */
export function probeHeaders(action: HTTPGetAction, purpose: string): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const h of action.httpHeaders ?? []) (headers[canonicalHeaderKey(h.name)] ??= []).push(h.value);
  if (!headers["User-Agent"]) headers["User-Agent"] = [userAgent(purpose)];
  if (!headers["Accept"]) headers["Accept"] = ["*/*"];
  else if (headers["Accept"][0] === "") delete headers["Accept"];
  return headers;
}

async function httpGet(action: HTTPGetAction, target: HandlerTarget, timeoutMs: number, purpose: string, signal: AbortSignal | undefined, schemeOverride?: string): Promise<HttpOutcome> {
  const resolved = resolvePort(action.port, target.container);
  if ("error" in resolved) return { kind: "error", message: resolved.error };
  const host = action.host || target.podIP;
  if (!host) return { kind: "error", message: "failed to find networking container: the pod has no IP address" };
  const scheme = schemeOverride ?? (action.scheme || "HTTP").toLowerCase();
  const hostport = joinHostPort(host, resolved.port);
  const rawPath = (action.path ?? "").split("#")[0]!;
  const shown = displayUrl(scheme, hostport, rawPath);
  if (scheme !== "http" && scheme !== "https") return { kind: "failure", message: `Get ${goQuote(shown)}: unsupported protocol scheme ${goQuote(scheme)}` };
  let url: URL;
  try {
    url = new URL(`${scheme}://${hostport}${rawPath.startsWith("/") ? "" : "/"}${rawPath}`);
  } catch {
    return { kind: "error", message: `parse ${goQuote(shown)}: invalid URL` };
  }

  const headers = probeHeaders(action, purpose);
  const ac = new AbortController();
  let timedOut = false;
  const timer = timeoutMs > 0 ? setTimeout(() => ((timedOut = true), ac.abort()), timeoutMs) : undefined;
  const onAbort = (): void => ac.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) ac.abort();
  const first = url;
  let current = url;
  let currentShown = shown;
  let phase: "headers" | "body" = "headers";
  try {
    // Node wants one string per header it sets itself (Host); repeated headers go as arrays.
    const requestHeaders: OutgoingHttpHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.length === 1 || k === "Host" ? v[0]! : v]));
    for (let redirects = 0; ; redirects++) {
      const res = await getOnce(current, requestHeaders, ac.signal);
      const location = res.headers.location;
      if (!REDIRECT_CODES.has(res.statusCode ?? 0) || !location) {
        phase = "body";
        return { kind: "response", statusCode: res.statusCode ?? 0, body: await readCapped(res) };
      }
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        res.destroy();
        return { kind: "failure", message: `Get ${goQuote(currentShown)}: failed to parse Location header ${goQuote(location)}` };
      }
      // upstream follows redirects only to the host first asked; elsewhere it stops and judges
      // the redirect itself (a success with a warning).
      if (next.hostname !== first.hostname) {
        phase = "body";
        return { kind: "response", statusCode: res.statusCode ?? 0, body: await readCapped(res) };
      }
      res.destroy();
      if (redirects + 1 >= MAX_REDIRECTS) return { kind: "failure", message: `Get ${goQuote(next.href)}: stopped after ${MAX_REDIRECTS} redirects` };
      if (!isHttpScheme(next.protocol)) return { kind: "failure", message: `Get ${goQuote(next.href)}: unsupported protocol scheme ${goQuote(next.protocol.slice(0, -1))}` };
      // A custom Host header survives only a relative redirect (Go's client rule).
      if (requestHeaders["Host"] !== undefined && /^[a-z][a-z0-9+.-]*:/i.test(location)) delete requestHeaders["Host"];
      if (!(current.protocol === "https:" && next.protocol === "http:")) requestHeaders["Referer"] = current.href;
      else delete requestHeaders["Referer"];
      current = next;
      currentShown = next.href;
    }
  } catch (err) {
    if (timedOut) {
      const why = phase === "headers" ? "Client.Timeout exceeded while awaiting headers" : "Client.Timeout or context cancellation while reading body";
      const message = `Get ${goQuote(currentShown)}: context deadline exceeded (${why})`;
      return phase === "headers" ? { kind: "failure", message } : { kind: "error", message };
    }
    if (signal?.aborted) return { kind: "error", message: `Get ${goQuote(currentShown)}: context canceled` };
    const message = `Get ${goQuote(currentShown)}: ${netErrorMessage(err, joinHostPort(current.hostname.replace(/^\[|\]$/g, ""), current.port || (current.protocol === "https:" ? 443 : 80)), current.hostname)}`;
    return phase === "headers" ? { kind: "failure", message } : { kind: "error", message };
  } finally {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

function getOnce(url: URL, headers: OutgoingHttpHeaders, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    // agent: false — one connection per probe, closed after it, as upstream disables keep-alives.
    const options = { method: "GET", headers, agent: false as const, signal };
    const req = url.protocol === "https:" ? httpsRequest(url, { ...options, rejectUnauthorized: false }, resolve) : httpRequest(url, options, resolve);
    req.on("error", reject);
    req.end();
  });
}

/** The first MAX_OUTPUT_BYTES of the body; the rest is not read (the connection is closed). */
async function readCapped(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    const b = chunk as Buffer;
    chunks.push(b);
    size += b.length;
    if (size >= MAX_OUTPUT_BYTES) break;
  }
  res.destroy();
  return Buffer.concat(chunks).subarray(0, MAX_OUTPUT_BYTES).toString("utf8");
}

async function runHttpGet(action: HTTPGetAction, target: HandlerTarget, timeoutMs: number, opts: HandlerOptions): Promise<HandlerResult> {
  const purpose = opts.purpose ?? "probe";
  const r = await httpGet(action, target, timeoutMs, purpose, opts.signal);
  if (r.kind === "error") return errored(r.message);
  if (r.kind === "failure") return failure(r.message);
  if (purpose === "lifecycle") return success(r.body);
  if (r.statusCode >= 200 && r.statusCode < 400) {
    if (r.statusCode >= 300) return warning(`Probe terminated redirects, Response body: ${r.body}`);
    return success(r.body);
  }
  // upstream keeps the body out of this message (kubernetes#99425: it may hold secrets).
  return failure(`HTTP probe failed with statuscode: ${r.statusCode}`);
}

// ---- tcpSocket ------------------------------------------------------------------------------

/** Connects and closes; undefined when the connection was made, else Go's dial error. */
function tcpConnect(host: string, port: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<string | undefined> {
  const hostport = joinHostPort(host, port);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: string | undefined): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish(`dial tcp ${hostport}: operation was canceled`);
    if (timeoutMs > 0) timer = setTimeout(() => finish(`dial tcp ${hostport}: i/o timeout`), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => finish(undefined));
    socket.once("error", (err) => finish(netErrorMessage(err, hostport, host)));
  });
}

async function runTcp(action: TCPSocketAction, target: HandlerTarget, timeoutMs: number, signal: AbortSignal | undefined): Promise<HandlerResult> {
  const resolved = resolvePort(action.port, target.container);
  if ("error" in resolved) return errored(resolved.error);
  const host = action.host || target.podIP;
  if (!host) return errored("failed to find networking container: the pod has no IP address");
  const err = await tcpConnect(host, resolved.port, timeoutMs, signal);
  return err === undefined ? success("") : failure(err);
}

// ---- grpc -----------------------------------------------------------------------------------

async function runGrpc(action: GRPCAction, target: HandlerTarget, timeoutMs: number, signal: AbortSignal | undefined): Promise<HandlerResult> {
  if (!target.podIP) return errored("failed to find networking container: the pod has no IP address");
  if (!Number.isInteger(action.port) || action.port < 1 || action.port > 65535) return errored(`invalid port number: ${action.port}`);
  const r = await grpcHealthCheck({
    host: target.podIP,
    port: action.port,
    service: action.service ?? "",
    // A gRPC deadline is required; a lifecycle caller without a timeout gets the API's default probe timeout.
    timeoutMs: timeoutMs > 0 ? timeoutMs : 1000,
    userAgent: userAgent("probe"),
    ...(signal ? { signal } : {}),
  });
  return r.healthy ? success(r.message) : failure(r.message);
}

// ---- sleep ----------------------------------------------------------------------------------

function sleepFor(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

// ---- lifecycle hooks ------------------------------------------------------------------------

/** Event reasons the pod lifecycle records when a hook fails (upstream's kubelet events). */
export const REASON_FAILED_POST_START_HOOK = "FailedPostStartHook";
export const REASON_FAILED_PRE_STOP_HOOK = "FailedPreStopHook";
export const REASON_LIFECYCLE_HTTP_FALLBACK = "LifecycleHTTPFallback";

export interface HookResult {
  readonly ok: boolean;
  /** when not ok: the message for the FailedPostStartHook / FailedPreStopHook event, in upstream's words */
  readonly message: string;
}

export interface HookOptions {
  /**
   * Ends the hook: a preStop hook is bounded by the pod's grace period, and a sleep hook cut
   * short fails with "container terminated before sleep hook finished".
   */
  signal?: AbortSignal;
  /** where the LifecycleHTTPFallback warning goes (an HTTPS hook answered by plain HTTP) */
  events?: { event(obj: { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string; uid?: string } }, type: "Normal" | "Warning", reason: string, message: string): void };
}

/**
 * Runs a postStart or preStop handler as upstream's kubelet does: exec without a timeout of its
 * own, httpGet succeeding on any response (an HTTPS hook that gets plain HTTP is retried over
 * HTTP), sleep until done or cut short. tcpSocket is accepted by the API but not run (upstream:
 * "invalid handler").
 */
export async function runLifecycleHook(handler: LifecycleHandler, target: HandlerTarget, pod: Pod, opts: HookOptions = {}): Promise<HookResult> {
  const where = `for Container ${goQuote(target.container.name)} in Pod ${goQuote(podDesc(pod))}`;
  const ok: HookResult = { ok: true, message: "" };
  if (handler.exec) {
    const cmd = handler.exec.command ?? [];
    const r = await execInContainer(cmd, target, 0, opts.signal);
    if (r.kind === "exited" && r.exitCode === 0) return ok;
    const error = r.kind === "exited" ? `command '${expandCommand(cmd, target.container.env).join(" ")}' exited with ${r.exitCode}: ${r.stderr}` : r.message;
    const output = r.kind === "exited" ? r.output : "";
    return { ok: false, message: `Exec lifecycle hook (${goList(cmd)}) ${where} failed - error: ${error}, message: ${goQuote(output)}` };
  }
  if (handler.httpGet) {
    const action = handler.httpGet;
    let r = await httpGet(action, target, 0, "lifecycle", opts.signal);
    if (r.kind !== "response" && (action.scheme ?? "").toUpperCase() === "HTTPS" && r.message.endsWith("http: server gave HTTP response to HTTPS client")) {
      const plain = await httpGet({ ...action, httpHeaders: (action.httpHeaders ?? []).filter((h) => canonicalHeaderKey(h.name) !== "Authorization") }, target, 0, "lifecycle", opts.signal, "http");
      if (plain.kind === "response") {
        const host = joinHostPort(action.host || target.podIP || "", resolvedPortText(action, target.container));
        opts.events?.event(podRef(pod), "Warning", REASON_LIFECYCLE_HTTP_FALLBACK, `request to HTTPS lifecycle hook ${host} got HTTP response, retry with HTTP succeeded`);
        r = plain;
      }
    }
    if (r.kind === "response") return ok;
    return { ok: false, message: `HTTP lifecycle hook (${action.path ?? ""}) ${where} failed - error: ${r.message}` };
  }
  if (handler.sleep) {
    const seconds = handler.sleep.seconds;
    if (await sleepFor(seconds * 1000, opts.signal)) return ok;
    return { ok: false, message: `Sleep lifecycle hook (${seconds}) ${where} failed - error: container terminated before sleep hook finished` };
  }
  return { ok: false, message: `Cannot run handler: invalid handler: ${JSON.stringify(handler)}` };
}

function resolvedPortText(action: HTTPGetAction, container: Container): string {
  const r = resolvePort(action.port, container);
  return "port" in r ? String(r.port) : String(action.port);
}

function podRef(pod: Pod): { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string; uid?: string } } {
  const m = pod.metadata ?? {};
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...(m.name ? { name: m.name } : {}), ...(m.namespace ? { namespace: m.namespace } : {}), ...(m.uid ? { uid: m.uid } : {}) },
  };
}
