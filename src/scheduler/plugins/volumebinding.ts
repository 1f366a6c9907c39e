// VolumeBinding (upstream pkg/scheduler/framework/plugins/volumebinding): a pod's
// PersistentVolumeClaims decide where it can run, and the scheduler binds the claims whose class
// waits for the first consumer.
//
// - PreFilter: a pod without claims is skipped (the hot path: nothing is allocated). Otherwise
//   every claim must exist, not be being deleted, belong to the pod if it is ephemeral, and be
//   bound unless its class binds on first consumer (WaitForFirstConsumer); a class that binds
//   at once (Immediate, or no class) leaves binding to the PV controller.
// - Filter: bound claims' volumes must allow the node (their node affinity); each unbound
//   WaitForFirstConsumer claim needs a static volume that fits the node or a class that can
//   provision there (a provisioner, and allowedTopologies that match the node).
// - Reserve: what was chosen on the node is assumed at once, so that the next pod of a burst
//   does not take the same volume (upstream's assume cache); Unreserve forgets it.
// - PreBind: writes the choice (the volume's claimRef; the claim's selected-node annotation,
//   for the provisioner) and waits, woken by the informers, until every claim is bound.
import type { ObjectReference, PersistentVolume, PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_SELECTED_NODE,
  claimClass,
  ephemeralClaimIsForPod,
  findMatchingVolume,
  isVolumeBoundToClaim,
  NO_PROVISIONER,
  podClaims,
  volumeClass,
} from "../../api/persistentvolume.js";
import { quantityOf } from "../../api/quantity.js";
import type { Clock } from "../../client/clock.js";
import { realClock } from "../../client/clock.js";
import type { DeepReadonly } from "../../client/objects.js";
import type { Logger } from "../../util/log.js";
import type { SchedulerApi } from "../api.js";
import type { Handle } from "../framework/handle.js";
import { nodeSelectorMatches, type Labels } from "../framework/helpers.js";
import type { NodeInfo } from "../framework/nodeinfo.js";
import type { PodInfo, RPod } from "../framework/podinfo.js";
import {
  Code,
  Status,
  type ClusterEvent,
  type CycleState,
  type FilterPlugin,
  type PreBindPlugin,
  type PreFilterPlugin,
  type PreFilterResult,
  type ReservePlugin,
  type StateData,
} from "../framework/types.js";
import { VOLUME_BINDING } from "./names.js";

export type RPV = DeepReadonly<PersistentVolume>;
export type RPVC = DeepReadonly<PersistentVolumeClaim>;
export type RStorageClass = DeepReadonly<StorageClass>;

/** Upstream's ConflictReasons (binder.go), as users see them in FailedScheduling. */
export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_NODE_CONFLICT = "node(s) had volume node affinity conflict";
export const ERR_REASON_PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
export const ERR_REASON_UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims";

/** Upstream's default VolumeBindingArgs.bindTimeoutSeconds. */
export const DEFAULT_BIND_TIMEOUT_MS = 600_000;

/** The scheduler's view of claims, volumes and classes (its informers' listers). */
export interface VolumeLookup {
  claim(namespace: string, name: string): RPVC | undefined;
  volume(name: string): RPV | undefined;
  volumes(): Iterable<RPV>;
  /**
   * Optional index: the volumes without a claimRef plus those whose claimRef names one of
   * `claims` in `namespace` (all a claim could bind to). Without it, every volume is looked at.
   */
  volumesFor?(namespace: string, claims: Iterable<string>): Iterable<RPV>;
  storageClass(name: string): RStorageClass | undefined;
}

/** The index key volumesFor uses: the claim a volume's claimRef names, "" for none. */
export function claimRefIndexKey(pv: RPV): string {
  const ref = pv.spec?.claimRef;
  return ref?.name ? `${ref.namespace ?? ""}/${ref.name}` : "";
}

/** No claims, volumes or classes: a scheduler without storage informers (unit tests). */
export const NO_VOLUMES: VolumeLookup = {
  claim: () => undefined,
  volume: () => undefined,
  volumes: () => [],
  storageClass: () => undefined,
};

/**
 * Wakes the PreBinds waiting for their claims to be bound. Each waiter names what it waits on
 * (its claims, its volumes, its pod and node: see the key functions); whoever feeds the
 * informers calls `changed` with the keys of what changed, so a burst of bindings costs each
 * event only the waiters it concerns.
 */
export class VolumeEvents {
  private readonly byKey = new Map<string, Set<() => void>>();
  private count = 0;

  subscribe(keys: readonly string[], fn: () => void): () => void {
    for (const k of keys) {
      let set = this.byKey.get(k);
      if (!set) this.byKey.set(k, (set = new Set()));
      set.add(fn);
    }
    this.count++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.count--;
      for (const k of keys) {
        const set = this.byKey.get(k);
        set?.delete(fn);
        if (set?.size === 0) this.byKey.delete(k);
      }
    };
  }

  /** Waiters subscribed. */
  get waiting(): number {
    return this.count;
  }

  changed(...keys: string[]): void {
    if (this.count === 0) return;
    let woken: Set<() => void> | undefined;
    for (const k of keys) for (const fn of this.byKey.get(k) ?? []) (woken ??= new Set()).add(fn);
    if (woken) for (const fn of woken) fn();
  }
}

