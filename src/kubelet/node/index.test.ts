// The node agent against a real API server: registration as kubectl shows it, the lease,
// readiness changes, podCIDRs from the control plane, and a restart that keeps what others set.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import type { Node } from "kubernetes-types/core/v1.js";
import { EventRecorder } from "../../client/events.js";
import { createServer as createNetServer, connect, type AddressInfo } from "node:net";
import { createClientFromKubeconfig, RestClient } from "../../client/rest.js";
import { loadKubeconfig } from "../../util/kubeconfig.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { runtimeSkipReason, startTestRuntime } from "../../testing/runtime.js";
import { until } from "../../testing/wait.js";
import { createLogger } from "../../util/log.js";
import { VERSION } from "../../util/version.js";
import type { Image, VersionResponse } from "../cri/types.js";
import { kernelVersion, readOsImage } from "./host.js";
import { NodeAgent, type NodeAgentOptions, type NodeRuntime } from "./index.js";

const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");

function image(tag: string, size: number): Image {
  return { id: `sha256:${tag.length}`, repoTags: [tag], repoDigests: [], size, uid: null, username: "", spec: null, pinned: false };
}

const fakeRuntime: NodeRuntime = {
  version: (): Promise<VersionResponse> => Promise.resolve({ version: "0.1.0", runtimeName: "fakeruntime", runtimeVersion: "1.2.3", runtimeApiVersion: "v1" }),
  listImages: (): Promise<Image[]> => Promise.resolve([image("docker.io/library/busybox:1.35", 2_000_000), image("k8ts.local/pause:3.9", 500_000)]),
};

