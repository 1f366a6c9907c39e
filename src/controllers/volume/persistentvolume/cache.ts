// The versions the PV controller wrote itself, laid over the informer's cache (upstream keeps a
// cache of its own, updated by its writes, for the same reason). Binding is four writes (volume
// spec, volume status, claim spec, claim status); the next sync of either object usually runs
// before the informer has seen them all, and acting on the older copy would only earn a
// Conflict — or, for a volume another claim is matching against, bind it twice. Upstream
// compares resourceVersions as integers (storeObjectUpdate); so does this.
import type { KubeObject } from "../../../client/objects.js";
import { keyOf, type DeepReadonly } from "../../../client/objects.js";

function revision(obj: DeepReadonly<KubeObject>): bigint | undefined {
  const rv = obj.metadata?.resourceVersion;
  if (rv === undefined || !/^[0-9]+$/.test(rv)) return undefined;
  return BigInt(rv);
}

export class WrittenVersions<T extends KubeObject> {
  private readonly written = new Map<string, DeepReadonly<T>>();

  /** Remembers what a write returned. */
  remember(obj: T | DeepReadonly<T>): void {
    this.written.set(keyOf(obj as DeepReadonly<KubeObject>), obj as DeepReadonly<T>);
  }

  forget(key: string): void {
    this.written.delete(key);
  }

  /**
   * The newer of the cached object and the one last written under its key. An object the
   * informer does not hold is gone (or not yet seen): the written copy cannot resurrect it.
   */
  latest(cached: DeepReadonly<T> | undefined): DeepReadonly<T> | undefined {
    if (cached === undefined) return undefined;
    const key = keyOf(cached as DeepReadonly<KubeObject>);
    const mine = this.written.get(key);
    if (mine === undefined) return cached;
    const a = revision(cached as DeepReadonly<KubeObject>);
    const b = revision(mine as DeepReadonly<KubeObject>);
    if (a === undefined || b === undefined || a >= b || cached.metadata?.uid !== mine.metadata?.uid) {
      // The informer caught up (or it is another object under the name): drop ours.
      this.written.delete(key);
      return cached;
    }
    return mine;
  }

  get size(): number {
    return this.written.size;
  }
}
