// admissionregistration.k8s.io/v1 MutatingWebhookConfiguration and ValidatingWebhookConfiguration:
// cluster-scoped lists of webhooks the admission plugins call. Upstream's v1 defaults, its
// validation (pkg/apis/admissionregistration/validation and apiserver's util/webhook URL and
// service checks) with the relaxations its update validation grants objects already stored,
// generation bumped when the webhooks change, and the NAME WEBHOOKS AGE table.
// ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding live here too: they share the
// rule and match condition checks, and one module keeps the dependency one-way.
import { duplicate, FieldPath, forbidden, goQuote, GoRendered, invalid, notSupported, required, tooMany, type FieldError } from "../../api/fielderrors.js";
import { isDNS1035Label, isDNS1123Subdomain, isQualifiedName, isValidPathSegmentName, isValidPortNum, validateLabelSelector } from "../../api/validation.js";
import { compileAdmissionExpression, isCompileError, type ExpressionResult, type ExpressionScope } from "../admission/cel/expressions.js";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { selectorView, validateMeta, validateMetaUpdate } from "./common.js";
import { validateConditions } from "./policy.js";
import { ageColumn, column, nameColumn, since } from "./print.js";
import { jsonEqual } from "../../util/json.js";
import { creationOf, isObj, nameOf, objs, resetStatus, type Json } from "./util.js";

export const ADMISSIONREGISTRATION_GROUP = "admissionregistration.k8s.io";

const WEBHOOKS = FieldPath.of("webhooks");

/** The AdmissionReview versions this server sends (upstream's AcceptedAdmissionReviewVersions). */
export const ACCEPTED_ADMISSION_REVIEW_VERSIONS: readonly string[] = ["v1", "v1beta1"];

