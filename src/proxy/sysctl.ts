// Kernel settings the rules depend on when the proxy runs on a real node:
//  - net.ipv4.conf.all.route_localnet=1 (iptables mode): lets DNATed packets keep a 127/8
//    source, which NodePorts reached on 127.0.0.1 need; the FIREWALL chain then drops martian
//    127/8 traffic from outside, as upstream's kubelet does. nftables mode does not serve
//    NodePorts on localhost (nor does upstream's), so it leaves the setting alone.
//  - net.bridge.bridge-nf-call-iptables=1: pods on a Linux bridge (the CNI bridge plugin) talk
//    to each other at layer 2; without it their service traffic never meets netfilter, and a
//    reply from a pod on the same bridge bypasses the reverse NAT. Needs br_netfilter.
// Failures are logged, not fatal: a node without br_netfilter still serves host and routed
// traffic.
import type { Logger } from "../util/log.js";
import type { CommandRunner } from "./exec.js";
import type { ProxyMode } from "./model.js";

async function write(run: CommandRunner, key: string, value: string): Promise<void> {
  await run(["sh", "-c", `echo ${value} > /proc/sys/${key}`]);
}

async function read(run: CommandRunner, key: string): Promise<string | undefined> {
  try {
    return (await run(["cat", `/proc/sys/${key}`])).stdout.trim();
  } catch {
    return undefined;
  }
}

/** Sets the sysctls; resolves true when NodePorts on 127.0.0.1 are enabled (route_localnet on). */
export async function applySysctls(mode: ProxyMode, run: CommandRunner, log: Logger): Promise<boolean> {
  let localhost = false;
  if (mode === "iptables") {
    try {
      await write(run, "net/ipv4/conf/all/route_localnet", "1");
      localhost = true;
    } catch (err) {
      log.warn({ err }, "cannot set net.ipv4.conf.all.route_localnet: NodePorts will not answer on 127.0.0.1");
    }
  }
  const bridge = "net/bridge/bridge-nf-call-iptables";
  if ((await read(run, bridge)) === undefined) {
    try {
      await run(["modprobe", "br_netfilter"]);
    } catch (err) {
      log.warn({ err }, "cannot load br_netfilter: service traffic between pods on one bridge will not be proxied");
      return localhost;
    }
  }
  if ((await read(run, bridge)) !== "1") {
    try {
      await write(run, bridge, "1");
    } catch (err) {
      log.warn({ err }, "cannot set net.bridge.bridge-nf-call-iptables");
    }
  }
  return localhost;
}
