// Messages as upstream's kubelet (a Go program) words them: users read them in events and
// `kubectl describe`, and search the web for them, so durations, quoting and network errors
// are spelled the way Go spells them.
import { isIP } from "node:net";

/** Go's net.JoinHostPort: IPv6 literals in brackets. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A duration as Go's time.Duration prints whole and fractional seconds and milliseconds: 1s, 1.5s, 500ms. */
export function goDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const minutes = Math.floor(ms / 60_000);
  const rest = ms - minutes * 60_000;
  const seconds = `${Number((rest / 1000).toFixed(3))}s`;
  if (minutes === 0) return seconds;
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours}h${minutes % 60}m${seconds}` : `${minutes}m${seconds}`;
}

/** Go's %v of a []string: [a b c]. */
export function goList(items: readonly string[]): string {
  return `[${items.join(" ")}]`;
}

/** upstream's format.Pod: name_namespace(uid). */
export function podDesc(pod: { readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly uid?: string } }): string {
  const m = pod.metadata;
  return `${m?.name ?? ""}_${m?.namespace ?? ""}(${m?.uid ?? ""})`;
}

/** textproto.CanonicalMIMEHeaderKey: "x-custom-header" → "X-Custom-Header"; keys with invalid bytes stay as given. */
export function canonicalHeaderKey(key: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) return key;
  return key
    .split("-")
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1).toLowerCase() : w))
    .join("-");
}

interface SystemError {
  code?: string;
  syscall?: string;
  message?: string;
}

/**
 * A Node socket error in Go's words, as a dial or read on a TCP connection reports it, e.g.
 * "dial tcp 10.42.0.5:8080: connect: connection refused".
 */
export function netErrorMessage(err: unknown, hostport: string, host: string): string {
  const e = (err ?? {}) as SystemError;
  const dial = (what: string): string => `dial tcp ${hostport}: ${what}`;
  switch (e.code) {
    case "ECONNREFUSED":
      return dial("connect: connection refused");
    case "EHOSTUNREACH":
      return dial("connect: no route to host");
    case "ENETUNREACH":
      return dial("connect: network is unreachable");
    case "EADDRNOTAVAIL":
      return dial("connect: cannot assign requested address");
    case "ETIMEDOUT":
      return e.syscall === "connect" ? dial("connect: connection timed out") : "read: connection timed out";
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NONAME":
      return isIP(host) ? dial("connect: invalid address") : `dial tcp: lookup ${host}: no such host`;
    case "ECONNRESET":
      // Node calls a connection closed before any response "socket hang up"; Go calls it EOF.
      return e.message === "socket hang up" ? "EOF" : "read: connection reset by peer";
    case "EPIPE":
      return "write: broken pipe";
    case "ERR_SSL_WRONG_VERSION_NUMBER":
    case "ERR_SSL_PACKET_LENGTH_TOO_LONG":
    case "ERR_SSL_HTTP_REQUEST":
      return "http: server gave HTTP response to HTTPS client";
    default:
      if (e.code === "EPROTO" && /wrong version number|packet length too long|http request/i.test(e.message ?? "")) return "http: server gave HTTP response to HTTPS client";
      if (e.code?.startsWith("ERR_SSL_") || e.code?.startsWith("ERR_TLS_")) return `remote error: tls: ${e.message ?? e.code}`;
      return e.message ?? String(err);
  }
}
