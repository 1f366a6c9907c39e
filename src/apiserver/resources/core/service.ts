// core/v1 services: SetDefaults_Service, the service strategy (status reset, type-dependent
// fields dropped on type changes, allocated values carried over when a client leaves them
// out), ValidateService / ValidateServiceUpdate and the table. Allocating cluster IPs and
// node ports is the API server's allocator's job, not this declaration's.
import { duplicate, FieldPath, forbidden, GoRendered, goQuote, invalid, notSupported, required, type FieldError } from "../../../api/fielderrors.js";
import { goIntOrString } from "../../../api/intstr.js";
import { isValidCIDR, isValidIP, isValidPortNum, nameIsDNS1035Label, parseIPSloppy, validateLabels } from "../../../api/validation.js";
import type { KubeObject, ResourceDefinition } from "../../registry/types.js";
import { dns1123Label, dns1123Subdomain, qualifiedName, validateMeta, validateMetaUpdate, validateNonSpecialIP } from "../common.js";
import { D } from "../descriptions.js";
import { ageColumn, column, formatLabels, nameColumn, since } from "../print.js";
import { asArr, asNum, asObj, asStr, child, creationOf, isObj, jsonEqual, nameOf, objs, setDefault, strMap, type Json } from "../util.js";
import { validatePortNumOrName } from "./podspec-validation.js";

const SPEC = FieldPath.of("spec");
const PROTOCOLS = ["SCTP", "TCP", "UDP"];
const TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

function specOf(obj: Json): Json {
  return asObj(obj.spec) ?? {};
}

function isHeadless(spec: Json): boolean {
  return spec.clusterIP === "None";
}

function externallyAccessible(spec: Json): boolean {
  return spec.type === "LoadBalancer" || spec.type === "NodePort" || (spec.type === "ClusterIP" && (asArr(spec.externalIPs) ?? []).length > 0);
}

function needsClusterIP(spec: Json): boolean {
  return spec.type !== "ExternalName";
}

function needsNodePort(spec: Json): boolean {
  return spec.type === "NodePort" || spec.type === "LoadBalancer";
}

function needsHCNodePort(spec: Json): boolean {
  return spec.type === "LoadBalancer" && spec.externalTrafficPolicy === "Local";
}

export function defaultService(svc: Json): void {
  const spec = child(svc, "spec");
  if (!spec) return;
  setDefault(spec, "sessionAffinity", "None", true);
  if (spec.sessionAffinity === "None") delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === "ClientIP") {
    const cfg = asObj(spec.sessionAffinityConfig);
    const clientIP = asObj(cfg?.clientIP);
    if (!cfg || !clientIP || clientIP.timeoutSeconds === undefined || clientIP.timeoutSeconds === null) {
      spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
    }
  }
  setDefault(spec, "type", "ClusterIP", true);
  for (const p of objs(spec.ports)) {
    setDefault(p, "protocol", "TCP", true);
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === "") {
      if (typeof p.port === "number") p.targetPort = p.port;
    }
  }
  if (externallyAccessible(spec)) setDefault(spec, "externalTrafficPolicy", "Cluster", true);
  if (spec.type === "NodePort" || spec.type === "LoadBalancer" || spec.type === "ClusterIP") setDefault(spec, "internalTrafficPolicy", "Cluster");
  if (spec.type === "LoadBalancer") setDefault(spec, "allocateLoadBalancerNodePorts", true);
}

/** The address family of an IP string, as the allocator records it in ipFamilies. */
function familyOf(ip: string): "IPv4" | "IPv6" | undefined {
  const b = parseIPSloppy(ip);
  if (!b) return undefined;
  return b.length === 4 ? "IPv4" : "IPv6";
}

/**
 * The create-time normalization upstream's service REST does before allocating: clusterIPs
 * mirrors clusterIP, and a single-stack family policy with the family of the given IP (IPv4
 * otherwise) for every type but ExternalName.
 */
