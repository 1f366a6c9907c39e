// Upstream's PodSpec validation (pkg/apis/core/validation: ValidatePodSpec and the functions
// it calls), in upstream's order, with its field paths and messages: kubectl prints the causes
// in the order they come, one per line.
import { duplicate, FieldPath, forbidden, invalid, notFound, notSupported, required, type FieldError } from "../../../api/fielderrors.js";
import {
  inclusiveRangeError,
  isConfigMapKey,
  isHTTPHeaderName,
  isRelaxedEnvVarName,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  nameIsDNSSubdomain,
  validateLabelName,
  validateLabels,
} from "../../../api/validation.js";
import { dns1123Label, MAX_INT32, nonNegative, oneOf, qualifiedName } from "../common.js";
import { asArr, asNum, asObj, asStr, isObj, objs, strMap, type Json } from "../util.js";
import { validateAffinity, validateTopologySpreadConstraints } from "./affinity-validation.js";
import { validateHostPathVolumeSource, validatePathNoBacksteps, validatePersistentVolumeClaimTemplate } from "./persistentvolume-validation.js";
import { validateResourceRequirements } from "./resources.js";

const FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive";

/** IntOrString port: a number is a port number, a string an IANA port name. */
export function validatePortNumOrName(port: unknown, path: FieldPath): FieldError[] {
  if (typeof port === "number") return isValidPortNum(port).map((m) => invalid(path, port, m));
  if (typeof port === "string") return isValidPortName(port).map((m) => invalid(path, port, m));
  return isValidPortNum(0).map((m) => invalid(path, 0, m));
}

// ---- paths inside volumes --------------------------------------------------------------------

function validateLocalDescendingPath(target: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith("/")) errs.push(invalid(path, target, "must be a relative path"));
  errs.push(...validatePathNoBacksteps(target, path));
  return errs;
}

function validateLocalNonReservedPath(target: string, path: FieldPath): FieldError[] {
  const errs = validateLocalDescendingPath(target, path);
  if (target.startsWith("..") && !target.startsWith("../")) errs.push(invalid(path, target, "must not start with '..'"));
  return errs;
}

function validateMode(mode: unknown, path: FieldPath): FieldError[] {
  return typeof mode === "number" && (mode > 0o777 || mode < 0) ? [invalid(path, mode, FILE_MODE_ERROR)] : [];
}

function validateKeyToPaths(items: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  objs(items).forEach((kp, i) => {
    const p = path.index(i);
    if (!asStr(kp.key)) errs.push(required(p.child("key"), ""));
    const target = asStr(kp.path) ?? "";
    if (target === "") errs.push(required(p.child("path"), ""));
    errs.push(...validateLocalNonReservedPath(target, p.child("path")));
    errs.push(...validateMode(kp.mode, p.child("mode")));
  });
  return errs;
}

// ---- volumes --------------------------------------------------------------------------------

/** The volume source fields, in the order upstream checks them. */
const VOLUME_SOURCES = [
  "emptyDir",
  "hostPath",
  "gitRepo",
  "gcePersistentDisk",
  "awsElasticBlockStore",
  "secret",
  "nfs",
  "iscsi",
  "glusterfs",
  "flocker",
  "persistentVolumeClaim",
  "rbd",
  "cinder",
  "cephfs",
  "quobyte",
  "downwardAPI",
  "fc",
  "flexVolume",
  "configMap",
  "azureFile",
  "vsphereVolume",
  "photonPersistentDisk",
  "portworxVolume",
  "azureDisk",
  "csi",
  "scaleIO",
  "storageos",
  "projected",
  "ephemeral",
  "image",
] as const;

const ENV_FIELD_PATHS = ["metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"];
const VOLUME_FIELD_PATHS = ["metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"];

/**
 * `metadata.annotations['key']` as [base, key] (upstream's SplitMaybeSubscriptedPath: the
 * subscript is quoted; `metadata.labels[key]` is no subscript, just an unknown path).
 */
function splitSubscriptedPath(fieldPath: string): [string, string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const s = fieldPath.slice(0, -2);
  const at = s.indexOf("['");
  if (at <= 0) return undefined;
  return [s.slice(0, at), s.slice(at + 2)];
}

