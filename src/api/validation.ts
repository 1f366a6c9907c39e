// Generic validators with upstream's exact messages (Kubernetes 1.32: apimachinery
// pkg/util/validation, pkg/api/validation, pkg/api/validation/path,
// pkg/apis/meta/v1/validation). The `is*` checks return message strings the way upstream's do,
// so callers can wrap them into field errors at the right path; the `validate*` functions
// return field errors directly. Lengths are measured in UTF-8 bytes, as Go's len() does.
import type { LabelSelector, LabelSelectorRequirement, ManagedFieldsEntry, ObjectMeta, OwnerReference } from "kubernetes-types/meta/v1.js";
import {
  byteLength,
  compareGoStrings,
  FieldPath,
  forbidden,
  goQuote,
  GoRendered,
  invalid,
  notSupported,
  required,
  tooLong,
  type FieldError,
} from "./fielderrors.js";

// ---- message helpers ----------------------------------------------------------------------

export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  // Upstream appends "', " after each example and " or " between them: two spaces before "or".
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(" or ")}regex used for validation is '${fmt}')`;
}

export function emptyError(): string {
  return "must be non-empty";
}

export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

// ---- names --------------------------------------------------------------------------------

const qnameCharFmt = "[A-Za-z0-9]";
const qnameExtCharFmt = "[-A-Za-z0-9_.]";
const qualifiedNameFmt = `(${qnameCharFmt}${qnameExtCharFmt}*)?${qnameCharFmt}`;
const qualifiedNameErrMsg = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
export const QUALIFIED_NAME_MAX_LENGTH = 63;
const qualifiedNameRe = new RegExp(`^${qualifiedNameFmt}$`);

/** A "qualified name": an optional DNS subdomain prefix and '/', then a name of at most 63 chars. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push("prefix part " + emptyError());
    else for (const m of isDNS1123Subdomain(prefix)) errs.push("prefix part " + m);
  } else {
    errs.push(
      "a qualified name " +
        regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc") +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    );
    return errs;
  }
  if (name.length === 0) errs.push("name part " + emptyError());
  else if (byteLength(name) > QUALIFIED_NAME_MAX_LENGTH) errs.push("name part " + maxLenError(QUALIFIED_NAME_MAX_LENGTH));
  if (!qualifiedNameRe.test(name)) errs.push("name part " + regexError(qualifiedNameErrMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc"));
  return errs;
}

const labelValueFmt = `(${qualifiedNameFmt})?`;
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
export const LABEL_VALUE_MAX_LENGTH = 63;
const labelValueRe = new RegExp(`^${labelValueFmt}$`);

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX_LENGTH) errs.push(maxLenError(LABEL_VALUE_MAX_LENGTH));
  if (!labelValueRe.test(value)) errs.push(regexError(labelValueErrMsg, labelValueFmt, "MyValue", "my_value", "12345"));
  return errs;
}

const dns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const dns1123LabelErrMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
export const DNS1123_LABEL_MAX_LENGTH = 63;
const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);

const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainErrMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`);

const dns1123LabelFmtWithUnderscore = "_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?";
const dns1123SubdomainFmtWithUnderscore = `${dns1123LabelFmtWithUnderscore}(\\.${dns1123LabelFmtWithUnderscore})*`;
const dns1123SubdomainErrMsgUnderscore =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character";
const dns1123SubdomainWithUnderscoreRe = new RegExp(`^${dns1123SubdomainFmtWithUnderscore}$`);

export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!dns1123LabelRe.test(value)) {
    // A valid subdomain that is not a valid label can only differ by its dots.
    if (dns1123SubdomainRe.test(value)) errs.push("must not contain dots");
    else errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, "my-name", "123-abc"));
  }
  return errs;
}

export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!dns1123SubdomainRe.test(value)) errs.push(regexError(dns1123SubdomainErrMsg, dns1123SubdomainFmt, "example.com"));
  return errs;
}

/** Upstream quotes the plain subdomain regex in this message, not the underscore one. */
export function isDNS1123SubdomainWithUnderscore(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!dns1123SubdomainWithUnderscoreRe.test(value)) errs.push(regexError(dns1123SubdomainErrMsgUnderscore, dns1123SubdomainFmt, "example.com"));
  return errs;
}

