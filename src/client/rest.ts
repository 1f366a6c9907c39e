// The typed REST client: Kubernetes paths over HTTPS with keep-alive, client certificates or a
// bearer token, client-side throttling (client-go's QPS/burst token bucket), and client-go's
// retry rules: a 429 or 5xx that carries Retry-After is retried after that long (the server
// said it did not do the work), and so is a request that died on a reused keep-alive socket
// before any answer; GETs are also retried after a reset connection, with backoff. Everything
// else is returned to the caller as an ApiError or ClientError.
import { readFileSync } from "node:fs";
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions as NodeRequestOptions } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions as HttpsAgentOptions } from "node:https";
import { createSecureContext, type SecureContext } from "node:tls";
import { StringDecoder } from "node:string_decoder";
import type { Binding } from "kubernetes-types/core/v1.js";
import type { Scale } from "kubernetes-types/autoscaling/v1.js";
import type { ListMeta, ObjectMeta, Preconditions } from "kubernetes-types/meta/v1.js";
import type { Selector } from "../api/labels.js";
import type { FieldSelector } from "../api/fields.js";
import { inClusterConfig, loadKubeconfig, type ClientConfig } from "../util/kubeconfig.js";
import { VERSION } from "../util/version.js";
import { realClock, sleep, type Clock } from "./clock.js";
import { ApiError, ClientError, type Status } from "./errors.js";
import type { KubeObject } from "./objects.js";
import { TokenBucket } from "./ratelimit.js";
import { apiVersionOf, builtinByKind, builtinByResource, splitApiVersion, type KindType, type ResourceInfo } from "./resources.js";

const TOKEN_REREAD_MS = 60_000;

export interface RestClientOptions {
  readonly config: ClientConfig;
  /** Names the program in the user agent, `k8ts-<component>/<version>`; the server derives the default field manager from it. */
  readonly component?: string;
  /** Appended to the user agent as `/<name>`, naming one part of a component (e.g. a controller). */
  readonly name?: string;
  /** Replaces the whole user agent. */
  readonly userAgent?: string;
  /** Sustained requests per second; client-go's default 5. Infinity turns throttling off. */
  readonly qps?: number;
  /** Requests allowed at once above the sustained rate; client-go's default 10. */
  readonly burst?: number;
  /** Retries of one request (Retry-After answers, reset connections); client-go's default 10. */
  readonly maxRetries?: number;
  /** Deadline of each non-watch request, including reading the answer; default 60 s. 0: none. */
  readonly timeoutMs?: number;
  /** Sockets per host for non-watch requests; default 64. Watches use their own sockets. */
  readonly maxSockets?: number;
  readonly clock?: Clock;
  /** Where the bearer token comes from when it changes over time; replaces config.token/tokenFile. */
  readonly tokenSource?: TokenSource;
}

/**
 * A bearer token that changes over time (e.g. one from the TokenRequest API, renewed before it
 * expires), read before every request, as client-go's oauth2 token source transport does.
 */
export interface TokenSource {
  token(): string | undefined;
  /** The server answered 401: the token is no longer good (client-go's ResettableTokenSource resets its cache). */
  unauthorized?(): void;
}

interface CompiledOptions {
  readonly config: ClientConfig;
  readonly url: URL;
  readonly userAgent: string;
  readonly qps: number;
  readonly burst: number;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly maxSockets: number;
  readonly clock: Clock;
  readonly tokenSource: TokenSource | undefined;
}

