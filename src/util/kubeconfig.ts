// kubeconfig files as kubectl reads and writes them (clientcmd's v1 Config), and the in-cluster
// configuration a pod gets from its ServiceAccount mount.
import { readFile, realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { isIP } from "node:net";
import { parse, stringify } from "yaml";
import { writeFileAtomic } from "./atomic-write.js";

export type KubeconfigErrorCode = "NotFound" | "Invalid" | "NotInCluster";

export class KubeconfigError extends Error {
  override readonly name = "KubeconfigError";
  constructor(readonly code: KubeconfigErrorCode, message: string, readonly path?: string) {
    super(message);
  }
}

// Field names are kubeconfig's own; kubectl writes keys in this (alphabetical) order.
export interface Cluster {
  "certificate-authority"?: string;
  "certificate-authority-data"?: string;
  "insecure-skip-tls-verify"?: boolean;
  "proxy-url"?: string;
  server: string;
  "tls-server-name"?: string;
  [extra: string]: unknown;
}

export interface AuthInfo {
  "client-certificate"?: string;
  "client-certificate-data"?: string;
  "client-key"?: string;
  "client-key-data"?: string;
  token?: string;
  tokenFile?: string;
  [extra: string]: unknown;
}

export interface Context {
  cluster: string;
  namespace?: string;
  user: string;
  [extra: string]: unknown;
}

export interface NamedCluster { cluster: Cluster; name: string }
export interface NamedAuthInfo { name: string; user: AuthInfo }
export interface NamedContext { context: Context; name: string }

export interface Kubeconfig {
  apiVersion: "v1";
  clusters: NamedCluster[];
  contexts: NamedContext[];
  "current-context": string;
  kind: "Config";
  preferences: Record<string, unknown>;
  users: NamedAuthInfo[];
  [extra: string]: unknown;
}

/** What a client needs to reach one API server as one user: a kubeconfig context, resolved. */
export interface ClientConfig {
  readonly server: string;
  readonly caPem?: string;
  readonly certPem?: string;
  readonly keyPem?: string;
  readonly token?: string;
  /** where `token` came from: re-read periodically (projected service account tokens rotate) */
  readonly tokenFile?: string;
  readonly insecureSkipTLSVerify: boolean;
  readonly tlsServerName?: string;
  readonly namespace: string;
  readonly contextName?: string;
}

export interface BuildKubeconfigOptions {
  readonly clusterName: string;
  readonly server: string;
  readonly caPem: string;
  readonly userName: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  readonly contextName: string;
  readonly namespace?: string;
}

const b64 = (pem: string): string => Buffer.from(pem, "utf8").toString("base64");

/** One cluster, one user, one context, credentials embedded as the `-data` fields. */
export function buildKubeconfig(o: BuildKubeconfigOptions): Kubeconfig {
  return {
    apiVersion: "v1",
    clusters: [{ cluster: { "certificate-authority-data": b64(o.caPem), server: o.server }, name: o.clusterName }],
    contexts: [{ context: { cluster: o.clusterName, ...(o.namespace ? { namespace: o.namespace } : {}), user: o.userName }, name: o.contextName }],
    "current-context": o.contextName,
    kind: "Config",
    preferences: {},
    users: [{ name: o.userName, user: { "client-certificate-data": b64(o.clientCertPem), "client-key-data": b64(o.clientKeyPem) } }],
  };
}

export function serializeKubeconfig(config: Kubeconfig): string {
  // As kubectl writes it (go-yaml): base64 blobs on one line, list items not indented.
  return stringify(config, { lineWidth: 0, indentSeq: false });
}

export async function writeKubeconfig(path: string, config: Kubeconfig): Promise<void> {
  await writeFileAtomic(path, serializeKubeconfig(config), 0o600);
}

/** The cluster a kubeconfig is for: its current context's, else its first (kubeadm's GetClusterFromKubeConfig; cluster-info names one cluster and no context). */
export function kubeconfigCluster(config: Kubeconfig): Cluster | undefined {
  const current = config.contexts.find((c) => c.name === config["current-context"])?.context.cluster;
  return (current !== undefined ? config.clusters.find((c) => c.name === current) : undefined)?.cluster ?? config.clusters[0]?.cluster;
}

export function parseKubeconfig(text: string, source = "kubeconfig"): Kubeconfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new KubeconfigError("Invalid", `${source}: ${(err as Error).message}`, source);
  }
  // kubectl treats an empty file as an empty config.
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new KubeconfigError("Invalid", `${source}: not a mapping`, source);
  const raw = doc as Record<string, unknown>;
  const list = <T>(key: string, inner: string): T[] => {
    const v = raw[key] ?? [];
    if (!Array.isArray(v)) throw new KubeconfigError("Invalid", `${source}: ${key} is not a list`, source);
    for (const [i, item] of v.entries()) {
      const entry = item as Record<string, unknown> | null;
      if (typeof entry?.["name"] !== "string" || typeof entry[inner] !== "object" || entry[inner] === null) {
        throw new KubeconfigError("Invalid", `${source}: ${key}[${i}] needs a name and a ${inner}`, source);
      }
    }
    return v as T[];
  };
  return {
    ...raw,
    apiVersion: "v1",
    kind: "Config",
    preferences: (raw["preferences"] as Record<string, unknown> | undefined) ?? {},
    clusters: list<NamedCluster>("clusters", "cluster"),
    contexts: list<NamedContext>("contexts", "context"),
    users: list<NamedAuthInfo>("users", "user"),
    "current-context": typeof raw["current-context"] === "string" ? raw["current-context"] : "",
  };
}

