// Controllers under their own ServiceAccounts (kube-controller-manager's
// --use-service-account-credentials, upstream's DynamicControllerClientBuilder): the manager, as
// itself, makes sure kube-system/<account> exists and asks the TokenRequest API for a token of
// it; each controller's client sends that token. A token is asked for 3600 s and renewed once
// 80% of its lifetime has passed (20% leeway), or at once when the server stops accepting it.
import type { ServiceAccount } from "kubernetes-types/core/v1.js";
import type { TokenRequest } from "kubernetes-types/authentication/v1.js";
import { Backoff } from "../client/backoff.js";
import { realClock, sleep, type Clock, type Timer } from "../client/clock.js";
import { isAlreadyExists, isNotFound } from "../client/errors.js";
import type { RestClient, TokenSource } from "../client/rest.js";
import type { Logger } from "../util/log.js";

/** Upstream's defaultExpirationSeconds. */
export const SA_TOKEN_EXPIRATION_SECONDS = 3600;
/** Upstream's defaultLeewayPercent: the share of a token's lifetime left when it is renewed. */
export const SA_TOKEN_LEEWAY_PERCENT = 20;
/** A lifetime shorter than this is taken for clock skew and counted as this (upstream's rule). */
const MIN_TOKEN_LIFETIME_MS = 10 * 60_000;
/** At most one renewal for 401 answers in this long, so a refused token cannot start a request storm. */
const UNAUTHORIZED_REFRESH_INTERVAL_MS = 1_000;

/** `system:serviceaccount:<namespace>:<name>`, the user a ServiceAccount token authenticates as. */
export const serviceAccountUser = (namespace: string, name: string): string => `system:serviceaccount:${namespace}:${name}`;

/**
 * How long after `now` a token expiring at `expirationTimestamp` is renewed: its lifetime less
 * `leewayPercent` of it, the lifetime counted as at least 10 minutes.
 */
export function tokenRefreshDelayMs(expirationTimestamp: string, now: number, leewayPercent = SA_TOKEN_LEEWAY_PERCENT): number {
  const expires = Date.parse(expirationTimestamp);
  let lifetime = Number.isFinite(expires) ? expires - now : 0;
  if (lifetime < MIN_TOKEN_LIFETIME_MS) lifetime = MIN_TOKEN_LIFETIME_MS;
  return lifetime - Math.floor((lifetime * leewayPercent) / 100);
}

export interface ServiceAccountTokensOptions {
  /** The manager's own client: it creates the accounts and asks for their tokens. */
  readonly client: RestClient;
  /** Where the controllers' accounts live; upstream: kube-system. */
  readonly namespace?: string;
  readonly expirationSeconds?: number;
  readonly leewayPercent?: number;
  readonly clock?: Clock;
  readonly log: Logger;
}

interface Account {
  readonly name: string;
  token: string | undefined;
  fetchedAt: number;
  timer: Timer | undefined;
  /** The renewal in flight, if any. */
  renewing: Promise<void> | undefined;
}

/** The tokens of the controllers' accounts for one term of leadership; close() stops renewing. */
export class ServiceAccountTokens {
  readonly namespace: string;
  private readonly accounts = new Map<string, Account>();
  private readonly clock: Clock;
  private readonly stopper = new AbortController();
  private readonly expirationSeconds: number;
  private readonly leewayPercent: number;
  private readonly log: Logger;

  constructor(private readonly o: ServiceAccountTokensOptions) {
    this.namespace = o.namespace ?? "kube-system";
    this.clock = o.clock ?? realClock;
    this.expirationSeconds = o.expirationSeconds ?? SA_TOKEN_EXPIRATION_SECONDS;
    this.leewayPercent = o.leewayPercent ?? SA_TOKEN_LEEWAY_PERCENT;
    this.log = o.log.child({ component: "serviceaccount-tokens" });
  }

  /**
   * Resolves once `name` has a token (the account created first if missing), retrying with
   * backoff; false if closed or `signal` aborted first.
   */
  async ensure(name: string, signal?: AbortSignal): Promise<boolean> {
    const a = this.account(name);
    if (a.token !== undefined) return true;
    await this.renew(a, signal);
    return a.token !== undefined;
  }

