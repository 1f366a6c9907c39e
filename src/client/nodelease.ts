// What node heartbeats share: the namespace that holds one Lease per node, and the verbs a
// renewer needs on it. The kubelet renews its own node's lease; the node simulator renews
// thousands; both write through these, each with its own renewal policy.
import type { Lease } from "kubernetes-types/coordination/v1.js";

export const NODE_LEASE_NAMESPACE = "kube-node-lease";

/** The verbs a renewer needs on leases in kube-node-lease (a namespaced ResourceClient<Lease> is one). */
export interface LeaseApi {
  get(name: string): Promise<Lease>;
  create(obj: Lease): Promise<Lease>;
  update(obj: Lease): Promise<Lease>;
}
