// Test harness for authenticators: a real HTTPS (or HTTP) server on port 0 that answers with
// what the authenticator decided, and a client to call it with or without credentials.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import { Agent, createServer as createHttpsServer, request } from "node:https";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { TLSSocket } from "node:tls";
import { AuthenticationError, type Authenticator, type UserInfo } from "./types.js";

export interface Verdict {
  readonly status: number;
  readonly user?: UserInfo | null;
  readonly code?: string;
  readonly message?: string;
  /** Whether the TLS session was resumed (server side). */
  readonly reused?: boolean;
}

export interface TestServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface ServerTLS {
  readonly key: string;
  readonly cert: string;
  /** CAs the TLS layer verifies client certificates against. */
  readonly ca?: string;
}

export async function startAuthServer(authenticator: Authenticator, tls?: ServerTLS): Promise<TestServer> {
  const handler = (req: IncomingMessage, res: import("node:http").ServerResponse): void => {
    const reused = req.socket instanceof TLSSocket ? req.socket.isSessionReused() : undefined;
    authenticator.authenticate(req).then(
      (user) => res.end(JSON.stringify({ status: 200, user: user ?? null, reused })),
      (err: unknown) => {
        res.statusCode = 401;
        const code = err instanceof AuthenticationError ? err.code : "Unknown";
        res.end(JSON.stringify({ status: 401, code, message: err instanceof Error ? err.message : String(err), reused }));
      },
    );
  };
  const server: HttpServer = tls
    ? createHttpsServer({ key: tls.key, cert: tls.cert, ...(tls.ca ? { ca: tls.ca } : {}), requestCert: true, rejectUnauthorized: false }, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface CallOptions {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly headers?: Record<string, string>;
  readonly agent?: Agent;
}

export function call(url: string, opts: CallOptions = {}): Promise<Verdict> {
  return new Promise((resolve, reject) => {
    const tlsOpts = url.startsWith("https:")
      ? { ca: opts.ca, cert: opts.cert, key: opts.key, servername: "localhost", agent: opts.agent ?? false }
      : {};
    const req = (url.startsWith("https:") ? request : httpRequest)(url, { headers: opts.headers ?? {}, ...tlsOpts }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        try {
          resolve(JSON.parse(body) as Verdict);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on("error", reject);
    req.end();
  });
}