  /** What a client sends: the account's current token, renewed early on a 401. */
  tokenSource(name: string): TokenSource {
    const a = this.account(name);
    return {
      token: () => a.token,
      unauthorized: () => {
        if (this.stopper.signal.aborted || a.renewing || this.clock.now() - a.fetchedAt < UNAUTHORIZED_REFRESH_INTERVAL_MS) return;
        this.log.info({ serviceAccount: `${this.namespace}/${name}` }, "token refused by the server; asking for a new one");
        void this.renew(a);
      },
    };
  }

  /** The account's token now, if it has one. */
  token(name: string): string | undefined {
    return this.accounts.get(name)?.token;
  }

  close(): void {
    this.stopper.abort();
    for (const a of this.accounts.values()) a.timer?.cancel();
  }

  private account(name: string): Account {
    let a = this.accounts.get(name);
    if (!a) {
      a = { name, token: undefined, fetchedAt: Number.NEGATIVE_INFINITY, timer: undefined, renewing: undefined };
      this.accounts.set(name, a);
    }
    return a;
  }

  /** One renewal at a time per account; callers share the one in flight. */
  private renew(a: Account, signal?: AbortSignal): Promise<void> {
    a.renewing ??= this.fetchUntilDone(a).finally(() => {
      a.renewing = undefined;
    });
    if (!signal) return a.renewing;
    // A caller that gives up waits no longer; the renewal itself goes on for the others.
    return Promise.race([a.renewing, new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }))]);
  }

  /** Upstream retries 4 times from 500 ms, then fails the request; here the old token stays in use and retries go on (capped at 30 s). */
  private async fetchUntilDone(a: Account): Promise<void> {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000, clock: this.clock });
    const stop = this.stopper.signal;
    while (!stop.aborted) {
      try {
        const { token, expirationTimestamp } = await this.fetch(a.name);
        if (stop.aborted) return;
        a.token = token;
        a.fetchedAt = this.clock.now();
        a.timer?.cancel();
        a.timer = this.clock.setTimer(tokenRefreshDelayMs(expirationTimestamp, this.clock.now(), this.leewayPercent), () => {
          a.timer = undefined;
          void this.renew(a);
        });
        return;
      } catch (err) {
        if (stop.aborted) return;
        this.log.warn({ err, serviceAccount: `${this.namespace}/${a.name}` }, "get token failed");
        if (!(await sleep(this.clock, backoff.next(), stop))) return;
      }
    }
  }

  private async fetch(name: string): Promise<{ token: string; expirationTimestamp: string }> {
    const stop = this.stopper.signal;
    await this.getOrCreateServiceAccount(name);
    const body: TokenRequest = { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: [], expirationSeconds: this.expirationSeconds } };
    const answer = await this.o.client.forKind("v1", "ServiceAccount").namespace(this.namespace).subresource<TokenRequest>("POST", name, "token", body, { signal: stop });
    const token = answer.status?.token;
    const expirationTimestamp = answer.status?.expirationTimestamp;
    if (!token || !expirationTimestamp) throw new Error(`TokenRequest for ${this.namespace}/${name} answered without status.token and status.expirationTimestamp`);
    return { token, expirationTimestamp };
  }

  /** As upstream: get, else create (the namespace too when it is missing), tolerating a racing creator. */
  private async getOrCreateServiceAccount(name: string): Promise<void> {
    const stop = this.stopper.signal;
    const accounts = this.o.client.forKind("v1", "ServiceAccount").namespace(this.namespace);
    try {
      await accounts.get(name, { signal: stop });
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const namespaces = this.o.client.forKind("v1", "Namespace");
    try {
      await namespaces.get(this.namespace, { signal: stop });
    } catch (err) {
      if (isNotFound(err)) {
        await namespaces.create({ metadata: { name: this.namespace } }, { signal: stop }).catch((e: unknown) => {
          if (!isAlreadyExists(e)) this.log.info({ err: e, namespace: this.namespace }, "create non-exist namespace");
        });
      }
    }
    const sa: ServiceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: { namespace: this.namespace, name } };
    try {
      await accounts.create(sa, { signal: stop });
      this.log.info({ serviceAccount: `${this.namespace}/${name}` }, "created the controller's service account");
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}