const dns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
const dns1035LabelErrMsg =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
export const DNS1035_LABEL_MAX_LENGTH = 63;
const dns1035LabelRe = new RegExp(`^${dns1035LabelFmt}$`);

export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1035_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1035_LABEL_MAX_LENGTH));
  if (!dns1035LabelRe.test(value)) errs.push(regexError(dns1035LabelErrMsg, dns1035LabelFmt, "my-name", "abc-123"));
  return errs;
}

const wildcardDNS1123SubdomainFmt = `\\*\\.${dns1123SubdomainFmt}`;
const wildcardDNS1123SubdomainErrMsg =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const wildcardRe = new RegExp(`^${wildcardDNS1123SubdomainFmt}$`);

export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!wildcardRe.test(value)) errs.push(regexError(wildcardDNS1123SubdomainErrMsg, wildcardDNS1123SubdomainFmt, "*.example.com"));
  return errs;
}

/** A domain name with at least two labels; a trailing dot is accepted. */
export function isFullyQualifiedDomainName(path: FieldPath, name: string): FieldError[] {
  if (name.length === 0) return [required(path, "")];
  if (name.endsWith(".")) name = name.slice(0, -1);
  const errs = isDNS1123Subdomain(name);
  if (errs.length > 0) return [invalid(path, name, errs.join(","))];
  const labels = name.split(".");
  if (labels.length < 2) return [invalid(path, name, "should be a domain with at least two segments separated by dots")];
  for (const label of labels) {
    const le = isDNS1123Label(label);
    if (le.length > 0) return [invalid(path, label, le.join(","))];
  }
  return [];
}

const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const httpPathRe = new RegExp(`^${httpPathFmt}$`);

/** `acme.io/foo`: a DNS subdomain, '/', then RFC 3986 path characters. */
export function isDomainPrefixedPath(path: FieldPath, dpPath: string): FieldError[] {
  if (dpPath.length === 0) return [required(path, "")];
  const slash = dpPath.indexOf("/");
  if (slash <= 0 || slash === dpPath.length - 1) {
    return [invalid(path, dpPath, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  }
  const host = dpPath.slice(0, slash);
  const rest = dpPath.slice(slash + 1);
  const errs = isDNS1123Subdomain(host).map((m) => invalid(path, host, m));
  if (!httpPathRe.test(rest)) errs.push(invalid(path, rest, regexError("Invalid path", httpPathFmt)));
  return errs;
}

const cIdentifierFmt = "[A-Za-z_][A-Za-z0-9_]*";
const cIdentifierErrMsg = "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'";
const cIdentifierRe = new RegExp(`^${cIdentifierFmt}$`);

export function isCIdentifier(value: string): string[] {
  if (!cIdentifierRe.test(value)) return [regexError(cIdentifierErrMsg, cIdentifierFmt, "my_name", "MY_NAME", "MyName")];
  return [];
}

const envVarNameFmt = "[-._a-zA-Z][-._a-zA-Z0-9]*";
const envVarNameFmtErrMsg = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const relaxedEnvVarNameFmtErrMsg = "a valid environment variable name must consist only of printable ASCII characters other than '='";
const envVarNameRe = new RegExp(`^${envVarNameFmt}$`);

function hasChDirPrefix(value: string): string[] {
  if (value === ".") return ["must not be '.'"];
  if (value === "..") return ["must not be '..'"];
  if (value.startsWith("..")) return ["must not start with '..'"];
  return [];
}

/** The strict env var name rule (upstream's rule when RelaxedEnvironmentVariableValidation is off). */
export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!envVarNameRe.test(value)) errs.push(regexError(envVarNameFmtErrMsg, envVarNameFmt, "my.env-name", "MY_ENV.NAME", "MyEnvName1"));
  errs.push(...hasChDirPrefix(value));
  return errs;
}

