// VolumeRestrictions (upstream pkg/scheduler/framework/plugins/volumerestrictions), its
// ReadWriteOncePod rule: a claim with that access mode may be used by one pod in the whole
// cluster. A pod whose ReadWriteOncePod claim another scheduled pod already uses fits no node
// (Unschedulable, not Unresolvable: preempting the other pod helps, and preemption's dry run
// removes it through RemovePod). The in-tree disk conflicts (GCE PD, EBS, iSCSI, RBD) are left
// out: k8ts mounts none of those.
import { everything } from "../../api/labels.js";
import type { Handle } from "../framework/handle.js";
import type { NodeInfo } from "../framework/nodeinfo.js";
import type { PodInfo, RPod } from "../framework/podinfo.js";
import { Code, Status, type ClusterEvent, type CycleState, type FilterPlugin, type PreFilterPlugin, type PreFilterResult, type StateData } from "../framework/types.js";
import { VOLUME_RESTRICTIONS } from "./names.js";
import type { VolumeLookup } from "./volumebinding.js";

export const ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT = "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";

const STATE_KEY = "PreFilter" + VOLUME_RESTRICTIONS;
const SKIP = new Status(Code.Skip, [], VOLUME_RESTRICTIONS);
const CONFLICT = new Status(Code.Unschedulable, [ERR_REASON_READ_WRITE_ONCE_POD_CONFLICT], VOLUME_RESTRICTIONS);

class RestrictionsState implements StateData {
  constructor(
    /** The pod's ReadWriteOncePod claims (names in its namespace). */
    readonly rwopClaims: ReadonlySet<string>,
    /** How many uses of them by other pods (upstream's conflictingPVCRefCount). */
    public conflicts: number,
  ) {}

  /** The uses of the pod's ReadWriteOncePod claims by `other`. */
  usesBy(other: PodInfo, namespace: string): number {
    if (other.namespace !== namespace) return 0;
    let n = 0;
    for (const v of other.pod.spec?.volumes ?? []) if (v.persistentVolumeClaim && this.rwopClaims.has(v.persistentVolumeClaim.claimName)) n++;
    return n;
  }

  clone(): StateData {
    return new RestrictionsState(this.rwopClaims, this.conflicts);
  }
}

function hasClaimVolumes(pod: RPod): boolean {
  const vols = pod.spec?.volumes;
  if (vols === undefined) return false;
  for (let i = 0; i < vols.length; i++) if (vols[i]!.persistentVolumeClaim) return true;
  return false;
}

export class VolumeRestrictions implements PreFilterPlugin, FilterPlugin {
  readonly name = VOLUME_RESTRICTIONS;
  readonly events: readonly ClusterEvent[] = ["AssignedPodDelete", "NodeAdd", "PersistentVolumeClaimAdd"];

  constructor(
    private readonly handle: Handle,
    private readonly volumes: VolumeLookup,
  ) {}

  preFilter(state: CycleState, pod: PodInfo): { result?: PreFilterResult; status: Status | null } {
    if (!hasClaimVolumes(pod.pod)) return { status: SKIP };
    let rwop: Set<string> | undefined;
    for (const v of pod.pod.spec?.volumes ?? []) {
      const name = v.persistentVolumeClaim?.claimName;
      if (name === undefined) continue;
      const pvc = this.volumes.claim(pod.namespace, name);
      if (!pvc) return { status: new Status(Code.UnschedulableAndUnresolvable, [`persistentvolumeclaim "${name}" not found`], VOLUME_RESTRICTIONS) };
      if ((pvc.spec?.accessModes ?? []).includes("ReadWriteOncePod")) (rwop ??= new Set()).add(name);
    }
    if (!rwop) return { status: SKIP };
    const users = usersOf(this.handle, pod, rwop);
    // Upstream counts each claim in use once (IsPVCUsedByPods), then ± each pod's uses.
    const conflicts = new Set(users.map((u) => u.claim)).size;
    if (conflicts === 0) return { status: SKIP };
    state.write(STATE_KEY, new RestrictionsState(rwop, conflicts));
    return { status: null };
  }

  addPod(state: CycleState, pod: PodInfo, podToAdd: PodInfo, _node?: NodeInfo): void {
    const s = state.read<RestrictionsState>(STATE_KEY);
    if (s) s.conflicts += s.usesBy(podToAdd, pod.namespace);
  }

  removePod(state: CycleState, pod: PodInfo, podToRemove: PodInfo, _node?: NodeInfo): void {
    const s = state.read<RestrictionsState>(STATE_KEY);
    if (s) s.conflicts -= s.usesBy(podToRemove, pod.namespace);
  }

  filter(state: CycleState, _pod: PodInfo, _node: NodeInfo): Status | null {
    const s = state.read<RestrictionsState>(STATE_KEY);
    return s && s.conflicts > 0 ? CONFLICT : null;
  }

  /** For `k8ts why`: which pods hold the pod's ReadWriteOncePod claims. */
  explain(pod: PodInfo): { readonly claim: string; readonly pod: string; readonly node: string }[] {
    const rwop = new Set<string>();
    for (const v of pod.pod.spec?.volumes ?? []) {
      const name = v.persistentVolumeClaim?.claimName;
      if (name !== undefined && (this.volumes.claim(pod.namespace, name)?.spec?.accessModes ?? []).includes("ReadWriteOncePod")) rwop.add(name);
    }
    return rwop.size === 0 ? [] : usersOf(this.handle, pod, rwop);
  }
}

/** The scheduled (or assumed) pods, other than `pod`, that use one of `claims` in its namespace. */
function usersOf(handle: Handle, pod: PodInfo, claims: ReadonlySet<string>): { claim: string; pod: string; node: string }[] {
  const out: { claim: string; pod: string; node: string }[] = [];
  for (const other of handle.snapshot.candidatePods(new Set([pod.namespace]), everything())) {
    if (other.uid === pod.uid || other.namespace !== pod.namespace) continue;
    for (const v of other.pod.spec?.volumes ?? []) {
      const c = v.persistentVolumeClaim?.claimName;
      if (c !== undefined && claims.has(c)) out.push({ claim: c, pod: other.name, node: other.nodeName });
    }
  }
  return out;
}