function compileOptions(o: RestClientOptions): CompiledOptions {
  let url: URL;
  try {
    url = new URL(o.config.server);
  } catch (err) {
    throw new ClientError("InvalidOptions", `server ${JSON.stringify(o.config.server)} is not a URL`, { cause: err });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new ClientError("InvalidOptions", `server ${o.config.server}: only https and http are supported`);
  const qps = o.qps ?? 5;
  const burst = o.burst ?? 10;
  if (!(qps > 0)) throw new ClientError("InvalidOptions", `qps must be > 0 (Infinity to disable throttling), got ${qps}`);
  if (qps !== Infinity && !(Number.isInteger(burst) && burst >= 1)) throw new ClientError("InvalidOptions", `burst must be an integer >= 1, got ${burst}`);
  const platform = `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`;
  return {
    config: o.config,
    url,
    userAgent: (o.userAgent ?? `k8ts-${o.component ?? "client"}/${VERSION.gitVersion} (${platform})`) + (o.name ? `/${o.name}` : ""),
    qps,
    burst,
    maxRetries: o.maxRetries ?? 10,
    timeoutMs: o.timeoutMs ?? 60_000,
    maxSockets: o.maxSockets ?? 64,
    clock: o.clock ?? realClock,
    tokenSource: o.tokenSource,
  };
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestSpec {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Absolute path, e.g. `/api/v1/namespaces/default/pods`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly body?: string;
  /** Default application/json when there is a body. */
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** Overrides the client's per-request deadline. */
  readonly timeoutMs?: number;
  /** The answer is one object: decode it without metadata.managedFields (see DecodeOptions). */
  readonly omitManagedFields?: boolean;
  /** The answer is one object: decode only its metadata, without managedFields (see WriteOptions.answer). */
  readonly answer?: "metadata";
}

interface RawAnswer {
  readonly status: number;
  /** Its headers are parsed on first read: only a refusal needs them. */
  readonly res: IncomingMessage;
  readonly body: string;
}

const RETRIABLE_SOCKET_ERRORS = new Set(["ECONNRESET", "EPIPE"]);

function errnoOf(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && typeof (err as { code?: unknown }).code === "string" ? (err as { code: string }).code : undefined;
}

function retryAfterSeconds(status: number, headers: IncomingMessage["headers"]): number | undefined {
  if (status !== 429 && status < 500) return undefined;
  const v = headers["retry-after"];
  if (typeof v !== "string" || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

function buildQuery(q: Readonly<Record<string, QueryValue>> | undefined): string {
  if (!q) return "";
  // Most requests carry no query at all (every write option unset): skip building one.
  let p: URLSearchParams | undefined;
  for (const k in q) {
    const v = q[k];
    if (v !== undefined && v !== "") (p ??= new URLSearchParams()).append(k, String(v));
  }
  const s = p?.toString();
  return s ? `?${s}` : "";
}

/**
 * The agent's TLS options. Node's https agent parses the PEMs into a new secure context for
 * every connection it opens, and concatenates them into its pool key on every request; one
 * context made here spares both. PEMs that do not parse are passed as they are, so the error
 * still comes from the request, as it always did.
 */
function tlsOptions(c: ClientConfig): HttpsAgentOptions {
  const pems = {
    ...(c.caPem !== undefined ? { ca: c.caPem } : {}),
    ...(c.certPem !== undefined ? { cert: c.certPem } : {}),
    ...(c.keyPem !== undefined ? { key: c.keyPem } : {}),
  };
  const verify = { rejectUnauthorized: !c.insecureSkipTLSVerify, ...(c.tlsServerName ? { servername: c.tlsServerName } : {}) };
  let secureContext: SecureContext;
  try {
    secureContext = createSecureContext(pems);
  } catch {
    return { ...pems, ...verify };
  }
  return { secureContext, ...verify };
}

/** Rejects with the abort reason; used where a wait was cut short by the caller's signal. */
function aborted(signal: AbortSignal | undefined): never {
  throw signal?.reason ?? new DOMException("This operation was aborted", "AbortError");
}

/**
 * One connection to one API server as one user. Create once per process (or per identity)
 * and share: it owns the keep-alive sockets and the throttle. `close()` releases the sockets.
 */
export class RestClient {
  readonly config: ClientConfig;
  readonly userAgent: string;
  private readonly opts: CompiledOptions;
  private readonly agent: HttpAgent;
  private readonly watchAgent: HttpAgent;
  private readonly throttle: TokenBucket;
  private readonly send: (options: NodeRequestOptions, cb: (res: IncomingMessage) => void) => ClientRequest;
  /** Where every request goes, worked out once instead of per request. */
  private readonly target: { readonly protocol: string; readonly hostname: string; readonly port: string | number };
  private readonly basePath: string;
  /** The Host header, as node would make it from `target`. */
  private readonly hostHeader: string;
  private readonly inFlight = new InFlight();

  constructor(options: RestClientOptions) {
    this.opts = compileOptions(options);
    this.config = this.opts.config;
    this.userAgent = this.opts.userAgent;
    const c = this.config;
    const https = this.opts.url.protocol === "https:";
    const make = (maxSockets: number): HttpAgent =>
      https ? new HttpsAgent({ keepAlive: true, maxSockets, ...tlsOptions(c) }) : new HttpAgent({ keepAlive: true, maxSockets });
    this.agent = make(this.opts.maxSockets);
    // HTTP/1.1 holds a socket per watch for its whole life; watches must never starve requests.
    this.watchAgent = make(Infinity);
    const url = this.opts.url;
    this.target = { protocol: url.protocol, hostname: url.hostname.replace(/^\[|\]$/g, ""), port: url.port || (https ? 443 : 80) };
    this.basePath = url.pathname.replace(/\/+$/, "");
    const host = this.target.hostname;
    this.hostHeader = (host.includes(":") ? `[${host}]` : host) + (Number(this.target.port) !== (https ? 443 : 80) ? `:${this.target.port}` : "");
    this.send = https ? httpsRequest : httpRequest;
    this.throttle = new TokenBucket(this.opts.qps, this.opts.qps === Infinity ? 1 : this.opts.burst, this.opts.clock);
  }

  /** Closes idle keep-alive sockets and any open watch connections. */
  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }

  /** A client for one resource. `namespaced` and `kind` default from the built-in table. */
  resource<T extends KubeObject = KubeObject>(group: string, version: string, plural: string, opts: { readonly namespaced?: boolean; readonly kind?: string } = {}): ResourceClient<T> {
    const known = builtinByResource(group, version, plural);
    const namespaced = opts.namespaced ?? known?.namespaced;
    if (namespaced === undefined) throw new ClientError("UnknownResource", `resource ${plural}.${group || "core"}/${version} is not built in: say whether it is namespaced`);
    const kind = opts.kind ?? known?.kind ?? "";
    return new ResourceClient<T>(this, Object.freeze({ group, version, plural, kind, namespaced }));
  }

  /** A client for a built-in kind, typed from the kind: `forKind("apps/v1", "Deployment")`. */
  forKind<AV extends string, K extends string>(apiVersion: AV, kind: K): ResourceClient<KindType<AV, K>> {
    const info = builtinByKind(apiVersion, kind);
    if (!info) {
      const { group, version } = splitApiVersion(apiVersion);
      throw new ClientError("UnknownResource", `no built-in resource for kind ${kind} in ${group || "core"}/${version}`);
    }
    return new ResourceClient<KindType<AV, K>>(this, info);
  }

  /** Sends a request and decodes the JSON answer; a non-2xx answer throws ApiError. */
  async request<R>(spec: RequestSpec): Promise<R> {
    const answer = await this.execute(spec);
    let out: R;
    try {
      if (spec.answer === "metadata") return metadataOfAnswer(answer.body) as R;
      out = JSON.parse(spec.omitManagedFields ? withoutManagedFields(answer.body, ANSWER_HEAD) : answer.body) as R;
    } catch (err) {
      throw new ClientError("Decode", `${spec.method} ${spec.path}: the answer is not JSON: ${answer.body.slice(0, 200)}`, { cause: err });
    }
    if (spec.omitManagedFields) dropManagedFields(out);
    return out;
  }

  private async execute(spec: RequestSpec): Promise<RawAnswer> {
    const idempotent = spec.method === "GET";
    for (let attempt = 0; ; attempt++) {
      const token = this.throttle.wait(spec.signal);
      if (token !== true && !(await token)) aborted(spec.signal);
      let answer: RawAnswer;
      try {
        answer = await this.once(spec);
      } catch (err) {
        if (!(err instanceof RetriableTransportError) || attempt >= this.opts.maxRetries) throw err instanceof RetriableTransportError ? err.error : err;
        // A stale keep-alive socket: the server never saw the request, so try at once.
        if (err.reusedSocket) continue;
        if (!idempotent) throw err.error;
        if (!(await sleep(this.opts.clock, Math.min(10_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2), spec.signal))) aborted(spec.signal);
        continue;
      }
      if (answer.status >= 200 && answer.status < 300) return answer;
      if (answer.status === 401) this.opts.tokenSource?.unauthorized?.();
      const after = retryAfterSeconds(answer.status, answer.res.headers);
      if (after !== undefined && attempt < this.opts.maxRetries) {
        if (!(await sleep(this.opts.clock, after * 1000, spec.signal))) aborted(spec.signal);
        continue;
      }
      throw ApiError.fromResponse(answer.status, answer.body, after);
    }
  }

  /** One HTTP exchange: resolves with the whole answer, whatever its status. */
  private once(spec: RequestSpec): Promise<RawAnswer> {
    const timeoutMs = spec.timeoutMs ?? this.opts.timeoutMs;
    const caller = spec.signal;
    // One timer and at most one abort listener per request, instead of AbortSignal.timeout and
    // AbortSignal.any and the signal option of http.request, which cost several times as much.
    return new Promise<RawAnswer>((resolve, reject) => {
      if (caller?.aborted) return reject(caller.reason);
      let gotResponse = false;
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;
      let flight: InFlightRequest | undefined;
      const settle = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        if (flight) this.inFlight.remove(flight);
      };
      const fail = (err: unknown): void => {
        settle();
        if (caller?.aborted) return reject(caller.reason);
        if (timedOut) return reject(new ClientError("Timeout", `${spec.method} ${spec.path}: no complete answer within ${timeoutMs} ms`, { cause: err }));
        const wrapped = new ClientError("Transport", `${spec.method} ${spec.path}: ${(err as Error).message}`, { cause: err });
        const code = errnoOf(err);
        if (!gotResponse && code !== undefined && RETRIABLE_SOCKET_ERRORS.has(code)) return reject(new RetriableTransportError(wrapped, req.reusedSocket));
        reject(wrapped);
      };
      const req = this.open(spec, this.agent, undefined, (res) => {
        gotResponse = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          settle();
          resolve({ status: res.statusCode ?? 0, res, body: chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", fail);
      });
      if (caller) flight = this.inFlight.add(caller, () => req.destroy(new DOMException("This operation was aborted", "AbortError")));
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          req.destroy(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
        }, timeoutMs);
        timer.unref();
      }
      req.on("error", fail);
    });
  }

  private token: { value: string | undefined; readAt: number } | undefined;

  /**
   * The bearer token; one from a file is read again at most once a minute, as client-go does:
   * the kubelet rotates a pod's projected service account token well before it expires.
   */
  private bearerToken(): string | undefined {
    if (this.opts.tokenSource) return this.opts.tokenSource.token();
    const file = this.config.tokenFile;
    if (!file) return this.config.token;
    const now = this.opts.clock.now();
    if (!this.token || now - this.token.readAt > TOKEN_REREAD_MS) {
      let value = this.token?.value ?? this.config.token;
      try {
        value = readFileSync(file, "utf8").trim() || value;
      } catch {
        // keep the last token: a rotation swaps the file atomically, so a failure is transient
      }
      this.token = { value, readAt: now };
    }
    return this.token.value;
  }

  private open(spec: RequestSpec, agent: HttpAgent, signal: AbortSignal | undefined, onResponse: (res: IncomingMessage) => void): ClientRequest {
    const target = this.target;
    // Headers as a list: node writes them as they are, where it validates and stores an
    // object's one by one through setHeader (and then needs the Host header added by us).
    const headers = ["Accept", "application/json", "User-Agent", this.userAgent];
    const token = this.bearerToken();
    if (token) headers.push("Authorization", `Bearer ${token}`);
    if (spec.body !== undefined) headers.push("Content-Type", spec.contentType ?? "application/json", "Content-Length", String(Buffer.byteLength(spec.body)));
    headers.push("Host", this.hostHeader);
    const req = this.send(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: spec.method,
        path: this.basePath + spec.path + buildQuery(spec.query),
        headers,
        agent,
        ...(signal ? { signal } : {}),
      },
      onResponse,
    );
    req.end(spec.body);
    return req;
  }

  /**
   * Opens a watch. Resolves once the server accepted it (200); a refusal throws ApiError
   * (after Retry-After retries, like any request). The events arrive through the Watch.
   */
  async watch<T extends KubeObject>(spec: RequestSpec, info: ResourceInfo, clientTimeoutMs: number | undefined): Promise<Watch<T>> {
    for (let attempt = 0; ; attempt++) {
      if (!(await this.throttle.wait(spec.signal))) aborted(spec.signal);
      const stop = new AbortController();
      const signals = [stop.signal, spec.signal, clientTimeoutMs ? AbortSignal.timeout(clientTimeoutMs) : undefined].filter((s): s is AbortSignal => s !== undefined);
      const signal = AbortSignal.any(signals);
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = this.open(spec, this.watchAgent, signal, resolve);
        req.on("error", (err) => {
          if (spec.signal?.aborted) reject(spec.signal.reason);
          else reject(new ClientError("Transport", `watch ${spec.path}: ${err.message}`, { cause: err }));
        });
      });
      if (res.statusCode === 200) return new Watch<T>(res, stop, spec.signal, info, spec.omitManagedFields === true);
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      const status = res.statusCode ?? 0;
      if (status === 401) this.opts.tokenSource?.unauthorized?.();
      const after = retryAfterSeconds(status, res.headers);
      if (after !== undefined && attempt < this.opts.maxRetries) {
        if (!(await sleep(this.opts.clock, after * 1000, spec.signal))) aborted(spec.signal);
        continue;
      }
      throw ApiError.fromResponse(status, body, after);
    }
  }
}