/**
 * The env var name rule Kubernetes 1.32 applies: RelaxedEnvironmentVariableValidation is beta
 * and on by default there, so any printable ASCII except '=' is accepted.
 */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push("environment variable name " + emptyError());
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x3d) {
      errs.push(relaxedEnvVarNameFmtErrMsg);
      break;
    }
  }
  return errs;
}

const configMapKeyFmt = "[-._a-zA-Z0-9]+";
const configMapKeyErrMsg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const configMapKeyRe = new RegExp(`^${configMapKeyFmt}$`);

export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!configMapKeyRe.test(value)) errs.push(regexError(configMapKeyErrMsg, configMapKeyFmt, "key.name", "KEY_NAME", "key-name"));
  errs.push(...hasChDirPrefix(value));
  return errs;
}

const percentFmt = "[0-9]+%";
const percentErrMsg = "a valid percent string must be a numeric string followed by an ending '%'";
const percentRe = new RegExp(`^${percentFmt}$`);

export function isValidPercent(percent: string): string[] {
  if (!percentRe.test(percent)) return [regexError(percentErrMsg, percentFmt, "1%", "93%")];
  return [];
}

const httpHeaderNameFmt = "[-A-Za-z0-9]+";
const httpHeaderNameErrMsg = "a valid HTTP header must consist of alphanumeric characters or '-'";
const httpHeaderNameRe = new RegExp(`^${httpHeaderNameFmt}$`);

export function isHTTPHeaderName(value: string): string[] {
  if (!httpHeaderNameRe.test(value)) return [regexError(httpHeaderNameErrMsg, httpHeaderNameFmt, "X-Header-Name")];
  return [];
}

// ---- numbers ------------------------------------------------------------------------------

export function isValidPortNum(port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

export function isInRange(value: number, min: number, max: number): string[] {
  return value >= min && value <= max ? [] : [inclusiveRangeError(min, max)];
}

const MAX_INT32 = 2147483647;

export function isValidUserID(uid: number): string[] {
  return uid >= 0 && uid <= MAX_INT32 ? [] : [inclusiveRangeError(0, MAX_INT32)];
}

export function isValidGroupID(gid: number): string[] {
  return gid >= 0 && gid <= MAX_INT32 ? [] : [inclusiveRangeError(0, MAX_INT32)];
}

/**
 * An IANA service name (RFC 6335) as Kubernetes restricts it: at most 15 characters of
 * [-a-z0-9], at least one letter, no leading/trailing or doubled hyphen.
 */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (byteLength(port) > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(port)) errs.push("must contain at least one letter (a-z)");
  if (port.includes("--")) errs.push("must not contain consecutive hyphens");
  if (port.length > 0 && (port.startsWith("-") || port.endsWith("-"))) errs.push("must not begin or end with a hyphen");
  return errs;
}

// ---- IP addresses -------------------------------------------------------------------------
// Kubernetes parses with k8s.io/utils/net ParseIPSloppy/ParseCIDRSloppy: Go 1.16's parser,
// which (unlike later Go) accepts IPv4 octets with leading zeros. Zones ("%eth0") are refused.

function parseDecimal(s: string, pos: number): { n: number; end: number } | undefined {
  let n = 0;
  let i = pos;
  for (; i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39; i++) {
    n = n * 10 + (s.charCodeAt(i) - 0x30);
    if (n >= 0xffffff) return undefined;
  }
  return i === pos ? undefined : { n, end: i };
}

function parseIPv4Bytes(s: string): number[] | undefined {
  const out: number[] = [];
  let pos = 0;
  for (let i = 0; i < 4; i++) {
    if (pos >= s.length) return undefined;
    if (i > 0) {
      if (s[pos] !== ".") return undefined;
      pos++;
    }
    const d = parseDecimal(s, pos);
    if (!d || d.n > 0xff) return undefined;
    out.push(d.n);
    pos = d.end;
  }
  return pos === s.length ? out : undefined;
}

function parseHexGroup(s: string, pos: number): { n: number; end: number } | undefined {
  let n = 0;
  let i = pos;
  for (; i < s.length; i++) {
    const c = s[i]!;
    const v = /[0-9a-fA-F]/.test(c) ? parseInt(c, 16) : -1;
    if (v < 0) break;
    n = n * 16 + v;
    if (n >= 0xffffff) return undefined;
  }
  return i === pos ? undefined : { n, end: i };
}

