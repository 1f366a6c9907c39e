// The conformance suite against the SQLite backend, each case on a fresh database file in its
// own temp dir, at the default durability (synchronous=FULL): once committing where the store
// chooses (on the event loop, with this machine's quick commits) and once in the writer thread.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runConformanceSuite } from "./conformance.js";
import { compileStoreOptions } from "./options.js";
import { SqliteStore, type WriterPlacement } from "./sqlite.js";

for (const writer of ["auto", "thread"] as const satisfies readonly WriterPlacement[]) {
  runConformanceSuite(writer === "auto" ? "sqlite" : "sqlite (writer thread)", async (options) => {
    const dir = await mkdtemp(join(tmpdir(), "k8ts-sqlite-conformance-"));
    try {
      const compiled = compileStoreOptions(options);
      const file = join(dir, "state.db");
      let restores = 0;
      return {
        store: await SqliteStore.open(file, compiled, { writer }),
        reopen: () => SqliteStore.open(file, compiled, { writer }),
        restore: async (snapshot) => {
          const target = join(dir, `restored-${++restores}.db`);
          await SqliteStore.restore(snapshot, target);
          return SqliteStore.open(target, compiled, { writer });
        },
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  });
}
