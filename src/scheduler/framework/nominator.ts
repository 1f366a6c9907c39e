// Pods nominated to a node by preemption (status.nominatedNodeName) hold their place there:
// while they wait for their victims to leave, pods of lower or equal priority must not take the
// room that is being made for them (upstream's PodNominator).
import type { PodInfo } from "./podinfo.js";

export class Nominator {
  private readonly byNode = new Map<string, Map<string, PodInfo>>();
  private readonly nodeOf = new Map<string, string>();

  /** Records (or moves, or with "" clears) the nomination of `pod`. */
  set(pod: PodInfo, nodeName: string): void {
    this.delete(pod.uid);
    if (!nodeName) return;
    let m = this.byNode.get(nodeName);
    if (!m) this.byNode.set(nodeName, (m = new Map()));
    m.set(pod.uid, pod);
    this.nodeOf.set(pod.uid, nodeName);
  }

  delete(uid: string): void {
    const node = this.nodeOf.get(uid);
    if (node === undefined) return;
    this.nodeOf.delete(uid);
    const m = this.byNode.get(node);
    m?.delete(uid);
    if (m?.size === 0) this.byNode.delete(node);
  }

  nodeFor(uid: string): string | undefined {
    return this.nodeOf.get(uid);
  }

  podsOn(nodeName: string): readonly PodInfo[] {
    const m = this.byNode.get(nodeName);
    return m ? [...m.values()] : [];
  }

  get size(): number {
    return this.nodeOf.size;
  }
}
