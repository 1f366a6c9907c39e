// The conformance suite against the in-memory backend (what unit tests above storage use).
import { runConformanceSuite } from "./conformance.js";
import { MemoryStore } from "./memory.js";
import { compileStoreOptions } from "./options.js";

runConformanceSuite("memory", async (options) => {
  const compiled = compileStoreOptions(options);
  return {
    store: await MemoryStore.open(compiled),
    restore: (file) => MemoryStore.restore(file, compiled),
    cleanup: async () => undefined,
  };
});
