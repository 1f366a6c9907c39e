// A whole single-node cluster for end-to-end tests, started the way `npm run up` starts one:
// `bin/k8ts server` as its own process (API server, controllers, scheduler and the embedded
// agent with its own containerd), on free ports, with a node name, bridge, CNI network, cgroup
// root and pod CIDR of its own so that it never meets a real cluster or another test run on
// this host. stop() sweeps everything the node made (also done by a watchdog shell if the test
// process dies first).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Node } from "kubernetes-types/core/v1.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { SWEEP_SCRIPT, cleanNetworkNat, natSave, sweepNode } from "../kubelet/reset.js";
import { cleanupProxyRules } from "../proxy/index.js";
import { KUBECTL, kubectlRunner, type Kubectl } from "./apiserver.js";
import { freePort } from "./net.js";
import { pickPodCIDR } from "./runtime.js";
import { until } from "./wait.js";
import { k8tsNodeArgs } from "../cli/node-flags.js";
import { caCertHash } from "../api/bootstraptoken.js";

export interface TestCluster {
  readonly runId: string;
  readonly dataDir: string;
  readonly kubeconfig: string;
  readonly url: string;
  readonly nodeName: string;
  readonly kubeletPort: number;
  readonly podCIDR: string;
  readonly serviceCIDR: string;
  readonly bridge: string;
  readonly networkName: string;
  readonly cgroupRoot: string;
  readonly client: RestClient;
  readonly kubectl: Kubectl;
  /** a long-running kubectl (port-forward, logs -f); the caller kills it. `pipe`: its stdin, stdout and stderr are the caller's to use */
  kubectlProcess(args: readonly string[], opts?: { readonly pipe?: boolean }): ChildProcess;
  /** the server's combined stdout/stderr so far */
  output(): string;
  /** the server process's pid (the embedded agent runs in it, unless separateAgent) */
  pid(): number | undefined;
  /** stops the server process (containers keep running) and starts it again on the same state */
  restart(): Promise<{ stopMs: number; startMs: number }>;
  stop(): Promise<void>;
}


export interface TestClusterOptions {
  /** more `k8ts server` flags */
  readonly extraArgs?: readonly string[];
  readonly readyTimeoutMs?: number;
  /** the node runs the pods of <dataDir>/manifests */
  readonly staticPods?: boolean;
  /** the node is a `k8ts agent` process of its own (`--server` to the server's port) instead of the server's embedded one */
  readonly separateAgent?: boolean;
  /**
   * the separate agent (implied) joins as a second machine would, with the server's node token:
   * `--server --token $(cat <data-dir>/node-token) --discovery-token-ca-cert-hash <the CA's>`,
   * instead of the admin kubeconfig; it then runs as system:node:<name> (<data-dir>/agent/kubelet.kubeconfig)
   */
  readonly joinWithToken?: boolean;
}

