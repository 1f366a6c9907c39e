// The subresources the API server serves by proxying: pods/log, pods/exec, pods/attach and
// pods/portforward to the kubelet of the pod's node, nodes/proxy to any path of a kubelet,
// pods/proxy to the pod itself, services/proxy to one of the service's endpoints. Upstream's
// rules decide what is valid (which container, whether the pod is bound); the bytes then travel
// untouched: upgrades (SPDY or WebSocket) are replayed
// on a TLS connection to the kubelet and the two sockets piped, so every protocol a kubelet
// speaks reaches kubectl as it is. The kubelet authenticates us by the kubelet client
// certificate (certs.ts); its serving certificate is not verified, as upstream does without
// --kubelet-certificate-authority.
import { queryBool } from "../query.js";
import type { IncomingMessage, IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { Duplex } from "node:stream";
import type { HttpContext } from "../http.js";
import type { KubeObject } from "../registry/types.js";
import type { ResourceStore } from "../rest/store.js";
import * as status from "../status.js";
import type { CertAndKey } from "../../util/pki.js";

/** Bytes the client sent after its upgrade request's headers (Node's 'upgrade' event hands them over apart). */
export const upgradeHeads = new WeakMap<IncomingMessage, Buffer>();

export const DEFAULT_KUBELET_PORT = 10250;
const DIAL_TIMEOUT_MS = 30_000;
/** Address types tried in order to reach a node's kubelet. */
const ADDRESS_PREFERENCE = ["InternalIP", "ExternalIP", "InternalDNS", "ExternalDNS", "Hostname"];
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

/**
 * Where a node's kubelet listens: its first address by upstream's preference and its
 * daemonEndpoints port (10250 when it gives none); why not, when the node has no address.
 */
export function kubeletAddress(node: Readonly<KubeObject>): { readonly host: string; readonly port: number } | string {
  const st = (node["status"] ?? {}) as { addresses?: { type?: string; address?: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
  const addresses = st.addresses ?? [];
  for (const t of ADDRESS_PREFERENCE) {
    const host = addresses.find((a) => a.type === t && a.address)?.address;
    if (host) return { host, port: st.daemonEndpoints?.kubeletEndpoint?.Port || DEFAULT_KUBELET_PORT };
  }
  return `no preferred addresses found; known addresses: [${addresses.map((a) => `{${a.type} ${a.address}}`).join(" ")}]`;
}

export interface SubresourceProxyOptions {
  readonly pods: ResourceStore | undefined;
  readonly nodes: ResourceStore | undefined;
  readonly services?: ResourceStore | undefined;
  readonly endpoints?: ResourceStore | undefined;
  readonly kubeletClient: CertAndKey;
}

interface EndpointAddressLike {
  readonly ip?: string;
  readonly targetRef?: { readonly kind?: string; readonly namespace?: string; readonly name?: string };
}

interface EndpointsLike {
  readonly subsets?: readonly { readonly addresses?: readonly EndpointAddressLike[]; readonly ports?: readonly { readonly name?: string; readonly port?: number }[] }[];
}

/**
 * Where services/NAME[:PORT]/proxy goes, as upstream's service ResourceLocation picks it: the
 * service port (by name, or by number through the service's ports) among the service's
 * Endpoints; from a random subset that has the port, a random address, tried in turn until one
 * is `valid` (upstream's isValidAddress: its pod exists and has that IP).
 */
export async function serviceBackend(
  id: string,
  ports: readonly { readonly name?: string; readonly port?: number }[] | undefined,
  endpoints: EndpointsLike,
  valid: (address: EndpointAddressLike) => Promise<boolean>,
  random: () => number = Math.random,
): Promise<{ host: string; port: number; scheme: string }> {
  const { scheme, name, port } = splitSchemeNamePort(id);
  let portName = port;
  if (/^\d+$/.test(port)) {
    const declared = (ports ?? []).find((p) => p.port === Number(port));
    if (!declared) throw status.serviceUnavailable(`no service port ${port} found for service "${name}"`);
    portName = declared.name ?? "";
  }
  const subsets = endpoints.subsets ?? [];
  if (subsets.length === 0) throw status.serviceUnavailable(`no endpoints available for service "${name}"`);
  const start = Math.floor(random() * subsets.length);
  for (let i = 0; i < subsets.length; i++) {
    const ss = subsets[(start + i) % subsets.length]!;
    const addresses = ss.addresses ?? [];
    if (addresses.length === 0) continue;
    const p = (ss.ports ?? []).find((x) => (x.name ?? "") === portName);
    if (!p?.port) continue;
    const first = Math.floor(random() * addresses.length);
    for (let t = 0; t < addresses.length; t++) {
      const a = addresses[(first + t) % addresses.length]!;
      if (a.ip && (await valid(a))) return { host: a.ip, port: p.port, scheme };
    }
  }
  throw status.serviceUnavailable(`no endpoints available for service "${id}"`);
}

interface Backend {
  readonly host: string;
  readonly port: number;
  /** TLS with the kubelet client certificate; plain TCP when false (pods/proxy over http) */
  readonly tls: boolean;
  readonly clientCert: boolean;
}

const POD_SUBRESOURCES = new Set(["log", "exec", "attach", "portforward", "proxy"]);

/** A boolean query parameter, false when absent. */
const parseBool = (q: URLSearchParams, name: string): boolean => queryBool(q, name) === true;

function parseInt64(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (!/^-?\d+$/.test(v)) throw status.badRequest(`${name}: Invalid value: "${v}": must be an integer`);
  return Number(v);
}

export function isUpgradeRequest(req: IncomingMessage): boolean {
  return req.headers.upgrade !== undefined && /(^|,)\s*upgrade\s*(,|$)/i.test(req.headers.connection ?? "");
}

interface ContainerLike {
  readonly name?: string;
}

function specOf(pod: KubeObject): { nodeName?: string; containers?: ContainerLike[]; initContainers?: ContainerLike[]; ephemeralContainers?: ContainerLike[] } {
  return (pod.spec ?? {}) as never;
}

/** Upstream's validateContainer: the named container must exist; no name is fine only with one container. */
export function resolveContainer(pod: KubeObject, requested: string): string {
  const spec = specOf(pod);
  const name = pod.metadata?.name ?? "";
  const containers = spec.containers ?? [];
  const all = [...(spec.initContainers ?? []), ...containers, ...(spec.ephemeralContainers ?? [])].map((c) => c.name ?? "");
  if (requested === "") {
    if (containers.length === 1) return containers[0]!.name ?? "";
    if (containers.length === 0) throw status.badRequest(`a container name must be specified for pod ${name}`);
    throw status.badRequest(`a container name must be specified for pod ${name}, choose one of: [${all.join(" ")}]`);
  }
  if (!all.includes(requested)) throw status.badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

/** pods/log query → the kubelet's, checked as upstream's ValidatePodLogOptions does. */
export function kubeletLogQuery(q: URLSearchParams, podName: string): URLSearchParams {
  const out = new URLSearchParams();
  const causes: { text: string; cause: status.StatusCause }[] = [];
  const bad = (field: string, value: unknown, msg: string, reason = "FieldValueInvalid"): void => {
    causes.push({ text: `${field}: ${reason === "FieldValueForbidden" ? "Forbidden" : `Invalid value: ${JSON.stringify(value)}`}: ${msg}`, cause: { reason, message: msg, field } });
  };
  for (const b of ["follow", "previous", "timestamps"]) if (parseBool(q, b)) out.set(b, "true");
  const tail = parseInt64(q, "tailLines");
  if (tail !== undefined) {
    if (tail < 0) bad("tailLines", tail, "must be greater than or equal to 0");
    else out.set("tailLines", String(tail));
  }
  const limit = parseInt64(q, "limitBytes");
  if (limit !== undefined) {
    if (limit < 1) bad("limitBytes", limit, "must be greater than 0");
    else out.set("limitBytes", String(limit));
  }
  const sinceSeconds = parseInt64(q, "sinceSeconds");
  const sinceTime = q.get("sinceTime");
  if (sinceSeconds !== undefined && sinceTime) bad("sinceSeconds", sinceSeconds, "at most one of `sinceTime` or `sinceSeconds` may be specified", "FieldValueForbidden");
  else if (sinceSeconds !== undefined) {
    if (sinceSeconds < 1) bad("sinceSeconds", sinceSeconds, "must be greater than 0");
    else out.set("sinceSeconds", String(sinceSeconds));
  } else if (sinceTime) {
    if (!Number.isFinite(Date.parse(sinceTime))) throw status.badRequest(`sinceTime: Invalid value: "${sinceTime}": must be an RFC3339 time`);
    out.set("sinceTime", sinceTime);
  }
  if (causes.length > 0) throw status.invalid("", "PodLogOptions", podName, causes);
  return out;
}

/** pods/exec and pods/attach query (kubectl's stdin/stdout/stderr/tty) → the kubelet's input/output/error/tty. */
export function kubeletStreamQuery(q: URLSearchParams, exec: boolean): URLSearchParams {
  const out = new URLSearchParams();
  const stdin = parseBool(q, "stdin");
  const stdout = parseBool(q, "stdout");
  const stderr = parseBool(q, "stderr");
  const tty = parseBool(q, "tty");
  if (!stdin && !stdout && !stderr) throw status.badRequest("you must specify at least 1 of stdin, stdout, stderr");
  if (stdin) out.set("input", "1");
  if (stdout) out.set("output", "1");
  if (stderr) out.set("error", "1");
  if (tty) out.set("tty", "1");
  if (exec) {
    const command = q.getAll("command");
    if (command.length === 0) throw status.badRequest("you must specify at least one command for the container");
    for (const c of command) out.append("command", c);
  }
  return out;
}

/** pods/portforward `ports` (repeated or comma-separated) → the kubelet's `port` values. */
export function kubeletPortForwardQuery(q: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const v of q.getAll("ports").flatMap((p) => p.split(","))) {
    const s = v.trim();
    if (s === "") continue;
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw status.badRequest(`ports: Invalid value: "${s}": must be a port number between 1 and 65535`);
    out.append("port", s);
  }
  return out;
}

/**
 * The raw path after `/proxy` (kept percent-encoded), "/" when there is none:
 * /api/v1/namespaces/NS/pods/NAME/proxy/… (namespaced) or /api/v1/nodes/NAME/proxy/….
 */
export function proxiedPath(pathname: string, namespaced: boolean): string {
  const segs = pathname.split("/");
  const at = namespaced ? 7 : 5;
  if (segs[at] !== "proxy") return "/";
  return "/" + segs.slice(at + 1).join("/");
}

/** `name`, `name:port` or `scheme:name:port` (upstream's SplitSchemeNamePort). */
export function splitSchemeNamePort(id: string): { scheme: string; name: string; port: string } {
  const parts = id.split(":");
  if (parts.length === 1) return { scheme: "", name: parts[0]!, port: "" };
  if (parts.length === 2) return { scheme: "", name: parts[0]!, port: parts[1]! };
  if (parts.length === 3 && (parts[0] === "http" || parts[0] === "https")) return { scheme: parts[0], name: parts[1]!, port: parts[2]! };
  throw status.badRequest(`invalid name "${id}"`);
}

/** The client's own credentials and target stay here: the backend knows us by our client certificate. */
function staysHere(name: string): boolean {
  const n = name.toLowerCase();
  return n === "host" || n === "authorization" || n.startsWith("impersonate-");
}

function forwardedHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || staysHere(k) || HOP_BY_HOP.has(k.toLowerCase())) continue;
    out[k] = v;
  }
  return out;
}

