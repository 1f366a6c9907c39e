// The audit hook: one event per request once its response is complete (stage ResponseComplete,
// shaped like audit.k8s.io/v1 Event). The sink decides where events go; none is the default.
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import type { Filter, UserInfo } from "../http.js";
import { StatusError } from "../status.js";

export interface AuditEvent {
  readonly kind: "Event";
  readonly apiVersion: "audit.k8s.io/v1";
  readonly level: "Metadata";
  readonly auditID: string;
  readonly stage: "ResponseComplete";
  readonly requestURI: string;
  readonly verb: string;
  readonly user: { readonly username: string; readonly groups: readonly string[] };
  /** Who the user acted as (kubectl --as). */
  readonly impersonatedUser?: { readonly username: string; readonly groups: readonly string[] };
  readonly sourceIPs: readonly string[];
  readonly userAgent?: string;
  readonly objectRef?: { readonly resource: string; readonly namespace?: string; readonly name?: string; readonly apiGroup?: string; readonly apiVersion: string; readonly subresource?: string };
  /** The response's code, and for a refused request upstream's metav1.Status fields (status Failure, reason, message). */
  readonly responseStatus: { readonly code: number; readonly status?: "Failure"; readonly reason?: string; readonly message?: string };
  readonly requestReceivedTimestamp: string;
  readonly stageTimestamp: string;
}

export interface AuditSink {
  record(event: AuditEvent): void;
}

const userOf = (u: UserInfo | undefined): AuditEvent["user"] => ({ username: u?.username ?? "", groups: u?.groups ?? [] });

function responseStatusOf(written: number, thrown: unknown): AuditEvent["responseStatus"] {
  if (thrown === undefined) return { code: written };
  if (!(thrown instanceof StatusError)) return { code: 500, status: "Failure" };
  const { code, reason, message } = thrown.status;
  return { code, status: "Failure", ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

export function audit(sink: AuditSink | undefined): Filter {
  if (!sink) return (ctx, next) => next(ctx);
  return async (ctx, next) => {
    const received = new Date(ctx.startedAt).toISOString();
    // A refusal thrown further in (authorization's 403, a handler's Status) is answered by the
    // recovery filter after this one has recorded: its code is taken from what was thrown.
    let thrown: unknown;
    try {
      await next(ctx);
    } catch (err) {
      thrown = err;
      throw err;
    } finally {
      const i = ctx.info;
      sink.record({
        kind: "Event",
        apiVersion: "audit.k8s.io/v1",
        level: "Metadata",
        auditID: randomUUID(),
        stage: "ResponseComplete",
        requestURI: ctx.req.url ?? "",
        verb: i.verb,
        user: userOf(ctx.impersonator ?? ctx.user),
        ...(ctx.impersonator ? { impersonatedUser: userOf(ctx.user) } : {}),
        sourceIPs: [ctx.req.socket.remoteAddress ?? ""],
        ...(ctx.req.headers["user-agent"] ? { userAgent: ctx.req.headers["user-agent"] } : {}),
        ...(i.isResourceRequest
          ? {
              objectRef: {
                resource: i.resource,
                ...(i.namespace ? { namespace: i.namespace } : {}),
                ...(i.name ? { name: i.name } : {}),
                ...(i.apiGroup ? { apiGroup: i.apiGroup } : {}),
                apiVersion: i.apiVersion,
                ...(i.subresource ? { subresource: i.subresource } : {}),
              },
            }
          : {}),
        responseStatus: responseStatusOf(ctx.code || ctx.res.statusCode, thrown),
        requestReceivedTimestamp: received,
        stageTimestamp: new Date().toISOString(),
      });
    }
  };
}

/** Appends one JSON line per event to `path` (as upstream's --audit-log-path with the json format). */
export function fileAuditSink(path: string): AuditSink & { close(): Promise<void> } {
  const out = createWriteStream(path, { flags: "a", mode: 0o600 });
  return {
    record(event) {
      out.write(JSON.stringify(event) + "\n");
    },
    close() {
      return new Promise((resolve) => out.end(resolve));
    },
  };
}
