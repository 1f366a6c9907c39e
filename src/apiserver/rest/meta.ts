// Object metadata rules the generic store applies to every kind.
import { randomFillSync, randomUUID } from "node:crypto";
import type { KubeObject } from "../registry/types.js";
import { jsonEqual } from "../../util/json.js";

// upstream's generateName alphabet: consonants and digits that cannot spell words.
const alphabet = "bcdfghjklmnpqrstvwxz2456789";

// Random bytes are drawn from the system a pool at a time (as crypto.randomUUID does): a
// getrandom call per name cost more than the rest of naming, and every pod gets one
// (the kube-api-access-<suffix> volume).
const pool = Buffer.alloc(1024);
let poolAt = pool.length;

export function generateNameSuffix(): string {
  if (poolAt + 5 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  let s = "";
  for (let i = 0; i < 5; i++) s += alphabet[(pool[poolAt + i] as number) % alphabet.length];
  poolAt += 5;
  return s;
}

/** The longest generateName prefix kept: a generated name is at most 63 characters (upstream's MaxGeneratedNameLength). */
export const MAX_GENERATED_NAME_PREFIX = 63 - 5;

/** upstream's SimpleNameGenerator: the prefix, cut to 58 characters, and 5 random ones. */
export function generateName(prefix: string): string {
  return (prefix.length > MAX_GENERATED_NAME_PREFIX ? prefix.slice(0, MAX_GENERATED_NAME_PREFIX) : prefix) + generateNameSuffix();
}

export const newUID = (): string => randomUUID();

export function metaOf(obj: KubeObject): NonNullable<KubeObject["metadata"]> {
  return (obj.metadata ??= {});
}

/** Top-level fields whose change bumps generation, per the strategy's declaration. */
export function specChanged(obj: KubeObject, old: KubeObject, specFields: readonly string[] | undefined, statusFields: readonly string[]): boolean {
  const fields = specFields ?? [...new Set([...Object.keys(obj), ...Object.keys(old)])].filter((f) => f !== "apiVersion" && f !== "kind" && f !== "metadata" && !statusFields.includes(f));
  return fields.some((f) => !jsonEqual(obj[f], old[f]));
}

