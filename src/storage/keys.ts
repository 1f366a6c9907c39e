// Key and value rules shared by the backends that keep their own index (memory, sqlite):
// etcd's bounds, and key order as etcd has it (bytes of the UTF-8 encoding).
import { invalid } from "./errors.js";
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from "./interface.js";

/**
 * Orders keys by their UTF-8 bytes, which is code point order. Plain `<` compares UTF-16 code
 * units and puts U+E000–U+FFFF after the surrogate pairs that encode U+10000 and up.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * The smallest key greater than every key that starts with `prefix` (undefined when none
 * exists, i.e. for "" ), so `prefix <= key < prefixEnd(prefix)` is a range an index can seek.
 */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    const last = (cps.pop() as string).codePointAt(0) as number;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return cps.join("") + String.fromCodePoint(next);
    }
  }
  return undefined;
}

// A lone surrogate has no UTF-8 encoding: it would be stored as U+FFFD and read back as another key.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function validateKey(key: string): void {
  if (typeof key !== "string" || key.length === 0) throw invalid("key must be a non-empty string");
  if (LONE_SURROGATE.test(key)) throw invalid("key is not valid UTF-8 text", key);
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > MAX_KEY_BYTES) throw invalid(`key is ${bytes} bytes; the limit is ${MAX_KEY_BYTES}`, key.slice(0, 256));
}

export function validateValue(key: string, value: Uint8Array): void {
  if (!(value instanceof Uint8Array)) throw invalid("value must be a Uint8Array", key);
  if (value.byteLength > MAX_VALUE_BYTES) throw invalid(`value of ${key} is ${value.byteLength} bytes; the limit is ${MAX_VALUE_BYTES} (1.5 MiB)`, key);
}

/** 0 (or absent) means the key does not expire. */
export function validateTtl(key: string, ttlSeconds: number | undefined): number {
  const ttl = ttlSeconds ?? 0;
  if (!Number.isSafeInteger(ttl) || ttl < 0) throw invalid(`ttlSeconds must be a non-negative whole number of seconds, got ${String(ttlSeconds)}`, key);
  return ttl;
}
