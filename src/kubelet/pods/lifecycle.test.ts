// The pod lifecycle against a real runtime (our containerd, CNI bridge) and a real API server:
// pods are created in the API with spec.nodeName, an informer feeds them to a PodLifecycle as
// the agent does, and everything is asserted through the API and CRI.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ConfigMap, EphemeralContainer, Event as CoreEvent, Pod, Secret, Service } from "kubernetes-types/core/v1.js";
import { isNotFound } from "../../client/errors.js";
import { EventRecorder } from "../../client/events.js";
import { SharedInformerFactory, type SharedInformer } from "../../client/informer.js";
import { createClientFromKubeconfig, type ResourceClient, type RestClient } from "../../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { runtimeSkipReason, startTestRuntime, type TestRuntime } from "../../testing/runtime.js";
import { until } from "../../testing/wait.js";
import { createLogger } from "../../util/log.js";
import { runningContainer } from "../server/containers.js";
import { kubeletPaths, LABEL_CONTAINER_NAME, LABEL_POD_UID, VolumeError, type KubeletPaths, type MountedVolume, type ObjectSource, type ProbeManager, type RunningContainer, type VolumeManager } from "../types.js";
import { PodLifecycle, type PodLifecycleOptions } from "./index.js";
import { StatusWriter } from "./status-writer.js";
import { podCgroupDirs } from "./cgroups.js";

const skip = runtimeSkipReason() ?? false;
const NODE = "node-a";

/** emptyDir (a directory per volume under the pod's volumes dir) and hostPath. */
class EmptyDirVolumes implements VolumeManager {
  constructor(private readonly paths: KubeletPaths) {}
  async setUpPod(pod: Pod): Promise<Map<string, MountedVolume>> {
    const out = new Map<string, MountedVolume>();
    for (const v of pod.spec?.volumes ?? []) {
      if (v.hostPath) {
        out.set(v.name, { hostPath: v.hostPath.path, readOnly: false });
        continue;
      }
      if (!v.emptyDir) throw new VolumeError(v.name, "FailedMount", `MountVolume.SetUp failed for volume "${v.name}" : only emptyDir and hostPath in this test`);
      const dir = join(this.paths.podVolumesDir(pod.metadata!.uid!), "kubernetes.io~empty-dir", v.name);
      await mkdir(dir, { recursive: true, mode: 0o777 });
      out.set(v.name, { hostPath: dir, readOnly: false });
    }
    return out;
  }
  async tearDownPod(uid: string): Promise<void> {
    await rm(this.paths.podVolumesDir(uid), { recursive: true, force: true });
  }
  podsOnDisk(): string[] {
    if (!existsSync(this.paths.podsRoot)) return [];
    return readdirSync(this.paths.podsRoot).filter((uid) => existsSync(this.paths.podVolumesDir(uid)));
  }
}

/** No probes: every started container is ready; a test can ask for a restart (a failed liveness probe). */
class FakeProbes implements ProbeManager {
  readonly restarts = new Map<string, string>();
  readonly synced = new Map<string, readonly RunningContainer[]>();
  syncPod(pod: Pod, _podIP: string | undefined, running: readonly RunningContainer[]): void {
    this.synced.set(pod.metadata!.uid!, running);
  }
  removePod(uid: string): void {
    this.synced.delete(uid);
  }
  isReady(): boolean {
    return true;
  }
  isStarted(): boolean {
    return true;
  }
  restartReason(_uid: string, containerId: string): string | undefined {
    return this.restarts.get(containerId);
  }
  onChange(): void {}
  stop(): void {}
}

function apiObjects(client: RestClient): ObjectSource {
  const orUndefined = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    configMap: (ns, name) => orUndefined(client.forKind("v1", "ConfigMap").namespace(ns).get(name) as Promise<ConfigMap>),
    secret: (ns, name) => orUndefined(client.forKind("v1", "Secret").namespace(ns).get(name) as Promise<Secret>),
    services: async (ns) => (await client.forKind("v1", "Service").namespace(ns).list()).items as Service[],
    runtimeHandler: async (name) => (await orUndefined(client.forKind("node.k8s.io/v1", "RuntimeClass").get(name)))?.handler,
    persistentVolumeClaim: (ns, name) => orUndefined(client.forKind("v1", "PersistentVolumeClaim").namespace(ns).get(name)),
    persistentVolume: (name) => orUndefined(client.forKind("v1", "PersistentVolume").get(name)),
    serviceAccountToken: () => Promise.reject(new Error("not in this test")),
  };
}

