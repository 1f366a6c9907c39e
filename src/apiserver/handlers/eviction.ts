// The pods/eviction subresource (upstream pkg/registry/core/pod/storage/eviction.go): a pod is
// deleted only if the PodDisruptionBudget that selects it allows one more disruption. The
// budget's status.disruptionsAllowed is decremented and the pod recorded in
// status.disruptedPods in one compare-and-swap write before the delete, so that concurrent
// evictions cannot both spend the last allowed disruption; the disruption controller then
// recounts from the pods it sees terminating. Refusals are 429 TooManyRequests, which
// `kubectl drain` retries.
import type { LabelSelector as LabelSelectorSpec } from "kubernetes-types/meta/v1.js";
import { setStatusCondition } from "../../api/conditions.js";
import { LabelSelectorError, labelSelectorAsSelector } from "../../api/labels.js";
import type { KubeObject } from "../registry/types.js";
import type { DeleteOptions, RequestContext, ResourceStore } from "../rest/store.js";
import * as status from "../status.js";
import { rfc3339 } from "../../util/time.js";

/** Beyond this many approved-but-unconfirmed evictions a PDB refuses more (upstream's MaxDisruptedPodSize). */
export const MAX_DISRUPTED_POD_SIZE = 2000;

/** Conflicts are retried as upstream's EvictionsRetry: 20 attempts, 500 ms apart (±10%). */
const RETRY_STEPS = 20;
const RETRY_DELAY_MS = 500;

const TOO_MANY = "Cannot evict pod as it would violate the pod's disruption budget.";
/** policy/v1 DisruptionBudgetCause: the cause type (`reason` on the wire) of a refused eviction. */
export const DISRUPTION_BUDGET_CAUSE = "DisruptionBudget";

export interface EvictionStores {
  readonly pods: ResourceStore;
  /** The poddisruptionbudgets.policy store; undefined when the server does not serve them (every eviction is a delete). */
  readonly pdbs: ResourceStore | undefined;
}

export interface EvictionOptions {
  /** Waits between conflict retries; tests pass a fast one. */
  readonly sleep?: (ms: number) => Promise<void>;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string | null;
  observedGeneration?: number;
}

interface PdbStatus {
  disruptionsAllowed?: number;
  currentHealthy?: number;
  desiredHealthy?: number;
  expectedPods?: number;
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  conditions?: Condition[];
}

