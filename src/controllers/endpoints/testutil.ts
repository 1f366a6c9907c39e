// Services, pods and nodes as the API server would hold them, for the Endpoints and
// EndpointSlice controllers' unit tests.
import type { Container, Node, Pod, Service, ServicePort } from "kubernetes-types/core/v1.js";

export interface SvcOpts {
  readonly ns?: string;
  readonly selector?: Record<string, string> | null;
  readonly ports?: ServicePort[];
  readonly clusterIP?: string;
  readonly publishNotReadyAddresses?: boolean;
  readonly labels?: Record<string, string>;
  readonly type?: string;
  readonly uid?: string;
}

export function service(name: string, o: SvcOpts = {}): Service {
  const clusterIP = o.clusterIP ?? "10.43.10.10";
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: o.ns ?? "ns", uid: o.uid ?? `${name}-uid`, resourceVersion: "1", ...(o.labels ? { labels: o.labels } : {}) },
    spec: {
      type: o.type ?? "ClusterIP",
      ...(o.selector === null ? {} : { selector: o.selector ?? { app: name } }),
      ports: o.ports ?? [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080 }],
      clusterIP,
      clusterIPs: [clusterIP],
      ipFamilies: ["IPv4"],
      ...(o.publishNotReadyAddresses ? { publishNotReadyAddresses: true } : {}),
    },
  };
}

export interface PodOpts {
  readonly ns?: string;
  readonly labels?: Record<string, string>;
  readonly ip?: string | null;
  readonly ready?: boolean;
  readonly node?: string;
  readonly hostname?: string;
  readonly subdomain?: string;
  readonly ports?: Container["ports"];
  readonly deleting?: boolean;
  readonly phase?: string;
  readonly rv?: string;
}

/** A running pod with address 10.42.0.<n>; `n` also makes its name and uid. */
export function pod(n: number, o: PodOpts = {}): Pod {
  const name = `web-${n}`;
  const ip = o.ip === null ? undefined : (o.ip ?? `10.42.${Math.floor(n / 250)}.${(n % 250) + 1}`);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: o.ns ?? "ns",
      uid: `${name}-uid`,
      resourceVersion: o.rv ?? "1",
      labels: o.labels ?? { app: "web" },
      ...(o.deleting ? { deletionTimestamp: "2024-01-01T00:00:00Z", deletionGracePeriodSeconds: 30 } : {}),
    },
    spec: {
      containers: [{ name: "c", image: "busybox", ...(o.ports ? { ports: o.ports } : {}) }],
      ...(o.node ? { nodeName: o.node } : {}),
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
    },
    status: {
      phase: o.phase ?? "Running",
      ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
    },
  };
}

export function node(name: string, zone?: string): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name, uid: `${name}-uid`, ...(zone ? { labels: { "topology.kubernetes.io/zone": zone } } : {}) } };
}
