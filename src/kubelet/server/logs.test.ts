import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "../../testing/wait.js";
import { formatTimestamp, parseCRILogLine, readContainerLog, tailStartOffset, type LogOptions } from "./logs.js";

function rec(ts: string, stream: "stdout" | "stderr", tag: "P" | "F", content: string): string {
  return `${ts} ${stream} ${tag} ${content}\n`;
}

const T = (s: number): string => `2024-05-01T10:00:${String(s).padStart(2, "0")}.120000000Z`;

async function readAll(path: string, opts: Partial<LogOptions> = {}): Promise<string> {
  let out = "";
  await readContainerLog(path, { follow: false, timestamps: false, ...opts }, async (c) => void (out += c.toString()), { isRunning: async () => false, signal: new AbortController().signal });
  return out;
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "k8ts-logs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("CRI log lines", () => {
  it("parse stream, partial marker and content; reject what is not a record", () => {
    const r = parseCRILogLine(Buffer.from("2024-05-01T10:00:00.1Z stderr P hello world"));
    assert.deepEqual(r && { ...r, content: r.content.toString() }, { timestamp: "2024-05-01T10:00:00.1Z", stream: "stderr", partial: true, content: "hello world" });
    assert.equal(parseCRILogLine(Buffer.from("2024-05-01T10:00:00Z stdout F"))?.content.length, 0);
    assert.equal(parseCRILogLine(Buffer.from("2024-05-01T10:00:00Z stdout F:x  two spaces"))?.content.toString(), " two spaces");
    assert.equal(parseCRILogLine(Buffer.from("2024-05-01T10:00:00Z stdin F x")), undefined);
    assert.equal(parseCRILogLine(Buffer.from("garbage")), undefined);
  });

  it("timestamps print as Go's RFC3339Nano: trailing zeros of the fraction dropped", () => {
    assert.equal(formatTimestamp("2024-05-01T10:00:00.120000000Z"), "2024-05-01T10:00:00.12Z");
    assert.equal(formatTimestamp("2024-05-01T10:00:00.000000000+02:00"), "2024-05-01T10:00:00+02:00");
    assert.equal(formatTimestamp("2024-05-01T10:00:00Z"), "2024-05-01T10:00:00Z");
  });
});

