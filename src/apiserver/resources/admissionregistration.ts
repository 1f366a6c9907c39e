// admissionregistration.k8s.io/v1 MutatingWebhookConfiguration and ValidatingWebhookConfiguration:
// cluster-scoped lists of webhooks the admission plugins call. Upstream's v1 defaults, its
// validation (pkg/apis/admissionregistration/validation and apiserver's util/webhook URL and
// service checks) with the relaxations its update validation grants objects already stored,
// generation bumped when the webhooks change, and the NAME WEBHOOKS AGE table.
import { duplicate, FieldPath, forbidden, goQuote, GoRendered, invalid, notSupported, required, type FieldError } from "../../api/fielderrors.js";
import { isDNS1035Label, isDNS1123Subdomain, isValidPortNum, validateLabelSelector } from "../../api/validation.js";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { selectorView, validateMeta, validateMetaUpdate } from "./common.js";
import { ageColumn, column, nameColumn, since } from "./print.js";
import { creationOf, isObj, nameOf, objs, type Json } from "./util.js";

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

const MATCH_CONDITIONS_UNSUPPORTED = "k8ts does not evaluate CEL match conditions; filter requests in the webhook instead";

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
}

const CREATE_OPTIONS: Options = {
  requireNoSideEffects: true,
  requireRecognizedAdmissionReviewVersion: true,
  requireUniqueWebhookNames: true,
  allowInvalidLabelValueInSelector: false,
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
  // Upstream compiles and runs these CEL expressions before calling the webhook; k8ts has no
  // CEL, and calling a webhook its author meant to skip is worse than refusing the object.
  if (Array.isArray(hook.matchConditions) && hook.matchConditions.length > 0) errs.push(forbidden(path.child("matchConditions"), MATCH_CONDITIONS_UNSUPPORTED));
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
function updateOptions(old: KubeObject): Options {
  const hooks = objs(old.webhooks);
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
  };
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
      validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateMeta(obj, false), ...validateConfiguration(obj, mutating, updateOptions(old))],
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

export const admissionRegistrationResources: readonly ResourceDefinition[] = [mutatingWebhookConfigurations, validatingWebhookConfigurations];
