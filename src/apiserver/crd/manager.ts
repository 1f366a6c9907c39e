// The API server's own work on CustomResourceDefinitions (upstream's apiextensions-apiserver
// controllers, in process): names acceptance (NamingConditionController), Established
// (EstablishingController), serving each established CRD's versions (the crdHandler's per-CRD
// storage, watch cache included), and deletion of every custom resource before the CRD goes
// (the finalizer controller and customresourcecleanup.apiextensions.k8s.io). Level-based: each
// change of a CRD enqueues its name, and the work re-reads the CRD.
import type { CustomResourceDefinition, CustomResourceDefinitionCondition, CustomResourceDefinitionNames } from "kubernetes-types/apiextensions/v1.js";
import type { Logger } from "pino";
import { setStatusCondition } from "../../api/conditions.js";
import type { Registry } from "../registry/registry.js";
import { resourcePrefix } from "../registry/registry.js";
import type { ResourceDefinition } from "../registry/types.js";
import type { RequestContext, ResourceStore } from "../rest/store.js";
import { StatusError } from "../status.js";
import type { WatchCache } from "../watchcache.js";
import { CLEANUP_FINALIZER } from "./definition.js";
import { customResourceDefinitionsOf, customResourceInfo, sortVersions } from "./customresource.js";

export interface CrdManagerDeps {
  /** The customresourcedefinitions store. */
  readonly crds: ResourceStore;
  readonly registry: Registry;
  readonly cache: WatchCache;
  /** Where served resources' stores live (the REST handler reads it). */
  readonly stores: Map<ResourceDefinition, ResourceStore>;
  readonly makeStore: (def: ResourceDefinition) => ResourceStore;
  readonly log: Logger;
}

type Crd = CustomResourceDefinition;
type Condition = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string };

const SYSTEM = { username: "system:apiserver", groups: ["system:masters"] };
const RETRY_MS = 500;

/** Names of `crd` that `other` (a CRD of the same group, or a built-in resource) already uses. */
function nameConflict(names: CustomResourceDefinitionNames, taken: { plurals: Set<string>; singulars: Set<string>; shortNames: Set<string>; kinds: Set<string>; listKinds: Set<string> }): { reason: string; message: string } | undefined {
  if (taken.plurals.has(names.plural) || taken.singulars.has(names.plural) || taken.shortNames.has(names.plural)) return { reason: "PluralConflict", message: `"${names.plural}" is already in use` };
  const singular = names.singular ?? "";
  if (singular !== "" && (taken.plurals.has(singular) || taken.singulars.has(singular) || taken.shortNames.has(singular))) return { reason: "SingularConflict", message: `"${singular}" is already in use` };
  for (const s of names.shortNames ?? []) {
    if (taken.plurals.has(s) || taken.singulars.has(s) || taken.shortNames.has(s)) return { reason: "ShortNamesConflict", message: `"${s}" is already in use` };
  }
  if (taken.kinds.has(names.kind) || taken.listKinds.has(names.kind)) return { reason: "KindConflict", message: `"${names.kind}" is already in use` };
  const listKind = names.listKind ?? "";
  if (listKind !== "" && (taken.kinds.has(listKind) || taken.listKinds.has(listKind))) return { reason: "ListKindConflict", message: `"${listKind}" is already in use` };
  return undefined;
}

function condition(crd: Crd, type: string): CustomResourceDefinitionCondition | undefined {
  return (crd.status?.conditions ?? []).find((c) => c.type === type);
}

function isTrue(crd: Crd, type: string): boolean {
  return condition(crd, type)?.status === "True";
}

export class CrdManager {
  /** What is served for each CRD by name: its definitions and what they were built from. */
  private readonly served = new Map<string, { readonly key: string; readonly defs: readonly ResourceDefinition[] }>();
  private readonly queue = new Set<string>();
  private worker: Promise<void> | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private watcher: Awaited<ReturnType<ResourceStore["watch"]>> | undefined;

  constructor(private readonly deps: CrdManagerDeps) {}

  /** Serves every CRD in the store (before the server reports ready), then follows changes. */
  async start(): Promise<void> {
    const { items } = await this.deps.crds.list("");
    for (const item of items) await this.reconcile(item.metadata?.name ?? "");
    this.watcher = await this.deps.crds.watch("", {});
    this.loop = this.follow();
  }

