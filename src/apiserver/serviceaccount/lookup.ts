// Reads of the objects a token or a pod refers to (service accounts, pods, secrets), cheap
// enough for every authenticated request: the watch cache first, storage only when the cache
// has not seen the object (yet) or holds another incarnation of it (upstream's token getter
// does the same with informers and a live client).
import type { KubeObject } from "../registry/types.js";
import type { ResourceStore } from "../rest/store.js";
import { StatusError } from "../status.js";

export interface ObjectLookup {
  /**
   * The object, or undefined when it does not exist. With `uid`, a cached copy of another
   * incarnation (deleted and recreated under the same name) is checked against storage.
   */
  get(namespace: string, name: string, uid?: string): Promise<Readonly<KubeObject> | undefined>;
  /**
   * Resolves with the object once the watch cache holds it, or undefined after `timeoutMs`.
   * For a caller whose get() just found nothing: storage is not read again.
   */
  waitFor(namespace: string, name: string, timeoutMs: number): Promise<Readonly<KubeObject> | undefined>;
}

function isNotFound(err: unknown): boolean {
  return err instanceof StatusError && err.code === 404;
}

/** An ObjectLookup over a resource's store; `store` is resolved per call (stores are made after the plugins). */
export function storeLookup(store: () => ResourceStore | undefined): ObjectLookup {
  const read = async (namespace: string, name: string, cached: boolean): Promise<Readonly<KubeObject> | undefined> => {
    const s = store();
    if (!s) return undefined;
    try {
      // resourceVersion "0": whatever the watch cache holds, without waiting for it to catch up.
      return await s.get(namespace, name, cached ? { resourceVersion: "0" } : {});
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    async get(namespace, name, uid) {
      const cached = await read(namespace, name, true);
      if (cached && (uid === undefined || cached.metadata?.uid === uid)) return cached;
      return read(namespace, name, false);
    },
    async waitFor(namespace, name, timeoutMs) {
      const s = store();
      if (!s || timeoutMs <= 0) return undefined;
      // A watch from the cache's current state: the initial ADDED covers an object that landed
      // since the caller's read.
      const watcher = await s.watch(namespace, { filter: (o) => o.metadata?.name === name });
      const stop = new AbortController();
      const deadline = Date.now() + timeoutMs;
      try {
        while (!watcher.closed || watcher.pending > 0) {
          const ev = watcher.takeNow();
          if (ev) {
            if (ev.type !== "DELETED") return s.fromStored(ev.object.object);
            continue;
          }
          const left = deadline - Date.now();
          if (left <= 0) return undefined;
          await watcher.waitForEvent(stop.signal, left);
        }
        return undefined;
      } finally {
        stop.abort();
        watcher.close();
      }
    },
  };
}
