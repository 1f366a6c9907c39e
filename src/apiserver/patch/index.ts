// The patch machinery the REST handlers use: the four PATCH content types and managedFields
// tracking for every write. See each module for the upstream behaviour it follows.
export { PatchError, isPatchError, type PatchErrorCode, type Status, type StatusCause } from "./errors.js";
export { schemaFromOpenAPI, type PatchSchema, type OpenAPIDocument, type OpenAPISchemaObject } from "./schema.js";
export { applyJSONPatch, maxJSONPatchOperations } from "./jsonpatch.js";
export { applyMergePatch } from "./mergepatch.js";
export { applyStrategicMergePatch } from "./strategic.js";
export { apply, lastAppliedAnnotation, type ApplyOptions, type ApplyResult } from "./apply.js";
export {
  decodeManagedFields,
  encodeManagedFields,
  managerOrUserAgent,
  updateManagedFields,
  validateFieldManager,
  type ManagedFieldsEntry,
  type TrackOptions,
} from "./managedfields.js";
export { FieldSet, path, pathString, type Path, type PathElement } from "./fieldpath.js";