interface EvictionBody {
  metadata?: { name?: string };
  deleteOptions?: DeleteOptions & { dryRun?: string[] };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const phaseOf = (pod: KubeObject): string => ((pod.status as { phase?: string } | undefined)?.phase ?? "");
const isTerminal = (pod: KubeObject): boolean => phaseOf(pod) === "Succeeded" || phaseOf(pod) === "Failed";

function isPodReady(pod: KubeObject): boolean {
  const conds = (pod.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];
  return conds.some((c) => c.type === "Ready" && c.status === "True");
}

/** Upstream's canIgnorePDB: terminal, pending and terminating pods cause no further disruption. */
function canIgnorePDB(pod: KubeObject): boolean {
  return isTerminal(pod) || phaseOf(pod) === "Pending" || Boolean(pod.metadata?.deletionTimestamp);
}

/** Upstream's shouldEnforceResourceVersion: a live pod must not turn Ready between check and delete. */
function shouldEnforceResourceVersion(pod: KubeObject): boolean {
  return !isTerminal(pod) && !pod.metadata?.deletionTimestamp;
}

const rvUnset = (o: DeleteOptions): boolean => !o.preconditions?.resourceVersion;

function withResourceVersion(o: DeleteOptions, rv: string | undefined): DeleteOptions {
  return { ...o, preconditions: { ...o.preconditions, ...(rv !== undefined ? { resourceVersion: rv } : {}) } };
}

const isConflict = (err: unknown): boolean => err instanceof status.StatusError && err.status.reason === "Conflict";

function tooManyRequests(retryAfterSeconds: number, cause: string): status.StatusError {
  const err = status.tooManyRequests(TOO_MANY, retryAfterSeconds);
  const details = err.status.details ?? {};
  // metav1.StatusDetails omits a zero retryAfterSeconds.
  if (retryAfterSeconds === 0) delete details.retryAfterSeconds;
  details.causes = [{ reason: DISRUPTION_BUDGET_CAUSE, message: cause }];
  err.status.details = details;
  return err;
}

/** Upstream's createTooManyRequestsError: the budget's status is older than its spec. */
const stillProcessing = (pdbName: string): status.StatusError => tooManyRequests(10, `The disruption budget ${pdbName} is still being processed by the server.`);

const pdbForbidden = (name: string, why: string): status.StatusError => status.forbidden(`poddisruptionbudget.policy "${name}" is forbidden: ${why}`, { group: "policy", resource: "poddisruptionbudget" }, name);

/**
 * Upstream's propagateDryRun: either the query's dryRun or the body's deleteOptions.dryRun
 * makes the eviction a dry run (both can only say "All", so they never disagree).
 */
function effectiveDryRun(body: EvictionBody, ctx: RequestContext): boolean {
  const inBody = body.deleteOptions?.dryRun ?? [];
  for (const v of inBody) if (v !== "All") throw status.badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return ctx.dryRun || inBody.length > 0;
}

function deleteOptionsOf(body: EvictionBody): DeleteOptions {
  const o = body.deleteOptions ?? {};
  return {
    ...(o.gracePeriodSeconds !== undefined && o.gracePeriodSeconds !== null ? { gracePeriodSeconds: o.gracePeriodSeconds } : {}),
    ...(o.preconditions ? { preconditions: { ...(o.preconditions.uid ? { uid: o.preconditions.uid } : {}), ...(o.preconditions.resourceVersion ? { resourceVersion: o.preconditions.resourceVersion } : {}) } } : {}),
    ...(o.propagationPolicy ? { propagationPolicy: o.propagationPolicy } : {}),
    ...(o.orphanDependents !== undefined && o.orphanDependents !== null ? { orphanDependents: o.orphanDependents } : {}),
  };
}

/** The PDBs whose selector matches the pod; an invalid, missing or empty selector matches nothing. */
function matchingPdbs(pdbs: readonly Readonly<KubeObject>[], pod: KubeObject): Readonly<KubeObject>[] {
  return pdbs.filter((pdb) => {
    try {
      const sel = labelSelectorAsSelector((pdb.spec as { selector?: LabelSelectorSpec } | undefined)?.selector);
      return !sel.isEmpty() && sel.matches(pod.metadata?.labels);
    } catch (err) {
      if (err instanceof LabelSelectorError) return false;
      throw err;
    }
  });
}

/**
 * Handles a create of pods/NAME/eviction in `ctx.namespace`: `body` is the decoded
 * policy/v1 (or v1beta1) Eviction. Resolves to the Success Status to answer (with 201);
 * rejects with a StatusError: 429 when the budget forbids it, 403 when more than one budget
 * selects the pod, 404 when the pod does not exist, 400 for a malformed Eviction.
 */
export async function evictPod(stores: EvictionStores, name: string, body: unknown, ctx: RequestContext, opts: EvictionOptions = {}): Promise<status.Status> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  if (!isObj(body)) throw status.badRequest("not a Eviction object");
  const eviction = body as EvictionBody;
  if ((eviction.metadata?.name ?? "") !== name) throw status.badRequest("name in URL does not match name in Eviction object");
  const dryRun = effectiveDryRun(eviction, ctx);
  const rctx: RequestContext = { ...ctx, dryRun };
  const original = deleteOptionsOf(eviction);
  const { pods } = stores;
  const ns = ctx.namespace;
  const retrying = async <T>(shouldRetry: (err: unknown) => boolean, fn: () => Promise<T>): Promise<T> => {
    for (let step = 1; ; step++) {
      try {
        return await fn();
      } catch (err) {
        if (step >= RETRY_STEPS || !shouldRetry(err)) throw err;
        await sleep(RETRY_DELAY_MS * (1 + Math.random() * 0.1));
      }
    }
  };

  // A pod that can cause no further disruption is deleted without looking at budgets.
  let pod: KubeObject | undefined;
  const deleted = await retrying(
    (err) => rvUnset(original) && isConflict(err),
    async () => {
      pod = await pods.get(ns, name);
      if (!canIgnorePDB(pod)) return false;
      const options = shouldEnforceResourceVersion(pod) && rvUnset(original) ? withResourceVersion(original, pod.metadata?.resourceVersion) : original;
      await markAndDelete(pods, name, options, rctx);
      return true;
    },
  );
  if (deleted) return status.successStatus();
  const live = pod!;