export async function readKubeconfig(path: string): Promise<Kubeconfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new KubeconfigError("NotFound", `kubeconfig ${path} does not exist`, path);
    throw err;
  }
  return parseKubeconfig(text, path);
}

/**
 * Reads `path` and resolves one context (the current one unless `context` is given) into a
 * ClientConfig. As in client-go, a `-data` field wins over its file twin, and relative file
 * paths are relative to the kubeconfig's directory.
 */
export async function loadKubeconfig(path: string, opts: { context?: string } = {}): Promise<ClientConfig> {
  const config = await readKubeconfig(path);
  const contextName = opts.context ?? config["current-context"];
  if (!contextName) throw new KubeconfigError("NotFound", `${path}: no current-context and no context given`, path);
  const context = config.contexts.find((c) => c.name === contextName)?.context;
  if (!context) throw new KubeconfigError("NotFound", `${path}: context "${contextName}" not found`, path);
  const cluster = config.clusters.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) throw new KubeconfigError("NotFound", `${path}: cluster "${context.cluster}" of context "${contextName}" not found`, path);
  if (typeof cluster.server !== "string" || cluster.server === "") {
    throw new KubeconfigError("Invalid", `${path}: cluster "${context.cluster}" has no server`, path);
  }
  // A context may name a user that does not exist; kubectl then connects with no credentials.
  const user: AuthInfo = config.users.find((u) => u.name === context.user)?.user ?? {};

  const base = dirname(resolve(path));
  const pick = async (data: string | undefined, file: string | undefined, field: string): Promise<string | undefined> => {
    if (data) return Buffer.from(data, "base64").toString("utf8");
    if (!file) return undefined;
    const full = isAbsolute(file) ? file : join(base, file);
    try {
      return await readFile(full, "utf8");
    } catch (err) {
      throw new KubeconfigError("NotFound", `${path}: ${field} ${full}: ${(err as Error).message}`, full);
    }
  };
  const caPem = await pick(cluster["certificate-authority-data"], cluster["certificate-authority"], "certificate-authority");
  const insecure = cluster["insecure-skip-tls-verify"] === true;
  if (insecure && caPem !== undefined) {
    throw new KubeconfigError("Invalid", `${path}: specifying a root certificates file with the insecure flag is not allowed`, path);
  }
  const certPem = await pick(user["client-certificate-data"], user["client-certificate"], "client-certificate");
  const keyPem = await pick(user["client-key-data"], user["client-key"], "client-key");
  const token = user.token || (await pick(undefined, user.tokenFile, "tokenFile"))?.trim();

  return {
    server: cluster.server,
    insecureSkipTLSVerify: insecure,
    namespace: context.namespace || "default",
    contextName,
    ...(caPem !== undefined ? { caPem } : {}),
    ...(certPem !== undefined ? { certPem } : {}),
    ...(keyPem !== undefined ? { keyPem } : {}),
    ...(token ? { token } : {}),
    ...(cluster["tls-server-name"] ? { tlsServerName: cluster["tls-server-name"] } : {}),
  };
}

