// The ValidatingAdmissionPolicy admission plugin (upstream: apiserver
// pkg/admission/plugin/policy/validating): every ValidatingAdmissionPolicyBinding binds a
// policy to the requests its policy's matchConstraints (and its own matchResources) match;
// for each, the policy's matchConditions, then its validations run in CEL against the
// request, once per parameter object the binding picks. A validation that is false fails the
// binding with its message; the binding's validationActions say what a failure does: Deny
// refuses the request, Warn adds a Warning header, Audit is recorded in the server's log.
// Errors (an expression that fails to run, a missing parameter kind) follow the policy's
// failurePolicy: Fail refuses the request, Ignore lets it through.
import type { NamedRuleWithOperations, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding, MatchResources } from "kubernetes-types/admissionregistration/v1.js";
import type { Logger } from "pino";
import { labelSelectorAsSelector } from "../../../api/labels.js";
import type { KubeObject, ResourceDefinition } from "../../registry/types.js";
import { StatusError, type Status } from "../../status.js";
import { admissionForbidden, type AdmissionAttributes, type AdmissionPlugin } from "../types.js";
import { Activation, compileAdmissionExpression, compileMatchConditions, evaluateMatchConditions, isCompileError, type CompiledExpression, type CompiledVariable, type CompileError, type MatchConditions } from "../cel/expressions.js";
import { exempt, namespaceSelectorMatches, objectSelectorMatches, ruleMatches, type Equivalents, type NamespaceLabels, type Rule } from "../webhook/match.js";
import { viewOf } from "../webhook/view.js";

export const VALIDATING_ADMISSION_POLICY_PLUGIN = "ValidatingAdmissionPolicy";

type Policy = Readonly<ValidatingAdmissionPolicy>;
type Binding = Readonly<ValidatingAdmissionPolicyBinding>;

/** What the plugin reads of the cluster (the API server's watch cache). */
export interface PolicySource {
  policies(): readonly Policy[];
  bindings(): readonly Binding[];
  readonly namespaceLabels: NamespaceLabels;
  /** The Namespace object of a request (namespaceObject). */
  namespace(name: string): Promise<Readonly<KubeObject> | undefined>;
  readonly equivalents?: Equivalents;
  /** The served resource of a paramKind (apiVersion + kind), or undefined when none is served. */
  resourceOfKind(apiVersion: string, kind: string): ResourceDefinition | undefined;
  /** Objects of a resource in a namespace ("" for cluster-scoped or all). */
  list(def: ResourceDefinition, namespace: string): readonly Readonly<KubeObject>[];
}

/** A policy's expressions, compiled once per stored version of the policy. */
interface CompiledPolicy {
  readonly validations: readonly { readonly expression: CompiledExpression; readonly message: string | undefined; readonly messageExpression: CompiledExpression | undefined; readonly reason: string | undefined; readonly source: string }[];
  readonly variables: readonly CompiledVariable[];
  readonly matchConditions: MatchConditions | undefined;
}

const compiledPolicies = new WeakMap<object, CompiledPolicy | CompileError>();

function compilePolicy(p: Policy): CompiledPolicy | CompileError {
  let c = compiledPolicies.get(p);
  if (c) return c;
  c = compileFresh(p);
  compiledPolicies.set(p, c);
  return c;
}

function compileFresh(p: Policy): CompiledPolicy | CompileError {
  const scope = { policy: true, variables: true };
  const variables: CompiledVariable[] = [];
  for (const v of p.spec?.variables ?? []) {
    const e = compileAdmissionExpression(v.expression, "any", scope);
    if (isCompileError(e)) return { error: `variable "${v.name}": ${e.error}` };
    variables.push({ name: v.name, expression: e });
  }
  const validations: CompiledPolicy["validations"][number][] = [];
  for (const v of p.spec?.validations ?? []) {
    const e = compileAdmissionExpression(v.expression, "bool", scope);
    if (isCompileError(e)) return { error: `expression '${v.expression}': ${e.error}` };
    let messageExpression: CompiledExpression | undefined;
    if (v.messageExpression) {
      const m = compileAdmissionExpression(v.messageExpression, "string", scope);
      if (!isCompileError(m)) messageExpression = m;
    }
    validations.push({ expression: e, message: v.message, messageExpression, reason: v.reason, source: v.expression });
  }
  let matchConditions: MatchConditions | undefined;
  if (p.spec?.matchConditions?.length) {
    const m = compileMatchConditions(p.spec.matchConditions, { policy: true });
    if (isCompileError(m)) return m;
    matchConditions = m;
  }
  return { validations, variables, matchConditions };
}