void describe("NodeAgent", () => {
  let srv: TestApiServer;
  let client: RestClient;
  let events: EventRecorder;
  const agents: NodeAgent[] = [];

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    events = EventRecorder.forClient(client, { component: "kubelet", host: "node-a", log });
  });
  after(async () => {
    for (const a of agents) await a.stop();
    await events?.shutdown();
    client?.close();
    await srv?.stop();
  });

  const nodes = () => client.forKind("v1", "Node");
  const condition = (n: Node, type: string) => n.status?.conditions?.find((c) => c.type === type);
  function agent(name: string, o: Partial<NodeAgentOptions> = {}): NodeAgent {
    const a = new NodeAgent({ client, nodeName: name, nodeIP: "10.1.2.3", kubeletPort: 10250, cri: fakeRuntime, rootDir: srv.dataDir, readiness: () => ({ ready: true, reason: "KubeletReady", message: "" }), events, log, renewIntervalMs: 300, statusUpdateIntervalMs: 200, ...o });
    agents.push(a);
    return a;
  }

  void it("registers a node that kubectl get -o wide and describe print as upstream's", async () => {
    const a = agent("node-a", { taints: [{ key: "dedicated", value: "infra", effect: "NoSchedule" }], labels: { "node-role.kubernetes.io/worker": "" } });
    const node = await a.start();
    assert.ok(node.metadata?.uid);
    assert.equal(node.metadata?.labels?.["kubernetes.io/hostname"], "node-a");
    assert.equal(node.metadata?.labels?.["kubernetes.io/os"], "linux");
    assert.deepEqual(node.spec?.taints, [{ key: "dedicated", value: "infra", effect: "NoSchedule" }]);
    const live = await nodes().get("node-a");
    assert.equal(condition(live, "Ready")?.status, "True");
    assert.equal(live.status?.capacity?.["pods"], "110");
    assert.match(live.status?.capacity?.["memory"] ?? "", /^\d+(Ki|Mi|Gi)?$/);
    assert.ok(live.status?.allocatable?.["ephemeral-storage"]);
    assert.deepEqual(live.status?.images?.[0], { names: ["docker.io/library/busybox:1.35"], sizeBytes: 2_000_000 });
    assert.equal(live.status?.daemonEndpoints?.kubeletEndpoint?.Port, 10250);

    const wide = await srv.kubectl(["get", "nodes", "-o", "wide"]);
    assert.equal(wide.code, 0, wide.stderr);
    const [header, row] = wide.stdout.trimEnd().split("\n");
    assert.match(header!, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME$/);
    const cols = row!.split(/\s{2,}/);
    assert.deepEqual([cols[0], cols[1], cols[2], cols[4], cols[5], cols[6], cols[7], cols[8], cols[9]], ["node-a", "Ready", "worker", VERSION.gitVersion, "10.1.2.3", "<none>", readOsImage(), kernelVersion(), "fakeruntime://1.2.3"]);

    await events.idle();
    const d = await srv.kubectl(["describe", "node", "node-a"]);
    assert.equal(d.code, 0, d.stderr);
    for (const re of [
      /^Name:\s+node-a$/m,
      /^Roles:\s+worker$/m,
      /kubernetes\.io\/hostname=node-a/,
      /^Taints:\s+dedicated=infra:NoSchedule$/m,
      /^\s+MemoryPressure\s+False\s.*KubeletHasSufficientMemory\s+kubelet has sufficient memory available$/m,
      /^\s+DiskPressure\s+False\s.*KubeletHasNoDiskPressure\s+kubelet has no disk pressure$/m,
      /^\s+PIDPressure\s+False\s.*KubeletHasSufficientPID\s+kubelet has sufficient PID available$/m,
      /^\s+Ready\s+True\s.*KubeletReady\s+kubelet is posting ready status$/m,
      /^\s+InternalIP:\s+10\.1\.2\.3$/m,
      /^\s+Hostname:\s+node-a$/m,
      /^\s+pods:\s+110$/m,
      /^\s+Container Runtime Version:\s+fakeruntime:\/\/1\.2\.3$/m,
      new RegExp(`^\\s+Kubelet Version:\\s+${VERSION.gitVersion.replace(/\./g, "\\.")}$`, "m"),
      /^\s+Operating System:\s+linux$/m,
      /^\s+Normal\s+Starting\s+.*kubelet\s+Starting kubelet\.$/m,
      /^\s+Normal\s+NodeHasSufficientMemory\s+.*kubelet\s+Node node-a status is now: NodeHasSufficientMemory$/m,
    ]) {
      assert.match(d.stdout, re);
    }
  });

  void it("keeps the lease in kube-node-lease renewed, owned by the node", async () => {
    const node = await nodes().get("node-a");
    const leases = client.forKind("coordination.k8s.io/v1", "Lease").namespace("kube-node-lease");
    const first = (await leases.get("node-a")) as Lease;
    assert.equal(first.spec?.holderIdentity, "node-a");
    assert.equal(first.spec?.leaseDurationSeconds, 40);
    assert.deepEqual(first.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid]), [["Node", "node-a", node.metadata?.uid]]);
    const t0 = Date.parse(first.spec?.renewTime ?? "");
    await until("the lease renewed", async () => {
      const l = (await leases.get("node-a")) as Lease;
      return Date.parse(l.spec?.renewTime ?? "") > t0 ? l : undefined;
    });
  });

  void it("reports Ready False with the agent's message when readiness drops, and Ready again after", async () => {
    let ready = { ready: true, reason: "KubeletReady", message: "" };
    const a = agent("node-b", { readiness: () => ready, statusUpdateIntervalMs: 60_000 });
    await a.start();
    const before = condition(await nodes().get("node-b"), "Ready")!;
    ready = { ready: false, reason: "KubeletNotReady", message: "container runtime network not ready: NetworkReady=false" };
    a.requestStatusUpdate();
    const down = await until("Ready False", async () => {
      const c = condition(await nodes().get("node-b"), "Ready");
      return c?.status === "False" ? c : undefined;
    });
    assert.equal(down.reason, "KubeletNotReady");
    assert.equal(down.message, "container runtime network not ready: NetworkReady=false");
    assert.ok(Date.parse(down.lastTransitionTime!) >= Date.parse(before.lastTransitionTime!));
    const mem = condition(await nodes().get("node-b"), "MemoryPressure")!;
    ready = { ready: true, reason: "KubeletReady", message: "" };
    a.requestStatusUpdate();
    await until("Ready True", async () => (condition(await nodes().get("node-b"), "Ready")?.status === "True" ? true : undefined));
    assert.equal(condition(await nodes().get("node-b"), "MemoryPressure")?.lastTransitionTime, mem.lastTransitionTime, "an unchanged condition keeps its transition time");
    await events.idle();
    const evs = await client.forKind("v1", "Event").namespace("default").list({ fieldSelector: "involvedObject.name=node-b" });
    const reasons = evs.items.map((e) => e.reason);
    assert.ok(reasons.includes("NodeNotReady") && reasons.includes("NodeReady"), reasons.join(","));
  });

  void it("resolves podCIDRs() once the control plane sets them, and a restarted agent keeps them and others' taints", async () => {
    const a = agent("node-c");
    const first = await a.start();
    let resolved: string[] | undefined;
    const waiting = a.podCIDRs(AbortSignal.timeout(20_000)).then((c) => (resolved = c));
    await nodes().patch("node-c", "strategic", { spec: { podCIDR: "10.42.7.0/24", podCIDRs: ["10.42.7.0/24"] } });
    assert.deepEqual(await waiting, ["10.42.7.0/24"]);
    assert.deepEqual(resolved, ["10.42.7.0/24"]);
    await nodes().patch("node-c", "strategic", { spec: { taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }] } });
    await a.stop();

    const b = agent("node-c", { labels: { extra: "yes" } });
    const again = await b.start();
    assert.equal(again.metadata?.uid, first.metadata?.uid);
    assert.deepEqual(again.spec?.podCIDRs, ["10.42.7.0/24"]);
    assert.deepEqual(await b.podCIDRs(AbortSignal.timeout(1_000)), ["10.42.7.0/24"]);
    const live = await nodes().get("node-c");
    assert.deepEqual(live.spec?.taints?.map((t) => t.key), ["node.kubernetes.io/unreachable"]);
    assert.equal(live.metadata?.labels?.["extra"], "yes");
    assert.equal(live.metadata?.labels?.["kubernetes.io/hostname"], "node-c");
  });

  void it("keeps trying to register while the API server cannot be reached", async () => {
    // A TCP proxy in front of the server that drops connections while `down`.
    let down = true;
    let refused = 0;
    const target = new URL(srv.url);
    const proxy = createNetServer((sock) => {
      if (down) {
        refused++;
        sock.destroy();
        return;
      }
      const up = connect(Number(target.port), target.hostname);
      sock.pipe(up).pipe(sock);
      up.on("error", () => sock.destroy());
      sock.on("error", () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const config = await loadKubeconfig(srv.kubeconfig);
    const viaProxy = (): RestClient => new RestClient({ config: { ...config, server: `https://127.0.0.1:${(proxy.address() as AddressInfo).port}` }, qps: Infinity, maxRetries: 0 });
    const via = viaProxy();
    // A client of its own for the second agent: kept-alive connections of the first would get through.
    const via2 = viaProxy();
    try {
      const a = agent("node-e", { client: via });
      const started = a.start();
      await until("three refused attempts", () => (refused >= 3 ? true : undefined));
      down = false;
      const node = await started;
      assert.equal(node.metadata?.name, "node-e");
      await a.stop();

      down = true;
      refused = 0;
      const b = agent("node-f", { client: via2 });
      const outcome = b.start().then(
        () => "registered",
        (e: unknown) => (e as { code?: string }).code,
      );
      await until("a refused attempt", () => (refused >= 1 ? true : undefined));
      await b.stop();
      assert.equal(await outcome, "Stopped");
    } finally {
      via.close();
      via2.close();
      proxy.close();
    }
  });

  void it("podCIDRs() rejects when its signal aborts", async () => {
    const a = agent("node-d");
    await a.start();
    await assert.rejects(a.podCIDRs(AbortSignal.timeout(100)), (e: unknown) => (e as { code?: string }).code === "Stopped");
  });
});

void describe("NodeAgent with containerd", { skip: runtimeSkipReason() }, () => {
  void it("reports containerd's version and the images it holds", async () => {
    const rt = await startTestRuntime({ network: false });
    const srv = await startTestApiServer();
    const client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    const a = new NodeAgent({ client, nodeName: "rt-node", kubeletPort: 10250, cri: rt.cri, rootDir: rt.dataDir, readiness: () => ({ ready: true, reason: "", message: "" }), events: { event: () => undefined }, log });
    try {
      const node = await a.start();
      assert.match(node.status?.nodeInfo?.containerRuntimeVersion ?? "", /^containerd:\/\/\d/);
      const names = (node.status?.images ?? []).flatMap((i) => i.names ?? []);
      assert.ok(names.includes("docker.io/library/busybox:1.35"), names.join(", "));
      assert.match(a.nodeIP, /^\d+\.\d+\.\d+\.\d+$/);
    } finally {
      await a.stop();
      client.close();
      await srv.stop();
      await rt.cleanup();
    }
  });
});
