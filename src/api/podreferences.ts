// What a pod or a PersistentVolume refers to, as upstream's podutil.VisitPodSecretNames,
// VisitPodConfigmapNames and pvutil.VisitPVSecretNames see it: the objects a kubelet must read
// to run the pod: what the kubelet watches, what the Node authorizer lets the pod's node read,
// and what the NodeRestriction admission plugin forbids in a mirror pod.
import type { Container, EnvFromSource, EnvVar, Pod, Volume } from "kubernetes-types/core/v1.js";
import type { PersistentVolume } from "kubernetes-types/core/v1.js";

type AnyContainer = Pick<Container, "env" | "envFrom">;

function containersOf(pod: Readonly<Pod>): AnyContainer[] {
  const s = pod.spec;
  return [...(s?.initContainers ?? []), ...(s?.containers ?? []), ...((s?.ephemeralContainers ?? []) as AnyContainer[])];
}

const envFrom = (c: AnyContainer): readonly EnvFromSource[] => c.envFrom ?? [];
const env = (c: AnyContainer): readonly EnvVar[] => c.env ?? [];

function add(out: string[], name: string | undefined): void {
  if (name && !out.includes(name)) out.push(name);
}

/** Names of the Secrets (in the pod's namespace) the pod refers to. */
export function podSecretNames(pod: Readonly<Pod>): string[] {
  const out: string[] = [];
  for (const s of pod.spec?.imagePullSecrets ?? []) add(out, s.name);
  for (const c of containersOf(pod)) {
    for (const e of envFrom(c)) add(out, e.secretRef?.name);
    for (const e of env(c)) add(out, e.valueFrom?.secretKeyRef?.name);
  }
  for (const v of pod.spec?.volumes ?? []) volumeSecretNames(v, out);
  return out;
}

function volumeSecretNames(v: Readonly<Volume>, out: string[]): void {
  add(out, v.secret?.secretName);
  add(out, v.azureFile?.secretName);
  add(out, v.cephfs?.secretRef?.name);
  add(out, v.cinder?.secretRef?.name);
  add(out, v.flexVolume?.secretRef?.name);
  add(out, v.rbd?.secretRef?.name);
  add(out, v.scaleIO?.secretRef.name);
  add(out, v.iscsi?.secretRef?.name);
  add(out, v.storageos?.secretRef?.name);
  add(out, v.csi?.nodePublishSecretRef?.name);
  for (const p of v.projected?.sources ?? []) add(out, p.secret?.name);
}

/** Names of the ConfigMaps (in the pod's namespace) the pod refers to. */
export function podConfigMapNames(pod: Readonly<Pod>): string[] {
  const out: string[] = [];
  for (const c of containersOf(pod)) {
    for (const e of envFrom(c)) add(out, e.configMapRef?.name);
    for (const e of env(c)) add(out, e.valueFrom?.configMapKeyRef?.name);
  }
  for (const v of pod.spec?.volumes ?? []) {
    add(out, v.configMap?.name);
    for (const p of v.projected?.sources ?? []) add(out, p.configMap?.name);
  }
  return out;
}

/**
 * Names of the PersistentVolumeClaims the pod's volumes use: a claim's name, and for a generic
 * ephemeral volume the claim made for it, `<pod>-<volume>`.
 */
export function podClaimNames(pod: Readonly<Pod>): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) add(out, v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) add(out, `${pod.metadata?.name ?? ""}-${v.name}`);
  }
  return out;
}

export interface SecretRef {
  readonly namespace: string;
  readonly name: string;
}

/**
 * The Secrets a kubelet reads to mount the PersistentVolume (its node-side secret references;
 * the controller-side ones, CSI's controllerPublish/controllerExpand, are not the node's). A
 * reference without a namespace is in the namespace of the claim the volume is bound to.
 */
export function pvKubeletSecrets(pv: Readonly<PersistentVolume>): SecretRef[] {
  const s = pv.spec;
  if (!s) return [];
  const claimNs = s.claimRef?.namespace ?? "";
  const out: SecretRef[] = [];
  const ref = (r: { name?: string; namespace?: string } | undefined): void => {
    if (r?.name) out.push({ namespace: r.namespace || claimNs, name: r.name });
  };
  if (s.azureFile) ref({ name: s.azureFile.secretName, ...(s.azureFile.secretNamespace ? { namespace: s.azureFile.secretNamespace } : {}) });
  ref(s.cephfs?.secretRef);
  ref(s.cinder?.secretRef);
  ref(s.flexVolume?.secretRef);
  ref(s.rbd?.secretRef);
  ref(s.scaleIO?.secretRef);
  ref(s.iscsi?.secretRef);
  ref(s.storageos?.secretRef);
  ref(s.csi?.nodePublishSecretRef);
  ref(s.csi?.nodeStageSecretRef);
  ref(s.csi?.nodeExpandSecretRef);
  return out;
}
