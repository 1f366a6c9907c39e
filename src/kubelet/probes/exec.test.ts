// Exec probes and hooks in a real busybox container through our containerd: a readiness probe
// `cat /tmp/healthy` failing until the file exists, a command outliving its timeout, $(VAR)
// expansion, and a failing exec hook's message.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.js";
import { runtimeSkipReason, startTestRuntime } from "../../testing/runtime.js";
import { until } from "../../testing/wait.js";
import { createLogger } from "../../util/log.js";
import type { Input, PodSandboxConfig } from "../cri/client.js";
import { BUSYBOX_IMAGE } from "../images/builtin.js";
import { runHandler, runLifecycleHook } from "./handlers.js";
import { Prober } from "./index.js";

const skip = runtimeSkipReason() ?? false;

describe("exec probes in a real container", { skip }, () => {
  it("cat /tmp/healthy fails, then passes once the file exists; timeouts and hooks", async () => {
    const rt = await startTestRuntime({ network: false });
    const events: string[] = [];
    const prober = new Prober({ cri: rt.cri, events: { event: (_o, type, reason, message) => events.push(`${type} ${reason} ${message}`) }, log: createLogger("silent"), secondMs: 100, random: () => 0 });
    try {
      const { cri, runId } = rt;
      const uid = `uid-${runId}`;
      const logDirectory = join(rt.dataDir, "pods", uid);
      mkdirSync(logDirectory, { recursive: true });
      const hostNetwork = { namespaceOptions: { network: "NODE" as const, pid: "CONTAINER" as const, ipc: "POD" as const } };
      const sandboxConfig: Input<PodSandboxConfig> = {
        metadata: { name: "probed", namespace: "default", uid },
        logDirectory,
        linux: { cgroupParent: `/${rt.cgroupRoot}/pod${uid}`, securityContext: hostNetwork },
      };
      const sandboxId = await cri.runPodSandbox(sandboxConfig);
      const containerId = await cri.createContainer(
        sandboxId,
        { metadata: { name: "app" }, image: { image: BUSYBOX_IMAGE }, command: ["sleep", "3600"], logPath: "app/0.log", linux: { securityContext: hostNetwork } },
        sandboxConfig,
      );
      await cri.startContainer(containerId);

      const env = [{ name: "MARKER", value: "/tmp/healthy" }];
      const container = { name: "app", image: "busybox:1.35", env };
      const target = { cri, containerId, podIP: "127.0.0.1", container };

      // ---- the handler alone ----
      const missing = await runHandler({ exec: { command: ["cat", "$(MARKER)"] } }, target, 5000);
      assert.deepEqual(missing, { ok: false, status: "failure", message: "cat: can't open '/tmp/healthy': No such file or directory\n" });
      const slow = await runHandler({ exec: { command: ["sleep", "10"] } }, target, 1000);
      assert.deepEqual(slow, { ok: false, status: "failure", message: 'command "sleep 10" timed out' });
      const both = await runHandler({ exec: { command: ["sh", "-c", "echo out; echo err >&2"] } }, target, 5000);
      assert.deepEqual(both, { ok: true, status: "success", message: "out\nerr\n" });
      const big = await runHandler({ exec: { command: ["sh", "-c", "head -c 50000 /dev/zero | tr '\\0' x"] } }, target, 5000);
      assert.equal(big.message.length, 10 * 1024);
      assert.equal((await runHandler({ exec: { command: ["true"] } }, { ...target, containerId: "absent" }, 5000)).status, "error");

      // ---- the prober ----
      const pod: Pod = {
        metadata: { name: "probed", namespace: "default", uid },
        spec: { containers: [{ ...container, readinessProbe: { exec: { command: ["cat", "$(MARKER)"] }, periodSeconds: 1, failureThreshold: 1 } }] },
      };
      prober.syncPod(pod, undefined, [{ name: "app", containerId, startedAt: Date.now() }]);
      await until("a failed readiness event", () => (events.length >= 2 ? true : undefined));
      assert.equal(prober.isReady(uid, containerId), false);
      assert.equal(events[0], "Warning Unhealthy Readiness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n");

      assert.equal((await cri.execSync(containerId, ["touch", "/tmp/healthy"], 5)).exitCode, 0);
      await until("ready", () => (prober.isReady(uid, containerId) ? true : undefined));
      assert.equal((await cri.execSync(containerId, ["rm", "/tmp/healthy"], 5)).exitCode, 0);
      await until("not ready again", () => (prober.isReady(uid, containerId) ? undefined : true));
      prober.removePod(uid);

      // ---- a failing exec hook ----
      const hook = await runLifecycleHook({ exec: { command: ["sh", "-c", "echo bye; echo oops >&2; exit 3"] } }, target, pod);
      assert.deepEqual(hook, {
        ok: false,
        message: `Exec lifecycle hook ([sh -c echo bye; echo oops >&2; exit 3]) for Container "app" in Pod "probed_default(${uid})" failed - error: command 'sh -c echo bye; echo oops >&2; exit 3' exited with 3: oops\n, message: "bye\\noops\\n"`,
      });
      assert.deepEqual(await runLifecycleHook({ exec: { command: ["touch", "/tmp/poststart"] } }, target, pod), { ok: true, message: "" });

      await cri.stopContainer(containerId, 2);
      await cri.removeContainer(containerId);
      await cri.stopPodSandbox(sandboxId);
      await cri.removePodSandbox(sandboxId);
    } finally {
      prober.stop();
      await rt.cleanup();
    }
  });
});