function validateObjectFieldSelector(fs: Json, expressions: readonly string[], path: FieldPath): FieldError[] {
  const apiVersion = asStr(fs.apiVersion) ?? "";
  if (apiVersion === "") return [required(path.child("apiVersion"), "")];
  const fieldPath = asStr(fs.fieldPath) ?? "";
  if (fieldPath === "") return [required(path.child("fieldPath"), "")];
  if (apiVersion !== "v1") {
    return [invalid(path.child("fieldPath"), fieldPath, `error converting fieldPath: unsupported pod version: ${apiVersion}`)];
  }
  const split = splitSubscriptedPath(fieldPath);
  if (split) {
    const [base, subscript] = split;
    if (base === "metadata.annotations") return qualifiedName(subscript.toLowerCase(), path);
    if (base === "metadata.labels") return qualifiedName(subscript, path);
    return [invalid(path, base, "does not support subscript")];
  }
  if (!expressions.includes(fieldPath)) return [notSupported(path.child("fieldPath"), fieldPath, expressions)];
  return [];
}

function validateDownwardAPIVolume(da: Json, path: FieldPath): FieldError[] {
  const errs = validateMode(da.defaultMode, path.child("defaultMode"));
  objs(da.items).forEach((item, i) => {
    const p = path.child("items").index(i);
    const target = asStr(item.path) ?? "";
    if (target === "") errs.push(required(p.child("path"), ""));
    errs.push(...validateLocalNonReservedPath(target, p.child("path")));
    errs.push(...validateMode(item.mode, p.child("mode")));
    const fieldRef = asObj(item.fieldRef);
    const resRef = asObj(item.resourceFieldRef);
    if (fieldRef) {
      errs.push(...validateObjectFieldSelector(fieldRef, VOLUME_FIELD_PATHS, p.child("fieldRef")));
      if (resRef) errs.push(invalid(p, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"));
    } else if (!resRef) {
      errs.push(required(p, "one of fieldRef and resourceFieldRef is required"));
    }
  });
  return errs;
}

function validateProjected(pr: Json, path: FieldPath): FieldError[] {
  const errs = validateMode(pr.defaultMode, path.child("defaultMode"));
  objs(pr.sources).forEach((src, i) => {
    const p = path.child("sources").index(i);
    let n = 0;
    const secret = asObj(src.secret);
    if (secret) {
      n++;
      if (!asStr(secret.name)) errs.push(required(p.child("secret", "name"), ""));
      errs.push(...validateKeyToPaths(secret.items, p.child("secret", "items")));
    }
    const cm = asObj(src.configMap);
    if (cm) {
      if (n > 0) errs.push(forbidden(p.child("configMap"), "may not specify more than 1 volume type per source"));
      n++;
      if (!asStr(cm.name)) errs.push(required(p.child("configMap", "name"), ""));
      errs.push(...validateKeyToPaths(cm.items, p.child("configMap", "items")));
    }
    const da = asObj(src.downwardAPI);
    if (da) {
      if (n > 0) errs.push(forbidden(p.child("downwardAPI"), "may not specify more than 1 volume type per source"));
      n++;
      errs.push(...validateDownwardAPIVolume(da, p.child("downwardAPI")));
    }
    const token = asObj(src.serviceAccountToken);
    if (token) {
      if (n > 0) errs.push(forbidden(p.child("serviceAccountToken"), "may not specify more than 1 volume type per source"));
      n++;
      const exp = asNum(token.expirationSeconds) ?? 0;
      const tp = p.child("serviceAccountToken");
      if (exp < 10 * 60) errs.push(invalid(tp.child("expirationSeconds"), exp, "may not specify a duration less than 10 minutes"));
      if (exp > MAX_INT32) errs.push(invalid(tp.child("expirationSeconds"), exp, "may not specify a duration larger than 2^32 seconds"));
      if (!asStr(token.path)) errs.push(required(tp.child("path"), ""));
    }
    for (const other of ["clusterTrustBundle"]) {
      if (src[other] !== undefined && src[other] !== null) {
        if (n > 0) errs.push(forbidden(p.child(other), "may not specify more than 1 volume type per source"));
        n++;
      }
    }
    if (n === 0) errs.push(required(p, "must specify exactly 1 volume type"));
  });
  return errs;
}

function validateVolumeSource(v: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const src of VOLUME_SOURCES) {
    const value = v[src];
    if (value === undefined || value === null) continue;
    if (n > 0) {
      errs.push(forbidden(path.child(src), "may not specify more than 1 volume type"));
      continue;
    }
    n++;
    const o = asObj(value) ?? {};
    const p = path.child(src);
    switch (src) {
      case "hostPath":
        errs.push(...validateHostPathVolumeSource(o, p));
        break;
      case "secret":
        if (!asStr(o.secretName)) errs.push(required(p.child("secretName"), ""));
        errs.push(...validateMode(o.defaultMode, p.child("defaultMode")));
        errs.push(...validateKeyToPaths(o.items, p.child("items")));
        break;
      case "configMap":
        if (!asStr(o.name)) errs.push(required(p.child("name"), ""));
        errs.push(...validateMode(o.defaultMode, p.child("defaultMode")));
        errs.push(...validateKeyToPaths(o.items, p.child("items")));
        break;
      case "persistentVolumeClaim":
        if (!asStr(o.claimName)) errs.push(required(p.child("claimName"), ""));
        break;
      case "nfs": {
        if (!asStr(o.server)) errs.push(required(p.child("server"), ""));
        const np = asStr(o.path) ?? "";
        if (np === "") errs.push(required(p.child("path"), ""));
        else if (!np.startsWith("/")) errs.push(invalid(p.child("path"), np, "must be an absolute path"));
        break;
      }
      case "downwardAPI":
        errs.push(...validateDownwardAPIVolume(o, p));
        break;
      case "projected":
        errs.push(...validateProjected(o, p));
        break;
      case "csi":
        if (!asStr(o.driver)) errs.push(required(p.child("driver"), ""));
        break;
      case "ephemeral":
        if (!isObj(o.volumeClaimTemplate)) errs.push(required(p.child("volumeClaimTemplate"), ""));
        else errs.push(...validatePersistentVolumeClaimTemplate(o.volumeClaimTemplate, p.child("volumeClaimTemplate")));
        break;
      case "iscsi":
        if (!asStr(o.targetPortal)) errs.push(required(p.child("targetPortal"), ""));
        if (!asStr(o.iqn)) errs.push(required(p.child("iqn"), ""));
        break;
      case "gitRepo":
        if (!asStr(o.repository)) errs.push(required(p.child("repository"), ""));
        break;
      case "image":
        if (!asStr(o.reference)) errs.push(required(p.child("reference"), ""));
        break;
      default:
        break;
    }
  }
  if (n === 0) errs.push(required(path, "must specify a volume type"));
  return errs;
}

/**
 * ValidateVolumes: the valid volumes by name (what mounts may refer to), and the errors. With
 * the pod's name (a pod, not a template) also the names of the claims its generic ephemeral
 * volumes will get (`<pod>-<volume>`), which no persistentVolumeClaim volume may name.
 */
export function validateVolumes(volumes: unknown, path: FieldPath, podName = ""): { names: Set<string>; errs: FieldError[] } {
  const names = new Set<string>();
  const errs: FieldError[] = [];
  const list = objs(volumes);
  const createdClaims = new Set(podName === "" ? [] : list.filter((v) => isObj(v.ephemeral)).map((v) => `${podName}-${asStr(v.name) ?? ""}`));
  list.forEach((v, i) => {
    const p = path.index(i);
    const name = asStr(v.name) ?? "";
    const el = validateVolumeSource(v, p);
    if (isObj(v.ephemeral) && podName !== "" && name !== "") {
      const claim = `${podName}-${name}`;
      for (const m of nameIsDNSSubdomain(claim, false)) el.push(invalid(p.child("name"), name, `PVC name "${claim}": ${m}`));
    }
    if (name === "") el.push(required(p.child("name"), ""));
    else el.push(...dns1123Label(name, p.child("name")));
    if (names.has(name)) el.push(duplicate(p.child("name"), name));
    if (el.length === 0) names.add(name);
    else errs.push(...el);
    const claimName = asStr(asObj(v.persistentVolumeClaim)?.claimName);
    if (claimName !== undefined && createdClaims.has(claimName)) {
      errs.push(invalid(p.child("persistentVolumeClaim", "claimName"), claimName, "must not reference a PVC that gets created for an ephemeral volume"));
    }
  });
  return { names, errs };
}

// ---- containers -----------------------------------------------------------------------------

function validateContainerPorts(ports: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  objs(ports).forEach((port, i) => {
    const p = path.index(i);
    const name = asStr(port.name) ?? "";
    if (name !== "") {
      const msgs = isValidPortName(name);
      if (msgs.length > 0) for (const m of msgs) errs.push(invalid(p.child("name"), name, m));
      else if (names.has(name)) errs.push(duplicate(p.child("name"), name));
      else names.add(name);
    }
    const cp = asNum(port.containerPort) ?? 0;
    if (cp === 0) errs.push(required(p.child("containerPort"), ""));
    else for (const m of isValidPortNum(cp)) errs.push(invalid(p.child("containerPort"), cp, m));
    const hp = asNum(port.hostPort) ?? 0;
    if (hp !== 0) for (const m of isValidPortNum(hp)) errs.push(invalid(p.child("hostPort"), hp, m));
    const proto = port.protocol;
    if (proto === undefined || proto === null || proto === "") errs.push(required(p.child("protocol"), ""));
    else if (!["SCTP", "TCP", "UDP"].includes(asStr(proto) ?? "")) errs.push(notSupported(p.child("protocol"), proto, ["SCTP", "TCP", "UDP"]));
  });
  return errs;
}

function validateKeySelector(sel: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = asStr(sel.name) ?? "";
  for (const m of nameIsDNSSubdomain(name, false)) errs.push(invalid(path.child("name"), name, m));
  const key = asStr(sel.key) ?? "";
  if (key === "") errs.push(required(path.child("key"), ""));
  else for (const m of isConfigMapKey(key)) errs.push(invalid(path.child("key"), key, m));
  return errs;
}

const RESOURCE_FIELD_REFS = ["limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"];

function validateResourceFieldRef(ref: Json, path: FieldPath): FieldError[] {
  const resource = asStr(ref.resource) ?? "";
  if (resource === "") return [required(path.child("resource"), "")];
  if (!RESOURCE_FIELD_REFS.includes(resource) && !/^(limits|requests)\.hugepages-/.test(resource)) {
    return [notSupported(path.child("resource"), resource, RESOURCE_FIELD_REFS)];
  }
  return [];
}

function validateEnv(env: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  objs(env).forEach((ev, i) => {
    const p = path.index(i);
    const name = asStr(ev.name) ?? "";
    if (name === "") errs.push(required(p.child("name"), ""));
    for (const m of isRelaxedEnvVarName(name)) errs.push(invalid(p.child("name"), name, m));
    const from = asObj(ev.valueFrom);
    if (!from) return;
    const fp = p.child("valueFrom");
    let n = 0;
    const fieldRef = asObj(from.fieldRef);
    if (fieldRef) {
      n++;
      errs.push(...validateObjectFieldSelector(fieldRef, ENV_FIELD_PATHS, fp.child("fieldRef")));
    }
    const resRef = asObj(from.resourceFieldRef);
    if (resRef) {
      n++;
      errs.push(...validateResourceFieldRef(resRef, fp.child("resourceFieldRef")));
    }
    const cmRef = asObj(from.configMapKeyRef);
    if (cmRef) {
      n++;
      errs.push(...validateKeySelector(cmRef, fp.child("configMapKeyRef")));
    }
    const secretRef = asObj(from.secretKeyRef);
    if (secretRef) {
      n++;
      errs.push(...validateKeySelector(secretRef, fp.child("secretKeyRef")));
    }
    if (n === 0) errs.push(invalid(fp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
    else if ((asStr(ev.value) ?? "") !== "") errs.push(invalid(fp, "", "may not be specified when `value` is not empty"));
    else if (n > 1) errs.push(invalid(fp, "", "may not have more than one field specified at a time"));
  });
  return errs;
}

function validateEnvFrom(envFrom: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  objs(envFrom).forEach((ev, i) => {
    const p = path.index(i);
    const prefix = asStr(ev.prefix) ?? "";
    if (prefix !== "") for (const m of isRelaxedEnvVarName(prefix)) errs.push(invalid(p.child("prefix"), prefix, m));
    let n = 0;
    for (const kind of ["configMapRef", "secretRef"]) {
      const ref = asObj(ev[kind]);
      if (!ref) continue;
      n++;
      const name = asStr(ref.name) ?? "";
      for (const m of nameIsDNSSubdomain(name, false)) errs.push(invalid(p.child(kind, "name"), name, m));
    }
    if (n === 0) errs.push(invalid(p, "", "must specify one of: `configMapRef` or `secretRef`"));
    else if (n > 1) errs.push(invalid(p, "", "may not have more than one field specified at a time"));
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, devices: unknown, volumes: Set<string>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  const deviceNames = new Set(objs(devices).map((d) => asStr(d.name) ?? ""));
  const devicePaths = new Set(objs(devices).map((d) => asStr(d.devicePath) ?? ""));
  objs(mounts).forEach((m, i) => {
    const p = path.index(i);
    const name = asStr(m.name) ?? "";
    if (name === "") errs.push(required(p.child("name"), ""));
    if (!volumes.has(name)) errs.push(notFound(p.child("name"), name));
    const mountPath = asStr(m.mountPath) ?? "";
    if (mountPath === "") errs.push(required(p.child("mountPath"), ""));
    if (mountPoints.has(mountPath)) errs.push(invalid(p.child("mountPath"), mountPath, "must be unique"));
    mountPoints.add(mountPath);
    if (deviceNames.has(name)) errs.push(invalid(p.child("name"), name, "must not already exist in volumeDevices"));
    if (devicePaths.has(mountPath)) errs.push(invalid(p.child("mountPath"), mountPath, "must not already exist as a path in volumeDevices"));
    // Upstream reports subPath errors at the list's path, not the item's.
    const subPath = asStr(m.subPath) ?? "";
    if (subPath !== "") errs.push(...validateLocalDescendingPath(subPath, path.child("subPath")));
    const subPathExpr = asStr(m.subPathExpr) ?? "";
    if (subPathExpr !== "") {
      if (subPath !== "") errs.push(invalid(p.child("subPathExpr"), subPathExpr, "subPathExpr and subPath are mutually exclusive"));
      errs.push(...validateLocalDescendingPath(subPathExpr, path.child("subPathExpr")));
    }
    if (m.mountPropagation !== undefined && m.mountPropagation !== null) {
      errs.push(...oneOf(m.mountPropagation, ["Bidirectional", "HostToContainer", "None"], path.child("mountPropagation")));
    }
  });
  return errs;
}

function validateHandler(h: Json, path: FieldPath, allowed: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  for (const kind of allowed) {
    const action = asObj(h[kind]);
    if (!action) continue;
    if (n > 0) {
      errs.push(forbidden(path.child(kind), "may not specify more than 1 handler type"));
      continue;
    }
    n++;
    const p = path.child(kind);
    switch (kind) {
      case "exec":
        if ((asArr(action.command) ?? []).length === 0) errs.push(required(p.child("command"), ""));
        break;
      case "httpGet":
        if ((asStr(action.path) ?? "") === "") errs.push(required(p.child("path"), ""));
        errs.push(...validatePortNumOrName(action.port, p.child("port")));
        if (!["HTTP", "HTTPS"].includes(asStr(action.scheme) ?? "")) errs.push(notSupported(p.child("scheme"), action.scheme ?? "", ["HTTP", "HTTPS"]));
        for (const header of objs(action.httpHeaders)) {
          const hn = asStr(header.name) ?? "";
          for (const m of isHTTPHeaderName(hn)) errs.push(invalid(p.child("httpHeaders"), hn, m));
        }
        break;
      case "tcpSocket":
        errs.push(...validatePortNumOrName(action.port, p.child("port")));
        break;
      case "grpc": {
        const port = asNum(action.port) ?? 0;
        for (const m of isValidPortNum(port)) errs.push(invalid(p.child("port"), port, m));
        break;
      }
      case "sleep": {
        const s = asNum(action.seconds) ?? 0;
        if (s <= 0) errs.push(invalid(p.child("seconds"), s, "must be greater than 0"));
        break;
      }
      default:
        break;
    }
  }
  if (n === 0) errs.push(required(path, "must specify a handler type"));
  return errs;
}

type ProbeKind = "liveness" | "readiness" | "startup";

function validateProbe(probe: unknown, kind: ProbeKind, path: FieldPath): FieldError[] {
  const p = asObj(probe);
  if (!p) return [];
  const errs = validateHandler(p, path, ["exec", "httpGet", "tcpSocket", "grpc"]);
  for (const f of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]) errs.push(...nonNegative(p[f], path.child(f)));
  const tgps = asNum(p.terminationGracePeriodSeconds);
  if (tgps !== undefined && tgps <= 0) errs.push(invalid(path.child("terminationGracePeriodSeconds"), tgps, "must be greater than 0"));
  if (kind === "readiness") {
    if (p.terminationGracePeriodSeconds !== undefined && p.terminationGracePeriodSeconds !== null) errs.push(invalid(path.child("terminationGracePeriodSeconds"), tgps ?? 0, "must not be set for readinessProbes"));
  } else {
    const st = asNum(p.successThreshold) ?? 0;
    if (st !== 1) errs.push(invalid(path.child("successThreshold"), st, "must be 1"));
  }
  return errs;
}

function validateLifecycle(lc: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const hook of ["postStart", "preStop"]) {
    const h = asObj(lc[hook]);
    if (h) errs.push(...validateHandler(h, path.child(hook), ["exec", "httpGet", "tcpSocket", "sleep"]));
  }
  return errs;
}

function validateContainerCommon(c: Json, volumes: Set<string>, path: FieldPath, podRestartPolicy: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = asStr(c.name) ?? "";
  if (name === "") errs.push(required(path.child("name"), ""));
  else errs.push(...dns1123Label(name, path.child("name")));
  if ((asStr(c.image) ?? "") === "") errs.push(required(path.child("image"), ""));
  errs.push(...oneOf(c.terminationMessagePolicy, ["File", "FallbackToLogsOnError"], path.child("terminationMessagePolicy")));
  errs.push(...validateContainerPorts(c.ports, path.child("ports")));
  errs.push(...validateEnv(c.env, path.child("env")));
  errs.push(...validateEnvFrom(c.envFrom, path.child("envFrom")));
  errs.push(...validateVolumeMounts(c.volumeMounts, c.volumeDevices, volumes, path.child("volumeMounts")));
  errs.push(...oneOf(c.imagePullPolicy, ["Always", "IfNotPresent", "Never"], path.child("imagePullPolicy")));
  errs.push(...validateResourceRequirements(asObj(c.resources) ?? {}, path.child("resources")));
  objs(c.resizePolicy).forEach((rp, i) => {
    const p = path.child("resizePolicy").index(i);
    errs.push(...oneOf(rp.resourceName, ["cpu", "memory"], p.child("resourceName")));
    errs.push(...oneOf(rp.restartPolicy, ["NotRequired", "RestartContainer"], p.child("restartPolicy")));
    if (podRestartPolicy !== "Always" && rp.restartPolicy === "RestartContainer") {
      errs.push(invalid(p.child("restartPolicy"), rp.restartPolicy, `must be 'NotRequired' when \`restartPolicy\` is '${podRestartPolicy}'`));
    }
  });
  return errs;
}

function checkHostPortConflicts(containers: Json[], path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => {
    objs(c.ports).forEach((port, pi) => {
      const hp = asNum(port.hostPort) ?? 0;
      if (hp === 0) return;
      const key = `${asStr(port.hostIP) ?? ""}/${asStr(port.protocol) ?? ""}/${hp}`;
      if (seen.has(key)) errs.push(duplicate(path.index(ci).child("ports").index(pi).child("hostPort"), key));
      else seen.add(key);
    });
  });
  return errs;
}

function validateContainers(containers: unknown, volumes: Set<string>, path: FieldPath, podRestartPolicy: string): FieldError[] {
  const list = objs(containers);
  if (list.length === 0) return [required(path, "")];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, volumes, p, podRestartPolicy));
    const name = asStr(c.name) ?? "";
    if (names.has(name)) errs.push(duplicate(p.child("name"), name));
    else names.add(name);
    const lc = asObj(c.lifecycle);
    if (lc) errs.push(...validateLifecycle(lc, p.child("lifecycle")));
    errs.push(...validateProbe(c.livenessProbe, "liveness", p.child("livenessProbe")));
    errs.push(...validateProbe(c.readinessProbe, "readiness", p.child("readinessProbe")));
    errs.push(...validateProbe(c.startupProbe, "startup", p.child("startupProbe")));
    if (c.restartPolicy !== undefined && c.restartPolicy !== null) errs.push(forbidden(p.child("restartPolicy"), "may not be set for non-init containers"));
  });
  errs.push(...checkHostPortConflicts(list, path));
  return errs;
}