/** A request in flight under a caller's signal, linked into its client's InFlight list. */
interface InFlightRequest {
  readonly signal: AbortSignal;
  readonly abort: () => void;
  prev: InFlightRequest | undefined;
  next: InFlightRequest | undefined;
  linked: boolean;
}

/**
 * The requests in flight under callers' signals, and one abort listener per signal however
 * many requests share it (most callers pass one long-lived stop signal with every request).
 * An intrusive list, because an EventTarget listener or a Set entry per request costs V8 far
 * more in garbage collection (measured: ~20 µs per request) than relinking two pointers.
 */
class InFlight {
  private head: InFlightRequest | undefined;
  private readonly hooked = new WeakSet<AbortSignal>();

  add(signal: AbortSignal, abort: () => void): InFlightRequest {
    const r: InFlightRequest = { signal, abort, prev: undefined, next: this.head, linked: true };
    if (this.head) this.head.prev = r;
    this.head = r;
    if (!this.hooked.has(signal)) {
      this.hooked.add(signal);
      signal.addEventListener("abort", () => this.abortAll(signal), { once: true });
    }
    return r;
  }

  remove(r: InFlightRequest): void {
    if (!r.linked) return;
    r.linked = false;
    if (r.prev) r.prev.next = r.next;
    else this.head = r.next;
    if (r.next) r.next.prev = r.prev;
    r.prev = r.next = undefined;
  }

