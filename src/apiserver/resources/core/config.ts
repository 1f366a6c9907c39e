// core/v1 configmaps, secrets, service accounts and endpoints.
import { FieldPath, forbidden, invalid, notSupported, required, tooLong, type FieldError } from "../../../api/fielderrors.js";
import { byteLength } from "../../../api/fielderrors.js";
import { isConfigMapKey, isValidIP, isValidPortNum, nameIsDNSSubdomain } from "../../../api/validation.js";
import type { ResourceDefinition } from "../../registry/types.js";
import { dns1123Label, qualifiedName, validateMeta, validateMetaUpdate, validateNonSpecialIP } from "../common.js";
import { D } from "../descriptions.js";
import { ageColumn, column, nameColumn, since } from "../print.js";
import { asArr, asObj, asStr, creationOf, isObj, jsonEqual, meta, nameOf, objs, setDefault, type Json } from "../util.js";

/** core.MaxSecretSize: the data of a secret or config map is at most 1 MiB. */
const MAX_DATA_SIZE = 1024 * 1024;

/** The decoded size of a base64 value (what Go's []byte holds after JSON decoding). */
function base64Size(v: unknown): number {
  if (typeof v !== "string") return 0;
  const s = v.replace(/=+$/, "");
  return Math.floor((s.length * 3) / 4);
}

function immutableRules(obj: Json, old: Json, fields: readonly string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (obj.immutable !== true) errs.push(forbidden(FieldPath.of("immutable"), "field is immutable when `immutable` is set"));
  for (const f of fields) {
    if (!jsonEqual(obj[f] ?? null, old[f] ?? null)) errs.push(forbidden(FieldPath.of(f), "field is immutable when `immutable` is set"));
  }
  return errs;
}

// ---- config maps ----------------------------------------------------------------------------

export function validateConfigMapData(cm: Json): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  const data = asObj(cm.data) ?? {};
  const binary = asObj(cm.binaryData) ?? {};
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(FieldPath.of("data").key(k), k, m));
    if (k in binary) errs.push(invalid(FieldPath.of("data").key(k), k, "duplicate of key present in binaryData"));
    total += typeof v === "string" ? byteLength(v) : 0;
  }
  for (const [k, v] of Object.entries(binary)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(FieldPath.of("binaryData").key(k), k, m));
    total += base64Size(v);
  }
  // Upstream reports the whole object, at the empty path.
  if (total > MAX_DATA_SIZE) errs.push(tooLong(FieldPath.of(""), MAX_DATA_SIZE));
  return errs;
}

export const configMaps: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  singular: "configmap",
  shortNames: ["cm"],
  namespaced: true,
  definition: "io.k8s.api.core.v1.ConfigMap",
  strategy: {
    validate: (obj) => [...validateMeta(obj, true), ...validateConfigMapData(obj)],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...immutableRules(obj, old, ["data", "binaryData"]), ...validateMeta(obj, true), ...validateConfigMapData(obj)],
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [nameColumn(), column("Data", "string", D.configMapData), ageColumn],
    row: (obj, now) => [nameOf(obj), Object.keys(asObj(obj.data) ?? {}).length + Object.keys(asObj(obj.binaryData) ?? {}).length, since(creationOf(obj), now)],
  },
};

// ---- secrets --------------------------------------------------------------------------------

/** v1 conversion: stringData is write-only, folded into data (base64) and never stored. */
function defaultSecret(secret: Json): void {
  setDefault(secret, "type", "Opaque", true);
  const stringData = asObj(secret.stringData);
  if (stringData) {
    const data = asObj(secret.data) ?? {};
    for (const [k, v] of Object.entries(stringData)) if (typeof v === "string") data[k] = Buffer.from(v, "utf8").toString("base64");
    secret.data = data;
  }
  delete secret.stringData;
}

function decodedKey(secret: Json, key: string): Buffer | undefined {
  const v = asObj(secret.data)?.[key];
  return typeof v === "string" ? Buffer.from(v, "base64") : undefined;
}