/** A NamedRuleWithOperations covers the request: its rule, and its resourceNames when it lists some. */
function namedRuleMatches(rule: Readonly<NamedRuleWithOperations>, a: AdmissionAttributes, as: ResourceDefinition): boolean {
  if (!ruleMatches(rule as Readonly<Rule>, a, as)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(a.name);
}

/** The resource the request is matched as under `mr` (its own, or an equivalent under matchPolicy Equivalent), or undefined. */
async function matchResources(mr: Readonly<MatchResources> | undefined, a: AdmissionAttributes, source: PolicySource): Promise<ResourceDefinition | undefined> {
  if (!mr) return a.resource;
  const rules = mr.resourceRules ?? [];
  const excluded = (as: ResourceDefinition): boolean => (mr.excludeResourceRules ?? []).some((r) => namedRuleMatches(r, a, as));
  let as: ResourceDefinition | undefined;
  if (rules.some((r) => namedRuleMatches(r, a, a.resource)) && !excluded(a.resource)) as = a.resource;
  else if (mr.matchPolicy !== "Exact") {
    for (const eq of source.equivalents?.(a.resource) ?? []) {
      if (eq !== a.resource && rules.some((r) => namedRuleMatches(r, a, eq)) && !excluded(eq)) {
        as = eq;
        break;
      }
    }
  }
  if (!as) return undefined;
  if (!(await namespaceSelectorMatches(mr.namespaceSelector, a, source.namespaceLabels))) return undefined;
  return objectSelectorMatches(mr.objectSelector, a) ? as : undefined;
}

/** The binding's matchResources narrow the policy's: with no resourceRules of their own they keep the policy's resource. */
async function bindingMatches(b: Binding, a: AdmissionAttributes, source: PolicySource): Promise<boolean> {
  const mr = b.spec?.matchResources;
  if (!mr) return true;
  if (!mr.resourceRules?.length) {
    if ((mr.excludeResourceRules ?? []).some((r) => namedRuleMatches(r, a, a.resource))) return false;
    if (!(await namespaceSelectorMatches(mr.namespaceSelector, a, source.namespaceLabels))) return false;
    return objectSelectorMatches(mr.objectSelector, a);
  }
  return (await matchResources(mr, a, source)) !== undefined;
}

/** The parameter objects a binding picks for a request: [undefined] for a policy without paramKind; [] when none is found. */
function paramsFor(p: Policy, b: Binding, a: AdmissionAttributes, source: PolicySource): readonly (Readonly<KubeObject> | undefined)[] | string {
  const kind = p.spec?.paramKind;
  if (!kind) return [undefined];
  const ref = b.spec?.paramRef;
  if (!ref) return `failed to configure binding: paramRef is required when paramKind is set (${kind.apiVersion ?? ""}, Kind=${kind.kind ?? ""})`;
  const def = source.resourceOfKind(kind.apiVersion ?? "", kind.kind ?? "");
  if (!def) return `failed to configure policy: failed to find resource referenced by paramKind: '${kind.apiVersion ?? ""}, Kind=${kind.kind ?? ""}'`;
  // A namespaced parameter without a namespace of its own is looked up in the request's namespace.
  const ns = def.namespaced ? (ref.namespace ?? a.namespace) : "";
  if (def.namespaced && ns === "") return "failed to configure binding: cannot use namespaced paramRef in policy binding that matches cluster-scoped resources";
  const objs = source.list(def, ns);
  if (ref.name) return objs.filter((o) => o.metadata?.name === ref.name);
  let sel;
  try {
    sel = labelSelectorAsSelector(ref.selector ?? {});
  } catch (err) {
    return `failed to configure binding: ${err instanceof Error ? err.message : String(err)}`;
  }
  return objs.filter((o) => sel.matches(o.metadata?.labels ?? {}));
}

const CODES: Record<string, number> = { Unauthorized: 401, Forbidden: 403, Invalid: 422, RequestEntityTooLarge: 413 };

function refusal(a: AdmissionAttributes, message: string, reason: string | undefined): StatusError {
  const r = reason && reason in CODES ? reason : "Forbidden";
  if (r === "Forbidden") return admissionForbidden(a, message);
  const status: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: r, code: CODES[r]!, details: { causes: [{ message }] } };
  return new StatusError(status);
}

