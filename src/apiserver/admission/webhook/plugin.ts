// The MutatingAdmissionWebhook and ValidatingAdmissionWebhook admission plugins: each write
// is sent, as an admission.k8s.io/v1 AdmissionReview, to the webhooks whose configurations
// match it (upstream: apiserver pkg/admission/plugin/webhook/{mutating,validating}).
// Mutating webhooks run one after another and may patch the object; validating webhooks run
// in parallel and only accept or refuse.
import { randomUUID } from "node:crypto";
import type { MutatingWebhook, MutatingWebhookConfiguration, ValidatingWebhook, ValidatingWebhookConfiguration } from "kubernetes-types/admissionregistration/v1.js";
import type { Logger } from "pino";
import type { KubeObject, ResourceDefinition } from "../../registry/types.js";
import { badRequest, internalError, StatusError, type Status, type StatusDetails } from "../../status.js";
import { applyJSONPatch } from "../../patch/jsonpatch.js";
import type { JsonValue } from "../../patch/json.js";
import { jsonEqual } from "../../../util/json.js";
import type { AdmissionAttributes, AdmissionPlugin } from "../types.js";
import { callWebhook, CallError, type ServiceLookup } from "./client.js";
import { admissionReview, viewOf, type View } from "./view.js";
import { Activation, compileMatchConditions, evaluateMatchConditions, isCompileError } from "../cel/expressions.js";
import { exempt, orderedWebhooks, shouldCall, type ConfiguredWebhook, type Equivalents, type NamespaceLabels, type Webhook } from "./match.js";

export const MUTATING_WEBHOOK_PLUGIN = "MutatingAdmissionWebhook";
export const VALIDATING_WEBHOOK_PLUGIN = "ValidatingAdmissionWebhook";

/** Where the plugins find their configurations and what calling a webhook needs from the cluster. */
export interface WebhookSource extends ServiceLookup {
  mutatingWebhookConfigurations(): readonly Readonly<MutatingWebhookConfiguration>[];
  validatingWebhookConfigurations(): readonly Readonly<ValidatingWebhookConfiguration>[];
  /** A namespace's labels; undefined when it does not exist. */
  readonly namespaceLabels: NamespaceLabels;
  /** Other served forms of a resource, for matchPolicy Equivalent; none when absent. */
  readonly equivalents?: Equivalents;
}

/** The timeout of a webhook without timeoutSeconds (the v1 API's default). */
const DEFAULT_TIMEOUT_SECONDS = 10;

interface Verified {
  readonly allowed: boolean;
  readonly patch?: string;
  readonly result?: Partial<Status>;
  readonly warnings: readonly string[];
}

export function mutatingWebhookAdmission(source: WebhookSource, log: Logger): AdmissionPlugin {
  return {
    name: MUTATING_WEBHOOK_PLUGIN,
    async admit(a) {
      if (exempt(a)) return;
      const hooks = orderedWebhooks<MutatingWebhook>(source.mutatingWebhookConfigurations());
      if (hooks.length === 0) return;
      await mutate(hooks, a, source, log);
    },
    // The store runs only the validating phase for a DELETE. Upstream calls mutating webhooks
    // for it too (they may refuse, not patch): here, from this plugin's place in the validating
    // chain, which is still before the validating webhooks.
    async validate(a) {
      if (a.operation !== "DELETE" || exempt(a)) return;
      const hooks = orderedWebhooks<MutatingWebhook>(source.mutatingWebhookConfigurations());
      if (hooks.length === 0) return;
      await mutate(hooks, a, source, log);
    },
  };
}