describe("reading a log file", () => {
  it("joins partial records per stream, with the first record's timestamp", async (t) => {
    const path = join(tempDir(t), "0.log");
    writeFileSync(path, rec(T(1), "stdout", "P", "hel") + rec(T(2), "stderr", "F", "err line") + rec(T(3), "stdout", "P", "lo ") + rec(T(4), "stdout", "F", "world") + rec(T(5), "stdout", "F", ""));
    assert.equal(await readAll(path), "err line\nhello world\n\n");
    assert.equal(await readAll(path, { timestamps: true }), `${formatTimestamp(T(2))} err line\n${formatTimestamp(T(1))} hello world\n${formatTimestamp(T(5))} \n`);
  });

  it("tailLines counts joined lines from the end; 0 shows nothing", async (t) => {
    const path = join(tempDir(t), "0.log");
    let text = "";
    for (let i = 1; i <= 5; i++) text += rec(T(i), "stdout", "P", `line${i}-a `) + rec(T(i), "stdout", "F", `line${i}-b`);
    // A record still being written (no newline yet) is not a line.
    writeFileSync(path, text + `${T(9)} stdout F unfinished`);
    assert.equal(await readAll(path, { tailLines: 2 }), "line4-a line4-b\nline5-a line5-b\n");
    assert.equal(await readAll(path, { tailLines: 0 }), "");
    assert.equal(await readAll(path, { tailLines: 100 }), [1, 2, 3, 4, 5].map((i) => `line${i}-a line${i}-b\n`).join(""));
  });

  it("tailLines across read chunks of a large file", async (t) => {
    const path = join(tempDir(t), "0.log");
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(rec(T(i % 60), "stdout", "F", `n=${i} ${"x".repeat(50)}`));
    writeFileSync(path, lines.join(""));
    const fh = await open(path, "r");
    try {
      const size = (await fh.stat()).size;
      const off = await tailStartOffset(fh, size, 3000);
      assert.equal(off, lines.slice(0, 2000).join("").length);
    } finally {
      await fh.close();
    }
    const out = (await readAll(path, { tailLines: 3 })).split("\n");
    assert.deepEqual(out.map((l) => l.split(" ")[0]), ["n=4997", "n=4998", "n=4999", ""]);
  });

  it("without follow, shows the log as it was when asked, not lines written during the read", async (t) => {
    const path = join(tempDir(t), "0.log");
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(rec(T(i % 60), "stdout", "F", `n=${i} ${"x".repeat(50)}`));
    writeFileSync(path, lines.join(""));
    // The container writes a line while the first chunk is being sent (the file spans several).
    let out = "";
    let wrote = false;
    const sink = async (c: Buffer): Promise<void> => {
      out += c.toString();
      if (!wrote) appendFileSync(path, rec(T(1), "stdout", "F", "written during the read"));
      wrote = true;
    };
    await readContainerLog(path, { follow: false, timestamps: false, tailLines: 4000 }, sink, { isRunning: async () => false, signal: new AbortController().signal });
    assert.ok(wrote);
    const got = out.split("\n").filter((l) => l !== "");
    assert.equal(got.length, 4000);
    assert.equal(got.at(-1)!.split(" ")[0], "n=4999");
  });

  it("sinceTime skips older lines; limitBytes cuts the output", async (t) => {
    const path = join(tempDir(t), "0.log");
    writeFileSync(path, rec(T(1), "stdout", "F", "one") + rec(T(2), "stdout", "F", "two") + rec(T(3), "stdout", "F", "three"));
    assert.equal(await readAll(path, { since: Date.parse(T(2)) }), "two\nthree\n");
    assert.equal(await readAll(path, { limitBytes: 6 }), "one\ntw");
    assert.equal(await readAll(path, { limitBytes: 4 }), "one\n");
  });

  it("follows appended lines, a rotated file and a replaced one, and ends once the container stopped", async (t) => {
    const dir = tempDir(t);
    const path = join(dir, "0.log");
    writeFileSync(path, rec(T(1), "stdout", "F", "first"));
    let out = "";
    let running = true;
    const abort = new AbortController();
    t.after(() => abort.abort());
    const done = readContainerLog(path, { follow: true, timestamps: false }, async (c) => void (out += c.toString()), { isRunning: async () => running, signal: abort.signal, pollMs: 50 });
    await until("the first line", () => (out === "first\n" ? true : undefined), 5000);
    appendFileSync(path, rec(T(2), "stdout", "F", "second"));
    await until("the appended line", () => (out.endsWith("second\n") ? true : undefined), 5000);
    // Rotation as the kubelet's log manager does it: rename, then the runtime reopens the path.
    renameSync(path, `${path}.20240501-100000`);
    appendFileSync(`${path}.20240501-100000`, rec(T(3), "stdout", "F", "late write to the old file"));
    writeFileSync(path, rec(T(4), "stdout", "F", "after rotation"));
    await until("the rotated file", () => (out.endsWith("after rotation\n") ? true : undefined), 5000);
    assert.match(out, /late write to the old file\nafter rotation\n$/);
    // Replaced atomically (written aside, renamed over the path).
    writeFileSync(`${path}.tmp`, rec(T(5), "stdout", "F", "replaced"));
    renameSync(`${path}.tmp`, path);
    await until("the replacing file", () => (out.endsWith("replaced\n") ? true : undefined), 5000);
    appendFileSync(path, rec(T(6), "stdout", "F", "last words"));
    running = false;
    await done;
    assert.equal(out, "first\nsecond\nlate write to the old file\nafter rotation\nreplaced\nlast words\n");
  });

  it("a follow ends when the client goes away", async (t) => {
    const path = join(tempDir(t), "0.log");
    writeFileSync(path, rec(T(1), "stdout", "F", "x"));
    const abort = new AbortController();
    const done = readContainerLog(path, { follow: true, timestamps: false }, async () => undefined, { isRunning: async () => true, signal: abort.signal, pollMs: 5000 });
    abort.abort();
    await done;
  });
});
