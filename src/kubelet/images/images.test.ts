import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { setTimeout as delay } from "node:timers/promises";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { writeTar, TarError } from "./tar.js";
import { ANNOTATION_REF_NAME, buildOciImage, goArch, sha256 } from "./oci.js";
import { BUSYBOX_IMAGE, busyboxApplets, busyboxLayer, buildBusyboxImage, buildPauseImage, DEFAULT_BUSYBOX_PATH, isStaticElf, PAUSE_COMMAND, PAUSE_IMAGE, pauseLayer, writeRootfs } from "./builtin.js";

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "k8ts-img-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function untar(archive: Buffer, dir: string): void {
  const file = join(dir, "a.tar");
  writeFileSync(file, archive);
  execFileSync("tar", ["-xf", file, "-C", dir, "--no-same-owner"]);
}

const busyboxSkip = existsSync(DEFAULT_BUSYBOX_PATH) && isStaticElf(readFileSync(DEFAULT_BUSYBOX_PATH)) ? false : "needs Debian busybox-static at /bin/busybox";

describe("writeTar", () => {
  it("writes files, directories and symlinks that GNU tar extracts", () => {
    withDir((dir) => {
      const long = `${"d".repeat(60)}/${"e".repeat(60)}/file-with-a-long-name.txt`;
      const archive = writeTar([
        { type: "dir", path: "bin", mode: 0o755 },
        { type: "dir", path: "tmp", mode: 0o1777 },
        { type: "file", path: "bin/tool", mode: 0o755, data: Buffer.from("#!/bin/sh\necho hi\n") },
        { type: "symlink", path: "bin/alias", target: "tool" },
        { type: "file", path: "empty", mode: 0o600, data: Buffer.alloc(0) },
        { type: "dir", path: long.slice(0, 60), mode: 0o755 },
        { type: "dir", path: long.slice(0, 121), mode: 0o755 },
        { type: "file", path: long, mode: 0o644, data: Buffer.alloc(1000, 0x61) },
      ]);
      assert.equal(archive.length % 512, 0);
      untar(archive, dir);
      assert.equal(readFileSync(join(dir, "bin/tool"), "utf8"), "#!/bin/sh\necho hi\n");
      assert.equal(statSync(join(dir, "bin/tool")).mode & 0o777, 0o755);
      assert.equal(statSync(join(dir, "tmp")).mode & 0o7777, 0o1777);
      assert.ok(lstatSync(join(dir, "bin/alias")).isSymbolicLink());
      assert.equal(readlinkSync(join(dir, "bin/alias")), "tool");
      assert.equal(statSync(join(dir, "empty")).size, 0);
      assert.equal(readFileSync(join(dir, long), "utf8"), "a".repeat(1000));
      const listing = execFileSync("tar", ["-tvf", join(dir, "a.tar")], { encoding: "utf8" });
      assert.match(listing, /root\/root/);
    });
  });

  it("is deterministic and refuses names ustar cannot hold", () => {
    const entries = [{ type: "file" as const, path: "a", mode: 0o644, data: Buffer.from("x") }];
    assert.deepEqual(writeTar(entries), writeTar(entries));
    assert.throws(() => writeTar([{ type: "file", path: "x".repeat(101), mode: 0o644, data: Buffer.alloc(0) }]), (e: unknown) => e instanceof TarError && e.code === "NameTooLong");
  });
});

