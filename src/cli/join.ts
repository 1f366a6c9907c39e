// What a server publishes so that nodes can join it with a token (kubeadm's bootstrap-token
// phase): kube-public/cluster-info, a kubeconfig with the server's address and CA and no
// credentials, which the bootstrap signer signs with every signing token; and the server's
// default join token, kept in <data-dir>/node-token as k3s keeps its node token.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ConfigMap, Secret } from "kubernetes-types/core/v1.js";
import { stringify } from "yaml";
import {
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  CLUSTER_INFO_KUBECONFIG_KEY,
  CLUSTER_INFO_NAME,
  CLUSTER_INFO_NAMESPACE,
  DEFAULT_NODE_TOKEN_GROUP,
  bootstrapTokenSecretData,
  bootstrapTokenSecretName,
  generateBootstrapToken,
  parseBootstrapToken,
  type BootstrapTokenUsage,
  type TokenParts,
} from "../api/bootstraptoken.js";
import { isAlreadyExists, isConflict, isNotFound } from "../client/errors.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { kubeconfigCluster, parseKubeconfig, type Cluster } from "../util/kubeconfig.js";
import { CodedError } from "../util/errors.js";

export const NODE_TOKEN_FILE = "node-token";

export type JoinErrorCode = "InvalidNodeToken";

export class JoinError extends CodedError<JoinErrorCode> {
  override readonly name = "JoinError";
}
export const NODE_TOKEN_DESCRIPTION = "k8ts default node join token";

/**
 * cluster-info's kubeconfig as kubeadm writes it: one cluster named "" with the server and the
 * CA, no users, no contexts.
 */
export function clusterInfoKubeconfig(server: string, caPem: string): string {
  const config = {
    apiVersion: "v1",
    clusters: [{ cluster: { "certificate-authority-data": Buffer.from(caPem).toString("base64"), server }, name: "" }],
    contexts: null,
    "current-context": "",
    kind: "Config",
    preferences: {},
    users: null,
  };
  return stringify(config, { lineWidth: 0, indentSeq: false });
}

/** The server and CA (PEM) a cluster-info kubeconfig names, or undefined when it names none. */
export function clusterOfKubeconfig(text: string): { readonly server: string; readonly caPem: string } | undefined {
  let cluster: Cluster | undefined;
  try {
    cluster = kubeconfigCluster(parseKubeconfig(text, CLUSTER_INFO_NAME));
  } catch {
    return undefined;
  }
  if (typeof cluster?.server !== "string") return undefined;
  const ca = cluster["certificate-authority-data"];
  return { server: cluster.server, caPem: typeof ca === "string" ? Buffer.from(ca, "base64").toString("utf8") : "" };
}

/**
 * Makes kube-public/cluster-info name this server and CA: created when missing; when it names
 * another server or CA, its kubeconfig is replaced (the bootstrap signer then signs it anew) and
 * everything else in it kept. Returns what it did.
 */
export async function ensureClusterInfo(client: RestClient, o: { readonly server: string; readonly caPem: string }): Promise<"created" | "updated" | "unchanged"> {
  const configMaps = client.forKind("v1", "ConfigMap").namespace(CLUSTER_INFO_NAMESPACE);
  const kubeconfig = clusterInfoKubeconfig(o.server, o.caPem);
  // Another writer (the signer, a second server) may get in between: read again and retry.
  for (let attempt = 0; ; attempt++) {
    let current: ConfigMap | undefined;
    try {
      current = await configMaps.get(CLUSTER_INFO_NAME);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      if (!current) {
        await configMaps.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: CLUSTER_INFO_NAME, namespace: CLUSTER_INFO_NAMESPACE }, data: { [CLUSTER_INFO_KUBECONFIG_KEY]: kubeconfig } });
        return "created";
      }
      const named = clusterOfKubeconfig(current.data?.[CLUSTER_INFO_KUBECONFIG_KEY] ?? "");
      if (named && named.server === o.server && named.caPem === o.caPem) return "unchanged";
      await configMaps.update({ ...current, data: { ...current.data, [CLUSTER_INFO_KUBECONFIG_KEY]: kubeconfig } });
      return "updated";
    } catch (err) {
      if (attempt >= 4 || !(isAlreadyExists(err) || isConflict(err))) throw err;
    }
  }
}

/** A bootstrap token's Secret, ready to create. */
export function bootstrapTokenSecret(t: TokenParts & { readonly expiration?: Date; readonly description?: string; readonly usages: readonly BootstrapTokenUsage[]; readonly extraGroups: readonly string[] }): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: bootstrapTokenSecretName(t.id), namespace: BOOTSTRAP_TOKEN_NAMESPACE },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    stringData: bootstrapTokenSecretData(t),
  };
}

/**
 * The server's default join token: the one in <dataDir>/node-token, or a new one (never
 * expiring, for authentication and signing, in DEFAULT_NODE_TOKEN_GROUP) written there 0600.
 * Its Secret is made again when missing (a store that was reset), so the token the file hands
 * out keeps working.
 */
export async function ensureNodeToken(client: RestClient, dataDir: string): Promise<string> {
  const file = join(dataDir, NODE_TOKEN_FILE);
  let kept: TokenParts | undefined;
  try {
    const text = (await readFile(file, "utf8")).trim();
    kept = parseBootstrapToken(text);
    if (!kept) throw new JoinError("InvalidNodeToken", `${file} does not hold a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}: remove it to have a new one made`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const secrets = client.forKind("v1", "Secret").namespace(BOOTSTRAP_TOKEN_NAMESPACE);
  for (;;) {
    const token = kept ?? generateBootstrapToken();
    try {
      await secrets.create(bootstrapTokenSecret({ ...token, description: NODE_TOKEN_DESCRIPTION, usages: ["authentication", "signing"], extraGroups: [DEFAULT_NODE_TOKEN_GROUP] }));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // A new token whose id another token has: draw again.
      if (!kept) continue;
    }
    const text = `${token.id}.${token.secret}`;
    if (!kept) await writeFileAtomic(file, `${text}\n`, 0o600);
    return text;
  }
}

/**
 * Everything a server publishes for nodes to join, with the admin kubeconfig: cluster-info
 * naming `server` and the CA, and the default node token, which it returns.
 */
export async function publishJoinInfo(adminKubeconfig: string, o: { readonly server: string; readonly caPem: string; readonly dataDir: string }): Promise<string> {
  const client = await createClientFromKubeconfig(adminKubeconfig, { component: "server", name: "join-info", qps: Infinity });
  try {
    await ensureClusterInfo(client, { server: o.server, caPem: o.caPem });
    return await ensureNodeToken(client, o.dataDir);
  } finally {
    client.close();
  }
}
