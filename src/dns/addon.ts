// The cluster DNS addon as the objects a server applies at start: what upstream ships as
// CoreDNS (cluster/addons/dns/coredns), under upstream's names — Deployment `coredns`, Service
// `kube-dns` labelled `kubernetes.io/cluster-service=true` (so `kubectl cluster-info` lists it),
// ServiceAccount `coredns` and ClusterRole/Binding `system:coredns` — so tools and habits that
// look for them find them. The container is our server (k8ts dns) from an image k8ts builds.
import type { ServiceAccount, Service } from "kubernetes-types/core/v1.js";
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { ClusterRole, ClusterRoleBinding } from "kubernetes-types/rbac/v1.js";
import type { KubeObject } from "../client/objects.js";

export const DNS_NAMESPACE = "kube-system";
export const DNS_SERVICE_NAME = "kube-dns";
export const DNS_DEPLOYMENT_NAME = "coredns";
export const DNS_SERVICE_ACCOUNT = "coredns";
export const DNS_CLUSTER_ROLE = "system:coredns";
export const DNS_APP_LABEL = { "k8s-app": "kube-dns" } as const;
/** The ports the container serves, as CoreDNS's: DNS, liveness (/health), readiness (/ready), metrics. */
export const DNS_PORTS = { dns: 53, health: 8080, ready: 8181, metrics: 9153 } as const;

export interface DnsAddonOptions {
  /** the kube-dns Service's address: the 10th of the service range (10.43.0.10), as kubeadm and k3s choose it */
  readonly clusterDNSIP: string;
  /** the DNS image, e.g. DNS_IMAGE of kubelet/images/dns.ts */
  readonly image: string;
  readonly clusterDomain: string;
  /** default 1 (a single-node cluster); kubeadm runs 2 */
  readonly replicas?: number;
}

export function dnsAddonObjects(o: DnsAddonOptions): KubeObject[] {
  const labels = { ...DNS_APP_LABEL, "kubernetes.io/name": "CoreDNS" };
  const sa: ServiceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: DNS_SERVICE_ACCOUNT, namespace: DNS_NAMESPACE } };
  const role: ClusterRole = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: DNS_CLUSTER_ROLE, labels: { "kubernetes.io/bootstrapping": "rbac-defaults" } },
    rules: [
      { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
    ],
  };
  const binding: ClusterRoleBinding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: DNS_CLUSTER_ROLE, labels: { "kubernetes.io/bootstrapping": "rbac-defaults" } },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: DNS_CLUSTER_ROLE },
    subjects: [{ kind: "ServiceAccount", name: DNS_SERVICE_ACCOUNT, namespace: DNS_NAMESPACE }],
  };
  const deployment: Deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: DNS_DEPLOYMENT_NAME, namespace: DNS_NAMESPACE, labels },
    spec: {
      replicas: o.replicas ?? 1,
      // A new pod is Ready before the old one goes: with one replica, upstream's maxUnavailable 1
      // (kubeadm runs two) left the cluster without DNS for seconds at each rollout.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      selector: { matchLabels: { ...DNS_APP_LABEL } },
      template: {
        metadata: { labels: { ...DNS_APP_LABEL } },
        spec: {
          priorityClassName: "system-cluster-critical",
          serviceAccountName: DNS_SERVICE_ACCOUNT,
          tolerations: [
            { key: "CriticalAddonsOnly", operator: "Exists" },
            { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" },
          ],
          nodeSelector: { "kubernetes.io/os": "linux" },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { labelSelector: { matchExpressions: [{ key: "k8s-app", operator: "In", values: ["kube-dns"] }] }, topologyKey: "kubernetes.io/hostname" } },
              ],
            },
          },
          containers: [
            {
              name: "coredns",
              image: o.image,
              imagePullPolicy: "IfNotPresent",
              args: [
                "--listen",
                `0.0.0.0:${DNS_PORTS.dns}`,
                "--cluster-domain",
                o.clusterDomain,
                "--health-port",
                String(DNS_PORTS.health),
                "--ready-port",
                String(DNS_PORTS.ready),
                "--metrics-port",
                String(DNS_PORTS.metrics),
              ],
              resources: { limits: { memory: "170Mi" }, requests: { cpu: "100m", memory: "70Mi" } },
              ports: [
                { name: "dns", containerPort: DNS_PORTS.dns, protocol: "UDP" },
                { name: "dns-tcp", containerPort: DNS_PORTS.dns, protocol: "TCP" },
                { name: "metrics", containerPort: DNS_PORTS.metrics, protocol: "TCP" },
              ],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] }, readOnlyRootFilesystem: true },
              livenessProbe: { httpGet: { path: "/health", port: DNS_PORTS.health, scheme: "HTTP" }, initialDelaySeconds: 60, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 5 },
              // First probed a second after the start (the server listens after ~0.5 s; a probe
              // before that fails with a Warning event at every start), then every 2 s, not
              // upstream's default 10: until a probe passes, nothing in the cluster resolves.
              readinessProbe: { httpGet: { path: "/ready", port: DNS_PORTS.ready, scheme: "HTTP" }, initialDelaySeconds: 1, periodSeconds: 2 },
            },
          ],
          // The server itself resolves through the node's resolvers, never through itself.
          dnsPolicy: "Default",
        },
      },
    },
  };
  const service: Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: DNS_SERVICE_NAME,
      namespace: DNS_NAMESPACE,
      labels: { ...DNS_APP_LABEL, "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS" },
      annotations: { "prometheus.io/port": String(DNS_PORTS.metrics), "prometheus.io/scrape": "true" },
    },
    spec: {
      selector: { ...DNS_APP_LABEL },
      clusterIP: o.clusterDNSIP,
      clusterIPs: [o.clusterDNSIP],
      ports: [
        { name: "dns", port: DNS_PORTS.dns, targetPort: DNS_PORTS.dns, protocol: "UDP" },
        { name: "dns-tcp", port: DNS_PORTS.dns, targetPort: DNS_PORTS.dns, protocol: "TCP" },
        { name: "metrics", port: DNS_PORTS.metrics, targetPort: DNS_PORTS.metrics, protocol: "TCP" },
      ],
    },
  };
  return [sa, role, binding, deployment, service] as KubeObject[];
}
