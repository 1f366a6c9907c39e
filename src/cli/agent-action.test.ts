// The node flags, parsed as `k8ts agent` and `k8ts server` parse them, into agent options.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Command } from "commander";
import { createLogger } from "../util/log.js";
import { addNodeFlags } from "./agent.js";
import { agentOptionsFromFlags, type NodeFlags } from "./agent-action.js";

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
});