function prepareServiceCreate(svc: Json): void {
  // ServiceStatus holds a LoadBalancerStatus struct, so an empty status serializes with it.
  svc.status = { loadBalancer: {} };
  const spec = specOf(svc);
  const clusterIP = asStr(spec.clusterIP) ?? "";
  if (clusterIP !== "" && (asArr(spec.clusterIPs) ?? []).length === 0) spec.clusterIPs = [clusterIP];
  if (needsClusterIP(spec)) {
    if (spec.ipFamilyPolicy === undefined || spec.ipFamilyPolicy === null) {
      spec.ipFamilyPolicy = (asArr(spec.ipFamilies) ?? []).length === 2 || (asArr(spec.clusterIPs) ?? []).length === 2 ? "RequireDualStack" : "SingleStack";
    }
    if ((asArr(spec.ipFamilies) ?? []).length === 0) {
      const fams = (asArr(spec.clusterIPs) ?? []).map((ip) => familyOf(String(ip))).filter((f): f is "IPv4" | "IPv6" => f !== undefined);
      spec.ipFamilies = fams.length > 0 ? fams : ["IPv4"];
    }
  }
}

/**
 * Update: the status is kept; fields that belong to the old type are dropped when the type
 * changes (dropTypeDependentFields), and allocated values the client left out are carried
 * over so that `kubectl apply`/`replace` of a manifest without them works
 * (patchAllocatedValues, normalizeClusterIPs).
 */
function prepareServiceUpdate(svc: Json, old: Json): void {
  const spec = specOf(svc);
  const oldSpec = specOf(old);
  if (needsClusterIP(oldSpec) && needsClusterIP(spec)) {
    if ((asStr(spec.clusterIP) ?? "") === "" && oldSpec.clusterIP !== undefined) spec.clusterIP = oldSpec.clusterIP;
    if ((asArr(spec.clusterIPs) ?? []).length === 0 && (asArr(oldSpec.clusterIPs) ?? []).length > 0) spec.clusterIPs = structuredClone(oldSpec.clusterIPs);
    if ((asArr(spec.ipFamilies) ?? []).length === 0 && oldSpec.ipFamilies !== undefined) spec.ipFamilies = structuredClone(oldSpec.ipFamilies);
    if ((spec.ipFamilyPolicy === undefined || spec.ipFamilyPolicy === null) && oldSpec.ipFamilyPolicy !== undefined) spec.ipFamilyPolicy = oldSpec.ipFamilyPolicy;
  }
  if (needsNodePort(oldSpec) && needsNodePort(spec)) {
    const used = (s: Json): Set<number> => new Set(objs(s.ports).map((p) => asNum(p.nodePort) ?? 0).filter((n) => n !== 0));
    const newUsed = used(spec);
    const taken = new Set([...used(oldSpec)].filter((n) => newUsed.has(n)));
    const byName = new Map<string, number>();
    for (const p of objs(oldSpec.ports)) byName.set(asStr(p.name) ?? "", asNum(p.nodePort) ?? 0);
    for (const p of objs(spec.ports)) {
      if ((asNum(p.nodePort) ?? 0) !== 0) continue;
      const prev = byName.get(asStr(p.name) ?? "") ?? 0;
      if (prev !== 0 && !taken.has(prev)) p.nodePort = prev;
    }
  }
  if (needsHCNodePort(oldSpec) && needsHCNodePort(spec) && (asNum(spec.healthCheckNodePort) ?? 0) === 0 && oldSpec.healthCheckNodePort !== undefined) {
    spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
  }
  // A cleared clusterIP clears clusterIPs; a changed primary clusterIPs entry moves clusterIP.
  const clusterIP = asStr(spec.clusterIP) ?? "";
  if (clusterIP !== "" && (asArr(spec.clusterIPs) ?? []).length === 0) spec.clusterIPs = [clusterIP];

  dropTypeDependentFields(spec, oldSpec, svc);
}

