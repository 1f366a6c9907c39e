// A real container runtime for tests: our own containerd (src/kubelet/containerd.ts) in a fresh
// data dir, the built-in images imported, optionally a CNI network on its own bridge and pod
// CIDR. Everything a run creates carries its run id (data dir, bridge, network name, cgroup
// root), so leftovers are identifiable, and cleanup() removes all of it. A watchdog shell does
// the same sweep if this process dies without calling cleanup() (a test-runner timeout sends
// SIGTERM, which skips finally blocks).
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Containerd } from "../kubelet/containerd.js";
import { CriClient } from "../kubelet/cri/client.js";
import { CNI_BIN_DIR, writeCniConfig } from "../kubelet/cni.js";
import { busyboxLayer, DEFAULT_BUSYBOX_PATH, isStaticElf, writeRootfs } from "../kubelet/images/builtin.js";
import { ensureBuiltinImages, type BuiltinImageResult } from "../kubelet/images/import.js";
import { createLogger } from "../util/log.js";
import { SWEEP_SCRIPT, cleanNetworkNat, natSave, sweepNode } from "../kubelet/reset.js";

/** Kills and removes everything a run left under `dataDir` (see kubelet/reset.ts). */
export const sweepRuntimeLeftovers = sweepNode;


const run = promisify(execFile);

function onPath(bin: string): boolean {
  return (process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":").some((d) => d && existsSync(join(d, bin)));
}

/** Why a runtime test cannot run here, or undefined when it can. Pass to node:test's `skip`. */
export function runtimeSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root: starts containerd, containers and network namespaces";
  const missing = ["containerd", "ctr", "runc", "containerd-shim-runc-v2", "iptables", "ip"].filter((b) => !onPath(b));
  if (!existsSync(join(CNI_BIN_DIR, "bridge"))) missing.push(`${CNI_BIN_DIR}/bridge`);
  if (!existsSync(DEFAULT_BUSYBOX_PATH) || !isStaticElf(readFileSync(DEFAULT_BUSYBOX_PATH))) missing.push("static /bin/busybox");
  if (missing.length) return `missing ${missing.join(", ")}: run \`node scripts/setup.mjs --test\` as root`;
  return undefined;
}

export interface TestRuntimeOptions {
  /** write a CNI network (bridge + host-local + portmap) before containerd starts */
  network?: boolean;
  /** import the built-in busybox and pause images (default true) */
  images?: boolean;
  containerdLogLevel?: "debug" | "info" | "warn" | "error";
}

export interface TestRuntime {
  /** hex id in every name this run creates */
  readonly runId: string;
  readonly dataDir: string;
  readonly containerd: Containerd;
  readonly cri: CriClient;
  readonly images: BuiltinImageResult[];
  /** set when `network`: */
  readonly bridge: string;
  readonly networkName: string;
  readonly podCIDR: string;
  /** cgroup parent for this run's pods: `/<cgroupRoot>/pod<uid>` */
  readonly cgroupRoot: string;
  /** host-local's lease directory for the network */
  readonly ipamDir: string;
  /** iptables nat rules that mention this run's network */
  natRules(): string[];
  /** Removes sandboxes through CRI, stops containerd, sweeps what is left; safe to call twice. */
  cleanup(): Promise<void>;
}

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function overlaps(a: string, b: string): boolean {
  const [ia = "", ba = "32"] = a.split("/");
  const [ib = "", bb = "32"] = b.split("/");
  const bits = Math.min(Number(ba), Number(bb));
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((ipv4ToInt(ia) & mask) >>> 0) === ((ipv4ToInt(ib) & mask) >>> 0);
}

