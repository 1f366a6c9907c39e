// Names as the cache keys them: lower case, no trailing dot (the spec compares every name
// case-insensitively), and the address ↔ name conversions the records need.
import { isIP, isIPv4, isIPv6 } from "node:net";

/** The key of a name: lower case, without the root's trailing dot ("" for the root). */
export function canonicalName(name: string): string {
  const n = name.endsWith(".") ? name.slice(0, -1) : name;
  return n.toLowerCase();
}

/** True when `name` is `zone` or below it (both canonical). */
export function inZone(name: string, zone: string): boolean {
  if (zone === "") return true;
  return name === zone || (name.length > zone.length && name.endsWith(zone) && name.charCodeAt(name.length - zone.length - 1) === 46);
}

/** The 16 bytes of an IPv6 address (any textual form, including an embedded IPv4 tail). */
export function ipv6Bytes(ip: string): Buffer {
  let text = ip;
  const out = Buffer.alloc(16);
  // "::ffff:1.2.3.4": the dotted tail is the last two groups.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const b = ipv4Bytes(tail);
    text = `${text.slice(0, lastColon + 1)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = rest === undefined || rest === "" ? [] : rest.split(":");
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split(".").map(Number));
}

/** `1.0.43.10.in-addr.arpa` for 10.43.0.1; nibbles under ip6.arpa for IPv6; undefined for a non-address. */
export function reverseName(ip: string): string | undefined {
  if (isIPv4(ip)) return `${ip.split(".").reverse().join(".")}.in-addr.arpa`;
  if (isIPv6(ip)) {
    const hex = ipv6Bytes(ip).toString("hex");
    return `${[...hex].reverse().join(".")}.ip6.arpa`;
  }
  return undefined;
}

/** An address with its separators turned into dashes: how pods and unnamed endpoints are named. */
export function dashedIP(ip: string): string {
  return ip.replace(/[.:]/g, "-");
}

/**
 * The address a pod label names (`10-244-1-5` → 10.244.1.5, `fd00--5` → fd00::5), as
 * CoreDNS's `pods insecure` reads it; undefined when the label is no address.
 */
export function ipFromDashed(label: string): string | undefined {
  const v4 = label.replace(/-/g, ".");
  if (isIPv4(v4)) return v4;
  const v6 = label.replace(/-/g, ":");
  if (isIPv6(v6)) return v6;
  return undefined;
}

export function ipFamily(ip: string): 4 | 6 | 0 {
  return isIP(ip) as 4 | 6 | 0;
}

/** A DNS label as RFC 1123 allows it in a hostname (what Service, namespace and port names are). */
export function isDnsLabel(s: string): boolean {
  return s.length > 0 && s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/i.test(s);
}
