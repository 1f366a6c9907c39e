// The non-resource endpoints: /version, health checks, /metrics.
import { sendJSON, sendRaw, type HttpContext } from "../http.js";
import { VERSION } from "../../util/version.js";
import type { Registry as PromRegistry } from "prom-client";

export interface HealthCheck {
  readonly name: string;
  check(): boolean;
}

/** /healthz, /livez, /readyz (and /X/<check>), with ?verbose as upstream prints it. */
function serveHealth(ctx: HttpContext, checks: readonly HealthCheck[]): void {
  const segs = ctx.url.pathname.split("/").filter(Boolean);
  const only = segs[1];
  const selected = only ? checks.filter((c) => c.name === only) : checks;
  if (only && selected.length === 0) {
    sendRaw(ctx, 404, "404 page not found\n", "text/plain; charset=utf-8");
    return;
  }
  const results = selected.map((c) => ({ name: c.name, ok: c.check() }));
  const ok = results.every((r) => r.ok);
  const verbose = ctx.url.searchParams.has("verbose");
  if (!verbose && ok) {
    sendRaw(ctx, 200, "ok", "text/plain; charset=utf-8");
    return;
  }
  const lines = results.map((r) => (r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: reason withheld`));
  lines.push(ok ? `${segs[0]} check passed` : `${segs[0]} check failed`);
  sendRaw(ctx, ok ? 200 : 500, lines.join("\n") + "\n", "text/plain; charset=utf-8");
}

export async function serveMisc(ctx: HttpContext, deps: { readonly checks: readonly HealthCheck[]; readonly metrics: PromRegistry }): Promise<boolean> {
  const path = ctx.url.pathname;
  if (ctx.req.method !== "GET" && ctx.req.method !== "HEAD") return false;
  if (path === "/version" || path === "/version/") {
    sendJSON(ctx, 200, VERSION);
    return true;
  }
  if (/^\/(healthz|livez|readyz)(\/[^/]*)?$/.test(path)) {
    serveHealth(ctx, deps.checks);
    return true;
  }
  if (path === "/metrics") {
    sendRaw(ctx, 200, await deps.metrics.metrics(), deps.metrics.contentType);
    return true;
  }
  return false;
}
