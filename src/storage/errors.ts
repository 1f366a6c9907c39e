// One error type for every backend, with stable codes the API server maps to HTTP
// (NotFound → 404, AlreadyExists → 409, Conflict → 409, Compacted/Expired → 410,
// Unavailable → 503, Invalid → 422). Callers switch on `code`, never on the message.
import type { KeyValue } from "./interface.js";

export type StorageErrorCode = "NotFound" | "AlreadyExists" | "Conflict" | "Compacted" | "Expired" | "Unavailable" | "Invalid";

export class StorageError extends Error {
  override readonly name = "StorageError";
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    readonly details: {
      readonly key?: string;
      /** On Conflict: the value that is stored now, so a retry need not read it again. */
      readonly current?: KeyValue;
      /** On Compacted/Expired: the oldest revision that can still be read or watched from. */
      readonly compactRevision?: number;
    } = {},
  ) {
    super(message);
  }
}

export const notFound = (key: string): StorageError => new StorageError("NotFound", `key not found: ${key}`, { key });
export const alreadyExists = (key: string): StorageError => new StorageError("AlreadyExists", `key already exists: ${key}`, { key });
export const conflict = (key: string, expected: number, current?: KeyValue): StorageError =>
  new StorageError("Conflict", `revision mismatch on ${key}: expected ${expected}, stored ${current?.modRevision ?? "none"}`, { key, ...(current ? { current } : {}) });
export const compacted = (requested: number, compactRevision: number): StorageError =>
  new StorageError("Compacted", `required revision ${requested} has been compacted (oldest available: ${compactRevision + 1})`, { compactRevision });
export const invalid = (message: string, key?: string): StorageError => new StorageError("Invalid", message, key === undefined ? {} : { key });
export const unavailable = (message: string): StorageError => new StorageError("Unavailable", message);

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
