// The string formats kube-openapi's strfmt registry checks (k8s.io/kube-openapi
// pkg/validation/strfmt and its govalidator copy), reimplemented: which strings each accepts.
// Names are looked up as the registry does, with "-" removed ("date-time" is "datetime").
import { parseCIDRSloppy, parseIPSloppy } from "../validation.js";

type Check = (s: string) => boolean;

const utf8 = new TextEncoder();
const byteLen = (s: string): number => utf8.encode(s).length;

const rxHostname =
  /^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$/u;

function isHostname(s: string): boolean {
  if (!rxHostname.test(s)) return false;
  if (byteLen(s) > 255) return false;
  return s.split(".").every((p) => byteLen(p) <= 63);
}

const rxUUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const rxUUID3 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const rxUUID4 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const rxUUID5 = /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const rxCreditCard =
  /^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11})$/;
const rxHexcolor = /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const rxRGBcolor =
  /^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$/;
const rxBase64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const rxSSN = /^\d{3}[- ]?\d{2}[- ]?\d{4}$/;
const rxDateTime = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$/u;
const shortName = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const rxShortName = new RegExp(`^${shortName}$`);
const rxLongName = new RegExp(`^${shortName}(\\.${shortName})*$`);

function isCreditCard(s: string): boolean {
  const d = s.replace(/[^0-9]+/g, "");
  if (!rxCreditCard.test(d)) return false;
  let sum = 0;
  let dbl = false;
  for (let i = d.length - 1; i >= 0; i--) {
    let n = d.charCodeAt(i) - 48;
    if (dbl) {
      n *= 2;
      if (n >= 10) n = (n % 10) + 1;
    }
    sum += n;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

// Go's \s is [\t\n\f\r ].
const isbnStrip = /[\t\n\f\r -]+/g;

function isISBN10(s: string): boolean {
  const d = s.replace(isbnStrip, "");
  if (!/^(?:[0-9]{9}X|[0-9]{10})$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (i + 1) * (d.charCodeAt(i) - 48);
  sum += d[9] === "X" ? 100 : 10 * (d.charCodeAt(9) - 48);
  return sum % 11 === 0;
}

function isISBN13(s: string): boolean {
  const d = s.replace(isbnStrip, "");
  if (!/^[0-9]{13}$/.test(d)) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (i % 2 === 0 ? 1 : 3) * (d.charCodeAt(i) - 48);
  return d.charCodeAt(12) - 48 - ((10 - (sum % 10)) % 10) === 0;
}

/** time.Parse("2006-01-02", s): exact layout, month 1-12, day within the month. */
export function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]!;
  return d <= days;
}

function isDateTime(s: string): boolean {
  if (byteLen(s) < 4) return false;
  const parts = s.toLowerCase().split("t");
  if (parts.length < 2 || !isDate(parts[0]!)) return false;
  const m = rxDateTime.exec(parts[1]!);
  if (!m) return false;
  return m[1]! <= "23" && m[2]! <= "59" && m[3]! <= "59";
}

const goDurationUnits: Record<string, number> = { ns: 1, us: 1e3, "\u00b5s": 1e3, "\u03bcs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration: [-+]?(\d*(\.\d*)?unit)+ or "0", within ±2^63 ns. */
function isGoDuration(s: string): boolean {
  let i = 0;
  if (s[0] === "-" || s[0] === "+") i++;
  const rest = s.slice(i);
  if (rest === "0") return true;
  if (rest === "") return false;
  let total = 0;
  while (i < s.length) {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s.slice(i))!;
    const whole = m[1] ?? "";
    const frac = m[2];
    if (whole === "" && (frac === undefined || frac === "")) return false;
    i += m[0].length;
    let j = i;
    while (j < s.length && !/[0-9.]/.test(s[j]!)) j++;
    const unit = s.slice(i, j);
    const mult = goDurationUnits[unit];
    if (mult === undefined) return false;
    total += Number(`${whole || "0"}.${frac ?? ""}0`) * mult;
    if (total > 2 ** 63) return false;
    i = j;
  }
  return true;
}

const durationUnits: string[][] = [
  ["ns", "nano"],
  ["us", "\u00b5s", "micro"],
  ["ms", "milli"],
  ["s", "sec"],
  ["m", "min"],
  ["h", "hr", "hour"],
  ["d", "day"],
  ["w", "wk", "week"],
];

/** strfmt's ParseDuration: Go's syntax, else any `<digits> <unit word>` found in the string. */
function isDuration(s: string): boolean {
  if (isGoDuration(s)) return true;
  let ok = false;
  for (const m of s.matchAll(/(\d+)[\t\n\f\r ]*([A-Za-z\u00b5]+)/g)) {
    // strconv.Atoi fails past int64; upstream then reports the string as invalid.
    if (BigInt(m[1]!) > 2n ** 63n - 1n) return false;
    const unit = m[2]!.toLowerCase().trim();
    for (const variants of durationUnits) {
      const last = variants.length - 1;
      variants.forEach((v, i) => {
        if ((i === last && unit.startsWith(v)) || v.toLowerCase() === unit) ok = true;
      });
    }
  }
  return ok;
}

/** net.ParseMAC: 6, 8 or 20 octets, `:`/`-` separated pairs or `.` separated quads. */
function isMAC(s: string): boolean {
  if (s.length < 14) return false;
  if (s[2] === ":" || s[2] === "-") {
    if ((s.length + 1) % 3 !== 0) return false;
    const n = (s.length + 1) / 3;
    if (n !== 6 && n !== 8 && n !== 20) return false;
    const sep = s[2]!;
    for (let i = 0; i < n; i++) {
      const x = i * 3;
      if (!/^[0-9a-fA-F]{2}$/.test(s.slice(x, x + 2))) return false;
      if (i < n - 1 && s[x + 2] !== sep) return false;
    }
    return true;
  }
  if (s[4] === ".") {
    if ((s.length + 1) % 5 !== 0) return false;
    const n = ((s.length + 1) * 2) / 5;
    if (n !== 6 && n !== 8 && n !== 20) return false;
    for (let x = 0; x < s.length; x += 5) {
      if (!/^[0-9a-fA-F]{4}$/.test(s.slice(x, x + 4))) return false;
      if (x + 4 < s.length && s[x + 4] !== ".") return false;
    }
    return true;
  }
  return false;
}

/** url.ParseRequestURI: an absolute URI or an absolute path, no control characters, valid escapes and host. */
function isRequestURI(s: string): boolean {
  if (s === "" || [...s].some((c) => c < " " || c === "\x7f")) return false;
  if (s === "*") return true;
  let rest = s;
  let scheme = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ":") {
      if (i === 0) return false;
      scheme = s.slice(0, i);
      rest = s.slice(i + 1);
    }
    break;
  }
  const q = rest.indexOf("?");
  if (q >= 0) rest = rest.slice(0, q);
  if (!rest.startsWith("/")) return scheme !== "";
  if (scheme !== "" && rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? "" : rest.slice(slash);
    const at = authority.lastIndexOf("@");
    const host = at < 0 ? authority : authority.slice(at + 1);
    if (at >= 0 && /[^A-Za-z0-9\-._~!$&'()*+,;=:%]/.test(authority.slice(0, at))) return false;
    let port = "";
    if (host.startsWith("[")) {
      const close = host.indexOf("]");
      if (close < 0) return false;
      port = host.slice(close + 1);
      if (port !== "" && !port.startsWith(":")) return false;
    } else {
      const colon = host.lastIndexOf(":");
      if (colon >= 0) port = host.slice(colon);
      if (/[^A-Za-z0-9\-._~!$&'()*+,;=:%]/.test(colon >= 0 ? host.slice(0, colon) : host)) return false;
    }
    if (port !== "" && !/^:[0-9]*$/.test(port)) return false;
  }
  return !/%(?![0-9a-fA-F]{2})/.test(rest);
}

const atext = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~\\u0080-\\uffff]+";
const dotAtom = `${atext}(?:\\.${atext})*`;
const quoted = '"(?:[^"\\\\\\r\\n]|\\\\.)*"';
const addrSpec = `(?:${dotAtom}|${quoted})@(?:${dotAtom}|\\[[^\\[\\]\\\\]*\\])`;
const rxEmail = new RegExp(`^\\s*(?:${addrSpec}|(?:(?:${atext}|${quoted})(?:\\s+(?:${atext}|${quoted}))*\\s*)?<${addrSpec}>)\\s*$`, "u");

/** net/mail.ParseAddress, approximated: an addr-spec, optionally as `Name <addr-spec>`. */
function isEmail(s: string): boolean {
  return rxEmail.test(s);
}

const registry = new Map<string, Check>([
  ["bsonobjectid", (s) => /^[0-9a-fA-F]{24}$/.test(s)],
  ["uri", isRequestURI],
  ["email", isEmail],
  ["hostname", isHostname],
  ["ipv4", (s) => parseIPSloppy(s) !== undefined && s.includes(".")],
  ["ipv6", (s) => parseIPSloppy(s) !== undefined && s.includes(":")],
  ["cidr", (s) => parseCIDRSloppy(s) !== undefined],
  ["mac", isMAC],
  ["uuid", (s) => rxUUID.test(s)],
  ["uuid3", (s) => rxUUID3.test(s)],
  ["uuid4", (s) => rxUUID4.test(s)],
  ["uuid5", (s) => rxUUID5.test(s)],
  ["isbn", (s) => isISBN10(s) || isISBN13(s)],
  ["isbn10", isISBN10],
  ["isbn13", isISBN13],
  ["creditcard", isCreditCard],
  ["ssn", (s) => s.length === 11 && rxSSN.test(s)],
  ["hexcolor", (s) => rxHexcolor.test(s)],
  ["rgbcolor", (s) => rxRGBcolor.test(s)],
  ["byte", (s) => rxBase64.test(s)],
  ["password", () => true],
  ["date", isDate],
  ["datetime", isDateTime],
  ["duration", isDuration],
  ["k8sshortname", (s) => byteLen(s) <= 63 && rxShortName.test(s)],
  ["k8slongname", (s) => byteLen(s) <= 253 && rxLongName.test(s)],
]);

/** The registry's lookup: the format's checker, or undefined when the registry does not know it. */
export function formatChecker(format: string): Check | undefined {
  return registry.get(format.replaceAll("-", ""));
}

/**
 * What the API server keeps of a schema's format for validating custom resources
 * (apiextensions' StripUnsupportedFormatsPostProcessor): string formats it supports,
 * int32/int64 for integers, float/double for numbers; anything else is dropped.
 */
export function supportedFormat(type: readonly string[], format: string): string {
  if (format === "") return "";
  const t = type.length === 1 ? type[0]! : "";
  switch (t) {
    case "":
    case "string":
      return formatChecker(format) ? format : "";
    case "integer":
      return format === "int32" || format === "int64" ? format : "";
    case "number":
      return format === "float" || format === "double" ? format : "";
    default:
      return "";
  }
}
