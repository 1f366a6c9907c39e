// The pod sandbox as upstream's kubelet describes it to CRI (generatePodSandboxConfig): name,
// hostname, DNS per dnsPolicy, host ports, labels, cgroup parent, namespaces, sysctls; and the
// /etc/hosts file the containers get (upstream's kubelet_pods.go ensureHostsFile).
import type { Pod } from "kubernetes-types/core/v1.js";
import type { DNSConfig, Input, PodSandboxConfig, PortMapping } from "../cri/client.js";
import { LABEL_MANAGED_BY, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from "../types.js";
import { podCgroupPath } from "./cgroups.js";

export const MANAGED_BY_VALUE = "k8ts";

// ---- DNS (upstream pkg/kubelet/network/dns) ----

export interface ResolvConf {
  readonly servers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

/** Parses resolv.conf text: nameserver, search/domain and options lines; the last search wins. */
export function parseResolvConf(text: string): ResolvConf {
  const servers: string[] = [];
  let searches: string[] = [];
  const options: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const [key, ...fields] = line.split(/\s+/);
    if (key === "nameserver" && fields[0]) servers.push(fields[0]);
    else if (key === "search" || key === "domain") searches = fields.filter((f) => f !== "" && f !== ".").map((f) => f.replace(/\.$/, ""));
    else if (key === "options") options.push(...fields.filter((f) => f !== ""));
  }
  return { servers, searches, options };
}

export interface DnsSettings {
  /** ClusterFirst nameservers; empty → pods resolve as with dnsPolicy Default */
  readonly clusterDNS: readonly string[];
  readonly clusterDomain: string;
  readonly host: ResolvConf;
}

// Upstream's limits (validation.MaxDNSSearchPaths and the glibc nameserver limit).
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/** Options merge by name, later ones replacing earlier ones (upstream mergeDNSOptions). */
function mergeOptions(existing: readonly string[], added: readonly { name?: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const o of existing) {
    const i = o.indexOf(":");
    byName.set(i < 0 ? o : o.slice(0, i), o);
  }
  for (const o of added) {
    if (!o.name) continue;
    byName.set(o.name, o.value !== undefined && o.value !== "" ? `${o.name}:${o.value}` : o.name);
  }
  return [...byName.values()];
}

type EffectivePolicy = "ClusterFirst" | "Default" | "None";

function effectivePolicy(pod: Pod, s: DnsSettings): EffectivePolicy {
  const policy = pod.spec?.dnsPolicy ?? "ClusterFirst";
  if (policy === "None") return "None";
  if (policy === "Default") return "Default";
  const hostNet = pod.spec?.hostNetwork === true;
  // ClusterFirst on the host network resolves as the host does; ClusterFirstWithHostNet does not.
  if (policy === "ClusterFirst" && hostNet) return "Default";
  // No cluster DNS configured: upstream falls back to the host's resolver.
  if (s.clusterDNS.length === 0) return "Default";
  return "ClusterFirst";
}

/** The sandbox DNS config for the pod's dnsPolicy and dnsConfig. */
export function podDnsConfig(pod: Pod, s: DnsSettings): DNSConfig {
  const ns = pod.metadata?.namespace ?? "default";
  let servers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  switch (effectivePolicy(pod, s)) {
    case "ClusterFirst": {
      const d = s.clusterDomain;
      servers = [...s.clusterDNS];
      searches = unique([`${ns}.svc.${d}`, `svc.${d}`, d, ...s.host.searches]);
      options = ["ndots:5"];
      break;
    }
    case "Default":
      servers = [...s.host.servers];
      searches = [...s.host.searches];
      options = [...s.host.options];
      break;
    case "None":
      break;
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    servers = unique([...servers, ...(extra.nameservers ?? [])]);
    searches = unique([...searches, ...(extra.searches ?? [])]);
    options = mergeOptions(options, extra.options ?? []);
  }
  return { servers: servers.slice(0, MAX_NAMESERVERS), searches: searches.slice(0, MAX_SEARCHES), options };
}

// ---- hostname ----

export interface PodHostname {
  /** what `hostname` prints in the pod */
  readonly hostname: string;
  /** <hostname>.<subdomain>.<ns>.svc.<domain> when the pod has a subdomain */
  readonly fqdn: string | undefined;
  /** the short name (before setHostnameAsFQDN) */
  readonly short: string;
}

/** Hostname per spec.hostname (else the pod name cut to 63 characters) and spec.subdomain. */
export function podHostname(pod: Pod, clusterDomain: string): PodHostname {
  let short = pod.spec?.hostname || pod.metadata?.name || "";
  if (short.length > 63) short = short.slice(0, 63).replace(/[-.]+$/, "");
  const sub = pod.spec?.subdomain;
  const fqdn = sub ? `${short}.${sub}.${pod.metadata?.namespace ?? "default"}.svc.${clusterDomain}` : undefined;
  const hostname = pod.spec?.setHostnameAsFQDN && fqdn ? fqdn : short;
  return { hostname, fqdn, short };
}

// ---- /etc/hosts ----

export function managedHostsFile(pod: Pod, podIPs: readonly string[], name: PodHostname): string {
  const lines = [
    "# Kubernetes-managed hosts file.",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
  ];
  for (const ip of podIPs) lines.push(name.fqdn ? `${ip}\t${name.fqdn}\t${name.short}` : `${ip}\t${name.short}`);
  return lines.join("\n") + "\n" + hostAliasesSection(pod);
}

/** Host-network pods see the node's hosts file, plus their host aliases. */
export function hostNetworkHostsFile(pod: Pod, nodeHosts: string): string {
  const body = nodeHosts.endsWith("\n") || nodeHosts === "" ? nodeHosts : nodeHosts + "\n";
  return "# Kubernetes-managed hosts file (host network).\n" + body + hostAliasesSection(pod);
}

function hostAliasesSection(pod: Pod): string {
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length === 0) return "";
  const lines = ["", "# Entries added by HostAliases."];
  for (const a of aliases) lines.push(`${a.ip}\t${(a.hostnames ?? []).join("\t")}`);
  return lines.join("\n") + "\n";
}

