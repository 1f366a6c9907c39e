// The bootstrap signer (upstream's pkg/controller/bootstrap/bootstrapsigner.go): the ConfigMap
// kube-public/cluster-info carries, beside its `kubeconfig`, one detached JWS of that kubeconfig
// per bootstrap token that may sign (`jws-kubeconfig-<id>`), so that a node that holds a token
// can tell the cluster-info it fetched anonymously is the real one. Signatures follow the
// tokens: added for a new signing token, recomputed when the kubeconfig or a token's secret
// changes, removed when the token is gone or expired. The ConfigMap is written only when a
// signature changed. One key, the ConfigMap's, collapses every change into one sync.
import type { ConfigMap, Secret } from "kubernetes-types/core/v1.js";
import {
  BOOTSTRAP_TOKEN_KEYS,
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_SECRET_PREFIX,
  BOOTSTRAP_TOKEN_USAGE_PREFIX,
  CLUSTER_INFO_JWS_PREFIX,
  CLUSTER_INFO_KUBECONFIG_KEY,
  CLUSTER_INFO_NAME,
  CLUSTER_INFO_NAMESPACE,
  bootstrapTokenData,
  signDetached,
  type TokenParts,
} from "../../api/bootstraptoken.js";
import { isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import { DeletedFinalStateUnknown, type DeepReadonly } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { Api } from "../api.js";
import { isBootstrapTokenSecret, RECHECK_MS, tokenExpiry } from "./tokencleaner.js";

export const BOOTSTRAP_SIGNER_CONTROLLER = "bootstrap-signer-controller";
export const CLUSTER_INFO_KEY = `${CLUSTER_INFO_NAMESPACE}/${CLUSTER_INFO_NAME}`;

const SECRET_NAME = new RegExp(`^${BOOTSTRAP_TOKEN_SECRET_PREFIX}([a-z0-9]{6})$`);

/** A token that may sign now, and when it stops being one (its expiry), as upstream's validateSecretForSigning judges it. */
export function signingToken(s: DeepReadonly<Secret>, now: number): (TokenParts & { readonly expiry?: number }) | undefined {
  const nameId = SECRET_NAME.exec(s.metadata?.name ?? "")?.[1];
  if (!nameId) return undefined;
  const data = bootstrapTokenData(s);
  const id = data[BOOTSTRAP_TOKEN_KEYS.id] ?? "";
  const secret = data[BOOTSTRAP_TOKEN_KEYS.secret] ?? "";
  if (id !== nameId || secret === "") return undefined;
  const expiry = tokenExpiry(s);
  if (expiry !== undefined && expiry <= now) return undefined;
  if (data[`${BOOTSTRAP_TOKEN_USAGE_PREFIX}signing`] !== "true") return undefined;
  return { id, secret, ...(expiry !== undefined ? { expiry } : {}) };
}

/**
 * cluster-info's data with the signatures these tokens make, or undefined when it is already
 * so (or has no kubeconfig to sign).
 */
export function signedData(data: Readonly<Record<string, string>>, tokens: readonly TokenParts[]): Record<string, string> | undefined {
  const content = data[CLUSTER_INFO_KUBECONFIG_KEY];
  if (content === undefined) return undefined;
  const next: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (!k.startsWith(CLUSTER_INFO_JWS_PREFIX)) next[k] = v;
  for (const t of tokens) next[CLUSTER_INFO_JWS_PREFIX + t.id] = signDetached(content, t);
  const before = Object.keys(data).filter((k) => k.startsWith(CLUSTER_INFO_JWS_PREFIX));
  const after = Object.keys(next).filter((k) => k.startsWith(CLUSTER_INFO_JWS_PREFIX));
  const same = before.length === after.length && after.every((k) => data[k] === next[k]);
  return same ? undefined : next;
}

export interface BootstrapSignerDeps {
  readonly api: Api;
  readonly configMaps: Lister<ConfigMap>;
  readonly secrets: Lister<Secret>;
  readonly log: Logger;
  readonly now?: () => number;
}

export class BootstrapSigner {
  readonly queue = new WorkQueue<string>();

  constructor(private readonly d: BootstrapSignerDeps) {}

  configMapChanged(cm: DeepReadonly<ConfigMap>): void {
    if (cm.metadata?.namespace === CLUSTER_INFO_NAMESPACE && cm.metadata.name === CLUSTER_INFO_NAME) this.queue.add(CLUSTER_INFO_KEY);
  }

  secretChanged(s: DeepReadonly<Secret> | DeletedFinalStateUnknown<Secret>): void {
    const obj = s instanceof DeletedFinalStateUnknown ? s.obj : s;
    if (isBootstrapTokenSecret(obj)) this.queue.add(CLUSTER_INFO_KEY);
  }

  async sync(key: string, _signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const cm = this.d.configMaps.get(key);
    if (!cm) return;
    const now = this.d.now?.() ?? Date.now();
    const tokens = new Map<string, TokenParts & { readonly expiry?: number }>();
    for (const s of this.d.secrets.namespace(BOOTSTRAP_TOKEN_NAMESPACE).list()) {
      if (!isBootstrapTokenSecret(s)) continue;
      const t = signingToken(s, now);
      // One Secret name per id, so two tokens of one id cannot both be here.
      if (t && !tokens.has(t.id)) tokens.set(t.id, t);
    }
    // An expiring token's signature goes when it expires, even before the token cleaner deletes it.
    const expiries = [...tokens.values()].flatMap((t) => (t.expiry !== undefined ? [t.expiry] : []));
    if (expiries.length > 0) this.queue.addAfter(key, Math.min(Math.min(...expiries) - now, RECHECK_MS));
    const next = signedData(cm.data ?? {}, [...tokens.values()]);
    if (!next) return;
    const updated = { ...(structuredClone(cm) as ConfigMap), data: next };
    try {
      await this.d.api.resource<ConfigMap>("", "v1", "configmaps").namespace(CLUSTER_INFO_NAMESPACE).update(updated);
      log.info({ configMap: key, tokens: [...tokens.keys()] }, "signed cluster-info");
    } catch (err) {
      // Deleted meanwhile: nothing to sign. A conflict is retried against the newer cache.
      if (!isNotFound(err)) throw err;
    }
  }
}
