// A container's environment as upstream's kubelet builds it (makeEnvironmentVariables):
// envFrom sources first, then env in order (each value expanded against what is defined so
// far), then the service link variables of the pod's namespace for names not already set.
// Command, args and subPathExpr are expanded against the result. Errors are the
// CreateContainerConfigError messages users see in `kubectl describe`.
import type { Container, EnvVar, ObjectFieldSelector, Pod, ResourceFieldSelector, Service } from "kubernetes-types/core/v1.js";
import type { ObjectSource } from "../types.js";
import { containerResourceValue, DownwardApiError, fieldRefValue as metadataFieldValue, type NodeAllocatable } from "../volumes/downward.js";
import { podContainer } from "../../api/containers.js";

/** A container config problem: the container is not created (waiting reason CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  override readonly name = "ContainerConfigError";
  readonly reason = "CreateContainerConfigError";
}

// ---- $(VAR) expansion (upstream third_party/forked/golang/expansion) ----

/**
 * Replaces `$(NAME)` with `lookup(NAME)`; an undefined name stays `$(NAME)` verbatim, `$$`
 * is an escaped `$`, and a `$` followed by anything else (or an unterminated `$(`) is kept.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = "";
  let checkpoint = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== "$" || i + 1 >= input.length) continue;
    out += input.slice(checkpoint, i);
    const next = input[i + 1];
    if (next === "$") {
      out += "$";
      i += 1;
    } else if (next === "(") {
      const close = input.indexOf(")", i + 2);
      if (close < 0) {
        out += "$(";
        i += 1;
      } else {
        const name = input.slice(i + 2, close);
        out += lookup(name) ?? `$(${name})`;
        i = close;
      }
    } else {
      out += `$${next}`;
      i += 1;
    }
    checkpoint = i + 1;
  }
  return out + input.slice(checkpoint);
}

// ---- service links (upstream pkg/kubelet/envvars) ----

function envName(serviceName: string): string {
  return serviceName.toUpperCase().replace(/-/g, "_");
}

function isServiceIPSet(s: Service): boolean {
  const ip = s.spec?.clusterIP;
  return ip !== undefined && ip !== "" && ip !== "None";
}

/** The docker-links style variables of one service (FOO_SERVICE_HOST, FOO_PORT_80_TCP_ADDR, ...). */
export function serviceEnv(s: Service): EnvVar[] {
  const out: EnvVar[] = [];
  if (!isServiceIPSet(s)) return out;
  const name = envName(s.metadata?.name ?? "");
  const ip = s.spec?.clusterIP ?? "";
  const ports = s.spec?.ports ?? [];
  out.push({ name: `${name}_SERVICE_HOST`, value: ip });
  const first = ports[0];
  if (first) out.push({ name: `${name}_SERVICE_PORT`, value: String(first.port) });
  for (const p of ports) if (p.name) out.push({ name: `${name}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
  const host = ip.includes(":") ? `[${ip}]` : ip;
  ports.forEach((p, i) => {
    const proto = p.protocol ?? "TCP";
    const url = `${proto.toLowerCase()}://${host}:${p.port}`;
    if (i === 0) out.push({ name: `${name}_PORT`, value: url });
    const prefix = `${name}_PORT_${p.port}_${proto.toUpperCase()}`;
    out.push({ name: prefix, value: url }, { name: `${prefix}_PROTO`, value: proto.toLowerCase() }, { name: `${prefix}_PORT`, value: String(p.port) }, { name: `${prefix}_ADDR`, value: ip });
  });
  return out;
}

const MASTER_SERVICE_NAMESPACE = "default";
const MASTER_SERVICES = new Set(["kubernetes"]);

/**
 * Service variables for a pod: those of every service with a cluster IP in its namespace when
 * enableServiceLinks (default true), and always the `kubernetes` service of `default`.
 */
export async function serviceEnvFor(pod: Pod, objects: ObjectSource): Promise<EnvVar[]> {
  const ns = pod.metadata?.namespace ?? "default";
  const links = pod.spec?.enableServiceLinks !== false;
  const byName = new Map<string, Service>();
  const master = await objects.services(MASTER_SERVICE_NAMESPACE);
  const own = links && ns !== MASTER_SERVICE_NAMESPACE ? await objects.services(ns) : [];
  for (const s of master) {
    if (!isServiceIPSet(s)) continue;
    const n = s.metadata?.name ?? "";
    if (MASTER_SERVICES.has(n) && !byName.has(n)) byName.set(n, s);
    else if (ns === MASTER_SERVICE_NAMESPACE && links) byName.set(n, s);
  }
  for (const s of own) if (isServiceIPSet(s)) byName.set(s.metadata?.name ?? "", s);
  const out: EnvVar[] = [];
  for (const name of [...byName.keys()].sort()) out.push(...serviceEnv(byName.get(name)!));
  return out;
}

// ---- downward API values ----

export interface PodRuntimeFacts {
  readonly podIPs: readonly string[];
  readonly hostIPs: readonly string[];
}

/**
 * The value of a fieldRef as env (upstream podFieldSelectorRuntimeValue): the pod's metadata
 * as a downwardAPI volume renders it, plus the spec and status fields only env may use.
 */
