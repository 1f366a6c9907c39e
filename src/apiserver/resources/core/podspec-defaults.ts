// Upstream's core/v1 defaulting for everything a PodSpec contains (SetDefaults_PodSpec,
// _Container, _ContainerPort, _Probe, _HTTPGetAction, _Volume and the volume sources, ...),
// shared by pods and every kind with a pod template. A few Pod-only rules (requests default to
// limits, enableServiceLinks, host-network ports) apply to Pods alone, as upstream does.
import { asObj, asStr, child, objs, setDefault, type Json } from "../util.js";
import { canonicalizePodSpecQuantities, canonicalizeQuantities } from "./resources.js";

const DEFAULT_MODE = 0o644;

/** The image's tag as the runtime would resolve it: "latest" when neither tag nor digest is given. */
export function imageTag(image: string): string | undefined {
  // The grammar of distribution/reference: [domain/]path[:tag][@digest], path components lower case.
  const re =
    /^(?:((?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?|\[[0-9a-fA-F:.]+\](?::[0-9]+)?)\/)?([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::([\w][\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$/;
  const m = re.exec(image);
  if (!m) return undefined;
  // A first component without "." or ":" that is not "localhost" is part of the path, not a
  // domain; either way the tag group is what matters here.
  const tag = m[3];
  const digest = m[4];
  if (tag === undefined && digest === undefined) return "latest";
  return tag ?? "";
}

/** imagePullPolicy default: Always for `:latest` (or no tag), IfNotPresent otherwise. */
export function defaultPullPolicy(image: string): "Always" | "IfNotPresent" {
  return imageTag(image) === "latest" ? "Always" : "IfNotPresent";
}

function defaultHTTPGet(h: Json | undefined): void {
  if (!h) return;
  setDefault(h, "path", "/", true);
  setDefault(h, "scheme", "HTTP", true);
}

function defaultHandler(h: unknown): void {
  const o = asObj(h);
  if (!o) return;
  defaultHTTPGet(asObj(o.httpGet));
}

function defaultProbe(p: unknown): void {
  const o = asObj(p);
  if (!o) return;
  for (const [k, v] of [
    ["timeoutSeconds", 1],
    ["periodSeconds", 10],
    ["successThreshold", 1],
    ["failureThreshold", 3],
  ] as const) {
    if (o[k] === undefined || o[k] === null || o[k] === 0) o[k] = v;
  }
  defaultHandler(o);
}

function defaultEnvVarSources(c: Json): void {
  for (const e of objs(c.env)) {
    const from = asObj(e.valueFrom);
    if (!from) continue;
    const fieldRef = asObj(from.fieldRef);
    if (fieldRef) setDefault(fieldRef, "apiVersion", "v1", true);
    const resRef = asObj(from.resourceFieldRef);
    // resource.Quantity is a struct upstream, so an unset divisor serializes as "0".
    if (resRef) setDefault(resRef, "divisor", "0");
  }
}

export function defaultContainer(c: Json): void {
  setDefault(c, "terminationMessagePath", "/dev/termination-log", true);
  setDefault(c, "terminationMessagePolicy", "File", true);
  if ((c.imagePullPolicy === undefined || c.imagePullPolicy === null || c.imagePullPolicy === "") && typeof (c.image ?? "") === "string") {
    c.imagePullPolicy = defaultPullPolicy(asStr(c.image) ?? "");
  }
  for (const p of objs(c.ports)) setDefault(p, "protocol", "TCP", true);
  // ResourceRequirements is a struct upstream: it is always serialized, as `resources: {}`.
  setDefault(c, "resources", {});
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  const lifecycle = asObj(c.lifecycle);
  if (lifecycle) {
    defaultHandler(lifecycle.postStart);
    defaultHandler(lifecycle.preStop);
  }
  defaultEnvVarSources(c);
}

export function defaultPVCSpec(spec: Json | undefined): void {
  if (!spec) return;
  setDefault(spec, "volumeMode", "Filesystem", true);
  const res = asObj(spec.resources);
  if (res) {
    canonicalizeQuantities(res.requests);
    canonicalizeQuantities(res.limits);
  }
}

export function defaultVolume(v: Json): void {
  const sources = Object.keys(v).filter((k) => k !== "name" && v[k] !== undefined && v[k] !== null);
  if (sources.length === 0) v.emptyDir = {};
  const secret = asObj(v.secret);
  if (secret) setDefault(secret, "defaultMode", DEFAULT_MODE);
  const configMap = asObj(v.configMap);
  if (configMap) setDefault(configMap, "defaultMode", DEFAULT_MODE);
  const downward = asObj(v.downwardAPI);
  if (downward) {
    setDefault(downward, "defaultMode", DEFAULT_MODE);
    for (const item of objs(downward.items)) {
      const fieldRef = asObj(item.fieldRef);
      if (fieldRef) setDefault(fieldRef, "apiVersion", "v1", true);
      const resRef = asObj(item.resourceFieldRef);
      if (resRef) setDefault(resRef, "divisor", "0");
    }
  }
  const projected = asObj(v.projected);
  if (projected) {
    setDefault(projected, "defaultMode", DEFAULT_MODE);
    for (const src of objs(projected.sources)) {
      const token = asObj(src.serviceAccountToken);
      if (token) setDefault(token, "expirationSeconds", 3600);
      const da = asObj(src.downwardAPI);
      for (const item of objs(da?.items)) {
        const fieldRef = asObj(item.fieldRef);
        if (fieldRef) setDefault(fieldRef, "apiVersion", "v1", true);
        const resRef = asObj(item.resourceFieldRef);
        if (resRef) setDefault(resRef, "divisor", "0");
      }
    }
  }
  // HostPathType's unset value is the empty string, and upstream stores it explicitly.
  const hostPath = asObj(v.hostPath);
  if (hostPath) setDefault(hostPath, "type", "");
  const iscsi = asObj(v.iscsi);
  if (iscsi) setDefault(iscsi, "iscsiInterface", "default", true);
  const rbd = asObj(v.rbd);
  if (rbd) {
    setDefault(rbd, "pool", "rbd", true);
    setDefault(rbd, "user", "admin", true);
    setDefault(rbd, "keyring", "/etc/ceph/keyring", true);
  }
  const azureDisk = asObj(v.azureDisk);
  if (azureDisk) {
    setDefault(azureDisk, "cachingMode", "ReadWrite");
    setDefault(azureDisk, "fsType", "ext4");
    setDefault(azureDisk, "readOnly", false);
    setDefault(azureDisk, "kind", "Shared");
  }
  const scaleIO = asObj(v.scaleIO);
  if (scaleIO) {
    setDefault(scaleIO, "storageMode", "ThinProvisioned", true);
    setDefault(scaleIO, "fsType", "xfs", true);
  }
  const ephemeral = asObj(v.ephemeral);
  const tmpl = asObj(ephemeral?.volumeClaimTemplate);
  if (tmpl) defaultPVCSpec(asObj(tmpl.spec));
}

/** SetDefaults_PodSpec plus the defaults of everything inside it. */
export function defaultPodSpec(spec: Json): void {
  setDefault(spec, "dnsPolicy", "ClusterFirst", true);
  setDefault(spec, "restartPolicy", "Always", true);
  setDefault(spec, "securityContext", {});
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "schedulerName", "default-scheduler", true);
  // v1's deprecated serviceAccount mirrors serviceAccountName (conversion keeps them equal).
  const sa = asStr(spec.serviceAccountName);
  const deprecatedSA = asStr(spec.serviceAccount);
  if ((sa === undefined || sa === "") && deprecatedSA) spec.serviceAccountName = deprecatedSA;
  const saName = asStr(spec.serviceAccountName);
  if (saName && spec.serviceAccount !== saName) spec.serviceAccount = saName;
  for (const c of objs(spec.containers)) defaultContainer(c);
  for (const c of objs(spec.initContainers)) defaultContainer(c);
  for (const c of objs(spec.ephemeralContainers)) defaultContainer(c);
  for (const v of objs(spec.volumes)) defaultVolume(v);
  canonicalizePodSpecQuantities(spec);
}

/** The Pod-only defaults (SetDefaults_Pod), which upstream does not apply to templates. */
export function defaultPodOnly(spec: Json): void {
  for (const list of [spec.containers, spec.initContainers]) {
    for (const c of objs(list)) {
      // Requests default to limits, resource by resource, on Pods only (not templates).
      const res = asObj(c.resources);
      const limits = asObj(res?.limits);
      if (!res || !limits || Object.keys(limits).length === 0) continue;
      const requests = child(res, "requests");
      if (!requests) continue;
      for (const [k, v] of Object.entries(limits)) if (requests[k] === undefined) requests[k] = v;
    }
  }
  setDefault(spec, "enableServiceLinks", true);
  if (spec.hostNetwork === true) {
    for (const list of [spec.containers, spec.initContainers]) {
      for (const c of objs(list)) {
        for (const p of objs(c.ports)) {
          if ((p.hostPort === undefined || p.hostPort === 0) && typeof p.containerPort === "number") p.hostPort = p.containerPort;
        }
      }
    }
  }
}

/**
 * A pod template's defaults. Its metadata is a full ObjectMeta upstream, whose zero
 * creationTimestamp serializes as `creationTimestamp: null`; clients see that, so it is kept.
 */
export function defaultPodTemplate(template: Json | undefined): void {
  if (!template) return;
  const md = child(template, "metadata");
  if (md && !("creationTimestamp" in md)) md.creationTimestamp = null;
  const spec = child(template, "spec");
  if (spec) defaultPodSpec(spec);
}

/** A PVC template inside a StatefulSet or ephemeral volume: defaults as for the PVC kind. */
export function defaultPVCTemplate(pvc: Json): void {
  const md = child(pvc, "metadata");
  if (md && !("creationTimestamp" in md)) md.creationTimestamp = null;
  const spec = child(pvc, "spec");
  defaultPVCSpec(spec);
  const status = child(pvc, "status");
  if (status) setDefault(status, "phase", "Pending", true);
}