describe("pod lifecycle on a real runtime", { skip }, () => {
  let rt: TestRuntime;
  let api: TestApiServer;
  let client: RestClient;
  let pods: ResourceClient<Pod>;
  let events: EventRecorder;
  let factory: SharedInformerFactory;
  let factoryStop = new AbortController();
  let informer: SharedInformer<Pod>;
  let lifecycle: PodLifecycle;
  let options: PodLifecycleOptions;
  let probes: FakeProbes;
  const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");

  const wire = (l: PodLifecycle): void => {
    informer.addEventHandler({
      onAdd: (p) => l.update(p as Pod),
      onUpdate: (_o, p) => l.update(p as Pod),
      onDelete: (p) => l.remove((p as Pod).metadata!.uid!),
    });
  };

  const podCgroups = (uid: string): Promise<string[]> => podCgroupDirs(`/${rt.cgroupRoot}`, uid);

  /** Images "this node builds" in these tests: a pod waits for the promise instead of pulling. */
  const builds = new Map<string, Promise<boolean>>();

  before(async () => {
    rt = await startTestRuntime({ network: true });
    api = await startTestApiServer();
    client = await createClientFromKubeconfig(api.kubeconfig, { qps: Infinity });
    pods = client.forKind("v1", "Pod") as unknown as ResourceClient<Pod>;
    events = EventRecorder.forClient(client, { component: "kubelet", host: NODE, log, retryDelayMs: 100 });
    const paths = kubeletPaths(join(rt.dataDir, "kubelet"));
    probes = new FakeProbes();
    options = {
      nodeIP: "127.0.0.1",
      cri: rt.cri,
      client,
      events,
      paths,
      volumes: new EmptyDirVolumes(paths),
      probes,
      objects: apiObjects(client),
      clusterDNS: ["10.43.0.10"],
      clusterDomain: "cluster.local",
      cgroupParent: `/${rt.cgroupRoot}`,
      log,
      backoff: { initialMs: 300, maxMs: 1200 },
      builtinImages: { building: (image) => builds.get(image) },
    };
    await client.forKind("v1", "ConfigMap").namespace("default").create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" }, data: { greeting: "hello" } } as ConfigMap);
    factory = new SharedInformerFactory({ client, log, selectors: { fieldSelector: `spec.nodeName=${NODE}` } });
    informer = factory.forKind("v1", "Pod") as unknown as SharedInformer<Pod>;
    factory.start(factoryStop.signal);
    await factory.waitForCacheSync();
    lifecycle = new PodLifecycle(options);
    await lifecycle.start([]);
    wire(lifecycle);
  });

  after(async () => {
    await lifecycle?.stop();
    factoryStop.abort();
    await factory?.shutdown();
    await events?.shutdown();
    client?.close();
    await api?.stop();
    await rt?.cleanup();
  });

  const create = (name: string, spec: Pod["spec"], extra: Partial<Pod["metadata"]> = {}): Promise<Pod> =>
    pods.namespace("default").create({ apiVersion: "v1", kind: "Pod", metadata: { name, ...extra }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 2, ...spec! } });
  const get = (name: string): Promise<Pod> => pods.namespace("default").get(name);
  // On a timeout the last status seen is in the error, to tell why.
  const waitPod = (what: string, name: string, ok: (p: Pod) => boolean, ms = 30_000): Promise<Pod> =>
    until(what, async () => {
      const p = await get(name);
      if (ok(p)) return p;
      throw new Error(`last status: ${JSON.stringify(p.status)}; events: ${(await eventsOf(name)).join(" | ")}`);
    }, ms);
  const eventsOf = async (name: string): Promise<string[]> => {
    const list = await client.forKind("v1", "Event").namespace("default").list({ fieldSelector: `involvedObject.name=${name}` });
    return list.items.map((e) => `${e.reason}: ${e.message}`);
  };
  const deleteAndWait = async (name: string): Promise<void> => {
    const uid = (await get(name)).metadata!.uid!;
    await pods.namespace("default").delete(name);
    await until(`${name} gone from the API`, async () => ((await get(name).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)))) ? undefined : true), 30_000);
    await until(`${name} gone from CRI`, async () => ((await rt.cri.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: uid } })).length === 0 && (await rt.cri.listContainers({ labelSelector: { [LABEL_POD_UID]: uid } })).length === 0 ? true : undefined), 30_000);
  };

  it("runs a pod: Running with an IP, httpd answering, env from the downward API and a configMap, /etc/hosts; a graceful delete leaves nothing", async () => {
    const t0 = Date.now();
    await create("web", {
      containers: [
        {
          name: "httpd",
          image: "busybox:1.35",
          // $(GREETING) is expanded by the kubelet, $(MISSING) stays as written (and the shell sees it quoted).
          command: ["sh", "-c", "echo \"$POD_NAME $(GREETING) $POD_IP\" '$(MISSING)' > /www/index.html; exec httpd -f -p 8080 -h /www"],
          env: [
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
            { name: "GREETING", valueFrom: { configMapKeyRef: { name: "cfg", key: "greeting" } } },
            { name: "COMBINED", value: "$(GREETING)-$(POD_NAME)-$$(POD_NAME)" },
          ],
          ports: [{ containerPort: 8080 }],
          volumeMounts: [{ name: "www", mountPath: "/www" }],
          resources: { limits: { cpu: "200m", memory: "64Mi" } },
        },
      ],
      volumes: [{ name: "www", emptyDir: {} }],
    });
    const running = await waitPod("web Running", "web", (p) => p.status?.phase === "Running" && !!p.status.podIP);
    const ms = Date.now() - t0;
    process.stdout.write(`# single pod create → Running written: ${ms} ms\n`);
    const st = running.status!;
    assert.equal(st.hostIP, "127.0.0.1");
    assert.deepEqual(st.podIPs, [{ ip: st.podIP }]);
    assert.equal(st.qosClass, "Guaranteed");
    assert.ok(st.startTime);
    const cs = st.containerStatuses?.[0];
    assert.equal(cs?.name, "httpd");
    assert.ok(cs?.state?.running?.startedAt);
    assert.equal(cs?.ready, true);
    assert.equal(cs?.started, true);
    assert.equal(cs?.restartCount, 0);
    assert.match(cs?.containerID ?? "", /^containerd:\/\/[0-9a-f]{64}$/);
    assert.match(cs?.imageID ?? "", /^sha256:/);
    assert.deepEqual(
      st.conditions?.map((c) => [c.type, c.status]),
      [
        ["PodReadyToStartContainers", "True"],
        ["Initialized", "True"],
        ["Ready", "True"],
        ["ContainersReady", "True"],
        ["PodScheduled", "True"],
      ],
    );

    const body = await until("httpd answering on the pod IP", async () => {
      const r = await fetch(`http://${st.podIP}:8080/index.html`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      return r?.ok ? r.text() : undefined;
    });
    assert.equal(body, `web hello ${st.podIP} $(MISSING)\n`);
    const id = cs!.containerID!.slice("containerd://".length);
    const exec = async (cmd: string): Promise<string> => (await rt.cri.execSync(id, ["sh", "-c", cmd], 10)).stdout.toString();
    assert.equal(await exec("echo $COMBINED"), "hello-web-$(POD_NAME)\n");
    assert.match(await exec("cat /etc/hosts"), new RegExp(`^${st.podIP!.replace(/\./g, "\\.")}\\tweb$`, "m"));
    assert.match(await exec("cat /etc/resolv.conf"), /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
    assert.equal(await exec("hostname"), "web\n");
    assert.equal(await exec("cat /sys/fs/cgroup/memory/memory.limit_in_bytes"), `${64 * 1024 * 1024}\n`);
    const evs = await until("Created and Started events", async () => {
      const e = await eventsOf("web");
      return e.some((x) => x.startsWith("Started:")) ? e : undefined;
    });
    assert.ok(evs.includes("Created: Created container: httpd"), evs.join("\n"));
    assert.ok(evs.includes("Started: Started container httpd"), evs.join("\n"));
    assert.ok(evs.some((x) => x.startsWith("Pulled: Container image \"busybox:1.35\" already present")), evs.join("\n"));

    // The pod's cgroup, in every hierarchy the runtime made it in.
    const cgroups = await podCgroups(running.metadata!.uid!);
    assert.ok(cgroups.length > 0, "the pod has a cgroup");

    const t1 = Date.now();
    await deleteAndWait("web");
    process.stdout.write(`# graceful delete → object gone and CRI empty: ${Date.now() - t1} ms\n`);
    await until("pod and log dirs removed", () => (!existsSync(options.paths.podDir(running.metadata!.uid!)) && !existsSync(options.paths.podLogDir("default", "web", running.metadata!.uid!)) ? true : undefined));
    await until("the pod's cgroups removed", () => (cgroups.every((d) => !existsSync(d)) ? true : undefined));
  });

  it("restarts a failing container with growing back-off (CrashLoopBackOff) and keeps one dead instance", async () => {
    await create("crash", { containers: [{ name: "c", image: "busybox:1.35", command: ["sh", "-c", "echo boom; exit 1"] }] });
    let sawBackOff = false;
    const p = await until(
      "restartCount ≥ 3 after a CrashLoopBackOff",
      async () => {
        const pod = await get("crash");
        const cs = pod.status?.containerStatuses?.[0];
        if (cs?.state?.waiting?.reason === "CrashLoopBackOff") {
          sawBackOff = true;
          assert.match(cs.state.waiting.message ?? "", /^back-off \d+(\.\d+)?m?s restarting failed container=c pod=crash_default\(/);
        }
        return sawBackOff && (cs?.restartCount ?? 0) >= 3 ? pod : undefined;
      },
      30_000,
    );
    const cs = p.status!.containerStatuses![0]!;
    assert.equal(p.status?.phase, "Running");
    const last = cs.lastState?.terminated ?? cs.state?.terminated;
    assert.equal(last?.exitCode, 1);
    assert.equal(last?.reason, "Error");
    const uid = p.metadata!.uid!;
    await until("at most two instances kept", async () => ((await rt.cri.listContainers({ labelSelector: { [LABEL_POD_UID]: uid } })).length <= 2 ? true : undefined));
    assert.ok((await eventsOf("crash")).some((e) => e.startsWith("BackOff: Back-off restarting failed container c in pod crash_default(")));
    await deleteAndWait("crash");
  });

  it("a sidecar runs before the next init container and beside the container, and is stopped once the container is done", async () => {
    const work = [{ name: "work", mountPath: "/work" }];
    await create("sidecar", {
      restartPolicy: "Never",
      initContainers: [
        { name: "side", image: "busybox:1.35", restartPolicy: "Always", command: ["sh", "-c", 'trap "exit 0" TERM; echo up > /work/side; while true; do sleep 1; done'], volumeMounts: work },
        { name: "check", image: "busybox:1.35", command: ["sh", "-c", "for i in $(seq 20); do [ -f /work/side ] && exit 0; sleep 1; done; exit 1"], volumeMounts: work },
      ],
      containers: [{ name: "main", image: "busybox:1.35", command: ["sh", "-c", "cat /work/side > /dev/termination-log"], volumeMounts: work }],
      volumes: [{ name: "work", emptyDir: {} }],
    });
    const done = await waitPod("sidecar Succeeded", "sidecar", (p) => p.status?.phase === "Succeeded");
    const [side, check] = done.status!.initContainerStatuses!;
    assert.equal(check?.state?.terminated?.exitCode, 0, "the init container after the sidecar found what the sidecar wrote");
    const main = done.status!.containerStatuses![0]!.state?.terminated;
    assert.equal(main?.message, "up\n", "the container ran beside the sidecar");
    const sideEnd = side?.state?.terminated;
    assert.equal(sideEnd?.exitCode, 0, "the sidecar was stopped (its TERM trap exits 0)");
    assert.ok(Date.parse(sideEnd!.finishedAt!) >= Date.parse(main!.finishedAt!), "after the container");
    assert.ok((await eventsOf("sidecar")).some((e) => e.startsWith("Killing: Stopping container side")));
    await deleteAndWait("sidecar");
  });

  it("a restartPolicy Never pod that exits 0 Succeeds with its termination message; a failing init container fails its pod", async () => {
    await create("done", {
      restartPolicy: "Never",
      initContainers: [{ name: "init", image: "busybox:1.35", command: ["sh", "-c", "echo ready > /work/flag"], volumeMounts: [{ name: "work", mountPath: "/work" }] }],
      containers: [{ name: "main", image: "busybox:1.35", command: ["sh", "-c", "cat /work/flag > /dev/termination-log"], volumeMounts: [{ name: "work", mountPath: "/work" }] }],
      volumes: [{ name: "work", emptyDir: {} }],
    });
    await create("initfail", { restartPolicy: "Never", initContainers: [{ name: "init", image: "busybox:1.35", command: ["false"] }], containers: [{ name: "main", image: "busybox:1.35", command: ["true"] }] });
    const done = await waitPod("done Succeeded", "done", (p) => p.status?.phase === "Succeeded");
    const term = done.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(term?.exitCode, 0);
    assert.equal(term?.reason, "Completed");
    assert.equal(term?.message, "ready\n");
    assert.equal(done.status?.initContainerStatuses?.[0]?.state?.terminated?.reason, "Completed");
    assert.equal(done.status?.conditions?.find((c) => c.type === "Ready")?.reason, "PodCompleted");
    const uid = done.metadata!.uid!;
    await until("the finished pod's sandbox stopped, its containers kept", async () => {
      const sbs = await rt.cri.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: uid } });
      const cs = await rt.cri.listContainers({ labelSelector: { [LABEL_POD_UID]: uid } });
      return sbs.every((s) => s.state === "SANDBOX_NOTREADY") && cs.length === 2 ? true : undefined;
    });
    await create("deadline", { activeDeadlineSeconds: 1, containers: [{ name: "c", image: "busybox:1.35", command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"] }] });
    const late = await waitPod("deadline Failed", "deadline", (p) => p.status?.phase === "Failed");
    assert.equal(late.status?.reason, "DeadlineExceeded");
    assert.equal(late.status?.message, "Pod was active on the node longer than the specified deadline");
    const failed = await waitPod("initfail Failed", "initfail", (p) => p.status?.phase === "Failed");
    assert.equal(failed.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode, 1);
    assert.equal(failed.status?.containerStatuses?.[0]?.state?.waiting?.reason, "PodInitializing");
    await Promise.all([deleteAndWait("done"), deleteAndWait("initfail"), deleteAndWait("deadline")]);
  });

  it("a pod waits for an image the node is still building instead of pulling it, and pulls (and fails) if the build fails", async () => {
    const image = "k8ts.local/built:1";
    let finish!: (ok: boolean) => void;
    builds.set(image, new Promise<boolean>((r) => (finish = r)));
    await create("builtin", { containers: [{ name: "c", image, command: ["sleep", "3600"] }] });
    await until("the pod waits for the build", async () => ((await eventsOf("builtin")).some((e) => e === `Pulling: Waiting for image "${image}", which this node builds`) ? true : undefined));
    // The build's import: the image under its name in the runtime, then the build says done.
    execFileSync("ctr", ["--address", rt.containerd.socket, "-n", "k8s.io", "images", "tag", "docker.io/library/busybox:1.35", image]);
    finish(true);
    builds.delete(image);
    await waitPod("builtin Running", "builtin", (p) => p.status?.phase === "Running");
    const evs = await eventsOf("builtin");
    assert.ok(evs.some((e) => e.startsWith(`Pulled: Image "${image}" built on this node; waited `)), evs.join("\n"));
    assert.ok(!evs.some((e) => e.startsWith("Failed")), evs.join("\n"));

    // A failed build leaves the image to the pull, which fails as any pull from nowhere does.
    const broken = "k8ts.local/broken:1";
    builds.set(broken, Promise.resolve(false));
    await create("unbuilt", { containers: [{ name: "c", image: broken, command: ["sleep", "3600"] }] });
    await waitPod("ErrImagePull", "unbuilt", (p) => ["ErrImagePull", "ImagePullBackOff"].includes(p.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? ""));
    builds.delete(broken);
    await Promise.all(["builtin", "unbuilt"].map(deleteAndWait));
  });

  it("bad input ends in upstream's reasons: ErrImagePull/ImagePullBackOff, CreateContainerConfigError, RunContainerError, a taken host port", async () => {
    await create("noimage", { containers: [{ name: "c", image: "127.0.0.1:1/k8ts/absent:1" }] });
    await create("nokey", { containers: [{ name: "c", image: "busybox:1.35", command: ["sleep", "3600"], env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "nope" } } }] }] });
    await create("nocm", { containers: [{ name: "c", image: "busybox:1.35", command: ["sleep", "3600"], envFrom: [{ configMapRef: { name: "absent" } }] }] });
    await create("badcmd", { containers: [{ name: "c", image: "busybox:1.35", command: ["/no/such/binary"] }] });
    await create("never", { containers: [{ name: "c", image: "k8ts.local/absent:1", imagePullPolicy: "Never" }] });
    await create("badvol", { containers: [{ name: "c", image: "busybox:1.35", command: ["sleep", "3600"] }], volumes: [{ name: "v", configMap: { name: "cfg" } }] });
    await create("port1", { containers: [{ name: "c", image: "busybox:1.35", command: ["sleep", "3600"], ports: [{ containerPort: 80, hostPort: 18080 }] }] });
    await waitPod("port1 Running", "port1", (p) => p.status?.phase === "Running");
    await create("port2", { containers: [{ name: "c", image: "busybox:1.35", command: ["sleep", "3600"], ports: [{ containerPort: 80, hostPort: 18080 }] }] });

    const reasons = new Set<string>();
    await waitPod("ErrImagePull then ImagePullBackOff", "noimage", (p) => {
      const r = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (r) reasons.add(r);
      return reasons.has("ErrImagePull") && reasons.has("ImagePullBackOff");
    });
    const nokey = await waitPod("CreateContainerConfigError", "nokey", (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CreateContainerConfigError");
    assert.equal(nokey.status?.containerStatuses?.[0]?.state?.waiting?.message, "couldn't find key nope in ConfigMap default/cfg");
    assert.equal(nokey.status?.phase, "Pending");
    const nocm = await waitPod("CreateContainerConfigError", "nocm", (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CreateContainerConfigError");
    assert.equal(nocm.status?.containerStatuses?.[0]?.state?.waiting?.message, 'configmap "absent" not found');
    const seen = new Set<string>();
    await waitPod("RunContainerError", "badcmd", (p) => {
      const r = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (r) seen.add(r);
      return seen.has("RunContainerError");
    });
    const never = await waitPod("ErrImageNeverPull", "never", (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ErrImageNeverPull");
    assert.equal(never.status?.containerStatuses?.[0]?.state?.waiting?.message, 'Container image "k8ts.local/absent:1" is not present with pull policy of Never');
    const badvol = await waitPod("FailedMount", "badvol", (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ContainerCreating");
    assert.equal(badvol.status?.phase, "Pending");
    await until("a FailedMount event", async () => ((await eventsOf("badvol")).some((e) => e.startsWith('FailedMount: MountVolume.SetUp failed for volume "v"')) ? true : undefined));
    const port2 = await waitPod("port2 rejected", "port2", (p) => p.status?.phase === "Failed");
    assert.equal(port2.status?.reason, "NodePorts");
    // Events are written a moment after the status that they explain: wait for them.
    let evs: string[] = [];
    await until("the pull's events", async () => {
      evs = await eventsOf("noimage");
      return evs.includes("Failed: Error: ErrImagePull") && evs.includes("Failed: Error: ImagePullBackOff") ? true : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; events:\n${evs.join("\n")}`);
    });
    assert.ok(evs.some((e) => e.startsWith('Failed: Failed to pull image "127.0.0.1:1/k8ts/absent:1"')), evs.join("\n"));
    assert.ok((await eventsOf("nokey")).includes("Failed: Error: couldn't find key nope in ConfigMap default/cfg"));
    await Promise.all(["noimage", "nokey", "nocm", "badcmd", "never", "badvol", "port1", "port2"].map(deleteAndWait));
  });

  it("a failed liveness probe restarts the container; a memory hog is OOMKilled (lastState)", async () => {
    await create("live", { containers: [{ name: "c", image: "busybox:1.35", command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"] }] });
    await create("hog", {
      containers: [{ name: "hog", image: "busybox:1.35", command: ["sh", "-c", 's=xxxxxxxxxxxxxxxx; while true; do s="$s$s"; done'], resources: { limits: { memory: "20Mi" } } }],
    });
    const live = await waitPod("live Running", "live", (p) => p.status?.containerStatuses?.[0]?.state?.running !== undefined);
    const first = live.status!.containerStatuses![0]!.containerID!.slice("containerd://".length);
    probes.restarts.set(first, "Container c failed liveness probe, will be restarted");
    lifecycle.resync(live.metadata!.uid!);
    const restarted = await waitPod("live restarted", "live", (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && p.status?.containerStatuses?.[0]?.state?.running !== undefined);
    assert.notEqual(restarted.status!.containerStatuses![0]!.containerID, `containerd://${first}`);
    assert.ok((await eventsOf("live")).includes("Killing: Container c failed liveness probe, will be restarted"));

    const hog = await waitPod("hog OOMKilled", "hog", (p) => p.status?.containerStatuses?.[0]?.lastState?.terminated?.reason === "OOMKilled", 40_000);
    assert.equal(hog.status!.containerStatuses![0]!.lastState!.terminated!.exitCode, 137);
    await Promise.all([deleteAndWait("live"), deleteAndWait("hog")]);
  });

  it("a dead sandbox is replaced (SandboxChanged), a changed image restarts its container, hooks run, host network pods use the node's address", async () => {
    const hostDir = join(rt.dataDir, "hooks");
    await mkdir(hostDir, { recursive: true });
    const loop = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"];
    await create("sb", { containers: [{ name: "c", image: "busybox:1.35", command: loop }] });
    await create("hooks", {
      containers: [
        {
          name: "c",
          image: "busybox:1.35",
          command: loop,
          volumeMounts: [{ name: "host", mountPath: "/host" }],
          lifecycle: { postStart: { exec: { command: ["sh", "-c", "echo started > /host/poststart"] } }, preStop: { exec: { command: ["sh", "-c", "echo stopping > /host/prestop"] } } },
        },
      ],
      volumes: [{ name: "host", hostPath: { path: hostDir } }],
    });
    await create("badhook", { containers: [{ name: "c", image: "busybox:1.35", command: loop, lifecycle: { postStart: { exec: { command: ["false"] } } } }] });
    await create("hostnet", { hostNetwork: true, containers: [{ name: "c", image: "busybox:1.35", command: loop }] });

    // The sandbox dies under the pod: a new one (attempt 1) and the container again, counted.
    // The container may be restarted once more on the way: a relist can see it exited while its
    // sandbox, still being stopped, is ready, and a start into that sandbox fails or lasts only
    // until the sandbox is seen gone (upstream's kubelet has the same window).
    const sb = await waitPod("sb Running", "sb", (p) => p.status?.containerStatuses?.[0]?.state?.running !== undefined);
    const [old] = await rt.cri.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: sb.metadata!.uid! } });
    await rt.cri.stopPodSandbox(old!.id);
    const newSandbox = async (): Promise<boolean> => (await rt.cri.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: sb.metadata!.uid! } })).some((s) => s.state === "SANDBOX_READY" && s.metadata?.attempt === 1);
    const again = await until("sb running in a new sandbox", async () => {
      const p = await get("sb");
      const c = p.status?.containerStatuses?.[0];
      if ((c?.restartCount ?? 0) >= 1 && c?.state?.running !== undefined && (await newSandbox())) return p;
      const sandboxes = await rt.cri.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: sb.metadata!.uid! } });
      throw new Error(`last status: ${JSON.stringify(p.status)}; sandboxes: ${JSON.stringify(sandboxes.map((s) => [s.state, s.metadata]))}; events: ${(await eventsOf("sb")).join(" | ")}`);
    }, 30_000);
    assert.ok((await eventsOf("sb")).includes("SandboxChanged: Pod sandbox changed, it will be killed and re-created."));
    assert.ok(again.status?.podIP);

    // A new image for the container: it is replaced.
    const before = again.status!.containerStatuses![0]!.containerID;
    await pods.namespace("default").patch("sb", "json", [{ op: "replace", path: "/spec/containers/0/image", value: "docker.io/library/busybox:1.35" }]);
    const replaced = await waitPod("sb's container replaced", "sb", (p) => p.status?.containerStatuses?.[0]?.containerID !== before && p.status?.containerStatuses?.[0]?.state?.running !== undefined);
    assert.equal(replaced.status?.containerStatuses?.[0]?.restartCount, again.status!.containerStatuses![0]!.restartCount + 1);
    assert.ok((await eventsOf("sb")).includes("Killing: Container c definition changed, will be restarted"));

    // postStart ran; preStop runs on delete, before the container is stopped.
    await waitPod("hooks Running", "hooks", (p) => p.status?.phase === "Running");
    await until("postStart hook ran", () => (existsSync(join(hostDir, "poststart")) ? true : undefined));
    await deleteAndWait("hooks");
    assert.ok(existsSync(join(hostDir, "prestop")), "preStop hook ran");

    // A failing postStart hook kills the container: FailedPostStartHook, then restarts.
    await waitPod("badhook restarted", "badhook", (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1);
    assert.ok((await eventsOf("badhook")).some((e) => e.startsWith("FailedPostStartHook: ")));

    const hn = await waitPod("hostnet Running", "hostnet", (p) => p.status?.phase === "Running");
    assert.equal(hn.status?.podIP, "127.0.0.1");
    const hid = hn.status!.containerStatuses![0]!.containerID!.slice("containerd://".length);
    assert.match((await rt.cri.execSync(hid, ["cat", "/etc/hosts"], 10)).stdout.toString(), /^# Kubernetes-managed hosts file \(host network\)\.\n/);
    await Promise.all(["sb", "badhook", "hostnet"].map(deleteAndWait));
  });

  it("ephemeral containers (kubectl debug --target): started once in the running pod, they see the target's processes, are never restarted, and exec finds them by name", async () => {
    await create("debugme", { containers: [{ name: "app", image: "busybox:1.35", command: ["sleep", "3600"] }] });
    const before = await waitPod("debugme Running", "debugme", (p) => p.status?.phase === "Running" && p.status.containerStatuses?.[0]?.state?.running !== undefined);
    const uid = before.metadata!.uid!;
    // Succeeds only if the target's `sleep 3600` is among this container's processes (compared
    // whole, so the debugger's own command lines never match).
    const seesTarget = `for f in /proc/[0-9]*/cmdline; do [ "$(tr '\\0' ' ' < $f)" = "sleep 3600 " ] && THEN; done; echo "no target process"; exit 1`;
    const ecs: EphemeralContainer[] = [
      { name: "debugger", image: "busybox:1.35", targetContainerName: "app", command: ["sh", "-c", seesTarget.replace("THEN", "exec sleep 3600")], stdin: true, tty: true },
      { name: "once", image: "busybox:1.35", targetContainerName: "app", command: ["sh", "-c", seesTarget.replace("THEN", "exit 0")] },
    ];
    // The way kubectl debug adds them.
    await pods.namespace("default").patch("debugme", "strategic", { spec: { ephemeralContainers: ecs } }, { subresource: "ephemeralcontainers" });

    const eph = (p: Pod, name: string) => p.status?.ephemeralContainerStatuses?.find((s) => s.name === name);
    const seen = await waitPod("both ephemeral containers ran", "debugme", (p) => eph(p, "debugger")?.state?.running !== undefined && eph(p, "once")?.state?.terminated !== undefined);
    const once = eph(seen, "once")!;
    assert.equal(once.state?.terminated?.exitCode, 0, "the target's process is visible to the ephemeral container");
    assert.equal(once.state?.terminated?.reason, "Completed");
    assert.deepEqual(
      seen.status?.ephemeralContainerStatuses?.map((s) => [s.name, s.ready, s.restartCount, s.image, /^sha256:/.test(s.imageID), /^containerd:\/\//.test(s.containerID ?? "")]),
      [
        ["debugger", false, 0, "docker.io/library/busybox:1.35", true, true],
        ["once", false, 0, "docker.io/library/busybox:1.35", true, true],
      ],
    );
    assert.equal(seen.status?.phase, "Running");
    assert.equal(seen.status?.conditions?.find((c) => c.type === "Ready")?.status, "True", "unready ephemeral containers leave the pod Ready");
    assert.equal(seen.status?.containerStatuses?.[0]?.containerID, before.status?.containerStatuses?.[0]?.containerID, "the target is not restarted");

    // The server's lookup (exec, attach) finds the ephemeral container by name; in the target's
    // process namespace, PID 1 is the target's sleep.
    const debugger_ = await runningContainer(rt.cri, "default", "debugme", "debugger", uid);
    assert.equal(`containerd://${debugger_.id}`, eph(seen, "debugger")?.containerID);
    assert.equal((await rt.cri.execSync(debugger_.id, ["cat", "/proc/1/cmdline"], 10)).stdout.toString(), "sleep\u00003600\u0000");

    // An exited one is not started again, however often the pod is synced.
    lifecycle.resync(uid);
    await lifecycle.idle();
    lifecycle.resync(uid);
    await lifecycle.idle();
    const onceRuns = await rt.cri.listContainers({ labelSelector: { [LABEL_POD_UID]: uid, [LABEL_CONTAINER_NAME]: "once" } });
    assert.equal(onceRuns.length, 1);
    assert.equal(eph(await get("debugme"), "once")?.containerID, once.containerID);

    const debuggerEvents = await until("the debugger's Started event", async () => {
      const list = await client.forKind("v1", "Event").namespace("default").list({ fieldSelector: "involvedObject.name=debugme" });
      const mine = (list.items as CoreEvent[]).filter((e) => e.involvedObject.fieldPath === "spec.ephemeralContainers{debugger}").map((e) => `${e.reason}: ${e.message}`);
      return mine.includes("Started: Started container debugger") ? mine : undefined;
    });
    assert.ok(debuggerEvents.includes("Created: Created container: debugger"), debuggerEvents.join("\n"));
    await deleteAndWait("debugme");
  });

  it("status writes: a pod replaced under the same name is not written to; a static pod reports through its mirror pod", async () => {
    const first = await create("same", { containers: [{ name: "c", image: "busybox:1.35", imagePullPolicy: "Never" }] });
    await pods.namespace("default").delete("same", { gracePeriodSeconds: 0 });
    await until("same deleted", async () => ((await get("same").catch(() => undefined)) ? undefined : true));
    const second = await pods.namespace("default").create({ apiVersion: "v1", kind: "Pod", metadata: { name: "same" }, spec: { nodeName: "elsewhere", containers: [{ name: "c", image: "busybox:1.35" }] } });
    const writer = new StatusWriter(client, log);
    writer.set(first, { phase: "Failed", reason: "Stale" });
    await writer.idle();
    const now = await get("same");
    assert.equal(now.metadata?.uid, second.metadata?.uid);
    assert.equal(now.status?.phase, "Pending", "the new pod keeps its own status");
    // The final write and delete of a pod that is already gone end at once, and do not touch the new pod.
    await writer.finish(first, { phase: "Failed", reason: "Stale" });
    assert.equal((await get("same")).metadata?.uid, second.metadata?.uid);
    await writer.stop();
    await pods.namespace("default").delete("same", { gracePeriodSeconds: 0 });

    // A static pod: not in the API itself; its mirror pod (same name, the config hash as mirror annotation) gets the status.
    const hash = "0123456789abcdef";
    const mirror = await pods.namespace("default").create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "static-node-a", annotations: { "kubernetes.io/config.mirror": hash, "kubernetes.io/config.source": "file", "kubernetes.io/config.hash": hash } },
      spec: { nodeName: "elsewhere", containers: [{ name: "c", image: "busybox:1.35" }] },
    });
    const staticPod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "static-node-a", namespace: "default", uid: hash, annotations: { "kubernetes.io/config.source": "file", "kubernetes.io/config.hash": hash } },
      spec: { nodeName: NODE, terminationGracePeriodSeconds: 2, containers: [{ name: "c", image: "busybox:1.35", command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"] }] },
    };
    lifecycle.update(staticPod);
    const m = await waitPod("mirror pod Running", "static-node-a", (p) => p.status?.phase === "Running");
    assert.equal(m.metadata?.uid, mirror.metadata?.uid);
    assert.ok(lifecycle.pods().some((p) => p.metadata?.uid === hash && p.status?.phase === "Running"));
    lifecycle.remove(hash);
    await until("static pod removed from CRI", async () => ((await rt.cri.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: hash } })).length === 0 ? true : undefined));
    await pods.namespace("default").delete("static-node-a", { gracePeriodSeconds: 0 });
  });

  it("starts 30 pods created at once concurrently (prints create → Running as a watch sees it)", async () => {
    const n = 30;
    const created = new Map<string, number>();
    const runningAt = new Map<string, number>();
    const reg = informer.addEventHandler({
      onUpdate: (_o, p) => {
        const name = (p as Pod).metadata?.name ?? "";
        if (created.has(name) && !runningAt.has(name) && (p as Pod).status?.phase === "Running") runningAt.set(name, Date.now());
      },
    });
    try {
      const names = Array.from({ length: n }, (_, i) => `many-${i}`);
      await Promise.all(
        names.map(async (name) => {
          created.set(name, Date.now());
          await create(name, { containers: [{ name: "c", image: "busybox:1.35", command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"] }] });
        }),
      );
      await until("all 30 Running", () => (runningAt.size === n ? true : undefined), 60_000);
      const ms = names.map((x) => runningAt.get(x)! - created.get(x)!).sort((a, b) => a - b);
      process.stdout.write(`# ${n} pods at once, create → Running (watch): p50 ${ms[Math.floor(n / 2)]} ms, p99 ${ms[n - 1]} ms, min ${ms[0]} ms\n`);
      await Promise.all(names.map(deleteAndWait));

      // The baseline: the same 30 sandboxes and containers started through CRI alone.
      const t0 = Date.now();
      const raw = await Promise.all(
        names.map(async (name, i) => {
          const uid = `raw-${i}`;
          const logDirectory = join(rt.dataDir, "raw", uid);
          await mkdir(join(logDirectory, "c"), { recursive: true });
          const config = { metadata: { name, namespace: "raw", uid, attempt: 0 }, hostname: name, logDirectory, linux: { cgroupParent: `/${rt.cgroupRoot}/pod${uid}` } };
          const sb = await rt.cri.runPodSandbox(config);
          const id = await rt.cri.createContainer(sb, { metadata: { name: "c", attempt: 0 }, image: { image: "busybox:1.35" }, command: ["sleep", "3600"], logPath: "c/0.log" }, config);
          await rt.cri.startContainer(id);
          return { sb, ms: Date.now() - t0 };
        }),
      );
      const rawMs = raw.map((r) => r.ms).sort((a, b) => a - b);
      process.stdout.write(`# the same through CRI alone (no API, no kubelet): p50 ${rawMs[Math.floor(n / 2)]} ms, p99 ${rawMs[n - 1]} ms\n`);
      for (const r of raw) {
        await rt.cri.stopPodSandbox(r.sb);
        await rt.cri.removePodSandbox(r.sb);
      }
    } finally {
      reg.remove();
    }
  });

  it("a new PodLifecycle adopts running containers without restarting them and removes pods no longer bound", async () => {
    await create("keep", { containers: [{ name: "c", image: "busybox:1.35", command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"] }] });
    await create("drop", { containers: [{ name: "c", image: "busybox:1.35", command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"] }] });
    const keep = await waitPod("keep Running", "keep", (p) => p.status?.phase === "Running");
    const drop = await waitPod("drop Running", "drop", (p) => p.status?.phase === "Running");
    const id = keep.status!.containerStatuses![0]!.containerID;

    // The agent stops; while it is down, "drop" is force-deleted from the API.
    await lifecycle.stop();
    factoryStop.abort();
    await factory.shutdown();
    factoryStop = new AbortController();
    await pods.namespace("default").delete("drop", { gracePeriodSeconds: 0 });
    // A pod removed earlier that left nothing but an empty cgroup (as pods did before the kubelet
    // removed their cgroups): the restarted kubelet removes it too.
    const staleCgroup = join((await podCgroups(keep.metadata!.uid!))[0]!, "..", "pod00000000-stale");
    await mkdir(staleCgroup);
    factory = new SharedInformerFactory({ client, log, selectors: { fieldSelector: `spec.nodeName=${NODE}` } });
    informer = factory.forKind("v1", "Pod") as unknown as SharedInformer<Pod>;
    factory.start(factoryStop.signal);
    await factory.waitForCacheSync();
    lifecycle = new PodLifecycle(options);
    await lifecycle.start(informer.lister.list() as Pod[]);
    wire(lifecycle);

    const dropUid = drop.metadata!.uid!;
    await until("the unbound pod removed from CRI", async () => ((await rt.cri.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: dropUid } })).length === 0 ? true : undefined));
    await lifecycle.idle();
    const after = await get("keep");
    assert.equal(after.status?.containerStatuses?.[0]?.containerID, id, "same container");
    assert.equal(after.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.equal(after.status?.phase, "Running");
    assert.ok(lifecycle.pods().some((p) => p.metadata?.name === "keep"));
    const dirs = await readdir(options.paths.podsRoot).catch(() => [] as string[]);
    assert.ok(!dirs.includes(dropUid), "the unbound pod's dir is gone");
    assert.ok(!existsSync(staleCgroup), "the stale pod cgroup is gone");
    await until("the unbound pod's cgroups removed", async () => ((await podCgroups(dropUid)).length === 0 ? true : undefined));
    assert.ok((await podCgroups(keep.metadata!.uid!)).length > 0, "the adopted pod keeps its cgroup");
    await deleteAndWait("keep");
  });
});