/** Go's wording for the common socket errors, as upstream's messages carry them. */
const GO_ERRNO: Record<string, string> = {
  ECONNREFUSED: "connect: connection refused",
  EHOSTUNREACH: "connect: no route to host",
  ENETUNREACH: "connect: network is unreachable",
  ECONNRESET: "read: connection reset by peer",
  ETIMEDOUT: "i/o timeout",
};

function dialError(err: Error, b?: Backend): status.StatusError {
  const code = (err as NodeJS.ErrnoException).code;
  const go = code ? GO_ERRNO[code] : undefined;
  const what = go && b ? `dial tcp ${b.host.includes(":") ? `[${b.host}]` : b.host}:${b.port}: ${go}` : err.message;
  return status.serviceUnavailable(`Error dialing backend: ${what}`);
}

/** Opens the connection to the backend; rejects with a 503 Status when it cannot be reached. */
function dial(b: Backend, client: CertAndKey, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket: Socket = b.tls
      ? tlsConnect({
          host: b.host,
          port: b.port,
          ...(b.clientCert ? { cert: client.certPem, key: client.keyPem } : {}),
          rejectUnauthorized: false,
          ALPNProtocols: ["http/1.1"],
          ...(isIP(b.host) === 0 ? { servername: b.host } : {}),
        })
      : netConnect({ host: b.host, port: b.port });
    const timer = setTimeout(() => fail(new Error(`dial tcp ${b.host}:${b.port}: i/o timeout`)), DIAL_TIMEOUT_MS);
    const onAbort = (): void => fail(new Error("the client went away"));
    const fail = (err: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(dialError(err, b));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("error", fail);
    socket.once(b.tls ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      socket.off("error", fail);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** Replays the client's upgrade request on the backend and pipes the two sockets until either closes. */
async function proxyUpgrade(ctx: HttpContext, b: Backend, path: string, client: CertAndKey): Promise<void> {
  const upstream = await dial(b, client, ctx.signal);
  const socket = ctx.req.socket as Duplex;
  const lines = [`${ctx.req.method ?? "GET"} ${path} HTTP/1.1`, `Host: ${b.host.includes(":") ? `[${b.host}]` : b.host}:${b.port}`];
  const raw = ctx.req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) if (!staysHere(raw[i]!)) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  upstream.write(lines.join("\r\n") + "\r\n\r\n");
  const head = upgradeHeads.get(ctx.req);
  if (head && head.length > 0) upstream.write(head);
  // From here on the response is the backend's, byte for byte.
  ctx.code = 101;
  await new Promise<void>((resolve) => {
    const end = (): void => {
      socket.destroy();
      upstream.destroy();
      resolve();
    };
    socket.on("error", end);
    upstream.on("error", end);
    socket.on("close", end);
    upstream.on("close", end);
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
}

interface HttpProxyOptions {
  /** pods/log: a kubelet error becomes a Status as upstream's GenericHttpResponseChecker makes it */
  readonly checkStatus?: { readonly resource: string; readonly name: string };
}

function kubeletErrorStatus(code: number, body: string, what: { resource: string; name: string }): status.StatusError {
  const text = body.trim();
  switch (code) {
    case 400:
      return status.badRequest(text || "the server rejected our request for an unknown reason");
    case 404: {
      const e = status.notFound({ group: "", resource: what.resource }, what.name);
      if (text) e.status.message = text;
      return e;
    }
    case 500:
      return status.internalError(text);
    default: {
      const e = status.serviceUnavailable(text || `the kubelet answered ${code}`);
      e.status.code = code;
      return e;
    }
  }
}

/** Forwards a plain request (any method, body streamed) and streams the answer back. */
function proxyHttp(ctx: HttpContext, b: Backend, path: string, client: CertAndKey, opts: HttpProxyOptions = {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const request = b.tls ? httpsRequest : httpRequest;
    const req = request({
      host: b.host,
      port: b.port,
      method: ctx.req.method ?? "GET",
      path,
      headers: forwardedHeaders(ctx.req.headers),
      agent: false,
      ...(b.tls ? { rejectUnauthorized: false, ...(b.clientCert ? { cert: client.certPem, key: client.keyPem } : {}) } : {}),
    });
    let answered = false;
    const onAbort = (): void => {
      req.destroy();
      resolve();
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    const dialTimer = setTimeout(() => req.destroy(new Error(`dial tcp ${b.host}:${b.port}: i/o timeout`)), DIAL_TIMEOUT_MS);
    req.on("error", (err) => {
      clearTimeout(dialTimer);
      ctx.signal.removeEventListener("abort", onAbort);
      if (!answered) reject(dialError(err, b));
      else {
        ctx.res.destroy();
        resolve();
      }
    });
    req.on("response", (res) => {
      clearTimeout(dialTimer);
      answered = true;
      const code = res.statusCode ?? 502;
      if (opts.checkStatus && (code < 200 || code > 206)) {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          if (size < 64 * 1024) chunks.push(c);
          size += c.length;
        });
        res.on("end", () => {
          ctx.signal.removeEventListener("abort", onAbort);
          reject(kubeletErrorStatus(code, Buffer.concat(chunks).toString("utf8"), opts.checkStatus!));
        });
        res.on("error", (err) => reject(dialError(err, b)));
        return;
      }
      const headers: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k.toLowerCase())) headers[k] = v;
      ctx.code = code;
      ctx.res.writeHead(code, headers);
      ctx.res.flushHeaders();
      res.pipe(ctx.res);
      // A backend that goes away mid-answer must not leave the client waiting for the rest.
      res.on("close", () => {
        ctx.signal.removeEventListener("abort", onAbort);
        if (!res.complete) ctx.res.destroy();
        resolve();
      });
      res.on("error", () => undefined);
    });
    ctx.req.pipe(req);
  });
}

