// `k8ts token create|list|delete|generate`: kubeadm's token subcommands (their flags, output and
// error messages) against the cluster of --kubeconfig (default <data-dir>/admin.kubeconfig).
// The actions are plain functions over a client, so they are tested without argv.
import { join } from "node:path";
import { Command } from "commander";
import type { ConfigMap, Secret } from "kubernetes-types/core/v1.js";
import {
  BOOTSTRAP_GROUP_PATTERN,
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  BOOTSTRAP_TOKEN_USAGES,
  CLUSTER_INFO_KUBECONFIG_KEY,
  CLUSTER_INFO_NAME,
  CLUSTER_INFO_NAMESPACE,
  DEFAULT_NODE_TOKEN_GROUP,
  bootstrapTokenData,
  bootstrapTokenFromSecret,
  bootstrapTokenSecretName,
  caCertHash,
  generateBootstrapToken,
  isValidTokenId,
  parseBootstrapToken,
  type BootstrapTokenUsage,
  type TokenParts,
} from "../api/bootstraptoken.js";
import { parseGoDuration } from "../api/cron.js";
import { isAlreadyExists } from "../client/errors.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { CodedError } from "../util/errors.js";
import { defaultDataDir } from "./defaults.js";
import { bootstrapTokenSecret, clusterOfKubeconfig } from "./join.js";

export type TokenErrorCode = "InvalidArgument" | "AlreadyExists" | "DeleteFailed" | "NoCA";

export class TokenError extends CodedError<TokenErrorCode> {
  override readonly name = "TokenError";
}

// cluster-bootstrap's patterns, as kubeadm quotes them in its messages.
const TOKEN_PATTERN = "\\A([a-z0-9]{6})\\.([a-z0-9]{16})\\z";
const TOKEN_ID_PATTERN = "\\A([a-z0-9]{6})\\z";
const GROUP_PATTERN = "\\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z";
/** kubeadm's order (KnownTokenUsages), used in its messages and defaults. */
const KNOWN_USAGES = ["signing", "authentication"] as const;

export const DEFAULT_TTL = "24h0m0s";

/** Go's %q of a plain string. */
const q = (s: string): string => JSON.stringify(s);

export const defaultKubeconfig = (): string => join(defaultDataDir(), "admin.kubeconfig");

export interface TokenCreateFlags {
  readonly ttl?: string;
  readonly description?: string;
  readonly usages?: readonly string[];
  readonly groups?: readonly string[];
}

export interface TokenSpec extends TokenParts {
  /** 0: never expires. */
  readonly ttlMs: number;
  readonly description?: string;
  readonly usages: readonly BootstrapTokenUsage[];
  readonly extraGroups: readonly string[];
}

/** The flags of `token create [TOKEN]`, checked as kubeadm checks them. */
export function compileTokenCreate(tokenArg: string | undefined, f: TokenCreateFlags): TokenSpec {
  const bad = (msg: string): never => {
    throw new TokenError("InvalidArgument", msg);
  };
  let parts: TokenParts;
  if (tokenArg !== undefined && tokenArg !== "") {
    parts = parseBootstrapToken(tokenArg) ?? bad(`the bootstrap token ${q(tokenArg)} was not of the form ${q(TOKEN_PATTERN)}`);
  } else {
    parts = generateBootstrapToken();
  }
  const ttlText = f.ttl ?? DEFAULT_TTL;
  let ttlMs = 0;
  try {
    ttlMs = parseGoDuration(ttlText);
  } catch (err) {
    bad(`invalid argument ${q(ttlText)} for "--ttl" flag: ${(err as Error).message}`);
  }
  if (ttlMs < 0) bad(`invalid argument ${q(ttlText)} for "--ttl" flag: the duration must not be negative (0 means the token never expires)`);
  const usages = splitList(f.usages ?? KNOWN_USAGES);
  const unknown = [...new Set(usages.filter((u) => !(BOOTSTRAP_TOKEN_USAGES as readonly string[]).includes(u)))].sort();
  if (unknown.length > 0) bad(`invalid bootstrap token usage string: ${unknown.join(",")}, valid usage options: ${KNOWN_USAGES.join(",")}`);
  const groups = splitList(f.groups ?? [DEFAULT_NODE_TOKEN_GROUP]);
  if (groups.length > 0 && !usages.includes("authentication")) bad(`token groups cannot be specified unless --usages includes "authentication"`);
  for (const g of groups) if (!BOOTSTRAP_GROUP_PATTERN.test(g)) bad(`bootstrap group ${q(g)} is invalid (must match ${GROUP_PATTERN})`);
  return {
    ...parts,
    ttlMs,
    ...(f.description ? { description: f.description } : {}),
    usages: BOOTSTRAP_TOKEN_USAGES.filter((u) => usages.includes(u)),
    extraGroups: [...new Set(groups)],
  };
}