/** A /24 in 10.244.128.0/17 that no route on this host overlaps (concurrent runs pick apart). */
export function pickPodCIDR(): string {
  const routes = execFileSync("ip", ["-4", "-o", "route", "show", "table", "all"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((d) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(d));
  for (let i = 0; i < 50; i++) {
    const cidr = `10.244.${128 + Math.floor(Math.random() * 127)}.0/24`;
    if (!routes.some((r) => overlaps(r, cidr))) return cidr;
  }
  throw new Error("no free /24 in 10.244.128.0/17 for a test pod network");
}

export async function startTestRuntime(options: TestRuntimeOptions = {}): Promise<TestRuntime> {
  const runId = randomBytes(4).toString("hex");
  // Short: containerd's socket path must fit in 107 bytes.
  const dataDir = mkdtempSync(join(tmpdir(), `k8ts-rt-${runId}-`));
  const bridge = options.network ? `k8t${runId}` : "";
  const networkName = `k8ts-test-${runId}`;
  const cgroupRoot = `k8ts-test-${runId}`;
  const podCIDR = options.network ? pickPodCIDR() : "";
  const sharedChainsExisted = natSave().includes(":CNI-HOSTPORT-DNAT ");

  const watchdog: ChildProcess = spawn("sh", ["-c", `cat >/dev/null; ${SWEEP_SCRIPT}`, "sh", dataDir, bridge, cgroupRoot, options.network ? networkName : ""], { stdio: ["pipe", "ignore", "ignore"] });
  watchdog.unref();
  watchdog.stdin?.on("error", () => undefined);
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();

  const containerd = new Containerd({ dataDir, logger: createLogger("warn", "test-runtime"), ...(options.containerdLogLevel ? { logLevel: options.containerdLogLevel } : {}) });
  let cri: CriClient | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      watchdog.kill("SIGKILL");
      try {
        if (cri && containerd.status().running) {
          for (const s of await cri.listPodSandbox({}, { timeoutMs: 30_000 })) {
            await cri.stopPodSandbox(s.id, { timeoutMs: 30_000 }).catch(() => undefined);
            await cri.removePodSandbox(s.id, { timeoutMs: 30_000 }).catch(() => undefined);
          }
        }
      } catch {
        // the sweep below removes whatever CRI could not
      }
      cri?.close();
      await containerd.stop().catch(() => undefined);
      if (options.network) cleanNetworkNat(networkName, sharedChainsExisted);
      sweepRuntimeLeftovers(dataDir, bridge, cgroupRoot, options.network ? networkName : "");
    })());

  try {
    if (options.network) await writeCniConfig({ dataDir, podCIDRs: [podCIDR], bridge, networkName });
    await containerd.start();
    cri = new CriClient({ endpoint: containerd.endpoint });
    const images = options.images === false ? [] : await ensureBuiltinImages(cri, { address: containerd.socket, archiveDir: join(dataDir, "images") });
    const client = cri;
    return {
      runId,
      dataDir,
      containerd,
      cri: client,
      images,
      bridge,
      networkName,
      podCIDR,
      cgroupRoot,
      ipamDir: join(dataDir, "cni", "networks", networkName),
      natRules: () => natSave().split("\n").filter((l) => l.includes(`name: \\"${networkName}\\"`)),
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Files host-local keeps per leased address (it also keeps `lock` and `last_reserved_ip.*`). */
export function leasedAddresses(ipamDir: string): string[] {
  try {
    return readdirSync(ipamDir).filter((f) => f !== "lock" && !f.startsWith("last_reserved_ip"));
  } catch {
    return [];
  }
}

export interface RawRuncResult {
  /** wall time of each `runc run` of /bin/true, ms */
  runsMs: number[];
  medianMs: number;
}

/**
 * The baseline for pod start: `runc run` of `/bin/true` from the same busybox files the
 * built-in image holds (bundle prepared beforehand, not timed), each run creating and tearing
 * down its namespaces and cgroup.
 */
export async function measureRawRunc(runs = 5, busyboxPath?: string): Promise<RawRuncResult> {
  const runId = randomBytes(4).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), `k8ts-runc-${runId}-`));
  const cgroupRoot = `k8ts-test-${runId}`;
  const state = join(dir, "state");
  const ids: string[] = [];
  try {
    writeRootfs(busyboxLayer(busyboxPath), join(dir, "rootfs"));
    await run("runc", ["spec", "--bundle", dir]);
    const specPath = join(dir, "config.json");
    const spec = JSON.parse(readFileSync(specPath, "utf8")) as { process: { args: string[]; terminal: boolean }; root: { readonly: boolean }; linux: { cgroupsPath?: string } };
    spec.process.args = ["/bin/true"];
    spec.process.terminal = false;
    spec.root.readonly = true;
    const runsMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const id = `k8ts-runc-${runId}-${i}`;
      ids.push(id);
      spec.linux.cgroupsPath = `/${cgroupRoot}/${id}`;
      writeFileSync(specPath, JSON.stringify(spec));
      const t0 = process.hrtime.bigint();
      await run("runc", ["--root", state, "run", "--bundle", dir, id]);
      runsMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const sorted = [...runsMs].sort((a, b) => a - b);
    return { runsMs, medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0 };
  } finally {
    for (const id of ids) await run("runc", ["--root", state, "delete", "-f", id]).catch(() => undefined);
    sweepRuntimeLeftovers(dir, "", cgroupRoot);
    rmSync(dir, { recursive: true, force: true });
  }
}
