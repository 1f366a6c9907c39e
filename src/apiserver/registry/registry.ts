// The set of served resources, indexed the ways requests and discovery look them up.
import type { GroupVersionKind, ResourceDefinition } from "./types.js";

export interface GroupVersion {
  readonly group: string;
  readonly version: string;
}

export interface ServedGroup {
  readonly name: string;
  /** Served versions, preferred first. */
  readonly versions: readonly string[];
}

/** Where a resource's objects live in the store: `/registry/<resource>/` for core, `/registry/<group>/<resource>/` otherwise. */
export function storagePrefix(group: string, resource: string): string {
  return group === "" ? `/registry/${resource}/` : `/registry/${group}/${resource}/`;
}

export function objectKey(def: ResourceDefinition, namespace: string, name: string): string {
  const base = def.storage ? storagePrefix(def.storage.group, def.storage.resource) : storagePrefix(def.group, def.plural);
  return def.namespaced ? `${base}${namespace}/${name}` : `${base}${name}`;
}

export function resourcePrefix(def: ResourceDefinition, namespace = ""): string {
  const base = def.storage ? storagePrefix(def.storage.group, def.storage.resource) : storagePrefix(def.group, def.plural);
  return def.namespaced && namespace !== "" ? `${base}${namespace}/` : base;
}

export function groupVersionString(gv: GroupVersion): string {
  return gv.group === "" ? gv.version : `${gv.group}/${gv.version}`;
}

/** Preferred version per group where the newest is not the first declared (upstream: autoscaling prefers v2). */
const preferredVersions: Record<string, string> = { autoscaling: "v2" };

export class Registry {
  private readonly byPath = new Map<string, ResourceDefinition>();
  private readonly byKind = new Map<string, ResourceDefinition>();
  private readonly groupList: ServedGroup[] = [];

  constructor(readonly definitions: readonly ResourceDefinition[]) {
    const versions = new Map<string, string[]>();
    for (const def of definitions) {
      const path = `${def.group}/${def.version}/${def.plural}`;
      if (this.byPath.has(path)) throw new Error(`resource ${path} declared twice`);
      this.byPath.set(path, def);
      this.byKind.set(`${def.group}/${def.version}/${def.kind}`, def);
      const vs = versions.get(def.group) ?? [];
      if (!vs.includes(def.version)) vs.push(def.version);
      versions.set(def.group, vs);
    }
    for (const [name, vs] of versions) {
      const preferred = preferredVersions[name];
      const ordered = preferred && vs.includes(preferred) ? [preferred, ...vs.filter((v) => v !== preferred)] : vs;
      this.groupList.push({ name, versions: ordered });
    }
  }

  /** The resource a request path names, or undefined. */
  lookup(group: string, version: string, plural: string): ResourceDefinition | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  forKind(gvk: GroupVersionKind): ResourceDefinition | undefined {
    return this.byKind.get(`${gvk.group}/${gvk.version}/${gvk.kind}`);
  }

  /** Served groups in declaration order (core "" first), versions preferred first. */
  groups(): readonly ServedGroup[] {
    return this.groupList;
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.groupList.some((g) => g.name === group && g.versions.includes(version));
  }

  resourcesOf(group: string, version: string): ResourceDefinition[] {
    return this.definitions.filter((d) => d.group === group && d.version === version);
  }

  /** Distinct storage locations (shared storage appears once), for the watch cache. */
  storagePrefixes(): string[] {
    return [...new Set(this.definitions.map((d) => resourcePrefix(d)))];
  }
}
