// A real API server on a free loopback port with its own data dir, for tests; and the official
// kubectl pointed at it with a fresh discovery cache.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiServer, compileApiServerOptions, type ApiServerOptionsInput } from "../apiserver/server.js";
import { builtinResources } from "../apiserver/resources/index.js";
import { createLogger } from "../util/log.js";
import { adminClient, createDefaultServiceAccount, type RawClient } from "./client.js";

export interface TestApiServer {
  readonly server: ApiServer;
  readonly url: string;
  readonly dataDir: string;
  readonly kubeconfig: string;
  /** Runs kubectl (default /usr/bin/kubectl) against the server; never throws on exit codes. */
  kubectl(args: readonly string[], opts?: { readonly stdin?: string; readonly env?: NodeJS.ProcessEnv; readonly binary?: string }): Promise<KubectlResult>;
  stop(): Promise<void>;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const KUBECTL = process.env["KUBECTL"] ?? "/usr/bin/kubectl";

export type Kubectl = TestApiServer["kubectl"];

/** kubectl against `kubeconfig` with its own discovery cache dir and HOME; each run is killed after `timeoutMs`. */
export function kubectlRunner(kubeconfig: string, cacheDir: string, home: string, timeoutMs = 60_000): Kubectl {
  return (args, o = {}) =>
    new Promise((resolve) => {
      const child = execFile(
        o.binary ?? KUBECTL,
        ["--kubeconfig", kubeconfig, "--cache-dir", cacheDir, ...args],
        { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, ...o.env }, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (o.stdin !== undefined) child.stdin?.end(o.stdin);
      else child.stdin?.end();
    });
}

/** A kubectl run's stdout; the test fails, with what kubectl printed, unless it exited 0. */
export function succeeded(r: KubectlResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** Runs kubectl and fails the test, with what kubectl printed, unless it exits 0; returns its stdout. */
export async function kubectlOk(kubectl: Kubectl, args: readonly string[], stdin?: string): Promise<string> {
  const r = await kubectl(args, { stdin });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

export async function startTestApiServer(opts: Partial<Omit<ApiServerOptionsInput, "dataDir">> = {}): Promise<TestApiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "k8ts-apiserver-"));
  const cacheDir = join(dataDir, "kubectl-cache");
  const server = new ApiServer(
    compileApiServerOptions({
      dataDir,
      storeUrl: "memory://",
      port: 0,
      resources: builtinResources(),
      log: createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent"),
      // As upstream's integration test server: no controller-manager runs here to create the
      // `default` ServiceAccount (nor kube-root-ca.crt), so pods would be refused. Tests of
      // the plugin pass disableAdmissionPlugins: [].
      disableAdmissionPlugins: ["ServiceAccount"],
      ...opts,
    }),
  );
  try {
    await server.start();
  } catch (err) {
    // What start() opened before it failed (the store, the watch caches) goes too.
    await server.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const kubeconfig = server.kubeconfigPath;
  return {
    server,
    url: server.url,
    dataDir,
    kubeconfig,
    kubectl: kubectlRunner(kubeconfig, cacheDir, dataDir),
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A test API server and an admin client for the suite this is called in: started in the suite's
 * `before` hook (with the `default` ServiceAccount, as a controller-manager would make it, when
 * asked), stopped in its `after` hook.
 */
export function apiServerForSuite(opts: { readonly defaultServiceAccount?: boolean } = {}): { readonly server: TestApiServer; readonly client: RawClient } {
  let server: TestApiServer | undefined;
  let client: RawClient | undefined;
  before(async () => {
    server = await startTestApiServer();
    client = adminClient(server.url, server.dataDir);
    if (opts.defaultServiceAccount) await createDefaultServiceAccount(client);
  });
  after(async () => {
    client?.close();
    await server?.stop();
  });
  const started = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("apiServerForSuite: the suite's before hook has not run");
    return v;
  };
  return {
    get server() {
      return started(server);
    },
    get client() {
      return started(client);
    },
  };
}
