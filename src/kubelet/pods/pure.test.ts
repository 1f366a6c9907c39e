// Unit tests of the pod lifecycle's pure parts: back-off, $(VAR) expansion and env, DNS and
// hostnames, container config pieces, QoS, the actions of a sync, phase/conditions/status.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap, Container, Pod, PodStatus, Secret, Service } from "kubernetes-types/core/v1.js";
import type { ObjectSource } from "../types.js";
import { computePodActions } from "./actions.js";
import { Backoff } from "./backoff.js";
import { podQOSClass } from "../../api/qos.js";
import { containerConfig, containerHash, containerMounts, linuxResources, podRef, pullPolicy, securityContext, verifyRunAsNonRoot } from "./container.js";
import { ContainerConfigError, containerEnv, expand, expandCommand, fieldRefValue, resourceFieldValue, serviceEnv } from "./env.js";
import { pullAuths, registryOf } from "./images.js";
import { tailCriLog, type ContainerRecord, type PodRuntime, type SandboxRecord } from "./runtime-state.js";
import { managedHostsFile, parseResolvConf, podDnsConfig, podHostname, sandboxConfig } from "./sandbox.js";
import { computePodStatus, containerRestartPolicy, podPhase, sameStatus, type StatusInput } from "./status.js";
import { withOthersFields } from "./status-writer.js";
import { Quantity } from "../../api/quantity.js";
import type { NodeAllocatable } from "../volumes/downward.js";

/** The node's allocatable amounts as the kubelet hands them to env resolution. */
const node = (cpu: number, memoryBytes: number, ephemeralStorageBytes: number): NodeAllocatable => ({
  cpu: Quantity.fromInt(cpu, "DecimalSI"),
  memory: Quantity.fromInt(memoryBytes, "BinarySI"),
  "ephemeral-storage": Quantity.fromInt(ephemeralStorageBytes, "BinarySI"),
});

function pod(spec: Partial<Pod["spec"]> = {}, meta: Partial<Pod["metadata"]> = {}): Pod {
  return { metadata: { name: "p", namespace: "ns", uid: "u1", ...meta }, spec: { containers: [{ name: "c", image: "busybox:1.35" }], ...spec } };
}

function sandbox(over: Partial<SandboxRecord> = {}): SandboxRecord {
  return { id: "sb1", state: "SANDBOX_READY", createdAt: 1000, attempt: 0, ips: ["10.0.0.5"], hostNetwork: false, labels: {}, ...over };
}

function ctr(over: Partial<ContainerRecord> & { name: string }): ContainerRecord {
  return {
    id: `id-${over.name}-${over.createdAt ?? 0}`,
    sandboxId: "sb1",
    state: "CONTAINER_RUNNING",
    createdAt: 2000,
    startedAt: 2000,
    finishedAt: 0,
    exitCode: 0,
    reason: "",
    message: "",
    image: "docker.io/library/busybox:1.35",
    imageRef: "sha256:abc",
    hash: "",
    restartCount: 0,
    logPath: "",
    annotations: {},
    ...over,
  };
}

function objects(cms: Record<string, Record<string, string>> = {}, secrets: Record<string, Record<string, string>> = {}, services: Record<string, Service[]> = {}): ObjectSource {
  return {
    configMap: async (_ns, name) => (cms[name] ? ({ data: cms[name] } as ConfigMap) : undefined),
    secret: async (_ns, name) => (secrets[name] ? ({ data: Object.fromEntries(Object.entries(secrets[name]).map(([k, v]) => [k, Buffer.from(v).toString("base64")])) } as Secret) : undefined),
    services: async (ns) => services[ns] ?? [],
    runtimeHandler: async () => undefined,
    persistentVolumeClaim: async () => undefined,
    persistentVolume: async () => undefined,
    serviceAccountToken: () => Promise.reject(new Error("unused")),
  };
}

describe("back-off", () => {
  it("starts at the initial delay, doubles to the maximum and resets after twice the maximum without failures", () => {
    let now = 0;
    const b = new Backoff({ initialMs: 10, maxMs: 40 }, () => now);
    assert.equal(b.remainingSince("k", 0), 0);
    b.next("k", 0);
    assert.equal(b.get("k"), 10);
    now = 5;
    assert.equal(b.remainingSince("k", 0), 5);
    now = 10;
    assert.equal(b.remainingSince("k", 0), 0);
    for (const t of [20, 30, 40, 50]) b.next("k", t);
    assert.equal(b.get("k"), 40, "capped");
    b.next("k", 50 + 81);
    assert.equal(b.get("k"), 10, "reset after 2 × max without a failure");
    b.next("img", 200);
    now = 205;
    assert.equal(b.remainingSinceUpdate("img"), 5);
    b.forgetPrefix("im");
    assert.equal(b.get("img"), 0);
  });
});