// ---- the sandbox config ----

export interface SandboxSettings extends DnsSettings {
  readonly cgroupParent: string;
  readonly logDirectory: string;
}

export function sandboxLabels(pod: Pod): Record<string, string> {
  const m = pod.metadata ?? {};
  return {
    ...(m.labels ?? {}),
    [LABEL_POD_NAME]: m.name ?? "",
    [LABEL_POD_NAMESPACE]: m.namespace ?? "default",
    [LABEL_POD_UID]: m.uid ?? "",
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
  };
}

export function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({ protocol: (p.protocol ?? "TCP") as PortMapping["protocol"], containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP ?? "" });
    }
  }
  return out;
}

/** containerd refuses privileged containers in a sandbox that is not privileged itself. */
function anyPrivileged(pod: Pod): boolean {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some((c) => c.securityContext?.privileged === true);
}

export function namespaceOptions(pod: Pod): { network: "POD" | "NODE"; pid: "POD" | "CONTAINER" | "NODE"; ipc: "POD" | "NODE" } {
  const s = pod.spec ?? { containers: [] };
  return {
    network: s.hostNetwork ? "NODE" : "POD",
    pid: s.hostPID ? "NODE" : s.shareProcessNamespace ? "POD" : "CONTAINER",
    ipc: s.hostIPC ? "NODE" : "POD",
  };
}

export function sandboxConfig(pod: Pod, attempt: number, s: SandboxSettings): Input<PodSandboxConfig> {
  const m = pod.metadata ?? {};
  const sc = pod.spec?.securityContext;
  const sysctls: Record<string, string> = {};
  for (const x of sc?.sysctls ?? []) sysctls[x.name] = x.value;
  return {
    metadata: { name: m.name ?? "", namespace: m.namespace ?? "default", uid: m.uid ?? "", attempt },
    // A host-network pod shares the node's UTS namespace: runc refuses to set a hostname there.
    hostname: pod.spec?.hostNetwork ? "" : podHostname(pod, s.clusterDomain).hostname,
    logDirectory: s.logDirectory,
    dnsConfig: podDnsConfig(pod, s),
    portMappings: portMappings(pod),
    labels: sandboxLabels(pod),
    annotations: { ...(m.annotations ?? {}) },
    linux: {
      cgroupParent: podCgroupPath(s.cgroupParent, m.uid ?? ""),
      sysctls,
      securityContext: {
        namespaceOptions: namespaceOptions(pod),
        privileged: anyPrivileged(pod),
        ...(sc?.runAsUser !== undefined ? { runAsUser: { value: sc.runAsUser } } : {}),
        ...(sc?.runAsGroup !== undefined ? { runAsGroup: { value: sc.runAsGroup } } : {}),
        supplementalGroups: [...(sc?.supplementalGroups ?? []), ...(sc?.fsGroup !== undefined ? [sc.fsGroup] : [])],
      },
    },
  };
}
