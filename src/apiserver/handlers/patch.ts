// PATCH in its four types, on top of the patch machinery in ../patch: JSON patch, JSON merge
// patch, strategic merge patch (with the kind's schema for merge keys and strategies) and
// server-side apply (field managers and conflicts). Also the managedFields bookkeeping every
// other write gets.
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { apply, applyJSONPatch, applyMergePatch, applyStrategicMergePatch, isPatchError, path, updateManagedFields, type Path, type PatchError, type PatchSchema } from "../patch/index.js";
import type { JsonObject, JsonValue } from "../patch/json.js";
import type { ManagedFieldsTracker } from "../rest/store.js";
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
}

export interface Patcher {
  apply(req: PatchRequest): Promise<KubeObject>;
  /** A patch of an autoscaling/v1 Scale (kubectl scale sends a merge patch). */
  applyToScale(contentType: string, scale: KubeObject, patch: Buffer): Promise<KubeObject>;
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

const apiVersionOf = (def: ResourceDefinition): string => (def.group === "" ? def.version : `${def.group}/${def.version}`);

/**
 * Fields a request may not own (upstream's reset fields): status on the main resource;
 * everything else on /status.
 */
export function resetFields(def: ResourceDefinition, subresource: string, obj: KubeObject): Path[] {
  const statusFields = def.strategy.statusFields ?? ["status"];
  if (subresource !== "status") return statusFields.map((f) => path(f));
  const others = Object.keys(obj).filter((k) => k !== "apiVersion" && k !== "kind" && k !== "metadata" && !statusFields.includes(k));
  return [...others.map((k) => path(k)), path("metadata", "labels"), path("metadata", "annotations")];
}

export function managedFieldsTracker(schemaFor: (def: ResourceDefinition) => PatchSchema | undefined): ManagedFieldsTracker {
  return (def, live, obj, manager, subresource, now) => {
    try {
      return updateManagedFields(live as JsonObject | undefined, obj as JsonObject, { manager, apiVersion: apiVersionOf(def), subresource, schema: schemaFor(def), now, resetFields: resetFields(def, subresource, obj) }) as KubeObject;
    } catch (err) {
      // Bookkeeping never fails a write; upstream keeps the previous entries in that case.
      if (isPatchError(err)) return obj;
      throw err;
    }
  };
}

/** Apply may leave `annotations: {}` behind where the live object had none; upstream's typed round trip drops it. */
function withoutNewEmptyMaps(obj: KubeObject, live: KubeObject | undefined): KubeObject {
  const meta = obj.metadata;
  if (!meta) return obj;
  for (const f of ["annotations", "labels"] as const) {
    const v = meta[f];
    if (v && Object.keys(v).length === 0 && live?.metadata?.[f] === undefined) delete meta[f];
  }
  return obj;
}

export function createPatcher(schemaFor: (def: ResourceDefinition) => PatchSchema | undefined): Patcher {
  // `share`: the result may keep what the patch leaves alone of `doc` (see StrategicMergeOptions).
  const patchJSON = (contentType: string, doc: JsonValue, body: Buffer, schema: () => PatchSchema | undefined, share = false): JsonValue => {
    const { value } = parseBody(body, "application/json");
    try {
      switch (contentType) {
        case "application/json-patch+json":
          return applyJSONPatch(doc, value);
        case "application/merge-patch+json":
          return applyMergePatch(doc, value);
        case "application/strategic-merge-patch+json":
          return applyStrategicMergePatch(doc, value, schema(), { share });
        default:
          throw unsupportedMediaType(contentType);
      }
    } catch (err) {
      rethrow(err);
    }
  };
  return {
    async apply(req) {
      if (req.contentType === "application/apply-patch+yaml") {
        const { value } = parseBody(req.patch, req.contentType);
        try {
          const result = apply(req.current as JsonObject | undefined, value, {
            manager: req.manager,
            force: req.force,
            kind: req.def.kind,
            apiVersion: apiVersionOf(req.def),
            schema: schemaFor(req.def),
            now: req.now,
            subresource: req.subresource,
            resetFields: resetFields(req.def, req.subresource, (req.current ?? value) as KubeObject),
          });
          return withoutNewEmptyMaps(result.object as KubeObject, req.current);
        } catch (err) {
          rethrow(err);
        }
      }
      // A /status write keeps only the status (and annotations) of what it is given, and
      // changes nothing in place outside them: the patched object may share the rest with the
      // stored one (the watch cache's frozen copy, mostly) instead of copying it. Kubelets patch
      // pod status this way, one write per pod and more.
      return patchJSON(req.contentType, (req.current ?? {}) as JsonValue, req.patch, () => schemaFor(req.def), req.subresource === "status") as KubeObject;
    },
    async applyToScale(contentType, scale, body) {
      return patchJSON(contentType, scale as JsonValue, body, () => undefined) as KubeObject;
    },
  };
}
