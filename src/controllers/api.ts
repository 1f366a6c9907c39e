// The side of the REST client that controllers act through, as interfaces: the real
// `RestClient`/`ResourceClient` satisfy them structurally, and so does the recording fake in
// testing/. Controllers take these instead of the concrete classes so that a unit test
// can hand them the fake (STYLE.md: seed listers, sync once, assert on recorded actions).
import type { Status } from "../client/errors.js";
import type { KubeObject } from "../client/objects.js";
import type { DeleteOptions, GetOptions, PatchOptions, PatchType, WriteOptions } from "../client/rest.js";

export type { DeleteOptions, GetOptions, PatchOptions, PatchType, WriteOptions };

/** Verbs on one resource; unscoped writes take the namespace from the object. */
export interface ResourceApi<T extends KubeObject> {
  namespace(ns: string): ResourceApi<T>;
  /** A live read, for the few decisions that must not trust a cache (e.g. before adopting). */
  get(name: string, opts?: GetOptions): Promise<T>;
  create(obj: T, opts?: WriteOptions): Promise<T>;
  update(obj: T, opts?: WriteOptions): Promise<T>;
  updateStatus(obj: T, opts?: WriteOptions): Promise<T>;
  patch(name: string, type: PatchType, body: unknown, opts?: PatchOptions & { readonly subresource?: string }): Promise<T>;
  delete(name: string, opts?: DeleteOptions): Promise<T | Status>;
}

/** Hands out ResourceApis; `RestClient` is one. */
export interface Api {
  resource<T extends KubeObject = KubeObject>(group: string, version: string, plural: string, opts?: { readonly namespaced?: boolean; readonly kind?: string }): ResourceApi<T>;
}