function parseIPv6Bytes(s: string): number[] | undefined {
  const ip: number[] = new Array<number>(16).fill(0);
  let ellipsis = -1;
  let pos = 0;
  if (s.startsWith("::")) {
    ellipsis = 0;
    pos = 2;
    if (pos === s.length) return ip;
  }
  let i = 0;
  while (i < 16) {
    const g = parseHexGroup(s, pos);
    if (!g || g.n > 0xffff) return undefined;
    if (g.end < s.length && s[g.end] === ".") {
      // An embedded IPv4 address fills the last four bytes.
      if (ellipsis < 0 && i !== 12) return undefined;
      if (i + 4 > 16) return undefined;
      const v4 = parseIPv4Bytes(s.slice(pos));
      if (!v4) return undefined;
      ip.splice(i, 4, ...v4);
      i += 4;
      pos = s.length;
      break;
    }
    ip[i] = g.n >> 8;
    ip[i + 1] = g.n & 0xff;
    i += 2;
    pos = g.end;
    if (pos === s.length) break;
    if (s[pos] !== ":" || pos + 1 === s.length) return undefined;
    pos++;
    if (s[pos] === ":") {
      if (ellipsis >= 0) return undefined;
      ellipsis = i;
      pos++;
      if (pos === s.length) break;
    }
  }
  if (pos !== s.length) return undefined;
  if (i < 16) {
    if (ellipsis < 0) return undefined;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j]!;
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) {
    return undefined;
  }
  return ip;
}

/** Parses an address as upstream's ParseIPSloppy does: 4 bytes for IPv4, 16 for IPv6, or undefined. */
export function parseIPSloppy(s: string): number[] | undefined {
  for (const c of s) {
    if (c === ".") return parseIPv4Bytes(s);
    if (c === ":") return parseIPv6Bytes(s);
  }
  return undefined;
}

/** Parses `addr/bits` as upstream's ParseCIDRSloppy does (host bits may be set). */
export function parseCIDRSloppy(s: string): { ip: number[]; bits: number } | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) return undefined;
  const addr = s.slice(0, slash);
  const mask = s.slice(slash + 1);
  let ip = parseIPv4Bytes(addr);
  let len = 4;
  if (!ip) {
    ip = parseIPv6Bytes(addr);
    len = 16;
  }
  const d = parseDecimal(mask, 0);
  if (!ip || !d || d.end !== mask.length || d.n > 8 * len) return undefined;
  return { ip, bits: d.n };
}

