// The token cleaner (upstream's pkg/controller/bootstrap/tokencleaner.go): a bootstrap token
// Secret in kube-system is deleted once its `expiration` has passed, so an expired token stops
// existing and not only stops working. Upstream requeues each token for the moment it expires;
// so does this, at most a day ahead so a far expiry never overflows a timer. An expiration that
// is not an RFC 3339 time counts as passed, as upstream's GetExpiration says. Keys are
// `kube-system/<name>`.
import type { Secret } from "kubernetes-types/core/v1.js";
import { BOOTSTRAP_TOKEN_KEYS, BOOTSTRAP_TOKEN_NAMESPACE, BOOTSTRAP_TOKEN_SECRET_TYPE, bootstrapTokenData } from "../../api/bootstraptoken.js";
import { isConflict, isNotFound } from "../../client/errors.js";
import type { Lister } from "../../client/informer.js";
import { keyOf, type DeepReadonly } from "../../client/objects.js";
import { WorkQueue } from "../../client/workqueue.js";
import type { Logger } from "../../util/log.js";
import type { Api } from "../api.js";

export const TOKEN_CLEANER_CONTROLLER = "token-cleaner-controller";

/** The longest wait before a token is looked at again. */
export const RECHECK_MS = 24 * 3600_000;

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

/** Whether the Secret is a bootstrap token the controllers look after (type, namespace). */
export function isBootstrapTokenSecret(s: DeepReadonly<Secret>): boolean {
  return s.type === BOOTSTRAP_TOKEN_SECRET_TYPE && s.metadata?.namespace === BOOTSTRAP_TOKEN_NAMESPACE;
}

/**
 * A token Secret's expiry in epoch ms: undefined when it has none, -Infinity when it cannot be
 * read (upstream treats that as expired).
 */
export function tokenExpiry(s: DeepReadonly<Secret>): number | undefined {
  const exp = bootstrapTokenData(s)[BOOTSTRAP_TOKEN_KEYS.expiration];
  if (exp === undefined || exp === "") return undefined;
  const at = RFC3339.test(exp) ? Date.parse(exp) : NaN;
  return Number.isNaN(at) ? -Infinity : at;
}

export interface TokenCleanerDeps {
  readonly api: Api;
  readonly secrets: Lister<Secret>;
  readonly log: Logger;
  readonly now?: () => number;
}

export class TokenCleaner {
  readonly queue = new WorkQueue<string>();

  constructor(private readonly d: TokenCleanerDeps) {}

  secretChanged(s: DeepReadonly<Secret>): void {
    if (isBootstrapTokenSecret(s)) this.queue.add(keyOf(s));
  }

  async sync(key: string, _signal?: AbortSignal, log: Logger = this.d.log): Promise<void> {
    const s = this.d.secrets.get(key);
    if (!s || s.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return;
    const expiry = tokenExpiry(s);
    if (expiry === undefined) return;
    const now = this.d.now?.() ?? Date.now();
    if (expiry > now) {
      this.queue.addAfter(key, Math.min(expiry - now, RECHECK_MS));
      return;
    }
    const namespace = s.metadata?.namespace ?? BOOTSTRAP_TOKEN_NAMESPACE;
    const name = s.metadata?.name ?? "";
    // The UID precondition: a token made again under the name since is not this one.
    const uid = s.metadata?.uid;
    try {
      await this.d.api.resource<Secret>("", "v1", "secrets").namespace(namespace).delete(name, uid ? { preconditions: { uid } } : {});
      log.info({ secret: key }, "deleted an expired bootstrap token");
    } catch (err) {
      // Gone already, or replaced (the precondition failed): nothing of this token is left.
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