export const claimEventKey = (namespace: string, name: string): string => `pvc:${namespace}/${name}`;
export const volumeEventKey = (name: string): string => `pv:${name}`;
export const podEventKey = (namespace: string, name: string): string => `pod:${namespace}/${name}`;
export const nodeEventKey = (name: string): string => `node:${name}`;

/** The keys a claim or volume event concerns (a volume's also its claimRef's claim). */
export function volumeObjectEventKeys(obj: RPV | RPVC): string[] {
  if (obj.kind === "PersistentVolumeClaim") return [claimEventKey(obj.metadata?.namespace ?? "", obj.metadata?.name ?? "")];
  const keys = [volumeEventKey(obj.metadata?.name ?? "")];
  const ref = (obj as RPV).spec?.claimRef;
  if (ref?.name) keys.push(claimEventKey(ref.namespace ?? "", ref.name));
  return keys;
}

/** A claim's key in the lookup and in the assume cache. */
export function claimKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * Objects changed in memory ahead of the API (upstream's assume cache, kept simple): an assumed
 * version stands while the informer still holds the version it was made from; once the
 * informer has anything newer (our own write coming back, or someone else's), that wins.
 */
class AssumeCache<T extends { readonly metadata?: { readonly resourceVersion?: string } }> {
  private readonly assumed = new Map<string, { readonly obj: T; readonly base: string | undefined }>();

  view(key: string, live: T | undefined): T | undefined {
    if (this.assumed.size === 0) return live;
    const a = this.assumed.get(key);
    if (a === undefined) return live;
    if (live === undefined || live.metadata?.resourceVersion !== a.base) {
      this.assumed.delete(key);
      return live;
    }
    return a.obj;
  }

  assume(key: string, obj: T, base: string | undefined): void {
    this.assumed.set(key, { obj, base });
  }

  /** Forgets `obj` if it is still what is assumed under `key`. */
  restore(key: string, obj: T): void {
    if (this.assumed.get(key)?.obj === obj) this.assumed.delete(key);
  }

  get size(): number {
    return this.assumed.size;
  }
}

/** A claim the PV controller finished binding (upstream isPVCFullyBound, also accepting phase Bound). */
export function isClaimFullyBound(pvc: RPVC): boolean {
  if (!pvc.spec?.volumeName) return false;
  return pvc.metadata?.annotations?.[ANN_BIND_COMPLETED] !== undefined || pvc.status?.phase === "Bound";
}

function bindingModeOf(pvc: RPVC, classes: VolumeLookup): string {
  const name = claimClass(pvc as PersistentVolumeClaim);
  if (name === "") return "";
  return classes.storageClass(name)?.volumeBindingMode ?? "";
}

/** v1helper.MatchTopologySelectorTerms: no terms match every node; terms are ORed, expressions ANDed. */
export function matchesAllowedTopologies(sc: RStorageClass, labels: Labels): boolean {
  const terms = sc.allowedTopologies ?? [];
  if (terms.length === 0) return true;
  return terms.some((t) => (t.matchLabelExpressions ?? []).every((e) => labels[e.key] !== undefined && e.values.includes(labels[e.key]!)));
}

/** A class that can make a volume: it names a provisioner other than kubernetes.io/no-provisioner. */
export function canProvision(sc: RStorageClass): boolean {
  return sc.provisioner !== "" && sc.provisioner !== NO_PROVISIONER;
}

/** volume.GetBindVolumeToClaim: the volume with its claimRef on the claim (and bound-by-controller unless pre-bound). */
export function bindVolumeToClaim(pv: RPV, pvc: RPVC): PersistentVolume {
  const out = structuredClone(pv) as PersistentVolume;
  const preBound = isVolumeBoundToClaim(pv as PersistentVolume, pvc as PersistentVolumeClaim);
  const ref = pv.spec?.claimRef;
  const m = pvc.metadata ?? {};
  if (!ref || ref.name !== m.name || ref.namespace !== m.namespace || ref.uid !== m.uid) {
    const claimRef: ObjectReference = { kind: "PersistentVolumeClaim", namespace: m.namespace ?? "", name: m.name ?? "", uid: m.uid ?? "", apiVersion: "v1" };
    if (m.resourceVersion) claimRef.resourceVersion = m.resourceVersion;
    out.spec = { ...out.spec, claimRef };
  }
  if (!preBound && out.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER] === undefined) {
    out.metadata = { ...out.metadata, annotations: { ...out.metadata?.annotations, [ANN_BOUND_BY_CONTROLLER]: "yes" } };
  }
  return out;
}

function requestOf(pvc: RPVC): ReturnType<typeof quantityOf> {
  return quantityOf(pvc.spec?.resources?.requests?.["storage"]);
}

export interface StaticBinding {
  readonly pv: RPV;
  readonly pvc: RPVC;
}

/** What the pod's unbound claims would get on one node. */
export interface PodVolumes {
  readonly bindings: readonly StaticBinding[];
  readonly provisions: readonly RPVC[];
}

/** The outcome of looking at one node: the reasons it does not fit, or what the claims would get. */
export type NodeVolumes = { readonly reasons: readonly string[]; readonly error?: undefined } | { readonly reasons?: undefined; readonly error: string } | (PodVolumes & { readonly reasons?: undefined; readonly error?: undefined });

/**
 * The volumes one claim could bind to, matched once per cycle on everything but the node
 * (class, mode, access modes, selector, size, phase), and grouped so that Filter looks only at
 * those a node can use: volumes for any node, volumes pinned to hostnames (local volumes, the
 * common case), and the rest.
 */
export interface ClaimCandidates {
  readonly anyNode: readonly RPV[];
  readonly byHost: ReadonlyMap<string, readonly RPV[]>;
  readonly other: readonly RPV[];
}

const LABEL_HOSTNAME = "kubernetes.io/hostname";

/** The hostnames a volume is pinned to (one term, one `kubernetes.io/hostname In [...]`), else undefined. */
function pinnedHosts(pv: RPV): readonly string[] | undefined {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms || terms.length !== 1) return undefined;
  const t = terms[0]!;
  if ((t.matchFields?.length ?? 0) > 0 || t.matchExpressions?.length !== 1) return undefined;
  const e = t.matchExpressions[0]!;
  return e.key === LABEL_HOSTNAME && e.operator === "In" ? (e.values ?? []) : undefined;
}

