// What the CronJob controller reads off Jobs and writes into them (upstream
// pkg/controller/cronjob/utils.go): ownership, finished state, the order old Jobs go in, the
// Job a scheduled time makes, and the active list of the CronJob's status.
import type { CronJob, Job } from "kubernetes-types/batch/v1.js";
import type { ObjectReference } from "kubernetes-types/core/v1.js";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import type { DeepReadonly } from "../../client/objects.js";
import { formatRFC3339In, type Zone } from "./cron.js";
import { timeOf } from "../../util/time.js";

export type RCronJob = DeepReadonly<CronJob>;
export type RJob = DeepReadonly<Job>;

/** Set on every Job the controller creates (batchv1.CronJobScheduledTimestampAnnotation, 1.28+). */
export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/** The owner reference with controller: true, if any (metav1.GetControllerOf). */
export function controllerRefOf(obj: { readonly metadata?: { readonly ownerReferences?: readonly DeepReadonly<OwnerReference>[] } }): DeepReadonly<OwnerReference> | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

export function isControlledBy(job: RJob, cj: RCronJob | CronJob): boolean {
  const uid = cj.metadata?.uid;
  return uid !== undefined && controllerRefOf(job)?.uid === uid;
}

export type FinishedCondition = "Complete" | "Failed";

/** The Job's Complete or Failed condition that is True, if any (upstream getFinishedStatus). */
export function finishedCondition(job: RJob): FinishedCondition | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === "Complete" || c.type === "Failed") && c.status === "True") return c.type;
  }
  return undefined;
}

/** Upstream's byJobStartTime: started Jobs first, earliest first, names breaking ties; never-started Jobs last. */
export function byJobStartTime(a: RJob, b: RJob): number {
  const sa = timeOf(a.status?.startTime);
  const sb = timeOf(b.status?.startTime);
  if (sa === undefined && sb !== undefined) return 1;
  if (sa !== undefined && sb === undefined) return -1;
  if (sa !== sb) return sa! - sb!;
  const na = a.metadata?.name ?? "";
  const nb = b.metadata?.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/**
 * `<cronjob>-<scheduled time in Unix minutes>`: the same scheduled time always names the same
 * Job, so a create repeated after a crash (or by a second leader) fails with AlreadyExists
 * instead of running the Job twice. The API server keeps CronJob names to 52 characters so
 * that this fits a DNS label.
 */
export function jobName(cj: RCronJob | CronJob, scheduled: number): string {
  return `${cj.metadata?.name ?? ""}-${Math.floor(scheduled / 60_000)}`;
}

/** Upstream's getJobFromTemplate2: the template's labels, annotations and spec, owned by the CronJob. */
export function jobFromTemplate(cj: RCronJob | CronJob, scheduled: number, zone: Zone): Job {
  const template = cj.spec?.jobTemplate;
  const labels = { ...(template?.metadata?.labels ?? {}) };
  const annotations: Record<string, string> = { ...(template?.metadata?.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: formatRFC3339In(scheduled, zone) };
  const owner: OwnerReference = { apiVersion: "batch/v1", kind: "CronJob", name: cj.metadata?.name ?? "", uid: cj.metadata?.uid ?? "", controller: true, blockOwnerDeletion: true };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: jobName(cj, scheduled),
      namespace: cj.metadata?.namespace ?? "",
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      annotations,
      ownerReferences: [owner],
    },
    ...(template?.spec ? { spec: structuredClone(template.spec) as Job["spec"] } : {}),
  };
}

/** The reference status.active keeps (client-go's reference.GetReference). */
export function jobRef(job: Job | RJob): ObjectReference {
  const m = job.metadata;
  return {
    kind: "Job",
    namespace: m?.namespace ?? "",
    name: m?.name ?? "",
    uid: m?.uid ?? "",
    apiVersion: "batch/v1",
    resourceVersion: m?.resourceVersion ?? "",
  };
}

export function inActiveList(cj: CronJob | RCronJob, uid: string): boolean {
  return (cj.status?.active ?? []).some((r) => r.uid === uid);
}

export function inActiveListByName(cj: CronJob, namespace: string, name: string): boolean {
  return (cj.status?.active ?? []).some((r) => r.name === name && r.namespace === namespace);
}

export function deleteFromActiveList(cj: CronJob, uid: string): void {
  if (!cj.status?.active) return;
  const rest = cj.status.active.filter((r) => r.uid !== uid);
  // An empty list is omitted from the status, as upstream's `omitempty` does.
  if (rest.length > 0) cj.status.active = rest;
  else delete cj.status.active;
}
