import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { AtomicWriteError, AtomicWriter, DATA_DIR, type Payload } from "./atomic-writer.js";

function payload(entries: Record<string, string | [string, number]>): Payload {
  const p: Payload = new Map();
  for (const [k, v] of Object.entries(entries)) {
    const [data, mode] = typeof v === "string" ? [v, 0o644] : v;
    p.set(k, { data: Buffer.from(data), mode });
  }
  return p;
}

const tsDirs = (dir: string): string[] => readdirSync(dir).filter((n) => /^\.\.\d{4}_/.test(n));

describe("AtomicWriter", () => {
  let root: string;
  let n = 0;
  const target = (): string => {
    const d = join(root, `t${n++}`);
    mkdirSync(d);
    return d;
  };
  before(() => {
    root = mkdtempSync(join(tmpdir(), "k8ts-atomic-"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("writes upstream's layout: a timestamped dir, ..data pointing at it, top-level links into ..data", async () => {
    const t = target();
    const w = new AtomicWriter();
    assert.equal(await w.write(t, payload({ a: "A", "sub/dir/b": ["B", 0o600], c: ["C", 0o400] })), true);
    const ts = readlinkSync(join(t, DATA_DIR));
    assert.match(ts, /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\w+$/);
    assert.deepEqual(tsDirs(t), [ts]);
    assert.equal(statSync(join(t, ts)).mode & 0o777, 0o755);
    assert.equal(readlinkSync(join(t, "a")), "..data/a");
    assert.equal(readlinkSync(join(t, "sub")), "..data/sub");
    assert.equal(readFileSync(join(t, "sub/dir/b"), "utf8"), "B");
    assert.equal(readFileSync(join(t, "a"), "utf8"), "A");
    assert.equal(statSync(join(t, "c")).mode & 0o7777, 0o400);
    assert.equal(statSync(join(t, "sub/dir/b")).mode & 0o7777, 0o600);
    assert.deepEqual(readdirSync(t).sort(), [DATA_DIR, "a", "c", "sub", ts].sort());
  });

  it("modes are exact whatever the umask", async () => {
    const t = target();
    const old = process.umask(0o077);
    try {
      await new AtomicWriter().write(t, payload({ x: ["X", 0o666] }));
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(join(t, "x")).mode & 0o7777, 0o666);
  });

  it("writes nothing when the content is unchanged, with the same writer or a new one (a restarted agent)", async () => {
    const t = target();
    const w = new AtomicWriter();
    await w.write(t, payload({ a: "1", b: "2" }));
    const ts = readlinkSync(join(t, DATA_DIR));
    assert.equal(await w.write(t, payload({ b: "2", a: "1" })), false);
    assert.equal(await new AtomicWriter().write(t, payload({ a: "1", b: "2" })), false);
    assert.equal(readlinkSync(join(t, DATA_DIR)), ts);
    assert.deepEqual(tsDirs(t), [ts]);
  });

  it("a change of content, of mode or of the key set swaps in a new version and removes the old one", async () => {
    const t = target();
    const w = new AtomicWriter();
    await w.write(t, payload({ a: "1", gone: "x" }));
    const ts1 = readlinkSync(join(t, DATA_DIR));
    assert.equal(await w.write(t, payload({ a: "2", fresh: "y" })), true);
    const ts2 = readlinkSync(join(t, DATA_DIR));
    assert.notEqual(ts2, ts1);
    assert.deepEqual(tsDirs(t), [ts2]);
    assert.equal(readFileSync(join(t, "a"), "utf8"), "2");
    assert.equal(readFileSync(join(t, "fresh"), "utf8"), "y");
    assert.throws(() => lstatSync(join(t, "gone")), { code: "ENOENT" });

    assert.equal(await w.write(t, payload({ a: ["2", 0o600], fresh: "y" })), true);
    assert.equal(statSync(join(t, "a")).mode & 0o777, 0o600);
    assert.equal(tsDirs(t).length, 1);

    assert.equal(await w.write(t, new Map()), true);
    assert.deepEqual(readdirSync(t).filter((x) => !x.startsWith("..")), []);
  });

  it("cleans up timestamped dirs a crashed write left behind", async () => {
    const t = target();
    const w = new AtomicWriter();
    await w.write(t, payload({ a: "1" }));
    mkdirSync(join(t, "..2001_01_01_00_00_00.123"));
    await w.write(t, payload({ a: "2" }));
    assert.deepEqual(tsDirs(t), [readlinkSync(join(t, DATA_DIR))]);
  });

  it("rejects paths that leave the volume or clash, as upstream's validatePath", async () => {
    const t = target();
    const w = new AtomicWriter();
    for (const bad of ["../x", "a/../../x", "/etc/passwd", "..data", "..x/y", ""]) {
      await assert.rejects(w.write(t, payload({ [bad]: "x" })), (err: unknown) => err instanceof AtomicWriteError && err.code === "InvalidPath", bad);
    }
    await assert.rejects(w.write(t, payload({ a: "x", "a/b": "y" })), (err: unknown) => err instanceof AtomicWriteError && err.code === "PathConflict");
    assert.deepEqual(readdirSync(t), []);
  });

  it("a reader in another thread never sees a partial file or a mix of two versions", async () => {
    const t = target();
    const w = new AtomicWriter();
    const keys = ["a", "b", "c", "nested/d"];
    const version = (v: number): Payload => {
      // Large enough that a file written in pieces would show it; each file names its version.
      const body = `${v}:`.padEnd(64 * 1024, String.fromCharCode(97 + (v % 26)));
      return payload(Object.fromEntries(keys.map((k) => [k, `${k}=${body}`])));
    };
    await w.write(t, version(0));
    const reader = new Worker(
      `
      const { parentPort, workerData } = require("node:worker_threads");
      const fs = require("node:fs");
      const { dir, keys } = workerData;
      const stats = { samples: 0, consistent: 0, violations: [], retries: 0 };
      let stop = false;
      parentPort.on("message", () => { stop = true; });
      const check = (k, text) => {
        const m = /^([^=]+)=(\\d+):/.exec(text);
        if (!m || m[1] !== k) return "foreign or truncated head: " + text.slice(0, 20);
        const v = Number(m[2]);
        const want = (k + "=" + (v + ":").padEnd(64 * 1024, String.fromCharCode(97 + (v % 26))));
        return text === want ? v : "partial content for version " + v + " (" + text.length + " bytes)";
      };
      const loop = () => {
        for (let i = 0; i < 200 && !stop; i++) {
          try {
            const before = fs.readlinkSync(dir + "/..data");
            const seen = keys.map((k) => check(k, fs.readFileSync(dir + "/" + k, "utf8")));
            const after = fs.readlinkSync(dir + "/..data");
            stats.samples++;
            for (const s of seen) if (typeof s === "string") stats.violations.push(s);
            if (before === after) {
              stats.consistent++;
              if (new Set(seen).size !== 1) stats.violations.push("mixed versions in one ..data generation: " + seen.join(","));
            }
          } catch (err) {
            // The version being read was replaced and removed between lookups: read again.
            if (err.code === "ENOENT") stats.retries++;
            else stats.violations.push(String(err));
          }
        }
        if (stop) parentPort.postMessage(stats);
        else setImmediate(loop);
      };
      loop();
      `,
      { eval: true, workerData: { dir: t, keys } },
    );
    try {
      for (let v = 1; v <= 150; v++) await w.write(t, version(v));
      reader.postMessage("stop");
      const stats = await new Promise<{ samples: number; consistent: number; violations: string[] }>((resolve, reject) => {
        reader.once("message", resolve);
        reader.once("error", reject);
      });
      assert.deepEqual(stats.violations.slice(0, 5), []);
      assert.ok(stats.consistent > 0, `the reader made ${stats.samples} samples, none within one version`);
    } finally {
      await reader.terminate();
    }
    assert.equal(tsDirs(t).length, 1);
  });
});
