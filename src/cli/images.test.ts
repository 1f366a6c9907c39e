import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBuiltin, importImages } from "./images-actions.js";
import { BUSYBOX_IMAGE, DEFAULT_BUSYBOX_PATH, isStaticElf, PAUSE_IMAGE } from "../kubelet/images/builtin.js";
import { ImageImportError } from "../kubelet/images/import.js";
import { buildOciImage } from "../kubelet/images/oci.js";
import { writeTar } from "../kubelet/images/tar.js";
import { runtimeSkipReason, startTestRuntime } from "../testing/runtime.js";

const busyboxSkip = existsSync(DEFAULT_BUSYBOX_PATH) && isStaticElf(readFileSync(DEFAULT_BUSYBOX_PATH)) ? false : "needs Debian busybox-static at /bin/busybox";

/** A `docker save` archive: manifest.json, the config, one uncompressed layer. */
function dockerArchive(reference: string): Buffer {
  const layer = writeTar([{ type: "file", path: "greeting", mode: 0o644, data: Buffer.from("hello from a docker archive\n") }]);
  const hex = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { Cmd: ["/greeting"] }, rootfs: { type: "layers", diff_ids: [`sha256:${hex(layer)}`] } }));
  const manifest = Buffer.from(JSON.stringify([{ Config: `${hex(config)}.json`, RepoTags: [reference], Layers: [`${hex(layer)}/layer.tar`] }]));
  return writeTar([
    { type: "file", path: "manifest.json", mode: 0o644, data: manifest },
    { type: "file", path: `${hex(config)}.json`, mode: 0o644, data: config },
    { type: "dir", path: hex(layer), mode: 0o755 },
    { type: "file", path: `${hex(layer)}/layer.tar`, mode: 0o644, data: layer },
  ]);
}

describe("k8ts images", () => {
  it("build-builtin writes both archives without a running containerd", { skip: busyboxSkip }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-images-"));
    try {
      const r = await buildBuiltin({ dataDir: dir, import: true });
      assert.deepEqual(r.archives.map((a) => a.reference).sort(), [BUSYBOX_IMAGE, PAUSE_IMAGE].sort());
      for (const a of r.archives) assert.ok(existsSync(a.file) && a.file.startsWith(join(dir, "agent", "images")));
      assert.equal(r.imported, undefined);
      assert.match(r.notImported ?? "", /not running/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("import says when the node's containerd is not running", async () => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-images-"));
    try {
      const file = join(dir, "x.tar");
      writeFileSync(file, "");
      await assert.rejects(importImages({ files: [file], dataDir: dir }), (e: unknown) => e instanceof ImageImportError && e.code === "RuntimeNotRunning");
      await assert.rejects(importImages({ files: [join(dir, "absent.tar")], dataDir: dir }), (e: unknown) => e instanceof ImageImportError && e.code === "ImportFailed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("imports OCI and docker archives and the built-in images into the node's containerd", { skip: runtimeSkipReason() ?? false }, async () => {
    const rt = await startTestRuntime({ images: false });
    try {
      const built = await buildBuiltin({ dataDir: rt.dataDir, address: rt.containerd.socket, import: true });
      assert.deepEqual(built.imported?.map((i) => [i.reference, i.imported]).sort(), [[BUSYBOX_IMAGE, true], [PAUSE_IMAGE, true]].sort());
      const rebuilt = await buildBuiltin({ dataDir: rt.dataDir, address: rt.containerd.socket, import: true });
      assert.ok(rebuilt.imported?.every((i) => !i.imported));

      const ociRef = `k8ts.local/oci-${rt.runId}:1`;
      const dockerRef = `k8ts.local/docker-${rt.runId}:1`;
      const oci = join(rt.dataDir, "oci.tar");
      const docker = join(rt.dataDir, "docker.tar");
      writeFileSync(oci, buildOciImage({ reference: ociRef, layer: [{ type: "file", path: "x", mode: 0o644, data: Buffer.from("x") }], config: {} }).archive);
      writeFileSync(docker, dockerArchive(dockerRef));
      const r = await importImages({ files: [oci, docker], dataDir: rt.dataDir, address: rt.containerd.socket });
      assert.deepEqual(r.map((i) => i.references), [[ociRef], [dockerRef]]);
      for (const ref of [ociRef, dockerRef, BUSYBOX_IMAGE, PAUSE_IMAGE]) assert.ok((await rt.cri.imageStatus(ref)).image, `${ref} is visible to CRI`);
    } finally {
      await rt.cleanup();
    }
  });
});
