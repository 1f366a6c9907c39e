// The node's packet filters: kube-proxy (Services + EndpointSlices → iptables or nftables rules)
// and the network policy controller (NetworkPolicies → an nftables table), one node each.
import { commandRunner } from "./exec.js";
import { cleanupIptables } from "./iptables/backend.js";
import type { ProxyMode } from "./model.js";
import { IptablesNames } from "./names.js";
import { cleanupNftables } from "./nftables/backend.js";
import { netpolTableFor } from "./netpol/controller.js";
import { nftTableFor, onPath } from "./proxier.js";

export { Proxier, compileProxierOptions, nftTableFor, type ProxierOptions, type CompiledProxierOptions, type LastSync } from "./proxier.js";
export { ProxyError, type ProxyErrorCode, type ProxyMode } from "./model.js";
export { NetworkPolicyController, netpolTableFor, type NetworkPolicyControllerOptions, type NetworkPolicySync } from "./netpol/controller.js";

export interface CleanupOptions {
  /** Only this backend's rules; default both. */
  readonly mode?: ProxyMode;
  readonly chainPrefix?: string;
  readonly nftTable?: string;
  readonly netns?: string;
}

/**
 * Removes every rule, chain and table a Proxier (and the NetworkPolicyController beside it) with
 * this prefix made (`k8ts reset`, tests' cleanup). Without a mode, a backend whose tool is not
 * installed is skipped.
 */
export async function cleanupProxyRules(o: CleanupOptions = {}): Promise<void> {
  const run = commandRunner(o.netns);
  if (o.mode !== "nftables" && (o.mode === "iptables" || onPath("iptables-save"))) {
    await cleanupIptables(new IptablesNames(o.chainPrefix ?? "KUBE"), run);
  }
  if (o.mode !== "iptables" && (o.mode === "nftables" || onPath("nft"))) {
    await cleanupNftables(nftTableFor(o), run);
  }
  if (onPath("nft")) await cleanupNftables(netpolTableFor(nftTableFor(o)), run);
}
