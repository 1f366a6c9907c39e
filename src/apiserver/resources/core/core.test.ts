import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, StrategyContext } from "../../registry/types.js";
import { configMaps, endpoints, secrets, serviceAccounts } from "./config.js";
import { coreEvents, coreToEventsV1, eventsV1, eventsV1ToCore } from "./event.js";
import { namespaces, nodes } from "./namespace-node.js";
import { limitRanges, persistentVolumeClaims, persistentVolumes, podTemplates, replicationControllers, resourceQuotas } from "./other.js";
import { services } from "./service.js";
import { strategyDriver } from "../../../testing/strategy.js";

const now = new Date("2024-05-01T12:00:00Z");
const ctx: StrategyContext = { namespace: "default", now, user: { username: "admin", groups: [] } };
const created = "2024-05-01T11:00:00Z";

function mk(extra: Record<string, unknown>, md: Record<string, unknown> = {}): KubeObject {
  return { metadata: { name: "x", namespace: "default", resourceVersion: "1", creationTimestamp: created, ...md }, ...extra };
}

const { create, update } = strategyDriver(ctx);

void test("service defaults and create normalization", () => {
  const svc = mk({ spec: { selector: { app: "web" }, ports: [{ port: 80 }] } }, { name: "web" });
  assert.deepEqual(create(services, svc), []);
  assert.deepEqual(svc.spec, {
    selector: { app: "web" },
    ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
    sessionAffinity: "None",
    type: "ClusterIP",
    internalTrafficPolicy: "Cluster",
    ipFamilyPolicy: "SingleStack",
    ipFamilies: ["IPv4"],
  });
  assert.deepEqual(svc.status, { loadBalancer: {} });
  const np = mk({ spec: { type: "NodePort", ports: [{ port: 80, targetPort: "http" }] } }, { name: "np" });
  assert.deepEqual(create(services, np), []);
  assert.equal((np.spec as Record<string, unknown>).externalTrafficPolicy, "Cluster");
});