/** A failed validation's message: its messageExpression when that yields a usable string, else its message, else the expression. */
function messageOf(v: CompiledPolicy["validations"][number], activation: Activation, log: Logger): string {
  if (v.messageExpression) {
    try {
      const m = v.messageExpression.evaluate(activation);
      if (typeof m === "string" && m.trim() !== "" && !m.includes("\n")) return m.trim();
    } catch (err) {
      log.debug({ err }, "messageExpression failed; using the message");
    }
  }
  if (v.message) return v.message;
  return `failed expression: ${v.source}`;
}

interface Failure {
  readonly message: string;
  readonly reason: string | undefined;
}

/**
 * Runs one binding of one policy: its failures (each refused, warned or audited as the
 * binding's actions say), or a configuration error (no parameter, none served, none found
 * under Deny), which under failurePolicy Fail refuses the request whatever the actions are.
 */
async function evaluate(p: Policy, b: Binding, a: AdmissionAttributes, as: ResourceDefinition, source: PolicySource, log: Logger): Promise<Failure[] | { readonly configError: string }> {
  const failClosed = p.spec?.failurePolicy !== "Ignore";
  const ignored = (message: string): [] => {
    log.warn({ policy: p.metadata?.name, binding: b.metadata?.name, err: message }, "admission policy failed, failing open");
    return [];
  };
  const trouble = (message: string): Failure[] => (failClosed ? [{ message, reason: "Forbidden" }] : ignored(message));
  const misconfigured = (message: string): Failure[] | { configError: string } => (failClosed ? { configError: message } : ignored(message));
  const compiled = compilePolicy(p);
  if (isCompileError(compiled)) return trouble(compiled.error);
  const params = paramsFor(p, b, a, source);
  if (typeof params === "string") return misconfigured(params);
  if (params.length === 0) {
    if (b.spec?.paramRef?.parameterNotFoundAction === "Allow") return [];
    return misconfigured("failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction");
  }
  const view = viewOf(a, as);
  const namespaceObject = a.namespace ? await source.namespace(a.namespace) : undefined;
  const failures: Failure[] = [];
  for (const param of params) {
    const activation = new Activation({ attrs: a, view, params: param, namespaceObject, variables: compiled.variables });
    if (compiled.matchConditions) {
      const m = evaluateMatchConditions(compiled.matchConditions, activation);
      if ("error" in m) {
        failures.push(...trouble(m.error));
        continue;
      }
      if (!m.matches) continue;
    }
    for (const v of compiled.validations) {
      let ok: unknown;
      try {
        ok = v.expression.evaluate(activation);
      } catch (err) {
        failures.push(...trouble(err instanceof Error ? err.message : String(err)));
        continue;
      }
      if (ok !== true) failures.push({ message: messageOf(v, activation, log), reason: v.reason });
    }
  }
  return failures;
}

function byName<T extends { metadata?: { name?: string } }>(a: T, b: T): number {
  const x = a.metadata?.name ?? "";
  const y = b.metadata?.name ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}

export function validatingAdmissionPolicy(source: PolicySource, log: Logger): AdmissionPlugin {
  return {
    name: VALIDATING_ADMISSION_POLICY_PLUGIN,
    async validate(a) {
      if (exempt(a)) return;
      const bindings = source.bindings();
      if (bindings.length === 0) return;
      const policies = new Map(source.policies().map((p) => [p.metadata?.name ?? "", p]));
      for (const b of [...bindings].sort(byName)) {
        const p = policies.get(b.spec?.policyName ?? "");
        if (!p) continue;
        const as = await matchResources(p.spec?.matchConstraints, a, source);
        if (!as || !(await bindingMatches(b, a, source))) continue;
        const failures = await evaluate(p, b, a, as, source, log);
        const policy = p.metadata?.name ?? "";
        const binding = b.metadata?.name ?? "";
        if ("configError" in failures) throw refusal(a, `ValidatingAdmissionPolicy '${policy}' with binding '${binding}' denied request: ${failures.configError}`, "Forbidden");
        if (failures.length === 0) continue;
        const actions = b.spec?.validationActions ?? [];
        for (const f of failures) {
          if (actions.includes("Warn")) {
            const w = `Validation failed for ValidatingAdmissionPolicy '${policy}' with binding '${binding}': ${f.message}`;
            if (a.warnings && !a.warnings.includes(w)) a.warnings.push(w);
          }
          if (actions.includes("Audit")) log.info({ policy, binding, message: f.message }, "admission policy validation failed (Audit)");
        }
        const deny = failures[0];
        if (deny && actions.includes("Deny")) throw refusal(a, `ValidatingAdmissionPolicy '${policy}' with binding '${binding}' denied request: ${deny.message}`, deny.reason);
      }
    },
  };
}
