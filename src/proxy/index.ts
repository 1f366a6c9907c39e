// k8ts's kube-proxy: Services + EndpointSlices → iptables or nftables rules on one node.
import { commandRunner } from "./exec.js";
import { cleanupIptables } from "./iptables/backend.js";
import type { ProxyMode } from "./model.js";
import { IptablesNames } from "./names.js";
import { cleanupNftables } from "./nftables/backend.js";
import { nftTableFor, onPath } from "./proxier.js";

export { Proxier, compileProxierOptions, type ProxierOptions, type CompiledProxierOptions, type LastSync } from "./proxier.js";
export { ProxyError, type ProxyErrorCode, type ProxyMode } from "./model.js";

export interface CleanupOptions {
  /** Only this backend's rules; default both. */
  readonly mode?: ProxyMode;
  readonly chainPrefix?: string;
  readonly nftTable?: string;
  readonly netns?: string;
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
