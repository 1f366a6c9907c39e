// Kubernetes' URL library (apiserver/pkg/cel/library/urls.go): url(), isURL, getScheme, getHost,
// getHostname, getPort, getEscapedPath, getQuery. A string is a URL when Go's
// url.ParseRequestURI accepts it (an absolute URI or an absolute path); its parts are then
// those url.Parse gives (which, unlike ParseRequestURI, sets a #fragment apart). The parser
// below follows Go's net/url rules and error messages.
import { EvaluationError, type Environment } from "@marcbachmann/cel-js";

/** The parts of a Go *url.URL the library reads. */
export class CelURL {
  constructor(
    readonly scheme: string,
    readonly host: string,
    /** The unescaped path. */
    readonly path: string,
    /** The path as written, when that differs from the default escaping of `path`. */
    readonly rawPath: string,
    readonly rawQuery: string,
  ) {}
}

class URLError extends Error {}

type Mode = "path" | "host" | "query";

function isAlnum(c: string): boolean {
  return /^[A-Za-z0-9]$/.test(c);
}

/** Go's shouldEscape for the modes used here (c is one byte, as a character). */
function shouldEscape(c: string, mode: Mode): boolean {
  if (isAlnum(c)) return false;
  if (mode === "host" && "!$&'()*+,;=:[]<>\"".includes(c)) return false;
  if ("-_.~".includes(c)) return false;
  if ("$&+,/:;=?@".includes(c)) {
    if (mode === "path") return c === "?";
    return true;
  }
  return true;
}

const utf8 = new TextDecoder("utf-8");

/** Go's unescape: %XX sequences (and '+' as space in query components). */
function unescape(s: string, mode: Mode): string {
  const bytes: number[] = [];
  const raw = Buffer.from(s, "utf8");
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i] ?? 0;
    const c = String.fromCharCode(b);
    if (c === "%") {
      const hex = raw.subarray(i + 1, i + 3).toString("latin1");
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
        const bad = raw.subarray(i, Math.min(i + 3, raw.length)).toString("latin1");
        throw new URLError(`invalid URL escape ${JSON.stringify(bad)}`);
      }
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c === "+" && mode === "query") {
      bytes.push(0x20);
    } else {
      if (mode === "host" && b < 0x80 && shouldEscape(c, "host")) throw new URLError(`invalid character ${JSON.stringify(c)} in host name`);
      bytes.push(b);
    }
  }
  return utf8.decode(Uint8Array.from(bytes));
}

function escapePath(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && !shouldEscape(c, "path") ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function validEncodedPath(s: string): boolean {
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    if ("!$&'()*+,;=:@[]%".includes(c)) continue;
    if (b >= 0x80 || shouldEscape(c, "path")) return false;
  }
  return true;
}

function validOptionalPort(p: string): boolean {
  return p === "" || /^:[0-9]*$/.test(p);
}

function parseHost(host: string): string {
  if (host.startsWith("[")) {
    const close = host.lastIndexOf("]");
    if (close < 0) throw new URLError("missing ']' in host");
    const colonPort = host.slice(close + 1);
    if (!validOptionalPort(colonPort)) throw new URLError(`invalid port ${JSON.stringify(colonPort)} after host`);
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0) {
      const colonPort = host.slice(colon);
      if (!validOptionalPort(colonPort)) throw new URLError(`invalid port ${JSON.stringify(colonPort)} after host`);
    }
  }
  return unescape(host, "host");
}

function validUserinfo(s: string): boolean {
  return /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);
}

/** Go's url.parse(rawURL, viaRequest), on a URL without its fragment. */
function parse(rawURL: string, viaRequest: boolean): CelURL {
  if ([...rawURL].some((c) => c < " " || c === "\x7f")) throw new URLError("net/url: invalid control character in URL");
  if (rawURL === "" && viaRequest) throw new URLError("empty url");
  if (rawURL === "*") return new CelURL("", "", "*", "", "");
  let scheme = "";
  let rest = rawURL;
  for (let i = 0; i < rawURL.length; i++) {
    const c = rawURL[i] ?? "";
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c)) {
      if (i === 0) break;
      continue;
    }
    if (c === ":") {
      if (i === 0) throw new URLError("missing protocol scheme");
      scheme = rawURL.slice(0, i).toLowerCase();
      rest = rawURL.slice(i + 1);
    }
    break;
  }
  let rawQuery = "";
  if (rest.endsWith("?") && rest.indexOf("?") === rest.length - 1) {
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf("?");
    if (q >= 0) {
      rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith("/")) {
    if (scheme !== "") return new CelURL(scheme, "", "", "", rawQuery);
    if (viaRequest) throw new URLError("invalid URI for request");
    const slash = rest.indexOf("/");
    if ((slash < 0 ? rest : rest.slice(0, slash)).includes(":")) throw new URLError("first path segment in URL cannot contain colon");
  }
  let host = "";
  if ((scheme !== "" || (!viaRequest && !rest.startsWith("///"))) && rest.startsWith("//")) {
    let authority = rest.slice(2);
    rest = "";
    const slash = authority.indexOf("/");
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const at = authority.lastIndexOf("@");
    host = parseHost(at < 0 ? authority : authority.slice(at + 1));
    if (at >= 0 && !validUserinfo(authority.slice(0, at))) throw new URLError("net/url: invalid userinfo");
  }
  const path = unescape(rest, "path");
  return new CelURL(scheme, host, path, escapePath(path) === rest ? "" : rest, rawQuery);
}

