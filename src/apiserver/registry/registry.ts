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
  private groupList: ServedGroup[] = [];
  private defs: ResourceDefinition[] = [];
  /** Listeners told when resources come and go (discovery and OpenAPI drop their caches). */
  private readonly listeners: (() => void)[] = [];

  constructor(definitions: readonly ResourceDefinition[]) {
    for (const def of definitions) this.index(def);
    this.regroup();
  }

  /** Every served resource: the built-in ones in declaration order, then those added later. */
  get definitions(): readonly ResourceDefinition[] {
    return this.defs;
  }

  private index(def: ResourceDefinition): void {
    const path = `${def.group}/${def.version}/${def.plural}`;
    if (this.byPath.has(path)) throw new Error(`resource ${path} declared twice`);
    this.byPath.set(path, def);
    this.byKind.set(`${def.group}/${def.version}/${def.kind}`, def);
    this.defs.push(def);
  }

  private regroup(): void {
    const versions = new Map<string, string[]>();
    for (const def of this.defs) {
      const vs = versions.get(def.group) ?? [];
      if (!vs.includes(def.version)) vs.push(def.version);
      versions.set(def.group, vs);
    }
    this.groupList = [];
    for (const [name, vs] of versions) {
      const preferred = preferredVersions[name] ?? this.preferred.get(name);
      const ordered = preferred && vs.includes(preferred) ? [preferred, ...vs.filter((v) => v !== preferred)] : vs;
      this.groupList.push({ name, versions: ordered });
    }
  }

  /** Preferred versions of groups added at run time (a CRD's first served version by priority). */
  private readonly preferred = new Map<string, string>();

  /**
   * Serves more resources (a CustomResourceDefinition's versions), in the order given; a
   * group's versions are ordered as `versionOrder` says when given (upstream's version priority).
   */
  add(defs: readonly ResourceDefinition[], versionOrder?: readonly string[]): void {
    for (const def of defs) this.index(def);
    if (versionOrder?.[0] !== undefined && defs[0]) this.preferred.set(defs[0].group, versionOrder[0]);
    this.regroup();
    this.changed();
  }

  /** Stops serving resources added with add(). */
  remove(defs: readonly ResourceDefinition[]): void {
    const gone = new Set(defs);
    for (const def of defs) {
      if (this.byPath.get(`${def.group}/${def.version}/${def.plural}`) === def) this.byPath.delete(`${def.group}/${def.version}/${def.plural}`);
      if (this.byKind.get(`${def.group}/${def.version}/${def.kind}`) === def) this.byKind.delete(`${def.group}/${def.version}/${def.kind}`);
    }
    this.defs = this.defs.filter((d) => !gone.has(d));
    this.regroup();
    this.changed();
  }

  /** Calls `fn` whenever resources are added or removed. */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
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
    return this.defs.filter((d) => d.group === group && d.version === version);
  }

  /** Distinct storage locations (shared storage appears once), for the watch cache. */
  storagePrefixes(): string[] {
    return [...new Set(this.defs.map((d) => resourcePrefix(d)))];
  }
}