/** pflag's string slices: repeated flags and comma-separated values; empty items dropped. */
function splitList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
}

/** Creates the token's Secret; returns the token. A token whose id is taken is refused, as kubeadm. */
export async function createToken(client: RestClient, spec: TokenSpec, now: Date = new Date()): Promise<string> {
  const secret = bootstrapTokenSecret({ ...spec, ...(spec.ttlMs > 0 ? { expiration: new Date(now.getTime() + spec.ttlMs) } : {}) });
  try {
    await client.forKind("v1", "Secret").namespace(BOOTSTRAP_TOKEN_NAMESPACE).create(secret);
  } catch (err) {
    if (isAlreadyExists(err)) throw new TokenError("AlreadyExists", `a token with id ${q(spec.id)} already exists`);
    throw err;
  }
  return `${spec.id}.${spec.secret}`;
}

/**
 * What a node runs to join with this token: the server cluster-info names (the address the server
 * advertises to other machines; the admin kubeconfig's is often loopback), else the kubeconfig's,
 * and the sha256 of the kubeconfig's CA.
 */
export async function joinCommand(client: RestClient, token: string): Promise<string> {
  const ca = client.config.caPem;
  if (!ca) throw new TokenError("NoCA", "the kubeconfig names no certificate authority for its cluster: cannot compute --discovery-token-ca-cert-hash");
  const info = await client
    .forKind("v1", "ConfigMap")
    .namespace(CLUSTER_INFO_NAMESPACE)
    .get(CLUSTER_INFO_NAME)
    .catch(() => undefined);
  const text = (info as ConfigMap | undefined)?.data?.[CLUSTER_INFO_KUBECONFIG_KEY];
  const server = (text ? clusterOfKubeconfig(text)?.server : undefined) ?? client.config.server;
  return `k8ts agent --server ${server} --token ${token} --discovery-token-ca-cert-hash ${caCertHash(ca)}`;
}

/** apimachinery's ShortHumanDuration. */
export function shortHumanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(ms / 3_600_000);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/**
 * Go's text/tabwriter as kubeadm sets it up (minwidth 10, padding 3, spaces): the cells before
 * each tab are aligned in columns as wide as the widest cell plus the padding; the text after a
 * line's last tab is not a cell.
 */
export function tabwrite(lines: readonly string[]): string {
  const rows = lines.map((l) => l.split("\t"));
  const widths: number[] = [];
  for (const r of rows) r.slice(0, -1).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length + 3, 10)));
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join("") + "\n").join("");
}

const TABLE_HEADER = ["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS"].join("\t");

/**
 * `kubeadm token list`'s text: each token's line padded as kubeadm pads it and set by a tabwriter
 * of its own (the header shares the first's), so columns line up as long as no cell outgrows its
 * padding. Secrets that are not valid tokens are reported in `errors`.
 */
export function formatTokenList(secrets: readonly Secret[], now: Date): { readonly text: string; readonly errors: readonly string[] } {
  let text = "";
  const errors: string[] = [];
  for (const s of secrets) {
    const t = bootstrapTokenFromSecret(s);
    if ("invalid" in t) {
      errors.push(`bootstrap token Secret ${s.metadata?.name ?? ""} is invalid: ${t.invalid}`);
      continue;
    }
    const ttl = t.expiration ? shortHumanDuration(t.expiration.getTime() - now.getTime()) : "<forever>";
    const expires = t.expiration ? bootstrapTokenData(s)["expiration"] ?? "" : "<never>";
    const line = [
      `${t.id}.${t.secret}`,
      ttl.padEnd(9),
      expires,
      (t.usages.join(",") || "<none>").padEnd(22),
      (t.description || "<none>").padEnd(56),
      t.extraGroups.join(",") || "<none>",
    ].join("\t");
    text += tabwrite(text === "" ? [TABLE_HEADER, line] : [line]);
  }
  return { text, errors };
}