export function validatingWebhookAdmission(source: WebhookSource, log: Logger): AdmissionPlugin {
  return {
    name: VALIDATING_WEBHOOK_PLUGIN,
    async validate(a) {
      if (exempt(a)) return;
      const hooks = orderedWebhooks<ValidatingWebhook>(source.validatingWebhookConfigurations());
      if (hooks.length === 0) return;
      const matching: { hook: ConfiguredWebhook<ValidatingWebhook>; as: ResourceDefinition }[] = [];
      for (const hook of hooks) {
        const as = await shouldCall(hook.webhook, a, source.namespaceLabels, source.equivalents);
        if (as) matching.push({ hook, as });
      }
      // All at once, as upstream; the first refusal in webhook order answers the request.
      const outcomes = await Promise.all(matching.map((m) => validateOne(m.hook.webhook, a, m.as, source, log).then(() => undefined, (err: unknown) => err)));
      const refusal = outcomes.find((e) => e !== undefined);
      if (refusal !== undefined) throw refusal;
    },
  };
}

async function validateOne(w: Readonly<ValidatingWebhook>, a: AdmissionAttributes, as: ResourceDefinition, source: WebhookSource, log: Logger): Promise<void> {
  let verified: Verified;
  try {
    verified = await call(w, a, viewOf(a, as), false, source);
  } catch (err) {
    if (err instanceof CallError) {
      failedCall(w, err, log);
      return;
    }
    throw err;
  }
  reportWarnings(w, verified, a, log);
  if (!verified.allowed) throw denied(a, w.name, verified.result);
}

/**
 * Mutating webhooks in order, each seeing what the earlier ones made. reinvocationPolicy
 * IfNeeded: a webhook that ran before a later one changed the object is called once more
 * (upstream's second round; upstream also re-runs the built-in mutating plugins then, which
 * here ran before the webhooks and are not repeated).
 */
async function mutate(hooks: readonly ConfiguredWebhook<MutatingWebhook>[], a: AdmissionAttributes, source: WebhookSource, log: Logger): Promise<void> {
  const previouslyInvoked = new Set<ConfiguredWebhook<MutatingWebhook>>();
  const reinvoke = new Set<ConfiguredWebhook<MutatingWebhook>>();
  for (const h of hooks) {
    const as = await shouldCall(h.webhook, a, source.namespaceLabels, source.equivalents);
    if (!as) continue;
    const changed = await mutateOne(h.webhook, a, as, source, log);
    if (changed) {
      for (const p of previouslyInvoked) reinvoke.add(p);
      previouslyInvoked.clear();
    }
    if (h.webhook.reinvocationPolicy === "IfNeeded") previouslyInvoked.add(h);
  }
  if (reinvoke.size === 0) return;
  for (const h of hooks) {
    // A webhook not called in the first round is not called for the first time now.
    if (!reinvoke.has(h)) continue;
    const as = await shouldCall(h.webhook, a, source.namespaceLabels, source.equivalents);
    if (as) await mutateOne(h.webhook, a, as, source, log);
  }
}

/** Calls one mutating webhook and applies its patch to the object in place; true when the object changed. */
async function mutateOne(w: Readonly<MutatingWebhook>, a: AdmissionAttributes, as: ResourceDefinition, source: WebhookSource, log: Logger): Promise<boolean> {
  // What this webhook sees: the object as earlier webhooks left it, in the form it asked for.
  const view = viewOf(a, as);
  let verified: Verified;
  try {
    verified = await call(w, a, view, true, source);
  } catch (err) {
    if (err instanceof CallError) {
      failedCall(w, err, log);
      return false;
    }
    throw err;
  }
  reportWarnings(w, verified, a, log);
  if (!verified.allowed) throw denied(a, w.name, verified.result);
  if (verified.patch === undefined || verified.patch === "") return false;
  let ops: unknown;
  try {
    ops = JSON.parse(Buffer.from(verified.patch, "base64").toString("utf8"));
  } catch (err) {
    return callFailed(w, new CallError(`received undecodable patch in webhook response: ${message(err)}`), log);
  }
  if (!Array.isArray(ops)) return callFailed(w, new CallError("received undecodable patch in webhook response: json: cannot unmarshal into Go value of type jsonpatch.Patch"), log);
  if (ops.length === 0) return false;
  const obj = view.object;
  if (!obj) throw internalError(`admission webhook "${w.name}" attempted to modify the object, which is not supported for this operation`);
  let patched: JsonValue;
  try {
    patched = applyJSONPatch(obj as unknown as JsonValue, ops);
  } catch (err) {
    throw internalError(message(err));
  }
  if (typeof patched !== "object" || patched === null || Array.isArray(patched)) throw internalError(`admission webhook "${w.name}" patched the object into something that is not an object`);
  const next = patched as unknown as KubeObject;
  if (next.apiVersion !== obj.apiVersion || next.kind !== obj.kind) {
    throw internalError(`admission webhook "${w.name}" changed the object's apiVersion/kind from ${obj.apiVersion ?? ""}/${obj.kind ?? ""} to ${String(next.apiVersion)}/${String(next.kind)}`);
  }
  if (jsonEqual(next, obj)) return false;
  view.apply(next);
  return true;
}

