// The labels a kubelet may put on its own Node (upstream's kubeletapis: KubeletLabels and
// KubeletLabelNamespaces). Labels steer workloads, so a node may not give itself the
// kubernetes.io / k8s.io ones it does not own (say node-role.kubernetes.io/control-plane) nor any
// under node-restriction.kubernetes.io: the NodeRestriction admission plugin refuses them, and the
// kubelet refuses such --node-labels before it starts.

/** Labels a kubelet sets on its own Node. */
export const KUBELET_LABELS: readonly string[] = [
  "kubernetes.io/hostname",
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "node.kubernetes.io/instance-type",
  "beta.kubernetes.io/instance-type",
  "kubernetes.io/os",
  "kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/arch",
];
/** Label namespaces a kubelet may use freely (and their subdomains). */
export const KUBELET_LABEL_NAMESPACES: readonly string[] = ["kubelet.kubernetes.io", "node.kubernetes.io"];
const NODE_RESTRICTION_NAMESPACE = "node-restriction.kubernetes.io";
const kubeletLabels = new Set(KUBELET_LABELS);

const labelNamespace = (key: string): string => {
  const slash = key.indexOf("/");
  return slash < 0 ? "" : key.slice(0, slash);
};
const inNamespace = (ns: string, domain: string): boolean => ns === domain || ns.endsWith("." + domain);

function isKubeletLabel(key: string): boolean {
  if (kubeletLabels.has(key)) return true;
  const ns = labelNamespace(key);
  return KUBELET_LABEL_NAMESPACES.some((d) => inNamespace(ns, d));
}

const isKubernetesLabel = (key: string): boolean => {
  const ns = labelNamespace(key);
  return inNamespace(ns, "kubernetes.io") || inNamespace(ns, "k8s.io");
};

/** The kubernetes.io / k8s.io labels among `keys` that kubelets do not own (the kubelet's --node-labels check); sorted. */
export function unknownKubeletLabels(keys: readonly string[]): string[] {
  return keys.filter((k) => isKubernetesLabel(k) && !isKubeletLabel(k)).sort();
}

/** The labels among `modified` a node may not set on itself: node-restriction ones, and kubernetes.io / k8s.io ones kubelets do not own; sorted. */
export function forbiddenNodeLabels(modified: readonly string[]): string[] {
  return modified.filter((k) => inNamespace(labelNamespace(k), NODE_RESTRICTION_NAMESPACE) || (isKubernetesLabel(k) && !isKubeletLabel(k))).sort();
}
