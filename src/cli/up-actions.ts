// `k8ts up` and `k8ts down`: a single-node cluster in the background. up starts `k8ts server`
// detached (reusing the state in the data dir), waits until it is ready, merges a "k8ts"
// context into ~/.kube/config, and says what to type next; down stops it.
import { spawn } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { readKubeconfig, mergeIntoKubeconfig } from "../util/kubeconfig.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { apiServiceName, DEFAULT_CLUSTER_DOMAIN } from "../api/dns.js";
import { defaultNodeName } from "../kubelet/agent.js";
import { cleanNetworkNat, sweepNode } from "../kubelet/reset.js";
import { kubeletPaths } from "../kubelet/types.js";
import { cleanupProxyRules } from "../proxy/index.js";
import type { Node } from "kubernetes-types/core/v1.js";
import { k8tsNodeArgs } from "./node-flags.js";

export interface UpOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly bindAddress: string;
  readonly store?: string;
  /** ~/.kube/config unless set; "" disables the merge. */
  readonly kubeconfig?: string;
  readonly timeoutMs?: number;
  /** run without a node (control plane only) */
  readonly disableAgent?: boolean;
  readonly nodeName?: string;
}

export interface UpResult {
  readonly alreadyRunning: boolean;
  readonly pid: number;
  readonly url: string;
  readonly kubeconfig: string;
  readonly mergedInto: string | undefined;
  readonly log: string;
  readonly elapsedMs: number;
  /** the node that became Ready, unless disableAgent */
  readonly node: string | undefined;
  /** the kube-dns Service has a ready endpoint (undefined without a node) */
  readonly dnsReady: boolean | undefined;
}