function isIPv4Mapped(ip: number[]): boolean {
  if (ip.length === 4) return true;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

export function isValidIP(path: FieldPath, value: string): FieldError[] {
  return parseIPSloppy(value) ? [] : [invalid(path, value, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")];
}

export function isValidIPv4Address(path: FieldPath, value: string): FieldError[] {
  const ip = parseIPSloppy(value);
  return ip && isIPv4Mapped(ip) ? [] : [invalid(path, value, "must be a valid IPv4 address")];
}

export function isValidIPv6Address(path: FieldPath, value: string): FieldError[] {
  const ip = parseIPSloppy(value);
  return ip && !isIPv4Mapped(ip) ? [] : [invalid(path, value, "must be a valid IPv6 address")];
}

export function isValidCIDR(path: FieldPath, value: string): FieldError[] {
  return parseCIDRSloppy(value) ? [] : [invalid(path, value, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")];
}

// ---- name validators (apimachinery pkg/api/validation) -------------------------------------

/**
 * Validates a resource's name. `prefix` is true for generateName, where a trailing '-' is
 * allowed because a random suffix follows.
 */
export type NameValidator = (name: string, prefix: boolean) => string[];

/** Upstream masks the last character (if it is a dash) of a generateName with an "a". */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith("-") ? name.slice(0, -2) + "a" : name;
}

export const nameIsDNSSubdomain: NameValidator = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDNSLabel: NameValidator = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);
export const nameIsDNS1035Label: NameValidator = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name);
export const validateNamespaceName: NameValidator = nameIsDNSLabel;
export const validateServiceAccountName: NameValidator = nameIsDNSSubdomain;

/** Names that must survive as one URL path segment / storage key segment. */
export function isValidPathSegmentName(name: string): string[] {
  for (const bad of [".", ".."]) if (name === bad) return [`may not be '${bad}'`];
  return isValidPathSegmentPrefix(name);
}

export function isValidPathSegmentPrefix(name: string): string[] {
  const errs: string[] = [];
  for (const bad of ["/", "%"]) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

export const validatePathSegmentName: NameValidator = (name, prefix) => (prefix ? isValidPathSegmentPrefix(name) : isValidPathSegmentName(name));

export const IS_NEGATIVE_ERROR_MSG = "must be greater than or equal to 0";
export const FIELD_IMMUTABLE_ERROR_MSG = "field is immutable";
export const TOTAL_ANNOTATION_SIZE_LIMIT_B = 256 * 1024;

export function validateNonnegativeField(value: number, path: FieldPath): FieldError[] {
  return value < 0 ? [invalid(path, value, IS_NEGATIVE_ERROR_MSG)] : [];
}

// ---- labels, annotations, selectors (apimachinery pkg/apis/meta/v1/validation) -------------

export function validateLabelName(labelName: string, path: FieldPath): FieldError[] {
  return isQualifiedName(labelName).map((m) => invalid(path, labelName, m));
}

type StringMap = Readonly<Record<string, string>>;

/** Upstream iterates a Go map (random order); we keep the object's key order. */
export function validateLabels(labels: StringMap | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!labels) return errs;
  for (const [k, v] of Object.entries(labels)) {
    errs.push(...validateLabelName(k, path));
    for (const m of isValidLabelValue(v)) errs.push(invalid(path, v, m));
  }
  return errs;
}

export function annotationsSize(annotations: StringMap | undefined): number {
  let total = 0;
  if (annotations) for (const [k, v] of Object.entries(annotations)) total += byteLength(k) + byteLength(v);
  return total;
}

/** Keys are qualified names compared case-insensitively; keys+values at most 256 KiB in total. */
export function validateAnnotations(annotations: StringMap | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!annotations) return errs;
  for (const k of Object.keys(annotations)) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, m));
  }
  if (annotationsSize(annotations) > TOTAL_ANNOTATION_SIZE_LIMIT_B) errs.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT_B));
  return errs;
}

export interface LabelSelectorValidationOptions {
  /** Accept label values that fail validation (only for data persisted before it was checked). */
  readonly allowInvalidLabelValueInSelector?: boolean;
  readonly allowUnknownOperatorInRequirement?: boolean;
}