export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const opts = { ...options, separateAgent: options.separateAgent === true || options.joinWithToken === true };
  const runId = randomBytes(4).toString("hex");
  const dataDir = mkdtempSync(join(tmpdir(), `k8ts-c-${runId}-`));
  const nodeName = `k8ts-test-${runId}`;
  const bridge = `k8c${runId}`;
  const networkName = `k8ts-test-${runId}`;
  const cgroupRoot = `k8ts-test-${runId}`;
  const podCIDR = pickPodCIDR();
  // kube-proxy's chains (iptables) and table (nftables) carry the run id: a real cluster's
  // KUBE-* rules and other runs' are never touched.
  const proxyPrefix = `KT${runId.slice(0, 6).toUpperCase()}`;
  // Service addresses are virtual (only the run's own rules know them); a range of its own keeps
  // them apart from a real cluster's 10.43.0.0/16 on the same host.
  const serviceCIDR = `10.96.${Math.floor(Math.random() * 256)}.0/24`;
  const [port, kubeletPort] = [await freePort(), await freePort()];
  const sharedChainsExisted = natSave().includes(":CNI-HOSTPORT-DNAT ");
  const agentRoot = join(dataDir, "agent");

  const watchdog: ChildProcess = spawn("sh", ["-c", `cat >/dev/null; (${SWEEP_SCRIPT}); for t in "$6" "$6-netpol"; do nft delete table ip "$t" 2>/dev/null; done; rm -rf -- "$5"`, "sh", agentRoot, bridge, cgroupRoot, networkName, dataDir, proxyPrefix.toLowerCase()], { stdio: ["pipe", "ignore", "ignore"] });
  watchdog.unref();
  watchdog.stdin?.on("error", () => undefined);
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();

  // The node's flags: on `k8ts server` (embedded agent) or on a `k8ts agent` of its own.
  const nodeArgs = [
    "--kubelet-port", String(kubeletPort),
    "--node-name", nodeName,
    "--cni-bridge", bridge,
    "--cni-network-name", networkName,
    "--cgroup-root", cgroupRoot,
    "--cluster-cidr", podCIDR,
    "--proxy-chain-prefix", proxyPrefix,
    ...(opts.staticPods ? ["--pod-manifest-path", join(dataDir, "manifests")] : []),
  ];
  const logLevel = ["--log-level", process.env["K8TS_TEST_LOG"] ?? "warn"];
  const serverArgs = k8tsNodeArgs([
    "server",
    "--data-dir", dataDir,
    "--port", String(port),
    "--service-cluster-ip-range", serviceCIDR,
    ...logLevel,
    ...(opts.separateAgent ? ["--disable-agent", "--cluster-cidr", podCIDR] : nodeArgs),
    ...(opts.extraArgs ?? []),
  ]);
  const url = `https://127.0.0.1:${port}`;
  /** how the separate agent joins: the admin kubeconfig, or the server's node token once the server wrote it */
  const credentialArgs = async (): Promise<string[]> => {
    if (!opts.joinWithToken) return ["--kubeconfig", join(dataDir, "admin.kubeconfig"), "--server", url];
    const token = await until("the server's node token", () => {
      const dead = exitedEarly();
      if (dead) throw new Error(dead);
      return existsSync(join(dataDir, "node-token")) ? readFileSync(join(dataDir, "node-token"), "utf8").trim() || undefined : undefined;
    }, 30_000, 50);
    return ["--server", url, "--token", token, "--discovery-token-ca-cert-hash", caCertHash(readFileSync(join(dataDir, "tls", "ca.crt"), "utf8"))];
  };
  const agentArgs = async (): Promise<string[]> => k8tsNodeArgs(["agent", ...(await credentialArgs()), "--data-dir", dataDir, ...logLevel, ...nodeArgs]);
  if (opts.staticPods) mkdirSync(join(dataDir, "manifests"));
  let children: ChildProcess[] = [];
  let out = "";
  const spawnOne = (args: string[]): ChildProcess => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    return child;
  };
  const launch = (): void => {
    children = [spawnOne(serverArgs)];
  };
  /** a separate agent starts once the server wrote its kubeconfig (and node token) */
  const launchAgent = async (): Promise<void> => {
    if (opts.separateAgent) children.push(spawnOne(await agentArgs()));
  };
  const exitedEarly = (): string | undefined => {
    const dead = children.find((c) => c.exitCode !== null);
    return dead ? `k8ts ${dead === children[0] ? "server" : "agent"} exited with ${dead.exitCode}:\n${out}` : undefined;
  };
  const stopChild = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(t);
  };
  // The node before the control plane, as a user's `k8ts down` would on one host.
  const terminate = async (): Promise<void> => {
    for (const child of [...children].reverse()) await stopChild(child);
  };
  launch();

  const kubectls = new Set<ChildProcess>();
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      for (const k of kubectls) k.kill("SIGKILL");
      await terminate();
      watchdog.kill("SIGKILL");
      sweepNode(agentRoot, bridge, cgroupRoot, "");
      cleanNetworkNat(networkName, sharedChainsExisted);
      await cleanupProxyRules({ chainPrefix: proxyPrefix }).catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    })());

  const kubeconfig = join(dataDir, "admin.kubeconfig");
  let client: RestClient | undefined;
  const waitReady = async (): Promise<void> => {
    const seen = out.length;
    await until(
      "k8ts server to start",
      () => {
        const dead = exitedEarly();
        if (dead) throw new Error(dead);
        return out.slice(seen).includes("k8ts server ready") ? true : undefined;
      },
      60_000,
    );
    await launchAgent();
    client ??= await createClientFromKubeconfig(kubeconfig);
    const api = client;
    await until(
      `node ${nodeName} Ready`,
      async () => {
        const dead = exitedEarly();
        if (dead) throw new Error(dead);
        if (out.slice(seen).includes("the node could not start")) throw new Error(out);
        if (!out.slice(seen).includes("k8ts agent ready")) return undefined;
        const n = await api.forKind("v1", "Node").get(nodeName) as Node;
        return n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined;
      },
      opts.readyTimeoutMs ?? 90_000,
      100,
    );
  };
  try {
    await waitReady();
    return {
      runId,
      dataDir,
      kubeconfig,
      url,
      nodeName,
      kubeletPort,
      podCIDR,
      serviceCIDR,
      bridge,
      networkName,
      cgroupRoot,
      client: client!,
      pid: () => children[0]?.pid,
      async restart() {
        const t0 = performance.now();
        await terminate();
        const t1 = performance.now();
        launch();
        await waitReady();
        return { stopMs: t1 - t0, startMs: performance.now() - t1 };
      },
      kubectl: kubectlRunner(kubeconfig, join(dataDir, "kubectl-cache"), dataDir),
      kubectlProcess: (a, o) => {
        const p = spawn(KUBECTL, ["--kubeconfig", kubeconfig, "--cache-dir", join(dataDir, "kubectl-cache"), ...a], { stdio: o?.pipe ? "pipe" : "ignore", env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dataDir } });
        kubectls.add(p);
        p.once("exit", () => kubectls.delete(p));
        return p;
      },
      output: () => out,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