  private async follow(): Promise<void> {
    while (!this.abort.signal.aborted && this.watcher) {
      try {
        for await (const ev of this.watcher) {
          this.enqueue(ev.object.object.metadata?.name ?? "");
          // Names a CRD gives up (deleted, or changed) may be what another of its group waits for.
          const group = (ev.object.object["spec"] as { group?: string } | undefined)?.group;
          if (group !== undefined) await this.enqueueWaiting(group);
        }
      } catch (err) {
        this.deps.log.warn({ err }, "customresourcedefinitions watch ended; watching again");
      }
      if (this.abort.signal.aborted) return;
      await new Promise((r) => setTimeout(r, 100));
      try {
        this.watcher = await this.deps.crds.watch("", {});
      } catch (err) {
        this.deps.log.warn({ err }, "customresourcedefinitions watch failed");
      }
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue.clear();
    this.watcher?.close();
    await this.loop;
    await this.worker?.catch(() => undefined);
  }

  enqueue(name: string): void {
    if (name === "" || this.abort.signal.aborted) return;
    this.queue.add(name);
    this.worker ??= this.work().finally(() => {
      this.worker = undefined;
      if (this.queue.size > 0) this.worker = this.work();
    });
  }

  private async work(): Promise<void> {
    while (this.queue.size > 0 && !this.abort.signal.aborted) {
      const name = this.queue.values().next().value as string;
      this.queue.delete(name);
      // Other work gets its turn between CRDs (an in-memory store answers without yielding).
      await new Promise((r) => setImmediate(r));
      try {
        await this.reconcile(name);
      } catch (err) {
        this.deps.log.warn({ err, crd: name }, "customresourcedefinition sync failed; retrying");
        this.later(name);
      }
    }
  }

  /** CRDs of `group` whose names are not accepted: looked at again. */
  private async enqueueWaiting(group: string): Promise<void> {
    const { items } = await this.deps.crds.list("");
    for (const item of items as unknown as Crd[]) {
      if (item.spec?.group === group && !isTrue(item, "NamesAccepted")) this.enqueue(item.metadata?.name ?? "");
    }
  }

  private later(name: string): void {
    if (this.abort.signal.aborted) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.enqueue(name);
    }, RETRY_MS);
    t.unref();
    this.timers.add(t);
  }

  private ctx(): RequestContext {
    return { namespace: "", user: SYSTEM, now: new Date(), dryRun: false };
  }

  private async reconcile(name: string): Promise<void> {
    let crd: Crd;
    try {
      crd = (await this.deps.crds.get("", name)) as unknown as Crd;
    } catch (err) {
      if (err instanceof StatusError && err.code === 404) {
        this.unserve(name);
        return;
      }
      throw err;
    }
    if (crd.metadata?.deletionTimestamp) {
      await this.finalize(crd);
      return;
    }
    crd = await this.updateNames(crd);
    if (isTrue(crd, "Established")) await this.serve(crd);
    else this.unserve(name);
  }

  /** Everything a CRD's names may not collide with: the group's other CRDs' accepted names and built-in resources. */
  private takenNames(crd: Crd, others: readonly Crd[]): Parameters<typeof nameConflict>[1] {
    const taken = { plurals: new Set<string>(), singulars: new Set<string>(), shortNames: new Set<string>(), kinds: new Set<string>(), listKinds: new Set<string>() };
    for (const o of others) {
      if (o.metadata?.name === crd.metadata?.name || o.spec?.group !== crd.spec.group) continue;
      const a = o.status?.acceptedNames;
      if (!a) continue;
      if (a.plural) taken.plurals.add(a.plural);
      if (a.singular) taken.singulars.add(a.singular);
      for (const s of a.shortNames ?? []) taken.shortNames.add(s);
      if (a.kind) taken.kinds.add(a.kind);
      if (a.listKind) taken.listKinds.add(a.listKind);
    }
    for (const def of this.deps.registry.definitions) {
      if (def.group !== crd.spec.group || customResourceInfo(def)) continue;
      taken.plurals.add(def.plural);
      taken.singulars.add(def.singular);
      for (const s of def.shortNames ?? []) taken.shortNames.add(s);
      taken.kinds.add(def.kind);
      taken.listKinds.add(`${def.kind}List`);
    }
    return taken;
  }

  /** NamesAccepted and Established, with acceptedNames, as upstream's naming and establishing controllers set them. */
  private async updateNames(crd: Crd): Promise<Crd> {
    const { items } = await this.deps.crds.list("");
    const conflict = nameConflict(crd.spec.names, this.takenNames(crd, items as unknown as Crd[]));
    const wanted = (current: Crd): { conditions: Condition[]; acceptedNames: CustomResourceDefinitionNames } => {
      const conditions = ((current.status?.conditions ?? []) as Condition[]).map((c) => ({ ...c }));
      const now = new Date();
      let acceptedNames = current.status?.acceptedNames ?? { plural: "", kind: "" };
      if (conflict) {
        setStatusCondition(conditions, { type: "NamesAccepted", status: "False", reason: conflict.reason, message: conflict.message }, now);
        if (!isTrue(current, "Established")) setStatusCondition(conditions, { type: "Established", status: "False", reason: "NotAccepted", message: "not all names are accepted" }, now);
      } else {
        acceptedNames = { ...current.spec.names };
        setStatusCondition(conditions, { type: "NamesAccepted", status: "True", reason: "NoConflicts", message: "no conflicts found" }, now);
        if (!isTrue(current, "Established")) setStatusCondition(conditions, { type: "Established", status: "True", reason: "InitialNamesAccepted", message: "the initial names have been accepted" }, now);
      }
      return { conditions, acceptedNames };
    };
    const first = wanted(crd);
    if (JSON.stringify(first.conditions) === JSON.stringify(crd.status?.conditions ?? []) && JSON.stringify(first.acceptedNames) === JSON.stringify(crd.status?.acceptedNames ?? {})) return crd;
    const { object } = await this.deps.crds.update(
      "",
      crd.metadata?.name ?? "",
      (current) => {
        if (!current) throw new Error("customresourcedefinition is gone");
        const c = current as unknown as Crd;
        const w = wanted(c);
        return { ...current, status: { ...(current["status"] as object), conditions: w.conditions, acceptedNames: w.acceptedNames } };
      },
      this.ctx(),
      { subresource: "status" },
    );
    return object as unknown as Crd;
  }

  private async serve(crd: Crd): Promise<void> {
    const name = crd.metadata?.name ?? "";
    const key = JSON.stringify([crd.spec, crd.status?.acceptedNames]);
    const old = this.served.get(name);
    if (old?.key === key) return;
    const defs = customResourceDefinitionsOf(crd);
    if (defs.length === 0) {
      this.unserve(name);
      return;
    }
    // The cache holds the resource before requests can reach it.
    await this.deps.cache.addPrefix(resourcePrefix(defs[0]!));
    if (old) {
      this.deps.registry.remove(old.defs);
      for (const d of old.defs) this.deps.stores.delete(d);
    }
    for (const d of defs) this.deps.stores.set(d, this.deps.makeStore(d));
    this.deps.registry.add(
      defs,
      sortVersions(defs.map((d) => d.version)),
    );
    this.served.set(name, { key, defs });
    this.deps.log.info({ crd: name, versions: defs.map((d) => d.version) }, "serving custom resources");
  }

  private unserve(name: string): void {
    const old = this.served.get(name);
    if (!old) return;
    this.served.delete(name);
    this.deps.registry.remove(old.defs);
    for (const d of old.defs) this.deps.stores.delete(d);
    if (old.defs[0]) this.deps.cache.removePrefix(resourcePrefix(old.defs[0]));
    this.deps.log.info({ crd: name }, "stopped serving custom resources");
  }

  /** A CRD being deleted: its custom resources go first, then the cleanup finalizer (upstream's finalizer controller). */
  private async finalize(crd: Crd): Promise<void> {
    const name = crd.metadata?.name ?? "";
    if (!(crd.metadata?.finalizers ?? []).includes(CLEANUP_FINALIZER)) {
      this.unserve(name);
      return;
    }
    const served = this.served.get(name);
    for (const d of served?.defs ?? []) {
      const info = customResourceInfo(d);
      if (info) info.terminating = true;
    }
    // Set once: flipping between reasons on every pass would be a write, an event and a pass again.
    if (condition(crd, "Terminating")?.reason === "InstanceDeletionPending") await this.setTerminating(name, "InstanceDeletionInProgress", "CustomResource deletion is in progress");
    const store = served?.defs[0] ? this.deps.stores.get(served.defs[0]) : undefined;
    if (store) {
      const { items } = await store.list("");
      for (const item of items) {
        try {
          await store.delete(item.metadata?.namespace ?? "", item.metadata?.name ?? "", {}, { ...this.ctx(), namespace: item.metadata?.namespace ?? "" });
        } catch (err) {
          if (!(err instanceof StatusError && err.code === 404)) throw err;
        }
      }
      const left = await store.list("");
      if (left.items.length > 0) {
        // Finalizers of custom resources hold them; look again a little later.
        await this.setTerminating(name, "InstanceDeletionCheck", `could not confirm zero CustomResources remaining: ${left.items.length} remaining`);
        this.later(name);
        return;
      }
    }
    this.unserve(name);
    await this.setTerminating(name, "InstanceDeletionCompleted", "removed all instances");
    await this.deps.crds.update(
      "",
      name,
      (current) => {
        if (!current) throw new StatusError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "gone", reason: "NotFound", code: 404 });
        const meta = { ...current.metadata };
        meta.finalizers = (meta.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER);
        return { ...current, metadata: meta };
      },
      this.ctx(),
      { borrow: true },
    ).catch((err: unknown) => {
      if (!(err instanceof StatusError && err.code === 404)) throw err;
    });
  }

  private async setTerminating(name: string, reason: string, message: string): Promise<void> {
    await this.deps.crds.update(
      "",
      name,
      (current) => {
        if (!current) throw new StatusError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "gone", reason: "NotFound", code: 404 });
        const status = (current["status"] ?? {}) as { conditions?: Condition[] };
        const conditions = (status.conditions ?? []).map((c) => ({ ...c }));
        setStatusCondition(conditions, { type: "Terminating", status: "True", reason, message }, new Date());
        return { ...current, status: { ...status, conditions } };
      },
      this.ctx(),
      { subresource: "status", borrow: true },
    );
  }
}