function validateInitContainers(init: unknown, regular: unknown, volumes: Set<string>, path: FieldPath, podRestartPolicy: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(objs(regular).map((c) => asStr(c.name) ?? ""));
  objs(init).forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, volumes, p, podRestartPolicy));
    let restartAlways = false;
    if (c.restartPolicy !== undefined && c.restartPolicy !== null) {
      if (c.restartPolicy !== "Always") errs.push(notSupported(p.child("restartPolicy"), c.restartPolicy, ["Always"]));
      restartAlways = c.restartPolicy === "Always";
    }
    const name = asStr(c.name) ?? "";
    if (names.has(name)) errs.push(duplicate(p.child("name"), name));
    else if (name !== "") names.add(name);
    errs.push(...checkHostPortConflicts([c], path));
    const lc = asObj(c.lifecycle);
    if (restartAlways) {
      if (lc) errs.push(...validateLifecycle(lc, p.child("lifecycle")));
      errs.push(...validateProbe(c.livenessProbe, "liveness", p.child("livenessProbe")));
      errs.push(...validateProbe(c.readinessProbe, "readiness", p.child("readinessProbe")));
      errs.push(...validateProbe(c.startupProbe, "startup", p.child("startupProbe")));
    } else {
      const msg = "may not be set for init containers without restartPolicy=Always";
      if (lc) errs.push(forbidden(p.child("lifecycle"), msg));
      if (isObj(c.livenessProbe)) errs.push(forbidden(p.child("livenessProbe"), msg));
      if (isObj(c.readinessProbe)) errs.push(forbidden(p.child("readinessProbe"), "may not be set for init containers"));
      if (isObj(c.startupProbe)) errs.push(forbidden(p.child("startupProbe"), msg));
    }
    if ((asArr(c.resizePolicy) ?? []).length > 0) errs.push(invalid(p.child("resizePolicy"), c.resizePolicy, "must not be set for init containers"));
  });
  return errs;
}

