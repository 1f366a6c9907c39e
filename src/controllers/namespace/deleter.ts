// Deleting what is in a namespace (upstream pkg/controller/namespace/deletion/
// namespaced_resources_deleter.go): for every namespaced resource that can be deleted, delete
// the collection (or each object when deletecollection is not served) with background
// propagation, then list what is left. What is left is fine while pods are within their grace
// period or objects carry finalizers (the caller waits and looks again); anything else left
// over is an error. The namespace is finalized only once nothing is left.
import type { Namespace, Pod } from "kubernetes-types/core/v1.js";
import type { ObjectList, DeleteOptions, ListOptions, SelectorOptions, CallOptions, RequestSpec } from "../../client/rest.js";
import { isMethodNotSupported, isNotFound } from "../../client/errors.js";
import type { KubeObject } from "../../client/objects.js";
import type { ResourceApi } from "../api.js";
import { groupDiscoveryFailed, supportsVerbs, type ApiResource, type Discover, type DiscoveryError } from "../discovery.js";
import type { DeletionOutcome } from "./conditions.js";

/** The verbs on a collection the deleter needs besides ResourceApi's; ResourceClient has them. */
export interface CollectionApi<T extends KubeObject> extends ResourceApi<T> {
  namespace(ns: string): CollectionApi<T>;
  list(opts?: ListOptions): Promise<ObjectList<T>>;
  deleteCollection(opts?: DeleteOptions & SelectorOptions): Promise<unknown>;
  subresource<R>(method: RequestSpec["method"], name: string, subresource: string, body?: unknown, opts?: CallOptions): Promise<R>;
}

/** RestClient satisfies it. */
export interface NamespaceApi {
  resource<T extends KubeObject = KubeObject>(group: string, version: string, plural: string, opts?: { readonly namespaced?: boolean; readonly kind?: string }): CollectionApi<T>;
}

/** Upstream's default wait for objects held by finalizers (the garbage collector's, usually). */
export const FINALIZER_ESTIMATE_SECONDS = 15;

const BACKGROUND: DeleteOptions = { propagationPolicy: "Background" };

export interface ContentResult {
  /** Seconds until what remains is expected to be gone; 0 with nothing left. */
  readonly estimate: number;
  readonly outcome: DeletionOutcome;
  /** Every failure of this pass (discovery, deletion, leftovers); empty when it went well. */
  readonly errors: readonly Error[];
}

/** Go's GroupVersionResource.String(), which upstream's messages print. */
function gvrString(r: ApiResource): string {
  return `${r.group ? `${r.group}/` : "/"}${r.version}, Resource=${r.plural}`;
}

export class ContentDeletionError extends Error {
  override readonly name = "ContentDeletionError";
  readonly code = "ContentRemains";
}

export class NamespaceContentDeleter {
  constructor(
    private readonly api: NamespaceApi,
    private readonly discover: Discover,
    private readonly now: () => number = Date.now,
  ) {}

  /** One pass over every namespaced resource of `ns` (which must be terminating). */
  async deleteAllContent(ns: Readonly<Namespace>, signal?: AbortSignal): Promise<ContentResult> {
    const name = ns.metadata?.name ?? "";
    const deletedAt = Date.parse(ns.metadata?.deletionTimestamp ?? "") || this.now();
    const errors: Error[] = [];
    const contentErrors: string[] = [];
    let discoveryError: DeletionOutcome["discoveryError"];
    let resources: readonly ApiResource[] = [];
    try {
      const d = await this.discover(signal);
      resources = d.preferred;
      if (d.failed.size > 0) {
        const err: DiscoveryError = groupDiscoveryFailed(d.failed);
        errors.push(err);
        discoveryError = { message: err.message, failedGroups: d.failed.size };
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      errors.push(err as Error);
      discoveryError = { message: (err as Error).message };
    }
    const deletable = resources.filter((r) => r.namespaced && supportsVerbs(r, "delete"));
    const remaining = new Map<string, number>();
    const finalizersRemaining = new Map<string, number>();
    let estimate = 0;
    const results = await Promise.all(
      deletable.map(async (r) => {
        try {
          return { r, ...(await this.deleteResource(r, name, deletedAt, signal)) };
        } catch (err) {
          if (signal?.aborted) throw err;
          return { r, estimate: 0, left: 0, finalizers: new Map<string, number>(), error: err as Error };
        }
      }),
    );
    for (const res of results) {
      if (res.error) {
        errors.push(res.error);
        contentErrors.push(res.error.message);
      }
      estimate = Math.max(estimate, res.estimate);
      if (res.left > 0) {
        remaining.set(`${res.r.plural}.${res.r.group}`, res.left);
        for (const [f, n] of res.finalizers) finalizersRemaining.set(f, (finalizersRemaining.get(f) ?? 0) + n);
      }
    }
    return {
      estimate,
      errors,
      outcome: { ...(discoveryError ? { discoveryError } : {}), contentErrors, remaining, finalizersRemaining },
    };
  }

  private async deleteResource(
    r: ApiResource,
    namespace: string,
    deletedAt: number,
    signal: AbortSignal | undefined,
  ): Promise<{ estimate: number; left: number; finalizers: Map<string, number>; error?: Error }> {
    const client = this.api.resource<KubeObject>(r.group, r.version, r.plural, { namespaced: true, kind: r.kind }).namespace(namespace);
    const call = signal ? { signal } : {};
    const canList = supportsVerbs(r, "list");
    const estimate = r.group === "" && r.plural === "pods" && canList ? this.podEstimate((await client.list(call)).items as Pod[], deletedAt) : 0;
    let collectionDone = false;
    if (supportsVerbs(r, "deletecollection")) {
      try {
        await client.deleteCollection({ ...BACKGROUND, ...call });
        collectionDone = true;
      } catch (err) {
        if (!isMethodNotSupported(err) && !isNotFound(err)) throw err;
      }
    }
    if (!canList) return { estimate, left: 0, finalizers: new Map() };
    if (!collectionDone) {
      for (const item of (await client.list(call)).items) {
        try {
          await client.delete(item.metadata?.name ?? "", { ...BACKGROUND, ...call });
        } catch (err) {
          if (!isNotFound(err) && !isMethodNotSupported(err)) throw err;
        }
      }
    }
    const left = (await client.list(call)).items;
    if (left.length === 0) return { estimate: 0, left: 0, finalizers: new Map() };
    const finalizers = new Map<string, number>();
    for (const item of left) for (const f of item.metadata?.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    if (estimate > 0) return { estimate, left: left.length, finalizers };
    if (finalizers.size > 0) return { estimate: FINALIZER_ESTIMATE_SECONDS, left: left.length, finalizers };
    return { estimate, left: left.length, finalizers, error: new ContentDeletionError(`unexpected items still remain in namespace: ${namespace} for gvr: ${gvrString(r)}`) };
  }

  /**
   * The longest grace period of the namespace's running pods, or 0 once that long has passed
   * since the namespace's deletion (upstream's estimateGracefulTerminationForPods).
   */
  private podEstimate(pods: readonly Pod[], deletedAt: number): number {
    let estimate = 0;
    for (const p of pods) {
      const phase = p.status?.phase;
      if (phase === "Succeeded" || phase === "Failed") continue;
      estimate = Math.max(estimate, p.spec?.terminationGracePeriodSeconds ?? 0);
    }
    return this.now() - deletedAt >= estimate * 1000 ? 0 : estimate;
  }
}
