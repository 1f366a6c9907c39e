// Bound service account tokens for projected volumes, cached per pod and request and renewed
// on upstream's schedule (pkg/kubelet/token/token_manager.go): once 80% of the token's life
// has passed, or 24 hours after it was issued, whichever comes first. A failed renewal keeps
// serving the cached token while it is still valid.
import type { Logger } from "../../util/log.js";
import type { ObjectSource } from "../types.js";

const MAX_TTL_MS = 24 * 3600_000;

interface Cached {
  readonly token: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export interface TokenRequest {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
  readonly podName: string;
  readonly podUid: string;
}

export class ServiceAccountTokens {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly objects: ObjectSource,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async get(r: TokenRequest): Promise<string> {
    const key = JSON.stringify([r.podUid, r.namespace, r.serviceAccount, r.audiences, r.expirationSeconds, r.podName]);
    const cached = this.cache.get(key);
    const now = this.now();
    if (cached && !this.needsRefresh(cached, now)) return cached.token;
    try {
      const t = await this.objects.serviceAccountToken(r.namespace, r.serviceAccount, {
        audiences: r.audiences,
        expirationSeconds: r.expirationSeconds,
        podName: r.podName,
        podUid: r.podUid,
      });
      const expiresAt = Date.parse(t.expirationTimestamp);
      // The server may shorten or lengthen the lifetime; renewal follows what it granted.
      const fresh: Cached = { token: t.token, issuedAt: now, expiresAt: Number.isFinite(expiresAt) ? expiresAt : now + r.expirationSeconds * 1000 };
      this.cache.set(key, fresh);
      return fresh.token;
    } catch (err) {
      if (cached && cached.expiresAt > now) {
        this.log.warn({ err, pod: `${r.namespace}/${r.podName}`, serviceAccount: r.serviceAccount }, "could not renew service account token; the cached one is still valid");
        return cached.token;
      }
      throw err;
    }
  }

  private needsRefresh(c: Cached, now: number): boolean {
    const ttl = c.expiresAt - c.issuedAt;
    return now >= c.issuedAt + MAX_TTL_MS || now >= c.issuedAt + ttl * 0.8;
  }

  /** Drops the tokens of a pod that is gone. */
  forgetPod(uid: string): void {
    const prefix = `[${JSON.stringify(uid)},`;
    for (const k of this.cache.keys()) if (k.startsWith(prefix)) this.cache.delete(k);
  }
}