void test("service validation messages", () => {
  assert.deepEqual(create(services, mk({ spec: { selector: { app: "web" } } }, { name: "web" })), ["spec.ports: Required value"]);
  assert.deepEqual(create(services, mk({ spec: { ports: [{ port: 80 }, { port: 443 }] } }, { name: "web" })), ["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"]);
  assert.deepEqual(create(services, mk({ spec: { type: "Magic", ports: [{ port: 70000, protocol: "HTTP" }] } }, { name: "Web" })), [
    "metadata.name: Invalid value: \"Web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
    'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    "spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
    'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
  ]);
  assert.deepEqual(create(services, mk({ spec: { ports: [{ port: 80, nodePort: 30080 }] } }, { name: "web" })), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
});

void test("service updates keep allocated values and may not move the cluster IP", () => {
  const old = mk({ spec: { type: "NodePort", clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"], ports: [{ name: "http", port: 80, nodePort: 30080 }] } }, { name: "web" });
  create(services, old);
  const next = mk({ spec: { type: "NodePort", ports: [{ name: "http", port: 80 }] } }, { name: "web" });
  assert.deepEqual(update(services, next, old), []);
  const spec = next.spec as { clusterIP: string; ports: { nodePort: number }[] };
  assert.equal(spec.clusterIP, "10.96.0.10");
  assert.equal(spec.ports[0]!.nodePort, 30080);
  const moved = mk({ spec: { type: "NodePort", clusterIP: "10.96.0.11", clusterIPs: ["10.96.0.11"], ports: [{ name: "http", port: 80 }] } }, { name: "web" });
  assert.deepEqual(update(services, moved, old), ['spec.clusterIPs[0]: Invalid value: "10.96.0.11": may not change once set']);
  const toClusterIP = mk({ spec: { type: "ClusterIP", ports: [{ name: "http", port: 80 }] } }, { name: "web" });
  assert.deepEqual(update(services, toClusterIP, old), []);
  assert.equal((toClusterIP.spec as { ports: Record<string, unknown>[] }).ports[0]!.nodePort, undefined);
});

void test("service table cells", () => {
  const lb = mk({ spec: { type: "LoadBalancer", clusterIPs: ["10.96.0.5"], ports: [{ port: 80, nodePort: 31000, protocol: "TCP" }, { port: 53, protocol: "UDP" }], selector: { app: "x" } }, status: { loadBalancer: {} } }, { name: "lb" });
  assert.deepEqual(services.table?.row(lb, now), ["lb", "LoadBalancer", "10.96.0.5", "<pending>", "80:31000/TCP,53/UDP", "60m", "app=x"]);
  const ext = mk({ spec: { type: "ExternalName", externalName: "example.com" } }, { name: "e" });
  assert.deepEqual(services.table?.row(ext, now), ["e", "ExternalName", "<none>", "example.com", "<none>", "60m", "<none>"]);
  assert.deepEqual(services.table?.columns.map((c) => c.name), ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector"]);
});

void test("namespaces: Active, the kubernetes finalizer, the name label", () => {
  const ns: KubeObject = { metadata: { name: "team-a", creationTimestamp: created } };
  assert.deepEqual(create(namespaces, ns), []);
  assert.deepEqual(ns.spec, { finalizers: ["kubernetes"] });
  assert.deepEqual(ns.status, { phase: "Active" });
  assert.deepEqual((ns.metadata as { labels: unknown }).labels, { "kubernetes.io/metadata.name": "team-a" });
  assert.deepEqual(namespaces.table?.row(ns, now), ["team-a", "Active", "60m"]);
  assert.deepEqual(create(namespaces, { metadata: { name: "Bad.Name" } }).length, 1);
  assert.equal(namespaces.verbs?.includes("deletecollection"), false);
});

void test("nodes: status kept on create, table cells", () => {
  const node: KubeObject = {
    metadata: { name: "n1", creationTimestamp: created, labels: { "node-role.kubernetes.io/control-plane": "" } },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: "Ready", status: "True" }],
      addresses: [{ type: "InternalIP", address: "10.0.0.2" }],
      nodeInfo: { kubeletVersion: "v1.32.0", osImage: "Debian GNU/Linux 12", kernelVersion: "6.1.0", containerRuntimeVersion: "containerd://1.6.20" },
      capacity: { cpu: "2", memory: "24Gi" },
    },
  };
  assert.deepEqual(create(nodes, node), []);
  assert.deepEqual((node.status as Record<string, unknown>).allocatable, { cpu: "2", memory: "24Gi" });
  assert.deepEqual(nodes.table?.row(node, now), ["n1", "Ready,SchedulingDisabled", "control-plane", "60m", "v1.32.0", "10.0.0.2", "<none>", "Debian GNU/Linux 12", "6.1.0", "containerd://1.6.20"]);
  assert.deepEqual(nodes.selectableFields?.(node), { "spec.unschedulable": "true" });
});

void test("config maps and secrets: keys, immutability, stringData", () => {
  assert.deepEqual(create(configMaps, mk({ data: { "bad key": "v", ok: "v" } })), [
    "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
  ]);
  const old = mk({ data: { a: "1" }, immutable: true });
  assert.deepEqual(update(configMaps, mk({ data: { a: "2" }, immutable: true }), old), ["data: Forbidden: field is immutable when `immutable` is set"]);
  assert.deepEqual(configMaps.table?.row(mk({ data: { a: "1" }, binaryData: { b: "AA==" } }), now), ["x", 2, "60m"]);

  const s = mk({ stringData: { user: "admin" } });
  assert.deepEqual(create(secrets, s), []);
  assert.equal(s.type, "Opaque");
  assert.deepEqual(s.data, { user: "YWRtaW4=" });
  assert.equal(s.stringData, undefined);
  assert.deepEqual(update(secrets, mk({ type: "kubernetes.io/tls", data: { "tls.crt": "", "tls.key": "" } }), s), ['type: Invalid value: "kubernetes.io/tls": field is immutable']);
  assert.deepEqual(create(secrets, mk({ type: "kubernetes.io/tls", data: {} })), ["data[tls.crt]: Required value", "data[tls.key]: Required value"]);
  assert.deepEqual(secrets.table?.row(s, now), ["x", "Opaque", 1, "60m"]);
});

void test("service accounts and endpoints", () => {
  const sa = mk({ secrets: [{ name: "tok", namespace: "default", uid: "u" }] });
  assert.deepEqual(create(serviceAccounts, sa), []);
  assert.deepEqual(sa.secrets, [{ name: "tok" }]);
  const ep = mk({ subsets: [{ addresses: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }, { ip: "10.0.0.3" }, { ip: "10.0.0.4" }], ports: [{ port: 80 }] }] });
  assert.deepEqual(create(endpoints, ep), []);
  assert.deepEqual(endpoints.table?.row(ep, now), ["x", "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...", "60m"]);
  assert.deepEqual(create(endpoints, mk({ subsets: [{ addresses: [{ ip: "127.0.0.1" }] }] })), ['subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)']);
});