  private abortAll(signal: AbortSignal): void {
    for (let r = this.head; r; ) {
      const next = r.next;
      if (r.signal === signal) {
        this.remove(r);
        r.abort();
      }
      r = next;
    }
  }
}

class RetriableTransportError extends Error {
  constructor(
    readonly error: ClientError,
    readonly reusedSocket: boolean,
  ) {
    super(error.message);
  }
}

/** The object of a BOOKMARK event: only `metadata.resourceVersion` (and annotations) are set. */
export interface BookmarkObject extends KubeObject {
  metadata: { resourceVersion: string; annotations?: Record<string, string> };
}

export type WatchEvent<T> =
  | { readonly type: "ADDED" | "MODIFIED" | "DELETED"; readonly object: T }
  | { readonly type: "BOOKMARK"; readonly object: BookmarkObject }
  | { readonly type: "ERROR"; readonly object: Status };

const EVENT_TYPES = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

/**
 * An open watch: iterate it once with `for await`. Iteration ends when the server closes the
 * stream (its timeout), when `stop()` is called or the caller's signal aborts; a connection
 * that breaks mid-stream throws ClientError "Transport". ERROR events (e.g. 410 Expired) are
 * yielded as they come: the caller decides what they mean.
 */
export class Watch<T extends KubeObject> implements AsyncIterable<WatchEvent<T>> {
  private iterated = false;
  constructor(
    private readonly res: IncomingMessage,
    private readonly stopper: AbortController,
    private readonly signal: AbortSignal | undefined,
    private readonly info: ResourceInfo,
    /** Decode objects without metadata.managedFields (see DecodeOptions). */
    private readonly omitManagedFields = false,
  ) {}

  /** Ends the watch; a pending iteration finishes without error. */
  stop(): void {
    this.stopper.abort();
    this.res.destroy();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    if (this.iterated) throw new ClientError("InvalidOptions", "a watch can be iterated only once");
    this.iterated = true;
    return this.events();
  }