function dropTypeDependentFields(spec: Json, oldSpec: Json, svc: Json): void {
  if (needsClusterIP(oldSpec) && !needsClusterIP(spec)) {
    if (spec.clusterIP === oldSpec.clusterIP && jsonEqual(spec.clusterIPs, oldSpec.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (jsonEqual(spec.ipFamilies, oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === oldSpec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(oldSpec) && !needsNodePort(spec)) {
    const oldPorts = new Set(objs(oldSpec.ports).map((p) => asNum(p.nodePort) ?? 0));
    const newPorts = objs(spec.ports).map((p) => asNum(p.nodePort) ?? 0).filter((n) => n !== 0);
    if (newPorts.every((n) => oldPorts.has(n))) for (const p of objs(spec.ports)) delete p.nodePort;
  }
  if (needsHCNodePort(oldSpec) && !needsHCNodePort(spec) && spec.healthCheckNodePort === oldSpec.healthCheckNodePort) delete spec.healthCheckNodePort;
  if (oldSpec.type === "LoadBalancer" && spec.type !== "LoadBalancer") {
    if (typeof spec.allocateLoadBalancerNodePorts === "boolean" && spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
  }
  if (externallyAccessible(oldSpec) && !externallyAccessible(spec) && spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
  if (spec.type !== "LoadBalancer") {
    const status = asObj(svc.status);
    if (status) status.loadBalancer = {};
  }
}

function goServicePortKey(protocol: string, port: number): GoRendered {
  return new GoRendered(`core.ServicePort{Name:"", Protocol:${goQuote(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:${goIntOrString(0).text}, NodePort:0}`);
}

function validateServicePort(p: Json, requireName: boolean, names: Set<string>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = asStr(p.name) ?? "";
  if (requireName && name === "") errs.push(required(path.child("name"), ""));
  else if (name !== "") {
    errs.push(...dns1123Label(name, path.child("name")));
    if (names.has(name)) errs.push(duplicate(path.child("name"), name));
    else names.add(name);
  }
  const port = asNum(p.port) ?? 0;
  for (const m of isValidPortNum(port)) errs.push(invalid(path.child("port"), port, m));
  if (p.protocol === undefined || p.protocol === null || p.protocol === "") errs.push(required(path.child("protocol"), ""));
  else if (!PROTOCOLS.includes(asStr(p.protocol) ?? "")) errs.push(notSupported(path.child("protocol"), p.protocol, PROTOCOLS));
  errs.push(...validatePortNumOrName(p.targetPort, path.child("targetPort")));
  if (typeof p.appProtocol === "string") errs.push(...qualifiedName(p.appProtocol, path.child("appProtocol")));
  return errs;
}

function validateClusterIPsRelatedFields(spec: Json): FieldError[] {
  if (spec.type === "ExternalName") return [];
  const errs: FieldError[] = [];
  const ipsPath = SPEC.child("clusterIPs");
  const clusterIP = asStr(spec.clusterIP) ?? "";
  const clusterIPs = (asArr(spec.clusterIPs) ?? []).map((x) => String(x));
  if (clusterIP !== "") {
    if (clusterIPs.length === 0) errs.push(required(ipsPath, ""));
    else if (clusterIPs[0] !== clusterIP) errs.push(invalid(ipsPath, clusterIPs, "first value must match `clusterIP`"));
  } else if (clusterIPs.length !== 0) {
    errs.push(invalid(ipsPath, clusterIPs, "must be empty when `clusterIP` is not specified"));
  }
  const seen = new Set<string>();
  (asArr(spec.ipFamilies) ?? []).forEach((f, i) => {
    if (f !== "IPv4" && f !== "IPv6") errs.push(notSupported(SPEC.child("ipFamilies").index(i), f, ["IPv4", "IPv6"]));
    if (seen.has(String(f))) errs.push(duplicate(SPEC.child("ipFamilies").index(i), f));
    seen.add(String(f));
  });
  if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null && !["PreferDualStack", "RequireDualStack", "SingleStack"].includes(asStr(spec.ipFamilyPolicy) ?? "")) {
    errs.push(notSupported(SPEC.child("ipFamilyPolicy"), spec.ipFamilyPolicy, ["PreferDualStack", "RequireDualStack", "SingleStack"]));
  }
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === "None") {
      if (clusterIPs.length > 1) errs.push(invalid(ipsPath, clusterIPs, "'None' must be the first and only value"));
      return;
    }
    errs.push(...isValidIP(ipsPath.index(i), ip));
  });
  if (clusterIPs.length > 2) errs.push(invalid(ipsPath, clusterIPs, "may only hold up to 2 values"));
  if (errs.length > 0) return errs;
  if (clusterIPs.length > 1) {
    const fams = clusterIPs.map(familyOf);
    if (fams[0] === fams[1]) errs.push(invalid(ipsPath, clusterIPs, "may specify no more than one IP for each IP family"));
  }
  const families = asArr(spec.ipFamilies) ?? [];
  if (!isHeadless(spec) && clusterIPs.length > 0 && families.length > 0) {
    clusterIPs.forEach((ip, i) => {
      if (i > families.length - 1) return;
      const fam = familyOf(ip);
      if (families[i] === "IPv4" && fam === "IPv6") errs.push(invalid(ipsPath.index(i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === "IPv6" && fam !== "IPv6") errs.push(invalid(ipsPath.index(i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

/** ValidateService (without metadata), in upstream's order. */
export function validateServiceSpec(svc: Json): FieldError[] {
  const spec = specOf(svc);
  const errs: FieldError[] = [];
  const ports = objs(spec.ports);
  const headless = isHeadless(spec);
  if (ports.length === 0 && !headless && spec.type !== "ExternalName") errs.push(required(SPEC.child("ports"), ""));
  const firstIP = asStr((asArr(spec.clusterIPs) ?? [])[0]) ?? asStr(spec.clusterIP) ?? "";
  switch (spec.type) {
    case "LoadBalancer":
      if (headless) errs.push(invalid(SPEC.child("clusterIPs").index(0), firstIP, "may not be set to 'None' for LoadBalancer services"));
      ports.forEach((p, i) => {
        if (p.port === 10250) errs.push(invalid(SPEC.child("ports").index(i), 10250, "may not expose port 10250 externally since it is used by kubelet"));
      });
      break;
    case "NodePort":
      if (headless) errs.push(invalid(SPEC.child("clusterIPs").index(0), firstIP, "may not be set to 'None' for NodePort services"));
      break;
    case "ExternalName": {
      if ((asArr(spec.clusterIPs) ?? []).length > 0) errs.push(forbidden(SPEC.child("clusterIPs"), "may not be set for ExternalName services"));
      if ((asArr(spec.ipFamilies) ?? []).length > 0) errs.push(forbidden(SPEC.child("ipFamilies"), "may not be set for ExternalName services"));
      if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) errs.push(forbidden(SPEC.child("ipFamilyPolicy"), "may not be set for ExternalName services"));
      const cname = (asStr(spec.externalName) ?? "").replace(/\.$/, "");
      if (cname !== "") errs.push(...dns1123Subdomain(cname, SPEC.child("externalName")));
      else errs.push(required(SPEC.child("externalName"), ""));
      break;
    }
    default:
      break;
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, SPEC.child("ports").index(i))));
  if (isObj(spec.selector)) errs.push(...validateLabels(strMap(spec.selector), SPEC.child("selector")));
  const affinity = spec.sessionAffinity;
  if (affinity === undefined || affinity === null || affinity === "") errs.push(required(SPEC.child("sessionAffinity"), ""));
  else if (affinity !== "ClientIP" && affinity !== "None") errs.push(notSupported(SPEC.child("sessionAffinity"), affinity, ["ClientIP", "None"]));
  const cfgPath = SPEC.child("sessionAffinityConfig");
  if (affinity === "ClientIP") {
    const cfg = asObj(spec.sessionAffinityConfig);
    const clientIP = asObj(cfg?.clientIP);
    if (!cfg) errs.push(required(cfgPath, "when session affinity type is ClientIP"));
    else if (!clientIP) errs.push(required(cfgPath.child("clientIP"), "when session affinity type is ClientIP"));
    else if (clientIP.timeoutSeconds === undefined || clientIP.timeoutSeconds === null) errs.push(required(cfgPath.child("clientIP", "timeoutSeconds"), "when session affinity type is ClientIP"));
    else {
      const t = asNum(clientIP.timeoutSeconds) ?? 0;
      if (t <= 0 || t > 86400) errs.push(invalid(cfgPath.child("clientIP", "timeoutSeconds"), t, "must be greater than 0 and less than 86400"));
    }
  } else if (affinity === "None" && spec.sessionAffinityConfig !== undefined && spec.sessionAffinityConfig !== null) {
    errs.push(forbidden(cfgPath, "must not be set when session affinity is None"));
  }
  errs.push(...validateClusterIPsRelatedFields(spec));
  (asArr(spec.externalIPs) ?? []).forEach((ip, i) => {
    const p = SPEC.child("externalIPs").index(i);
    const e = isValidIP(p, String(ip));
    errs.push(...(e.length > 0 ? e : validateNonSpecialIP(String(ip), p)));
  });
  const type = spec.type;
  if (type === undefined || type === null || type === "") errs.push(required(SPEC.child("type"), ""));
  else if (!TYPES.includes(asStr(type) ?? "")) errs.push(notSupported(SPEC.child("type"), type, TYPES));
  if (type === "ClusterIP") {
    ports.forEach((p, i) => {
      if ((asNum(p.nodePort) ?? 0) !== 0) errs.push(forbidden(SPEC.child("ports").index(i).child("nodePort"), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    const np = asNum(p.nodePort) ?? 0;
    if (np === 0) return;
    const key = `${asStr(p.protocol) ?? ""}/${np}`;
    if (nodePorts.has(key)) errs.push(duplicate(SPEC.child("ports").index(i).child("nodePort"), np));
    nodePorts.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${asStr(p.protocol) ?? ""}/${asNum(p.port) ?? 0}`;
    if (portKeys.has(key)) errs.push(duplicate(SPEC.child("ports").index(i), goServicePortKey(asStr(p.protocol) ?? "", asNum(p.port) ?? 0)));
    portKeys.add(key);
  });
  const ranges = asArr(spec.loadBalancerSourceRanges) ?? [];
  if (ranges.length > 0) {
    const rp = SPEC.child("LoadBalancerSourceRanges");
    if (type !== "LoadBalancer") errs.push(forbidden(rp, "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => errs.push(...isValidCIDR(rp.index(i), String(r).trim())));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null && type !== "LoadBalancer") {
    errs.push(forbidden(SPEC.child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"));
  }
  if (type === "LoadBalancer" && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
    errs.push(required(FieldPath.of("allocateLoadBalancerNodePorts"), ""));
  }
  if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null) {
    if (type !== "LoadBalancer") errs.push(forbidden(SPEC.child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"));
    else errs.push(...qualifiedName(asStr(spec.loadBalancerClass) ?? "", SPEC.child("loadBalancerClass")));
  }
  if (!externallyAccessible(spec)) {
    if ((asStr(spec.externalTrafficPolicy) ?? "") !== "") errs.push(invalid(SPEC.child("externalTrafficPolicy"), spec.externalTrafficPolicy, "may only be set for externally-accessible services"));
  } else if ((asStr(spec.externalTrafficPolicy) ?? "") === "") {
    errs.push(required(SPEC.child("externalTrafficPolicy"), ""));
  } else if (spec.externalTrafficPolicy !== "Cluster" && spec.externalTrafficPolicy !== "Local") {
    errs.push(notSupported(SPEC.child("externalTrafficPolicy"), spec.externalTrafficPolicy, ["Cluster", "Local"]));
  }
  const hc = asNum(spec.healthCheckNodePort) ?? 0;
  if (!needsHCNodePort(spec)) {
    if (hc !== 0) errs.push(invalid(SPEC.child("healthCheckNodePort"), hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (hc !== 0) {
    for (const m of isValidPortNum(hc)) errs.push(invalid(SPEC.child("healthCheckNodePort"), hc, m));
  }
  if (spec.internalTrafficPolicy === undefined || spec.internalTrafficPolicy === null) {
    if (type === "NodePort" || type === "LoadBalancer" || type === "ClusterIP") errs.push(required(SPEC.child("internalTrafficPolicy"), ""));
  } else if (spec.internalTrafficPolicy !== "Cluster" && spec.internalTrafficPolicy !== "Local") {
    errs.push(notSupported(SPEC.child("internalTrafficPolicy"), spec.internalTrafficPolicy, ["Cluster", "Local"]));
  }
  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== null && spec.trafficDistribution !== "PreferClose") {
    errs.push(notSupported(SPEC.child("trafficDistribution"), spec.trafficDistribution, ["PreferClose"]));
  }
  return errs;
}

function validateServiceUpdate(svc: Json, old: Json): FieldError[] {
  const errs = validateMetaUpdate(svc, old);
  const spec = specOf(svc);
  const oldSpec = specOf(old);
  if (spec.type !== "ExternalName" && oldSpec.type !== "ExternalName") {
    const n = asArr(spec.clusterIPs) ?? [];
    const o = asArr(oldSpec.clusterIPs) ?? [];
    if (o.length > 0 && n.length > 0 && o[0] !== n[0]) errs.push(invalid(SPEC.child("clusterIPs").index(0), n[0], "may not change once set"));
    if (o.length > 1 && n.length > 1 && o[1] !== n[1]) errs.push(invalid(SPEC.child("clusterIPs").index(1), n[1], "may not change once set"));
    const nf = asArr(spec.ipFamilies) ?? [];
    const of = asArr(oldSpec.ipFamilies) ?? [];
    if (of.length > 0 && nf.length > 0 && of[0] !== nf[0]) errs.push(invalid(SPEC.child("ipFamilies").index(0), nf[0], "may not change once set"));
  }
  errs.push(...validateServiceSpec(svc));
  return errs;
}

function validateServiceStatus(svc: Json, old: Json): FieldError[] {
  const errs = validateMetaUpdate(svc, old);
  const ingress = objs(asObj(asObj(svc.status)?.loadBalancer)?.ingress);
  ingress.forEach((ing, i) => {
    const p = FieldPath.of("status", "loadBalancer", "ingress").index(i);
    const ip = asStr(ing.ip) ?? "";
    if (ip !== "") errs.push(...isValidIP(p.child("ip"), ip));
    const host = asStr(ing.hostname) ?? "";
    if (host !== "") {
      errs.push(...dns1123Subdomain(host, p.child("hostname")));
      if (parseIPSloppy(host)) errs.push(invalid(p.child("hostname"), host, "must be a DNS name, not an IP address"));
    }
  });
  return errs;
}

function externalIPCell(spec: Json, status: Json): string {
  const externalIPs = (asArr(spec.externalIPs) ?? []).map(String);
  switch (spec.type) {
    case "ClusterIP":
    case "NodePort":
      return externalIPs.length > 0 ? externalIPs.join(",") : "<none>";
    case "LoadBalancer": {
      const seen = new Set<string>();
      for (const ing of objs(asObj(status.loadBalancer)?.ingress)) {
        const ip = asStr(ing.ip) ?? "";
        const host = asStr(ing.hostname) ?? "";
        if (ip !== "") seen.add(ip);
        else if (host !== "") seen.add(host);
      }
      const lb = [...seen].sort();
      if (externalIPs.length > 0) return [...lb, ...externalIPs].join(",");
      return lb.length > 0 ? lb.join(",") : "<pending>";
    }
    case "ExternalName":
      return asStr(spec.externalName) ?? "";
    default:
      return "<unknown>";
  }
}

function portsCell(spec: Json): string {
  const s = objs(spec.ports)
    .map((p) => {
      const port = asNum(p.port) ?? 0;
      const proto = asStr(p.protocol) ?? "";
      const np = asNum(p.nodePort) ?? 0;
      return np > 0 ? `${port}:${np}/${proto}` : `${port}/${proto}`;
    })
    .join(",");
  return s === "" ? "<none>" : s;
}

export const services: ResourceDefinition = {
  group: "",
  version: "v1",
  kind: "Service",
  plural: "services",
  returnsDeletedObject: true,
  singular: "service",
  shortNames: ["svc"],
  categories: ["all"],
  namespaced: true,
  definition: "io.k8s.api.core.v1.Service",
  subresources: ["status", "proxy"],
  strategy: {
    defaults: defaultService,
    prepareForCreate: (obj) => prepareServiceCreate(obj),
    prepareForUpdate: (obj, old) => prepareServiceUpdate(obj, old),
    validate: (obj) => [...validateMeta(obj, true, nameIsDNS1035Label), ...validateServiceSpec(obj)],
    validateUpdate: (obj, old) => validateServiceUpdate(obj, old),
    validateStatusUpdate: (obj, old) => validateServiceStatus(obj, old),
    statusFields: ["status"],
    specFields: [],
    allowCreateOnUpdate: true,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("Type", "string", D.svcType),
      column("Cluster-IP", "string", D.svcClusterIP),
      column("External-IP", "string", D.svcExternalIPs),
      column("Port(s)", "string", D.svcPorts),
      ageColumn,
      column("Selector", "string", D.svcSelector, 1),
    ],
    row(obj: Readonly<KubeObject>, now: Date) {
      const spec = specOf(obj);
      const status = asObj(obj.status) ?? {};
      const clusterIP = asStr((asArr(spec.clusterIPs) ?? [])[0]) ?? "<none>";
      return [nameOf(obj), asStr(spec.type) ?? "", clusterIP, externalIPCell(spec, status), portsCell(spec), since(creationOf(obj), now), formatLabels(strMap(spec.selector))];
    },
  },
  selectableFields: (obj) => ({ "spec.clusterIP": asStr(specOf(obj).clusterIP) ?? "", "spec.type": asStr(specOf(obj).type) ?? "" }),
};