/** failurePolicy Ignore: logged and skipped (upstream "failing open"); Fail, the default: upstream's InternalError. */
function failedCall(w: Readonly<Webhook>, err: CallError, log: Logger): void {
  if (w.failurePolicy === "Ignore") {
    log.warn({ webhook: w.name, err: err.message }, "failed calling webhook, failing open");
    return;
  }
  log.warn({ webhook: w.name, err: err.message }, "failed calling webhook, failing closed");
  throw internalError(`failed calling webhook "${w.name}": ${err.message}`);
}

function callFailed(w: Readonly<Webhook>, err: CallError, log: Logger): false {
  failedCall(w, err, log);
  return false;
}

/** A webhook's warnings go to the response's Warning headers, each once (upstream's warning recorder); logged when the request has none. */
function reportWarnings(w: Readonly<Webhook>, v: Verified, a: AdmissionAttributes, log: Logger): void {
  for (const warning of v.warnings) {
    if (!a.warnings) log.debug({ webhook: w.name, warning }, "admission webhook warning");
    else if (warning !== "" && !a.warnings.includes(warning)) a.warnings.push(warning);
  }
}

/** One webhook call: the dryRun rule, the AdmissionReview, its answer checked. Throws CallError when subject to the failure policy. */
async function call(w: Readonly<Webhook>, a: AdmissionAttributes, view: View, mutating: boolean, source: WebhookSource): Promise<Verified> {
  // matchConditions (CEL) filter what the rules and selectors matched: a false one means not called.
  if (w.matchConditions && w.matchConditions.length > 0) {
    const conditions = compileMatchConditions(w.matchConditions);
    if (isCompileError(conditions)) throw new CallError(conditions.error);
    const outcome = evaluateMatchConditions(conditions, new Activation({ attrs: a, view }));
    if ("error" in outcome) throw new CallError(outcome.error);
    if (!outcome.matches) return { allowed: true, warnings: [] };
  }
  if (a.dryRun) {
    // A webhook with side effects would act on a write that never happens.
    if (w.sideEffects === undefined) throw new CallError("Webhook SideEffects is nil");
    if (w.sideEffects !== "None" && w.sideEffects !== "NoneOnDryRun") throw badRequest(`admission webhook "${w.name}" does not support dry run`);
  }
  if (!(w.admissionReviewVersions ?? []).includes("v1")) throw new CallError("could not create admission objects: webhook does not accept known AdmissionReview versions (v1)");
  const uid = randomUUID();
  const review = admissionReview(uid, a, view);
  let answer: unknown;
  try {
    answer = await callWebhook(w.clientConfig, review, w.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, source);
  } catch (err) {
    if (err instanceof CallError) throw new CallError(`failed to call webhook: ${err.message}`);
    throw err;
  }
  try {
    return verify(uid, mutating, answer);
  } catch (err) {
    throw new CallError(`received invalid webhook response: ${message(err)}`);
  }
}

