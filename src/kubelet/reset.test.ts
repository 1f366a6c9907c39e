// sweepNode on a node's data dir that holds provisioned volumes (no runtime needed: nothing runs).
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sweepNode } from "./reset.js";
import { kubeletPaths } from "./types.js";

describe("sweepNode", { skip: process.platform !== "linux" ? "linux only" : false }, () => {
  const base = mkdtempSync(join(tmpdir(), "k8ts-reset-"));
  after(() => rmSync(base, { recursive: true, force: true }));

  it("removes the local-path volumes with the data dir, and nothing a link in them points at", () => {
    const paths = kubeletPaths(join(base, "data"));
    const outside = join(base, "outside");
    mkdirSync(outside);
    writeFileSync(join(outside, "precious"), "keep");
    const vol = join(paths.storageRoot, "pvc-u_default_data");
    mkdirSync(vol, { recursive: true });
    writeFileSync(join(vol, "db"), "x");
    symlinkSync(outside, join(vol, "link"));
    sweepNode(paths.root);
    assert.ok(!existsSync(paths.storageRoot));
    assert.ok(!existsSync(paths.root));
    assert.equal(readFileSync(join(outside, "precious"), "utf8"), "keep");
  });
});
