// Continue tokens, in the shape the Kubernetes API server uses (base64 of
// {"v":"meta.k8s.io/v1","rv":R,"start":"<key relative to the prefix>\u0000"}): the revision
// keeps every page of one list at the same snapshot, and the key is relative so a token can
// never move a list outside its prefix.
import { invalid } from "./errors.js";

const VERSION = "meta.k8s.io/v1";

export interface ContinuePosition {
  /** The revision the whole list is read at. */
  readonly revision: number;
  /** The first key of the next page (absolute). */
  readonly startKey: string;
}

export function encodeContinue(prefix: string, lastKey: string, revision: number): string {
  const start = lastKey.slice(prefix.length) + "\u0000";
  return Buffer.from(JSON.stringify({ v: VERSION, rv: revision, start })).toString("base64url");
}

export function decodeContinue(prefix: string, token: string): ContinuePosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalid("continue key is not valid: not base64 JSON");
  }
  if (typeof parsed !== "object" || parsed === null) throw invalid("continue key is not valid: not an object");
  const { v, rv, start } = parsed as Record<string, unknown>;
  if (v !== VERSION) throw invalid(`continue key is not valid: incorrect encoded start resourceVersion (version ${String(v)})`);
  if (typeof rv !== "number" || !Number.isSafeInteger(rv) || rv <= 0) throw invalid("continue key is not valid: incorrect encoded start resourceVersion");
  if (typeof start !== "string" || start.length === 0) throw invalid("continue key is not valid: encoded start key empty");
  if (start.startsWith("/") || start.split("/").includes("..")) throw invalid("continue key is not valid: start key escapes the prefix");
  return { revision: rv, startKey: prefix + start };
}
