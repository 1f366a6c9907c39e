// IP addresses as integers (BigInt, so one code path serves both families): parsing as
// upstream's ParseIPSloppy does and printing as Go's net.IP.String does. Service allocation and
// node CIDR allocation both count in this form.
import { parseIPSloppy } from "./validation.js";

export type IPFamily = "IPv4" | "IPv6";

/** An address as a number plus its family. */
export interface ParsedIP {
  readonly family: IPFamily;
  readonly value: bigint;
}

export function bytesToBigInt(bytes: readonly number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** Parses an address as upstream's ParseIPSloppy does (IPv4-mapped IPv6 counts as IPv4). */
export function parseIP(s: string): ParsedIP | undefined {
  const bytes = parseIPSloppy(s);
  if (!bytes) return undefined;
  if (bytes.length === 4) return { family: "IPv4", value: bytesToBigInt(bytes) };
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return { family: "IPv4", value: bytesToBigInt(bytes.slice(12)) };
  return { family: "IPv6", value: bytesToBigInt(bytes) };
}

export function familyOfIP(s: string): IPFamily | undefined {
  return parseIP(s)?.family;
}

/** The canonical text of an address, as Go's net.IP.String prints it (RFC 5952 for IPv6). */
export function formatIP(value: bigint, family: IPFamily): string {
  if (family === "IPv4") return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // The longest run of two or more zero groups (the first on a tie) becomes "::".
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}
