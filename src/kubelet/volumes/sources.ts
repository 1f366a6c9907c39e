// The contents of configMap, secret, downwardAPI and projected volumes, computed as upstream's
// plugins do (pkg/volume/{configmap,secret,downwardapi,projected}): which keys become files,
// under which paths and modes, and when a missing object or key is an error.
import type {
  ConfigMap,
  ConfigMapProjection,
  ConfigMapVolumeSource,
  DownwardAPIVolumeFile,
  KeyToPath,
  Pod,
  ProjectedVolumeSource,
  Secret,
  SecretProjection,
  SecretVolumeSource,
  ServiceAccountTokenProjection,
} from "kubernetes-types/core/v1.js";
import { goQuote } from "../../api/fielderrors.js";
import type { ObjectSource } from "../types.js";
import type { Payload } from "./atomic-writer.js";
import { fieldRefValue, resourceFieldRefValue, type NodeAllocatable } from "./downward.js";
import type { ServiceAccountTokens } from "./tokens.js";

/** The default of every defaultMode (configMap, secret, downwardAPI, projected). */
export const DEFAULT_MODE = 0o644;
/** Upstream's default for serviceAccountToken.expirationSeconds. */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;

/** A volume's content cannot be computed; the message is what the FailedMount event says. */
export class SourceError extends Error {
  override readonly name = "SourceError";
  constructor(
    message: string,
    /** the source kind k8ts does not implement (the volume is invalid, not failing) */
    readonly unsupported = false,
  ) {
    super(message);
  }
}

function utf8(s: string): Uint8Array {
  return Buffer.from(s, "utf8");
}

function base64(s: string): Uint8Array {
  return Buffer.from(s, "base64");
}

/** A named set of keys: ConfigMap (data as text, binaryData base64) or Secret (data base64). */
interface KeyedData {
  get(key: string): Uint8Array | undefined;
  entries(): [string, Uint8Array][];
}

function configMapData(cm: ConfigMap | undefined): KeyedData {
  return {
    get: (key) => {
      const s = cm?.data?.[key];
      if (s !== undefined) return utf8(s);
      const b = cm?.binaryData?.[key];
      return b === undefined ? undefined : base64(b);
    },
    entries: () => [
      ...Object.entries(cm?.data ?? {}).map(([k, v]): [string, Uint8Array] => [k, utf8(v)]),
      ...Object.entries(cm?.binaryData ?? {}).map(([k, v]): [string, Uint8Array] => [k, base64(v)]),
    ],
  };
}

function secretData(s: Secret | undefined): KeyedData {
  return {
    get: (key) => {
      const v = s?.data?.[key];
      return v === undefined ? undefined : base64(v);
    },
    entries: () => Object.entries(s?.data ?? {}).map(([k, v]): [string, Uint8Array] => [k, base64(v)]),
  };
}

/**
 * Upstream's MakePayload: every key under its own name, or only `items` (key → path, mode);
 * an item whose key is missing is an error unless the source is optional.
 */
function makePayload(
  data: KeyedData,
  items: readonly KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
  missingKey: (key: string) => string,
  into: Payload,
): void {
  if (!items || items.length === 0) {
    for (const [k, v] of data.entries()) into.set(k, { data: v, mode: defaultMode });
    return;
  }
  for (const item of items) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (optional) continue;
      throw new SourceError(missingKey(item.key));
    }
    into.set(item.path, { data: v, mode: item.mode ?? defaultMode });
  }
}

async function fetchConfigMap(objects: ObjectSource, namespace: string, name: string, optional: boolean): Promise<ConfigMap | undefined> {
  const cm = await objects.configMap(namespace, name);
  if (!cm && !optional) throw new SourceError(`configmap ${goQuote(name)} not found`);
  return cm;
}

async function fetchSecret(objects: ObjectSource, namespace: string, name: string, optional: boolean): Promise<Secret | undefined> {
  const s = await objects.secret(namespace, name);
  if (!s && !optional) throw new SourceError(`secret ${goQuote(name)} not found`);
  return s;
}

const missingConfigMapKey = (key: string): string => `configmap references non-existent config key: ${key}`;
const missingSecretKey = (key: string): string => `references non-existent secret key: ${key}`;

