// Masquerade for traffic from the node's pods to anything outside the cluster's pod range, as
// one nat rule for the whole podCIDR instead of the bridge plugin's ipMasq (which adds a chain
// and two rules per pod: most of a sandbox's network setup time, and iptables' lock held for
// each). The rule's comment carries the CNI network's name in the form the CNI plugins use
// (`name: "<network>"`), so whatever removes that network's nat rules (k8ts reset, test
// sweeps) removes this one too.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export class MasqueradeError extends Error {
  override readonly name = "MasqueradeError";
  constructor(message: string) {
    super(message);
  }
}

export function masqueradeRule(o: { podCIDR: string; clusterCIDR: string; networkName: string }): string[] {
  return ["POSTROUTING", "-s", o.podCIDR, "!", "-d", o.clusterCIDR, "-m", "comment", "--comment", `name: "${o.networkName}" pod traffic leaving the cluster`, "-j", "MASQUERADE"];
}

/** Adds the rule unless present (iptables -C). IPv4 pod CIDRs only. */
export async function ensurePodMasquerade(o: { podCIDRs: readonly string[]; clusterCIDR?: string; networkName: string }): Promise<void> {
  for (const podCIDR of o.podCIDRs.filter((c) => !c.includes(":"))) {
    const rule = masqueradeRule({ podCIDR, clusterCIDR: o.clusterCIDR ?? podCIDR, networkName: o.networkName });
    try {
      await run("iptables", ["-w", "5", "-t", "nat", "-C", ...rule]);
      continue;
    } catch {
      // not there yet
    }
    try {
      await run("iptables", ["-w", "5", "-t", "nat", "-A", ...rule]);
    } catch (err) {
      throw new MasqueradeError(`adding the pod network's masquerade rule failed: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
    }
  }
}
