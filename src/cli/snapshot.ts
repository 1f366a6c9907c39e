// `k8ts snapshot save|restore`: flag definitions only; the work is in snapshot-actions.ts.
import { Command, Option } from "commander";
import { restoreSnapshotFile, saveSnapshot } from "./snapshot-actions.js";
import { defaultDataDir } from "./defaults.js";

interface StoreFlags {
  store?: string;
  dataDir?: string;
  force?: boolean;
}

function storeOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--store <url>", "store URL: sqlite:///path/state.db, sqlite://relative/path.db, etcd://host:port[,host:port][?cacert=F&cert=F&key=F]").conflicts("dataDir"))
    .addOption(new Option("--data-dir <dir>", `k8ts data directory; the store is <dir>/state.db (default ${defaultDataDir()})`));
}

export function registerSnapshotCommands(program: Command): void {
  const snapshot = program.command("snapshot").description("back up and restore the cluster store (SQLite or etcd)");

  storeOptions(
    snapshot
      .command("save")
      .description("write a consistent copy of the store to FILE while it stays online")
      .argument("<file>", "where to write the snapshot")
      .option("--force", "replace FILE if it exists"),
  ).action(async (file: string, flags: StoreFlags) => {
    const r = await saveSnapshot({ file, ...flags });
    process.stdout.write(`saved ${r.backend} store ${r.store} at revision ${r.revision} to ${r.file} (${r.bytes} bytes)\n`);
  });

  storeOptions(
    snapshot
      .command("restore")
      .description("restore FILE into a new store (a SQLite file, or a new etcd data directory)")
      .argument("<file>", "a snapshot written by `k8ts snapshot save`")
      .option("--force", "SQLite: replace an existing database (stop every k8ts process using it first)")
      .option("--etcd-data-dir <dir>", "etcd: the new data directory to restore into")
      .option("--etcd-name <name>", "etcd: the member name etcd will be started with", "default"),
  ).action(async (file: string, flags: StoreFlags & { etcdDataDir?: string; etcdName?: string }) => {
    const r = await restoreSnapshotFile({ file, ...flags });
    const keys = r.keys ?? 0;
    const figures = r.revision === undefined ? "" : ` (revision ${r.revision}, ${keys} key${keys === 1 ? "" : "s"})`;
    process.stdout.write(`restored ${file} into ${r.target}${figures}\n`);
    if (r.next !== undefined) process.stdout.write(`next: ${r.next}\n`);
  });
}