export interface MergeOptions {
  /** The context of `config` to merge; with its cluster and user. */
  readonly contextName: string;
  /** Make it the target's current-context. */
  readonly setCurrent: boolean;
}

/**
 * Adds or replaces, by name, one context and the cluster and user it names in the kubeconfig
 * at `targetPath` (created if missing), leaving every other entry as it was. The file is
 * replaced atomically and left 0600: it holds credentials.
 */
export async function mergeIntoKubeconfig(targetPath: string, config: Kubeconfig, opts: MergeOptions): Promise<void> {
  const context = config.contexts.find((c) => c.name === opts.contextName);
  if (!context) throw new KubeconfigError("NotFound", `context "${opts.contextName}" is not in the config to merge`);
  const cluster = config.clusters.find((c) => c.name === context.context.cluster);
  const user = config.users.find((u) => u.name === context.context.user);
  if (!cluster || !user) throw new KubeconfigError("NotFound", `context "${opts.contextName}" names a cluster or user the config to merge lacks`);

  // Write through a symlinked ~/.kube/config rather than replacing the link.
  const target = await realpath(targetPath).catch(() => targetPath);
  let existing: Kubeconfig;
  try {
    existing = await readKubeconfig(target);
  } catch (err) {
    if (!(err instanceof KubeconfigError && err.code === "NotFound")) throw err;
    existing = parseKubeconfig("");
  }
  const upsert = <T extends { name: string }>(list: T[], entry: T): T[] => {
    const i = list.findIndex((e) => e.name === entry.name);
    return i < 0 ? [...list, entry] : list.map((e, j) => (j === i ? entry : e));
  };
  const merged: Kubeconfig = {
    ...existing,
    clusters: upsert(existing.clusters, cluster),
    contexts: upsert(existing.contexts, context),
    users: upsert(existing.users, user),
    "current-context": opts.setCurrent ? context.name : existing["current-context"],
  };
  await writeFileAtomic(target, serializeKubeconfig(merged), 0o600);
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * The configuration of a process running in a pod: the `kubernetes` Service from the
 * environment the kubelet sets, and the ServiceAccount token, CA and namespace it mounts.
 * The token is read once; callers that run for long should call again when it rotates.
 */
export async function inClusterConfig(opts: { env?: NodeJS.ProcessEnv; dir?: string } = {}): Promise<ClientConfig> {
  const env = opts.env ?? process.env;
  const dir = opts.dir ?? SERVICE_ACCOUNT_DIR;
  const host = env["KUBERNETES_SERVICE_HOST"];
  const port = env["KUBERNETES_SERVICE_PORT"];
  if (!host || !port) {
    throw new KubeconfigError("NotInCluster", "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
  }
  const read = async (name: string): Promise<string> => {
    try {
      return await readFile(join(dir, name), "utf8");
    } catch (err) {
      throw new KubeconfigError("NotInCluster", `in-cluster ${name}: ${(err as Error).message}`, join(dir, name));
    }
  };
  const token = (await read("token")).trim();
  const caPem = await read("ca.crt");
  const namespace = (await read("namespace").catch(() => "default")).trim() || "default";
  return {
    server: `https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`,
    caPem,
    token,
    tokenFile: join(dir, "token"),
    namespace,
    insecureSkipTLSVerify: false,
  };
}