  private decode(line: string): WatchEvent<T> {
    let ev: { type?: unknown; object?: unknown };
    try {
      ev = JSON.parse(this.omitManagedFields ? withoutManagedFields(line, EVENT_HEAD) : line) as { type?: unknown; object?: unknown };
    } catch (err) {
      throw new ClientError("Decode", `watch event is not JSON: ${line.slice(0, 200)}`, { cause: err });
    }
    if (typeof ev.type !== "string" || !EVENT_TYPES.has(ev.type) || typeof ev.object !== "object" || ev.object === null) {
      throw new ClientError("Decode", `not a watch event: ${line.slice(0, 200)}`);
    }
    if (ev.type === "ADDED" || ev.type === "MODIFIED" || ev.type === "DELETED") {
      withTypeMeta(ev.object as KubeObject, this.info);
      if (this.omitManagedFields) dropManagedFields(ev.object);
    }
    return ev as WatchEvent<T>;
  }

  private async *events(): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const decoder = new StringDecoder("utf8");
    let buf = "";
    try {
      for await (const chunk of this.res) {
        buf += decoder.write(chunk as Buffer);
        let start = 0;
        for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n", start)) {
          const line = buf.slice(start, nl);
          start = nl + 1;
          if (line.trim() !== "") yield this.decode(line);
        }
        buf = buf.slice(start);
      }
      buf += decoder.end();
      if (buf.trim() !== "") yield this.decode(buf);
    } catch (err) {
      if (this.stopper.signal.aborted || this.signal?.aborted) return;
      if (err instanceof ClientError) throw err;
      if ((err as Error).name === "AbortError" || (err as Error).name === "TimeoutError") throw new ClientError("Timeout", "watch exceeded its client-side deadline", { cause: err });
      throw new ClientError("Transport", `watch broken: ${(err as Error).message}`, { cause: err });
    } finally {
      this.res.destroy();
    }
  }
}

// ---- decoding without managedFields ------------------------------------------------------
//
// metadata.managedFields is a third of a pod's JSON but, as hundreds of tiny objects under
// keys like "f:spec", about two thirds of the time JSON.parse spends on it (measured on the
// density bench's pod events: 22 µs per event whole, 14 µs with managedFields cut from the
// text first, the cut included). Components that drop them anyway (every informer that
// strips them) can have them cut from the text before parsing. The cut is made only where
// the text has the compact layout API servers write (metadata among the object's first
// members, no whitespace); anything else is parsed whole and the field deleted afterwards.