export async function configMapPayload(objects: ObjectSource, namespace: string, src: ConfigMapVolumeSource | ConfigMapProjection, defaultMode: number): Promise<Payload> {
  const optional = src.optional === true;
  const cm = await fetchConfigMap(objects, namespace, src.name ?? "", optional);
  const out: Payload = new Map();
  makePayload(configMapData(cm), src.items, defaultMode, optional, missingConfigMapKey, out);
  return out;
}

export async function secretPayload(objects: ObjectSource, namespace: string, name: string, src: SecretVolumeSource | SecretProjection, defaultMode: number): Promise<Payload> {
  const optional = src.optional === true;
  const s = await fetchSecret(objects, namespace, name, optional);
  const out: Payload = new Map();
  makePayload(secretData(s), src.items, defaultMode, optional, missingSecretKey, out);
  return out;
}

export function downwardApiPayload(pod: Pod, items: readonly DownwardAPIVolumeFile[] | undefined, defaultMode: number, allocatable: () => NodeAllocatable): Payload {
  const out: Payload = new Map();
  const errors: string[] = [];
  for (const item of items ?? []) {
    let value = "";
    try {
      if (item.fieldRef) value = fieldRefValue(pod, item.fieldRef);
      else if (item.resourceFieldRef) value = resourceFieldRefValue(pod, item.resourceFieldRef, allocatable());
    } catch (err) {
      errors.push((err as Error).message);
      continue;
    }
    out.set(item.path, { data: utf8(value), mode: item.mode ?? defaultMode });
  }
  if (errors.length > 0) throw new SourceError(aggregate(errors));
  return out;
}

/** Upstream's utilerrors.NewAggregate message: one error as is, several as a list. */
function aggregate(messages: readonly string[]): string {
  return messages.length === 1 ? messages[0]! : `[${messages.join(", ")}]`;
}

export interface ProjectionContext {
  readonly objects: ObjectSource;
  readonly tokens: ServiceAccountTokens;
  readonly allocatable: () => NodeAllocatable;
}

async function tokenFile(pod: Pod, tp: ServiceAccountTokenProjection, tokens: ServiceAccountTokens): Promise<Uint8Array> {
  const md = pod.metadata ?? {};
  try {
    const token = await tokens.get({
      namespace: md.namespace ?? "default",
      serviceAccount: pod.spec?.serviceAccountName || pod.spec?.serviceAccount || "default",
      // No audience: an empty list, which the API server fills with its own audiences.
      audiences: tp.audience ? [tp.audience] : [],
      expirationSeconds: tp.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS,
      podName: md.name ?? "",
      podUid: md.uid ?? "",
    });
    return utf8(token);
  } catch (err) {
    throw new SourceError(`failed to fetch token: ${(err as Error).message}`);
  }
}

/**
 * Upstream's projected collectData: each source adds its files (a later one replaces an
 * earlier file at the same path); failures are collected and reported together.
 */
export async function projectedPayload(pod: Pod, src: ProjectedVolumeSource, ctx: ProjectionContext): Promise<Payload> {
  const namespace = pod.metadata?.namespace ?? "default";
  const defaultMode = src.defaultMode ?? DEFAULT_MODE;
  const out: Payload = new Map();
  const errors: string[] = [];
  const merge = (p: Payload): void => {
    for (const [k, v] of p) out.set(k, v);
  };
  for (const source of src.sources ?? []) {
    try {
      if (source.configMap) merge(await configMapPayload(ctx.objects, namespace, source.configMap, defaultMode));
      else if (source.secret) merge(await secretPayload(ctx.objects, namespace, source.secret.name ?? "", source.secret, defaultMode));
      else if (source.downwardAPI) merge(downwardApiPayload(pod, source.downwardAPI.items, defaultMode, ctx.allocatable));
      else if (source.serviceAccountToken) {
        out.set(source.serviceAccountToken.path, { data: await tokenFile(pod, source.serviceAccountToken, ctx.tokens), mode: defaultMode });
      } else {
        const kind = Object.keys(source)[0] ?? "(empty)";
        throw new SourceError(`projected volume source ${kind} is not supported by k8ts`, true);
      }
    } catch (err) {
      if (err instanceof SourceError && err.unsupported) throw err;
      errors.push((err as Error).message);
    }
  }
  if (errors.length > 0) throw new SourceError(aggregate(errors));
  return out;
}