function claimCandidates(pvc: RPVC, volumes: readonly RPV[]): ClaimCandidates {
  const anyNode: RPV[] = [];
  const byHost = new Map<string, RPV[]>();
  const other: RPV[] = [];
  for (const pv of volumes) {
    // Without a node, findMatchingVolume checks everything but node affinity.
    if (findMatchingVolume(pvc as PersistentVolumeClaim, [pv as PersistentVolume]) === undefined) continue;
    if (!pv.spec?.nodeAffinity?.required) {
      anyNode.push(pv);
      continue;
    }
    const hosts = pinnedHosts(pv);
    if (hosts === undefined) {
      other.push(pv);
      continue;
    }
    for (const h of hosts) {
      let l = byHost.get(h);
      if (!l) byHost.set(h, (l = []));
      l.push(pv);
    }
  }
  return { anyNode, byHost, other };
}

/** The candidates a node could use (a superset: findMatchingVolume still checks the affinity). */
function candidatesOn(c: ClaimCandidates, node: NodeInfo): readonly RPV[] {
  const host = node.labels[LABEL_HOSTNAME];
  const pinned = host === undefined ? undefined : c.byHost.get(host);
  if (!pinned) return c.other.length === 0 ? c.anyNode : [...c.anyNode, ...c.other];
  if (c.anyNode.length === 0 && c.other.length === 0) return pinned;
  return [...c.anyNode, ...pinned, ...c.other];
}

/** The pod's claims as PreFilter found them; Reserve adds what was chosen. */
export class VolumeBindingState implements StateData {
  /** Set by Reserve: nothing to bind (every claim already bound). */
  allBound = false;
  /** Set by Reserve: the assumed choices, written by PreBind. */
  chosen: { bindings: StaticBinding[]; provisions: RPVC[] } | undefined;

  constructor(
    /** Claims already bound, with their volumes (undefined: the volume does not exist). */
    readonly bound: readonly { readonly pvc: RPVC; readonly pv: RPV | undefined }[],
    /** Unbound claims of WaitForFirstConsumer classes, smallest request first. */
    readonly delayed: readonly RPVC[],
    /** Per delayed claim (in `delayed`'s order), the volumes it could bind to on some node. */
    readonly candidates: readonly ClaimCandidates[],
  ) {}

  clone(): StateData {
    return this;
  }
}

const STATE_KEY = "PreFilter" + VOLUME_BINDING;
const NOTHING_TO_BIND: PodVolumes = { bindings: [], provisions: [] };
const SKIP = new Status(Code.Skip, [], VOLUME_BINDING);
const UNBOUND_IMMEDIATE = new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_UNBOUND_IMMEDIATE], VOLUME_BINDING);

/** Whether the pod uses any claim: a loop with no allocation (the pods-without-volumes hot path). */
export function podHasClaims(pod: RPod): boolean {
  const vols = pod.spec?.volumes;
  if (vols === undefined) return false;
  for (let i = 0; i < vols.length; i++) {
    const v = vols[i]!;
    if (v.persistentVolumeClaim || v.ephemeral) return true;
  }
  return false;
}

/** Whether the pod uses the claim `namespace/name` (the queueing hint of claim events). */
export function podUsesClaim(pod: RPod, namespace: string, name: string): boolean {
  if (pod.metadata?.namespace !== namespace || !podHasClaims(pod)) return false;
  return podClaims(pod as Pod).some((c) => c.claim === name);
}