export async function listTokens(client: RestClient, now: Date = new Date()): Promise<{ readonly text: string; readonly errors: readonly string[] }> {
  const list = await client.forKind("v1", "Secret").namespace(BOOTSTRAP_TOKEN_NAMESPACE).list({ fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` });
  return formatTokenList(list.items, now);
}

/** The ids of `token delete`'s arguments (token ids or whole tokens), checked before anything is deleted. */
export function tokenIdsOf(idsOrTokens: readonly string[]): string[] {
  if (idsOrTokens.length === 0) throw new TokenError("InvalidArgument", `missing argument; 'token delete' is missing token of form ${q(TOKEN_PATTERN)} or ${q(TOKEN_ID_PATTERN)}`);
  return idsOrTokens.map((arg) => {
    const id = isValidTokenId(arg) ? arg : parseBootstrapToken(arg)?.id;
    if (!id) throw new TokenError("InvalidArgument", `given token didn't match pattern ${q(TOKEN_PATTERN)} or ${q(TOKEN_ID_PATTERN)}`);
    return id;
  });
}

/** Deletes each token; calls `out` with the line kubeadm prints for each. */
export async function deleteTokens(client: RestClient, ids: readonly string[], out: (line: string) => void): Promise<void> {
  const secrets = client.forKind("v1", "Secret").namespace(BOOTSTRAP_TOKEN_NAMESPACE);
  for (const id of ids) {
    try {
      await secrets.delete(bootstrapTokenSecretName(id));
    } catch (err) {
      throw new TokenError("DeleteFailed", `failed to delete bootstrap token ${q(id)}: ${(err as Error).message}`, { cause: err });
    }
    out(`bootstrap token ${q(id)} deleted`);
  }
}

async function withClient<T>(kubeconfig: string | undefined, fn: (client: RestClient) => Promise<T>): Promise<T> {
  const client = await createClientFromKubeconfig(kubeconfig ?? defaultKubeconfig(), { component: "token", qps: Infinity });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

export function registerTokenCommands(program: Command): void {
  const token = program
    .command("token")
    .description("manage bootstrap tokens, which nodes join the cluster with")
    .option("--kubeconfig <file>", `the kubeconfig to talk to the cluster with (default ${defaultKubeconfig()})`);
  const kubeconfigOf = (cmd: Command): string | undefined => (cmd.parent?.opts() as { kubeconfig?: string }).kubeconfig;

  token
    .command("create")
    .description("create a bootstrap token on the server and print it")
    .argument("[token]", 'the token to create, of the form "[a-z0-9]{6}.[a-z0-9]{16}"; a random one when not given')
    .option("--ttl <duration>", "the duration before the token is automatically deleted (e.g. 1s, 2m, 3h); 0: it never expires", DEFAULT_TTL)
    .option("--description <text>", "a human friendly description of how this token is used")
    .option("--usages <list>", `the ways in which this token can be used; repeat or comma-separate (valid: ${KNOWN_USAGES.join(",")}; default ${KNOWN_USAGES.join(",")})`, collect)
    .option("--groups <list>", `extra groups this token authenticates as; must match ${GROUP_PATTERN} (default ${DEFAULT_NODE_TOKEN_GROUP})`, collect)
    .option("--print-join-command", "print the full `k8ts agent` command that joins a node with the token, instead of only the token")
    .action(async (tokenArg: string | undefined, f: TokenCreateFlags & { printJoinCommand?: boolean }, cmd: Command) => {
      const spec = compileTokenCreate(tokenArg, f);
      await withClient(kubeconfigOf(cmd), async (client) => {
        const created = await createToken(client, spec);
        process.stdout.write(`${f.printJoinCommand ? await joinCommand(client, created) : created}\n`);
      });
    });

  token
    .command("list")
    .description("list the bootstrap tokens on the server")
    .action(async (_f: unknown, cmd: Command) => {
      const { text, errors } = await withClient(kubeconfigOf(cmd), (client) => listTokens(client));
      for (const e of errors) process.stderr.write(`${e}\n`);
      process.stdout.write(text);
    });

  token
    .command("delete")
    .description('delete bootstrap tokens on the server, given as whole tokens or token ids ("[a-z0-9]{6}")')
    .argument("[token...]", "tokens or token ids")
    .action(async (args: string[], _f: unknown, cmd: Command) => {
      const ids = tokenIdsOf(args);
      await withClient(kubeconfigOf(cmd), (client) => deleteTokens(client, ids, (line) => process.stdout.write(`${line}\n`)));
    });

  token
    .command("generate")
    .description("print a random bootstrap token without creating it on the server")
    .action(() => {
      process.stdout.write(`${generateBootstrapToken().token}\n`);
    });
}