export function validateLabelSelectorRequirement(
  sr: LabelSelectorRequirement,
  opts: LabelSelectorValidationOptions,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const values = sr.values ?? [];
  switch (sr.operator) {
    case "In":
    case "NotIn":
      if (values.length === 0) errs.push(required(path.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case "Exists":
    case "DoesNotExist":
      if (values.length > 0) errs.push(forbidden(path.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    default:
      if (!opts.allowUnknownOperatorInRequirement) errs.push(invalid(path.child("operator"), sr.operator, "not a valid selector operator"));
  }
  errs.push(...validateLabelName(sr.key, path.child("key")));
  if (!opts.allowInvalidLabelValueInSelector) {
    values.forEach((v, i) => {
      for (const m of isValidLabelValue(v)) errs.push(invalid(path.child("values").index(i), v, m));
    });
  }
  return errs;
}

export function validateLabelSelector(
  ps: LabelSelector | null | undefined,
  opts: LabelSelectorValidationOptions,
  path: FieldPath,
): FieldError[] {
  if (!ps) return [];
  const errs = validateLabels(ps.matchLabels, path.child("matchLabels"));
  (ps.matchExpressions ?? []).forEach((expr, i) => {
    errs.push(...validateLabelSelectorRequirement(expr, opts, path.child("matchExpressions").index(i)));
  });
  return errs;
}

// ---- owner references, finalizers, managed fields ------------------------------------------

/** Kinds that may never own anything (upstream's BannedOwners). */
const bannedOwners = new Set(["/v1/Event"]);

function splitAPIVersion(apiVersion: string): { group: string; version: string } {
  const parts = apiVersion.split("/");
  if (parts.length === 1) return { group: "", version: apiVersion };
  if (parts.length === 2) return { group: parts[0]!, version: parts[1]! };
  // schema.FromAPIVersionAndKind gives up on malformed versions: empty group and version.
  return { group: "", version: "" };
}

/** schema.GroupVersionKind.String(): `/v1, Kind=Event` for the core group. */
function gvkString(group: string, version: string, kind: string): string {
  return `${group}/${version}, Kind=${kind}`;
}

function goOwnerReference(ref: OwnerReference): GoRendered {
  const ptr = (b: boolean | undefined): string => (b === undefined ? "(*bool)(nil)" : `(*bool)(${b})`);
  return new GoRendered(
    `v1.OwnerReference{APIVersion:${goQuote(ref.apiVersion ?? "")}, Kind:${goQuote(ref.kind ?? "")}, Name:${goQuote(ref.name ?? "")}, ` +
      `UID:${goQuote(ref.uid ?? "")}, Controller:${ptr(ref.controller)}, BlockOwnerDeletion:${ptr(ref.blockOwnerDeletion)}}`,
  );
}

function validateOwnerReference(ref: OwnerReference, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const { group, version } = splitAPIVersion(ref.apiVersion ?? "");
  if (version.length === 0) errs.push(invalid(path.child("apiVersion"), ref.apiVersion ?? "", "version must not be empty"));
  if (!ref.kind) errs.push(invalid(path.child("kind"), ref.kind ?? "", "kind must not be empty"));
  if (!ref.name) errs.push(invalid(path.child("name"), ref.name ?? "", "name must not be empty"));
  if (!ref.uid) errs.push(invalid(path.child("uid"), ref.uid ?? "", "uid must not be empty"));
  if (bannedOwners.has(`${group}/${version}/${ref.kind ?? ""}`)) {
    errs.push(invalid(path, goOwnerReference(ref), `${gvkString(group, version, ref.kind ?? "")} is disallowed from being an owner`));
  }
  return errs;
}

/**
 * Go prints pointer fields of the struct as addresses, which no client can rely on; we print
 * the pointed-to booleans instead.
 */
export function validateOwnerReferences(refs: readonly OwnerReference[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = "";
  for (const ref of refs ?? []) {
    errs.push(...validateOwnerReference(ref, path));
    if (ref.controller === true) {
      const cur = `${ref.kind ?? ""}/${ref.name ?? ""}`;
      if (firstController !== "") {
        errs.push(
          invalid(
            path,
            new GoRendered(`[]v1.OwnerReference{${(refs ?? []).map((r) => goOwnerReference(r).text).join(", ")}}`),
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${cur}`,
          ),
        );
      } else {
        firstController = cur;
      }
    }
  }
  return errs;
}

export const FINALIZER_ORPHAN_DEPENDENTS = "orphan";
export const FINALIZER_DELETE_DEPENDENTS = "foregroundDeletion";

export function validateFinalizerName(name: string, path: FieldPath): FieldError[] {
  return isQualifiedName(name).map((m) => invalid(path, name, m));
}

export function validateFinalizers(finalizers: readonly string[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let orphan = false;
  let foreground = false;
  for (const f of finalizers ?? []) {
    errs.push(...validateFinalizerName(f, path));
    if (f === FINALIZER_ORPHAN_DEPENDENTS) orphan = true;
    if (f === FINALIZER_DELETE_DEPENDENTS) foreground = true;
  }
  if (orphan && foreground) {
    errs.push(invalid(path, [...(finalizers ?? [])], `finalizer ${FINALIZER_ORPHAN_DEPENDENTS} and ${FINALIZER_DELETE_DEPENDENTS} cannot be both set`));
  }
  return errs;
}

/** While an object is being deleted, no finalizer may be added. */
export function validateNoNewFinalizers(newFinalizers: readonly string[] | undefined, oldFinalizers: readonly string[] | undefined, path: FieldPath): FieldError[] {
  const old = new Set(oldFinalizers ?? []);
  const extra = [...new Set((newFinalizers ?? []).filter((f) => !old.has(f)))].sort(compareGoStrings);
  if (extra.length === 0) return [];
  const rendered = `[]string{${extra.map((e) => goQuote(e)).join(", ")}}`;
  return [forbidden(path, `no new finalizers can be added if the object is being deleted, found new finalizers ${rendered}`)];
}

export const FIELD_MANAGER_MAX_LENGTH = 128;
export const MAX_SUBRESOURCE_NAME_LENGTH = 256;

const unicodePrintable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** At most 128 bytes, printable characters only (positions are UTF-8 byte offsets, as upstream). */
export function validateFieldManager(fieldManager: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (byteLength(fieldManager) > FIELD_MANAGER_MAX_LENGTH) errs.push(tooLong(path, FIELD_MANAGER_MAX_LENGTH));
  let offset = 0;
  for (const ch of fieldManager) {
    if (!unicodePrintable.test(ch)) {
      const cp = ch.codePointAt(0)!;
      const u = "U+" + cp.toString(16).toUpperCase().padStart(4, "0");
      errs.push(invalid(path, fieldManager, `invalid character ${u} (at position ${offset})`));
    }
    offset += byteLength(ch);
  }
  return errs;
}

export function validateManagedFields(entries: readonly ManagedFieldsEntry[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  (entries ?? []).forEach((e, i) => {
    const p = path.index(i);
    if (e.operation !== "Apply" && e.operation !== "Update") errs.push(invalid(p.child("operation"), e.operation ?? "", "must be `Apply` or `Update`"));
    if (e.fieldsType && e.fieldsType !== "FieldsV1") errs.push(invalid(p.child("fieldsType"), e.fieldsType, "must be `FieldsV1`"));
    errs.push(...validateFieldManager(e.manager ?? "", p.child("manager")));
    if (byteLength(e.subresource ?? "") > MAX_SUBRESOURCE_NAME_LENGTH) errs.push(tooLong(p.child("subresource"), MAX_SUBRESOURCE_NAME_LENGTH));
  });
  return errs;
}

// ---- object metadata ----------------------------------------------------------------------

/**
 * Validates metadata on create (after generateName has produced a name). `requiresNamespace`
 * is true for namespaced kinds; cluster-scoped kinds must not carry a namespace.
 */
export function validateObjectMeta(meta: ObjectMeta, requiresNamespace: boolean, nameFn: NameValidator, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const generateName = meta.generateName ?? "";
  if (generateName.length > 0) {
    for (const m of nameFn(generateName, true)) errs.push(invalid(path.child("generateName"), generateName, m));
  }
  const name = meta.name ?? "";
  if (name.length === 0) errs.push(required(path.child("name"), "name or generateName is required"));
  else for (const m of nameFn(name, false)) errs.push(invalid(path.child("name"), name, m));
  const ns = meta.namespace ?? "";
  if (requiresNamespace) {
    if (ns.length === 0) errs.push(required(path.child("namespace"), ""));
    else for (const m of validateNamespaceName(ns, false)) errs.push(invalid(path.child("namespace"), ns, m));
  } else if (ns.length !== 0) {
    errs.push(forbidden(path.child("namespace"), "not allowed on this type"));
  }
  errs.push(...validateNonnegativeField(meta.generation ?? 0, path.child("generation")));
  errs.push(...validateLabels(meta.labels, path.child("labels")));
  errs.push(...validateAnnotations(meta.annotations, path.child("annotations")));
  errs.push(...validateOwnerReferences(meta.ownerReferences, path.child("ownerReferences")));
  errs.push(...validateFinalizers(meta.finalizers, path.child("finalizers")));
  errs.push(...validateManagedFields(meta.managedFields, path.child("managedFields")));
  return errs;
}

function sameValue(a: unknown, b: unknown): boolean {
  return (a ?? "") === (b ?? "");
}

/** Each immutable field that changed yields `field is immutable` with the new value. */
export function validateImmutableField(newVal: unknown, oldVal: unknown, path: FieldPath): FieldError[] {
  return sameValue(newVal, oldVal) ? [] : [invalid(path, newVal ?? "", FIELD_IMMUTABLE_ERROR_MSG)];
}

function validateImmutableOptional(newVal: unknown, oldVal: unknown, path: FieldPath): FieldError[] {
  return newVal === oldVal || (newVal == null && oldVal == null) ? [] : [invalid(path, newVal ?? null, FIELD_IMMUTABLE_ERROR_MSG)];
}

/** Validates metadata on update against the stored object's metadata. */
export function validateObjectMetaUpdate(newMeta: ObjectMeta, oldMeta: ObjectMeta, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (oldMeta.deletionTimestamp) errs.push(...validateNoNewFinalizers(newMeta.finalizers, oldMeta.finalizers, path.child("finalizers")));
  if (!newMeta.resourceVersion) errs.push(invalid(path.child("resourceVersion"), newMeta.resourceVersion ?? "", "must be specified for an update"));
  if ((newMeta.generation ?? 0) < (oldMeta.generation ?? 0)) errs.push(invalid(path.child("generation"), newMeta.generation ?? 0, "must not be decremented"));
  errs.push(...validateImmutableField(newMeta.name, oldMeta.name, path.child("name")));
  errs.push(...validateImmutableField(newMeta.namespace, oldMeta.namespace, path.child("namespace")));
  errs.push(...validateImmutableField(newMeta.uid, oldMeta.uid, path.child("uid")));
  errs.push(...validateImmutableTimestamp(newMeta.creationTimestamp, oldMeta.creationTimestamp, false, path.child("creationTimestamp")));
  errs.push(...validateImmutableTimestamp(newMeta.deletionTimestamp, oldMeta.deletionTimestamp, true, path.child("deletionTimestamp")));
  errs.push(...validateImmutableOptional(newMeta.deletionGracePeriodSeconds, oldMeta.deletionGracePeriodSeconds, path.child("deletionGracePeriodSeconds")));
  errs.push(...validateLabels(newMeta.labels, path.child("labels")));
  errs.push(...validateAnnotations(newMeta.annotations, path.child("annotations")));
  errs.push(...validateOwnerReferences(newMeta.ownerReferences, path.child("ownerReferences")));
  errs.push(...validateManagedFields(newMeta.managedFields, path.child("managedFields")));
  return errs;
}

/**
 * Timestamps compare at second precision, as metav1.Time does after a JSON round trip; the bad
 * value prints the way Go prints a metav1.Time (its String method: `2006-01-02 15:04:05 +0000 UTC`),
 * a missing one as the zero time, or as null where the Go field is a pointer (deletionTimestamp).
 */
function validateImmutableTimestamp(newVal: string | undefined, oldVal: string | undefined, pointer: boolean, path: FieldPath): FieldError[] {
  const a = newVal ? Date.parse(newVal) : NaN;
  const b = oldVal ? Date.parse(oldVal) : NaN;
  const same = (Number.isNaN(a) && Number.isNaN(b)) || Math.floor(a / 1000) === Math.floor(b / 1000);
  if (same) return [];
  let bad: unknown;
  if (!Number.isNaN(a)) bad = new GoRendered(goTimeString(a));
  else bad = pointer && !newVal ? null : new GoRendered("0001-01-01 00:00:00 +0000 UTC");
  return [invalid(path, bad, FIELD_IMMUTABLE_ERROR_MSG)];
}

function goTimeString(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 UTC`;
}

// ---- request options (metav1 validation) --------------------------------------------------

export function validateDryRun(path: FieldPath, dryRun: readonly string[] | undefined): FieldError[] {
  const values = dryRun ?? [];
  return values.every((v) => v === "All") ? [] : [notSupported(path, [...values], ["All"])];
}

export function validateFieldValidation(path: FieldPath, fieldValidation: string | undefined): FieldError[] {
  const v = fieldValidation ?? "";
  return ["", "Ignore", "Strict", "Warn"].includes(v) ? [] : [notSupported(path, v, ["", "Ignore", "Strict", "Warn"])];
}