void test("events: legacy core rules, strict events.k8s.io rules, conversion, table", () => {
  const ev = mk(
    { involvedObject: { kind: "Pod", name: "web-1", namespace: "default" }, reason: "Pulled", message: "Pulled image ", type: "Normal", source: { component: "kubelet", host: "n1" }, firstTimestamp: "2024-05-01T11:50:00Z", lastTimestamp: "2024-05-01T11:58:00Z", count: 3 },
    { name: "web-1.abc" },
  );
  assert.deepEqual(create(coreEvents, ev), []);
  assert.equal(ev.reportingComponent, "");
  assert.equal(ev.eventTime, null);
  assert.deepEqual(coreEvents.table?.row(ev, now), ["2m", "Normal", "Pulled", "pod/web-1", "", "kubelet, n1", "Pulled image", "10m", 3, "web-1.abc"]);
  assert.deepEqual(create(coreEvents, mk({ involvedObject: { namespace: "other" } })), ['involvedObject.namespace: Invalid value: "other": does not match event.namespace']);
  assert.equal(coreEvents.selectableFields?.(ev)["involvedObject.name"], "web-1");

  const v1 = coreToEventsV1(ev);
  assert.equal(v1.note, "Pulled image ");
  assert.deepEqual(v1.regarding, ev.involvedObject);
  assert.equal(v1.deprecatedCount, 3);
  assert.deepEqual(eventsV1ToCore(v1).message, ev.message);

  const strict = mk({ regarding: { kind: "Pod", name: "p", namespace: "default" }, reason: "Started", type: "Normal", note: "ok" }, { name: "e1" });
  assert.deepEqual(create(eventsV1, strict), ["eventTime: Required value"]);
  strict.eventTime = "2024-05-01T11:59:00.000000Z";
  // Upstream also runs the qualified-name check on the empty controller name.
  assert.deepEqual(
    eventsV1.strategy.validate?.(strict, ctx).map(String).filter((m) => !m.startsWith("reportingController: Invalid")),
    ["reportingController: Required value", "reportingInstance: Required value", "action: Required value"],
  );
});

