// HTTP plumbing shared by every handler: the per-request context, JSON and Status responses,
// bounded body reading, and the media types Kubernetes clients negotiate.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestInfo } from "./requestinfo.js";
import { stringify as stringifyYaml } from "yaml";
import { StatusError, notAcceptable, requestEntityTooLarge, type Status } from "./status.js";
import { jsonOfStored } from "./watchcache.js";

import type { UserInfo } from "./authn/types.js";

export type { UserInfo };

export interface HttpContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Set by the request-info filter. */
  info: RequestInfo;
  /** Set by the authentication filter (and replaced by the impersonation filter). */
  user: UserInfo | undefined;
  /** The authenticated caller, when it impersonates `user` (for the audit event). */
  impersonator?: UserInfo;
  /** A resource request's negotiated response format (negotiateOutput); JSON unless set. */
  output?: OutputFormat;
  readonly startedAt: number;
  /** Aborted when the client goes away or the server stops. */
  readonly signal: AbortSignal;
  /** Response code, recorded for audit and metrics. */
  code: number;
  /** Warnings sent as `Warning: 299 - "…"` headers. */
  readonly warnings: string[];
}

export type Handler = (ctx: HttpContext) => Promise<void>;
export type Filter = (ctx: HttpContext, next: Handler) => Promise<void>;

export function chain(filters: readonly Filter[], last: Handler): Handler {
  return filters.reduceRight<Handler>((next, f) => (ctx) => f(ctx, next), last);
}

/** Request bodies above this are refused with 413 (upstream's 3 MiB limit). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) {
    req.resume();
    throw requestEntityTooLarge(`the request body is too large: limit is ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw requestEntityTooLarge(`the request body is too large: limit is ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function writeWarnings(ctx: HttpContext): void {
  if (ctx.warnings.length > 0 && !ctx.res.headersSent) {
    ctx.res.setHeader(
      "Warning",
      ctx.warnings.map((w) => `299 - ${JSON.stringify(w)}`),
    );
  }
}

export function sendJSON(ctx: HttpContext, code: number, body: unknown, contentType = "application/json"): void {
  let json: string | Buffer | undefined;
  if (typeof body === "string") json = body;
  else if (typeof body === "object" && body !== null) json = jsonOfStored(body);
  sendRaw(ctx, code, json ?? JSON.stringify(body), contentType);
}

export function sendRaw(ctx: HttpContext, code: number, body: string | Buffer, contentType: string): void {
  ctx.code = code;
  if (ctx.res.headersSent) {
    ctx.res.end();
    return;
  }
  writeWarnings(ctx);
  if (ctx.output === "yaml" && contentType === "application/json") {
    // As upstream's YAML serializer (sigs.k8s.io/yaml over go-yaml): the JSON's data, keys
    // sorted, lists not indented, and YAML 1.1's rules for what to quote, so that a string that
    // reads as a timestamp or a boolean there ("2024-01-01T00:00:00Z", "yes") stays a string.
    body = stringifyYaml(JSON.parse(body.toString()), { sortMapEntries: true, indentSeq: false, version: "1.1" });
    contentType = "application/yaml";
  }
  ctx.res.writeHead(code, { "Content-Type": contentType, "Cache-Control": "no-cache, private", "Content-Length": Buffer.byteLength(body) });
  ctx.res.end(ctx.req.method === "HEAD" ? undefined : body);
}

export function sendStatus(ctx: HttpContext, status: Status): void {
  if (status.details?.retryAfterSeconds && !ctx.res.headersSent) ctx.res.setHeader("Retry-After", String(status.details.retryAfterSeconds));
  sendJSON(ctx, status.code, status);
}

export function sendError(ctx: HttpContext, err: StatusError): void {
  sendStatus(ctx, err.status);
}

/** One media range of an Accept header, with its parameters (`as`, `g`, `v`). */
export interface MediaRange {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [];
  return header.split(",").map((part) => {
    const [type = "", ...rest] = part.split(";").map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf("=");
      if (eq > 0) params[p.slice(0, eq).trim()] = p.slice(eq + 1).trim().replace(/^"|"$/g, "");
    }
    return { type: type.toLowerCase(), params };
  });
}

export type OutputFormat = "json" | "yaml";

/** What a resource request's response may be encoded as. */
const OUTPUT_TYPES: readonly string[] = ["application/json", "application/yaml"];

/**
 * The response format an Accept header asks for, as upstream's NegotiateOutputMediaType picks
 * it: the first range by preference (q, then order) that a served type matches; none asked
 * for: JSON; ranges that none matches: 406. A watch streams JSON only.
 */
export function negotiateOutput(accept: readonly MediaRange[], watch: boolean): OutputFormat {
  if (accept.length === 0) return "json";
  const q = (r: MediaRange): number => {
    const v = Number(r.params["q"] ?? "1");
    return Number.isFinite(v) ? v : 1;
  };
  // Most clients send no q: their order is their preference (and nothing to sort per request).
  const ranked = accept.some((r) => r.params["q"] !== undefined) ? accept.map((r, i) => ({ r, i })).sort((a, b) => q(b.r) - q(a.r) || a.i - b.i).map((x) => x.r) : accept;
  for (const r of ranked) {
    if (q(r) <= 0) continue;
    if (r.type === "application/json" || r.type === "*/*" || r.type === "application/*") return "json";
    if (r.type === "application/yaml" && !watch) return "yaml";
    // Protobuf is not served; JSON is what a client that asked for it still decodes (client-go
    // picks its decoder by the answer's Content-Type), where a 406 would fail it.
    if (r.type === "application/vnd.kubernetes.protobuf") return "json";
  }
  const offered = watch ? ["application/json", "application/vnd.kubernetes.protobuf"] : [...OUTPUT_TYPES, "application/vnd.kubernetes.protobuf"];
  throw notAcceptable(`only the following media types are accepted: ${offered.join(", ")}`);
}

export function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}
