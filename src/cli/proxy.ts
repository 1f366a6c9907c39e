// `k8ts proxy`: flag definitions only (kube-proxy's names where k8ts has the same knob); the
// work is in proxy-action.ts.
import { Option, type Command } from "commander";
import { runProxy, type ProxyFlags } from "./proxy-action.js";

export function registerProxyCommand(program: Command): void {
  program
    .command("proxy")
    .description("run the service proxy of this node: Services and EndpointSlices become iptables or nftables rules")
    .option("--kubeconfig <file>", "kubeconfig with the credentials and server to use (required unless --cleanup)")
    .option("--node-name <name>", "this node's name: endpoints on it are local for traffic policy Local (default: the host name)")
    .option("--proxy-mode <mode>", "iptables or nftables", "iptables")
    .option("--cluster-cidr <cidr>", "the pods' range: traffic from outside it to a cluster IP is masqueraded; '' turns that off", "10.42.0.0/16")
    .option("--node-ip <ips>", "addresses that accept NodePort traffic, comma-separated (default: every local address)", "")
    .option("--sync-period <duration>", "how often the rules are synced even without changes", "30s")
    .option("--min-sync-period <duration>", "shortest time between two syncs; changes in between are written together", "100ms")
    .option("--masquerade-bit <bit>", "bit of the packet mark that asks for masquerade", "14")
    .option("--cleanup", "remove every rule, chain and table the proxy made (iptables and nftables), then exit")
    .addOption(new Option("--chain-prefix <prefix>", "prefix of our iptables chains (and nftables table name)").hideHelp())
    .addOption(new Option("--netns <name>", "program the rules inside this network namespace (tests)").hideHelp())
    .option("--log-level <level>", "trace, debug, info, warn, error or silent", "info")
    .action(async (flags: ProxyFlags) => {
      await runProxy(flags);
    });
}
