// Writes computed pod statuses to the API (upstream's status manager): one writer per pod,
// in order, so a later status never lands before an earlier one; statuses queued while a write
// is in flight fold into the newest of the same phase, so every phase a pod went through
// (Running, then Succeeded a moment later) still reaches the API. A pod that is gone (404)
// is dropped; a conflict (409) re-reads the pod and writes again. Static pods report through
// their mirror pod. A deleted pod's final status is followed by the delete that removes the
// object (grace period 0, uid precondition).
import { setMaxListeners } from "node:events";
import type { Pod, PodStatus } from "kubernetes-types/core/v1.js";
import { Backoff } from "../../client/backoff.js";
import { realClock, sleep } from "../../client/clock.js";
import { isConflict, isInvalid, isNotFound } from "../../client/errors.js";
import type { ResourceClient, RestClient } from "../../client/rest.js";
import type { Logger } from "../../util/log.js";
import { ANNOTATION_CONFIG_HASH, ANNOTATION_CONFIG_MIRROR, isStaticPod } from "../types.js";
import { sameStatus } from "./status.js";

const RETRY = { initialMs: 200, maxMs: 10_000 };

interface Entry {
  pod: Pod;
  queue: PodStatus[];
  /** the status the API has, as far as we know */
  last: PodStatus | undefined;
  writing: Promise<void> | undefined;
  /** delete the API object once the queue is written */
  finish: { resolve: () => void; promise: Promise<void> } | undefined;
  gone: boolean;
  readonly retry: Backoff;
}

export class StatusWriter {
  private readonly entries = new Map<string, Entry>();
  private readonly pods: ResourceClient<Pod>;
  private stopped = false;
  private readonly stopSignal = new AbortController();

  constructor(
    client: RestClient,
    private readonly log: Logger,
  ) {
    this.pods = client.forKind("v1", "Pod") as unknown as ResourceClient<Pod>;
    // Every pod whose write waits to be retried (all of them while the API server is down)
    // listens on this one signal: that is no leak.
    setMaxListeners(0, this.stopSignal.signal);
  }

  private entry(pod: Pod): Entry {
    const uid = pod.metadata?.uid ?? "";
    let e = this.entries.get(uid);
    if (!e) {
      e = { pod, queue: [], last: isStaticPod(pod) ? undefined : pod.status, writing: undefined, finish: undefined, gone: false, retry: new Backoff(RETRY) };
      this.entries.set(uid, e);
    }
    return e;
  }

  /** The newest status this writer was given for the pod (written or queued). */
  current(uid: string): PodStatus | undefined {
    const e = this.entries.get(uid);
    return e ? (e.queue[e.queue.length - 1] ?? e.last) : undefined;
  }

  /** Queues `status` for the pod unless it is what the API already has (or will have). */
  set(pod: Pod, status: PodStatus): void {
    const e = this.entry(pod);
    e.pod = pod;
    if (e.gone) return;
    const tail = e.queue[e.queue.length - 1];
    // A static pod's mirror can be deleted and recreated (empty status) at any time: its write
    // compares with the mirror's actual status instead (one GET per sync of a static pod).
    if (sameStatus(tail ?? (isStaticPod(pod) ? undefined : e.last), status)) return;
    // Coalesce with a queued status of the same phase; a phase change is never folded away, nor
    // is the head of the queue while it is being written.
    if (tail && tail.phase === status.phase && (e.queue.length > 1 || !e.writing)) e.queue[e.queue.length - 1] = status;
    else e.queue.push(status);
    this.kick(e);
  }

  /** Writes `status` as the pod's final one, then deletes the pod object (not for static pods). */
  finish(pod: Pod, status: PodStatus): Promise<void> {
    const e = this.entry(pod);
    e.pod = pod;
    // Already gone from the API (deleted by someone else): nothing to write or delete.
    if (e.gone || this.stopped) return Promise.resolve();
    if (!e.finish) {
      let resolve: () => void = () => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      e.finish = { resolve, promise };
    }
    const done = e.finish.promise;
    if (!sameStatus(e.queue[e.queue.length - 1] ?? e.last, status)) e.queue.push(status);
    this.kick(e);
    return done;
  }

  forget(uid: string): void {
    const e = this.entries.get(uid);
    if (e) e.gone = true;
    this.entries.delete(uid);
  }

