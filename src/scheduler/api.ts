// The writes the scheduler makes, as one narrow interface: tests substitute a fake, the
// component wires it to the REST client.
import type { PersistentVolume, PersistentVolumeClaim, PodCondition } from "kubernetes-types/core/v1.js";
import type { RestClient } from "../client/rest.js";
import { isNotFound } from "../client/errors.js";
import type { DeepReadonly, KubeObject } from "../client/objects.js";

export interface PodStatusPatch {
  readonly conditions?: readonly PodCondition[];
  /** null removes the nomination. */
  readonly nominatedNodeName?: string | null;
}

export interface SchedulerApi {
  /**
   * pods/binding, with the pod's uid as a precondition (a pod made again under the same name is
   * not bound by a decision about the old one). Rejects (e.g. Conflict when already bound) on failure.
   */
  bind(namespace: string, name: string, uid: string | undefined, nodeName: string, signal?: AbortSignal): Promise<void>;
  /** A strategic merge patch of pods/status (conditions merge by type). */
  patchPodStatus(namespace: string, name: string, patch: PodStatusPatch, signal?: AbortSignal): Promise<void>;
  /** Deletes with the pod's own grace period; a pod already gone is not an error. */
  deletePod(namespace: string, name: string, uid: string, signal?: AbortSignal): Promise<void>;
  /**
   * PUT of a PersistentVolume (VolumeBinding's static binding: its claimRef). The object's
   * resourceVersion is the precondition: a volume changed meanwhile is a Conflict.
   */
  updatePersistentVolume(pv: PersistentVolume, signal?: AbortSignal): Promise<PersistentVolume>;
  /** PUT of a PersistentVolumeClaim (VolumeBinding's selected-node annotation), resourceVersion as precondition. */
  updatePersistentVolumeClaim(pvc: PersistentVolumeClaim, signal?: AbortSignal): Promise<PersistentVolumeClaim>;
}

/** Records core/v1 Events about an object (the client library's recorder satisfies it). */
export interface EventSink {
  event(obj: Readonly<KubeObject> | DeepReadonly<KubeObject>, type: "Normal" | "Warning", reason: string, message: string): void;
}

export function restSchedulerApi(client: RestClient): SchedulerApi {
  const pods = client.forKind("v1", "Pod");
  const volumes = client.forKind("v1", "PersistentVolume");
  const claims = client.forKind("v1", "PersistentVolumeClaim");
  return {
    async bind(namespace, name, uid, nodeName, signal) {
      await pods.namespace(namespace).bind(name, nodeName, { ...(uid ? { uid } : {}), ...(signal ? { signal } : {}) });
    },
    async patchPodStatus(namespace, name, patch, signal) {
      await pods.namespace(namespace).patch(name, "strategic", { status: patch }, { subresource: "status", ...(signal ? { signal } : {}) });
    },
    async deletePod(namespace, name, uid, signal) {
      try {
        await pods.namespace(namespace).delete(name, { preconditions: { uid }, ...(signal ? { signal } : {}) });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    updatePersistentVolume(pv, signal) {
      return volumes.update(pv, signal ? { signal } : {});
    },
    updatePersistentVolumeClaim(pvc, signal) {
      return claims.namespace(pvc.metadata?.namespace ?? "").update(pvc, signal ? { signal } : {});
    },
  };
}