export interface VolumeBindingDeps {
  readonly volumes: VolumeLookup;
  /** Tells PreBind that claims or volumes changed (see VolumeEvents); absent: PreBind cannot wait. */
  readonly events?: VolumeEvents;
  readonly handle: Handle;
  /** The API writes of PreBind; absent (`k8ts why`): PreBind is not used. */
  readonly api?: Pick<SchedulerApi, "updatePersistentVolume" | "updatePersistentVolumeClaim">;
  /** The informer's current version of the pod (a pod deleted meanwhile cancels its binding). */
  readonly currentPod?: (pod: PodInfo) => PodInfo | undefined;
  readonly clock?: Clock;
  readonly bindTimeoutMs?: number;
  readonly log?: Logger;
}

export class VolumeBinding implements PreFilterPlugin, FilterPlugin, ReservePlugin, PreBindPlugin {
  readonly name = VOLUME_BINDING;
  // Upstream also registers CSINode, CSIDriver and CSIStorageCapacity events; k8ts has no CSI.
  readonly events: readonly ClusterEvent[] = [
    "StorageClassAdd",
    "StorageClassUpdate",
    "PersistentVolumeClaimAdd",
    "PersistentVolumeClaimUpdate",
    "PersistentVolumeAdd",
    "PersistentVolumeUpdate",
    "NodeAdd",
    "NodeLabel",
  ];
  private readonly pvs = new AssumeCache<RPV>();
  private readonly pvcs = new AssumeCache<RPVC>();
  private readonly clock: Clock;
  private readonly bindTimeoutMs: number;

  constructor(private readonly d: VolumeBindingDeps) {
    this.clock = d.clock ?? realClock;
    this.bindTimeoutMs = d.bindTimeoutMs ?? DEFAULT_BIND_TIMEOUT_MS;
  }

  /** A claim as the scheduler sees it: the informer's, or what a pod being bound assumed. */
  claimView(namespace: string, name: string): RPVC | undefined {
    const key = claimKey(namespace, name);
    return this.pvcs.view(key, this.d.volumes.claim(namespace, name));
  }

  volumeView(name: string): RPV | undefined {
    return this.pvs.view(name, this.d.volumes.volume(name));
  }

  /** Volumes assumed or claims assumed, for tests. */
  get assumedCount(): number {
    return this.pvs.size + this.pvcs.size;
  }