// Upstream lists each set sorted (sets.String.List()), which is the order of its messages.
const FAILURE_POLICIES = ["Fail", "Ignore"];
const MATCH_POLICIES = ["Equivalent", "Exact"];
const SIDE_EFFECT_CLASSES = ["None", "NoneOnDryRun", "Some", "Unknown"];
const NO_SIDE_EFFECT_CLASSES = ["None", "NoneOnDryRun"];
const OPERATIONS = ["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
const REINVOCATION_POLICIES = ["IfNeeded", "Never"];
const SCOPES = ["*", "Cluster", "Namespaced"];

// ---- defaults -------------------------------------------------------------------------------

function setIfAbsent(o: Json, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

/** SetDefaults_{Validating,Mutating}Webhook, SetDefaults_Rule and SetDefaults_ServiceReference of v1. */
function defaultWebhooks(obj: KubeObject, mutating: boolean): void {
  for (const hook of objs(obj.webhooks)) {
    setIfAbsent(hook, "failurePolicy", "Fail");
    setIfAbsent(hook, "matchPolicy", "Equivalent");
    setIfAbsent(hook, "namespaceSelector", {});
    setIfAbsent(hook, "objectSelector", {});
    setIfAbsent(hook, "timeoutSeconds", 10);
    if (mutating) setIfAbsent(hook, "reinvocationPolicy", "Never");
    for (const rule of objs(hook.rules)) setIfAbsent(rule, "scope", "*");
    const cc = hook.clientConfig;
    if (isObj(cc) && isObj(cc.service)) setIfAbsent(cc.service, "port", 443);
  }
}

// ---- validation -----------------------------------------------------------------------------

interface Options {
  /** sideEffects must be None or NoneOnDryRun (v1 creates; updates of objects that already were). */
  readonly requireNoSideEffects: boolean;
  readonly requireRecognizedAdmissionReviewVersion: boolean;
  readonly requireUniqueWebhookNames: boolean;
  readonly allowInvalidLabelValueInSelector: boolean;
  /** Match conditions are not compiled again on an update that leaves every webhook's list as stored. */
  readonly ignoreMatchConditions: boolean;
}

const CREATE_OPTIONS: Options = {
  requireNoSideEffects: true,
  requireRecognizedAdmissionReviewVersion: true,
  requireUniqueWebhookNames: true,
  allowInvalidLabelValueInSelector: false,
  ignoreMatchConditions: false,
};

/** The string elements of a list field; other elements read as "" (the decoder refuses them first). */
function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.map((x) => (typeof x === "string" ? x : "")) : undefined;
}

function given(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** utilvalidation.IsFullyQualifiedName: a DNS subdomain of at least three labels. */
function validateFullyQualifiedName(name: string, path: FieldPath): FieldError[] {
  if (name.length === 0) return [required(path, "")];
  const errs = isDNS1123Subdomain(name);
  if (errs.length > 0) return [invalid(path, name, errs.join(","))];
  if (name.split(".").length < 3) return [invalid(path, name, "should be a domain with at least three segments separated by dots")];
  return [];
}

function validateResources(resources: string[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const list = resources ?? [];
  if (list.length === 0) errs.push(required(path, ""));
  const resourcesWithWildcardSub = new Set<string>();
  const subsWithWildcardResource = new Set<string>();
  let doubleWildcard = false;
  let singleWildcard = false;
  let resourceWithoutSub = false;
  list.forEach((resSub, i) => {
    if (resSub === "") {
      errs.push(required(path.index(i), ""));
      return;
    }
    if (resSub === "*/*") doubleWildcard = true;
    if (resSub === "*") singleWildcard = true;
    const slash = resSub.indexOf("/");
    if (slash < 0) {
      // Upstream keeps only the last answer here: a plain resource after "*" counts, "*" after one resets it.
      resourceWithoutSub = resSub !== "*";
      return;
    }
    const res = resSub.slice(0, slash);
    const sub = resSub.slice(slash + 1);
    if (resourcesWithWildcardSub.has(res)) errs.push(invalid(path.index(i), resSub, `if '${res}/*' is present, must not specify ${resSub}`));
    if (subsWithWildcardResource.has(sub)) errs.push(invalid(path.index(i), resSub, `if '*/${sub}' is present, must not specify ${resSub}`));
    if (sub === "*") resourcesWithWildcardSub.add(res);
    if (res === "*") subsWithWildcardResource.add(sub);
  });
  if (list.length > 1 && doubleWildcard) errs.push(invalid(path, list, "if '*/*' is present, must not specify other resources"));
  if (singleWildcard && resourceWithoutSub) errs.push(invalid(path, list, "if '*' is present, must not specify other resources without subresources"));
  return errs;
}

function goOperations(ops: readonly string[]): GoRendered {
  return new GoRendered(`[]admissionregistration.OperationType{${ops.map((o) => goQuote(o)).join(", ")}}`);
}

/** validateRuleWithOperations: operations, then the rule (groups, versions, resources with subresources, scope). */
function validateRule(rule: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const ops = strings(rule.operations) ?? [];
  const opsPath = path.child("operations");
  if (ops.length === 0) errs.push(required(opsPath, ""));
  if (ops.length > 1 && ops.includes("*")) errs.push(invalid(opsPath, goOperations(ops), "if '*' is present, must not specify other operations"));
  ops.forEach((op, i) => {
    if (!OPERATIONS.includes(op)) errs.push(notSupported(opsPath.index(i), op, OPERATIONS));
  });

  const groups = strings(rule.apiGroups) ?? [];
  if (groups.length === 0) errs.push(required(path.child("apiGroups"), ""));
  if (groups.length > 1 && groups.includes("*")) errs.push(invalid(path.child("apiGroups"), groups, "if '*' is present, must not specify other API groups"));
  // An empty group is the legacy core group, so only versions must be non-empty.
  const versions = strings(rule.apiVersions) ?? [];
  if (versions.length === 0) errs.push(required(path.child("apiVersions"), ""));
  if (versions.length > 1 && versions.includes("*")) errs.push(invalid(path.child("apiVersions"), versions, "if '*' is present, must not specify other API versions"));
  versions.forEach((v, i) => {
    if (v === "") errs.push(required(path.child("apiVersions").index(i), ""));
  });
  errs.push(...validateResources(strings(rule.resources), path.child("resources")));
  if (given(rule.scope) && !(typeof rule.scope === "string" && SCOPES.includes(rule.scope))) errs.push(notSupported(path.child("scope"), rule.scope, SCOPES));
  return errs;
}

function enumField(hook: Json, key: string, supported: readonly string[], path: FieldPath): FieldError[] {
  const v = hook[key];
  if (!given(v) || (typeof v === "string" && supported.includes(v))) return [];
  return [notSupported(path.child(key), v, supported)];
}

/** What Go's url.Parse makes of a webhook URL, or its error as url.Error prints it. */
interface ParsedURL {
  readonly scheme: string;
  readonly host: string;
  readonly userinfo?: string;
  readonly rawQuery: string;
  readonly fragment: string;
}

const HOST_ALLOWED = /^[A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"\u0080-\uffff]$/;

function checkEscapes(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "%") continue;
    const hex = s.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return `invalid URL escape ${goQuote(s.slice(i, i + 3))}`;
    i += 2;
  }
  return undefined;
}

function checkHost(host: string): string | undefined {
  let colonPort = "";
  if (host.startsWith("[")) {
    const end = host.lastIndexOf("]");
    if (end < 0) return "missing ']' in host";
    colonPort = host.slice(end + 1);
  } else {
    const i = host.lastIndexOf(":");
    if (i >= 0) colonPort = host.slice(i);
  }
  if (colonPort !== "" && !/^:[0-9]*$/.test(colonPort)) return `invalid port ${goQuote(colonPort)} after host`;
  for (let i = 0; i < host.length; i++) {
    const c = host[i]!;
    if (c === "%") continue;
    if (!HOST_ALLOWED.test(c)) return `invalid character ${goQuote(c)} in host name`;
  }
  return checkEscapes(host);
}

/** Go's net/url.Parse as far as the webhook checks read it (scheme, host, user, query, fragment). */
function parseURL(raw: string): ParsedURL | string {
  const fail = (msg: string): string => `parse ${goQuote(raw)}: ${msg}`;
  const hash = raw.indexOf("#");
  const fragment = hash < 0 ? "" : raw.slice(hash + 1);
  let rest = hash < 0 ? raw : raw.slice(0, hash);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(rest)) return fail("net/url: invalid control character in URL");
  let scheme = "";
  const m = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(rest);
  if (rest.startsWith(":")) return fail("missing protocol scheme");
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = rest.slice(m[0].length);
  }
  let rawQuery = "";
  const q = rest.indexOf("?");
  if (q >= 0) {
    rawQuery = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let host = "";
  let userinfo: string | undefined;
  if (!rest.startsWith("/")) {
    if (scheme === "" && (rest.split("/")[0] ?? "").includes(":")) return fail("first path segment in URL cannot contain colon");
  } else if (rest.startsWith("//") && (scheme !== "" || !rest.startsWith("///"))) {
    const slash = rest.indexOf("/", 2);
    const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? "" : rest.slice(slash);
    const at = authority.lastIndexOf("@");
    host = at < 0 ? authority : authority.slice(at + 1);
    if (at >= 0) {
      userinfo = authority.slice(0, at);
      if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(userinfo)) return fail("net/url: invalid userinfo");
      const ue = checkEscapes(userinfo);
      if (ue) return fail(ue);
    }
    const he = checkHost(host);
    if (he) return fail(he);
  }
  const pe = checkEscapes(rest) ?? checkEscapes(fragment);
  if (pe) return fail(pe);
  return { scheme, host, ...(userinfo !== undefined ? { userinfo } : {}), rawQuery, fragment };
}