/** The answer's checks (upstream's VerifyAdmissionResponse for v1). */
export function verify(uid: string, mutating: boolean, answer: unknown): Verified {
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) throw new Error("webhook response was absent");
  const review = answer as { apiVersion?: unknown; kind?: unknown; response?: unknown };
  const res = review.response as { uid?: unknown; allowed?: unknown; patch?: unknown; patchType?: unknown; status?: unknown; warnings?: unknown } | null | undefined;
  if (typeof res !== "object" || res === null) throw new Error("webhook response was absent");
  if (res.uid !== uid) throw new Error(`expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(typeof res.uid === "string" ? res.uid : "")}`);
  if (review.apiVersion !== "admission.k8s.io/v1" || review.kind !== "AdmissionReview") {
    throw new Error(`expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${gvkString(review.apiVersion, review.kind)}`);
  }
  const patch = typeof res.patch === "string" ? res.patch : undefined;
  const hasPatch = patch !== undefined && patch !== "";
  const hasType = res.patchType !== undefined && res.patchType !== null;
  if (mutating) {
    if (hasPatch && !hasType) throw new Error("webhook returned response.patch but not response.patchType");
    if (!hasPatch && hasType) throw new Error("webhook returned response.patchType but not response.patch");
    if (hasType && res.patchType !== "JSONPatch") {
      if (res.patchType === "") throw new Error(`webhook returned invalid response.patchType of ""`);
      throw new Error(`unsupported patch type ${JSON.stringify(res.patchType)}`);
    }
  } else {
    if (hasPatch) throw new Error("validating webhook may not return response.patch");
    if (hasType) throw new Error("validating webhook may not return response.patchType");
  }
  const warnings = Array.isArray(res.warnings) ? res.warnings.filter((w): w is string => typeof w === "string") : [];
  const result = typeof res.status === "object" && res.status !== null ? (res.status as Partial<Status>) : undefined;
  return { allowed: res.allowed === true, ...(hasPatch ? { patch } : {}), ...(result ? { result } : {}), warnings };
}

function gvkString(apiVersion: unknown, kind: unknown): string {
  const av = typeof apiVersion === "string" ? apiVersion : "";
  const slash = av.indexOf("/");
  const group = slash < 0 ? "" : av.slice(0, slash);
  const version = slash < 0 ? av : av.slice(slash + 1);
  return `${group ? `${group}/` : "/"}${version}, Kind=${typeof kind === "string" ? kind : ""}`;
}

/**
 * A webhook's refusal (upstream's webhook errors ToStatusErr): the status the webhook sent,
 * 403 Forbidden when it sent no error code, its message behind `admission webhook "x" denied the
 * request`, the whole prefixed like admission.NewForbidden (or an internal error for 500).
 */
export function denied(a: AdmissionAttributes, webhook: string, result: Partial<Status> | undefined): StatusError {
  const r = result ?? {};
  // A refusal never answers with a success code: one below 400 counts as none sent.
  const code = typeof r.code === "number" && r.code >= 400 ? r.code : 403;
  const deniedBy = `admission webhook ${JSON.stringify(webhook)} denied the request`;
  const why = r.message ? `${deniedBy}: ${r.message}` : r.reason ? `${deniedBy}: ${r.reason}` : `${deniedBy} without explanation`;
  const name = a.name || "Unknown";
  const gr = a.resource.group ? `${a.resource.plural}.${a.resource.group}` : a.resource.plural;
  const details: StatusDetails = r.details ?? (code === 500 ? { causes: [{ message: why }] } : { name, ...(a.resource.group ? { group: a.resource.group } : {}), kind: a.resource.plural });
  const prefix = code === 500 ? "Internal error occurred" : `${gr} ${JSON.stringify(name)} is forbidden`;
  return new StatusError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `${prefix}: ${why}`,
    reason: r.reason || (code === 500 ? "InternalError" : "Forbidden"),
    details,
    code,
  });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