  preFilter(state: CycleState, pod: PodInfo): { result?: PreFilterResult; status: Status | null } {
    if (!podHasClaims(pod.pod)) return { status: SKIP };
    const bound: { pvc: RPVC; pv: RPV | undefined }[] = [];
    const delayed: RPVC[] = [];
    let unboundImmediate = false;
    for (const { claim: name, ephemeral } of podClaims(pod.pod as Pod)) {
      const pvc = this.claimView(pod.namespace, name);
      if (!pvc) {
        // Normal for a moment after a pod with an ephemeral volume is created.
        const msg = ephemeral ? `waiting for ephemeral volume controller to create the persistentvolumeclaim "${name}"` : `persistentvolumeclaim "${name}" not found`;
        return { status: new Status(Code.UnschedulableAndUnresolvable, [msg], VOLUME_BINDING) };
      }
      if (pvc.status?.phase === "Lost") {
        return { status: new Status(Code.UnschedulableAndUnresolvable, [`persistentvolumeclaim "${name}" bound to non-existent persistentvolume "${pvc.spec?.volumeName ?? ""}"`], VOLUME_BINDING) };
      }
      if (pvc.metadata?.deletionTimestamp) {
        return { status: new Status(Code.UnschedulableAndUnresolvable, [`persistentvolumeclaim "${name}" is being deleted`], VOLUME_BINDING) };
      }
      if (ephemeral && (pvc.metadata?.namespace !== pod.namespace || !ephemeralClaimIsForPod(pod.pod as Pod, pvc as PersistentVolumeClaim))) {
        return { status: new Status(Code.UnschedulableAndUnresolvable, [`PVC ${pvc.metadata?.namespace ?? ""}/${name} was not created for pod ${pod.namespace}/${pod.name} (pod is not owner)`], VOLUME_BINDING) };
      }
      if (isClaimFullyBound(pvc)) {
        bound.push({ pvc, pv: this.volumeView(pvc.spec!.volumeName!) });
      } else if (bindingModeOf(pvc, this.d.volumes) === "WaitForFirstConsumer" && !pvc.spec?.volumeName) {
        delayed.push(pvc);
      } else {
        // Immediate (or pre-bound to a volume): the PV controller binds it, not the scheduler.
        unboundImmediate = true;
      }
    }
    if (unboundImmediate) return { status: UNBOUND_IMMEDIATE };
    const candidates: ClaimCandidates[] = [];
    if (delayed.length > 0) {
      // Smallest request first: each gets the smallest volume that holds it (upstream byPVCSize).
      delayed.sort((a, b) => {
        const qa = requestOf(a);
        const qb = requestOf(b);
        if (qa === undefined || qb === undefined) return qa === undefined ? (qb === undefined ? 0 : -1) : 1;
        return qa.cmp(qb);
      });
      // Only free volumes and those pre-bound to one of these claims can ever match.
      const names = new Set(delayed.map((c) => c.metadata?.name ?? ""));
      const byClass = new Map<string, RPV[]>();
      for (const pvc of delayed) byClass.set(claimClass(pvc as PersistentVolumeClaim), []);
      const lookup = this.d.volumes;
      for (const live of lookup.volumesFor ? lookup.volumesFor(pod.namespace, names) : lookup.volumes()) {
        const pv = this.pvs.view(live.metadata?.name ?? "", live);
        const ref = pv?.spec?.claimRef;
        if (!pv || (ref && ((ref.namespace ?? "") !== pod.namespace || !names.has(ref.name ?? "")))) continue;
        byClass.get(volumeClass(pv as PersistentVolume))?.push(pv);
      }
      for (const pvc of delayed) candidates.push(claimCandidates(pvc, byClass.get(claimClass(pvc as PersistentVolumeClaim)) ?? []));
    }
    state.write(STATE_KEY, new VolumeBindingState(bound, delayed, candidates));
    return { status: null };
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status | null {
    const s = state.read<VolumeBindingState>(STATE_KEY);
    if (!s) return null;
    const r = findPodVolumes(s, node, this.d.volumes);
    if (r.error !== undefined) return new Status(Code.Error, [r.error], VOLUME_BINDING);
    if (r.reasons !== undefined) return new Status(Code.UnschedulableAndUnresolvable, r.reasons, VOLUME_BINDING);
    return null;
  }

  reserve(state: CycleState, _pod: PodInfo, nodeName: string): Status | null {
    const s = state.read<VolumeBindingState>(STATE_KEY);
    if (!s) return null;
    if (s.delayed.length === 0) {
      s.allBound = true;
      return null;
    }
    const node = this.d.handle.snapshot.get(nodeName);
    if (!node) return new Status(Code.Error, [`node "${nodeName}" not found`], VOLUME_BINDING);
    const r = findPodVolumes(s, node, this.d.volumes);
    if (r.error !== undefined) return new Status(Code.Error, [r.error], VOLUME_BINDING);
    if (r.reasons !== undefined) return new Status(Code.Error, [`no pod volumes found for node "${nodeName}"`], VOLUME_BINDING);
    const chosen: { bindings: StaticBinding[]; provisions: RPVC[] } = { bindings: [], provisions: [] };
    for (const b of r.bindings) {
      const pv = bindVolumeToClaim(b.pv, b.pvc) as RPV;
      this.pvs.assume(pv.metadata?.name ?? "", pv, b.pv.metadata?.resourceVersion);
      chosen.bindings.push({ pv, pvc: b.pvc });
    }
    for (const c of r.provisions) {
      const copy = structuredClone(c) as PersistentVolumeClaim;
      copy.metadata = { ...copy.metadata, annotations: { ...copy.metadata?.annotations, [ANN_SELECTED_NODE]: nodeName } };
      const pvc = copy as RPVC;
      this.pvcs.assume(claimKey(pvc.metadata?.namespace ?? "", pvc.metadata?.name ?? ""), pvc, c.metadata?.resourceVersion);
      chosen.provisions.push(pvc);
    }
    s.chosen = chosen;
    return null;
  }

  unreserve(state: CycleState): void {
    const s = state.read<VolumeBindingState>(STATE_KEY);
    if (!s?.chosen) return;
    for (const b of s.chosen.bindings) this.pvs.restore(b.pv.metadata?.name ?? "", b.pv);
    for (const c of s.chosen.provisions) this.pvcs.restore(claimKey(c.metadata?.namespace ?? "", c.metadata?.name ?? ""), c);
    s.chosen = undefined;
  }

  /** Nothing to do for pods without claims or whose claims are all bound (upstream's PreBindPreFlight). */
  preBindPreFlight(state: CycleState): Status | null {
    const s = state.read<VolumeBindingState>(STATE_KEY);
    return !s || s.allBound ? SKIP : null;
  }

  async preBind(state: CycleState, pod: PodInfo, nodeName: string, signal: AbortSignal): Promise<Status | null> {
    const s = state.read<VolumeBindingState>(STATE_KEY);
    if (!s || s.allBound) return null;
    const chosen = s.chosen;
    if (!chosen) return Status.error(new Error(`no pod volumes found for node "${nodeName}"`), VOLUME_BINDING);
    const api = this.d.api;
    if (!api) return Status.error(new Error("volume binding needs the API"), VOLUME_BINDING);
    // What our writes returned: the informer must have caught up with them before we judge.
    const written: { bindings: { name: string; rv: string | undefined; pvc: RPVC }[]; provisions: { namespace: string; name: string; rv: string | undefined }[] } = { bindings: [], provisions: [] };
    try {
      for (const b of chosen.bindings) {
        const out = await api.updatePersistentVolume(structuredClone(b.pv) as PersistentVolume, signal);
        this.d.log?.info({ pod: pod.key, pv: b.pv.metadata?.name, pvc: claimKey(b.pvc.metadata?.namespace ?? "", b.pvc.metadata?.name ?? "") }, "updated PersistentVolume with claim; waiting for binding to complete");
        written.bindings.push({ name: b.pv.metadata?.name ?? "", rv: out.metadata?.resourceVersion, pvc: b.pvc });
      }
      for (const c of chosen.provisions) {
        const out = await api.updatePersistentVolumeClaim(structuredClone(c) as PersistentVolumeClaim, signal);
        written.provisions.push({ namespace: c.metadata?.namespace ?? "", name: c.metadata?.name ?? "", rv: out.metadata?.resourceVersion });
      }
    } catch (err) {
      return Status.error(err, VOLUME_BINDING);
    }
    // On failure nothing written is undone, as upstream: a claimRef stays (the PV controller
    // completes that binding), and selected-node stays until the provisioner gives up and
    // removes it; meanwhile Filter sends the pod (retried) only to that node.
    const err = await this.waitForBindings(pod, nodeName, written, signal);
    return err === undefined ? null : Status.error(new Error(`binding volumes: ${err}`), VOLUME_BINDING);
  }

  /** Resolves undefined once every claim is bound, else why not (an error, the deadline, an abort). */
  private waitForBindings(
    pod: PodInfo,
    nodeName: string,
    written: { readonly bindings: readonly { name: string; rv: string | undefined; pvc: RPVC }[]; readonly provisions: readonly { namespace: string; name: string; rv: string | undefined }[] },
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const seen = new Set<string>();
    const check = (): boolean | string => checkBindings(this.d, pod, nodeName, written, seen);
    const keys = [
      podEventKey(pod.namespace, pod.name),
      nodeEventKey(nodeName),
      ...written.bindings.flatMap((b) => [volumeEventKey(b.name), claimEventKey(b.pvc.metadata?.namespace ?? "", b.pvc.metadata?.name ?? "")]),
      ...written.provisions.map((c) => claimEventKey(c.namespace, c.name)),
    ];
    const first = check();
    if (first !== false) return Promise.resolve(first === true ? undefined : first);
    if (signal.aborted) return Promise.resolve("context canceled");
    if (!this.d.events) return Promise.resolve("context deadline exceeded");
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: string | undefined): void => {
        if (done) return;
        done = true;
        unsubscribe();
        timer.cancel();
        signal.removeEventListener("abort", onAbort);
        resolve(r);
      };
      const onAbort = (): void => finish("context canceled");
      const unsubscribe = this.d.events!.subscribe(keys, () => {
        const r = check();
        if (r !== false) finish(r === true ? undefined : r);
      });
      const timer = this.clock.setTimer(this.bindTimeoutMs, () => finish("context deadline exceeded"));
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** Whether the informer's object is at least as new as what our write returned (`seen` remembers it was). */
function caughtUp(seen: Set<string>, key: string, live: string | undefined, written: string | undefined): boolean {
  if (seen.has(key)) return true;
  let ok = written === undefined || live === written;
  if (!ok && live !== undefined && written !== undefined && /^\d+$/.test(live) && /^\d+$/.test(written)) ok = BigInt(live) >= BigInt(written);
  if (ok) seen.add(key);
  return ok;
}

/**
 * Upstream checkBindings, on the informers' objects: true when every claim is bound, false to
 * keep waiting, or why binding failed (and the pod must be scheduled again).
 */
function checkBindings(
  d: VolumeBindingDeps,
  pod: PodInfo,
  nodeName: string,
  written: { readonly bindings: readonly { name: string; rv: string | undefined; pvc: RPVC }[]; readonly provisions: readonly { namespace: string; name: string; rv: string | undefined }[] },
  seen: Set<string>,
): boolean | string {
  const node = d.handle.snapshot.get(nodeName);
  if (!node?.node) return `failed to get node "${nodeName}": node "${nodeName}" not found`;
  if (d.currentPod) {
    const cur = d.currentPod(pod);
    if (!cur || cur.uid !== pod.uid) return `pod does not exist any more: pod "${pod.name}" not found`;
  }
  const fits = (pv: RPV): boolean => {
    const req = pv.spec?.nodeAffinity?.required;
    return !req || nodeSelectorMatches(req, node.labels, node.name);
  };
  for (const b of written.bindings) {
    const pv = d.volumes.volume(b.name);
    if (!pv) return `failed to check binding: persistentvolume "${b.name}" not found`;
    const ns = b.pvc.metadata?.namespace ?? "";
    const pvcName = b.pvc.metadata?.name ?? "";
    const pvc = d.volumes.claim(ns, pvcName);
    if (!pvc) return `failed to check binding: persistentvolumeclaim "${pvcName}" not found`;
    if (!caughtUp(seen, `pv/${b.name}`, pv.metadata?.resourceVersion, b.rv)) return false;
    if (!fits(pv)) return `pv "${b.name}" node affinity doesn't match node "${nodeName}": no matching NodeSelectorTerms`;
    if (!pv.spec?.claimRef?.uid) return `ClaimRef got reset for pv "${b.name}"`;
    if (!isClaimFullyBound(pvc)) return false;
  }
  for (const c of written.provisions) {
    const pvc = d.volumes.claim(c.namespace, c.name);
    if (!pvc) return `failed to check provisioning pvc: persistentvolumeclaim "${c.name}" not found`;
    if (!caughtUp(seen, `pvc/${c.namespace}/${c.name}`, pvc.metadata?.resourceVersion, c.rv)) return false;
    const selected = pvc.metadata?.annotations?.[ANN_SELECTED_NODE];
    if (selected === undefined) return `selectedNode annotation reset for PVC "${c.name}"`;
    // A provisioner that gives up removes the annotation: the scheduler picks a node again.
    if (selected !== nodeName) return `provisioning failed for PVC "${c.name}"`;
    const volumeName = pvc.spec?.volumeName;
    if (volumeName) {
      const pv = d.volumes.volume(volumeName);
      // Not in the informer yet; a volume that is really gone unbinds the claim eventually.
      if (!pv) return false;
      if (!fits(pv)) return `pv "${volumeName}" node affinity doesn't match node "${nodeName}": no matching NodeSelectorTerms`;
      if (!isVolumeBoundToClaim(pv as PersistentVolume, pvc as PersistentVolumeClaim)) return false;
    }
    if (!isClaimFullyBound(pvc)) return false;
  }
  return true;
}

/**
 * Upstream FindPodVolumes for one node: whether the bound claims' volumes allow it, and what each
 * unbound WaitForFirstConsumer claim would get there (a static volume, or provisioning).
 */
export function findPodVolumes(s: VolumeBindingState, node: NodeInfo, classes: VolumeLookup): NodeVolumes {
  let boundSatisfied = true;
  let boundFound = true;
  for (const b of s.bound) {
    if (!b.pv) {
      boundFound = false;
      break;
    }
    const req = b.pv.spec?.nodeAffinity?.required;
    if (req && !nodeSelectorMatches(req, node.labels, node.name)) {
      boundSatisfied = false;
      break;
    }
  }
  const reasons = (unboundSatisfied: boolean): NodeVolumes => {
    const out: string[] = [];
    if (!boundSatisfied) out.push(ERR_REASON_NODE_CONFLICT);
    if (!unboundSatisfied) out.push(ERR_REASON_BIND_CONFLICT);
    if (!boundFound) out.push(ERR_REASON_PV_NOT_EXIST);
    return out.length > 0 ? { reasons: out } : NOTHING_TO_BIND;
  };
  if (s.delayed.length === 0) return reasons(true);
  const toProvision: RPVC[] = [];
  /** Indexes into s.delayed. */
  const toMatch: number[] = [];
  for (let i = 0; i < s.delayed.length; i++) {
    const pvc = s.delayed[i]!;
    const selected = pvc.metadata?.annotations?.[ANN_SELECTED_NODE];
    if (selected !== undefined) {
      // Already handed to a provisioner for one node: only that node will do.
      if (selected !== node.name) return reasons(false);
      toProvision.push(pvc);
    } else {
      toMatch.push(i);
    }
  }
  const bindings: StaticBinding[] = [];
  if (toMatch.length > 0) {
    const chosen = new Set<string>();
    const nodeRef = node.node ?? { metadata: { name: node.name, labels: node.labels } };
    for (const i of toMatch) {
      const pvc = s.delayed[i]!;
      const pv = findMatchingVolume(pvc as PersistentVolumeClaim, candidatesOn(s.candidates[i]!, node) as PersistentVolume[], { node: nodeRef, excluded: chosen });
      if (!pv) {
        toProvision.push(pvc);
        continue;
      }
      chosen.add(pv.metadata?.name ?? "");
      bindings.push({ pv: pv as RPV, pvc });
    }
  }
  for (const pvc of toProvision) {
    const name = claimClass(pvc as PersistentVolumeClaim);
    if (name === "") return { error: `no class for claim "${pvc.metadata?.namespace ?? ""}/${pvc.metadata?.name ?? ""}"` };
    const sc = classes.storageClass(name);
    if (!sc) return { error: `failed to find storage class "${name}"` };
    if (!canProvision(sc) || !matchesAllowedTopologies(sc, node.labels)) return reasons(false);
  }
  const r = reasons(true);
  return r.reasons !== undefined ? r : { bindings, provisions: toProvision };
}

// ---- explanations (`k8ts why`) ----------------------------------------------------------------

/** Why a node does not suit the pod's volumes, claim by claim. */
export type VolumeProblem =
  /** A bound claim's volume cannot be used from the node (its node affinity). */
  | { readonly kind: "affinity"; readonly claim: string; readonly volume: string; readonly nodeAffinity: string }
  /** A bound claim's volume does not exist. */
  | { readonly kind: "missing-volume"; readonly claim: string; readonly volume: string }
  /** The claim is already being provisioned for another node. */
  | { readonly kind: "selected-elsewhere"; readonly claim: string; readonly node: string }
  /** No free volume fits the claim here, and its class cannot provision here. */
  | { readonly kind: "no-volume"; readonly claim: string; readonly storageClass: string; readonly request: string; readonly cause: "no-provisioner" | "topology"; readonly allowedTopologies: string };

/** `key In [a, b]` terms joined by " or " (a node selector in a line). */
export function nodeSelectorString(sel: { readonly nodeSelectorTerms?: readonly { readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[]; readonly matchFields?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[] }[] } | undefined): string {
  const terms = (sel?.nodeSelectorTerms ?? []).map((t) =>
    [...(t.matchExpressions ?? []), ...(t.matchFields ?? [])].map((r) => (r.values && r.values.length > 0 ? `${r.key} ${r.operator} [${r.values.join(", ")}]` : `${r.key} ${r.operator}`)).join(", "),
  );
  return terms.length === 0 ? "(nothing)" : terms.join(" or ");
}

function topologiesString(sc: RStorageClass): string {
  return (sc.allowedTopologies ?? []).map((t) => (t.matchLabelExpressions ?? []).map((e) => `${e.key} In [${e.values.join(", ")}]`).join(", ")).join(" or ");
}

/** The pod's volume problems on `node`, from the state VolumeBinding's PreFilter left (none if it skipped). */
export function explainVolumes(state: CycleState, node: NodeInfo, lookup: VolumeLookup): VolumeProblem[] {
  const s = state.read<VolumeBindingState>(STATE_KEY);
  if (!s) return [];
  const out: VolumeProblem[] = [];
  const name = (pvc: RPVC): string => pvc.metadata?.name ?? "";
  for (const b of s.bound) {
    const volume = b.pvc.spec?.volumeName ?? "";
    if (!b.pv) {
      out.push({ kind: "missing-volume", claim: name(b.pvc), volume });
      continue;
    }
    const req = b.pv.spec?.nodeAffinity?.required;
    if (req && !nodeSelectorMatches(req, node.labels, node.name)) out.push({ kind: "affinity", claim: name(b.pvc), volume, nodeAffinity: nodeSelectorString(req) });
  }
  const chosen = new Set<string>();
  const nodeRef = node.node ?? { metadata: { name: node.name, labels: node.labels } };
  for (let i = 0; i < s.delayed.length; i++) {
    const pvc = s.delayed[i]!;
    const selected = pvc.metadata?.annotations?.[ANN_SELECTED_NODE];
    if (selected !== undefined && selected !== node.name) {
      out.push({ kind: "selected-elsewhere", claim: name(pvc), node: selected });
      continue;
    }
    const cls = claimClass(pvc as PersistentVolumeClaim);
    if (selected === undefined) {
      const pv = findMatchingVolume(pvc as PersistentVolumeClaim, candidatesOn(s.candidates[i]!, node) as PersistentVolume[], { node: nodeRef, excluded: chosen });
      if (pv) {
        chosen.add(pv.metadata?.name ?? "");
        continue;
      }
    }
    const sc = lookup.storageClass(cls);
    if (!sc) continue;
    const request = String(pvc.spec?.resources?.requests?.["storage"] ?? "");
    if (!canProvision(sc)) out.push({ kind: "no-volume", claim: name(pvc), storageClass: cls, request, cause: "no-provisioner", allowedTopologies: "" });
    else if (!matchesAllowedTopologies(sc, node.labels)) out.push({ kind: "no-volume", claim: name(pvc), storageClass: cls, request, cause: "topology", allowedTopologies: topologiesString(sc) });
  }
  return out;
}

/** The pod's claims that are unbound while their class binds at once (or have no class, or a missing one). */
export function unboundImmediateClaims(pod: RPod, lookup: VolumeLookup): { readonly claim: string; readonly storageClass: string; readonly classExists: boolean }[] {
  const out: { claim: string; storageClass: string; classExists: boolean }[] = [];
  for (const c of podClaimNames(pod)) {
    const pvc = lookup.claim(pod.metadata?.namespace ?? "", c);
    if (!pvc || isClaimFullyBound(pvc)) continue;
    const cls = claimClass(pvc as PersistentVolumeClaim);
    if (bindingModeOf(pvc, lookup) === "WaitForFirstConsumer" && !pvc.spec?.volumeName) continue;
    out.push({ claim: c, storageClass: cls, classExists: cls !== "" && lookup.storageClass(cls) !== undefined });
  }
  return out;
}

/** The pod's claims waiting for a provisioner on the node the scheduler chose (selected-node set, not bound yet). */
export function claimsAwaitingProvisioning(pod: RPod, lookup: VolumeLookup): { readonly claim: string; readonly node: string }[] {
  const out: { claim: string; node: string }[] = [];
  for (const c of podClaimNames(pod)) {
    const pvc = lookup.claim(pod.metadata?.namespace ?? "", c);
    const node = pvc?.metadata?.annotations?.[ANN_SELECTED_NODE];
    if (pvc && node !== undefined && !isClaimFullyBound(pvc)) out.push({ claim: c, node });
  }
  return out;
}

function podClaimNames(pod: RPod): string[] {
  return podClaims(pod as Pod).map((c) => c.claim);
}
