// Raw HTTPS requests to a test API server as the cluster admin (client certificate), with a
// keep-alive agent: for tests and benchmarks that need the wire, not a client library.
import { Agent, request } from "node:https";
import { readFileSync } from "node:fs";
import { clusterPKIPaths } from "../util/pki.js";

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface RawClient {
  request(method: string, path: string, body?: string | Buffer, headers?: Record<string, string | string[]>): Promise<RawResponse>;
  close(): void;
  readonly agent: Agent;
}

export function adminClient(url: string, dataDir: string, opts: { readonly maxSockets?: number; readonly anonymous?: boolean } = {}): RawClient {
  const p = clusterPKIPaths(dataDir);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: opts.maxSockets ?? 64,
    ca: readFileSync(p.caCert),
    ...(opts.anonymous ? {} : { cert: readFileSync(p.adminCert), key: readFileSync(p.adminKey) }),
  });
  return {
    agent,
    request(method, path, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const req = request(new URL(path, url), { method, agent, headers: { ...(body !== undefined ? { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

/**
 * Creates the `default` ServiceAccount of `namespace`, as the controller-manager would, for a
 * server that runs without it: pods name it (serviceAccountName) and admission waits for it.
 */
export async function createDefaultServiceAccount(c: RawClient, namespace = "default"): Promise<void> {
  const r = await c.request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, JSON.stringify({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } }));
  if (r.status !== 201 && r.status !== 409) throw new Error(`creating the default ServiceAccount of ${namespace}: ${r.status} ${r.body}`);
}
