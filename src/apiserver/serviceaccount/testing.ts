// Test doubles for the serviceaccount package: an ObjectLookup over a map that tests change
// as they go, with waitFor woken by put() (no polling).
import type { KubeObject } from "../registry/types.js";
import type { ObjectLookup } from "./lookup.js";

export class MapLookup implements ObjectLookup {
  private readonly objects = new Map<string, KubeObject>();
  private readonly waiters = new Set<() => void>();
  /** Every get, as "ns/name". */
  readonly reads: string[] = [];

  constructor(objs: readonly KubeObject[] = []) {
    for (const o of objs) this.put(o);
  }

  put(obj: KubeObject): void {
    this.objects.set(`${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`, structuredClone(obj));
    for (const w of [...this.waiters]) w();
  }

  delete(namespace: string, name: string): void {
    this.objects.delete(`${namespace}/${name}`);
  }

  get(namespace: string, name: string): Promise<Readonly<KubeObject> | undefined> {
    this.reads.push(`${namespace}/${name}`);
    return Promise.resolve(this.objects.get(`${namespace}/${name}`));
  }

  waitFor(namespace: string, name: string, timeoutMs: number): Promise<Readonly<KubeObject> | undefined> {
    const found = this.objects.get(`${namespace}/${name}`);
    if (found || timeoutMs <= 0) return Promise.resolve(found);
    return new Promise((resolve) => {
      const check = (): void => {
        const o = this.objects.get(`${namespace}/${name}`);
        if (!o) return;
        done(o);
      };
      const done = (o: KubeObject | undefined): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(o);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.waiters.add(check);
    });
  }
}
