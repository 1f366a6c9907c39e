// The DNS image: its layer (Node, its libraries under every name, the loader, the bundle), a
// rootfs that runs Node with nothing from the host, and — with the real runtime — the image
// imported into containerd and run through CRI, answering queries from the host.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Service } from "kubernetes-types/core/v1.js";
import { createClientFromKubeconfig } from "../../client/rest.js";
import { ask } from "../../dns/testing.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { freePort } from "../../testing/net.js";
import { runtimeSkipReason, startTestRuntime, type TestRuntime } from "../../testing/runtime.js";
import { until } from "../../testing/wait.js";
import type { Input, PodSandboxConfig } from "../cri/client.js";
import { writeRootfs } from "./builtin.js";
import { DNS_BUNDLE_IN_IMAGE, dnsLayer, DnsImageError, ensureDnsImage, NODE_IN_IMAGE, sharedLibraries } from "./dns.js";

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");
const notRoot = process.getuid?.() !== 0 ? "needs root (chroot)" : false;

void describe("the DNS image", () => {
  let dir: string;
  let bundle: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-dns-image-"));
    bundle = join(dir, "k8ts-dns.cjs");
    await run(process.execPath, [join(repo, "scripts", "bundle-dns.mjs"), "--outfile", bundle], { cwd: repo });
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  void it("holds Node, every library ldd lists under its name, the loader and the bundle", () => {
    const layer = dnsLayer({ bundlePath: bundle });
    const byPath = new Map(layer.map((e) => [e.path, e]));
    assert.equal(byPath.get(NODE_IN_IMAGE.slice(1))?.type, "file");
    assert.equal(byPath.get(DNS_BUNDLE_IN_IMAGE.slice(1))?.type, "file");
    const libs = sharedLibraries(process.execPath);
    assert.ok(libs.some((l) => /ld-linux|ld-musl/.test(l)), libs.join(" "));
    assert.ok(libs.some((l) => /libc\.so/.test(l)), libs.join(" "));
    for (const lib of libs) {
      // the first component of each path is in the layer (as a directory or a link)
      const top = lib.split("/")[1]!;
      assert.ok(byPath.has(top), `${top} for ${lib}`);
    }
    const firstDir = layer.findIndex((e) => e.type !== "dir");
    assert.ok(layer.slice(firstDir).every((e) => e.type !== "dir"), "directories come first");
    assert.throws(() => dnsLayer({ bundlePath: join(dir, "absent.cjs") }), (e: unknown) => e instanceof DnsImageError && e.code === "BundleMissing");
  });

  void it("its rootfs runs Node and the server with nothing from the host", { skip: notRoot }, () => {
    const root = join(dir, "rootfs");
    writeRootfs(dnsLayer({ bundlePath: bundle }), root);
    const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
    assert.equal(execFileSync("chroot", [root, NODE_IN_IMAGE, "--version"], { encoding: "utf8", env }).trim(), process.version);
    assert.match(execFileSync("chroot", [root, NODE_IN_IMAGE, DNS_BUNDLE_IN_IMAGE, "--help"], { encoding: "utf8", env }), /--cluster-domain/);
  });

  void describe("through CRI", { skip: runtimeSkipReason() ?? false }, () => {
    let rt: TestRuntime | undefined;
    let api: TestApiServer | undefined;

    after(async () => {
      await rt?.cleanup();
      await api?.stop();
    });

    void it("imports, runs `node --version`, and serves cluster DNS to the host", async () => {
      rt = await startTestRuntime();
      const { cri } = rt;
      const t0 = performance.now();
      const first = await ensureDnsImage(cri, { address: rt.containerd.socket, archiveDir: join(rt.dataDir, "images"), bundlePath: bundle });
      const importMs = performance.now() - t0;
      assert.equal(first.imported, true);
      const again = await ensureDnsImage(cri, { address: rt.containerd.socket, archiveDir: join(rt.dataDir, "images"), bundlePath: bundle });
      assert.equal(again.imported, false);
      assert.equal(again.id, first.id);

      api = await startTestApiServer();
      const client = await createClientFromKubeconfig(api.kubeconfig);
      try {
        await client.forKind("v1", "Service").namespace("default").create({ metadata: { name: "in-image" }, spec: { clusterIP: "10.43.0.88", ports: [{ name: "http", port: 80 }] } } as Service);
      } finally {
        client.close();
      }

      const uid = `dns-${rt.runId}`;
      const logDirectory = join(rt.dataDir, "pods", uid);
      mkdirSync(logDirectory, { recursive: true });
      const kubeconfigDir = join(rt.dataDir, "kubeconfig");
      mkdirSync(kubeconfigDir);
      writeFileSync(join(kubeconfigDir, "kubeconfig"), readFileSync(api.kubeconfig));
      // Host network: the API server and the test's queries are on the host's loopback.
      const sandboxConfig: Input<PodSandboxConfig> = {
        metadata: { name: "coredns", namespace: "kube-system", uid, attempt: 0 },
        logDirectory,
        linux: { cgroupParent: `/${rt.cgroupRoot}/pod${uid}`, securityContext: { namespaceOptions: { network: "NODE", pid: "CONTAINER", ipc: "POD" } } },
      };
      const sandboxId = await cri.runPodSandbox(sandboxConfig);

      const versionId = await cri.createContainer(sandboxId, { metadata: { name: "version", attempt: 0 }, image: { image: first.reference }, command: [NODE_IN_IMAGE], args: ["--version"], logPath: "version/0.log" }, sandboxConfig);
      await cri.startContainer(versionId);
      const exited = await until("node --version to exit", async () => {
        const s = (await cri.containerStatus(versionId)).status;
        return s?.state === "CONTAINER_EXITED" ? s : undefined;
      });
      assert.equal(exited.exitCode, 0, exited.message);
      const versionLog = readFileSync(join(logDirectory, "version/0.log"), "utf8");
      assert.match(versionLog, new RegExp(` stdout F ${process.version.replace(/\./g, "\\.")}$`, "m"));

      const port = await freePort();
      const ready = await freePort();
      const serverId = await cri.createContainer(
        sandboxId,
        {
          metadata: { name: "coredns", attempt: 0 },
          image: { image: first.reference },
          args: ["--kubeconfig", "/etc/k8ts/kubeconfig", "--listen", `127.0.0.1:${port}`, "--http-address", "127.0.0.1", "--health-port", "0", "--ready-port", String(ready), "--metrics-port", "0", "--upstream", "127.0.0.1:9"],
          mounts: [{ containerPath: "/etc/k8ts", hostPath: kubeconfigDir, readonly: true }],
          logPath: "coredns/0.log",
        },
        sandboxConfig,
      );
      const s0 = performance.now();
      await cri.startContainer(serverId);
      await until(
        "the DNS container to be ready",
        async () => {
          const s = (await cri.containerStatus(serverId)).status;
          if (s?.state === "CONTAINER_EXITED") throw new Error(`exited ${s.exitCode}: ${readFileSync(join(logDirectory, "coredns/0.log"), "utf8")}`);
          return (await fetch(`http://127.0.0.1:${ready}/ready`)).status === 200 ? true : undefined;
        },
        30_000,
      );
      const readyMs = performance.now() - s0;
      const r = await ask(port, "in-image.default.svc.cluster.local", "A");
      assert.deepEqual(r.answers?.map((a) => (a as { data: string }).data), ["10.43.0.88"]);
      const tcp = await ask(port, "_http._tcp.in-image.default.svc.cluster.local", "SRV", { proto: "tcp" });
      assert.equal(tcp.answers?.length, 1);
      const stats = await cri.containerStats(serverId);
      const mem = Number(stats?.memory?.workingSetBytes?.value ?? 0);
      process.stdout.write(`# DNS image: build+import ${importMs.toFixed(0)} ms, container start to ready ${readyMs.toFixed(0)} ms, working set ${(mem / 2 ** 20).toFixed(1)} MiB\n`);

      // SIGTERM (the kubelet's stop) ends it promptly with status 0
      const st0 = performance.now();
      await cri.stopContainer(serverId, 10);
      const stopped = (await cri.containerStatus(serverId)).status;
      assert.equal(stopped?.exitCode, 0);
      assert.ok(performance.now() - st0 < 5000);
      assert.ok(existsSync(join(logDirectory, "coredns/0.log")));
    });
  });
});
