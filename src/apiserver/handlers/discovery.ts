// Discovery: the legacy per-group-version lists (/api, /apis, /api/v1, /apis/G/V) and the
// aggregated documents (apidiscovery.k8s.io v2 and v2beta1) that kubectl 1.27+ asks for with
// its Accept header and recognizes by the response Content-Type.
import type { GroupVersionKind, ResourceDefinition, SubresourceName } from "../registry/types.js";
import type { Registry } from "../registry/registry.js";
import { parseAccept, sendJSON, type HttpContext } from "../http.js";
import { notFoundResource } from "./rest.js";
import type { VirtualResource } from "./virtual.js";

const defaultVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

interface SubresourceInfo {
  readonly verbs: readonly string[];
  readonly kind: (parent: GroupVersionKind) => GroupVersionKind;
}

const same = (p: GroupVersionKind): GroupVersionKind => p;
const core = (kind: string) => (): GroupVersionKind => ({ group: "", version: "v1", kind });
const proxyVerbs = ["create", "delete", "get", "patch", "update"];

const subresources: Record<SubresourceName | "finalize", SubresourceInfo> = {
  status: { verbs: ["get", "patch", "update"], kind: same },
  scale: { verbs: ["get", "patch", "update"], kind: () => ({ group: "autoscaling", version: "v1", kind: "Scale" }) },
  binding: { verbs: ["create"], kind: core("Binding") },
  eviction: { verbs: ["create"], kind: () => ({ group: "policy", version: "v1", kind: "Eviction" }) },
  log: { verbs: ["get"], kind: core("Pod") },
  exec: { verbs: ["create", "get"], kind: core("PodExecOptions") },
  attach: { verbs: ["create", "get"], kind: core("PodAttachOptions") },
  portforward: { verbs: ["create", "get"], kind: core("PodPortForwardOptions") },
  proxy: { verbs: proxyVerbs, kind: (p) => ({ group: "", version: "v1", kind: `${p.kind}ProxyOptions` }) },
  ephemeralcontainers: { verbs: ["get", "patch", "update"], kind: same },
  token: { verbs: ["create"], kind: () => ({ group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" }) },
  approval: { verbs: ["get", "patch", "update"], kind: same },
  finalize: { verbs: ["update"], kind: same },
};

function subresourcesOf(def: ResourceDefinition): (SubresourceName | "finalize")[] {
  const subs: (SubresourceName | "finalize")[] = [...(def.subresources ?? [])];
  if (def.group === "" && def.plural === "namespaces" && !subs.includes("finalize")) subs.push("finalize");
  return subs;
}

export class Discovery {
  private readonly legacyCache = new Map<string, string>();
  private aggregatedCache: Record<string, string> = {};

  constructor(
    private readonly registry: Registry,
    private readonly virtual: readonly VirtualResource[],
  ) {
    // Custom resources come and go with their CRDs.
    registry.onChange(() => this.invalidate());
  }

  /** Drops the cached documents (the served resources changed). */
  invalidate(): void {
    this.legacyCache.clear();
    this.aggregatedCache = {};
  }

  /** Served groups: the registry's, plus groups only virtual resources live in. */
  private groups(): { name: string; versions: string[] }[] {
    const out = this.registry.groups().map((g) => ({ name: g.name, versions: [...g.versions] }));
    for (const v of this.virtual) {
      const g = out.find((x) => x.name === v.group);
      if (!g) out.push({ name: v.group, versions: [v.version] });
      else if (!g.versions.includes(v.version)) g.versions.push(v.version);
    }
    return out;
  }

  private resourceList(group: string, version: string): unknown | undefined {
    const defs = this.registry.resourcesOf(group, version);
    const virt = this.virtual.filter((v) => v.group === group && v.version === version);
    if (defs.length === 0 && virt.length === 0) return undefined;
    const resources: unknown[] = [];
    for (const d of defs) {
      resources.push({
        name: d.plural,
        singularName: d.singular,
        namespaced: d.namespaced,
        kind: d.kind,
        verbs: d.verbs ?? defaultVerbs,
        ...(d.shortNames?.length ? { shortNames: d.shortNames } : {}),
        ...(d.categories?.length ? { categories: d.categories } : {}),
      });
      for (const s of subresourcesOf(d)) {
        const info = subresources[s];
        const k = info.kind({ group: d.group, version: d.version, kind: d.kind });
        resources.push({ name: `${d.plural}/${s}`, singularName: "", namespaced: d.namespaced, ...(k.group !== d.group || k.version !== d.version ? { group: k.group, version: k.version } : {}), kind: k.kind, verbs: info.verbs });
      }
    }
    for (const v of virt) resources.push({ name: v.plural, singularName: v.singular, namespaced: v.namespaced, kind: v.kind, verbs: v.verbs, ...(v.shortNames?.length ? { shortNames: v.shortNames } : {}) });
    return { kind: "APIResourceList", apiVersion: "v1", groupVersion: group === "" ? version : `${group}/${version}`, resources };
  }

  private aggregatedGroup(name: string, versions: readonly string[]): unknown {
    return {
      metadata: name === "" ? { creationTimestamp: null } : { name, creationTimestamp: null },
      versions: versions.map((version) => {
        const resources: unknown[] = this.registry.resourcesOf(name, version).map((d) => ({
          resource: d.plural,
          responseKind: { group: d.group, version: d.version, kind: d.kind },
          scope: d.namespaced ? "Namespaced" : "Cluster",
          singularResource: d.singular,
          verbs: d.verbs ?? defaultVerbs,
          ...(d.shortNames?.length ? { shortNames: d.shortNames } : {}),
          ...(d.categories?.length ? { categories: d.categories } : {}),
          ...(subresourcesOf(d).length
            ? {
                subresources: subresourcesOf(d).map((s) => ({
                  subresource: s,
                  responseKind: subresources[s].kind({ group: d.group, version: d.version, kind: d.kind }),
                  verbs: subresources[s].verbs,
                })),
              }
            : {}),
        }));
        for (const v of this.virtual.filter((x) => x.group === name && x.version === version)) {
          resources.push({ resource: v.plural, responseKind: { group: v.group, version: v.version, kind: v.kind }, scope: v.namespaced ? "Namespaced" : "Cluster", singularResource: v.singular, verbs: v.verbs, ...(v.shortNames?.length ? { shortNames: v.shortNames } : {}) });
        }
        return { version, resources, freshness: "Current" };
      }),
    };
  }

  /** Serves the request if it is a discovery path; false otherwise. */
  handle(ctx: HttpContext): boolean {
    if (ctx.req.method !== "GET" && ctx.req.method !== "HEAD") return false;
    const segs = ctx.url.pathname.split("/").filter(Boolean);
    if (segs[0] !== "api" && segs[0] !== "apis") return false;
    const legacy = segs[0] === "api";
    if ((legacy && segs.length === 1) || (!legacy && segs.length === 1)) {
      const aggregated = aggregatedVersion(ctx);
      if (aggregated) {
        const key = `${segs[0]}|${aggregated}`;
        const body = (this.aggregatedCache[key] ??= JSON.stringify({
          kind: "APIGroupDiscoveryList",
          apiVersion: `apidiscovery.k8s.io/${aggregated}`,
          metadata: {},
          items: legacy ? [this.aggregatedGroup("", ["v1"])] : this.groups().filter((g) => g.name !== "").map((g) => this.aggregatedGroup(g.name, g.versions)),
        }));
        sendJSON(ctx, 200, body, `application/json;g=apidiscovery.k8s.io;v=${aggregated};as=APIGroupDiscoveryList`);
        return true;
      }
      if (legacy) {
        sendJSON(ctx, 200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: ctx.req.headers.host ?? "" }] });
      } else {
        sendJSON(ctx, 200, { kind: "APIGroupList", apiVersion: "v1", groups: this.groups().filter((g) => g.name !== "").map(groupInfo) });
      }
      return true;
    }
    if (!legacy && segs.length === 2) {
      const g = this.groups().find((x) => x.name === segs[1]);
      if (!g) throw notFoundResource();
      sendJSON(ctx, 200, { kind: "APIGroup", apiVersion: "v1", ...groupInfo(g) });
      return true;
    }
    const isGroupVersion = legacy ? segs.length === 2 : segs.length === 3;
    if (!isGroupVersion) return false;
    const group = legacy ? "" : segs[1]!;
    const version = legacy ? segs[1]! : segs[2]!;
    const key = `${group}/${version}`;
    let body = this.legacyCache.get(key);
    if (body === undefined) {
      const list = this.resourceList(group, version);
      if (list === undefined) throw notFoundResource();
      body = JSON.stringify(list);
      this.legacyCache.set(key, body);
    }
    sendJSON(ctx, 200, body);
    return true;
  }
}

function groupInfo(g: { name: string; versions: readonly string[] }): Record<string, unknown> {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

/** "v2" or "v2beta1" when the client asked for aggregated discovery, else undefined. */
function aggregatedVersion(ctx: HttpContext): string | undefined {
  for (const r of parseAccept(ctx.req.headers.accept)) {
    if (r.type !== "application/json") continue;
    if (r.params["g"] === "apidiscovery.k8s.io" && r.params["as"] === "APIGroupDiscoveryList" && (r.params["v"] === "v2" || r.params["v"] === "v2beta1")) return r.params["v"];
    if (!r.params["as"]) return undefined;
  }
  return undefined;
}
