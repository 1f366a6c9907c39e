// The ephemeral volume controller (upstream pkg/controller/volume/ephemeral, run as
// "ephemeral-volume-controller"): every generic ephemeral volume of a pod
// (`volumes[].ephemeral.volumeClaimTemplate`) gets its claim, `<pod>-<volume>`, made from the
// template and owned by the pod (controller, blockOwnerDeletion), so the garbage collector
// deletes it with the pod. A claim of that name the pod does not own is not used: the pod gets
// a Warning event and the key is retried, as upstream does.
import type { PersistentVolumeClaim, Pod, Volume } from "kubernetes-types/core/v1.js";
import { Counter, type Registry } from "prom-client";
import { ephemeralClaimIsForPod, ephemeralClaimName } from "../../../api/persistentvolume.js";
import type { EventHandler, Lister } from "../../../client/informer.js";
import { finalStateOf, keyOf, mutableCopy, splitKey, type DeepReadonly, type DeletedFinalStateUnknown, type KubeObject } from "../../../client/objects.js";
import type { Logger } from "../../../util/log.js";
import type { Api } from "../../api.js";
import type { EventSink } from "../../context.js";

export const EPHEMERAL_VOLUME_CONTROLLER = "ephemeral-volume-controller";
/** Upstream's recorder names itself so. */
export const EPHEMERAL_VOLUME_EVENT_SOURCE = "ephemeral_volume";

type RPod = DeepReadonly<Pod>;

export interface EphemeralVolumeMetrics {
  createAttempt(): void;
  createFailure(): void;
}

/** Upstream's ephemeral_volume_controller_create_total and _create_failures_total; shared across terms. */
export function ephemeralVolumeMetrics(registry: Registry): EphemeralVolumeMetrics {
  const counter = (name: string): Counter =>
    (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help: "Number of PersistenVolumeClaims creation requests", registers: [registry] });
  const attempts = counter("ephemeral_volume_controller_create_total");
  const failures = counter("ephemeral_volume_controller_create_failures_total");
  return { createAttempt: () => attempts.inc(), createFailure: () => failures.inc() };
}

export interface EphemeralVolumeDeps {
  readonly api: Api;
  readonly pods: Lister<Pod>;
  readonly claims: Lister<PersistentVolumeClaim>;
  readonly events: EventSink;
  readonly log: Logger;
  readonly metrics?: EphemeralVolumeMetrics;
}

export class EphemeralVolumeController {
  constructor(private readonly d: EphemeralVolumeDeps) {}

  async sync(key: string, log: Logger = this.d.log): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.d.pods.namespace(namespace).get(name);
    if (!pod || pod.metadata?.deletionTimestamp) return;
    for (const vol of pod.spec?.volumes ?? []) {
      try {
        await this.handleVolume(pod, vol, log);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        this.d.events.event(pod as KubeObject, "Warning", "FailedBinding", `ephemeral volume ${vol.name}: ${why}`);
        throw err;
      }
    }
  }

  private async handleVolume(pod: RPod, vol: DeepReadonly<Volume>, log: Logger): Promise<void> {
    const template = vol.ephemeral?.volumeClaimTemplate;
    if (!template) return;
    const ns = pod.metadata?.namespace ?? "";
    const claimName = ephemeralClaimName(pod as Pod, vol.name);
    const existing = this.d.claims.namespace(ns).get(claimName);
    if (existing) {
      if (!ephemeralClaimIsForPod(pod as Pod, existing as PersistentVolumeClaim)) {
        throw new Error(`PVC ${ns}/${claimName} was not created for pod ${ns}/${pod.metadata?.name ?? ""} (pod is not owner)`);
      }
      return;
    }
    const t = mutableCopy<NonNullable<NonNullable<Volume["ephemeral"]>["volumeClaimTemplate"]>>(template);
    const claim: PersistentVolumeClaim = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: {
        name: claimName,
        ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "", controller: true, blockOwnerDeletion: true }],
        ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
        ...(t.metadata?.labels ? { labels: t.metadata.labels } : {}),
      },
      spec: t.spec,
    };
    this.d.metrics?.createAttempt();
    try {
      await this.d.api.resource<PersistentVolumeClaim>("", "v1", "persistentvolumeclaims").namespace(ns).create(claim);
    } catch (err) {
      this.d.metrics?.createFailure();
      throw new Error(`create PVC ${claimName}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    log.debug({ pod: keyOf(pod), claim: `${ns}/${claimName}` }, "created claim for ephemeral volume");
  }
}

/** The pod spec is immutable: a pod is worth a look when it appears, and when a claim it needs goes. */
export class EphemeralVolumeEventHandlers {
  constructor(
    private readonly enqueue: (key: string) => void,
    /** Cached pods that use the claim `namespace/name` (the pod informer's claim index). */
    private readonly podsOfClaim: (claimKey: string) => readonly RPod[],
  ) {}

  readonly pods: EventHandler<Pod> = {
    onAdd: (pod) => this.enqueuePod(pod),
  };

  readonly claims: EventHandler<PersistentVolumeClaim> = {
    // Deleted by hand or by accident: a pod still running with it gets it made again.
    onDelete: (obj: DeepReadonly<PersistentVolumeClaim> | DeletedFinalStateUnknown<PersistentVolumeClaim>) => {
      for (const pod of this.podsOfClaim(keyOf(finalStateOf(obj)))) this.enqueuePod(pod);
    },
  };

  private enqueuePod(pod: RPod): void {
    if (pod.metadata?.deletionTimestamp) return;
    if ((pod.spec?.volumes ?? []).some((v) => v.ephemeral !== undefined)) this.enqueue(keyOf(pod));
  }
}
