// RFC 6902 JSON patch (`application/json-patch+json`), as `kubectl patch --type json` and
// `kubectl rollout undo` send it. Upstream (evanphx/json-patch v4 behind
// apiserver pkg/endpoints/handlers/patch.go) answers a body that is not a list of operations
// with 400, more than 10000 operations with 413, and any operation that fails to apply
// (missing path, failed `test`, unknown op) with 422 and a fixed message.
import jsonpatch from "fast-json-patch";
import type { Operation } from "fast-json-patch";
import { PatchError, badPatch, jsonPatchFailed } from "./errors.js";
import { clone, goTypeName, isObject, type JsonValue } from "./json.js";

/** Upstream's limit on operations in one JSON patch (maxJSONPatchOperations). */
export const maxJSONPatchOperations = 10000;

const ops: ReadonlySet<string> = new Set(["add", "remove", "replace", "move", "copy", "test"]);

/**
 * Applies `patch` (the decoded request body) to `doc` and returns the patched document.
 * Neither argument is modified.
 */
export function applyJSONPatch(doc: JsonValue, patch: unknown): JsonValue {
  if (!Array.isArray(patch)) {
    throw badPatch(`json: cannot unmarshal ${jsonKind(patch)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of patch) {
    if (!isObject(op) && op !== null) {
      throw badPatch(`json: cannot unmarshal ${jsonKind(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (patch.length > maxJSONPatchOperations) {
    throw new PatchError("TooManyOperations", `The allowed maximum operations in a JSON patch is ${maxJSONPatchOperations}, got ${patch.length}`);
  }
  const operations = patch.map((raw: unknown, i) => checkOperation(raw, i));
  try {
    return jsonpatch.applyPatch(clone(doc), operations, true, true, true).newDocument;
  } catch (err) {
    if (err instanceof PatchError) throw err;
    const failed = err instanceof jsonpatch.JsonPatchError && err.index !== undefined ? operations[err.index] : undefined;
    const what = failed === undefined ? "" : `${failed.op} operation on ${failed.path}: `;
    throw jsonPatchFailed(`${what}${err instanceof Error ? err.message : String(err)}`);
  }
}

function checkOperation(raw: unknown, index: number): Operation {
  const op = isObject(raw) ? raw : {};
  const kind = op["op"];
  if (typeof kind !== "string" || !ops.has(kind)) {
    // fast-json-patch also knows a private `_get` op; only RFC 6902's six are accepted.
    throw jsonPatchFailed(`Unexpected kind: ${typeof kind === "string" ? kind : "unknown"} (operation ${index})`);
  }
  if (typeof op["path"] !== "string") throw jsonPatchFailed(`${kind} operation failed to decode path (operation ${index})`);
  if ((kind === "move" || kind === "copy") && typeof op["from"] !== "string") {
    throw jsonPatchFailed(`${kind} operation failed to decode from (operation ${index})`);
  }
  if ((kind === "add" || kind === "replace" || kind === "test") && !Object.prototype.hasOwnProperty.call(op, "value")) {
    throw jsonPatchFailed(`${kind} operation has no value (operation ${index})`);
  }
  // Values are inserted into the result by reference; copy them so the caller's body stays intact
  // and later operations of the same patch cannot alias earlier ones.
  return clone(op) as unknown as Operation;
}

function jsonKind(v: unknown): string {
  const t = goTypeName(v);
  if (t.startsWith("map")) return "object";
  if (t.startsWith("[]")) return "array";
  if (t === "int64" || t === "float64") return "number";
  return t === "<nil>" ? "null" : t;
}