const URL_FORM = "; desired format: https://host[/path]";

/** apiserver's webhook.ValidateWebhookURL with https forced. */
function validateWebhookURL(raw: string, path: FieldPath): FieldError[] {
  const u = parseURL(raw);
  if (typeof u === "string") return [required(path, `url must be a valid URL: ${u}${URL_FORM}`)];
  const errs: FieldError[] = [];
  if (u.scheme !== "https") errs.push(invalid(path, u.scheme, `'https' is the only allowed URL scheme${URL_FORM}`));
  if (u.host.length === 0) errs.push(invalid(path, u.host, `host must be provided${URL_FORM}`));
  if (u.userinfo !== undefined) errs.push(invalid(path, u.userinfo, "user information is not permitted in the URL"));
  if (u.fragment.length > 0) errs.push(invalid(path, u.fragment, "fragments are not permitted in the URL"));
  if (u.rawQuery.length > 0) errs.push(invalid(path, u.rawQuery, "query parameters are not permitted in the URL"));
  return errs;
}

/** apiserver's webhook.ValidateWebhookService. */
function validateWebhookService(svc: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = typeof svc.name === "string" ? svc.name : "";
  const namespace = typeof svc.namespace === "string" ? svc.namespace : "";
  if (name.length === 0) errs.push(required(path.child("name"), "service name is required"));
  if (namespace.length === 0) errs.push(required(path.child("namespace"), "service namespace is required"));
  const port = typeof svc.port === "number" ? svc.port : 0;
  const portErrs = isValidPortNum(port);
  if (portErrs.length > 0) errs.push(invalid(path.child("port"), port, `port is not valid: ${portErrs.join(", ")}`));
  if (typeof svc.path !== "string") return errs;
  const urlPath = svc.path;
  if (urlPath === "/" || urlPath.length === 0) return errs;
  const p = path.child("path");
  if (urlPath === "//") return [...errs, invalid(p, urlPath, "segment[0] may not be empty")];
  if (!urlPath.startsWith("/")) errs.push(invalid(p, urlPath, "must start with a '/'"));
  let toCheck = urlPath.slice(1);
  if (toCheck.endsWith("/")) toCheck = toCheck.slice(0, -1);
  toCheck.split("/").forEach((step, i) => {
    if (step.length === 0) {
      errs.push(invalid(p, urlPath, `segment[${i}] may not be empty`));
      return;
    }
    for (const failure of isDNS1123Subdomain(step)) errs.push(invalid(p, urlPath, `segment[${i}]: ${failure}`));
  });
  return errs;
}

/**
 * caBundle is a []byte upstream, so its JSON is standard base64 (CR and LF ignored) and a bad
 * one never reaches validation there; here it is refused on its path with Go's decoder words.
 */
function validateCABundle(v: unknown, path: FieldPath): FieldError[] {
  if (typeof v !== "string") return [];
  const s = v.replace(/[\r\n]/g, "");
  const bad = /[^A-Za-z0-9+/=]/.exec(s);
  let at = bad ? bad.index : -1;
  if (at < 0) {
    const pad = s.indexOf("=");
    const body = pad < 0 ? s : s.slice(0, pad);
    const padding = pad < 0 ? "" : s.slice(pad);
    if (/[^=]/.test(padding)) at = pad + padding.search(/[^=]/);
    else if (s.length % 4 !== 0 || padding.length > 2 || (padding.length > 0 && (body.length + padding.length) % 4 !== 0)) at = Math.floor(s.length / 4) * 4;
    else if (body.length % 4 === 1) at = body.length - 1;
  }
  return at < 0 ? [] : [invalid(path, "<value omitted>", `illegal base64 data at input byte ${at}`)];
}

function validateClientConfig(cc: unknown, path: FieldPath): FieldError[] {
  const c = isObj(cc) ? cc : {};
  const hasURL = given(c.url);
  const hasService = given(c.service);
  const errs: FieldError[] = [];
  if (hasURL === hasService) errs.push(required(path, "exactly one of url or service is required"));
  else if (hasURL) errs.push(...validateWebhookURL(typeof c.url === "string" ? c.url : "", path.child("url")));
  else errs.push(...validateWebhookService(isObj(c.service) ? c.service : {}, path.child("service")));
  errs.push(...validateCABundle(c.caBundle, path.child("caBundle")));
  return errs;
}

function validateSelector(sel: unknown, opts: Options, path: FieldPath): FieldError[] {
  const view = selectorView(sel);
  return view ? validateLabelSelector(view, { allowInvalidLabelValueInSelector: opts.allowInvalidLabelValueInSelector }, path) : [];
}