export function subresourceProxy(o: SubresourceProxyOptions): (ctx: HttpContext) => Promise<boolean> {
  const nodeBackend = async (nodeName: string, portOverride = ""): Promise<Backend> => {
    if (!o.nodes) throw status.serviceUnavailable("nodes are not served");
    const kubelet = kubeletAddress(await o.nodes.get("", nodeName));
    if (typeof kubelet === "string") throw status.serviceUnavailable(`Error dialing backend: ${kubelet}`);
    const port = portOverride ? Number(portOverride) : kubelet.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw status.badRequest(`invalid port "${portOverride}"`);
    return { host: kubelet.host, port, tls: true, clientCert: true };
  };

  const pathWith = (path: string, q: URLSearchParams): string => {
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  };

  const servePod = async (ctx: HttpContext): Promise<void> => {
    const i = ctx.info;
    const q = ctx.url.searchParams;
    const upgrade = isUpgradeRequest(ctx.req);
    if (!o.pods) throw status.serviceUnavailable("pods are not served");
    if (i.subresource === "proxy") {
      const { scheme, name, port } = splitSchemeNamePort(i.name);
      const pod = await o.pods.get(i.namespace, name);
      const ip = ((pod.status ?? {}) as { podIP?: string }).podIP;
      if (!ip) throw status.serviceUnavailable(`pod ${name} does not have an IP address assigned`);
      const tls = scheme === "https";
      const b: Backend = { host: ip, port: port ? Number(port) : tls ? 443 : 80, tls, clientCert: false };
      const path = proxiedPath(ctx.url.pathname, true) + ctx.url.search;
      return upgrade ? proxyUpgrade(ctx, b, path, o.kubeletClient) : proxyHttp(ctx, b, path, o.kubeletClient);
    }
    const pod = await o.pods.get(i.namespace, i.name);
    const name = pod.metadata?.name ?? i.name;
    const ns = encodeURIComponent(i.namespace);
    const podSeg = encodeURIComponent(name);
    const nodeName = specOf(pod).nodeName ?? "";
    if (i.subresource === "log") {
      if (ctx.req.method !== "GET" && ctx.req.method !== "HEAD") throw status.methodNotSupported({ group: "", resource: "pods/log" }, i.verb);
      const container = resolveContainer(pod, q.get("container") ?? "");
      const query = kubeletLogQuery(q, name);
      // Upstream answers an empty log for a pod no node has taken yet.
      if (nodeName === "") {
        ctx.code = 200;
        ctx.res.writeHead(200, { "Content-Type": "text/plain" }).end();
        return;
      }
      const b = await nodeBackend(nodeName);
      return proxyHttp(ctx, b, pathWith(`/containerLogs/${ns}/${podSeg}/${encodeURIComponent(container)}`, query), o.kubeletClient, { checkStatus: { resource: "pods/log", name } });
    }
    // exec, attach, portforward: streams only.
    if (ctx.req.method !== "GET" && ctx.req.method !== "POST") throw status.methodNotSupported({ group: "", resource: `pods/${i.subresource}` }, i.verb);
    let path: string;
    if (i.subresource === "portforward") {
      path = pathWith(`/portForward/${ns}/${podSeg}`, kubeletPortForwardQuery(q));
    } else {
      const container = resolveContainer(pod, q.get("container") ?? "");
      path = pathWith(`/${i.subresource}/${ns}/${podSeg}/${encodeURIComponent(container)}`, kubeletStreamQuery(q, i.subresource === "exec"));
    }
    if (nodeName === "") throw status.badRequest(`pod ${name} does not have a host assigned`);
    if (!upgrade) throw status.badRequest("Upgrade request required");
    const b = await nodeBackend(nodeName);
    return proxyUpgrade(ctx, b, path, o.kubeletClient);
  };

  const serveNode = async (ctx: HttpContext): Promise<void> => {
    const { scheme, name, port } = splitSchemeNamePort(ctx.info.name);
    if (scheme === "http") throw status.badRequest("the kubelet is only reachable over https");
    const b = await nodeBackend(name, port);
    const path = proxiedPath(ctx.url.pathname, false) + ctx.url.search;
    return isUpgradeRequest(ctx.req) ? proxyUpgrade(ctx, b, path, o.kubeletClient) : proxyHttp(ctx, b, path, o.kubeletClient);
  };

  const serveService = async (ctx: HttpContext): Promise<void> => {
    const i = ctx.info;
    if (!o.services || !o.endpoints) throw status.serviceUnavailable("services are not served");
    const { name } = splitSchemeNamePort(i.name);
    const svc = await o.services.get(i.namespace, name);
    const endpoints = await o.endpoints.get(i.namespace, name);
    const pods = o.pods;
    // An address is used only when its pod, in the service's namespace, still has that IP.
    const valid = async (a: EndpointAddressLike): Promise<boolean> => {
      const ref = a.targetRef;
      if (!pods || !ref?.name || ref.namespace !== i.namespace) return false;
      const pod = await pods.get(i.namespace, ref.name, { resourceVersion: "0" }).catch(() => undefined);
      const ips = ((pod?.status ?? {}) as { podIPs?: { ip?: string }[] }).podIPs ?? [];
      return ips.some((x) => x.ip === a.ip);
    };
    const target = await serviceBackend(i.name, ((svc.spec ?? {}) as { ports?: { name?: string; port?: number }[] }).ports, endpoints as EndpointsLike, valid);
    const b: Backend = { host: target.host, port: target.port, tls: target.scheme === "https", clientCert: false };
    const path = proxiedPath(ctx.url.pathname, true) + ctx.url.search;
    return isUpgradeRequest(ctx.req) ? proxyUpgrade(ctx, b, path, o.kubeletClient) : proxyHttp(ctx, b, path, o.kubeletClient);
  };

  return async (ctx) => {
    const i = ctx.info;
    if (!i.isResourceRequest || i.apiGroup !== "" || i.apiVersion !== "v1" || i.name === "") return false;
    if (i.resource === "services" && i.namespace !== "" && i.subresource === "proxy") {
      await serveService(ctx);
      return true;
    }
    if (i.resource === "pods" && i.namespace !== "" && POD_SUBRESOURCES.has(i.subresource)) {
      await servePod(ctx);
      return true;
    }
    if (i.resource === "nodes" && i.namespace === "" && i.subresource === "proxy") {
      await serveNode(ctx);
      return true;
    }
    return false;
  };
}
