// Child process of sqlite.crash.test.ts: writes to a SqliteStore in a loop from several
// concurrent writers and prints one line per acknowledged write, `ack <key> <revision> <value>`,
// only after the store has acknowledged it. The parent kills it with SIGKILL at some point
// and checks that every printed write survived.
//
// usage: node crash-writer.js <db file> <FULL|NORMAL> <round> <writers> [auto|thread|loop]
import { compileStoreOptions } from "../options.js";
import { SqliteStore, type WriterPlacement } from "../sqlite.js";

const [file, sync, round, writersArg, placement = "auto"] = process.argv.slice(2);
if (file === undefined || (sync !== "FULL" && sync !== "NORMAL") || round === undefined || !["auto", "thread", "loop"].includes(placement)) {
  process.stderr.write("usage: crash-writer <db file> <FULL|NORMAL> <round> <writers> [auto|thread|loop]\n");
  process.exit(2);
}
const writers = Number(writersArg ?? "4");
const enc = new TextEncoder();

const store = await SqliteStore.open(file, compileStoreOptions({ sqliteSynchronous: sync, compaction: { intervalMs: 0 } }), { writer: placement as WriterPlacement });
// stdout to a pipe is synchronous on Linux, so a line is out before the next write starts.
process.stdout.write("ready\n");

async function writer(w: number): Promise<void> {
  for (let i = 0; ; i++) {
    const key = `/crash/r${round}/w${w}/${i}`;
    const value = `${round}.${w}.${i}`;
    let kv = await store.create(key, enc.encode(value));
    process.stdout.write(`ack ${key} ${kv.modRevision} ${value}\n`);
    if (i % 4 === 3) {
      const updated = `${value}.u`;
      kv = await store.update(key, enc.encode(updated), kv.modRevision);
      process.stdout.write(`ack ${key} ${kv.modRevision} ${updated}\n`);
    }
  }
}

await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
