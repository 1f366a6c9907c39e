// A real HTTPS admission webhook server for tests: a CA, a serving certificate for 127.0.0.1
// and a service name, and handlers per path that answer AdmissionReviews.
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createCA, issueCertificate, type CertAndKey } from "../../../util/pki.js";

export interface ReviewRequest {
  readonly uid: string;
  readonly kind: { group: string; version: string; kind: string };
  readonly resource: { group: string; version: string; resource: string };
  readonly subResource?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly operation: string;
  readonly userInfo: { username: string; groups: string[] };
  readonly object: Record<string, unknown> | null;
  readonly oldObject: Record<string, unknown> | null;
  readonly dryRun: boolean;
  readonly options: Record<string, unknown> | null;
}

/** What a handler answers: a response body (uid filled in when absent), or a raw HTTP answer. */
export type Answer = { readonly response: Record<string, unknown>; readonly review?: Record<string, unknown> } | { readonly raw: string; readonly status?: number };

export type Handler = (req: ReviewRequest, path: string) => Answer | Promise<Answer>;

export interface WebhookServer {
  readonly port: number;
  /** The CA's PEM, base64 as caBundle takes it. */
  readonly caBundle: string;
  readonly ca: CertAndKey;
  /** Every review received, in order, with the path it came to. */
  readonly received: { path: string; query: string; request: ReviewRequest }[];
  handle(path: string, handler: Handler): void;
  url(path: string): string;
  close(): Promise<void>;
}

/** A JSONPatch answer, base64 as the API carries it. */
export function patchAnswer(ops: readonly unknown[]): Answer {
  return { response: { allowed: true, patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(ops)).toString("base64") } };
}

export const allow: Answer = { response: { allowed: true } };

/** Serves on 127.0.0.1, or on `host` (e.g. "0.0.0.0", for endpoints that may not be loopback addresses). */
export async function startWebhookServer(dnsNames: readonly string[] = [], host = "127.0.0.1"): Promise<WebhookServer> {
  const ca = await createCA("webhook-test-ca", 1);
  const serving = await issueCertificate(ca, { commonName: "webhook", dnsNames: ["localhost", ...dnsNames], ipAddresses: ["127.0.0.1"], usages: "server", validityDays: 1 });
  const handlers = new Map<string, Handler>();
  const received: WebhookServer["received"] = [];
  const server: Server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const url = new URL(req.url ?? "/", "https://x");
        const review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { request: ReviewRequest };
        received.push({ path: url.pathname, query: url.search, request: review.request });
        const handler = handlers.get(url.pathname);
        const answer = handler ? await handler(review.request, url.pathname) : allow;
        if ("raw" in answer) {
          res.writeHead(answer.status ?? 200, { "content-type": "application/json" }).end(answer.raw);
          return;
        }
        const body = { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", ...answer.review, response: { uid: review.request.uid, ...answer.response } };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
      })().catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    caBundle: Buffer.from(ca.certPem).toString("base64"),
    ca,
    received,
    handle: (path, handler) => handlers.set(path, handler),
    url: (path) => `https://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