/** validate{Validating,Mutating}Webhook. */
function validateWebhook(hook: Json, mutating: boolean, opts: Options, path: FieldPath): FieldError[] {
  const errs = validateFullyQualifiedName(typeof hook.name === "string" ? hook.name : "", path.child("name"));
  objs(hook.rules).forEach((rule, i) => errs.push(...validateRule(rule, path.child("rules").index(i))));
  errs.push(...enumField(hook, "failurePolicy", FAILURE_POLICIES, path));
  errs.push(...enumField(hook, "matchPolicy", MATCH_POLICIES, path));
  const allowedSideEffects = opts.requireNoSideEffects ? NO_SIDE_EFFECT_CLASSES : SIDE_EFFECT_CLASSES;
  if (!given(hook.sideEffects)) errs.push(required(path.child("sideEffects"), `must specify one of ${allowedSideEffects.join(", ")}`));
  else errs.push(...enumField(hook, "sideEffects", allowedSideEffects, path));
  const timeout = hook.timeoutSeconds;
  if (typeof timeout === "number" && (timeout > 30 || timeout < 1)) errs.push(invalid(path.child("timeoutSeconds"), timeout, "the timeout value must be between 1 and 30 seconds"));
  errs.push(...validateSelector(hook.namespaceSelector, opts, path.child("namespaceSelector")));
  errs.push(...validateSelector(hook.objectSelector, opts, path.child("objectSelector")));
  if (mutating) errs.push(...enumField(hook, "reinvocationPolicy", REINVOCATION_POLICIES, path));
  errs.push(...validateClientConfig(hook.clientConfig, path.child("clientConfig")));
  // Webhooks' conditions see no params: a webhook has no parameter resource.
  if (!opts.ignoreMatchConditions) errs.push(...validateMatchConditions(hook.matchConditions, {}, path.child("matchConditions")));
  return errs;
}

function validateAdmissionReviewVersions(v: unknown, requireRecognized: boolean, path: FieldPath): FieldError[] {
  const versions = strings(v) ?? [];
  if (versions.length === 0) return [required(path, `must specify one of ${ACCEPTED_ADMISSION_REVIEW_VERSIONS.join(", ")}`)];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let accepted = false;
  versions.forEach((ver, i) => {
    if (seen.has(ver)) {
      errs.push(invalid(path.index(i), ver, "duplicate version"));
      return;
    }
    seen.add(ver);
    for (const m of isDNS1035Label(ver)) errs.push(invalid(path.index(i), ver, m));
    if (ACCEPTED_ADMISSION_REVIEW_VERSIONS.includes(ver)) accepted = true;
  });
  if (requireRecognized && !accepted) errs.push(invalid(path, versions, `must include at least one of ${ACCEPTED_ADMISSION_REVIEW_VERSIONS.join(", ")}`));
  return errs;
}

function validateConfiguration(obj: KubeObject, mutating: boolean, opts: Options): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  objs(obj.webhooks).forEach((hook, i) => {
    const p = WEBHOOKS.index(i);
    errs.push(...validateWebhook(hook, mutating, opts, p));
    errs.push(...validateAdmissionReviewVersions(hook.admissionReviewVersions, opts.requireRecognizedAdmissionReviewVersion, p.child("admissionReviewVersions")));
    const name = typeof hook.name === "string" ? hook.name : "";
    if (opts.requireUniqueWebhookNames && name.length > 0) {
      if (names.has(name)) errs.push(duplicate(p.child("name"), name));
      else names.add(name);
    }
  });
  return errs;
}

/**
 * Upstream's update validation keeps working objects stored before a rule tightened: each
 * strict check applies only when every webhook of the stored object already passes it.
 */
function updateOptions(obj: KubeObject, old: KubeObject): Options {
  const hooks = objs(old.webhooks);
  const newHooks = objs(obj.webhooks);
  const names = hooks.map((h) => (typeof h.name === "string" ? h.name : ""));
  const invalidLabelValue = hooks.some(
    (h) =>
      validateSelector(h.namespaceSelector, CREATE_OPTIONS, WEBHOOKS).length > 0 ||
      validateSelector(h.objectSelector, CREATE_OPTIONS, WEBHOOKS).length > 0,
  );
  return {
    requireNoSideEffects: hooks.every((h) => typeof h.sideEffects === "string" && NO_SIDE_EFFECT_CLASSES.includes(h.sideEffects)),
    requireRecognizedAdmissionReviewVersion: hooks.every((h) => {
      const versions = strings(h.admissionReviewVersions) ?? [];
      return versions.length === 0 || versions.some((v) => ACCEPTED_ADMISSION_REVIEW_VERSIONS.includes(v));
    }),
    requireUniqueWebhookNames: new Set(names).size === names.length,
    allowInvalidLabelValueInSelector: invalidLabelValue,
    // Expressions already stored stay accepted even if they would no longer compile.
    ignoreMatchConditions: newHooks.length === hooks.length && hooks.every((h, i) => jsonEqual(h.matchConditions, newHooks[i]?.matchConditions)),
  };
}

// ---- CEL: match conditions and expressions --------------------------------------------------

const MAX_MATCH_CONDITIONS = 64;

