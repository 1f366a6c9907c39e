// What node heartbeats share: the namespace that holds one Lease per node, the verbs a
// renewer needs on it, and how often a node posts its status besides. The kubelet renews its own node's lease; the node simulator renews
// thousands; both write through these, each with its own renewal policy.
import type { Lease } from "kubernetes-types/coordination/v1.js";

export const NODE_LEASE_NAMESPACE = "kube-node-lease";

/**
 * upstream's nodeStatusReportFrequency: besides its lease, a node posts its status at least
 * this often, changed or not, which keeps its conditions' heartbeat times fresh.
 */
export const NODE_STATUS_REPORT_MS = 5 * 60_000;

/** The verbs a renewer needs on leases in kube-node-lease (a namespaced ResourceClient<Lease> is one). */
export interface LeaseApi {
  get(name: string): Promise<Lease>;
  create(obj: Lease): Promise<Lease>;
  update(obj: Lease): Promise<Lease>;
}