/** A watch event of an object, up to just inside the object's metadata. */
const EVENT_HEAD = /\{"type":"(?:ADDED|MODIFIED|DELETED)","object":\{(?:"(?:apiVersion|kind)":"[^"\\]*",){0,2}"metadata":\{/y;
/** An object (a single-object answer), up to just inside its metadata. */
const ANSWER_HEAD = /\{(?:"(?:apiVersion|kind)":"[^"\\]*",){0,2}"metadata":\{/y;
const MANAGED_FIELDS_KEY = '"managedFields":';
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** Just past the JSON string that starts at `at` (a quote); -1 if it never ends. */
function stringEnd(text: string, at: number): number {
  for (let q = text.indexOf('"', at + 1); q >= 0; q = text.indexOf('"', q + 1)) {
    let b = q - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    // An even number of backslashes before the quote: they escape each other, not the quote.
    if ((q - 1 - b) % 2 === 0) return q + 1;
  }
  return -1;
}

/** Just past the object or array that starts at `at`; -1 if it never ends. */
function containerEnd(text: string, at: number): number {
  let depth = 0;
  for (let p = at; p < text.length; ) {
    const c = text.charCodeAt(p);
    if (c === QUOTE) {
      p = stringEnd(text, p);
      if (p < 0) return -1;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return p + 1;
    p++;
  }
  return -1;
}

/** Just past the JSON value that starts at `at`; -1 if it is not one this scan knows. */
function valueEnd(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if (c === QUOTE) return stringEnd(text, at);
  if (c === OPEN_BRACE || c === OPEN_BRACKET) return containerEnd(text, at);
  // A number, true, false or null: compact JSON ends it with the member separator or the brace.
  let p = at;
  for (let d = c; p < text.length && d !== COMMA && d !== CLOSE_BRACE; d = text.charCodeAt(++p)) if (d === QUOTE || d === OPEN_BRACE || d === OPEN_BRACKET) return -1;
  return p === at ? -1 : p;
}

/**
 * `text` without the `"managedFields":[…]` member of the metadata that `head` leads to, or
 * `text` itself when `head` does not match or the metadata is not laid out compactly.
 */
function withoutManagedFields(text: string, head: RegExp): string {
  head.lastIndex = 0;
  if (!head.test(text)) return text;
  let p = head.lastIndex;
  for (;;) {
    if (text.charCodeAt(p) !== QUOTE) return text;
    const member = p;
    if (text.startsWith(MANAGED_FIELDS_KEY, p)) {
      const v = p + MANAGED_FIELDS_KEY.length;
      if (text.charCodeAt(v) !== OPEN_BRACKET) return text;
      const end = containerEnd(text, v);
      if (end < 0) return text;
      const next = text.charCodeAt(end);
      if (next === COMMA) return text.slice(0, member) + text.slice(end + 1);
      if (next !== CLOSE_BRACE) return text;
      // The last member: its separator goes with it (there is none if it is the only one).
      return text.charCodeAt(member - 1) === COMMA ? text.slice(0, member - 1) + text.slice(end) : text.slice(0, member) + text.slice(end);
    }
    p = stringEnd(text, p);
    if (p < 0 || text.charCodeAt(p) !== COLON) return text;
    p = valueEnd(text, p + 1);
    if (p < 0 || text.charCodeAt(p) !== COMMA) return text;
    p++;
  }
}

/**
 * An answer's object reduced to its metadata, without managedFields: the metadata's text is cut
 * out and parsed alone where the answer has the compact layout (a pod's metadata is a fifth of
 * its text once managedFields are cut); anything else is parsed whole.
 */
function metadataOfAnswer(text: string): MetadataOnly {
  const cut = withoutManagedFields(text, ANSWER_HEAD);
  let metadata: ObjectMeta | undefined;
  ANSWER_HEAD.lastIndex = 0;
  if (ANSWER_HEAD.test(cut)) {
    const open = ANSWER_HEAD.lastIndex - 1;
    const end = containerEnd(cut, open);
    if (end > 0) metadata = JSON.parse(cut.slice(open, end)) as ObjectMeta;
  }
  if (metadata === undefined) {
    const whole = JSON.parse(text) as { metadata?: unknown } | null;
    metadata = typeof whole?.metadata === "object" && whole.metadata !== null ? whole.metadata : {};
  }
  if (metadata.managedFields !== undefined) delete metadata.managedFields;
  return { metadata };
}

/** Deletes metadata.managedFields from a freshly parsed object that still has them. */
function dropManagedFields(obj: unknown): void {
  const meta = (obj as { metadata?: { managedFields?: unknown } } | null)?.metadata;
  if (typeof meta === "object" && meta !== null && meta.managedFields !== undefined) delete meta.managedFields;
}

/** What the client cuts from a watch event's line ("event") or an answer ("object") before parsing it; for tests. */
export function managedFieldsCut(text: string, of: "event" | "object"): string {
  return withoutManagedFields(text, of === "event" ? EVENT_HEAD : ANSWER_HEAD);
}

/** What `answer: "metadata"` decodes from an answer's text; for tests. */
export function metadataAnswer(text: string): { readonly metadata: ObjectMeta } {
  return metadataOfAnswer(text);
}

/** Items of lists and watch events may come without apiVersion/kind; fill them in. */
function withTypeMeta(obj: KubeObject, info: ResourceInfo): void {
  if (!info.kind) return;
  if (obj.apiVersion === undefined) obj.apiVersion = apiVersionOf(info);
  if (obj.kind === undefined) obj.kind = info.kind;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/**
 * For components that never read metadata.managedFields (most of them: kube-scheduler and
 * kube-controller-manager strip them from their caches). With `omitManagedFields` the objects
 * returned come without them, and cost less to decode: the field is cut from the JSON text
 * before it is parsed. Lists are not affected.
 */
export interface DecodeOptions {
  readonly omitManagedFields?: boolean;
}

/** A written object as `answer: "metadata"` decodes it. */
interface MetadataOnly {
  readonly metadata: ObjectMeta;
}

export interface GetOptions extends CallOptions, DecodeOptions {
  readonly resourceVersion?: string;
}

export interface SelectorOptions {
  readonly labelSelector?: string | Selector;
  readonly fieldSelector?: string | FieldSelector;
}

export interface ListOptions extends CallOptions, SelectorOptions {
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: "Exact" | "NotOlderThan";
}

export interface WatchOptions extends SelectorOptions, DecodeOptions {
  readonly resourceVersion?: string;
  readonly allowWatchBookmarks?: boolean;
  /** Server-side duration of the watch; the client also gives up 30 s after it. */
  readonly timeoutSeconds?: number;
  readonly signal?: AbortSignal;
}

export interface WriteOptions extends CallOptions, DecodeOptions {
  /**
   * "metadata", for a caller that reads only the written object's metadata (its name, uid or
   * resourceVersion): the answer is decoded to `{ metadata }` alone, without managedFields, at
   * a fraction of the cost of decoding the whole object (every other field of a kind's type is
   * optional, so that is still a T). The server answers the whole object, as to any client.
   */
  readonly answer?: "object" | "metadata";
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
  readonly fieldValidation?: "Strict" | "Warn" | "Ignore";
}

export type PatchType = "json" | "merge" | "strategic" | "apply";

const PATCH_CONTENT_TYPES: Readonly<Record<PatchType, string>> = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

export interface PatchOptions extends WriteOptions {
  /** Server-side apply only: take ownership of conflicting fields. */
  readonly force?: boolean;
}

export interface DeleteOptions extends CallOptions {
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: "Orphan" | "Background" | "Foreground";
  readonly preconditions?: Preconditions;
  readonly dryRun?: boolean;
}

export interface ObjectList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: ListMeta;
  items: T[];
}

function selectorQuery(o: SelectorOptions): Record<string, QueryValue> {
  return {
    labelSelector: o.labelSelector === undefined ? undefined : String(o.labelSelector),
    fieldSelector: o.fieldSelector === undefined ? undefined : String(o.fieldSelector),
  };
}

function writeQuery(o: WriteOptions): Record<string, QueryValue> {
  return { dryRun: o.dryRun ? "All" : undefined, fieldManager: o.fieldManager, fieldValidation: o.fieldValidation };
}

function deleteBody(o: DeleteOptions): string {
  return JSON.stringify({
    kind: "DeleteOptions",
    apiVersion: "v1",
    ...(o.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: o.gracePeriodSeconds } : {}),
    ...(o.propagationPolicy ? { propagationPolicy: o.propagationPolicy } : {}),
    ...(o.preconditions ? { preconditions: o.preconditions } : {}),
    ...(o.dryRun ? { dryRun: ["All"] } : {}),
  });
}

/** A request's call options (and, for verbs that answer with one object, its decoding). */
function call(o: CallOptions & DecodeOptions & { readonly answer?: "object" | "metadata" }): { signal?: AbortSignal; timeoutMs?: number; omitManagedFields?: boolean; answer?: "metadata" } {
  return {
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.omitManagedFields ? { omitManagedFields: true } : {}),
    ...(o.answer === "metadata" ? { answer: "metadata" as const } : {}),
  };
}

/** True for a metav1.Status (what some deletes answer instead of the object). */
export function isStatus(v: unknown): v is Status {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Status";
}

/**
 * Verbs on one resource. Unscoped (as `client.resource(...)` returns it), list/watch/
 * deleteCollection span all namespaces and writes take the namespace from the object;
 * `namespace(ns)` scopes every call to one namespace.
 */
export class ResourceClient<T extends KubeObject> {
  constructor(
    private readonly client: RestClient,
    readonly info: ResourceInfo,
    /** The namespace this client is scoped to, if any. */
    readonly scope?: string,
  ) {}

  namespace(ns: string): ResourceClient<T> {
    return new ResourceClient<T>(this.client, this.info, ns);
  }

  private ns(obj?: KubeObject): string {
    if (!this.info.namespaced) return "";
    const ns = this.scope ?? obj?.metadata?.namespace;
    if (!ns) throw new ClientError("NamespaceRequired", `${this.info.plural} are namespaced: scope the client with namespace(ns) or set metadata.namespace`);
    return ns;
  }

  /** The path of the collection (all namespaces when unscoped), an object, or a subresource. */
  path(namespace: string, name?: string, subresource?: string): string {
    const { group, version, plural, namespaced } = this.info;
    let p = group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
    if (namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${plural}`;
    if (name !== undefined) {
      if (name === "") throw new ClientError("InvalidOptions", `a name is required for ${plural}`);
      p += `/${encodeURIComponent(name)}`;
    }
    if (subresource) p += `/${subresource}`;
    return p;
  }

  private nameOf(obj: KubeObject): string {
    const name = obj.metadata?.name;
    if (!name) throw new ClientError("InvalidOptions", `${this.info.plural}: the object has no metadata.name`);
    return name;
  }

  private typed(obj: T): T {
    withTypeMeta(obj, this.info);
    return obj;
  }

  /** A write's answer as its options asked for it: the object, typed, or its metadata alone. */
  private answered(opts: WriteOptions, out: T): T {
    return opts.answer === "metadata" ? out : this.typed(out);
  }

  async get(name: string, opts: GetOptions = {}): Promise<T> {
    return this.typed(await this.client.request<T>({ method: "GET", path: this.path(this.ns(), name), query: { resourceVersion: opts.resourceVersion }, ...call(opts) }));
  }

  /** One page (or all, without `limit`). Items carry apiVersion and kind. */
  async list(opts: ListOptions = {}): Promise<ObjectList<T>> {
    const list = await this.client.request<ObjectList<T>>({
      method: "GET",
      path: this.path(this.scope ?? ""),
      query: { ...selectorQuery(opts), limit: opts.limit, continue: opts.continue, resourceVersion: opts.resourceVersion, resourceVersionMatch: opts.resourceVersionMatch },
      ...call(opts),
    });
    list.items ??= [];
    for (const item of list.items) withTypeMeta(item, this.info);
    return list;
  }

  /** Every page of a list, as one list at the first page's resourceVersion. */
  async listAll(opts: Omit<ListOptions, "continue"> & { readonly limit?: number } = {}): Promise<ObjectList<T>> {
    const first = await this.list({ ...opts, limit: opts.limit ?? 500 });
    let page = first;
    while (page.metadata.continue) {
      page = await this.list({ ...opts, limit: opts.limit ?? 500, continue: page.metadata.continue, resourceVersion: undefined });
      first.items.push(...page.items);
    }
    delete first.metadata.continue;
    delete first.metadata.remainingItemCount;
    return first;
  }

  async create(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.answered(opts, await this.client.request<T>({ method: "POST", path: this.path(this.ns(obj)), query: writeQuery(opts), body: JSON.stringify(obj), ...call(opts) }));
  }

  /** PUT: fails with Conflict unless metadata.resourceVersion is current (or empty). */
  async update(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.answered(opts, await this.client.request<T>({ method: "PUT", path: this.path(this.ns(obj), this.nameOf(obj)), query: writeQuery(opts), body: JSON.stringify(obj), ...call(opts) }));
  }

  /** PUT to the status subresource: only status changes are kept. */
  async updateStatus(obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.answered(opts, await this.client.request<T>({ method: "PUT", path: this.path(this.ns(obj), this.nameOf(obj), "status"), query: writeQuery(opts), body: JSON.stringify(obj), ...call(opts) }));
  }

  /**
   * PATCH with one of the four patch types. `body` is sent as JSON (valid YAML for apply);
   * a string is sent as is. `subresource` patches e.g. "status".
   */
  async patch(name: string, type: PatchType, body: unknown, opts: PatchOptions & { readonly subresource?: string } = {}): Promise<T> {
    return this.answered(
      opts,
      await this.client.request<T>({
        method: "PATCH",
        path: this.path(this.ns(), name, opts.subresource),
        query: { ...writeQuery(opts), force: opts.force },
        body: typeof body === "string" ? body : JSON.stringify(body),
        contentType: PATCH_CONTENT_TYPES[type],
        ...call(opts),
      }),
    );
  }

  /** The object as deleted (with deletionTimestamp while finalizers or grace remain) or a Status. */
  async delete(name: string, opts: DeleteOptions = {}): Promise<T | Status> {
    const out = await this.client.request<T | Status>({ method: "DELETE", path: this.path(this.ns(), name), body: deleteBody(opts), ...call(opts) });
    return isStatus(out) ? out : this.typed(out);
  }

  async deleteCollection(opts: DeleteOptions & SelectorOptions = {}): Promise<ObjectList<T> | Status> {
    return this.client.request<ObjectList<T> | Status>({ method: "DELETE", path: this.path(this.scope ?? ""), query: selectorQuery(opts), body: deleteBody(opts), ...call(opts) });
  }

  /** Opens a watch (all namespaces when unscoped). See Watch. */
  watch(opts: WatchOptions = {}): Promise<Watch<T>> {
    return this.client.watch<T>(
      {
        method: "GET",
        path: this.path(this.scope ?? ""),
        query: {
          watch: "true",
          ...selectorQuery(opts),
          resourceVersion: opts.resourceVersion,
          allowWatchBookmarks: opts.allowWatchBookmarks ? "true" : undefined,
          timeoutSeconds: opts.timeoutSeconds,
        },
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.omitManagedFields ? { omitManagedFields: true } : {}),
      },
      this.info,
      opts.timeoutSeconds !== undefined ? (opts.timeoutSeconds + 30) * 1000 : undefined,
    );
  }

  getScale(name: string, opts: CallOptions = {}): Promise<Scale> {
    return this.client.request<Scale>({ method: "GET", path: this.path(this.ns(), name, "scale"), ...call(opts) });
  }

  updateScale(name: string, scale: Scale, opts: WriteOptions = {}): Promise<Scale> {
    return this.client.request<Scale>({ method: "PUT", path: this.path(this.ns(), name, "scale"), query: writeQuery(opts), body: JSON.stringify(scale), ...call(opts) });
  }

  patchScale(name: string, type: Exclude<PatchType, "apply">, body: unknown, opts: WriteOptions = {}): Promise<Scale> {
    return this.client.request<Scale>({
      method: "PATCH",
      path: this.path(this.ns(), name, "scale"),
      query: writeQuery(opts),
      body: typeof body === "string" ? body : JSON.stringify(body),
      contentType: PATCH_CONTENT_TYPES[type],
      ...call(opts),
    });
  }

  /** pods/binding: assigns the pod to a node (the scheduler's write). */
  bind(name: string, nodeName: string, opts: WriteOptions & { readonly uid?: string } = {}): Promise<Status> {
    const ns = this.ns();
    const { uid, ...write } = opts;
    const binding: Binding = { apiVersion: "v1", kind: "Binding", metadata: { name, namespace: ns, ...(uid ? { uid } : {}) }, target: { apiVersion: "v1", kind: "Node", name: nodeName } };
    return this.client.request<Status>({ method: "POST", path: this.path(ns, name, "binding"), query: writeQuery(write), body: JSON.stringify(binding), ...call(write) });
  }

  /** pods/eviction: a delete that honours PodDisruptionBudgets (429 while one forbids it). */
  evict(name: string, opts: DeleteOptions = {}): Promise<Status> {
    const ns = this.ns();
    const eviction = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: ns }, deleteOptions: JSON.parse(deleteBody(opts)) as unknown };
    return this.client.request<Status>({ method: "POST", path: this.path(ns, name, "eviction"), body: JSON.stringify(eviction), ...call(opts) });
  }

  /** Any other subresource verb, e.g. `("GET", name, "status")` or a custom resource's subresource. */
  subresource<R>(method: RequestSpec["method"], name: string, subresource: string, body?: unknown, opts: CallOptions = {}): Promise<R> {
    return this.client.request<R>({ method, path: this.path(this.ns(), name, subresource), ...(body !== undefined ? { body: JSON.stringify(body) } : {}), ...call(opts) });
  }
}

export type CreateClientOptions = Omit<RestClientOptions, "config">;

/** A client for the current (or the named) context of a kubeconfig file; `server` replaces the context's API server URL. */
export async function createClientFromKubeconfig(path: string, opts: CreateClientOptions & { readonly context?: string; readonly server?: string } = {}): Promise<RestClient> {
  const { context, server, ...rest } = opts;
  const config = await loadKubeconfig(path, context !== undefined ? { context } : {});
  return new RestClient({ ...rest, config: server ? { ...config, server } : config });
}

/** A client for a process in a pod: the `kubernetes` Service and the ServiceAccount token. */
export async function createInClusterClient(opts: CreateClientOptions & { readonly env?: NodeJS.ProcessEnv; readonly dir?: string } = {}): Promise<RestClient> {
  const { env, dir, ...rest } = opts;
  const config = await inClusterConfig({ ...(env ? { env } : {}), ...(dir ? { dir } : {}) });
  return new RestClient({ ...rest, config });
}