function validateSecretData(secret: Json): FieldError[] {
  const errs: FieldError[] = [];
  const dataPath = FieldPath.of("data");
  const data = asObj(secret.data) ?? {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(dataPath.key(k), k, m));
    total += base64Size(v);
  }
  if (total > MAX_DATA_SIZE) errs.push(tooLong(dataPath, MAX_DATA_SIZE));
  const has = (k: string): boolean => k in data;
  switch (secret.type) {
    case "kubernetes.io/service-account-token":
      if (!asStr(asObj(meta(secret).annotations)?.["kubernetes.io/service-account.name"])) {
        errs.push(required(FieldPath.of("metadata", "annotations").key("kubernetes.io/service-account.name"), ""));
      }
      break;
    case "kubernetes.io/dockercfg":
    case "kubernetes.io/dockerconfigjson": {
      const key = secret.type === "kubernetes.io/dockercfg" ? ".dockercfg" : ".dockerconfigjson";
      const raw = decodedKey(secret, key);
      if (!raw) {
        errs.push(required(dataPath.key(key), ""));
        break;
      }
      try {
        const parsed: unknown = JSON.parse(raw.toString("utf8"));
        if (!isObj(parsed)) throw new TypeError("json: cannot unmarshal into Go value of type map[string]interface {}");
      } catch (e) {
        errs.push(invalid(dataPath.key(key), "<secret contents redacted>", e instanceof Error ? e.message : String(e)));
      }
      break;
    }
    case "kubernetes.io/basic-auth":
      if (!has("username") && !has("password")) errs.push(required(dataPath.key("username"), ""), required(dataPath.key("password"), ""));
      break;
    case "kubernetes.io/ssh-auth":
      if ((decodedKey(secret, "ssh-privatekey")?.length ?? 0) === 0) errs.push(required(dataPath.key("ssh-privatekey"), ""));
      break;
    case "kubernetes.io/tls":
      if (!has("tls.crt")) errs.push(required(dataPath.key("tls.crt"), ""));
      if (!has("tls.key")) errs.push(required(dataPath.key("tls.key"), ""));
      break;
    default:
      break;
  }
  return errs;
}

function validateSecretUpdate(secret: Json, old: Json): FieldError[] {
  const errs = validateMetaUpdate(secret, old);
  if ((secret.type ?? "") !== (old.type ?? "")) errs.push(invalid(FieldPath.of("type"), secret.type ?? "", "field is immutable"));
  errs.push(...immutableRules(secret, old, ["data"]));
  errs.push(...validateMeta(secret, true), ...validateSecretData(secret));
  return errs;
}

export const secrets: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "Secret",
  plural: "secrets",
  singular: "secret",
  namespaced: true,
  definition: "io.k8s.api.core.v1.Secret",
  strategy: {
    defaults: defaultSecret,
    validate: (obj) => [...validateMeta(obj, true), ...validateSecretData(obj)],
    validateUpdate: (obj, old) => validateSecretUpdate(obj, old),
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [nameColumn(), column("Type", "string", D.secretType), column("Data", "string", D.secretData), ageColumn],
    row: (obj, now) => [nameOf(obj), asStr(obj.type) ?? "", Object.keys(asObj(obj.data) ?? {}).length, since(creationOf(obj), now)],
  },
  selectableFields: (obj) => ({ type: asStr(obj.type) ?? "" }),
};

// ---- service accounts -----------------------------------------------------------------------

export const serviceAccounts: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "ServiceAccount",
  plural: "serviceaccounts",
  returnsDeletedObject: true,
  singular: "serviceaccount",
  shortNames: ["sa"],
  namespaced: true,
  definition: "io.k8s.api.core.v1.ServiceAccount",
  subresources: ["token"],
  strategy: {
    // Secret references keep only their name (upstream cleanSecretReferences).
    prepareForCreate: (obj) => {
      const refs = asArr(obj.secrets);
      if (refs) obj.secrets = objs(refs).map((r) => (r.name === undefined ? {} : { name: r.name }));
    },
    prepareForUpdate: (obj) => {
      const refs = asArr(obj.secrets);
      if (refs) obj.secrets = objs(refs).map((r) => (r.name === undefined ? {} : { name: r.name }));
    },
    validate: (obj) => validateMeta(obj, true, nameIsDNSSubdomain),
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateMeta(obj, true, nameIsDNSSubdomain)],
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: true,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [nameColumn(), column("Secrets", "string", D.saSecrets), ageColumn],
    row: (obj, now) => [nameOf(obj), (asArr(obj.secrets) ?? []).length, since(creationOf(obj), now)],
  },
};