describe("$(VAR) expansion and env", () => {
  it("expands as upstream: unknown names stay, $$ escapes, incomplete references are kept", () => {
    const vars: Record<string, string> = { A: "a", B: "b" };
    const lookup = (n: string): string | undefined => vars[n];
    assert.equal(expand("$(A)-$(B)", lookup), "a-b");
    assert.equal(expand("$(C)", lookup), "$(C)");
    assert.equal(expand("$$(A)", lookup), "$(A)");
    assert.equal(expand("$$$(A)", lookup), "$a");
    assert.equal(expand("$(A", lookup), "$(A");
    assert.equal(expand("$A $", lookup), "$A $");
    assert.equal(expand("x$(A)y$(B)z", lookup), "xaybz");
    assert.equal(expand("", lookup), "");
  });

  it("service link variables", () => {
    const env = serviceEnv({ metadata: { name: "my-svc" }, spec: { clusterIP: "10.43.0.5", ports: [{ name: "http", port: 80, protocol: "TCP" }, { port: 53, protocol: "UDP" }] } });
    const m = Object.fromEntries(env.map((e) => [e.name, e.value]));
    assert.equal(m["MY_SVC_SERVICE_HOST"], "10.43.0.5");
    assert.equal(m["MY_SVC_SERVICE_PORT"], "80");
    assert.equal(m["MY_SVC_SERVICE_PORT_HTTP"], "80");
    assert.equal(m["MY_SVC_PORT"], "tcp://10.43.0.5:80");
    assert.equal(m["MY_SVC_PORT_53_UDP"], "udp://10.43.0.5:53");
    assert.equal(m["MY_SVC_PORT_53_UDP_PROTO"], "udp");
    assert.equal(m["MY_SVC_PORT_80_TCP_ADDR"], "10.43.0.5");
    assert.deepEqual(serviceEnv({ metadata: { name: "h" }, spec: { clusterIP: "None" } }), []);
  });

  it("resolves fieldRef, resourceFieldRef, configMap/secret refs, envFrom with prefix, services, in upstream's order", async () => {
    const p = pod({ serviceAccountName: "sa", nodeName: "n1" }, { labels: { app: "web" }, annotations: { note: "x" } });
    const c: Container = {
      name: "c",
      resources: { requests: { cpu: "250m", memory: "64Mi" }, limits: { memory: "128Mi" } },
      envFrom: [{ configMapRef: { name: "cm" }, prefix: "CM_" }, { secretRef: { name: "missing", optional: true } }],
      env: [
        { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
        { name: "IPS", valueFrom: { fieldRef: { fieldPath: "status.podIPs" } } },
        { name: "CPU_REQ", valueFrom: { resourceFieldRef: { resource: "requests.cpu", divisor: "1m" } } },
        { name: "MEM_LIM", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
        { name: "CPU_LIM", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
        { name: "PASS", valueFrom: { secretKeyRef: { name: "s", key: "password" } } },
        { name: "OPT", valueFrom: { configMapKeyRef: { name: "cm", key: "absent", optional: true } } },
        { name: "CM_a", value: "override-$(NAME)-$(KUBERNETES_SERVICE_HOST)" },
      ],
    };
    const env = await containerEnv(p, c, {
      objects: objects({ cm: { a: "1", b: "2", "bad=key": "3" } }, { s: { password: "hunter2" } }, { default: [{ metadata: { name: "kubernetes" }, spec: { clusterIP: "10.43.0.1", ports: [{ name: "https", port: 443 }] } }] }),
      facts: { podIPs: ["10.0.0.5", "fd00::5"], hostIPs: ["192.168.1.2"] },
      node: node(4, 8 * 2 ** 30, 0),
    });
    const m = Object.fromEntries(env.map((e) => [e.name, e.value]));
    assert.equal(m["CM_a"], "override-p-10.43.0.1");
    assert.equal(m["CM_b"], "2");
    assert.equal(m["CM_bad=key"], undefined);
    assert.equal(m["NAME"], "p");
    assert.equal(m["APP"], "web");
    assert.equal(m["SA"], "sa");
    assert.equal(m["IPS"], "10.0.0.5,fd00::5");
    assert.equal(m["CPU_REQ"], "250");
    assert.equal(m["MEM_LIM"], "128");
    assert.equal(m["CPU_LIM"], "4", "an unset limit reads as the node's capacity");
    assert.equal(m["PASS"], "hunter2");
    assert.ok(!("OPT" in m));
    assert.equal(m["KUBERNETES_SERVICE_HOST"], "10.43.0.1");
    assert.equal(m["KUBERNETES_PORT_443_TCP"], "tcp://10.43.0.1:443");
    assert.deepEqual(expandCommand({ name: "c", command: ["echo", "$(NAME)"], args: ["$(CM_b)", "$(NOPE)"] }, env), { command: ["echo", "p"], args: ["2", "$(NOPE)"] });
  });

  it("missing objects and keys fail with upstream's CreateContainerConfigError messages", async () => {
    const p = pod();
    const env = (e: Container["env"], from?: Container["envFrom"]): Promise<unknown> =>
      containerEnv(p, { name: "c", env: e, envFrom: from }, { objects: objects({ cm: { a: "1" } }, { s: { k: "v" } }), facts: { podIPs: [], hostIPs: [] }, node: node(1, 1, 0) });
    const fails = (message: string) => (e: unknown) => e instanceof ContainerConfigError && e.message === message && e.reason === "CreateContainerConfigError";
    await assert.rejects(env([{ name: "X", valueFrom: { configMapKeyRef: { name: "x", key: "a" } } }]), fails('configmap "x" not found'));
    await assert.rejects(env([{ name: "X", valueFrom: { configMapKeyRef: { name: "cm", key: "zz" } } }]), fails("couldn't find key zz in ConfigMap ns/cm"));
    await assert.rejects(env([{ name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "a" } } }]), fails('secret "nope" not found'));
    await assert.rejects(env([{ name: "X", valueFrom: { secretKeyRef: { name: "s", key: "zz" } } }]), fails("couldn't find key zz in Secret ns/s"));
    await assert.rejects(env([], [{ secretRef: { name: "gone" } }]), fails('secret "gone" not found'));
    assert.deepEqual(await env([{ name: "X", valueFrom: { configMapKeyRef: { name: "x", key: "a", optional: true } } }]), []);
  });

  it("downward API values", () => {
    const p = pod({ nodeName: "n1" }, { annotations: { "a.b/c": "v" } });
    const facts = { podIPs: ["10.0.0.5"], hostIPs: ["192.168.1.2"] };
    assert.equal(fieldRefValue(p, { fieldPath: "metadata.annotations['a.b/c']" }, facts), "v");
    assert.equal(fieldRefValue(p, { fieldPath: "metadata.uid" }, facts), "u1");
    assert.equal(fieldRefValue(p, { fieldPath: "spec.nodeName" }, facts), "n1");
    assert.equal(fieldRefValue(p, { fieldPath: "status.hostIP" }, facts), "192.168.1.2");
    assert.throws(() => fieldRefValue(p, { fieldPath: "spec.bogus" }, facts), ContainerConfigError);
    assert.equal(resourceFieldValue(p, { name: "c", resources: { requests: { memory: "1Gi" } } }, { resource: "requests.memory", divisor: "1Mi" }, node(1, 1, 0)), "1024");
    assert.equal(resourceFieldValue(p, { name: "c", resources: { limits: { cpu: "1500m" } } }, { resource: "limits.cpu" }, node(1, 1, 0)), "2", "rounded up");
  });
});

describe("sandbox: DNS, hostname, hosts file", () => {
  const host = parseResolvConf("# comment\nnameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch corp.example. lab.example\noptions rotate timeout:2\n");
  const s = { clusterDNS: ["10.43.0.10"], clusterDomain: "cluster.local", host };

  it("parses resolv.conf", () => {
    assert.deepEqual(host, { servers: ["1.1.1.1", "8.8.8.8"], searches: ["corp.example", "lab.example"], options: ["rotate", "timeout:2"] });
  });

  it("follows dnsPolicy and merges dnsConfig", () => {
    assert.deepEqual(podDnsConfig(pod(), s), { servers: ["10.43.0.10"], searches: ["ns.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "lab.example"], options: ["ndots:5"] });
    assert.deepEqual(podDnsConfig(pod({ dnsPolicy: "Default" }), s), { servers: ["1.1.1.1", "8.8.8.8"], searches: ["corp.example", "lab.example"], options: ["rotate", "timeout:2"] });
    assert.deepEqual(podDnsConfig(pod({ hostNetwork: true }), s).servers, ["1.1.1.1", "8.8.8.8"], "ClusterFirst on the host network resolves as the host");
    assert.deepEqual(podDnsConfig(pod({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" }), s).servers, ["10.43.0.10"]);
    assert.deepEqual(podDnsConfig(pod(), { ...s, clusterDNS: [] }).servers, ["1.1.1.1", "8.8.8.8"], "no cluster DNS: as Default");
    assert.deepEqual(podDnsConfig(pod({ dnsPolicy: "None", dnsConfig: { nameservers: ["9.9.9.9"], searches: ["a.example"], options: [{ name: "ndots", value: "2" }, { name: "edns0" }] } }), s), {
      servers: ["9.9.9.9"],
      searches: ["a.example"],
      options: ["ndots:2", "edns0"],
    });
    const merged = podDnsConfig(pod({ dnsConfig: { nameservers: ["10.43.0.10", "9.9.9.9", "7.7.7.7", "6.6.6.6"], options: [{ name: "ndots", value: "1" }] } }), s);
    assert.deepEqual(merged.servers, ["10.43.0.10", "9.9.9.9", "7.7.7.7"], "duplicates dropped, three at most");
    assert.deepEqual(merged.options, ["ndots:1"]);
  });

  it("hostname, subdomain and the hosts file", () => {
    assert.deepEqual(podHostname(pod(), "cluster.local"), { hostname: "p", fqdn: undefined, short: "p" });
    const sub = pod({ hostname: "h", subdomain: "sub", setHostnameAsFQDN: true, hostAliases: [{ ip: "1.2.3.4", hostnames: ["foo", "bar"] }] });
    const name = podHostname(sub, "cluster.local");
    assert.deepEqual(name, { hostname: "h.sub.ns.svc.cluster.local", fqdn: "h.sub.ns.svc.cluster.local", short: "h" });
    assert.equal(podHostname(pod({}, { name: `${"a".repeat(62)}-bbb` }), "x").hostname, "a".repeat(62));
    const hosts = managedHostsFile(sub, ["10.0.0.5"], name);
    assert.match(hosts, /^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
    assert.match(hosts, /\n10\.0\.0\.5\th\.sub\.ns\.svc\.cluster\.local\th\n/);
    assert.match(hosts, /\n# Entries added by HostAliases\.\n1\.2\.3\.4\tfoo\tbar\n$/);
  });

  it("the sandbox config", () => {
    const p = pod({ hostNetwork: true, securityContext: { sysctls: [{ name: "net.core.somaxconn", value: "1024" }] }, containers: [{ name: "c", ports: [{ containerPort: 80, hostPort: 8080 }], securityContext: { privileged: true } }] }, { labels: { app: "x" } });
    const c = sandboxConfig(p, 2, { ...s, cgroupParent: "/k8ts/kubepods", logDirectory: "/logs/ns_p_u1" });
    assert.deepEqual(c.metadata, { name: "p", namespace: "ns", uid: "u1", attempt: 2 });
    assert.equal(c.linux?.cgroupParent, "/k8ts/kubepods/podu1");
    assert.deepEqual(c.linux?.sysctls, { "net.core.somaxconn": "1024" });
    assert.equal(c.linux?.securityContext?.namespaceOptions?.network, "NODE");
    assert.equal(c.linux?.securityContext?.privileged, true);
    assert.deepEqual(c.portMappings, [{ protocol: "TCP", containerPort: 80, hostPort: 8080, hostIp: "" }]);
    assert.equal(c.labels?.["app"], "x");
    assert.equal(c.labels?.["io.kubernetes.k8ts.managed"], "k8ts");
    assert.equal(c.labels?.["io.kubernetes.pod.uid"], "u1");
  });
});

describe("container config", () => {
  it("pull policy defaults as the API does", () => {
    assert.equal(pullPolicy({ name: "c", image: "busybox" }), "Always");
    assert.equal(pullPolicy({ name: "c", image: "busybox:latest" }), "Always");
    assert.equal(pullPolicy({ name: "c", image: "localhost:5000/busybox" }), "Always");
    assert.equal(pullPolicy({ name: "c", image: "localhost:5000/busybox:1" }), "IfNotPresent");
    assert.equal(pullPolicy({ name: "c", image: "busybox@sha256:abc" }), "IfNotPresent");
    assert.equal(pullPolicy({ name: "c", image: "busybox", imagePullPolicy: "Never" }), "Never");
  });

  it("QoS classes", () => {
    assert.equal(podQOSClass(pod().spec), "BestEffort");
    assert.equal(podQOSClass(pod({ containers: [{ name: "c", resources: { limits: { cpu: "1", memory: "1Gi" } } }] }).spec), "Guaranteed");
    assert.equal(podQOSClass(pod({ containers: [{ name: "c", resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "1Gi" } } }] }).spec), "Burstable");
    assert.equal(podQOSClass(pod({ containers: [{ name: "c", resources: { limits: { cpu: "1", memory: "1Gi" } } }, { name: "d" }] }).spec), "Burstable");
  });

  it("resources become cgroup settings", () => {
    const c: Container = { name: "c", resources: { requests: { cpu: "250m" }, limits: { cpu: "500m", memory: "20Mi" } } };
    const r = linuxResources(pod({ containers: [c] }), c, 8 * 2 ** 30);
    assert.equal(r.cpuShares, 256);
    assert.equal(r.cpuPeriod, 100000);
    assert.equal(r.cpuQuota, 50000);
    assert.equal(r.memoryLimitInBytes, 20 * 2 ** 20);
    assert.equal(linuxResources(pod(), { name: "c" }, 1).cpuShares, 2);
    assert.equal(linuxResources(pod(), { name: "c" }, 1).oomScoreAdj, 1000);
  });

  it("security context and runAsNonRoot", () => {
    const c: Container = { name: "c", securityContext: { runAsUser: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] } } };
    const sc = securityContext(pod({ containers: [c], securityContext: { runAsGroup: 3000, fsGroup: 2000 } }), c);
    assert.deepEqual(sc.runAsUser, { value: 1000 });
    assert.deepEqual(sc.runAsGroup, { value: 3000 });
    assert.equal(sc.readonlyRootfs, true);
    assert.equal(sc.noNewPrivs, true);
    assert.deepEqual(sc.supplementalGroups, [2000]);
    assert.deepEqual(sc.capabilities, { addCapabilities: ["NET_ADMIN"], dropCapabilities: ["ALL"] });
    assert.ok(sc.maskedPaths?.includes("/proc/kcore"));
    assert.equal(securityContext(pod(), { name: "c", securityContext: { privileged: true } }).maskedPaths, undefined);
    const nonRoot = pod({ securityContext: { runAsNonRoot: true } });
    assert.throws(() => verifyRunAsNonRoot(nonRoot, { name: "c" }, { uid: 0, username: "" }), /container has runAsNonRoot and image will run as root/);
    assert.throws(() => verifyRunAsNonRoot(nonRoot, { name: "c" }, { uid: undefined, username: "nginx" }), /non-numeric user \(nginx\)/);
    assert.throws(() => verifyRunAsNonRoot(nonRoot, { name: "c", securityContext: { runAsUser: 0 } }, { uid: 5, username: "" }), /runAsUser breaks non-root policy/);
    verifyRunAsNonRoot(nonRoot, { name: "c" }, { uid: 1000, username: "" });
  });

  it("mounts: volumes, subPath (kept inside), read-only, /etc/hosts and the termination log", () => {
    const vols = new Map([
      ["data", { hostPath: "/v/data", readOnly: false }],
      ["cfg", { hostPath: "/v/cfg", readOnly: true }],
    ]);
    const c: Container = { name: "c", volumeMounts: [{ name: "data", mountPath: "/data", subPathExpr: "$(POD)/x" }, { name: "cfg", mountPath: "/etc/cfg" }, { name: "data", mountPath: "/ro", readOnly: true, mountPropagation: "HostToContainer" }] };
    const m = containerMounts(c, vols, [{ name: "POD", value: "p1" }], { etcHosts: "/pods/u1/etc-hosts", terminationLog: "/pods/u1/containers/c/0" });
    assert.deepEqual(m, [
      { containerPath: "/data", hostPath: "/v/data/p1/x", readonly: false, propagation: "PROPAGATION_PRIVATE" },
      { containerPath: "/etc/cfg", hostPath: "/v/cfg", readonly: true, propagation: "PROPAGATION_PRIVATE" },
      { containerPath: "/ro", hostPath: "/v/data", readonly: true, propagation: "PROPAGATION_HOST_TO_CONTAINER" },
      { containerPath: "/etc/hosts", hostPath: "/pods/u1/etc-hosts" },
      { containerPath: "/dev/termination-log", hostPath: "/pods/u1/containers/c/0" },
    ]);
    assert.throws(() => containerMounts({ name: "c", volumeMounts: [{ name: "data", mountPath: "/d", subPath: "../../etc" }] }, vols, [], { etcHosts: undefined, terminationLog: undefined }), ContainerConfigError);
    assert.throws(() => containerMounts({ name: "c", volumeMounts: [{ name: "nope", mountPath: "/d" }] }, vols, [], { etcHosts: undefined, terminationLog: undefined }), /cannot find volume "nope"/);
  });

  it("an ephemeral container with a target joins its process namespace; events point at spec.ephemeralContainers", () => {
    const p = pod({ ephemeralContainers: [{ name: "dbg", image: "busybox:1.35", targetContainerName: "c" }] });
    const dbg: Container = { name: "dbg", image: "busybox:1.35", command: ["sh"] };
    const input = { pod: p, container: dbg, restartCount: 0, imageRef: "sha256:abc", env: [], mounts: [], logPath: "dbg/0.log", nodeMemoryBytes: 1 << 30 };
    assert.deepEqual(containerConfig({ ...input, pidTarget: "0123abcd" }).linux?.securityContext?.namespaceOptions, { network: "POD", pid: "TARGET", ipc: "POD", targetId: "0123abcd" });
    assert.deepEqual(containerConfig(input).linux?.securityContext?.namespaceOptions, { network: "POD", pid: "CONTAINER", ipc: "POD" }, "without a target, the pod's own mode");
    assert.deepEqual(securityContext(pod({ shareProcessNamespace: true }), dbg).namespaceOptions, { network: "POD", pid: "POD", ipc: "POD" });
    assert.equal(podRef(p, "dbg").fieldPath, "spec.ephemeralContainers{dbg}");
    assert.equal(podRef(p, "c").fieldPath, "spec.containers{c}");
  });

  it("the container hash follows the spec but not its resources", () => {
    const a: Container = { name: "c", image: "busybox:1.35", command: ["sh"] };
    assert.equal(containerHash(a), containerHash({ command: ["sh"], image: "busybox:1.35", name: "c", resources: { limits: { cpu: "1" } } }));
    assert.notEqual(containerHash(a), containerHash({ ...a, image: "busybox:1.36" }));
  });
});

describe("images", () => {
  it("registry of a reference and credentials from pull secrets", () => {
    assert.equal(registryOf("busybox"), "docker.io");
    assert.equal(registryOf("library/busybox:1"), "docker.io");
    assert.equal(registryOf("localhost:5000/x"), "localhost:5000");
    assert.equal(registryOf("ghcr.io/a/b"), "ghcr.io");
    const cfg = { auths: { "https://index.docker.io/v1/": { auth: Buffer.from("me:pw").toString("base64") }, "ghcr.io": { username: "u", password: "p" } } };
    const secret: Secret = { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": Buffer.from(JSON.stringify(cfg)).toString("base64") } };
    assert.deepEqual(
      pullAuths("busybox", [secret]).map((a) => [a.username, a.password]),
      [["me", "pw"]],
    );
    assert.deepEqual(
      pullAuths("ghcr.io/a/b", [secret]).map((a) => [a.username, a.password]),
      [["u", "p"]],
    );
    assert.deepEqual(pullAuths("quay.io/x", [secret]), []);
  });
});

describe("what a sync does", () => {
  const none = (): undefined => undefined;
  const hash = (c: Container): string => containerHash(c);

  it("a new pod gets a sandbox and its containers; a dead sandbox is replaced", () => {
    const p = pod({ containers: [{ name: "a" }, { name: "b" }] });
    const a = computePodActions(p, { sandboxes: [], containers: [] }, none);
    assert.equal(a.createSandbox, true);
    assert.equal(a.sandboxAttempt, 0);
    assert.deepEqual(a.start.map((c) => c.name), ["a", "b"]);
    const dead = computePodActions(p, { sandboxes: [sandbox({ state: "SANDBOX_NOTREADY", attempt: 1 })], containers: [] }, none);
    assert.deepEqual([dead.createSandbox, dead.sandboxAttempt, dead.sandboxChanged, dead.killPod], [true, 2, true, true]);
    const never = computePodActions(pod({ restartPolicy: "Never" }), { sandboxes: [sandbox({ state: "SANDBOX_NOTREADY" })], containers: [ctr({ name: "c", state: "CONTAINER_EXITED" })] }, none);
    assert.equal(never.createSandbox, false, "a Never pod whose containers ran is not started again");
  });

  it("init containers run in order, each to success", () => {
    const p = pod({ initContainers: [{ name: "i1" }, { name: "i2" }], containers: [{ name: "c" }] });
    assert.equal(computePodActions(p, { sandboxes: [], containers: [] }, none).startInit?.name, "i1");
    const rt = (cs: ContainerRecord[]): PodRuntime => ({ sandboxes: [sandbox()], containers: cs });
    assert.equal(computePodActions(p, rt([ctr({ name: "i1" })]), none).startInit, undefined, "waits for the running one");
    assert.equal(computePodActions(p, rt([ctr({ name: "i1", state: "CONTAINER_EXITED" })]), none).startInit?.name, "i2");
    const done = computePodActions(p, rt([ctr({ name: "i2", state: "CONTAINER_EXITED", createdAt: 3 }), ctr({ name: "i1", state: "CONTAINER_EXITED", createdAt: 2 })]), none);
    assert.deepEqual(done.start.map((c) => c.name), ["c"]);
    const failed = computePodActions({ ...p, spec: { ...p.spec!, restartPolicy: "Never" } }, rt([ctr({ name: "i1", state: "CONTAINER_EXITED", exitCode: 1 })]), none);
    assert.deepEqual([failed.initFailed, failed.killPod], [true, true]);
    assert.equal(computePodActions(p, rt([ctr({ name: "i1", state: "CONTAINER_EXITED", exitCode: 1 })]), none).startInit?.name, "i1", "retried when the policy allows");
  });

  it("restart policies, changed specs and failed liveness probes", () => {
    const c: Container = { name: "c", image: "busybox:1.35" };
    const exited = (code: number): PodRuntime => ({ sandboxes: [sandbox()], containers: [ctr({ name: "c", state: "CONTAINER_EXITED", exitCode: code, hash: hash(c) })] });
    assert.deepEqual(computePodActions(pod({ containers: [c] }), exited(0), none).start.map((x) => x.name), ["c"]);
    assert.deepEqual(computePodActions(pod({ containers: [c], restartPolicy: "OnFailure" }), exited(0), none).killPod, true, "done: the sandbox stops");
    assert.deepEqual(computePodActions(pod({ containers: [c], restartPolicy: "OnFailure" }), exited(2), none).start.length, 1);
    assert.deepEqual(computePodActions(pod({ containers: [c], restartPolicy: "Never" }), exited(2), none).start.length, 0);
    const running: PodRuntime = { sandboxes: [sandbox()], containers: [ctr({ name: "c", hash: hash(c) })] };
    const steady = computePodActions(pod({ containers: [c] }), running, none);
    assert.deepEqual([steady.kill.length, steady.start.length, steady.killPod, steady.createSandbox], [0, 0, false, false]);
    const changed = computePodActions(pod({ containers: [{ ...c, image: "busybox:1.36" }] }), running, none);
    assert.equal(changed.kill[0]?.message, "Container c definition changed, will be restarted");
    assert.equal(changed.start.length, 1);
    const liveness = computePodActions(pod({ containers: [c] }), running, () => "Container c failed liveness probe, will be restarted");
    assert.equal(liveness.kill[0]?.message, "Container c failed liveness probe, will be restarted");
    assert.equal(liveness.start.length, 1);
  });

  it("a sidecar starts before the next init container, once started, and runs on beside the containers, restarted whatever its exit", () => {
    const side: Container = { name: "side", image: "busybox:1.35", restartPolicy: "Always" };
    const c: Container = { name: "c", image: "busybox:1.35" };
    const p = pod({ initContainers: [side, { name: "i2" }], containers: [c] });
    const rt = (cs: ContainerRecord[]): PodRuntime => ({ sandboxes: [sandbox()], containers: cs });
    const sideUp = ctr({ name: "side", id: "s1", hash: hash(side) });
    assert.equal(computePodActions(p, { sandboxes: [], containers: [] }, none).startInit?.name, "side");
    assert.equal(computePodActions(p, rt([sideUp]), none).startInit?.name, "i2", "running and started: the next init container");
    assert.equal(computePodActions(p, rt([sideUp]), none, () => false).startInit, undefined, "running, its startup probe not passed yet: wait");
    assert.equal(computePodActions(p, rt([ctr({ name: "side", state: "CONTAINER_EXITED", exitCode: 0 })]), none).startInit?.name, "side", "restarted during init even after exit 0");
    const probeFailed = computePodActions(p, rt([sideUp]), () => "Container side failed liveness probe, will be restarted");
    assert.deepEqual([probeFailed.kill.map((k) => k.container.name), probeFailed.startInit?.name], [["side"], "side"]);

    const i2Done = ctr({ name: "i2", state: "CONTAINER_EXITED", exitCode: 0 });
    assert.deepEqual(computePodActions(p, rt([sideUp, i2Done]), none).start.map((x) => x.name), ["c"], "init done: the containers; the sidecar keeps running");
    const cUp = ctr({ name: "c", hash: hash(c) });
    const steady = computePodActions(p, rt([sideUp, i2Done, cUp]), none);
    assert.deepEqual([steady.start.length, steady.kill.length, steady.killPod], [0, 0, false]);
    for (const exit of [0, 1]) {
      const a = computePodActions(p, rt([ctr({ name: "side", state: "CONTAINER_EXITED", exitCode: exit }), i2Done, cUp]), none);
      assert.deepEqual(a.start.map((x) => x.name), ["side"], `after init, restarted after exit ${exit}`);
    }
    const changed = computePodActions(pod({ initContainers: [{ ...side, image: "busybox:1.36" }, { name: "i2" }], containers: [c] }), rt([sideUp, i2Done, cUp]), none);
    assert.deepEqual([changed.kill.map((k) => k.container.name), changed.start.map((x) => x.name)], [["side"], ["side"]]);

    // A Never pod whose containers are done stops, its running sidecar with it.
    const never = pod({ restartPolicy: "Never", initContainers: [side], containers: [c] });
    const ended = computePodActions(never, rt([sideUp, ctr({ name: "c", state: "CONTAINER_EXITED", hash: hash(c) })]), none);
    assert.deepEqual([ended.killPod, ended.start.length], [true, 0]);
  });

  it("ephemeral containers start once in the sandbox that exists, even before init containers finish, and are never restarted or killed", () => {
    const c: Container = { name: "c", image: "busybox:1.35" };
    const dbg = { name: "dbg", image: "busybox:1.35", targetContainerName: "c" };
    const other = { name: "other", image: "busybox:1.35" };
    const p = pod({ containers: [c], ephemeralContainers: [dbg, other] });
    const names = (a: { startEphemeral: readonly { name: string }[] }): string[] => a.startEphemeral.map((e) => e.name);

    const fresh = computePodActions(p, { sandboxes: [], containers: [] }, none);
    assert.deepEqual([fresh.createSandbox, names(fresh)], [true, []], "not with a sandbox still to be made");
    const dead = computePodActions(p, { sandboxes: [sandbox({ state: "SANDBOX_NOTREADY" })], containers: [ctr({ name: "c", hash: hash(c), state: "CONTAINER_EXITED" })] }, none);
    assert.deepEqual([dead.killPod, dead.createSandbox, names(dead)], [true, true, []], "not while the sandbox is being replaced");

    const running: PodRuntime = { sandboxes: [sandbox()], containers: [ctr({ name: "c", hash: hash(c) })] };
    const first = computePodActions(p, running, none);
    assert.deepEqual(names(first), ["dbg", "other"], "in spec order");
    assert.deepEqual([first.start.length, first.kill.length, first.killPod], [0, 0, false]);

    // Never restarted, whatever their exit, in this sandbox or an old one; a running one is left alone.
    for (const exit of [0, 1, 137]) {
      const exited: PodRuntime = { ...running, containers: [...running.containers, ctr({ name: "dbg", state: "CONTAINER_EXITED", exitCode: exit, sandboxId: "old-sandbox" }), ctr({ name: "other" })] };
      const a = computePodActions(p, exited, none);
      assert.deepEqual([names(a), a.kill.length, a.start.length, a.killPod], [[], 0, 0, false], `exit ${exit}`);
    }
    assert.deepEqual(names(computePodActions(p, { ...running, containers: [...running.containers, ctr({ name: "other" })] }, none)), ["dbg"], "only those never created");

    // A changed target or a failed liveness probe of the regular container kills that one only.
    const withDbg: PodRuntime = { ...running, containers: [...running.containers, ctr({ name: "dbg", id: "dbg-id" }), ctr({ name: "other", state: "CONTAINER_EXITED" })] };
    const changed = computePodActions(pod({ containers: [{ ...c, image: "busybox:1.36" }], ephemeralContainers: [dbg, other] }), withDbg, none);
    assert.deepEqual(changed.kill.map((k) => k.container.name), ["c"]);

    // Before init containers are done: the ephemeral ones start alongside the next init container.
    const init = pod({ initContainers: [{ name: "i1" }], containers: [c], ephemeralContainers: [other] });
    const initRunning = computePodActions(init, { sandboxes: [sandbox()], containers: [ctr({ name: "i1" })] }, none);
    assert.deepEqual([initRunning.startInit, names(initRunning)], [undefined, ["other"]]);
    const initNext = computePodActions(init, { sandboxes: [sandbox()], containers: [] }, none);
    assert.deepEqual([initNext.startInit?.name, names(initNext)], ["i1", ["other"]]);

    // They keep no pod alive: a Never pod whose containers ended is stopped even with one running.
    const ended = computePodActions(pod({ restartPolicy: "Never", containers: [c], ephemeralContainers: [other] }), { sandboxes: [sandbox()], containers: [ctr({ name: "c", state: "CONTAINER_EXITED", hash: hash(c) }), ctr({ name: "other" })] }, none);
    assert.deepEqual([ended.killPod, names(ended)], [true, []]);
  });
});

describe("pod status", () => {
  it("restarts a container by its kind: regular by the pod's policy, init until it succeeds, sidecars always, ephemeral never", () => {
    const table: [Parameters<typeof containerRestartPolicy>[0], string | undefined, string, string][] = [
      ["regular", undefined, "Always", "Always"],
      ["regular", undefined, "OnFailure", "OnFailure"],
      ["regular", undefined, "Never", "Never"],
      ["init", undefined, "Always", "OnFailure"],
      ["init", undefined, "OnFailure", "OnFailure"],
      ["init", undefined, "Never", "Never"],
      ["init", "Always", "Never", "Always"],
      ["init", "Always", "OnFailure", "Always"],
      ["ephemeral", undefined, "Always", "Never"],
    ];
    for (const [kind, own, pod, want] of table) assert.equal(containerRestartPolicy(kind, own ? { restartPolicy: own } : {}, pod), want, `${kind} ${own ?? ""} in a ${pod} pod`);
  });

  const probes = { isReady: (): boolean => true, isStarted: (): boolean => true };
  const input = (p: Pod, runtime: PodRuntime, over: Partial<StatusInput> = {}): StatusInput => ({ pod: p, runtime, reasons: new Map(), probes, hostIPs: ["192.168.1.2"], now: Date.parse("2025-01-01T00:00:10Z"), podIsTerminal: false, old: undefined, ...over });

  it("a running pod", () => {
    const s = computePodStatus(input(pod(), { sandboxes: [sandbox()], containers: [ctr({ name: "c", id: "abc", startedAt: Date.parse("2025-01-01T00:00:05Z") })] }));
    assert.equal(s.phase, "Running");
    assert.equal(s.podIP, "10.0.0.5");
    assert.deepEqual(s.hostIPs, [{ ip: "192.168.1.2" }]);
    assert.equal(s.qosClass, "BestEffort");
    assert.equal(s.startTime, "2025-01-01T00:00:10Z");
    assert.deepEqual(s.containerStatuses?.[0], {
      name: "c",
      state: { running: { startedAt: "2025-01-01T00:00:05Z" } },
      lastState: {},
      ready: true,
      restartCount: 0,
      image: "docker.io/library/busybox:1.35",
      imageID: "sha256:abc",
      containerID: "containerd://abc",
      started: true,
    });
    assert.deepEqual(
      s.conditions?.map((c) => `${c.type}=${c.status}`),
      ["PodReadyToStartContainers=True", "Initialized=True", "Ready=True", "ContainersReady=True", "PodScheduled=True"],
    );
  });

  it("sidecars: Pending until started, probed and counted for readiness like containers, and nothing once stopped", () => {
    const p = pod({ restartPolicy: "Never", initContainers: [{ name: "side", image: "busybox:1.35", restartPolicy: "Always" }], containers: [{ name: "c", image: "busybox:1.35" }] });
    const up = ctr({ name: "side", id: "s1" });
    const notStarted = computePodStatus(input(p, { sandboxes: [sandbox()], containers: [up] }, { probes: { isReady: () => false, isStarted: () => false } }));
    assert.equal(notStarted.phase, "Pending");
    assert.deepEqual([notStarted.initContainerStatuses?.[0]?.started, notStarted.initContainerStatuses?.[0]?.ready], [false, false]);
    assert.equal(notStarted.conditions?.find((c) => c.type === "Initialized")?.message, "containers with incomplete status: [side]");

    const running = computePodStatus(input(p, { sandboxes: [sandbox()], containers: [up, ctr({ name: "c", id: "c1" })] }, { probes: { isReady: (id: string) => id !== "s1", isStarted: () => true } }));
    assert.equal(running.phase, "Running");
    assert.deepEqual([running.initContainerStatuses?.[0]?.started, running.initContainerStatuses?.[0]?.ready], [true, false]);
    assert.equal(running.conditions?.find((c) => c.type === "Initialized")?.status, "True");
    assert.equal(running.conditions?.find((c) => c.type === "ContainersReady")?.message, "containers with unready status: [side]");

    // The container done, the sidecar still running: Running; both stopped: Succeeded, the sidecar's exit counting for nothing.
    const cDone = ctr({ name: "c", id: "c1", state: "CONTAINER_EXITED", exitCode: 0 });
    assert.equal(computePodStatus(input(p, { sandboxes: [sandbox()], containers: [up, cDone] })).phase, "Running");
    const stopped = computePodStatus(input(p, { sandboxes: [sandbox()], containers: [ctr({ name: "side", id: "s1", state: "CONTAINER_EXITED", exitCode: 137 }), cDone] }));
    assert.equal(stopped.phase, "Succeeded");
    assert.equal(stopped.conditions?.find((c) => c.type === "Initialized")?.reason, "PodCompleted");
  });

  it("waiting reasons, CrashLoopBackOff with lastState, unready message, kept transition times", () => {
    const p = pod({ containers: [{ name: "a" }, { name: "b" }] });
    const rt: PodRuntime = { sandboxes: [sandbox()], containers: [ctr({ name: "a", state: "CONTAINER_EXITED", exitCode: 1, finishedAt: 5000 })] };
    const reasons = new Map([
      ["a", { reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container=a pod=p_ns(u1)" }],
      ["b", { reason: "ErrImagePull", message: "not found" }],
    ]);
    const old: PodStatus = { startTime: "2024-12-31T00:00:00Z", conditions: [{ type: "ContainersReady", status: "False", lastTransitionTime: "2024-12-31T00:00:01Z" }, { type: "example.com/gate", status: "True" }] };
    const s = computePodStatus(input(p, rt, { reasons, old }));
    const [a, b] = s.containerStatuses!;
    assert.deepEqual(a?.state, { waiting: { reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container=a pod=p_ns(u1)" } });
    assert.equal(a?.lastState?.terminated?.exitCode, 1);
    assert.equal(a?.lastState?.terminated?.reason, "Error");
    assert.deepEqual(b?.state, { waiting: { reason: "ErrImagePull", message: "not found" } });
    assert.equal(s.phase, "Pending", "b waits without having run");
    const cr = s.conditions!.find((c) => c.type === "ContainersReady")!;
    assert.equal(cr.message, "containers with unready status: [a b]");
    assert.equal(cr.lastTransitionTime, "2024-12-31T00:00:01Z");
    assert.equal(s.conditions!.find((c) => c.type === "Ready")!.lastTransitionTime, "2025-01-01T00:00:10Z");
    assert.ok(s.conditions!.some((c) => c.type === "example.com/gate"), "conditions of others are kept");
    assert.equal(s.startTime, "2024-12-31T00:00:00Z");
  });

  it("ephemeral containers: statuses in spec order, never ready, not counted for phase or readiness", () => {
    const p = pod({
      ephemeralContainers: [
        { name: "dbg", image: "busybox:1.35" },
        { name: "done", image: "busybox:1.35" },
        { name: "pulling", image: "busybox:9" },
        { name: "new", image: "busybox:1.35" },
      ],
    });
    const rt: PodRuntime = {
      sandboxes: [sandbox()],
      containers: [
        ctr({ name: "c", id: "c1" }),
        ctr({ name: "done", id: "e2", state: "CONTAINER_EXITED", exitCode: 0, startedAt: Date.parse("2025-01-01T00:00:06Z"), finishedAt: Date.parse("2025-01-01T00:00:07Z") }),
        ctr({ name: "dbg", id: "e1", startedAt: Date.parse("2025-01-01T00:00:05Z") }),
      ],
    };
    const reasons = new Map([["pulling", { reason: "ErrImagePull", message: "not found" }]]);
    const s = computePodStatus(input(p, rt, { reasons }));
    assert.deepEqual(s.ephemeralContainerStatuses, [
      { name: "dbg", state: { running: { startedAt: "2025-01-01T00:00:05Z" } }, lastState: {}, ready: false, restartCount: 0, image: "docker.io/library/busybox:1.35", imageID: "sha256:abc", containerID: "containerd://e1", started: true },
      {
        name: "done",
        state: { terminated: { exitCode: 0, reason: "Completed", startedAt: "2025-01-01T00:00:06Z", finishedAt: "2025-01-01T00:00:07Z", containerID: "containerd://e2" } },
        lastState: {},
        ready: false,
        restartCount: 0,
        image: "docker.io/library/busybox:1.35",
        imageID: "sha256:abc",
        containerID: "containerd://e2",
        started: false,
      },
      { name: "pulling", state: { waiting: { reason: "ErrImagePull", message: "not found" } }, lastState: {}, ready: false, restartCount: 0, image: "busybox:9", imageID: "", started: false },
      { name: "new", state: { waiting: { reason: "ContainerCreating" } }, lastState: {}, ready: false, restartCount: 0, image: "busybox:1.35", imageID: "", started: false },
    ]);
    assert.equal(s.phase, "Running");
    assert.deepEqual(s.conditions?.filter((c) => c.type === "Ready" || c.type === "ContainersReady").map((c) => c.status), ["True", "True"], "unready ephemeral containers do not make the pod unready");
    const ended = computePodStatus(input(pod({ restartPolicy: "Never", ephemeralContainers: [{ name: "dbg" }] }), { sandboxes: [sandbox()], containers: [ctr({ name: "c", state: "CONTAINER_EXITED" }), ctr({ name: "dbg" })] }));
    assert.equal(ended.phase, "Succeeded", "a running ephemeral container keeps no pod Running");
    assert.equal(computePodStatus(input(pod(), rt)).ephemeralContainerStatuses, undefined, "no field without ephemeral containers");
    assert.deepEqual(withOthersFields({ ephemeralContainerStatuses: [{ name: "gone", ready: false, restartCount: 0, image: "", imageID: "" }] }, s).ephemeralContainerStatuses, s.ephemeralContainerStatuses, "the status writer writes ours");
  });

  it("phases as upstream's getPhase", () => {
    const run = { state: { running: {} } };
    const ok = { state: { terminated: { exitCode: 0 } } };
    const bad = { state: { terminated: { exitCode: 1 } } };
    const crash = { state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 1 } } };
    const wait = { state: { waiting: { reason: "ContainerCreating" } } };
    const cs = (...xs: object[]) => xs.map((x, i) => ({ name: `c${i}`, ready: false, restartCount: 0, image: "", imageID: "", ...x }));
    const phase = (policy: string, init: object[], regular: object[], terminal = false) => podPhase(pod({ restartPolicy: policy }), cs(...init), cs(...regular), terminal);
    assert.equal(phase("Always", [], [run, ok]), "Running");
    assert.equal(phase("Always", [], [ok]), "Running");
    assert.equal(phase("Always", [], [crash]), "Running");
    assert.equal(phase("OnFailure", [], [ok, ok]), "Succeeded");
    assert.equal(phase("Never", [], [ok, bad]), "Failed");
    assert.equal(phase("OnFailure", [], [bad]), "Running");
    assert.equal(phase("Always", [], [wait]), "Pending");
    assert.equal(phase("Always", [run], [wait]), "Pending");
    assert.equal(phase("Never", [bad], [wait]), "Failed");
    assert.equal(phase("Always", [], [bad], true), "Failed", "a deleted pod ends final");
    assert.equal(phase("Always", [], [ok], true), "Succeeded");
  });

  it("Succeeded pods report PodCompleted; a final phase is never left", () => {
    const p = pod({ restartPolicy: "Never" });
    const s = computePodStatus(input(p, { sandboxes: [sandbox({ state: "SANDBOX_NOTREADY" })], containers: [ctr({ name: "c", state: "CONTAINER_EXITED", exitCode: 0 })] }, { old: { podIPs: [{ ip: "10.0.0.5" }] } }));
    assert.equal(s.phase, "Succeeded");
    assert.equal(s.containerStatuses?.[0]?.state?.terminated?.reason, "Completed");
    assert.equal(s.conditions?.find((c) => c.type === "Ready")?.reason, "PodCompleted");
    assert.equal(s.conditions?.find((c) => c.type === "PodReadyToStartContainers")?.status, "False");
    assert.equal(s.podIP, "10.0.0.5", "the address is kept after the sandbox stops");
    const again = computePodStatus(input(p, { sandboxes: [], containers: [] }, { old: { phase: "Succeeded" } }));
    assert.equal(again.phase, "Succeeded");
  });

  it("status comparison; fields of others survive a write", () => {
    assert.ok(sameStatus({ phase: "Running", podIP: undefined }, { phase: "Running" }));
    assert.ok(!sameStatus({ phase: "Running" }, { phase: "Pending" }));
    assert.deepEqual(withOthersFields({ phase: "Pending", message: "x", nominatedNodeName: "n2", resize: "Proposed" }, { phase: "Running" }), { phase: "Running", nominatedNodeName: "n2", resize: "Proposed" });
  });

  it("termination messages from the log tail", () => {
    const log = "2025-01-01T00:00:00Z stdout F line1\n2025-01-01T00:00:00Z stderr P part\n2025-01-01T00:00:00Z stderr F ial\n2025-01-01T00:00:00Z stdout F last\n";
    assert.equal(tailCriLog(log, 80, 2048), "line1\npartial\nlast\n");
    assert.equal(tailCriLog(log, 2, 2048), "partial\nlast\n");
    assert.equal(tailCriLog(log, 80, 5), "last\n");
  });
});
