// A process writing to SQLite is killed with SIGKILL at an arbitrary moment; every write it
// had acknowledged must be there after reopening, at its revision, and the store must open.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileStoreOptions } from "./options.js";
import { SqliteStore, type WriterPlacement } from "./sqlite.js";

const WRITER = fileURLToPath(new URL("./testdata/crash-writer.js", import.meta.url));
const dec = new TextDecoder();

interface Ack {
  readonly key: string;
  readonly revision: number;
  readonly value: string;
}

/** Runs the writer until it has printed at least `minAcks` acknowledgements, then SIGKILLs it. */
async function writeUntilKilled(file: string, sync: "FULL" | "NORMAL", round: number, minAcks: number, placement: WriterPlacement): Promise<Ack[]> {
  const child: ChildProcess = spawn(process.execPath, [WRITER, file, sync, String(round), "4", placement], { stdio: ["ignore", "pipe", "pipe"] });
  const acks: Ack[] = [];
  let stderr = "";
  let buffered = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`writer acknowledged only ${acks.length} writes in 30 s; stderr: ${stderr}`)), 30_000);
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      child.once("exit", (code, signal) => {
        clearTimeout(deadline);
        reject(new Error(`writer exited early (${code ?? signal}); stderr: ${stderr}`));
      });
      let killed = false;
      child.stdout?.on("data", (d: Buffer) => {
        // Lines that arrive after the kill was sent may be complete acks too, but the count is reached.
        if (killed) return;
        buffered += d.toString();
        const lines = buffered.split("\n");
        // The last piece is an unfinished line: the write it reports may not be acknowledged yet.
        buffered = lines.pop() ?? "";
        for (const line of lines) {
          const [tag, key, revision, value] = line.split(" ");
          if (tag !== "ack" || key === undefined || revision === undefined || value === undefined) continue;
          acks.push({ key, revision: Number(revision), value });
        }
        if (acks.length >= minAcks) {
          killed = true;
          clearTimeout(deadline);
          child.removeAllListeners("exit");
          child.kill("SIGKILL");
          resolve();
        }
      });
    });
    await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  return acks;
}

for (const [sync, placement] of [
  ["FULL", "auto"],
  ["NORMAL", "auto"],
  ["FULL", "thread"],
] as const) {
  void test(`every write acknowledged before SIGKILL is present after reopening (synchronous=${sync}, commits where ${placement === "auto" ? "the store chooses" : "the writer thread is"}, killed twice)`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "k8ts-crash-"));
    try {
      const file = join(dir, "state.db");
      const acks: Ack[] = [];
      // The second round starts on the database the first kill left behind (WAL not checkpointed).
      for (const round of [1, 2]) acks.push(...(await writeUntilKilled(file, sync, round, 200 + round * 100, placement)));
      assert.ok(acks.length >= 500);

      const store = await SqliteStore.open(file, compileStoreOptions({ compaction: { intervalMs: 0 } }));
      try {
        const revision = await store.currentRevision();
        const missing: string[] = [];
        for (const ack of acks) {
          assert.ok(ack.revision <= revision, `ack at revision ${ack.revision} beyond the store's ${revision}`);
          const { kv } = await store.get(ack.key, { revision: ack.revision });
          if (kv?.modRevision !== ack.revision || dec.decode(kv.value) !== ack.value) missing.push(`${ack.key}@${ack.revision}`);
        }
        assert.deepEqual(missing, [], "acknowledged writes lost");
        assert.equal(new Set(acks.map((a) => a.revision)).size, acks.length, "two acks for one revision");
        // The log has no holes: every revision after the first is one change a watcher replays.
        const w = await store.watch("/crash/", { afterRevision: 1 });
        const seen: number[] = [];
        const deadline = setTimeout(() => w.stop(), 10_000);
        for await (const ev of w) {
          seen.push(ev.revision);
          if (seen.length === revision - 1) break;
        }
        clearTimeout(deadline);
        assert.deepEqual(seen, Array.from({ length: revision - 1 }, (_, i) => i + 2));
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