// ---- endpoints ------------------------------------------------------------------------------

const PROTOCOLS = ["SCTP", "TCP", "UDP"];

function validateEndpointAddress(addr: Json, path: FieldPath): FieldError[] {
  const ip = asStr(addr.ip) ?? "";
  const errs = isValidIP(path.child("ip"), ip);
  const hostname = asStr(addr.hostname) ?? "";
  if (hostname !== "") errs.push(...dns1123Label(hostname, path.child("hostname")));
  if (typeof addr.nodeName === "string") for (const m of nameIsDNSSubdomain(addr.nodeName, false)) errs.push(invalid(path.child("nodeName"), addr.nodeName, m));
  errs.push(...validateNonSpecialIP(ip, path.child("ip")));
  return errs;
}

function validateEndpointSubsets(ep: Json): FieldError[] {
  const errs: FieldError[] = [];
  objs(ep.subsets).forEach((ss, i) => {
    const p = FieldPath.of("subsets").index(i);
    const addrs = objs(ss.addresses);
    const notReady = objs(ss.notReadyAddresses);
    if (addrs.length === 0 && notReady.length === 0) errs.push(required(p, "must specify `addresses` or `notReadyAddresses`"));
    addrs.forEach((a, j) => errs.push(...validateEndpointAddress(a, p.child("addresses").index(j))));
    notReady.forEach((a, j) => errs.push(...validateEndpointAddress(a, p.child("notReadyAddresses").index(j))));
    const ports = objs(ss.ports);
    ports.forEach((port, j) => {
      const pp = p.child("ports").index(j);
      const name = asStr(port.name) ?? "";
      if (ports.length > 1 && name === "") errs.push(required(pp.child("name"), ""));
      else if (name !== "") errs.push(...dns1123Label(name, pp.child("name")));
      const n = typeof port.port === "number" ? port.port : 0;
      for (const m of isValidPortNum(n)) errs.push(invalid(pp.child("port"), n, m));
      if (port.protocol === undefined || port.protocol === null || port.protocol === "") errs.push(required(pp.child("protocol"), ""));
      else if (!PROTOCOLS.includes(asStr(port.protocol) ?? "")) errs.push(notSupported(pp.child("protocol"), port.protocol, PROTOCOLS));
      if (typeof port.appProtocol === "string") errs.push(...qualifiedName(port.appProtocol, pp.child("appProtocol")));
    });
  });
  return errs;
}

/** Endpoints as `kubectl get ep` shows them: up to three `ip:port`, then "+ N more...". */
export function formatEndpoints(ep: Json): string {
  const subsets = objs(ep.subsets);
  if (subsets.length === 0) return "<none>";
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = objs(ss.addresses);
    const ports = objs(ss.ports);
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(asStr(a.ip) ?? "");
      }
      continue;
    }
    for (const port of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        const ip = asStr(a.ip) ?? "";
        const host = ip.includes(":") ? `[${ip}]` : ip;
        list.push(`${host}:${typeof port.port === "number" ? port.port : 0}`);
      }
    }
  }
  const ret = list.join(",");
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpoints: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "Endpoints",
  plural: "endpoints",
  singular: "endpoints",
  shortNames: ["ep"],
  namespaced: true,
  definition: "io.k8s.api.core.v1.Endpoints",
  strategy: {
    defaults: (obj) => {
      for (const ss of objs(obj.subsets)) for (const p of objs(ss.ports)) setDefault(p, "protocol", "TCP", true);
    },
    validate: (obj) => [...validateMeta(obj, true), ...validateEndpointSubsets(obj)],
    validateUpdate: (obj, old) => [...validateMetaUpdate(obj, old), ...validateEndpointSubsets(obj)],
    statusFields: [],
    specFields: [],
    allowCreateOnUpdate: true,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [nameColumn(), column("Endpoints", "string", D.endpointsSubsets), ageColumn],
    row: (obj, now) => [nameOf(obj), formatEndpoints(obj), since(creationOf(obj), now)],
  },
};