describe("buildOciImage", () => {
  const image = buildOciImage({ reference: "k8ts.local/test:1", layer: [{ type: "dir", path: "etc", mode: 0o755 }, { type: "file", path: "etc/motd", mode: 0o644, data: Buffer.from("hello\n") }], config: { Cmd: ["cat", "/etc/motd"] } });

  it("lays out index, manifest, config and layer with matching digests", () => {
    withDir((dir) => {
      untar(image.archive, dir);
      assert.deepEqual(JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8")), { imageLayoutVersion: "1.0.0" });
      const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as { manifests: { digest: string; size: number; annotations: Record<string, string>; platform: { os: string; architecture: string } }[] };
      const m = index.manifests[0];
      assert.ok(m);
      assert.equal(m.annotations[ANNOTATION_REF_NAME], "k8ts.local/test:1");
      assert.deepEqual(m.platform, { os: "linux", architecture: goArch() });
      assert.equal(m.digest, image.manifestDigest);
      const blob = (d: string): Buffer => readFileSync(join(dir, "blobs", "sha256", d.slice(7)));
      const manifestBytes = blob(m.digest);
      assert.equal(sha256(manifestBytes), m.digest);
      assert.equal(manifestBytes.length, m.size);
      const manifest = JSON.parse(manifestBytes.toString()) as { config: { digest: string }; layers: { digest: string; size: number }[] };
      assert.equal(manifest.config.digest, image.configDigest);
      const config = JSON.parse(blob(manifest.config.digest).toString()) as { os: string; config: { Cmd: string[] }; rootfs: { diff_ids: string[] } };
      assert.equal(sha256(blob(manifest.config.digest)), image.configDigest);
      assert.deepEqual(config.config.Cmd, ["cat", "/etc/motd"]);
      const layer = manifest.layers[0];
      assert.ok(layer);
      const gz = blob(layer.digest);
      assert.equal(sha256(gz), layer.digest);
      const tar = gunzipSync(gz);
      assert.deepEqual(config.rootfs.diff_ids, [sha256(tar)]);
      const rootfs = join(dir, "rootfs");
      execFileSync("mkdir", [rootfs]);
      untar(tar, rootfs);
      assert.equal(readFileSync(join(rootfs, "etc/motd"), "utf8"), "hello\n");
    });
  });

  it("gives the same digests for the same files", () => {
    const again = buildOciImage({ reference: "k8ts.local/test:1", layer: [{ type: "dir", path: "etc", mode: 0o755 }, { type: "file", path: "etc/motd", mode: 0o644, data: Buffer.from("hello\n") }], config: { Cmd: ["cat", "/etc/motd"] } });
    assert.equal(again.manifestDigest, image.manifestDigest);
    assert.equal(again.configDigest, image.configDigest);
  });
});

describe("built-in images", () => {
  it("tells static from dynamic executables", { skip: busyboxSkip }, () => {
    assert.equal(isStaticElf(readFileSync(DEFAULT_BUSYBOX_PATH)), true);
    assert.equal(isStaticElf(readFileSync(process.execPath)), false);
    assert.equal(isStaticElf(Buffer.from("#!/bin/sh\n")), false);
  });

  it("busybox: every applet is a link in /bin, and the binary is not replaced by a link to itself", { skip: busyboxSkip }, () => {
    const applets = busyboxApplets();
    assert.ok(!applets.includes("busybox"));
    for (const a of ["sh", "httpd", "wget", "cat", "sleep", "ip"]) assert.ok(applets.includes(a), a);
    const layer = busyboxLayer();
    const bin = layer.filter((e) => e.path === "bin/busybox");
    assert.equal(bin.length, 1);
    assert.equal(bin[0]?.type, "file");
    assert.equal(layer.filter((e) => e.type === "symlink").length, applets.length);
    assert.ok(layer.some((e) => e.path === "etc/passwd" && e.type === "file" && e.data.toString().startsWith("root:x:0:0:")));
    assert.ok(layer.some((e) => e.path === "tmp" && e.type === "dir" && e.mode === 0o1777));
  });

  it("builds the busybox and pause images under their references, reproducibly", { skip: busyboxSkip }, () => {
    const busybox = buildBusyboxImage();
    const pause = buildPauseImage();
    assert.equal(busybox.reference, BUSYBOX_IMAGE);
    assert.equal(pause.reference, PAUSE_IMAGE);
    assert.equal(buildBusyboxImage().configDigest, busybox.configDigest);
    assert.notEqual(pause.configDigest, busybox.configDigest);
  });

  it("the rootfs runs: busybox applets resolve through their links", { skip: busyboxSkip }, () => {
    withDir((dir) => {
      writeRootfs(busyboxLayer(), dir);
      assert.equal(readlinkSync(join(dir, "bin/sh")), "busybox");
      assert.equal(execFileSync(join(dir, "bin/echo"), ["ok"], { encoding: "utf8" }), "ok\n");
      // the pause command's shell loop parses (sh -n) with the image's own shell
      const script = PAUSE_COMMAND[2];
      assert.ok(script);
      execFileSync(join(dir, "bin/sh"), ["-n", "-c", script]);
    });
  });

  it("the pause command sleeps until SIGTERM and then exits 0", { skip: busyboxSkip }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-img-"));
    let sleeper: number | undefined;
    let child: ChildProcess | undefined;
    try {
      writeRootfs(pauseLayer(), dir);
      child = spawn(join(dir, "bin/sh"), PAUSE_COMMAND.slice(1), { env: { PATH: join(dir, "bin") }, stdio: "ignore" });
      const exited = once(child, "exit");
      // The trap is set once the loop has started its sleep.
      const deadline = Date.now() + 10_000;
      while (sleeper === undefined) {
        assert.ok(Date.now() < deadline, "pause never started its sleep");
        const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim();
        if (kids) sleeper = Number(kids.split(" ")[0]);
        else await delay(10);
      }
      child.kill("SIGTERM");
      const [code, signal] = (await exited) as [number | null, string | null];
      assert.equal(signal, null);
      assert.equal(code, 0);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      if (sleeper !== undefined) {
        try {
          process.kill(sleeper, "SIGKILL");
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
