// ServiceAccount tokens in the API server, in one place for server.ts to wire: the signing key,
// the bearer-token authenticator, the TokenRequest subresource, the ServiceAccount admission
// plugin, and the issuer discovery documents (/.well-known/openid-configuration and its JWKS).
import { exportJWK } from "jose";
import { apiServiceName, DEFAULT_CLUSTER_DOMAIN } from "../../api/dns.js";
import type { NamespacePhase } from "../admission/namespacelifecycle.js";
import type { AdmissionPlugin } from "../admission/types.js";
import type { Authenticator, TokenAuthenticator } from "../authn/types.js";
import { sendJSON, type HttpContext } from "../http.js";
import type { ResourceStore } from "../rest/store.js";
import { serviceAccountAdmission } from "./admission.js";
import { serviceAccountTokenAuthenticator } from "./authenticator.js";
import { signingKeyFromPem, type SigningKey } from "./jwt.js";
import { storeLookup, type ObjectLookup } from "./lookup.js";
import { serveTokenRequest, type TokenRequestDeps } from "./tokenrequest.js";

export { serviceAccountAdmission, mountToken, tokenVolumeSource, SERVICE_ACCOUNT_PLUGIN, TOKEN_MOUNT_PATH, TOKEN_VOLUME_PREFIX, ROOT_CA_CONFIGMAP, DEFAULT_SERVICE_ACCOUNT } from "./admission.js";
export { serviceAccountTokenAuthenticator, SERVICE_ACCOUNTS_GROUP } from "./authenticator.js";
export { issueToken, verifyToken, signingKeyFromPem, serviceAccountUsername, ServiceAccountTokenError, type SigningKey } from "./jwt.js";
export { storeLookup, type ObjectLookup } from "./lookup.js";
export { createToken, serveTokenRequest } from "./tokenrequest.js";

/** upstream's usual --service-account-issuer, which kubeadm and most distributions set. */
export const DEFAULT_SERVICE_ACCOUNT_ISSUER = `https://${apiServiceName(DEFAULT_CLUSTER_DOMAIN)}`;

export interface ServiceAccountsOptions {
  /** PEM private key tokens are signed with (the PKI's tls/sa.key). */
  readonly signingKeyPem: string;
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** The store of a core/v1 resource by plural, resolved per call. */
  readonly store: (plural: "serviceaccounts" | "pods" | "secrets") => ResourceStore | undefined;
  readonly namespacePhase?: (namespace: string) => Promise<NamespacePhase | undefined>;
  /** Admission of TokenRequests (see TokenRequestDeps.admit). */
  readonly admitTokenRequest?: TokenRequestDeps["admit"];
}

export class ServiceAccounts {
  readonly key: SigningKey;
  private readonly serviceAccounts: ObjectLookup;
  private readonly pods: ObjectLookup;
  private readonly secrets: ObjectLookup;

  constructor(private readonly o: ServiceAccountsOptions) {
    this.key = signingKeyFromPem(o.signingKeyPem);
    this.serviceAccounts = storeLookup(() => o.store("serviceaccounts"));
    this.pods = storeLookup(() => o.store("pods"));
    this.secrets = storeLookup(() => o.store("secrets"));
  }

  authenticator(): Authenticator & TokenAuthenticator {
    const { issuer, audiences } = this.o;
    return serviceAccountTokenAuthenticator({ issuer, audiences, keys: [this.key.publicKey], serviceAccounts: this.serviceAccounts, pods: this.pods, secrets: this.secrets });
  }

  admission(): AdmissionPlugin {
    return serviceAccountAdmission({ serviceAccounts: this.serviceAccounts, ...(this.o.namespacePhase ? { namespacePhase: this.o.namespacePhase } : {}) });
  }

  /** Serves serviceaccounts/token and the discovery documents; false for any other request. */
  async serve(ctx: HttpContext): Promise<boolean> {
    if (!ctx.info.isResourceRequest) return this.serveDiscovery(ctx);
    return serveTokenRequest(ctx, { key: this.key, issuer: this.o.issuer, audiences: this.o.audiences, serviceAccounts: this.serviceAccounts, pods: this.pods, secrets: this.secrets, ...(this.o.admitTokenRequest ? { admit: this.o.admitTokenRequest } : {}) });
  }

  /**
   * Service account issuer discovery (upstream's /.well-known/openid-configuration and
   * /openid/v1/jwks), so that relying parties can verify tokens with our public key.
   */
  private async serveDiscovery(ctx: HttpContext): Promise<boolean> {
    if (ctx.req.method !== "GET" && ctx.req.method !== "HEAD") return false;
    const path = ctx.url.pathname;
    if (path === "/.well-known/openid-configuration") {
      sendJSON(ctx, 200, {
        issuer: this.o.issuer,
        jwks_uri: `${this.o.issuer}/openid/v1/jwks`,
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: [this.key.alg],
      });
      return true;
    }
    if (path === "/openid/v1/jwks") {
      const jwk = await exportJWK(this.key.publicKey);
      sendJSON(ctx, 200, { keys: [{ use: "sig", kty: jwk.kty, kid: this.key.kid, alg: this.key.alg, ...jwk }] }, "application/jwk-set+json");
      return true;
    }
    return false;
  }
}
