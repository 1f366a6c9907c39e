// k8ts's kube-proxy: Services + EndpointSlices → iptables or nftables rules on one node.
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { commandRunner } from "./exec.js";
import { cleanupIptables } from "./iptables/backend.js";
import type { ProxyMode } from "./model.js";
import { IptablesNames } from "./names.js";
import { cleanupNftables } from "./nftables/backend.js";
import { nftTableFor } from "./proxier.js";

export { Proxier, compileProxierOptions, type ProxierOptions, type CompiledProxierOptions, type LastSync } from "./proxier.js";
export { ProxyError, type ProxyErrorCode, type ProxyMode } from "./model.js";

export interface CleanupOptions {
  /** Only this backend's rules; default both. */
  readonly mode?: ProxyMode;
  readonly chainPrefix?: string;
  readonly nftTable?: string;
  readonly netns?: string;
}

function onPath(cmd: string): boolean {
  return (process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter).some((d) => d !== "" && existsSync(join(d, cmd)));
}

/**
 * Removes every rule, chain and table a Proxier with this prefix made (`k8ts reset`, tests'
 * cleanup). Without a mode, a backend whose tool is not installed is skipped.
 */
export async function cleanupProxyRules(o: CleanupOptions = {}): Promise<void> {
  const run = commandRunner(o.netns);
  if (o.mode !== "nftables" && (o.mode === "iptables" || onPath("iptables-save"))) {
    await cleanupIptables(new IptablesNames(o.chainPrefix ?? "KUBE"), run);
  }
  if (o.mode !== "iptables" && (o.mode === "nftables" || onPath("nft"))) {
    await cleanupNftables(nftTableFor(o), run);
  }
}
