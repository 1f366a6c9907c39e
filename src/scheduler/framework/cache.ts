// The scheduler cache (upstream pkg/scheduler/backend/cache): one NodeInfo per node, filled
// from the informers and from the scheduler's own decisions. A pod is *assumed* onto its node
// the moment the scheduler picks it, before the binding is written, so the next cycle already
// counts it; when the watch shows the pod bound the assumption is *confirmed* (replaced by the
// real object), and when binding fails it is *forgotten*.
//
// The cache doubles as the cycle's snapshot: scheduling cycles run synchronously, so nothing
// changes under a cycle. `list()` orders nodes by zone, round robin (upstream's nodeTree), so
// that the first nodes a cycle looks at are spread over zones.
import { labelsEqual, type Selector } from "../../api/labels.js";
import { jsonEqual } from "../../util/json.js";
import { zoneKeyOf } from "./helpers.js";
import { NodeInfo, type RNode } from "./nodeinfo.js";
import { PodIndex, type TermGroup, type TermKind } from "./podindex.js";
import type { PodInfo } from "./podinfo.js";

/** What plugins read: the nodes and their pods, as of this cycle. */
export interface Snapshot {
  /** Nodes that exist (have a Node object), zone-interleaved. */
  list(): readonly NodeInfo[];
  get(nodeName: string): NodeInfo | undefined;
  /** Nodes with at least one pod that has (anti-)affinity terms. */
  havePodsWithAffinity(): readonly NodeInfo[];
  /** Nodes with at least one pod that has required anti-affinity terms. */
  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[];
  numNodes(): number;
  /** Bumped whenever a node is added or removed or its labels or taints change. */
  readonly nodeShapeGeneration: number;
  /** Pods (on any node) that may match `selector` in `namespaces` (undefined: all); callers test each. */
  candidatePods(namespaces: ReadonlySet<string> | undefined, selector: Selector): Iterable<PodInfo>;
  /** The distinct affinity terms of one kind carried by pods in the snapshot, with per-node counts. */
  termGroups(kind: TermKind): ReadonlySet<TermGroup>;
}

interface PodState {
  pod: PodInfo;
  assumed: boolean;
  bindingFinished: boolean;
}

export class SchedulerCache implements Snapshot {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly podStates = new Map<string, PodState>();
  private readonly zoneOf = new Map<string, string>();
  private ordered: NodeInfo[] | undefined;
  private readonly withAffinity = new Set<NodeInfo>();
  private readonly withRequiredAnti = new Set<NodeInfo>();
  private withAffinityList: NodeInfo[] | undefined;
  private withRequiredAntiList: NodeInfo[] | undefined;
  private existing = 0;
  private readonly index = new PodIndex();
  private shapeGeneration = 0;

  // ---- nodes --------------------------------------------------------------------------------

  addNode(node: RNode): NodeInfo {
    const name = node.metadata?.name ?? "";
    let ni = this.nodes.get(name);
    if (!ni) this.nodes.set(name, (ni = new NodeInfo(undefined, name)));
    if (!ni.node) {
      this.existing++;
      this.ordered = undefined;
      this.shapeGeneration++;
    } else if (!sameShape(ni.node, node)) {
      this.shapeGeneration++;
    }
    ni.setNode(node);
    const zone = zoneKeyOf(ni.labels);
    if (this.zoneOf.get(name) !== zone) {
      this.zoneOf.set(name, zone);
      this.ordered = undefined;
    }
    this.trackAffinity(ni);
    return ni;
  }

  updateNode(node: RNode): NodeInfo {
    return this.addNode(node);
  }

  removeNode(name: string): void {
    const ni = this.nodes.get(name);
    if (!ni?.node) return;
    this.existing--;
    this.shapeGeneration++;
    this.zoneOf.delete(name);
    this.ordered = undefined;
    // Pods may still point at the node until they are deleted; keep their accounting.
    if (ni.pods.length === 0) this.nodes.delete(name);
    else ni.removeNode();
    this.trackAffinity(ni);
  }

  // ---- pods ---------------------------------------------------------------------------------

  private nodeFor(name: string): NodeInfo {
    let ni = this.nodes.get(name);
    if (!ni) this.nodes.set(name, (ni = new NodeInfo(undefined, name)));
    return ni;
  }

  private place(pi: PodInfo): void {
    const ni = this.nodeFor(pi.nodeName);
    ni.addPod(pi);
    this.index.add(pi);
    this.trackAffinity(ni);
  }

  private unplace(pi: PodInfo): void {
    const ni = this.nodes.get(pi.nodeName);
    if (!ni) return;
    const removed = ni.removePod(pi.uid);
    if (removed) this.index.remove(removed);
    if (!ni.node && ni.pods.length === 0) this.nodes.delete(pi.nodeName);
    this.trackAffinity(ni);
  }

  /** Counts `pod` on `pod.nodeName` before the binding is written. */
  assumePod(pi: PodInfo): void {
    const existing = this.podStates.get(pi.uid);
    if (existing) this.unplace(existing.pod);
    this.place(pi);
    this.podStates.set(pi.uid, { pod: pi, assumed: true, bindingFinished: false });
  }

