// The node's CNI network as containerd's CRI plugin reads it (conf_dir, first file in lexical
// order): every pod gets a veth on the node bridge and an address from the node's podCIDR,
// host ports go through portmap. The loopback plugin is not in this chain: a chain configures
// one interface (eth0), and containerd brings up each pod's `lo` itself with the loopback
// binary from the same bin_dir.
import { isIPv4, isIPv6 } from "node:net";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { CodedError } from "../util/errors.js";

export const CNI_BIN_DIR = "/usr/lib/cni";
export const CNI_CONFIG_FILE = "10-k8ts.conflist";

export class CniConfigError extends CodedError<"InvalidCIDR" | "InvalidBridgeName"> {
  override readonly name = "CniConfigError";
}

export interface CniOptions {
  dataDir: string;
  /** the node's spec.podCIDRs: one per IP family */
  podCIDRs: readonly string[];
  /** Linux bridge the pods attach to */
  bridge?: string;
  /** network name; also labels the iptables rules the plugins add */
  networkName?: string;
  mtu?: number;
}

export interface CompiledCniOptions {
  confDir: string;
  /** host-local's address leases, kept with the node's state instead of /var/lib/cni */
  ipamDataDir: string;
  podCIDRs: readonly string[];
  bridge: string;
  networkName: string;
  mtu: number | undefined;
}

export function cniConfDir(dataDir: string): string {
  return join(dataDir, "cni", "net.d");
}

function checkCIDR(cidr: string): "v4" | "v6" {
  const slash = cidr.indexOf("/");
  const ip = cidr.slice(0, slash);
  const bits = Number(cidr.slice(slash + 1));
  const family = isIPv4(ip) ? "v4" : isIPv6(ip) ? "v6" : undefined;
  const max = family === "v4" ? 32 : 128;
  // host-local hands out .1 as the gateway and needs room for pods beside it.
  if (slash < 0 || family === undefined || !Number.isInteger(bits) || bits < 1 || bits > max - 2) throw new CniConfigError("InvalidCIDR", `invalid pod CIDR ${JSON.stringify(cidr)}`);
  return family;
}

export function compileCniOptions(o: CniOptions): CompiledCniOptions {
  if (o.podCIDRs.length === 0 || o.podCIDRs.length > 2) throw new CniConfigError("InvalidCIDR", `need one pod CIDR per IP family, got ${o.podCIDRs.length}`);
  const families = o.podCIDRs.map(checkCIDR);
  if (families.length === 2 && families[0] === families[1]) throw new CniConfigError("InvalidCIDR", `two pod CIDRs must be of different IP families: ${o.podCIDRs.join(", ")}`);
  const bridge = o.bridge ?? "cni0";
  // IFNAMSIZ is 16 including the terminator.
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) throw new CniConfigError("InvalidBridgeName", `invalid bridge name ${JSON.stringify(bridge)} (1-15 letters, digits, _ . -)`);
  return {
    confDir: cniConfDir(o.dataDir),
    ipamDataDir: join(o.dataDir, "cni", "networks"),
    podCIDRs: [...o.podCIDRs],
    bridge,
    networkName: o.networkName ?? "k8ts",
    mtu: o.mtu,
  };
}

export function renderCniConfig(o: CompiledCniOptions): Record<string, unknown> {
  return {
    cniVersion: "1.0.0",
    name: o.networkName,
    plugins: [
      {
        type: "bridge",
        bridge: o.bridge,
        isGateway: true,
        // One masquerade rule for the whole podCIDR (masquerade.ts) instead of a chain per pod.
        ipMasq: false,
        // a pod reaching itself through a Service address leaves and re-enters by its own veth
        hairpinMode: true,
        ...(o.mtu !== undefined ? { mtu: o.mtu } : {}),
        ipam: {
          type: "host-local",
          dataDir: o.ipamDataDir,
          ranges: o.podCIDRs.map((subnet) => [{ subnet }]),
          routes: o.podCIDRs.map((c) => ({ dst: isIPv4(c.slice(0, c.indexOf("/"))) ? "0.0.0.0/0" : "::/0" })),
        },
      },
      { type: "portmap", snat: true, capabilities: { portMappings: true } },
    ],
  };
}

/** Writes the conflist atomically (containerd watches the directory); returns its path. */
export async function writeCniConfig(options: CniOptions): Promise<string> {
  const o = compileCniOptions(options);
  const path = join(o.confDir, CNI_CONFIG_FILE);
  await writeFileAtomic(path, `${JSON.stringify(renderCniConfig(o), null, 2)}\n`, 0o644);
  return path;
}