/** Upstream's url(): ParseRequestURI must accept the string; the parts are Parse's. */
export function parseURL(s: string): CelURL {
  try {
    parse(s, true);
    const hash = s.indexOf("#");
    return parse(hash < 0 ? s : s.slice(0, hash), false);
  } catch (e) {
    if (!(e instanceof URLError)) throw e;
    throw new EvaluationError(`URL parse error during conversion from string: parse ${JSON.stringify(s)}: ${e.message}`);
  }
}

/** The host url.Parse finds in `raw` (unescaped), or undefined when url.Parse fails. */
export function urlHost(raw: string): string | undefined {
  try {
    const hash = raw.indexOf("#");
    return parse(hash < 0 ? raw : raw.slice(0, hash), false).host;
  } catch (e) {
    if (e instanceof URLError) return undefined;
    throw e;
  }
}

/** Go's url.ParseRequestURI error text (`parse "<s>": <reason>`), undefined when s is a request URI. */
export function requestURIError(s: string): string | undefined {
  try {
    parse(s, true);
    return undefined;
  } catch (e) {
    if (e instanceof URLError) return `parse ${JSON.stringify(s)}: ${e.message}`;
    throw e;
  }
}

function isURL(s: string): boolean {
  try {
    parse(s, true);
    return true;
  } catch (e) {
    if (e instanceof URLError) return false;
    throw e;
  }
}

/** Go's splitHostPort as URL.Hostname and URL.Port use it. */
function splitHostPort(hostPort: string): { host: string; port: string } {
  let host = hostPort;
  let port = "";
  const colon = host.lastIndexOf(":");
  if (colon >= 0 && validOptionalPort(host.slice(colon))) {
    port = host.slice(colon + 1);
    host = host.slice(0, colon);
  }
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return { host, port };
}

function escapedPath(u: CelURL): string {
  if (u.rawPath !== "" && validEncodedPath(u.rawPath)) {
    try {
      if (unescape(u.rawPath, "path") === u.path) return u.rawPath;
    } catch (e) {
      if (!(e instanceof URLError)) throw e;
    }
  }
  if (u.path === "*") return "*";
  return escapePath(u.path);
}

/** Go's url.ParseQuery, errors skipped as URL.Query skips them. */
function query(u: CelURL): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of u.rawQuery.split("&")) {
    if (part === "" || part.includes(";")) continue;
    const eq = part.indexOf("=");
    let key: string;
    let value: string;
    try {
      key = unescape(eq < 0 ? part : part.slice(0, eq), "query");
      value = unescape(eq < 0 ? "" : part.slice(eq + 1), "query");
    } catch (e) {
      if (e instanceof URLError) continue;
      throw e;
    }
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

const URL_TYPE = "kubernetes.URL";

export function registerURLsLibrary(env: Environment): void {
  env.registerType(URL_TYPE, { ctor: CelURL, fields: {} });
  env.registerFunction(`url(string): ${URL_TYPE}`, parseURL);
  env.registerFunction("isURL(string): bool", isURL);
  env.registerFunction(`${URL_TYPE}.getScheme(): string`, (u: CelURL) => u.scheme);
  env.registerFunction(`${URL_TYPE}.getHost(): string`, (u: CelURL) => u.host);
  env.registerFunction(`${URL_TYPE}.getHostname(): string`, (u: CelURL) => splitHostPort(u.host).host);
  env.registerFunction(`${URL_TYPE}.getPort(): string`, (u: CelURL) => splitHostPort(u.host).port);
  env.registerFunction(`${URL_TYPE}.getEscapedPath(): string`, escapedPath);
  env.registerFunction(`${URL_TYPE}.getQuery(): map<string, list<string>>`, query);
}
