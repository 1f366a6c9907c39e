// Cluster DNS names shared by the parts that make them (the kubelet's pod resolv.conf, the DNS
// server's zone) and those that ask for them (`k8ts up`'s readiness check).

/** The cluster domain when none is configured: Kubernetes' default (kubelet --cluster-domain). */
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";

/** The name every cluster DNS answers: the API server's Service in `default`. */
export function apiServiceName(clusterDomain: string): string {
  return `kubernetes.default.svc.${clusterDomain}`;
}
