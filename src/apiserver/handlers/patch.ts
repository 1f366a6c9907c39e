// PATCH in its four types, on top of the patch machinery in ../patch: JSON patch, JSON merge
// patch, strategic merge patch (with the kind's schema for merge keys and strategies) and
// server-side apply (field managers and conflicts).
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { applyJSONPatch } from "../patch/jsonpatch.js";
import { applyMergePatch } from "../patch/mergepatch.js";
import { isPatchError, type PatchError } from "../patch/errors.js";
import type { JsonValue } from "../patch/json.js";
import type { PatchSchema } from "../patch/schema.js";
import { parseBody } from "../decode.js";
import { StatusError, unsupportedMediaType, type Status } from "../status.js";

export interface PatchRequest {
  readonly def: ResourceDefinition;
  readonly contentType: string;
  readonly current: KubeObject | undefined;
  readonly patch: Buffer;
  readonly manager: string;
  readonly force: boolean;
  readonly now: Date;
  readonly subresource: string;
  readonly name: string;
  readonly namespace: string;
}

export interface Patcher {
  apply(req: PatchRequest): Promise<KubeObject>;
  /** A patch of an autoscaling/v1 Scale (kubectl scale sends a merge patch). */
  applyToScale(contentType: string, scale: KubeObject, patch: Buffer): Promise<KubeObject>;
  /** managedFields bookkeeping for ordinary writes. */
  trackCreate?(def: ResourceDefinition, obj: KubeObject, manager: string, now: Date): void;
  trackUpdate?(def: ResourceDefinition, old: KubeObject, obj: KubeObject, manager: string, now: Date, subresource: string): void;
}

export interface PatcherDeps {
  /** The patch view of a kind's schema, for strategic merge patch and apply. */
  readonly schemaFor: (def: ResourceDefinition) => PatchSchema | undefined;
  readonly strategic?: (doc: JsonValue, patch: unknown, schema: PatchSchema | undefined) => JsonValue;
}

/** Patch errors carry the status upstream answers with; a failure we cannot classify is a bad request, never a 500. */
export function patchErrorToStatus(err: PatchError): StatusError {
  const s = err.toStatus() as unknown as Status;
  if (s.code >= 500) {
    s.code = 422;
    s.reason = "Invalid";
  }
  return new StatusError(s);
}

function rethrow(err: unknown): never {
  if (isPatchError(err)) throw patchErrorToStatus(err);
  throw err;
}

export function createPatcher(deps: PatcherDeps): Patcher {
  const patchJSON = (contentType: string, doc: JsonValue, body: Buffer, schema: () => PatchSchema | undefined): JsonValue => {
    const { value } = parseBody(body, "application/json");
    try {
      switch (contentType) {
        case "application/json-patch+json":
          return applyJSONPatch(doc, value);
        case "application/merge-patch+json":
          return applyMergePatch(doc, value);
        case "application/strategic-merge-patch+json":
          if (!deps.strategic) throw unsupportedMediaType(contentType);
          return deps.strategic(doc, value, schema());
        default:
          throw unsupportedMediaType(contentType);
      }
    } catch (err) {
      rethrow(err);
    }
  };
  return {
    async apply(req) {
      if (req.contentType === "application/apply-patch+yaml") throw unsupportedMediaType(req.contentType);
      return patchJSON(req.contentType, (req.current ?? {}) as JsonValue, req.patch, () => deps.schemaFor(req.def)) as KubeObject;
    },
    async applyToScale(contentType, scale, body) {
      return patchJSON(contentType, scale as JsonValue, body, () => undefined) as KubeObject;
    },
  };
}