const pidFile = (dataDir: string): string => join(dataDir, "k8ts.pid");
export const logFile = (dataDir: string): string => join(dataDir, "k8ts.log");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function runningPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(dataDir), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** GET /readyz with the cluster CA; true on 200. */
function ready(url: string, caFile: string): Promise<boolean> {
  return new Promise((done) => {
    let ca: Buffer;
    try {
      ca = readFileSync(caFile);
    } catch {
      done(false);
      return;
    }
    const req = request(`${url}/readyz`, { ca, timeout: 2000 }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on("error", () => done(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

async function waitUntil(check: () => Promise<boolean> | boolean, deadline: number, what: string, failed: () => string | undefined): Promise<void> {
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    if (await check()) return;
    const why = failed();
    if (why !== undefined) throw new Error(why);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

export async function up(o: UpOptions): Promise<UpResult> {
  const started = Date.now();
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const host = o.bindAddress === "0.0.0.0" ? "127.0.0.1" : o.bindAddress;
  const url = `https://${host}:${o.port}`;
  const kubeconfig = join(dataDir, "admin.kubeconfig");
  const caFile = join(dataDir, "tls", "ca.crt");
  const log = logFile(dataDir);
  let pid = runningPid(dataDir);
  const alreadyRunning = pid !== undefined;
  // The log is appended to across runs: this run's lines start here.
  const logOffset = statSync(log, { throwIfNoEntry: false })?.size ?? 0;
  if (pid === undefined) {
    const out = openSync(log, "a");
    const args = ["server", "--data-dir", dataDir, "--port", String(o.port), "--bind-address", o.bindAddress, ...(o.store ? ["--store", o.store] : []), ...(o.disableAgent ? ["--disable-agent"] : []), ...(o.nodeName ? ["--node-name", o.nodeName] : [])];
    const child = spawn(process.execPath, k8tsNodeArgs(args), { detached: true, stdio: ["ignore", out, out] });
    closeSync(out);
    child.unref();
    pid = child.pid!;
    writeFileSync(pidFile(dataDir), `${pid}\n`);
    let exited: number | null | undefined;
    child.once("exit", (code) => (exited = code));
    await waitUntil(
      () => ready(url, caFile),
      Date.now() + (o.timeoutMs ?? 60_000),
      `the API server at ${url}`,
      // This run's lines only: the log is appended to across runs, and the last run's shutdown
      // would fill the tail in front of why this one failed.
      () => (exited !== undefined ? `k8ts server exited with code ${exited}; see ${log}:\n${lastLines(readFrom(log, logOffset), 20)}` : undefined),
    );
  }
  const node = o.disableAgent ? undefined : (o.nodeName ?? defaultNodeName());
  let dnsReady: boolean | undefined;
  if (node !== undefined) {
    const client = await createClientFromKubeconfig(kubeconfig);
    try {
      await waitUntil(
        async () => nodeReady(await client.forKind("v1", "Node").get(node).catch(() => undefined), alreadyRunning ? 0 : started),
        Date.now() + (o.timeoutMs ?? 60_000),
        `node ${node} to be Ready (see ${log})`,
        // A node that failed to start in the server this run started says so in the log.
        () => (alreadyRunning ? undefined : /k8ts: the node could not start: .*/.exec(readFrom(log, logOffset))?.[0]),
      );
      // Names are what the next commands use (`wget http://web`): wait for the cluster DNS too.
      // On a fresh node its image is built first (a few seconds); later starts find it running.
      dnsReady = await waitUntil(() => dnsAnswering(client), Date.now() + (o.timeoutMs ?? 60_000), "cluster DNS", () => undefined).then(
        () => true,
        () => false,
      );
    } finally {
      client.close();
    }
  }
  let mergedInto: string | undefined;
  const target = o.kubeconfig ?? join(homedir(), ".kube", "config");
  if (target !== "") {
    mkdirSync(dirname(target), { recursive: true });
    await mergeIntoKubeconfig(target, await readKubeconfig(kubeconfig), { contextName: "k8ts", setCurrent: true });
    mergedInto = target;
  }
  return { alreadyRunning, pid, url, kubeconfig, mergedInto, log, elapsedMs: Date.now() - started, node, dnsReady };
}

/**
 * The cluster DNS answers, asked as a pod asks it: the API server's name, sent to the kube-dns
 * Service's cluster IP (reachable from the node through the proxy's rules). An EndpointSlice
 * that says ready is not enough: after a restart it still says what the last run posted until
 * the kubelet has looked at the adopted pod again.
 */
async function dnsAnswering(client: RestClient): Promise<boolean> {
  const service = await client.forKind("v1", "Service").namespace("kube-system").get("kube-dns").catch(() => undefined);
  const ip = service?.spec?.clusterIP;
  if (!ip || ip === "None") return false;
  return clusterDnsAnswers(ip);
}

/** `server` ("ip" or "ip:port") answers the API server's name with an address within a second. */
export async function clusterDnsAnswers(server: string, clusterDomain = DEFAULT_CLUSTER_DOMAIN): Promise<boolean> {
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([server]);
  const answer = await resolver.resolve4(apiServiceName(clusterDomain)).catch(() => []);
  return answer.length > 0;
}

/** Ready, as posted by an agent that runs now: a node's status outlives its agent for the lease's grace period. */
function nodeReady(n: Node | undefined, since: number): boolean {
  const sinceSecond = Math.floor(since / 1000) * 1000;
  return n?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True" && Date.parse(c.lastHeartbeatTime ?? "") >= sinceSecond) ?? false;
}

function readFrom(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString("utf8");
  } catch {
    return "";
  }
}

function lastLines(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Stops the background cluster: SIGTERM, then SIGKILL after the grace period. */
export async function down(dataDir: string, graceMs = 15_000): Promise<{ stopped: boolean; pid?: number }> {
  const dir = resolve(dataDir);
  const pid = runningPid(dir);
  if (pid === undefined) {
    rmSync(pidFile(dir), { force: true });
    return { stopped: false };
  }
  process.kill(pid, "SIGTERM");
  try {
    await waitUntil(() => !alive(pid), Date.now() + graceMs, `process ${pid} to exit`, () => undefined);
  } catch {
    process.kill(pid, "SIGKILL");
    await waitUntil(() => !alive(pid), Date.now() + 5000, `process ${pid} to die`, () => undefined);
  }
  rmSync(pidFile(dir), { force: true });
  return { stopped: true, pid };
}

export function isInitialized(dataDir: string): boolean {
  return existsSync(join(resolve(dataDir), "admin.kubeconfig"));
}

/**
 * `k8ts reset`: stops the cluster, then removes what its node left on the host (containers,
 * containerd, mounts, the pod network's bridge and nat rules, cgroups) and the data dir.
 */
export async function reset(dataDir: string): Promise<{ stopped: boolean }> {
  const dir = resolve(dataDir);
  const r = await down(dir);
  const agentRoot = kubeletPaths(dir).root;
  // The network name is matched exactly by cleanNetworkNat; the sweep gets none, since its
  // substring match would also hit other networks whose names contain "k8ts".
  sweepNode(agentRoot, "cni0", "k8ts", "");
  cleanNetworkNat("k8ts", false);
  await cleanupProxyRules({});
  rmSync(dir, { recursive: true, force: true });
  return { stopped: r.stopped };
}