/** A compile error of `expression` as upstream's convertCELErrorToValidationError reports it: Invalid, the expression as the value. */
function compileErrors(expression: string, result: ExpressionResult, scope: ExpressionScope, path: FieldPath): FieldError[] {
  const compiled = compileAdmissionExpression(expression, result, scope);
  return isCompileError(compiled) ? [invalid(path, expression, compiled.error)] : [];
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/**
 * validateMatchConditions, for webhooks (no params) and policies: at most 64, each named with a
 * unique qualified name and an expression compiling to bool (compiled trimmed, as upstream).
 */
function validateMatchConditions(conditions: unknown, scope: ExpressionScope, path: FieldPath): FieldError[] {
  if (!Array.isArray(conditions)) return [];
  const errs: FieldError[] = [];
  if (conditions.length > MAX_MATCH_CONDITIONS) errs.push(tooMany(path, conditions.length, MAX_MATCH_CONDITIONS));
  const names = new Set<string>();
  conditions.forEach((c: unknown, i) => {
    const cond = isObj(c) ? c : {};
    const p = path.index(i);
    const expression = str(cond.expression).trim();
    if (expression.length === 0) errs.push(required(p.child("expression"), ""));
    else errs.push(...compileErrors(expression, "bool", scope, p.child("expression")));
    const name = str(cond.name);
    if (name.length === 0) errs.push(required(p.child("name"), ""));
    else errs.push(...isQualifiedName(name).map((m) => invalid(p.child("name"), name, m)));
    if (name.length > 0) {
      if (names.has(name)) errs.push(duplicate(p.child("name"), name));
      else names.add(name);
    }
  });
  return errs;
}

// ---- ValidatingAdmissionPolicy and its binding: defaults --------------------------------------

/** SetDefaults_MatchResources, with SetDefaults_Rule for each (excluded) resource rule. */
function defaultMatchResources(mr: unknown): void {
  if (!isObj(mr)) return;
  setIfAbsent(mr, "matchPolicy", "Equivalent");
  setIfAbsent(mr, "namespaceSelector", {});
  setIfAbsent(mr, "objectSelector", {});
  for (const rule of [...objs(mr.resourceRules), ...objs(mr.excludeResourceRules)]) setIfAbsent(rule, "scope", "*");
}

function defaultPolicy(obj: KubeObject): void {
  if (!isObj(obj.spec)) return;
  setIfAbsent(obj.spec, "failurePolicy", "Fail");
  defaultMatchResources(obj.spec.matchConstraints);
}

function defaultBinding(obj: KubeObject): void {
  if (isObj(obj.spec)) defaultMatchResources(obj.spec.matchResources);
}

// ---- ValidatingAdmissionPolicy and its binding: validation ------------------------------------

const SPEC = FieldPath.of("spec");
// Upstream's list of reasons a validation may give; the API documentation also names
// Unauthorized, but upstream's validation refuses it, and so does k8ts.
const VALIDATION_REASONS = ["Forbidden", "Invalid", "RequestEntityTooLarge"];
const VALIDATION_ACTIONS = ["Audit", "Deny", "Warn"];
const PARAMETER_NOT_FOUND_ACTIONS = ["Deny", "Allow"];
const MAX_AUDIT_ANNOTATIONS = 20;
const MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH = 5 * 1024;
const POLICY_SCOPE: ExpressionScope = { policy: true, variables: true };

// CEL's IDENT production minus its reserved words.
const CEL_IDENT = /^[_a-zA-Z][_a-zA-Z0-9]*$/;
const CEL_RESERVED = new Set(["true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"]);

function isCELIdentifier(name: string): boolean {
  return CEL_IDENT.test(name) && !CEL_RESERVED.has(name);
}

function enumRequired(o: Json, key: string, supported: readonly string[], path: FieldPath): FieldError[] {
  return given(o[key]) ? enumField(o, key, supported, path) : [required(path.child(key), "")];
}

/** validateNamedRuleWithOperations: unique path-segment resource names, then the rule. */
function validateNamedRule(rule: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (strings(rule.resourceNames) ?? []).forEach((name, i) => {
    const p = path.child("resourceNames").index(i);
    for (const m of isValidPathSegmentName(name)) errs.push(invalid(p, name, m));
    if (seen.has(name)) errs.push(duplicate(p, name));
    else seen.add(name);
  });
  return [...errs, ...validateRule(rule, path)];
}

/** validateMatchResources: policy, both selectors (strictly: the kind came after issue 99139), rules. */
function validateMatchResources(mr: Json, path: FieldPath): FieldError[] {
  const errs = enumRequired(mr, "matchPolicy", MATCH_POLICIES, path);
  for (const key of ["namespaceSelector", "objectSelector"]) {
    if (!given(mr[key])) errs.push(required(path.child(key), ""));
    else errs.push(...validateSelector(mr[key], CREATE_OPTIONS, path.child(key)));
  }
  objs(mr.resourceRules).forEach((r, i) => errs.push(...validateNamedRule(r, path.child("resourceRules").index(i))));
  objs(mr.excludeResourceRules).forEach((r, i) => errs.push(...validateNamedRule(r, path.child("excludeResourceRules").index(i))));
  return errs;
}

/** validateParamKind: apiVersion a group/version as the APIService fields are checked, kind a DNS-1035 label in any case. */
function validateParamKind(pk: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const apiVersion = str(pk.apiVersion);
  const avPath = path.child("apiVersion");
  if (apiVersion.length === 0) errs.push(required(avPath, ""));
  else if (apiVersion.split("/").length > 2) errs.push(invalid(avPath, apiVersion, `unexpected GroupVersion string: ${apiVersion}`));
  else {
    const slash = apiVersion.indexOf("/");
    const [group, version] = apiVersion === "/" ? ["", ""] : slash < 0 ? ["", apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
    if (group.length > 0) {
      const ge = isDNS1123Subdomain(group);
      if (ge.length > 0) errs.push(invalid(avPath, group, ge.join(",")));
    }
    if (version.length === 0) errs.push(invalid(avPath, apiVersion, "version must be specified"));
    else {
      const ve = isDNS1035Label(version);
      if (ve.length > 0) errs.push(invalid(avPath, version, ve.join(",")));
    }
  }
  const kind = str(pk.kind);
  if (kind.length === 0) errs.push(required(path.child("kind"), ""));
  else {
    const ke = isDNS1035Label(kind.toLowerCase());
    if (ke.length > 0) errs.push(invalid(path.child("kind"), kind, `may have mixed case, but should otherwise match: ${ke.join(",")}`));
  }
  return errs;
}

function validateVariable(v: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(v.name);
  if (name.trim().length === 0) errs.push(required(path.child("name"), "name is not specified"));
  else if (!isCELIdentifier(name)) errs.push(invalid(path.child("name"), name, "name is not a valid CEL identifier"));
  const expression = str(v.expression);
  if (expression.trim().length === 0) errs.push(required(path.child("expression"), "expression is not specified"));
  else errs.push(...compileErrors(expression, "any", POLICY_SCOPE, path.child("expression")));
  return errs;
}

const LINE_BREAK = /[\n\r]/;

function validateValidation(v: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const expression = str(v.expression);
  if (expression.trim().length === 0) errs.push(required(path.child("expression"), "expression is not specified"));
  else errs.push(...compileErrors(expression, "bool", POLICY_SCOPE, path.child("expression")));
  // Compiled untrimmed, as upstream does, so an error's column points into the text as written.
  const messageExpression = str(v.messageExpression);
  if (messageExpression.length > 0 && messageExpression.trim().length === 0) {
    errs.push(invalid(path.child("messageExpression"), messageExpression, "must be non-empty if specified"));
  } else if (messageExpression.length > 0) {
    errs.push(...compileErrors(messageExpression, "string", POLICY_SCOPE, path.child("messageExpression")));
  }
  const message = str(v.message);
  if (message.length > 0 && message.trim().length === 0) errs.push(invalid(path.child("message"), message, "message must be non-empty if specified"));
  else if (LINE_BREAK.test(message.trim())) errs.push(invalid(path.child("message"), message, "message must not contain line breaks"));
  if (given(v.reason)) errs.push(...enumField(v, "reason", VALIDATION_REASONS, path));
  return errs;
}

function validateAuditAnnotation(policyName: string, a: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const key = str(a.key);
  // The key becomes the audit annotation "<policy name>/<key>", which must be a qualified name.
  if (policyName.length > 0) {
    const full = `${policyName}/${key}`;
    errs.push(...isQualifiedName(full).map((m) => invalid(path.child("key"), full, m)));
  } else errs.push(invalid(path.child("key"), key, "requires metadata.name be non-empty"));
  const valueExpression = str(a.valueExpression);
  const trimmed = valueExpression.trim();
  const vePath = path.child("valueExpression");
  if (trimmed.length === 0) errs.push(required(vePath, "valueExpression is not specified"));
  else if (Buffer.byteLength(trimmed) > MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH) {
    errs.push(required(vePath, `must not exceed ${MAX_AUDIT_ANNOTATION_VALUE_EXPRESSION_LENGTH} bytes in length`));
  } else {
    const compiled = compileAdmissionExpression(trimmed, "string", POLICY_SCOPE);
    if (isCompileError(compiled)) errs.push(invalid(vePath, valueExpression, compiled.error));
  }
  return errs;
}

function goAuditAnnotations(list: readonly Json[]): GoRendered {
  const items = list.map((a) => `admissionregistration.AuditAnnotation{Key:${goQuote(str(a.key))}, ValueExpression:${goQuote(str(a.valueExpression))}}`);
  return new GoRendered(`[]admissionregistration.AuditAnnotation{${items.join(", ")}}`);
}

/** validateValidatingAdmissionPolicySpec. */
function validatePolicySpec(obj: KubeObject, ignoreMatchConditions: boolean): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs = enumRequired(spec, "failurePolicy", FAILURE_POLICIES, SPEC);
  if (given(spec.paramKind)) errs.push(...validateParamKind(isObj(spec.paramKind) ? spec.paramKind : {}, SPEC.child("paramKind")));
  if (!given(spec.matchConstraints)) errs.push(required(SPEC.child("matchConstraints"), ""));
  else {
    const mc = isObj(spec.matchConstraints) ? spec.matchConstraints : {};
    errs.push(...validateMatchResources(mc, SPEC.child("matchConstraints")));
    // The resource rules tell the policy's type checking what objects it sees.
    if (objs(mc.resourceRules).length === 0) errs.push(required(SPEC.child("matchConstraints", "resourceRules"), ""));
  }
  if (!ignoreMatchConditions) errs.push(...validateMatchConditions(spec.matchConditions, { policy: true }, SPEC.child("matchConditions")));
  objs(spec.variables).forEach((v, i) => errs.push(...validateVariable(v, SPEC.child("variables").index(i))));
  const validations = objs(spec.validations);
  const annotations = objs(spec.auditAnnotations);
  if (validations.length === 0 && annotations.length === 0) {
    const msg = "validations or auditAnnotations must contain at least one item";
    return [...errs, required(SPEC.child("validations"), msg), required(SPEC.child("auditAnnotations"), msg)];
  }
  validations.forEach((v, i) => errs.push(...validateValidation(v, SPEC.child("validations").index(i))));
  if (annotations.length > MAX_AUDIT_ANNOTATIONS) {
    errs.push(invalid(SPEC.child("auditAnnotations"), goAuditAnnotations(annotations), `must not have more than ${MAX_AUDIT_ANNOTATIONS} auditAnnotations`));
  }
  const keys = new Set<string>();
  annotations.forEach((a, i) => {
    const p = SPEC.child("auditAnnotations").index(i);
    errs.push(...validateAuditAnnotation(nameOf(obj), a, p));
    const key = str(a.key);
    if (keys.has(key)) errs.push(duplicate(p.child("key"), key));
    keys.add(key);
  });
  return errs;
}

/** An update that changes neither paramKind nor matchConditions keeps the stored conditions, compiled or not. */
function policyMatchConditionsUnchanged(obj: KubeObject, old: KubeObject): boolean {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const oldSpec = isObj(old.spec) ? old.spec : {};
  return jsonEqual(spec.paramKind, oldSpec.paramKind) && jsonEqual(spec.matchConditions, oldSpec.matchConditions);
}

/** validateValidatingAdmissionPolicyStatus: the type checker's warnings and the conditions. */
function validatePolicyStatus(obj: KubeObject): FieldError[] {
  const status = isObj(obj.status) ? obj.status : {};
  const errs: FieldError[] = [];
  const warnings = FieldPath.of("status", "typeChecking", "expressionWarnings");
  objs(isObj(status.typeChecking) ? status.typeChecking.expressionWarnings : undefined).forEach((w, i) => {
    if (str(w.warning) === "") errs.push(required(warnings.index(i).child("warning"), ""));
    if (str(w.fieldRef).trim() === "") errs.push(required(warnings.index(i).child("fieldRef"), ""));
  });
  return [...errs, ...validateConditions(status.conditions, FieldPath.of("status", "conditions"))];
}

function validateParamRef(pr: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(pr.name);
  const hasSelector = given(pr.selector);
  const exclusive = "name and selector are mutually exclusive";
  if (name.length > 0) {
    for (const m of isValidPathSegmentName(name)) errs.push(invalid(path.child("name"), name, m));
    if (hasSelector) errs.push(forbidden(path.child("name"), exclusive));
  }
  if (hasSelector) {
    errs.push(...validateSelector(pr.selector, CREATE_OPTIONS, path.child("selector")));
    if (name.length > 0) errs.push(forbidden(path.child("selector"), exclusive));
  }
  if (name.length === 0 && !hasSelector) errs.push(required(path, "one of name or selector must be specified"));
  const action = pr.parameterNotFoundAction;
  if (!given(action) || action === "") errs.push(required(path.child("parameterNotFoundAction"), ""));
  else errs.push(...enumField(pr, "parameterNotFoundAction", PARAMETER_NOT_FOUND_ACTIONS, path));
  return errs;
}

function validateValidationActions(v: unknown, path: FieldPath): FieldError[] {
  const actions = strings(v) ?? [];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  actions.forEach((a, i) => {
    if (!VALIDATION_ACTIONS.includes(a)) errs.push(notSupported(path.index(i), a, VALIDATION_ACTIONS));
    if (seen.has(a)) errs.push(duplicate(path.index(i), a));
    seen.add(a);
  });
  if (seen.has("Deny") && seen.has("Warn")) {
    const rendered = new GoRendered(`[]admissionregistration.ValidationAction{${actions.map((a) => goQuote(a)).join(", ")}}`);
    errs.push(invalid(path, rendered, "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"));
  }
  if (seen.size === 0) errs.push(required(path, "at least one validation action is required"));
  return errs;
}

/** validateValidatingAdmissionPolicyBindingSpec. */
function validateBindingSpec(obj: KubeObject): FieldError[] {
  const spec = isObj(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  const policyName = str(spec.policyName);
  if (policyName.length === 0) errs.push(required(SPEC.child("policyName"), ""));
  else errs.push(...isDNS1123Subdomain(policyName).map((m) => invalid(SPEC.child("policyName"), policyName, m)));
  if (given(spec.paramRef)) errs.push(...validateParamRef(isObj(spec.paramRef) ? spec.paramRef : {}, SPEC.child("paramRef")));
  // Upstream reports these errors under "matchResouces" (sic); the path is kept as it prints it.
  if (given(spec.matchResources)) errs.push(...validateMatchResources(isObj(spec.matchResources) ? spec.matchResources : {}, SPEC.child("matchResouces")));
  errs.push(...validateValidationActions(spec.validationActions, SPEC.child("validationActions")));
  return errs;
}

// ---- ValidatingAdmissionPolicy and its binding: tables ----------------------------------------

/** gogo-protobuf's String() of a metav1.LabelSelector, which upstream's binding table prints. */
function protoLabelSelectorString(sel: Json): string {
  const labels = isObj(sel.matchLabels) ? Object.entries(sel.matchLabels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
  const exprs = objs(sel.matchExpressions).map((e) => `LabelSelectorRequirement{Key:${str(e.key)},Operator:${str(e.operator)},Values:[${(strings(e.values) ?? []).join(" ")}],}`);
  return `&LabelSelector{MatchLabels:map[string]string{${labels.map(([k, v]) => `${k}: ${String(v)},`).join("")}},MatchExpressions:[]LabelSelectorRequirement{${exprs.map((e) => `${e},`).join("")}},}`;
}

function paramKindCell(obj: Readonly<KubeObject>): string {
  const pk = isObj(obj.spec) ? obj.spec.paramKind : undefined;
  return isObj(pk) ? `${str(pk.apiVersion)}/${str(pk.kind)}` : "<unset>";
}

function paramRefCell(obj: Readonly<KubeObject>): string {
  const pr = isObj(obj.spec) ? obj.spec.paramRef : undefined;
  if (!isObj(pr)) return "<unset>";
  const name = str(pr.name);
  // Whether the param kind is namespaced is not known here, so a name without a namespace reads */name.
  if (name.length > 0) return `${str(pr.namespace) || "*"}/${name}`;
  return isObj(pr.selector) ? protoLabelSelectorString(pr.selector) : "<unset>";
}

// ---- declarations ---------------------------------------------------------------------------

function webhookConfiguration(kind: "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration"): ResourceDefinition {
  const mutating = kind === "MutatingWebhookConfiguration";
  const plural = `${kind.toLowerCase()}s`;
  return {
    group: ADMISSIONREGISTRATION_GROUP,
    version: "v1",
    kind,
    plural,
    singular: kind.toLowerCase(),
    categories: ["api-extensions"],
    namespaced: false,
    definition: `io.k8s.api.admissionregistration.v1.${kind}`,
    strategy: {
      defaults: (obj) => defaultWebhooks(obj, mutating),
      validate: (obj) => [...validateMeta(obj, false), ...validateConfiguration(obj, mutating, CREATE_OPTIONS)],
      validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateMeta(obj, false), ...validateConfiguration(obj, mutating, updateOptions(obj, old))],
      statusFields: [],
      // Upstream's strategies bump metadata.generation when (and only when) webhooks change.
      specFields: ["webhooks"],
      allowCreateOnUpdate: false,
      allowUnconditionalUpdate: true,
    },
    table: {
      columns: [nameColumn(), column("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration"), ageColumn],
      row: (obj, now) => [nameOf(obj), Array.isArray(obj.webhooks) ? obj.webhooks.length : 0, since(creationOf(obj), now)],
    },
  };
}

export const mutatingWebhookConfigurations: ResourceDefinition = webhookConfiguration("MutatingWebhookConfiguration");
export const validatingWebhookConfigurations: ResourceDefinition = webhookConfiguration("ValidatingWebhookConfiguration");

export const validatingAdmissionPolicies: ResourceDefinition = {
  group: ADMISSIONREGISTRATION_GROUP,
  version: "v1",
  kind: "ValidatingAdmissionPolicy",
  plural: "validatingadmissionpolicies",
  singular: "validatingadmissionpolicy",
  categories: ["api-extensions"],
  namespaced: false,
  definition: "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy",
  subresources: ["status"],
  strategy: {
    defaults: defaultPolicy,
    prepareForCreate: (obj) => resetStatus(obj),
    validate: (obj) => [...validateMeta(obj, false), ...validatePolicySpec(obj, false)],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateMeta(obj, false), ...validatePolicySpec(obj, policyMatchConditionsUnchanged(obj, old))],
    validateStatusUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validatePolicyStatus(obj)],
    statusFields: ["status"],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("Validations", "integer", "Validations indicates the number of validation rules defined in this configuration"),
      column("ParamKind", "string", "ParamKind specifies the kind of resources used to parameterize this policy"),
      ageColumn,
    ],
    row: (obj, now) => [nameOf(obj), isObj(obj.spec) && Array.isArray(obj.spec.validations) ? obj.spec.validations.length : 0, paramKindCell(obj), since(creationOf(obj), now)],
  },
};

export const validatingAdmissionPolicyBindings: ResourceDefinition = {
  group: ADMISSIONREGISTRATION_GROUP,
  version: "v1",
  kind: "ValidatingAdmissionPolicyBinding",
  plural: "validatingadmissionpolicybindings",
  singular: "validatingadmissionpolicybinding",
  categories: ["api-extensions"],
  namespaced: false,
  definition: "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding",
  strategy: {
    defaults: defaultBinding,
    validate: (obj) => [...validateMeta(obj, false), ...validateBindingSpec(obj)],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateMeta(obj, false), ...validateBindingSpec(obj)],
    statusFields: [],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("PolicyName", "string", "PolicyName indicates the policy definition which the policy binding binded to"),
      column("ParamRef", "string", "ParamRef indicates the param resource which sets the configration param"),
      ageColumn,
    ],
    row: (obj, now) => [nameOf(obj), isObj(obj.spec) ? str(obj.spec.policyName) : "", paramRefCell(obj), since(creationOf(obj), now)],
  },
};

export const admissionRegistrationResources: readonly ResourceDefinition[] = [
  mutatingWebhookConfigurations,
  validatingWebhookConfigurations,
  validatingAdmissionPolicies,
  validatingAdmissionPolicyBindings,
];
