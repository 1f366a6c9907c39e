// HTTP plumbing shared by every handler: the per-request context, JSON and Status responses,
// bounded body reading, and the media types Kubernetes clients negotiate.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestInfo } from "./requestinfo.js";
import { StatusError, requestEntityTooLarge, type Status } from "./status.js";
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

export function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}
