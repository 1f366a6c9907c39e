// Starts a real etcd (Debian's etcd-server, v3.4) for tests: free loopback ports, its own
// temporary data dir, optional TLS with client certificates, and cleanup that cannot leak —
// a watchdog shell kills etcd when this process dies without calling stop() (a test runner
// timeout sends SIGTERM, which skips 'exit' handlers).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync, rmSync } from "node:fs";
import https from "node:https";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ETCD_MIN_MAX_REQUEST_BYTES } from "../storage/etcd.js";
import { freePort } from "./net.js";

export { freePort };

const execFileP = promisify(execFile);

export const ETCD_BINARY = "/usr/bin/etcd";

export interface EtcdTlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface StartEtcdOptions {
  /** Use this data dir (e.g. a restored one); it is left in place on stop. Default: a fresh temp dir, removed on stop. */
  readonly dataDir?: string;
  /** Member name; must match the name a restored data dir was restored with. */
  readonly name?: string;
  /** Serve clients over TLS and require client certificates signed by a throwaway CA. */
  readonly tls?: boolean;
  /** How long to wait until etcd answers. */
  readonly readyTimeoutMs?: number;
}

export interface RunningEtcd {
  /** `http://127.0.0.1:PORT` or `https://…` with TLS. */
  readonly endpoint: string;
  readonly dataDir: string;
  readonly name: string;
  readonly pid: number;
  /** With `tls: true`: CA and a client certificate the server accepts. */
  readonly clientTls?: EtcdTlsFiles;
  /** etcd's own output so far (for failure messages). */
  log(): string;
  /** Stops etcd and starts it again on the same ports and data dir (to test reconnection). */
  restart(): Promise<void>;
  /** Stops etcd (SIGTERM, then SIGKILL after a deadline) and removes what this helper created. */
  stop(): Promise<void>;
}

const live = new Set<{ pid: number; cleanup: string[] }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const e of live) {
      try {
        process.kill(e.pid, "SIGKILL");
      } catch {
        // already gone
      }
      for (const dir of e.cleanup) rmSync(dir, { recursive: true, force: true });
    }
  });
}