void test("replication controllers default selector and labels from the template", () => {
  const rc = mk({ spec: { template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx" }] } } } });
  assert.deepEqual(create(replicationControllers, rc), []);
  assert.deepEqual((rc.spec as Record<string, unknown>).selector, { app: "web" });
  assert.deepEqual((rc.metadata as Record<string, unknown>).labels, { app: "web" });
  assert.deepEqual(rc.status, { replicas: 0 });
  assert.equal(replicationControllers.scale?.selector(rc), "app=web");
  assert.deepEqual(replicationControllers.table?.row(rc, now), ["x", 1, 0, 0, "60m", "c", "nginx", "app=web"]);
});

void test("pod templates: the template's pod defaults and validation, upstream's columns", () => {
  const t = mk({ template: { metadata: { labels: { app: "a", tier: "web" } }, spec: { containers: [{ name: "c", image: "busybox" }, { name: "d", image: "nginx" }] } } });
  assert.deepEqual(create(podTemplates, t), []);
  const spec = (t["template"] as { spec: { restartPolicy?: string; dnsPolicy?: string } }).spec;
  assert.equal(spec.restartPolicy, "Always");
  assert.equal(spec.dnsPolicy, "ClusterFirst");
  assert.deepEqual(podTemplates.table!.columns.map((c) => [c.name, c.priority]), [["Name", 0], ["Containers", 0], ["Images", 0], ["Pod Labels", 0]]);
  assert.deepEqual(podTemplates.table!.row(t, now), ["x", "c,d", "busybox,nginx", "app=a,tier=web"]);
  const bad = create(podTemplates, mk({ template: { metadata: { labels: { a: "b c" } }, spec: { containers: [] } } }));
  assert.ok(bad.some((e) => e.startsWith('template.labels: Invalid value: "b c"')), bad.join("\n"));
  assert.ok(bad.includes("template.spec.containers: Required value"), bad.join("\n"));
});

void test("persistent volumes and claims", () => {
  const pv: KubeObject = { metadata: { name: "pv1", creationTimestamp: created }, spec: { capacity: { storage: "1024Mi" }, accessModes: ["ReadWriteOnce", "ReadOnlyMany"], hostPath: { path: "/data" } } };
  assert.deepEqual(create(persistentVolumes, pv), []);
  assert.equal((pv.spec as Record<string, unknown>).persistentVolumeReclaimPolicy, "Retain");
  assert.deepEqual(persistentVolumes.table?.row(pv, now), ["pv1", "1Gi", "RWO,ROX", "Retain", "Pending", "", "", "<unset>", "", "60m", "Filesystem"]);
  assert.deepEqual(create(persistentVolumeClaims, mk({ spec: {} })), ["spec.accessModes: Required value: at least 1 access mode is required", "spec.resources[storage]: Required value"]);
  const pvc = mk({ spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } });
  assert.deepEqual(create(persistentVolumeClaims, pvc), []);
  assert.deepEqual(pvc.status, { phase: "Pending" });
  assert.deepEqual(persistentVolumeClaims.table?.row(pvc, now), ["x", "Pending", "", "", "", "", "<unset>", "60m", "Filesystem"]);
  const changed = structuredClone(pvc);
  (changed.spec as Record<string, unknown>).accessModes = ["ReadWriteMany"];
  assert.deepEqual(update(persistentVolumeClaims, changed, pvc), ["spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"]);
});

void test("resource quota table and limit range defaults", () => {
  const rq = mk({ spec: { hard: { pods: "10", "limits.cpu": "2" } }, status: { hard: { pods: "10", "requests.cpu": "1", "limits.cpu": "2" }, used: { pods: "1", "requests.cpu": "500m" } } });
  assert.deepEqual(resourceQuotas.table?.row(rq, now), ["x", "pods: 1/10, requests.cpu: 500m/1", "limits.cpu: 0/2", "60m"]);
  const lr = mk({ spec: { limits: [{ type: "Container", max: { cpu: "1" }, min: { memory: "64Mi" } }] } });
  assert.deepEqual(create(limitRanges, lr), []);
  assert.deepEqual((lr.spec as { limits: unknown[] }).limits[0], { type: "Container", max: { cpu: "1" }, min: { memory: "64Mi" }, default: { cpu: "1" }, defaultRequest: { cpu: "1", memory: "64Mi" } });
  assert.deepEqual(limitRanges.table?.row(lr, now), ["x", "2024-05-01T11:00:00Z"]);
});