  finishBinding(uid: string): void {
    const s = this.podStates.get(uid);
    if (s?.assumed) s.bindingFinished = true;
  }

  /** Undoes an assumption (binding failed). No-op once the pod was confirmed. */
  forgetPod(uid: string): PodInfo | undefined {
    const s = this.podStates.get(uid);
    if (!s?.assumed) return undefined;
    this.unplace(s.pod);
    this.podStates.delete(uid);
    return s.pod;
  }

  isAssumed(uid: string): boolean {
    return this.podStates.get(uid)?.assumed === true;
  }

  /** A bound pod seen by the informer: adds it, or confirms the assumption for it. */
  addPod(pi: PodInfo): void {
    const s = this.podStates.get(pi.uid);
    if (s && this.replace(s.pod, pi)) {
      s.pod = pi;
      s.assumed = false;
      s.bindingFinished = false;
      return;
    }
    if (s) this.unplace(s.pod);
    this.place(pi);
    this.podStates.set(pi.uid, { pod: pi, assumed: false, bindingFinished: false });
  }

  /**
   * unplace(prev) then place(next), done in place when the pod stays where it was filed (the
   * usual case: a confirmation or a status change). False (nothing changed) when it cannot be.
   */
  private replace(prev: PodInfo, next: PodInfo): boolean {
    if (prev.nodeName !== next.nodeName) return false;
    const ni = this.nodes.get(prev.nodeName);
    if (!ni || ni.getPod(prev.uid) !== prev) return false;
    // The index checks first: it refuses more (labels, namespace), and NodeInfo changes nothing then.
    if (!this.index.replace(prev, next)) return false;
    if (!ni.replacePod(prev, next)) {
      // Not reached (the index refused pods with affinity already); undo to stay consistent.
      this.index.replace(next, prev);
      return false;
    }
    return true;
  }

  updatePod(pi: PodInfo): void {
    this.addPod(pi);
  }

  removePod(uid: string): PodInfo | undefined {
    const s = this.podStates.get(uid);
    if (!s) return undefined;
    this.unplace(s.pod);
    this.podStates.delete(uid);
    return s.pod;
  }

  getPod(uid: string): PodInfo | undefined {
    return this.podStates.get(uid)?.pod;
  }

  get podCount(): number {
    return this.podStates.size;
  }

  // ---- snapshot -----------------------------------------------------------------------------

  private trackAffinity(ni: NodeInfo): void {
    const live = ni.node !== undefined && this.nodes.get(ni.name) === ni;
    const a = live && ni.podsWithAffinity.length > 0;
    const r = live && ni.podsWithRequiredAntiAffinity.length > 0;
    if (a !== this.withAffinity.has(ni)) {
      if (a) this.withAffinity.add(ni);
      else this.withAffinity.delete(ni);
      this.withAffinityList = undefined;
    }
    if (r !== this.withRequiredAnti.has(ni)) {
      if (r) this.withRequiredAnti.add(ni);
      else this.withRequiredAnti.delete(ni);
      this.withRequiredAntiList = undefined;
    }
  }

  list(): readonly NodeInfo[] {
    if (this.ordered) return this.ordered;
    const zones = new Map<string, NodeInfo[]>();
    for (const ni of this.nodes.values()) {
      if (!ni.node) continue;
      const z = this.zoneOf.get(ni.name) ?? "";
      let l = zones.get(z);
      if (!l) zones.set(z, (l = []));
      l.push(ni);
    }
    const lists = [...zones.values()];
    const out: NodeInfo[] = [];
    for (let i = 0; out.length < this.existing; i++) {
      let any = false;
      for (const l of lists) {
        const ni = l[i];
        if (ni) {
          out.push(ni);
          any = true;
        }
      }
      if (!any) break;
    }
    this.ordered = out;
    return out;
  }

  get(nodeName: string): NodeInfo | undefined {
    const ni = this.nodes.get(nodeName);
    return ni?.node ? ni : undefined;
  }

  havePodsWithAffinity(): readonly NodeInfo[] {
    return (this.withAffinityList ??= [...this.withAffinity]);
  }

  havePodsWithRequiredAntiAffinity(): readonly NodeInfo[] {
    return (this.withRequiredAntiList ??= [...this.withRequiredAnti]);
  }

  numNodes(): number {
    return this.existing;
  }

  get nodeShapeGeneration(): number {
    return this.shapeGeneration;
  }

  candidatePods(namespaces: ReadonlySet<string> | undefined, selector: Selector): Iterable<PodInfo> {
    return this.index.candidates(namespaces, selector);
  }

  termGroups(kind: TermKind): ReadonlySet<TermGroup> {
    return this.index.termGroups(kind);
  }
}

/** Same labels and taints: what topology domains and inclusion policies depend on. */
function sameShape(a: RNode, b: RNode): boolean {
  return labelsEqual(a.metadata?.labels, b.metadata?.labels) && jsonEqual(a.spec?.taints ?? [], b.spec?.taints ?? []);
}