/** Writes a throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate into `dir`. */
export async function generateTestCerts(dir: string): Promise<{ server: EtcdTlsFiles; client: EtcdTlsFiles }> {
  const p = (n: string): string => join(dir, n);
  const ossl = (args: string[]): Promise<unknown> => execFileP("openssl", args, { cwd: dir });
  const ecKey = (file: string): Promise<unknown> => ossl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file]);
  await ecKey(p("ca.key"));
  await ossl(["req", "-x509", "-new", "-key", p("ca.key"), "-sha256", "-days", "2", "-subj", "/CN=k8ts-test-ca", "-out", p("ca.crt")]);
  await writeFile(p("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
  await writeFile(p("client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const who of ["server", "client"]) {
    await ecKey(p(`${who}.key`));
    await ossl(["req", "-new", "-key", p(`${who}.key`), "-subj", `/CN=k8ts-test-${who}`, "-out", p(`${who}.csr`)]);
    await ossl(["x509", "-req", "-in", p(`${who}.csr`), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2", "-sha256", "-extfile", p(`${who}.ext`), "-out", p(`${who}.crt`)]);
  }
  return {
    server: { caFile: p("ca.crt"), certFile: p("server.crt"), keyFile: p("server.key") },
    client: { caFile: p("ca.crt"), certFile: p("client.crt"), keyFile: p("client.key") },
  };
}

export async function startEtcd(opts: StartEtcdOptions = {}): Promise<RunningEtcd> {
  // Another process can take a port between freePort() and etcd's bind; try again with new ones.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof EtcdStartError) || !err.portInUse) throw err;
    }
  }
}

export class EtcdStartError extends Error {
  override readonly name = "EtcdStartError";
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

async function startOnce(opts: StartEtcdOptions): Promise<RunningEtcd> {
  installExitHook();
  const workDir = await mkdtemp(join(tmpdir(), "k8ts-etcd-"));
  const dataDir = opts.dataDir ?? join(workDir, "data");
  const name = opts.name ?? "default";
  let current: Launched | undefined;
  try {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const tls = opts.tls ? await generateTestCerts(workDir) : undefined;
    const endpoint = `${tls ? "https" : "http"}://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const args = [
      `--name=${name}`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${name}=${peerUrl}`,
      "--initial-cluster-state=new",
      "--logger=zap",
      "--log-outputs=stderr",
      // Values up to the store's 1.5 MiB limit must fit in one request with their key.
      `--max-request-bytes=${ETCD_MIN_MAX_REQUEST_BYTES}`,
    ];
    if (tls) args.push(`--cert-file=${tls.server.certFile}`, `--key-file=${tls.server.keyFile}`, `--trusted-ca-file=${tls.server.caFile}`, "--client-cert-auth");
    const clientTls = tls?.client;
    const probeTls = clientTls && { ca: readFileSync(clientTls.caFile), cert: readFileSync(clientTls.certFile), key: readFileSync(clientTls.keyFile) };
    const readyTimeoutMs = opts.readyTimeoutMs ?? 20_000;

    current = launch(args, workDir);
    await current.ready(endpoint, probeTls, readyTimeoutMs);

    let stopping: Promise<void> | undefined;
    const running: RunningEtcd = {
      endpoint,
      dataDir,
      name,
      get pid() {
        return (current as Launched).pid;
      },
      ...(clientTls ? { clientTls } : {}),
      log: () => (current as Launched).output(),
      restart: async () => {
        if (stopping) throw new EtcdStartError("etcd was stopped; it cannot be restarted", false);
        await (current as Launched).terminate();
        current = launch(args, workDir);
        await current.ready(endpoint, probeTls, readyTimeoutMs);
      },
      stop: () => {
        stopping ??= (async () => {
          await (current as Launched).terminate();
          await rm(workDir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
    return running;
  } catch (err) {
    await current?.terminate();
    await rm(workDir, { recursive: true, force: true });
    throw err;
  }
}

interface Launched {
  readonly pid: number;
  output(): string;
  /** Resolves once etcd answers /health; throws if it exits or the deadline passes first. */
  ready(endpoint: string, tls: { ca: Buffer; cert: Buffer; key: Buffer } | undefined, timeoutMs: number): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  terminate(): Promise<void>;
}

function launch(args: string[], workDir: string): Launched {
  const proc = spawn(ETCD_BINARY, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const append = (chunk: Buffer): void => {
    output += chunk.toString("utf8");
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  proc.stdout?.on("data", append);
  proc.stderr?.on("data", append);
  let exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | undefined;
  const exited = new Promise<void>((resolve) => {
    proc.once("exit", (code, signal) => {
      exit ??= { code, signal };
      resolve();
    });
    proc.once("error", (error) => {
      exit ??= { code: null, signal: null, error };
      resolve();
    });
  });
  const pid = proc.pid ?? -1;
  const entry = { pid, cleanup: [workDir] };
  let watchdog: ChildProcess | undefined;
  if (proc.pid !== undefined) {
    live.add(entry);
    watchdog = spawn("sh", ["-c", 'cat >/dev/null; kill -KILL "$1" 2>/dev/null; rm -rf -- "$2"', "sh", String(pid), workDir], { stdio: ["pipe", "ignore", "ignore"] });
    watchdog.unref();
    watchdog.stdin?.on("error", () => undefined);
    (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }
  let terminating: Promise<void> | undefined;
  return {
    pid,
    output: () => output,
    async ready(endpoint, tls, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exit) {
          const why = exit.error ? `could not run ${ETCD_BINARY} (${exit.error.message}): is Debian's etcd-server installed?` : `etcd exited during startup (code ${String(exit.code)}, signal ${String(exit.signal)})`;
          throw new EtcdStartError(`${why}:\n${output.slice(-4000)}`, /address already in use/.test(output));
        }
        if (Date.now() > deadline) throw new EtcdStartError(`etcd did not answer on ${endpoint} within ${timeoutMs} ms:\n${output.slice(-4000)}`, false);
        if (await healthy(endpoint, tls)) return;
        await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
      }
    },
    terminate() {
      terminating ??= (async () => {
        // The watchdog goes first so it can never kill a later process that reuses etcd's pid.
        watchdog?.kill("SIGKILL");
        if (!exit) {
          proc.kill("SIGTERM");
          const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(timer);
        }
        live.delete(entry);
      })();
      return terminating;
    },
  };
}

/** etcd's /health answers {"health":"true"} once the member has a leader and serves requests. */
async function healthy(endpoint: string, tls: { ca: Buffer; cert: Buffer; key: Buffer } | undefined): Promise<boolean> {
  const url = new URL("/health", endpoint);
  return new Promise<boolean>((resolve) => {
    const onRes = (res: http.IncomingMessage): void => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve(res.statusCode === 200 && /"health":\s*"true"/.test(body)));
      res.on("error", () => resolve(false));
    };
    const req = tls
      ? https.get(url, { ...tls, timeout: 1000 }, onRes)
      : http.get(url, { timeout: 1000 }, onRes);
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}
