// The CRI path end to end, as root: our containerd, the built-in images, a pod sandbox on a CNI
// bridge network, a busybox httpd container reached from the host by its pod IP and through a
// loopback host port, exec, logs, stats, stop and removal with nothing left behind. Prints the
// sandbox and container start times beside a raw `runc run` of the same image.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { leasedAddresses, measureRawRunc, runtimeSkipReason, startTestRuntime } from "../../testing/runtime.js";
import { BUSYBOX_IMAGE, PAUSE_IMAGE } from "../images/builtin.js";
import { ensureBuiltinImages, importImageArchive } from "../images/import.js";
import { buildOciImage } from "../images/oci.js";
import { isCriError, type Input, type PodSandboxConfig } from "./client.js";

const skip = runtimeSkipReason() ?? false;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(20);
  }
}

async function freeLoopbackPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  assert.ok(addr && typeof addr === "object");
  return addr.port;
}

async function httpGet(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

function ipInCIDR(ip: string, cidr: string): boolean {
  const [net = "", bits = "32"] = cidr.split("/");
  const n = (s: string): number => s.split(".").reduce((a, o) => a * 256 + Number(o), 0);
  const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
  return ((n(ip) & mask) >>> 0) === ((n(net) & mask) >>> 0);
}

function links(): string {
  return execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" });
}

describe("CRI on our containerd", { skip }, () => {
  it("runs a pod with networking, exec, logs and stats, then leaves nothing behind", async (t) => {
    const rt = await startTestRuntime({ network: true });
    const { cri, runId } = rt;
    try {
      // ---- runtime and images ----
      const version = await cri.version();
      assert.equal(version.runtimeName, "containerd");
      assert.equal(version.runtimeApiVersion, "v1");
      const conditions = (await cri.status()).status?.conditions ?? [];
      assert.deepEqual(conditions.filter((c) => c.status).map((c) => c.type).sort(), ["NetworkReady", "RuntimeReady"]);

      assert.deepEqual(rt.images.map((i) => [i.reference, i.imported]).sort(), [[BUSYBOX_IMAGE, true], [PAUSE_IMAGE, true]].sort());
      const again = await ensureBuiltinImages(cri, { address: rt.containerd.socket, archiveDir: join(rt.dataDir, "images") });
      assert.ok(again.every((i) => !i.imported), "a second ensureBuiltinImages imports nothing");
      const busybox = (await cri.imageStatus(BUSYBOX_IMAGE)).image;
      assert.ok(busybox);
      assert.deepEqual(busybox.repoTags, [BUSYBOX_IMAGE]);
      assert.ok(busybox.size > 500_000);
      assert.ok((await cri.listImages()).some((i) => i.repoTags.includes(PAUSE_IMAGE)));
      assert.equal((await cri.imageStatus("docker.io/library/busybox:0.0-absent")).image, null);
      // Nothing listens on port 1: a pull fails at once (the kubelet's ErrImagePull path).
      await assert.rejects(cri.pullImage("127.0.0.1:1/k8ts/absent:1", undefined, undefined, { timeoutMs: 20_000 }), (e: unknown) => isCriError(e) && /127\.0\.0\.1:1/.test(e.details));
      const fsInfo = await cri.imageFsInfo();
      assert.ok(fsInfo.imageFilesystems[0]?.fsId?.mountpoint.startsWith(rt.dataDir));

      // An image archive of our own, imported and removed.
      const testRef = `k8ts.local/test-${runId}:1`;
      const archive = join(rt.dataDir, "test-image.tar");
      writeFileSync(archive, buildOciImage({ reference: testRef, layer: [{ type: "file", path: "hello", mode: 0o644, data: Buffer.from("hi") }], config: { Cmd: ["/hello"] } }).archive);
      assert.deepEqual(await importImageArchive(archive, { address: rt.containerd.socket }), [testRef]);
      assert.ok((await cri.imageStatus(testRef)).image);
      await cri.removeImage(testRef);
      assert.equal((await cri.imageStatus(testRef)).image, null);

      // ---- the pod ----
      const uid = `uid-${runId}`;
      const logDirectory = join(rt.dataDir, "pods", uid);
      mkdirSync(logDirectory, { recursive: true });
      const hostPort = await freeLoopbackPort();
      const sandboxConfig: Input<PodSandboxConfig> = {
        metadata: { name: "web", namespace: "default", uid, attempt: 0 },
        hostname: `web-${runId}`,
        logDirectory,
        dnsConfig: { servers: ["10.43.0.10"], searches: ["default.svc.cluster.local", "svc.cluster.local"], options: ["ndots:5"] },
        portMappings: [{ protocol: "TCP", containerPort: 8080, hostPort, hostIp: "127.0.0.1" }],
        labels: { "k8ts.test/run": runId },
        annotations: { "k8ts.test/note": "runtime.test" },
        linux: { cgroupParent: `/${rt.cgroupRoot}/pod${uid}`, securityContext: { namespaceOptions: { network: "POD", pid: "CONTAINER", ipc: "POD" } } },
      };

      const t0 = performance.now();
      const sandboxId = await cri.runPodSandbox(sandboxConfig);
      const t1 = performance.now();
      const containerId = await cri.createContainer(
        sandboxId,
        {
          metadata: { name: "httpd", attempt: 0 },
          image: { image: BUSYBOX_IMAGE },
          command: ["sh", "-c", `echo started-${runId}; exec httpd -f -v -p 8080`],
          envs: [{ key: "K8TS_RUN", value: runId }],
          workingDir: "/var/www",
          logPath: "httpd/0.log",
          labels: { "k8ts.test/run": runId },
        },
        sandboxConfig,
      );
      const t2 = performance.now();
      await cri.startContainer(containerId);
      const t3 = performance.now();

      const sandbox = (await cri.podSandboxStatus(sandboxId)).status;
      assert.ok(sandbox);
      assert.equal(sandbox.state, "SANDBOX_READY");
      assert.deepEqual(sandbox.metadata, { name: "web", namespace: "default", uid, attempt: 0 });
      assert.equal(sandbox.labels["k8ts.test/run"], runId);
      const podIP = sandbox.network?.ip ?? "";
      assert.ok(ipInCIDR(podIP, rt.podCIDR), `pod IP ${podIP} in ${rt.podCIDR}`);
      assert.deepEqual(leasedAddresses(rt.ipamDir), [podIP]);
      assert.match(execFileSync("ip", ["-o", "link", "show", "master", rt.bridge], { encoding: "utf8" }), /veth/);

      const status = (await cri.containerStatus(containerId)).status;
      assert.ok(status);
      assert.equal(status.state, "CONTAINER_RUNNING");
      assert.ok(status.startedAt > 0);
      assert.equal(status.imageRef, busybox.id);
      assert.equal(status.logPath, join(logDirectory, "httpd/0.log"));
      const listed = await cri.listContainers({ podSandboxId: sandboxId, labelSelector: { "k8ts.test/run": runId } });
      assert.deepEqual(listed.map((c) => [c.id, c.state]), [[containerId, "CONTAINER_RUNNING"]]);
      assert.deepEqual((await cri.listPodSandbox({ labelSelector: { "k8ts.test/run": runId } })).map((s) => s.id), [sandboxId]);

      // ---- exec ----
      const hostname = await cri.execSync(containerId, ["cat", "/etc/hostname"], 10);
      assert.equal(hostname.exitCode, 0);
      assert.equal(hostname.stdout.toString().trim(), `web-${runId}`);
      const failing = await cri.execSync(containerId, ["sh", "-c", "echo oops >&2; exit 3"], 10);
      assert.equal(failing.exitCode, 3);
      assert.equal(failing.stderr.toString(), "oops\n");
      const inside = (await cri.execSync(containerId, ["sh", "-c", "cat /etc/resolv.conf; echo ---; ip -o addr show lo; echo ---; echo $K8TS_RUN; pwd"], 10)).stdout.toString();
      assert.match(inside, /nameserver 10\.43\.0\.10/);
      assert.match(inside, /search default\.svc\.cluster\.local svc\.cluster\.local/);
      assert.match(inside, /options ndots:5/);
      assert.match(inside, /inet 127\.0\.0\.1\/8/);
      assert.match(inside, new RegExp(`---\\n${runId}\\n/var/www\\n$`));
      assert.equal((await cri.execSync(containerId, ["sh", "-c", `echo hello-${runId} > /var/www/index.html`], 10)).exitCode, 0);

      // ---- the host reaches the pod: by its IP on the bridge, and by the loopback host port ----
      const body = await waitFor("httpd answering on the pod IP", () => httpGet(`http://${podIP}:8080/index.html`));
      assert.equal(body, `hello-${runId}\n`);
      assert.equal(await waitFor("the host port answering", () => httpGet(`http://127.0.0.1:${hostPort}/index.html`)), `hello-${runId}\n`);
      assert.ok(rt.natRules().some((r) => r.includes(`--dports ${hostPort} `)), "portmap's DNAT jump for the host port carries the network name");

      // ---- streaming URLs come from containerd's streaming server on loopback ----
      for (const url of [
        await cri.exec({ containerId, cmd: ["sh"], stdin: true, stdout: true, stderr: true }),
        await cri.attach({ containerId, stdout: true, stderr: true }),
        await cri.portForward(sandboxId, [8080]),
      ])
        assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/(exec|attach|portforward)\/\S+$/);

      // ---- logs, in the CRI format, where the kubelet asked ----
      const log = await waitFor("the container log", () => {
        const text = existsSync(status.logPath) ? readFileSync(status.logPath, "utf8") : "";
        return text.includes(`started-${runId}`) ? text : undefined;
      });
      assert.match(log, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+ stdout F started-${runId}$`, "m"));

      // ---- stats ----
      const cstats = await cri.containerStats(containerId);
      assert.equal(cstats?.attributes?.id, containerId);
      assert.ok((cstats?.memory?.workingSetBytes?.value ?? 0) > 0);
      assert.ok((cstats?.cpu?.usageCoreNanoSeconds?.value ?? 0) > 0);
      assert.ok((await cri.listContainerStats({ podSandboxId: sandboxId })).some((s) => s.attributes?.id === containerId));
      const pstats = await cri.listPodSandboxStats({ id: sandboxId });
      assert.equal(pstats[0]?.attributes?.id, sandboxId);
      assert.ok((pstats[0]?.linux?.memory?.workingSetBytes?.value ?? 0) > 0);
      assert.equal(pstats[0]?.linux?.network?.defaultInterface?.name, "eth0");
      assert.deepEqual(pstats[0]?.linux?.containers.map((c) => c.attributes?.id), [containerId]);

      // ---- stop and remove ----
      await cri.stopContainer(containerId, 10);
      const stopped = (await cri.containerStatus(containerId)).status;
      assert.equal(stopped?.state, "CONTAINER_EXITED");
      assert.ok((stopped?.finishedAt ?? 0) >= (stopped?.startedAt ?? 0));
      await cri.removeContainer(containerId);
      await assert.rejects(cri.containerStatus(containerId), (e: unknown) => isCriError(e, "NotFound"));
      await cri.stopPodSandbox(sandboxId);
      assert.equal((await cri.podSandboxStatus(sandboxId)).status?.state, "SANDBOX_NOTREADY");
      await cri.stopPodSandbox(sandboxId); // idempotent, as CRI requires
      await cri.removePodSandbox(sandboxId);
      await cri.removePodSandbox(sandboxId);

      assert.deepEqual(await cri.listPodSandbox(), []);
      assert.deepEqual(await cri.listContainers(), []);
      assert.equal(execFileSync("ip", ["-o", "link", "show", "master", rt.bridge], { encoding: "utf8" }), "", "no veth left on the bridge");
      assert.deepEqual(leasedAddresses(rt.ipamDir), [], "the pod's address lease is released");
      assert.deepEqual(rt.natRules(), [], "no nat rule of this network is left");
      execFileSync("ip", ["link", "del", rt.bridge]);
      assert.ok(!links().includes(`${rt.bridge}:`), "bridge deleted");

      const rawRunc = await measureRawRunc(5);
      const timings = {
        runPodSandboxMs: Math.round(t1 - t0),
        createContainerMs: Math.round(t2 - t1),
        startContainerMs: Math.round(t3 - t2),
        sandboxPlusContainerMs: Math.round(t3 - t0),
        rawRuncRunMedianMs: Math.round(rawRunc.medianMs * 10) / 10,
        rawRuncRunsMs: rawRunc.runsMs.map((ms) => Math.round(ms * 10) / 10),
      };
      t.diagnostic(`timings ${JSON.stringify(timings)}`);
    } finally {
      await rt.cleanup();
    }
    assert.equal(existsSync(rt.dataDir), false, "data dir removed");
    assert.ok(!links().includes(`${rt.bridge}:`), "bridge gone");
    assert.equal(existsSync(`/sys/fs/cgroup/memory/${rt.cgroupRoot}`), false, "cgroups removed");
  });

  it("host-network pod sharing one PID namespace: the pause process reaps orphans", async () => {
    const rt = await startTestRuntime({ network: false });
    try {
      const { cri, runId } = rt;
      const uid = `uid-${runId}`;
      const logDirectory = join(rt.dataDir, "pods", uid);
      mkdirSync(logDirectory, { recursive: true });
      const shared = { namespaceOptions: { network: "NODE" as const, pid: "POD" as const, ipc: "POD" as const } };
      const sandboxConfig: Input<PodSandboxConfig> = {
        metadata: { name: "shared", namespace: "default", uid },
        logDirectory,
        linux: { cgroupParent: `/${rt.cgroupRoot}/pod${uid}`, securityContext: shared },
      };
      const sandboxId = await cri.runPodSandbox(sandboxConfig);
      const containerId = await cri.createContainer(
        sandboxId,
        { metadata: { name: "main" }, image: { image: BUSYBOX_IMAGE }, command: ["sleep", "3600"], logPath: "main/0.log", linux: { securityContext: shared } },
        sandboxConfig,
      );
      await cri.startContainer(containerId);
      assert.equal((await cri.podSandboxStatus(sandboxId)).status?.linux?.namespaces?.options?.network, "NODE");
      // Each subshell exits at once, so its sleep is re-parented to PID 1 (the pause shell),
      // which must collect it when it ends.
      const ps = await cri.execSync(containerId, ["sh", "-c", "(sleep 0.1 &); (sleep 0.2 &); sleep 1; ps -o pid,ppid,stat,args"], 10);
      const out = ps.stdout.toString();
      assert.match(out, /^\s*1\s+0\s+S\s+\/bin\/sh -c trap/m, "pause is PID 1 of the pod");
      assert.doesNotMatch(out, /^\s*\d+\s+\d+\s+Z/m, `no zombies:\n${out}`);
      await cri.stopContainer(containerId, 5);
      await cri.removeContainer(containerId);
      await cri.stopPodSandbox(sandboxId);
      await cri.removePodSandbox(sandboxId);
      assert.deepEqual(await cri.listPodSandbox(), []);
    } finally {
      await rt.cleanup();
    }
    assert.equal(existsSync(rt.dataDir), false);
  });
});