export function fieldRefValue(pod: Pod, ref: ObjectFieldSelector, facts: PodRuntimeFacts): string {
  switch (ref.fieldPath) {
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.hostIP":
      return facts.hostIPs[0] ?? "";
    case "status.hostIPs":
      return facts.hostIPs.join(",");
    case "status.podIP":
      return facts.podIPs[0] ?? "";
    case "status.podIPs":
      return facts.podIPs.join(",");
  }
  return downward(() => metadataFieldValue(pod, ref));
}

/** A resourceFieldRef value (see volumes/downward.ts); the container defaults to the one being configured. */
export function resourceFieldValue(pod: Pod, container: Container, ref: ResourceFieldSelector, node: NodeAllocatable): string {
  const target = ref.containerName ? (podContainer(pod.spec, ref.containerName) ?? container) : container;
  return downward(() => containerResourceValue(target, ref, node));
}

function downward(value: () => string): string {
  try {
    return value();
  } catch (err) {
    if (err instanceof DownwardApiError) throw new ContainerConfigError(err.message);
    throw err;
  }
}

// ---- the whole environment ----

export interface EnvContext {
  readonly objects: ObjectSource;
  readonly facts: PodRuntimeFacts;
  readonly node: NodeAllocatable;
  /** called with names envFrom skipped for not being valid variable names */
  readonly onInvalidNames?: (names: string[]) => void;
}

// Upstream accepts any printable ASCII but "=" as an env var name (RelaxedEnvironmentVariableValidation is on by default since 1.32).
const VALID_ENV_NAME = /^[\x20-\x3c\x3e-\x7e]+$/;

/** Resolves env/envFrom of a container; throws ContainerConfigError with upstream's message. */
export async function containerEnv(pod: Pod, container: Container, ctx: EnvContext): Promise<EnvVar[]> {
  const ns = pod.metadata?.namespace ?? "default";
  const env = new Map<string, string>();
  const configMaps = new Map<string, Awaited<ReturnType<ObjectSource["configMap"]>>>();
  const secrets = new Map<string, Awaited<ReturnType<ObjectSource["secret"]>>>();
  const configMap = async (name: string) => {
    if (!configMaps.has(name)) configMaps.set(name, await ctx.objects.configMap(ns, name));
    return configMaps.get(name);
  };
  const secret = async (name: string) => {
    if (!secrets.has(name)) secrets.set(name, await ctx.objects.secret(ns, name));
    return secrets.get(name);
  };
  const invalid: string[] = [];

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    let data: Record<string, string> | undefined;
    if (from.configMapRef) {
      const name = from.configMapRef.name ?? "";
      const cm = await configMap(name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      data = cm.data ?? {};
    } else if (from.secretRef) {
      const name = from.secretRef.name ?? "";
      const s = await secret(name);
      if (!s) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
    }
    for (const k of Object.keys(data ?? {}).sort()) {
      const name = prefix + k;
      if (!VALID_ENV_NAME.test(name)) {
        invalid.push(k);
        continue;
      }
      env.set(name, data![k] ?? "");
    }
  }
  if (invalid.length) ctx.onInvalidNames?.(invalid);

  const services = await serviceEnvFor(pod, ctx.objects);
  const serviceMap = new Map(services.map((e) => [e.name, e.value ?? ""]));
  const lookup = (name: string): string | undefined => env.get(name) ?? serviceMap.get(name);

  for (const e of container.env ?? []) {
    let value: string | undefined;
    const from = e.valueFrom;
    if (!from) {
      value = expand(e.value ?? "", lookup);
    } else if (from.fieldRef) {
      value = fieldRefValue(pod, from.fieldRef, ctx.facts);
    } else if (from.resourceFieldRef) {
      value = resourceFieldValue(pod, container, from.resourceFieldRef, ctx.node);
    } else if (from.configMapKeyRef) {
      const { name = "", key, optional } = from.configMapKeyRef;
      const cm = await configMap(name);
      if (!cm) {
        if (optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      value = cm.data?.[key];
      if (value === undefined) {
        if (optional) continue;
        throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
      }
    } else if (from.secretKeyRef) {
      const { name = "", key, optional } = from.secretKeyRef;
      const s = await secret(name);
      if (!s) {
        if (optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      const raw = s.data?.[key];
      if (raw === undefined) {
        if (optional) continue;
        throw new ContainerConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
      }
      value = Buffer.from(raw, "base64").toString("utf8");
    }
    env.set(e.name, value ?? "");
  }

  for (const [name, value] of serviceMap) if (!env.has(name)) env.set(name, value);
  return [...env].map(([name, value]) => ({ name, value }));
}

/** Command and args with $(VAR) expanded against the container's environment. */
export function expandCommand(container: Container, env: readonly EnvVar[]): { command: string[]; args: string[] } {
  const map = new Map(env.map((e) => [e.name, e.value ?? ""]));
  const lookup = (n: string): string | undefined => map.get(n);
  return { command: (container.command ?? []).map((c) => expand(c, lookup)), args: (container.args ?? []).map((a) => expand(a, lookup)) };
}