/**
 * What an ephemeral container may not set: upstream allows a list of fields and forbids the
 * rest, since a debugging container must not be relied on for the pod's own service.
 */
const EPHEMERAL_FORBIDDEN_FIELDS = ["ports", "resources", "resizePolicy", "lifecycle", "livenessProbe", "readinessProbe", "startupProbe", "restartPolicy"];
const EPHEMERAL_FORBIDDEN = "cannot be set for an Ephemeral Container";

function isEmptyValue(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  return isObj(v) && Object.values(v).every(isEmptyValue);
}

function validateEphemeralContainers(ephemeral: unknown, regular: unknown, init: unknown, volumes: Set<string>, path: FieldPath, podRestartPolicy: string): FieldError[] {
  const errs: FieldError[] = [];
  const others = new Set([...objs(regular), ...objs(init)].map((c) => asStr(c.name) ?? ""));
  const names = new Set(others);
  objs(ephemeral).forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, volumes, p, podRestartPolicy));
    // Set means not Go's zero value: defaulting leaves an empty `resources: {}` on every container.
    for (const f of EPHEMERAL_FORBIDDEN_FIELDS) if (!isEmptyValue(c[f])) errs.push(forbidden(p.child(f), EPHEMERAL_FORBIDDEN));
    objs(c.volumeMounts).forEach((m, j) => {
      for (const f of ["subPath", "subPathExpr"]) if ((asStr(m[f]) ?? "") !== "") errs.push(forbidden(p.child("volumeMounts").index(j).child(f), EPHEMERAL_FORBIDDEN));
    });
    // Names are unique among regular, init and ephemeral containers.
    const name = asStr(c.name) ?? "";
    if (names.has(name)) errs.push(duplicate(p.child("name"), name));
    else names.add(name);
    // The target must be a regular or init container.
    const target = asStr(c.targetContainerName) ?? "";
    if (target !== "" && !others.has(target)) errs.push(notFound(p.child("targetContainerName"), target));
  });
  return errs;
}