  /** Stops writing; resolves when writes in flight have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopSignal.abort();
    // A sync waiting for a pod's final write must not wait for ever; the next agent redoes it.
    for (const e of this.entries.values()) e.finish?.resolve();
    await Promise.all([...this.entries.values()].map((e) => e.writing).filter((p) => p !== undefined));
  }

  /** Resolves when nothing is queued or in flight (tests). */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.entries.values()].map((e) => e.writing).filter((p) => p !== undefined);
      if (busy.length === 0) return;
      await Promise.all(busy);
    }
  }

  private kick(e: Entry): void {
    if (e.writing || this.stopped) return;
    e.writing = this.drain(e).finally(() => {
      e.writing = undefined;
      if (!this.stopped && !e.gone && (e.queue.length > 0 || e.finish)) this.kick(e);
    });
  }

  private async drain(e: Entry): Promise<void> {
    while (!this.stopped && !e.gone) {
      const next = e.queue[0];
      if (next) {
        if (!(await this.attempt(e, () => this.write(e, next)))) return;
        e.queue.shift();
        continue;
      }
      if (e.finish) {
        if (!(await this.attempt(e, () => this.deleteObject(e)))) return;
        e.finish.resolve();
        e.finish = undefined;
        e.gone = true;
      }
      return;
    }
  }

  /** Runs `op`; on a transient failure waits (doubling) and returns false so the caller retries. */
  private async attempt(e: Entry, op: () => Promise<void>): Promise<boolean> {
    try {
      await op();
      e.retry.reset();
      return true;
    } catch (err) {
      this.log.warn({ pod: podKey(e.pod), err: (err as Error).message }, "pod status write failed; will retry");
      await sleep(realClock, e.retry.next(), this.stopSignal.signal);
      return false;
    }
  }

  private async write(e: Entry, status: PodStatus): Promise<void> {
    const pod = e.pod;
    const ns = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name ?? "";
    const client = this.pods.namespace(ns);
    let base = pod.status;
    let expectUid = pod.metadata?.uid ?? "";
    if (isStaticPod(pod)) {
      // The mirror pod stands for the static pod only when it carries the static pod's hash.
      let mirror: Pod;
      try {
        mirror = await client.get(name);
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      if (mirror.metadata?.annotations?.[ANNOTATION_CONFIG_MIRROR] !== pod.metadata?.annotations?.[ANNOTATION_CONFIG_HASH]) return;
      base = mirror.status;
      expectUid = mirror.metadata?.uid ?? "";
      if (sameStatus(base, status)) {
        e.last = status;
        return;
      }
    }
    for (let tries = 0; ; tries++) {
      // The uid test makes the write a no-op on a pod that was deleted and recreated under the
      // same name (a StatefulSet's pod, say): the server refuses the whole patch.
      const patch = [
        { op: "test", path: "/metadata/uid", value: expectUid },
        { op: "add", path: "/status", value: withOthersFields(base, status) },
      ];
      try {
        await client.patch(name, "json", patch, { subresource: "status", signal: this.stopSignal.signal, timeoutMs: 30_000 });
        // Compared with what we computed, not with the server's rendering of it, so that a
        // normalization difference can never make every sync write again.
        e.last = status;
        return;
      } catch (err) {
        if (isNotFound(err)) {
          // The pod is gone; nothing more to report.
          if (!isStaticPod(pod)) e.gone = !e.finish;
          return;
        }
        if (!isConflict(err) && !isInvalid(err)) throw err;
        const fresh = await client.get(name).catch((g: unknown) => {
          if (isNotFound(g)) return undefined;
          throw g;
        });
        if (!fresh || fresh.metadata?.uid !== expectUid) {
          if (!isStaticPod(pod)) e.gone = !e.finish;
          return;
        }
        if (isInvalid(err) || tries >= 3) {
          // The server will refuse this status however often it is sent.
          this.log.error({ pod: podKey(pod), err: (err as Error).message }, "pod status refused by the API server; dropped");
          e.last = status;
          return;
        }
        base = fresh.status;
      }
    }
  }

  private async deleteObject(e: Entry): Promise<void> {
    const pod = e.pod;
    if (isStaticPod(pod)) return;
    try {
      await this.pods.namespace(pod.metadata?.namespace ?? "default").delete(pod.metadata?.name ?? "", { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid ?? "" }, timeoutMs: 30_000 });
    } catch (err) {
      // Gone already, or the name now belongs to a newer pod: either way ours is deleted.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

// The status fields the kubelet owns; whatever else the API's copy holds (nominatedNodeName,
// resize, resourceClaimStatuses...) is carried over unchanged.
const KUBELET_FIELDS = new Set(["phase", "conditions", "hostIP", "hostIPs", "podIP", "podIPs", "startTime", "initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses", "qosClass", "reason", "message"]);

export function withOthersFields(api: PodStatus | undefined, ours: PodStatus): PodStatus {
  const out: Record<string, unknown> = { ...ours };
  for (const [k, v] of Object.entries(api ?? {})) if (!KUBELET_FIELDS.has(k) && !(k in out) && v !== undefined) out[k] = v;
  return out as PodStatus;
}