  let pdbName = "";
  let pinToPod = false;
  if (stores.pdbs) {
    const pdbStore = stores.pdbs;
    const pdbs = matchingPdbs((await pdbStore.list(ns)).items, live);
    if (pdbs.length > 1) {
      // Upstream answers 500 here; a 403 is what it is too, and kubectl drain stops on it
      // instead of retrying an eviction that can never succeed until the budgets change.
      throw status.forbidden("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
    }
    const pdb = pdbs[0];
    if (pdb) {
      pdbName = pdb.metadata?.name ?? "";
      const st = (pdb.status ?? {}) as PdbStatus;
      const policy = (pdb.spec as { unhealthyPodEvictionPolicy?: string } | undefined)?.unhealthyPodEvictionPolicy;
      // An unready pod does not count as healthy: evicting it disrupts nothing the budget
      // protects if the policy says so, or while the budget is met (IfHealthyBudget, the default).
      if (!isPodReady(live) && (policy === "AlwaysAllow" || ((st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0))) {
        pinToPod = true;
      } else {
        await checkAndDecrement(pdbStore, pdbName, name, rctx);
      }
    }
  }

  const options = pinToPod ? withResourceVersion(original, live.metadata?.resourceVersion) : original;
  try {
    await markAndDelete(pods, name, options, rctx);
  } catch (err) {
    // The unready pod changed (it may be Ready now): let the client try again.
    if (isConflict(err) && pinToPod && rvUnset(original)) throw stillProcessing(pdbName);
    throw err;
  }
  return status.successStatus();
}

/**
 * Upstream's checkAndDecrement, inside one read-modify-write of the PDB's status (the store
 * re-runs it on a conflicting write, so every attempt judges the newest status).
 */
async function checkAndDecrement(pdbs: ResourceStore, pdbName: string, podName: string, ctx: RequestContext): Promise<void> {
  await pdbs.update(
      ctx.namespace,
      pdbName,
      (pdb) => {
        if (!pdb) throw status.notFound(pdbs.qualified, pdbName);
        const st = (pdb.status ?? {}) as PdbStatus;
        if ((st.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) throw stillProcessing(pdbName);
        const allowed = st.disruptionsAllowed ?? 0;
        if (allowed < 0) throw pdbForbidden(pdbName, "pdb disruptions allowed is negative");
        if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) throw pdbForbidden(pdbName, "DisruptedPods map too big - too many evictions not confirmed by PDB controller");
        if (allowed === 0) throw tooManyRequests(0, `The disruption budget ${pdbName} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`);
        st.disruptionsAllowed = allowed - 1;
        if (st.disruptionsAllowed === 0) setInsufficientPods(st, ctx.now);
        // The disruption controller keeps this pod out of currentHealthy until it sees it
        // terminating, or for 2 minutes if the delete never comes.
        st.disruptedPods = { ...st.disruptedPods, [podName]: rfc3339(ctx.now) };
        pdb.status = st;
        return pdb;
      },
      // The write to the budget is the server's own bookkeeping: no field manager, and a
      // dry-run eviction checks the budget without spending it.
      { namespace: ctx.namespace, user: ctx.user, now: ctx.now, dryRun: ctx.dryRun },
      { subresource: "status" },
    );
}

/** component-helpers' UpdateDisruptionAllowedCondition for a budget just spent to zero. */
function setInsufficientPods(st: PdbStatus, now: Date): void {
  setStatusCondition((st.conditions ??= []), { type: "DisruptionAllowed", status: "False", reason: "InsufficientPods", message: "", ...(st.observedGeneration ? { observedGeneration: st.observedGeneration } : {}) }, now);
}

/**
 * Upstream's addConditionAndDeletePod: marks the pod with DisruptionTarget (so its
 * controllers and the kubelet know why it goes), honouring the delete's preconditions, then
 * deletes it with the eviction's options. A dry run only deletes (as a dry run).
 */
async function markAndDelete(pods: ResourceStore, name: string, options: DeleteOptions, ctx: RequestContext): Promise<void> {
  let opts = options;
  if (!ctx.dryRun) {
    const { object } = await pods.update(
      ctx.namespace,
      name,
      (pod) => {
        if (!pod) throw status.notFound(pods.qualified, name);
        const pre = opts.preconditions;
        if (pre?.uid && pre.uid !== pod.metadata?.uid) {
          throw status.conflict({ group: "", resource: "Pod" }, name, `the UID in the precondition (${pre.uid}) does not match the UID in record (${pod.metadata?.uid ?? ""}). The object might have been deleted and then recreated`);
        }
        if (pre?.resourceVersion && pre.resourceVersion !== pod.metadata?.resourceVersion) {
          throw status.conflict({ group: "", resource: "Pod" }, name, `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${pod.metadata?.resourceVersion ?? ""}). The object might have been modified`);
        }
        const st = (pod.status ?? {}) as { conditions?: Condition[] };
        const conds = st.conditions ?? [];
        const lastProbeTime = conds.find((c) => c.type === "DisruptionTarget")?.lastProbeTime ?? null;
        setStatusCondition(conds, { type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI", message: "Eviction API: evicting", lastProbeTime }, ctx.now);
        st.conditions = conds;
        pod.status = st;
        return pod;
      },
      { namespace: ctx.namespace, user: ctx.user, now: ctx.now, dryRun: false },
      { subresource: "status" },
    );
    // Our own write moved the pod's resourceVersion; the precondition the caller meant is the pod before it.
    if (!rvUnset(opts)) opts = withResourceVersion(opts, object.metadata?.resourceVersion);
  }
  await pods.delete(ctx.namespace, name, opts, ctx);
}