// ---- the rest of the pod spec ---------------------------------------------------------------

export function validateTolerations(tolerations: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  objs(tolerations).forEach((t, i) => {
    const p = path.index(i);
    const key = asStr(t.key) ?? "";
    const operator = asStr(t.operator) ?? "";
    const value = asStr(t.value) ?? "";
    const effect = asStr(t.effect) ?? "";
    if (key !== "") errs.push(...validateLabelName(key, p.child("key")));
    if (key === "" && operator !== "Exists") {
      errs.push(invalid(p.child("operator"), operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && effect !== "NoExecute") {
      errs.push(invalid(p.child("effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (operator === "Equal" || operator === "") {
      const msgs = isValidLabelValue(value);
      if (msgs.length > 0) errs.push(invalid(p.child("operator"), value, msgs.join(";")));
    } else if (operator === "Exists") {
      if (value !== "") errs.push(invalid(p.child("operator"), t, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupported(p.child("operator"), operator, ["Equal", "Exists"]));
    }
    if (effect !== "") errs.push(...oneOf(effect, ["NoSchedule", "PreferNoSchedule", "NoExecute"], p.child("effect")));
  });
  return errs;
}

function validateHostAliases(aliases: unknown, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  objs(aliases).forEach((a, i) => {
    const p = path.index(i);
    errs.push(...isValidIP(p.child("ip"), asStr(a.ip) ?? ""));
    ((asArr(a.hostnames) ?? []) as unknown[]).forEach((h, j) => {
      if (typeof h === "string") errs.push(...dns1123SubdomainAt(h, p.child("hostnames").index(j)));
    });
  });
  return errs;
}

function dns1123SubdomainAt(value: string, path: FieldPath): FieldError[] {
  return nameIsDNSSubdomain(value, false).map((m) => invalid(path, value, m));
}

/** ValidatePodSpec at `path` (usually `spec` or `spec.template.spec`); `podName` for a pod's own spec. */
export function validatePodSpec(spec: Json, path: FieldPath, podName = ""): FieldError[] {
  const errs: FieldError[] = [];
  const restartPolicy = asStr(spec.restartPolicy) ?? "";
  const { names: volumes, errs: volErrs } = validateVolumes(spec.volumes, path.child("volumes"), podName);
  errs.push(...volErrs);
  errs.push(...validateContainers(spec.containers, volumes, path.child("containers"), restartPolicy));
  errs.push(...validateInitContainers(spec.initContainers, spec.containers, volumes, path.child("initContainers"), restartPolicy));
  errs.push(...validateEphemeralContainers(spec.ephemeralContainers, spec.containers, spec.initContainers, volumes, path.child("ephemeralContainers"), restartPolicy));
  errs.push(...oneOf(spec.restartPolicy, ["Always", "OnFailure", "Never"], path.child("restartPolicy")));
  errs.push(...oneOf(spec.dnsPolicy, ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"], path.child("dnsPolicy")));
  errs.push(...validateLabels(strMap(spec.nodeSelector), path.child("nodeSelector")));
  errs.push(...validateAffinity(spec.affinity, path.child("affinity")));
  if (spec.dnsPolicy === "None" && !isObj(spec.dnsConfig)) {
    errs.push(required(path.child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"));
  }
  objs(spec.readinessGates).forEach((g, i) => errs.push(...qualifiedName(asStr(g.conditionType) ?? "", path.child("readinessGates").index(i).child("conditionType"))));
  const gateNames = new Set<string>();
  objs(spec.schedulingGates).forEach((g, i) => {
    const p = path.child("schedulingGates").index(i);
    const n = asStr(g.name) ?? "";
    errs.push(...qualifiedName(n, p.child("name")));
    if (gateNames.has(n)) errs.push(duplicate(p.child("name"), n));
    gateNames.add(n);
  });
  errs.push(...validateTopologySpreadConstraints(spec.topologySpreadConstraints, path.child("topologySpreadConstraints")));
  const sa = asStr(spec.serviceAccountName) ?? "";
  if (sa !== "") for (const m of nameIsDNSSubdomain(sa, false)) errs.push(invalid(path.child("serviceAccountName"), sa, m));
  const nodeName = asStr(spec.nodeName) ?? "";
  if (nodeName !== "") for (const m of nameIsDNSSubdomain(nodeName, false)) errs.push(invalid(path.child("nodeName"), nodeName, m));
  const ads = asNum(spec.activeDeadlineSeconds);
  if (ads !== undefined && (ads < 1 || ads > MAX_INT32)) errs.push(invalid(path.child("activeDeadlineSeconds"), ads, inclusiveRangeError(1, MAX_INT32)));
  const hostname = asStr(spec.hostname) ?? "";
  if (hostname !== "") errs.push(...dns1123Label(hostname, path.child("hostname")));
  const subdomain = asStr(spec.subdomain) ?? "";
  if (subdomain !== "") errs.push(...dns1123Label(subdomain, path.child("subdomain")));
  errs.push(...validateTolerations(spec.tolerations, path.child("tolerations")));
  errs.push(...validateHostAliases(spec.hostAliases, path.child("hostAliases")));
  const pc = asStr(spec.priorityClassName) ?? "";
  if (pc !== "") for (const m of nameIsDNSSubdomain(pc, false)) errs.push(invalid(path.child("priorityClassName"), pc, m));
  if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null) {
    errs.push(...oneOf(spec.preemptionPolicy, ["Never", "PreemptLowerPriority"], path.child("preemptionPolicy")));
  }
  const os = asObj(spec.os);
  if (os) errs.push(...oneOf(os.name, ["linux", "windows"], path.child("os", "name")));
  if (typeof spec.runtimeClassName === "string") for (const m of nameIsDNSSubdomain(spec.runtimeClassName, false)) errs.push(invalid(path.child("runtimeClassName"), spec.runtimeClassName, m));
  // As upstream: the overhead is checked as a container's limits would be.
  const overhead = asObj(spec.overhead);
  if (overhead) errs.push(...validateResourceRequirements({ limits: overhead }, path.child("overhead")));
  return errs;
}
