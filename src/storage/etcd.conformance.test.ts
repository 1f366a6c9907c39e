// The conformance suite against a real etcd (Debian's etcd-server) started for this file on
// free ports with a temporary data dir. Every case opens its own client of that one etcd; the
// restore case restores into a new data dir and starts a second etcd on it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { startEtcd, type RunningEtcd } from "../testing/etcd.js";
import { runConformanceSuite } from "./conformance.js";
import { EtcdStore } from "./etcd.js";
import { compileStoreOptions } from "./options.js";

let etcd: RunningEtcd | undefined;

before(async () => {
  etcd = await startEtcd();
});

after(async () => {
  await etcd?.stop();
});

runConformanceSuite("etcd", async (options) => {
  const server = etcd;
  if (server === undefined) throw new TypeError("etcd did not start (see the before hook's failure)");
  const compiled = compileStoreOptions(options);
  const open = (): Promise<EtcdStore> => EtcdStore.open([server.endpoint], compiled);
  const started: RunningEtcd[] = [];
  const dirs: string[] = [];
  return {
    store: await open(),
    reopen: open,
    connect: open,
    restore: async (file) => {
      const dir = await mkdtemp(join(tmpdir(), "k8ts-etcd-restore-"));
      dirs.push(dir);
      const dataDir = join(dir, "data");
      await EtcdStore.restore(file, dataDir, { name: "restored" });
      const restored = await startEtcd({ dataDir, name: "restored" });
      started.push(restored);
      return EtcdStore.open([restored.endpoint], compiled);
    },
    cleanup: async () => {
      // The suite closed the clients; stop what the restore hook started, then its dirs.
      for (const s of started) await s.stop();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
});
