// The controller-manager's factory for node IPAM ("node-ipam-controller"), and its options as
// kube-controller-manager's flags give them.
import type { Controller, ControllerContext, ControllerFactory } from "../context.js";
import { CidrError, parseCIDR } from "./cidr.js";
import { DEFAULT_NODE_IPAM_OPTIONS, NODE_IPAM_CONTROLLER, cidrSetsFor, NodeIpamController, NodeIpamError, type NodeIpamOptions } from "./controller.js";

export { NODE_IPAM_CONTROLLER, DEFAULT_NODE_IPAM_OPTIONS, NodeIpamController, NodeIpamError, type NodeIpamOptions };
export { podCIDRsOf } from "./controller.js";

export interface NodeIpamOptionsInput {
  /** --cluster-cidr: one CIDR, or an IPv4 and an IPv6 CIDR separated by a comma (dual stack). */
  readonly clusterCIDR?: string;
  /** --node-cidr-mask-size: the block size of a single-stack cluster (24 for IPv4, 64 for IPv6 when unset). */
  readonly nodeCIDRMaskSize?: number;
  readonly nodeCIDRMaskSizeIPv4?: number;
  readonly nodeCIDRMaskSizeIPv6?: number;
}

/** Flags → options, validated as upstream's startNodeIpamController and cidrset do. */
export function compileNodeIpamOptions(i: NodeIpamOptionsInput = {}): NodeIpamOptions {
  const bad = (msg: string): never => {
    throw new NodeIpamError("InvalidOptions", msg);
  };
  const clusterCIDRs = i.clusterCIDR === undefined ? [...DEFAULT_NODE_IPAM_OPTIONS.clusterCIDRs] : i.clusterCIDR.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (clusterCIDRs.length === 0) bad("--cluster-cidr is empty");
  if (clusterCIDRs.length > 2) bad(`--cluster-cidr takes at most two CIDRs (one per IP family), got ${clusterCIDRs.length}`);
  const families = clusterCIDRs.map((c) => {
    try {
      return parseCIDR(c).family;
    } catch (err) {
      return bad(`--cluster-cidr: ${(err as CidrError).message}`);
    }
  });
  if (families.length === 2 && families[0] === families[1]) bad("--cluster-cidr: a dual-stack cluster needs one IPv4 and one IPv6 CIDR");
  const dual = families.length === 2;
  if (dual && i.nodeCIDRMaskSize !== undefined) bad("--node-cidr-mask-size is for single-stack clusters; use --node-cidr-mask-size-ipv4 and --node-cidr-mask-size-ipv6");
  const single = dual ? undefined : i.nodeCIDRMaskSize;
  const v4 = i.nodeCIDRMaskSizeIPv4 ?? (families[0] === 4 ? single : undefined) ?? DEFAULT_NODE_IPAM_OPTIONS.nodeCIDRMaskSizeIPv4;
  const v6 = i.nodeCIDRMaskSizeIPv6 ?? (families[0] === 6 ? single : undefined) ?? DEFAULT_NODE_IPAM_OPTIONS.nodeCIDRMaskSizeIPv6;
  const options: NodeIpamOptions = { clusterCIDRs, nodeCIDRMaskSizeIPv4: v4, nodeCIDRMaskSizeIPv6: v6 };
  // Building the allocators checks each mask against its cluster CIDR.
  try {
    cidrSetsFor(options);
  } catch (err) {
    if (err instanceof CidrError) bad(`--cluster-cidr/--node-cidr-mask-size: ${err.message}`);
    throw err;
  }
  return options;
}

export function nodeIpamControllerFactory(input: NodeIpamOptionsInput = {}): ControllerFactory {
  const options = compileNodeIpamOptions(input);
  return (ctx: ControllerContext): Controller => {
    const nodes = ctx.informers.forKind("v1", "Node");
    const log = ctx.log.child({ controller: NODE_IPAM_CONTROLLER });
    const c = new NodeIpamController({ api: ctx.client, nodes: nodes.lister, events: ctx.events, log, options, metrics: ctx.metrics });
    nodes.addEventHandler({
      onAdd: (n) => c.nodeChanged(n),
      // Only a node without CIDRs needs work, but a change of CIDRs (or a delete and re-create
      // under the same name) must move what the node holds: every update is a key.
      onUpdate: (_old, n) => c.nodeChanged(n),
      onDelete: (n) => c.nodeDeleted(n),
    });
    return {
      name: NODE_IPAM_CONTROLLER,
      async run(signal, workers) {
        if (!(await nodes.waitForSync(signal))) return;
        log.info({ clusterCIDRs: options.clusterCIDRs, nodeCIDRMaskSizeIPv4: options.nodeCIDRMaskSizeIPv4, nodeCIDRMaskSizeIPv6: options.nodeCIDRMaskSizeIPv6 }, "allocating node CIDRs");
        await c.run(signal, workers);
      },
    };
  };
}
