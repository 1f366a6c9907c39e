// The ServiceAccount admission plugin (upstream plugin/pkg/admission/serviceaccount), mutating
// half: a pod being created runs as a ServiceAccount that exists (`default` when it names
// none), inherits its imagePullSecrets, and — unless the pod or the account opts out with
// automountServiceAccountToken: false — gets the projected `kube-api-access-<suffix>` volume
// (a bound token, the cluster CA from kube-root-ca.crt, its namespace) mounted read-only at
// /var/run/secrets/kubernetes.io/serviceaccount in every container and init container that
// has nothing mounted there yet: what in-cluster client configuration reads.
import type { NamespacePhase } from "../admission/namespacelifecycle.js";
import type { AdmissionPlugin } from "../admission/types.js";
import type { KubeObject } from "../registry/types.js";
import { MIRROR_POD_ANNOTATION } from "../resources/core/pod.js";
import { generateNameSuffix } from "../rest/meta.js";
import { forbidden } from "../status.js";
import type { ObjectLookup } from "./lookup.js";

export const SERVICE_ACCOUNT_PLUGIN = "ServiceAccount";
export const DEFAULT_SERVICE_ACCOUNT = "default";
export const TOKEN_VOLUME_PREFIX = "kube-api-access-";
export const TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";
/**
 * upstream's WarnOnlyBoundTokenExpirationSeconds: one hour and seven seconds, a value that
 * marks the tokens of this volume (upstream may extend them; we issue exactly what is asked).
 */
export const TOKEN_VOLUME_EXPIRATION_SECONDS = 3607;
/**
 * How long a pod create waits for the `default` ServiceAccount, which the serviceaccount
 * controller makes moments after its namespace appears (upstream retries for 1–2 s too).
 */
export const DEFAULT_SA_WAIT_MS = 2000;

export interface ServiceAccountAdmissionOptions {
  readonly serviceAccounts: ObjectLookup;
  /** A pod in a missing or terminating namespace is NamespaceLifecycle's to refuse, not ours. */
  readonly namespacePhase?: (namespace: string) => Promise<NamespacePhase | undefined>;
  readonly defaultWaitMs?: number;
  /** The volume name suffix (tests pin it). */
  readonly suffix?: () => string;
}

/** The projected volume source every mounted pod gets (upstream TokenVolumeSource). */
export function tokenVolumeSource(): Record<string, unknown> {
  return {
    // 0644, set explicitly as upstream does so that the stored pod is fully defaulted.
    defaultMode: 0o644,
    sources: [
      { serviceAccountToken: { expirationSeconds: TOKEN_VOLUME_EXPIRATION_SECONDS, path: "token" } },
      { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: "ca.crt", path: "ca.crt" }] } },
      { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
    ],
  };
}

type Json = Record<string, unknown>;

const objs = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x): x is Json => typeof x === "object" && x !== null && !Array.isArray(x)) : []);

export function serviceAccountAdmission(o: ServiceAccountAdmissionOptions): AdmissionPlugin {
  const waitMs = o.defaultWaitMs ?? DEFAULT_SA_WAIT_MS;
  const suffix = o.suffix ?? generateNameSuffix;
  return {
    name: SERVICE_ACCOUNT_PLUGIN,
    async admit(a) {
      if (a.resource.group !== "" || a.resource.plural !== "pods" || a.subresource !== "" || a.operation !== "CREATE") return;
      const pod = a.object;
      if (!pod || typeof pod["spec"] !== "object" || pod["spec"] === null) return;
      // Pods the kubelet mirrors from static manifests are left as they are.
      if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
      const spec = pod["spec"] as Json;
      if (typeof spec["serviceAccountName"] !== "string" || spec["serviceAccountName"] === "") spec["serviceAccountName"] = DEFAULT_SERVICE_ACCOUNT;
      const saName = spec["serviceAccountName"] as string;
      // v1's deprecated serviceAccount mirrors serviceAccountName (defaulting ran before us).
      spec["serviceAccount"] = saName;
      if (o.namespacePhase && (await o.namespacePhase(a.namespace)) !== "Active") return;
      let sa = await o.serviceAccounts.get(a.namespace, saName);
      if (!sa && saName === DEFAULT_SERVICE_ACCOUNT) sa = await o.serviceAccounts.waitFor(a.namespace, saName, waitMs);
      if (!sa) {
        throw forbidden(`pods "${a.name}" is forbidden: error looking up service account ${a.namespace}/${saName}: serviceaccount "${saName}" not found`, { group: "", resource: "pods" }, a.name);
      }
      const pullSecrets = objs(sa["imagePullSecrets"]);
      if (objs(spec["imagePullSecrets"]).length === 0 && pullSecrets.length > 0) spec["imagePullSecrets"] = pullSecrets.map((s) => ({ ...s }));
      if (shouldAutomount(sa, spec)) mountToken(spec, suffix);
    },
  };
}

function shouldAutomount(sa: Readonly<KubeObject>, spec: Json): boolean {
  if (typeof spec["automountServiceAccountToken"] === "boolean") return spec["automountServiceAccountToken"];
  if (typeof sa["automountServiceAccountToken"] === "boolean") return sa["automountServiceAccountToken"];
  return true;
}

/** Adds the mount to every (init) container without one at the token path, and the volume if any needed it. */
export function mountToken(spec: Json, suffix: () => string = generateNameSuffix): void {
  // A kube-api-access volume already present (a pod copied from another) is reused; so a
  // generated name, which has the same prefix, never collides with an existing volume.
  const existing = objs(spec["volumes"]).map((v) => v["name"]).find((n): n is string => typeof n === "string" && n.startsWith(TOKEN_VOLUME_PREFIX));
  const hasVolume = existing !== undefined;
  const volumeName = existing ?? TOKEN_VOLUME_PREFIX + suffix();
  let needed = false;
  for (const field of ["initContainers", "containers"]) {
    for (const c of objs(spec[field])) {
      const mounts = objs(c["volumeMounts"]);
      if (mounts.some((m) => m["mountPath"] === TOKEN_MOUNT_PATH)) continue;
      c["volumeMounts"] = [...(Array.isArray(c["volumeMounts"]) ? (c["volumeMounts"] as unknown[]) : []), { name: volumeName, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
      needed = true;
    }
  }
  if (needed && !hasVolume) spec["volumes"] = [...(Array.isArray(spec["volumes"]) ? (spec["volumes"] as unknown[]) : []), { name: volumeName, projected: tokenVolumeSource() }];
}
