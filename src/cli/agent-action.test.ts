// The node flags, parsed as `k8ts agent` and `k8ts server` parse them, into agent options.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Command } from "commander";
import { createLogger } from "../util/log.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addNodeFlags, registerAgentCommand } from "./agent.js";
import { agentCredentials, agentOptionsFromFlags, type AgentFlags, type NodeFlags } from "./agent-action.js";

const base = { kubeconfig: "/k", dataDir: "/d", log: createLogger("silent"), clusterCIDR: "10.42.0.0/16" };

function parse(args: readonly string[]): NodeFlags {
  const cmd = addNodeFlags(new Command("agent")).exitOverride();
  cmd.parse([...args], { from: "user" });
  return cmd.opts<NodeFlags>();
}

describe("node flags", () => {
  it("--disable-local-storage turns the node-local provisioner off (as k3s's --disable local-storage)", () => {
    const off = agentOptionsFromFlags(parse(["--disable-local-storage"]), base);
    assert.equal(off.disableLocalStorage, true);
    const on = agentOptionsFromFlags(parse([]), base);
    assert.equal(on.disableLocalStorage, undefined);
  });

  it("--node-label refuses kubernetes.io labels a kubelet does not own, as upstream's kubelet", () => {
    assert.deepEqual(agentOptionsFromFlags(parse(["--node-label", "tier=web", "--node-label", "node.kubernetes.io/pool=a"]), base).labels, { tier: "web", "node.kubernetes.io/pool": "a" });
    assert.throws(() => agentOptionsFromFlags(parse(["--node-label", "node-role.kubernetes.io/worker=true"]), base), /^AgentError: unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-label: \[node-role.kubernetes.io\/worker\]\n--node-label in the 'kubernetes.io' namespace must begin with an allowed prefix \(kubelet.kubernetes.io, node.kubernetes.io\)/);
  });
});

describe("k8ts agent's credentials", () => {
  const log = createLogger("silent");
  function parseAgent(args: readonly string[]): AgentFlags {
    const program = new Command().exitOverride();
    let flags: AgentFlags | undefined;
    registerAgentCommand(program);
    const agent = program.commands.find((c) => c.name() === "agent")!;
    agent.exitOverride().action((f: AgentFlags) => {
      flags = f;
    });
    program.parse(["agent", ...args], { from: "user" });
    return flags!;
  }

  it("parses kubeadm's join flags; the CA hash repeats", () => {
    const f = parseAgent(["--server", "https://10.0.0.1:6443", "--token", "abcdef.0123456789abcdef", "--discovery-token-ca-cert-hash", "sha256:aa", "--discovery-token-ca-cert-hash", "sha256:bb", "--discovery-token-unsafe-skip-ca-verification"]);
    assert.equal(f.server, "https://10.0.0.1:6443");
    assert.equal(f.token, "abcdef.0123456789abcdef");
    assert.deepEqual(f.discoveryTokenCaCertHash, ["sha256:aa", "sha256:bb"]);
    assert.equal(f.discoveryTokenUnsafeSkipCaVerification, true);
    assert.equal(f.kubeconfig, undefined);
  });

  it("--kubeconfig is used as given, with --server replacing its server", async () => {
    const c = await agentCredentials(parseAgent(["--kubeconfig", "/x/admin.kubeconfig", "--server", "https://10.0.0.1:6443"]), { log });
    assert.deepEqual(c, { kubeconfig: "/x/admin.kubeconfig", server: "https://10.0.0.1:6443" });
    await assert.rejects(agentCredentials(parseAgent(["--kubeconfig", "/x/k", "--token", "abcdef.0123456789abcdef"]), { log }), /--token and --kubeconfig cannot be used together/);
  });

  it("without --kubeconfig nor a node kubeconfig from an earlier join, --server and --token are required", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "k8ts-agent-flags-"));
    try {
      await assert.rejects(agentCredentials(parseAgent(["--data-dir", dataDir, "--node-name", "n1"]), { log }), /^BootstrapError: --server and --token are required to join a cluster \(kubeconfig .* does not exist\); or give --kubeconfig with credentials$/);
      await assert.rejects(
        agentCredentials(parseAgent(["--data-dir", dataDir, "--node-name", "n1", "--server", "https://127.0.0.1:1", "--token", "abcdef.0123456789abcdef"]), { log }),
        /using token-based discovery without --discovery-token-ca-cert-hash can be unsafe/,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
