// What a controller is waiting to see in its caches after its own writes (upstream
// ControllerExpectations + UIDTrackingControllerExpectations). After creating N pods the
// informer has not seen yet, a second sync would count too few pods and create N more;
// so a key with outstanding expectations is not scaled again until the informer has
// delivered every create and delete, or until the expectations expire (5 minutes), which
// bounds the damage of an event that never comes.
import { realClock, type Clock } from "../../client/clock.js";

/** Upstream's ExpectationsTimeout. */
export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Record_ {
  adds: number;
  /** Keys of objects whose deletion we wait for: each is observed once, however it is seen. */
  readonly dels: Set<string>;
  timestamp: number;
}

export class Expectations {
  private readonly records = new Map<string, Record_>();

  constructor(private readonly clock: Clock = realClock) {}

  /** True when the controller may act on `key`: nothing outstanding, no record, or expired. */
  satisfied(key: string): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    if (r.adds <= 0 && r.dels.size === 0) return true;
    return this.clock.now() - r.timestamp > EXPECTATIONS_TTL_MS;
  }

  /** Replaces the expectations of `key`: `adds` creates and these deletions. */
  expect(key: string, adds: number, deleteKeys: readonly string[] = []): void {
    this.records.set(key, { adds, dels: new Set(deleteKeys), timestamp: this.clock.now() });
  }

  expectCreations(key: string, adds: number): void {
    this.expect(key, adds);
  }

  expectDeletions(key: string, deleteKeys: readonly string[]): void {
    this.expect(key, 0, deleteKeys);
  }

  /** One create was seen (or will never be: it failed or was skipped). */
  creationObserved(key: string): void {
    const r = this.records.get(key);
    if (r) r.adds--;
  }

  /** The deletion of `objKey` was seen (or will never be: the delete failed). */
  deletionObserved(key: string, objKey: string): void {
    this.records.get(key)?.dels.delete(objKey);
  }

  delete(key: string): void {
    this.records.delete(key);
  }

  /** Outstanding creates and deletes, for logs and tests. */
  pending(key: string): { readonly adds: number; readonly dels: number } | undefined {
    const r = this.records.get(key);
    return r ? { adds: r.adds, dels: r.dels.size } : undefined;
  }
}
