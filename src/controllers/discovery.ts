// What the API server serves, read from its legacy discovery documents (/api, /apis and one
// APIResourceList per group version), for the controllers that work on every kind rather than
// a fixed few: the garbage collector watches everything that can have owners, and the
// namespace controller deletes everything namespaced. Like client-go's discovery, a group
// version that fails does not fail the whole answer: the rest is returned with the failures.
import type { KubeObject } from "../client/objects.js";
import type { RequestSpec } from "../client/rest.js";
import { splitApiVersion } from "../client/resources.js";

export interface ApiResource {
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** The plural resource name, e.g. "replicasets". */
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
}

export interface DiscoveryResult {
  /** Top-level resources (no subresources) of every group version that answered. */
  readonly all: readonly ApiResource[];
  /** The same, restricted to each group's preferred version (client-go's ServerPreferredResources). */
  readonly preferred: readonly ApiResource[];
  /** Group versions that did not answer, with why: `apps/v1` → message. */
  readonly failed: ReadonlyMap<string, string>;
}

/** The one call discovery needs; RestClient has it. */
export interface DiscoveryTransport {
  request<R>(spec: RequestSpec): Promise<R>;
}

export type Discover = (signal?: AbortSignal) => Promise<DiscoveryResult>;

export type DiscoveryErrorCode = "GroupDiscoveryFailed";

export class DiscoveryError extends Error {
  override readonly name = "DiscoveryError";
  constructor(
    readonly code: DiscoveryErrorCode,
    message: string,
    readonly groups: ReadonlyMap<string, string>,
  ) {
    super(message);
  }
}

/** client-go's ErrGroupDiscoveryFailed wording (namespace conditions quote it). */
export function groupDiscoveryFailed(failed: ReadonlyMap<string, string>): DiscoveryError {
  const parts = [...failed].map(([gv, msg]) => `${gv}: ${msg}`).sort();
  return new DiscoveryError("GroupDiscoveryFailed", `unable to retrieve the complete list of server APIs: ${parts.join(", ")}`, failed);
}

interface APIResourceWire {
  name: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
  group?: string;
  version?: string;
}
interface APIResourceListWire extends KubeObject {
  groupVersion: string;
  resources?: APIResourceWire[];
}
interface APIGroupWire {
  name: string;
  versions: { groupVersion: string; version: string }[];
  preferredVersion?: { groupVersion: string; version: string };
}

/** Discovery over the API. Each call reads the server afresh (new CRDs show up). */
export function serverDiscovery(client: DiscoveryTransport): Discover {
  return async (signal) => {
    const opts = signal ? { signal } : {};
    const core = await client.request<{ versions?: string[] }>({ method: "GET", path: "/api", ...opts });
    const groups = await client.request<{ groups?: APIGroupWire[] }>({ method: "GET", path: "/apis", ...opts });
    const gvs: { gv: string; preferred: boolean }[] = (core.versions ?? []).map((v, i) => ({ gv: v, preferred: i === 0 }));
    for (const g of groups.groups ?? []) {
      const pref = g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion;
      for (const v of g.versions) gvs.push({ gv: v.groupVersion, preferred: v.groupVersion === pref });
    }
    const failed = new Map<string, string>();
    const all: ApiResource[] = [];
    const preferred: ApiResource[] = [];
    const lists = await Promise.all(
      gvs.map(async ({ gv, preferred: pref }) => {
        const path = gv.includes("/") ? `/apis/${gv}` : `/api/${gv}`;
        try {
          return { gv, pref, list: await client.request<APIResourceListWire>({ method: "GET", path, ...opts }) };
        } catch (err) {
          if (signal?.aborted) throw err;
          failed.set(gv, err instanceof Error ? err.message : String(err));
          return undefined;
        }
      }),
    );
    for (const entry of lists) {
      if (!entry) continue;
      const { group, version } = splitApiVersion(entry.gv);
      for (const r of entry.list.resources ?? []) {
        if (r.name.includes("/")) continue;
        const res: ApiResource = Object.freeze({ group, version, plural: r.name, kind: r.kind, namespaced: r.namespaced, verbs: Object.freeze([...(r.verbs ?? [])]) });
        all.push(res);
        if (entry.pref) preferred.push(res);
      }
    }
    return { all, preferred, failed };
  };
}

/** A fixed answer, for tests and for callers that know what they need. */
export function staticDiscovery(resources: readonly ApiResource[], failed: ReadonlyMap<string, string> = new Map()): Discover {
  const seen = new Set<string>();
  const preferred = resources.filter((r) => {
    const k = `${r.group}|${r.plural}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return () => Promise.resolve({ all: resources, preferred, failed });
}

export function supportsVerbs(r: ApiResource, ...verbs: string[]): boolean {
  return verbs.every((v) => r.verbs.includes(v));
}

/** Maps an ownerReference's apiVersion+kind to its resource, as a RESTMapper does. */
export class ResourceMapper {
  private readonly byGroupKind = new Map<string, ApiResource[]>();

  constructor(resources: readonly ApiResource[]) {
    for (const r of resources) {
      const k = `${r.group}|${r.kind}`;
      const list = this.byGroupKind.get(k) ?? [];
      list.push(r);
      this.byGroupKind.set(k, list);
    }
  }

  /**
   * The resource for `apiVersion`/`kind`: the exact version if served, else the group's
   * first served version of the kind (objects are the same whichever version names them).
   */
  resourceFor(apiVersion: string, kind: string): ApiResource | undefined {
    const { group, version } = splitApiVersion(apiVersion);
    const list = this.byGroupKind.get(`${group}|${kind}`);
    if (!list) return undefined;
    return list.find((r) => r.version === version) ?? list[0];
  }
}
