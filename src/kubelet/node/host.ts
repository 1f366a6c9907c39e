// What the node reports about the machine it runs on, read where upstream's kubelet (through
// cAdvisor) reads it: /proc/meminfo, statfs of the kubelet's root dir, /etc/os-release,
// /etc/machine-id, the boot id, the DMI product UUID, /sys/kernel/mm/hugepages, and the
// interface holding the default route for the node's address. The parsers are pure so that
// they can be tested on fixed input; the readers never throw (a fact that cannot be read is
// reported empty, as upstream does).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { arch, cpus, networkInterfaces, release } from "node:os";
import { dirname } from "node:path";

export interface MemInfo {
  /** MemTotal in bytes */
  readonly totalBytes: number;
  /** MemAvailable in bytes (MemFree + Buffers + Cached on kernels without it) */
  readonly availableBytes: number;
}

/** /proc/meminfo's MemTotal and MemAvailable, in bytes. */
export function parseMeminfo(text: string): MemInfo {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const total = kb("MemTotal") ?? 0;
  const available = kb("MemAvailable") ?? (kb("MemFree") ?? 0) + (kb("Buffers") ?? 0) + (kb("Cached") ?? 0);
  return { totalBytes: total, availableBytes: available };
}

export function readMeminfo(): MemInfo {
  try {
    return parseMeminfo(readFileSync("/proc/meminfo", "utf8"));
  } catch {
    return { totalBytes: 0, availableBytes: 0 };
  }
}

/** os-release's PRETTY_NAME (quotes and escapes removed); "Linux" when absent, as systemd's default. */
export function parseOsRelease(text: string): string {
  const m = /^PRETTY_NAME=(.*)$/m.exec(text);
  if (!m) return "Linux";
  let v = m[1]!.trim();
  if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
  return v.replace(/\\(["'$`\\])/g, "$1");
}

function readTrimmed(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

export function readOsImage(): string {
  for (const p of ["/etc/os-release", "/usr/lib/os-release"]) {
    if (existsSync(p)) {
      try {
        return parseOsRelease(readFileSync(p, "utf8"));
      } catch {
        // try the next one
      }
    }
  }
  return "Linux";
}

/** The 32 hex digits of a machine id as a UUID (8-4-4-4-12). */
export function uuidOf(hex: string): string {
  const h = hex.replace(/-/g, "").toLowerCase().padEnd(32, "0").slice(0, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface MachineIds {
  readonly machineID: string;
  readonly systemUUID: string;
  readonly bootID: string;
}

export function readMachineIds(): MachineIds {
  const machineID = readTrimmed("/etc/machine-id") || readTrimmed("/var/lib/dbus/machine-id");
  // Machines without DMI (many VMs and containers) have no product UUID; the machine id stands in.
  const dmi = readTrimmed("/sys/class/dmi/id/product_uuid") || readTrimmed("/sys/devices/virtual/dmi/id/product_uuid");
  return {
    machineID,
    systemUUID: dmi ? dmi.toLowerCase() : machineID ? uuidOf(machineID) : "",
    bootID: readTrimmed("/proc/sys/kernel/random/boot_id"),
  };
}

/** hugepages-<size> resources ("hugepages-2Mi", "hugepages-1Gi") with their total size in bytes. */
export function readHugepages(root = "/sys/kernel/mm/hugepages"): Map<string, number> {
  const out = new Map<string, number>();
  let dirs: string[];
  try {
    dirs = readdirSync(root);
  } catch {
    return out;
  }
  for (const d of dirs) {
    const m = /^hugepages-(\d+)kB$/.exec(d);
    if (!m) continue;
    const kb = Number(m[1]);
    const name = kb % (1024 * 1024) === 0 ? `hugepages-${kb / (1024 * 1024)}Gi` : kb % 1024 === 0 ? `hugepages-${kb / 1024}Mi` : `hugepages-${kb}Ki`;
    const count = Number(readTrimmed(`${root}/${d}/nr_hugepages`) || "0");
    out.set(name, (Number.isFinite(count) ? count : 0) * kb * 1024);
  }
  return out;
}

export interface FsInfo {
  readonly capacityBytes: number;
  readonly availableBytes: number;
  readonly inodes: number;
  readonly inodesFree: number;
}

/** statfs of `path`, or of its nearest existing ancestor (the root dir may not exist yet). */
export async function readFsInfo(path: string): Promise<FsInfo> {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  try {
    const s = await statfs(p);
    return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize, inodes: s.files, inodesFree: s.ffree };
  } catch {
    return { capacityBytes: 0, availableBytes: 0, inodes: 0, inodesFree: 0 };
  }
}

/** The interface of the IPv4 default route in /proc/net/route (lowest metric), if any. */
export function parseDefaultRouteInterface(text: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , metric, mask] = f;
    // RTF_UP (1) must be set; a default route has destination and mask 0.
    if (dest !== "00000000" || mask !== "00000000" || (parseInt(flags ?? "0", 16) & 1) === 0) continue;
    const m = Number(metric);
    if (!best || m < best.metric) best = { iface: iface!, metric: m };
  }
  return best?.iface;
}

/**
 * The node's address when none is given: the IPv4 address of the interface that holds the
 * default route, else the first non-loopback IPv4 address, else 127.0.0.1.
 */
export function detectNodeIP(): string {
  const ifaces = networkInterfaces();
  const v4 = (name: string): string | undefined => ifaces[name]?.find((a) => a.family === "IPv4" && !a.internal)?.address;
  let route = "";
  try {
    route = readFileSync("/proc/net/route", "utf8");
  } catch {
    // not Linux, or no /proc: fall through to the first address
  }
  const iface = parseDefaultRouteInterface(route);
  const fromRoute = iface ? v4(iface) : undefined;
  if (fromRoute) return fromRoute;
  for (const name of Object.keys(ifaces).sort()) {
    const a = v4(name);
    if (a) return a;
  }
  return "127.0.0.1";
}

/** GOARCH names, as the kubernetes.io/arch label and nodeInfo.architecture use them. */
export function goArch(a: string = arch()): string {
  switch (a) {
    case "x64":
      return "amd64";
    case "ia32":
      return "386";
    case "ppc64":
      return process.platform === "linux" ? "ppc64le" : "ppc64";
    default:
      return a;
  }
}

export function cpuCount(): number {
  return Math.max(1, cpus().length);
}

export function kernelVersion(): string {
  return release();
}
