import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { compileContainerdOptions, Containerd, ContainerdError, renderContainerdConfig } from "./containerd.js";
import { CriClient, isCriError } from "./cri/client.js";
import { PAUSE_IMAGE } from "./images/builtin.js";
import { createLogger } from "../util/log.js";
import { runtimeSkipReason, startTestRuntime } from "../testing/runtime.js";

const logger = createLogger("silent");
const skip = runtimeSkipReason() ?? false;

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(20);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("containerd config", () => {
  it("keeps everything under the data dir and sets what our machines need", () => {
    const o = compileContainerdOptions({ dataDir: "/var/lib/k8ts", logger });
    assert.equal(o.socket, "/var/lib/k8ts/containerd/containerd.sock");
    const toml = renderContainerdConfig(o);
    for (const line of [
      'root = "/var/lib/k8ts/containerd/root"',
      'state = "/var/lib/k8ts/containerd/state"',
      'address = "/var/lib/k8ts/containerd/containerd.sock"',
      "restrict_oom_score_adj = true",
      `sandbox_image = "${PAUSE_IMAGE}"`,
      'snapshotter = "overlayfs"',
      'runtime_type = "io.containerd.runc.v2"',
      "SystemdCgroup = false",
      'bin_dir = "/usr/lib/cni"',
      'conf_dir = "/var/lib/k8ts/cni/net.d"',
      "netns_mounts_under_state_dir = true",
    ])
      assert.ok(toml.includes(line), `config lacks ${line}`);
  });

  it("refuses a data dir too long for the socket path", () => {
    assert.throws(() => compileContainerdOptions({ dataDir: `/${"x".repeat(90)}`, logger }), (e: unknown) => e instanceof ContainerdError && e.code === "SocketPathTooLong");
  });

  it("start() fails with StartFailed when the binary cannot run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-ctd-"));
    try {
      const c = new Containerd({ dataDir: dir, logger, containerdPath: join(dir, "no-such-containerd") });
      await assert.rejects(c.start(), (e: unknown) => e instanceof ContainerdError && e.code === "StartFailed");
      await c.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("supervised containerd", { skip }, () => {
  it("starts, answers CRI, is restarted after it dies, replaces a leftover, and stops", async (t) => {
    const rt = await startTestRuntime({ images: false });
    try {
      const c = rt.containerd;
      const first = c.status();
      assert.equal(first.running, true);
      assert.ok(first.pid);
      assert.match(first.version, /^1\./);
      assert.equal((await rt.cri.version()).runtimeApiVersion, "v1");
      const status = await rt.cri.status();
      assert.ok(status.status?.conditions.some((cond) => cond.type === "RuntimeReady" && cond.status));

      // Killed: the supervisor starts a new one and CRI answers again on the same socket.
      const killedAt = Date.now();
      process.kill(first.pid, "SIGKILL");
      await waitFor("the supervisor to see the death", () => !c.status().running || c.status().pid !== first.pid);
      await waitFor("containerd restarted", () => {
        const s = c.status();
        return s.restarts === 1 && s.running && s.pid !== first.pid && s.version !== "";
      });
      await waitFor("CRI answering after the restart", () => rt.cri.version({ timeoutMs: 1000 }).then(() => true, () => false));
      t.diagnostic(`containerd back ${Date.now() - killedAt} ms after SIGKILL (includes 500 ms backoff)`);

      // Stopped: the process is gone, the socket refuses, the pid file is removed.
      const pid = c.status().pid;
      assert.ok(pid);
      await c.stop();
      assert.equal(alive(pid), false);
      assert.equal(existsSync(c.options.pidPath), false);
      await assert.rejects(rt.cri.version({ timeoutMs: 2000 }), (e: unknown) => isCriError(e, "Unavailable"));

      // A containerd an earlier agent left running on the same data dir is replaced.
      const leftover = spawn("containerd", ["--config", c.options.configPath], { stdio: "ignore", detached: true });
      assert.ok(leftover.pid);
      const leftoverExit = new Promise((resolve) => leftover.once("exit", resolve));
      writeFileSync(c.options.pidPath, `${leftover.pid}\n`);
      const probe = new CriClient({ endpoint: c.endpoint });
      try {
        await probe.version({ waitForReady: true, timeoutMs: 20_000 });
      } finally {
        probe.close();
      }
      const again = new Containerd({ dataDir: rt.dataDir, logger });
      try {
        const t0 = Date.now();
        await again.start();
        t.diagnostic(`restart over a leftover: ${Date.now() - t0} ms`);
        await leftoverExit;
        assert.notEqual(again.status().pid, leftover.pid);
        assert.equal(Number(readFileSync(c.options.pidPath, "utf8")), again.status().pid);
        assert.equal((await rt.cri.version({ timeoutMs: 5000 })).runtimeName, "containerd");
      } finally {
        await again.stop();
      }
    } finally {
      await rt.cleanup();
    }
    assert.equal(existsSync(rt.dataDir), false);
  });
});
