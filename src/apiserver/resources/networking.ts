// networking.k8s.io/v1 ingresses, network policies and ingress classes: upstream's defaults
// (network policy types and port protocols, ingress class parameter scope), validation with
// its paths and messages, generation on spec change, and the printers' tables.
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { FieldPath, forbidden, GoRendered, goQuote, invalid, notSupported, required, tooLong, type FieldError } from "../../api/fielderrors.js";
import {
  isDNS1123Subdomain,
  isDomainPrefixedPath,
  isValidCIDR,
  isValidIP,
  isValidPathSegmentName,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  nameIsDNS1035Label,
  parseCIDRSloppy,
  parseIPSloppy,
  validateLabelSelector,
  validateNamespaceName,
} from "../../api/validation.js";
import type { ResourceDefinition } from "../registry/types.js";
import { validateMeta, validateMetaUpdate } from "./common.js";
import { D } from "./descriptions.js";
import { ageColumn, column, formatLabelSelector, nameColumn, since } from "./print.js";
import { asArr, asNum, asObj, asStr, child, creationOf, isObj, nameOf, objs, setDefault, strMap, type Json } from "./util.js";

const SPEC = FieldPath.of("spec");
const INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class";
const MAX_INGRESS_CLASS_CONTROLLER_LEN = 250;

function specOf(obj: Json): Json {
  return asObj(obj.spec) ?? {};
}

function optStr(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

// ---- ingresses ---------------------------------------------------------------------------------

interface IngressOptions {
  /** Updates keep accepting what older servers let in (upstream's AllowInvalid* options). */
  readonly allowInvalidSecretName: boolean;
  readonly allowInvalidWildcardHostRule: boolean;
}

/** validateIngressTypedLocalObjectReference, also used for ingress class parameters. */
function validateTypedLocalObjectReference(ref: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const apiGroup = optStr(ref.apiGroup);
  if (apiGroup !== undefined) for (const m of isDNS1123Subdomain(apiGroup)) errs.push(invalid(path.child("apiGroup"), apiGroup, m));
  const kind = asStr(ref.kind) ?? "";
  if (kind === "") errs.push(required(path.child("kind"), "kind is required"));
  else for (const m of isValidPathSegmentName(kind)) errs.push(invalid(path.child("kind"), kind, m));
  const name = asStr(ref.name) ?? "";
  if (name === "") errs.push(required(path.child("name"), "name is required"));
  else for (const m of isValidPathSegmentName(name)) errs.push(invalid(path.child("name"), name, m));
  return errs;
}

function validateIngressBackend(backend: Json, path: FieldPath): FieldError[] {
  const resource = asObj(backend.resource);
  const service = asObj(backend.service);
  if (resource && service) return [invalid(path, "", "cannot set both resource and service backends")];
  if (resource) return validateTypedLocalObjectReference(resource, path.child("resource"));
  if (!service) return [invalid(path, "", "resource or service backend is required")];
  const errs: FieldError[] = [];
  const name = asStr(service.name) ?? "";
  if (name === "") errs.push(required(path.child("service", "name"), ""));
  else for (const m of nameIsDNS1035Label(name, false)) errs.push(invalid(path.child("service", "name"), name, m));
  const port = asObj(service.port) ?? {};
  const portName = asStr(port.name) ?? "";
  const portNumber = asNum(port.number) ?? 0;
  if (portName !== "" && portNumber !== 0) errs.push(invalid(path, "", "cannot set both port name & port number"));
  else if (portName !== "") for (const m of isValidPortName(portName)) errs.push(invalid(path.child("service", "port", "name"), portName, m));
  else if (portNumber !== 0) for (const m of isValidPortNum(portNumber)) errs.push(invalid(path.child("service", "port", "number"), portNumber, m));
  else errs.push(required(path, "port name or number is required"));
  return errs;
}

const INVALID_PATH_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES = ["/..", "/."];

function validateHTTPIngressPath(p: Json, path: FieldPath): FieldError[] {
  const pathType = p.pathType;
  if (pathType === undefined || pathType === null) return [required(path.child("pathType"), "pathType must be specified")];
  const errs: FieldError[] = [];
  const value = asStr(p.path) ?? "";
  switch (pathType) {
    case "Exact":
    case "Prefix":
      if (!value.startsWith("/")) errs.push(invalid(path.child("path"), value, "must be an absolute path"));
      if (value.length > 0) {
        for (const seq of INVALID_PATH_SEQUENCES) if (value.includes(seq)) errs.push(invalid(path.child("path"), value, `must not contain '${seq}'`));
        for (const suf of INVALID_PATH_SUFFIXES) if (value.endsWith(suf)) errs.push(invalid(path.child("path"), value, `cannot end with '${suf}'`));
      }
      break;
    case "ImplementationSpecific":
      if (value.length > 0 && !value.startsWith("/")) errs.push(invalid(path.child("path"), value, "must be an absolute path"));
      break;
    default:
      errs.push(notSupported(path.child("pathType"), pathType, ["Exact", "ImplementationSpecific", "Prefix"]));
  }
  errs.push(...validateIngressBackend(asObj(p.backend) ?? {}, path.child("backend")));
  return errs;
}

function validateIngressRules(rules: Json[], path: FieldPath, opts: IngressOptions): FieldError[] {
  const errs: FieldError[] = [];
  rules.forEach((rule, i) => {
    const host = asStr(rule.host) ?? "";
    let wildcard = false;
    if (host.length > 0) {
      if (parseIPSloppy(host)) errs.push(invalid(path.index(i).child("host"), host, "must be a DNS name, not an IP address"));
      if (host.includes("*")) {
        for (const m of isWildcardDNS1123Subdomain(host)) errs.push(invalid(path.index(i).child("host"), host, m));
        wildcard = true;
      } else {
        for (const m of isDNS1123Subdomain(host)) errs.push(invalid(path.index(i).child("host"), host, m));
      }
    }
    if (!wildcard || !opts.allowInvalidWildcardHostRule) {
      const http = asObj(rule.http);
      if (http) {
        const paths = objs(http.paths);
        const hp = path.index(i).child("http");
        if (paths.length === 0) errs.push(required(hp.child("paths"), ""));
        paths.forEach((p, j) => errs.push(...validateHTTPIngressPath(p, hp.child("paths").index(j))));
      }
    }
  });
  return errs;
}

function validateIngressTLS(tls: Json[], path: FieldPath, opts: IngressOptions): FieldError[] {
  const errs: FieldError[] = [];
  tls.forEach((t, i) => {
    (asArr(t.hosts) ?? []).map(String).forEach((host, j) => {
      const hp = path.index(i).child("hosts").index(j);
      const msgs = host.includes("*") ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
      for (const m of msgs) errs.push(invalid(hp, host, m));
    });
    const secret = asStr(t.secretName) ?? "";
    if (!opts.allowInvalidSecretName && secret.length > 0) for (const m of isDNS1123Subdomain(secret)) errs.push(invalid(path.index(i).child("secretName"), secret, m));
  });
  return errs;
}

function validateIngressSpec(spec: Json, opts: IngressOptions): FieldError[] {
  const errs: FieldError[] = [];
  const rules = objs(spec.rules);
  const defaultBackend = asObj(spec.defaultBackend);
  if (rules.length === 0 && !defaultBackend) {
    const bad = Array.isArray(spec.rules) ? new GoRendered("[]networking.IngressRule{}") : new GoRendered("[]networking.IngressRule(nil)");
    errs.push(invalid(SPEC, bad, "either `defaultBackend` or `rules` must be specified"));
  }
  if (defaultBackend) errs.push(...validateIngressBackend(defaultBackend, SPEC.child("defaultBackend")));
  if (rules.length > 0) errs.push(...validateIngressRules(rules, SPEC.child("rules"), opts));
  const tls = objs(spec.tls);
  if (tls.length > 0) errs.push(...validateIngressTLS(tls, SPEC.child("tls"), opts));
  const className = optStr(spec.ingressClassName);
  if (className !== undefined) for (const m of isDNS1123Subdomain(className)) errs.push(invalid(SPEC.child("ingressClassName"), className, m));
  return errs;
}

function validateIngress(ing: Json, opts: IngressOptions): FieldError[] {
  return [...validateMeta(ing, true), ...validateIngressSpec(specOf(ing), opts)];
}

function validateIngressCreate(ing: Json): FieldError[] {
  const errs = validateIngress(ing, { allowInvalidSecretName: false, allowInvalidWildcardHostRule: false });
  const annotation = strMap(asObj(ing.metadata)?.annotations)[INGRESS_CLASS_ANNOTATION];
  const className = optStr(specOf(ing).ingressClassName);
  if (annotation !== undefined && className !== undefined && annotation !== className) {
    errs.push(invalid(FieldPath.of("annotations").child(INGRESS_CLASS_ANNOTATION), annotation, "must match `ingressClassName` when both are specified"));
  }
  return errs;
}

function validateIngressUpdate(ing: Json, old: Json): FieldError[] {
  const oldSpec = specOf(old);
  const invalidSecret = objs(oldSpec.tls).some((t) => {
    const s = asStr(t.secretName) ?? "";
    return s.length > 0 && isDNS1123Subdomain(s).length > 0;
  });
  // Wildcard hosts whose rules were never validated (before 1.18) stay updatable.
  const invalidWildcard = objs(oldSpec.rules).some((r) => (asStr(r.host) ?? "").includes("*") && validateIngressRules([r], SPEC, { allowInvalidSecretName: true, allowInvalidWildcardHostRule: false }).length > 0);
  return [...validateMetaUpdate(ing, old), ...validateIngress(ing, { allowInvalidSecretName: invalidSecret, allowInvalidWildcardHostRule: invalidWildcard })];
}

function validateIngressStatusUpdate(ing: Json, old: Json): FieldError[] {
  const errs = validateMetaUpdate(ing, old);
  const path = FieldPath.of("status", "loadBalancer", "ingress");
  objs(asObj(asObj(ing.status)?.loadBalancer)?.ingress).forEach((lb, i) => {
    const ip = asStr(lb.ip) ?? "";
    if (ip.length > 0) errs.push(...isValidIP(path.index(i).child("ip"), ip));
    const hostname = asStr(lb.hostname) ?? "";
    if (hostname.length > 0) {
      for (const m of isDNS1123Subdomain(hostname)) errs.push(invalid(path.index(i).child("hostname"), hostname, m));
      if (parseIPSloppy(hostname)) errs.push(invalid(path.index(i).child("hostname"), hostname, "must be a DNS name, not an IP address"));
    }
  });
  return errs;
}

/** The printers' formatHosts: up to three rule hosts, "*" when none is set. */
function hostsCell(spec: Json): string {
  const rules = objs(spec.rules);
  const list: string[] = [];
  let more = false;
  for (const r of rules) {
    if (list.length === 3) more = true;
    const host = asStr(r.host) ?? "";
    if (!more && host.length > 0) list.push(host);
  }
  if (list.length === 0) return "*";
  return more ? `${list.join(",")} + ${rules.length - 3} more...` : list.join(",");
}

function addressCell(status: Json): string {
  const seen = new Set<string>();
  for (const lb of objs(asObj(status.loadBalancer)?.ingress)) {
    const v = asStr(lb.ip) || asStr(lb.hostname);
    if (v) seen.add(v);
  }
  return [...seen].join(",");
}

export const ingresses: ResourceDefinition = {
  group: "networking.k8s.io",
  version: "v1",
  kind: "Ingress",
  plural: "ingresses",
  singular: "ingress",
  shortNames: ["ing"],
  namespaced: true,
  definition: "io.k8s.api.networking.v1.Ingress",
  subresources: ["status"],
  strategy: {
    prepareForCreate: (ing) => {
      ing.status = { loadBalancer: {} };
    },
    validate: validateIngressCreate,
    validateUpdate: validateIngressUpdate,
    validateStatusUpdate: validateIngressStatusUpdate,
    statusFields: ["status"],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
      column("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
      column("Address", "string", "Address is a list containing ingress points for the load-balancer"),
      column("Ports", "string", "Ports of TLS configurations that open"),
      ageColumn,
    ],
    row: (ing, now) => {
      const spec = specOf(ing);
      return [nameOf(ing), optStr(spec.ingressClassName) ?? "<none>", hostsCell(spec), addressCell(asObj(ing.status) ?? {}), objs(spec.tls).length > 0 ? "80, 443" : "80", since(creationOf(ing), now)];
    },
  },
};

// ---- network policies ----------------------------------------------------------------------

function defaultNetworkPolicy(np: Json): void {
  const spec = child(np, "spec");
  if (!spec) return;
  if ((asArr(spec.policyTypes) ?? []).length === 0) {
    // A policy that names no types implies Ingress, plus Egress when it has egress rules.
    spec.policyTypes = (asArr(spec.egress) ?? []).length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
  }
  for (const rule of [...objs(spec.ingress), ...objs(spec.egress)]) {
    for (const port of objs(rule.ports)) setDefault(port, "protocol", "TCP");
  }
}

function validateNetworkPolicyPort(port: Json, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const protocol = port.protocol;
  if (protocol !== undefined && protocol !== null && protocol !== "TCP" && protocol !== "UDP" && protocol !== "SCTP") {
    errs.push(notSupported(path.child("protocol"), protocol, ["TCP", "UDP", "SCTP"]));
  }
  const endPort = asNum(port.endPort);
  const p = port.port;
  if (typeof p === "number") {
    for (const m of isValidPortNum(p)) errs.push(invalid(path.child("port"), p, m));
    if (endPort !== undefined) {
      if (endPort < p) errs.push(invalid(path.child("endPort"), p, "must be greater than or equal to `port`"));
      for (const m of isValidPortNum(endPort)) errs.push(invalid(path.child("endPort"), endPort, m));
    }
  } else if (typeof p === "string") {
    if (endPort !== undefined) errs.push(invalid(path.child("endPort"), endPort, "may not be specified when `port` is non-numeric"));
    for (const m of isValidPortName(p)) errs.push(invalid(path.child("port"), p, m));
  } else if (endPort !== undefined) {
    errs.push(invalid(path.child("endPort"), endPort, "may not be specified when `port` is not specified"));
  }
  return errs;
}

function maskedNetwork(ip: readonly number[], bits: number): number[] {
  return ip.map((b, i) => {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
}

function validateIPBlock(block: Json, path: FieldPath): FieldError[] {
  const cidr = asStr(block.cidr) ?? "";
  if (cidr === "") return [required(path.child("cidr"), "")];
  const errs = isValidCIDR(path.child("cidr"), cidr);
  const net = parseCIDRSloppy(cidr);
  if (!net) return errs;
  const base = maskedNetwork(net.ip, net.bits);
  (asArr(block.except) ?? []).map(String).forEach((except, i) => {
    const p = path.child("except").index(i);
    errs.push(...isValidCIDR(p, except));
    const ex = parseCIDRSloppy(except);
    if (!ex) return;
    const inside = ex.ip.length === net.ip.length && maskedNetwork(maskedNetwork(ex.ip, ex.bits), net.bits).every((b, j) => b === base[j]);
    if (!inside || net.bits >= ex.bits) errs.push(invalid(p, except, "must be a strict subset of `cidr`"));
  });
  return errs;
}

function validateNetworkPolicyPeer(peer: Json, path: FieldPath, opts: { allowInvalidLabelValueInSelector: boolean }): FieldError[] {
  const errs: FieldError[] = [];
  let peers = 0;
  for (const f of ["podSelector", "namespaceSelector"]) {
    if (isObj(peer[f])) {
      peers++;
      errs.push(...validateLabelSelector(peer[f] as LabelSelector, opts, path.child(f)));
    }
  }
  const ipBlock = asObj(peer.ipBlock);
  if (ipBlock) {
    peers++;
    errs.push(...validateIPBlock(ipBlock, path.child("ipBlock")));
  }
  if (peers === 0) errs.push(required(path, "must specify a peer"));
  else if (peers > 1 && ipBlock) errs.push(forbidden(path, "may not specify both ipBlock and another peer"));
  return errs;
}

function validateNetworkPolicySpec(spec: Json, allowInvalidLabelValueInSelector: boolean): FieldError[] {
  const opts = { allowInvalidLabelValueInSelector };
  const errs = validateLabelSelector((asObj(spec.podSelector) ?? {}) as LabelSelector, opts, SPEC.child("podSelector"));
  for (const [dir, peerField] of [["ingress", "from"], ["egress", "to"]] as const) {
    objs(spec[dir]).forEach((rule, i) => {
      const rp = SPEC.child(dir).index(i);
      objs(rule.ports).forEach((port, j) => errs.push(...validateNetworkPolicyPort(port, rp.child("ports").index(j))));
      objs(rule[peerField]).forEach((peer, j) => errs.push(...validateNetworkPolicyPeer(peer, rp.child(peerField).index(j), opts)));
    });
  }
  const types = (asArr(spec.policyTypes) ?? []).map(String);
  if (types.length > 2) {
    errs.push(invalid(SPEC.child("policyTypes"), new GoRendered(`[]networking.PolicyType{${types.map((t) => goQuote(t)).join(", ")}}`), "may not specify more than two policyTypes"));
    return errs;
  }
  types.forEach((t, i) => {
    if (t !== "Ingress" && t !== "Egress") errs.push(notSupported(SPEC.child("policyTypes").index(i), t, ["Ingress", "Egress"]));
  });
  return errs;
}

function selectorsHaveInvalidLabelValue(spec: Json): boolean {
  const selectors: unknown[] = [spec.podSelector];
  for (const [dir, peerField] of [["ingress", "from"], ["egress", "to"]] as const) {
    for (const rule of objs(spec[dir])) for (const peer of objs(rule[peerField])) selectors.push(peer.podSelector, peer.namespaceSelector);
  }
  return selectors.some((s) => isObj(s) && validateLabelSelector(s as LabelSelector, {}, SPEC).some((e) => e.field.includes(".values[")));
}

export const networkPolicies: ResourceDefinition = {
  group: "networking.k8s.io",
  version: "v1",
  kind: "NetworkPolicy",
  plural: "networkpolicies",
  singular: "networkpolicy",
  shortNames: ["netpol"],
  namespaced: true,
  definition: "io.k8s.api.networking.v1.NetworkPolicy",
  strategy: {
    defaults: defaultNetworkPolicy,
    validate: (np) => [...validateMeta(np, true), ...validateNetworkPolicySpec(specOf(np), false)],
    validateUpdate: (np, old) => [...validateMetaUpdate(np, old), ...validateNetworkPolicySpec(specOf(np), selectorsHaveInvalidLabelValue(specOf(old)))],
    statusFields: [],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [nameColumn(), column("Pod-Selector", "string", D.netpolPodSelector), ageColumn],
    row: (np, now) => [nameOf(np), formatLabelSelector((asObj(specOf(np).podSelector) ?? {}) as LabelSelector), since(creationOf(np), now)],
  },
};

// ---- ingress classes -----------------------------------------------------------------------

function defaultIngressClass(ic: Json): void {
  const params = asObj(specOf(ic).parameters);
  if (params) setDefault(params, "scope", "Cluster");
}

function validateIngressClassParameters(params: Json, path: FieldPath): FieldError[] {
  const errs = validateTypedLocalObjectReference(params, path);
  const scope = params.scope;
  if (scope === undefined || scope === null) return [...errs, required(path.child("scope"), "")];
  const namespace = optStr(params.namespace);
  if (scope !== "Cluster" && scope !== "Namespace") errs.push(notSupported(path.child("scope"), typeof scope === "string" ? scope : "", ["Cluster", "Namespace"]));
  else if (scope === "Namespace") {
    if (namespace === undefined) errs.push(required(path.child("namespace"), "`parameters.scope` is set to 'Namespace'"));
    else for (const m of validateNamespaceName(namespace, false)) errs.push(invalid(path.child("namespace"), namespace, m));
  } else if (namespace !== undefined) {
    errs.push(forbidden(path.child("namespace"), "`parameters.scope` is set to 'Cluster'"));
  }
  return errs;
}

function validateIngressClass(ic: Json): FieldError[] {
  const errs = validateMeta(ic, false);
  const spec = specOf(ic);
  const controller = asStr(spec.controller) ?? "";
  if (controller.length > MAX_INGRESS_CLASS_CONTROLLER_LEN) errs.push(tooLong(SPEC.child("controller"), MAX_INGRESS_CLASS_CONTROLLER_LEN));
  errs.push(...isDomainPrefixedPath(SPEC.child("controller"), controller));
  const params = asObj(spec.parameters);
  if (params) errs.push(...validateIngressClassParameters(params, SPEC.child("parameters")));
  return errs;
}

function ingressClassParametersCell(spec: Json): string {
  const params = asObj(spec.parameters);
  if (!params) return "<none>";
  const group = optStr(params.apiGroup);
  const kind = asStr(params.kind) ?? "";
  return `${group === undefined ? kind : `${kind}.${group}`}/${asStr(params.name) ?? ""}`;
}

export const ingressClasses: ResourceDefinition = {
  group: "networking.k8s.io",
  version: "v1",
  kind: "IngressClass",
  plural: "ingressclasses",
  singular: "ingressclass",
  namespaced: false,
  definition: "io.k8s.api.networking.v1.IngressClass",
  strategy: {
    defaults: defaultIngressClass,
    validate: validateIngressClass,
    validateUpdate: (ic, old) => {
      const errs = validateMetaUpdate(ic, old);
      const controller = asStr(specOf(ic).controller) ?? "";
      const oldController = asStr(specOf(old).controller) ?? "";
      if (controller !== oldController) errs.push(invalid(SPEC.child("controller"), controller, "field is immutable"));
      return [...errs, ...validateIngressClass(ic)];
    },
    statusFields: [],
    specFields: ["spec"],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [
      nameColumn(),
      column("Controller", "string", "Controller that is responsible for handling this class"),
      column("Parameters", "string", "A reference to a resource with additional parameters"),
      ageColumn,
    ],
    row: (ic, now) => [nameOf(ic), asStr(specOf(ic).controller) ?? "", ingressClassParametersCell(specOf(ic)), since(creationOf(ic), now)],
  },
};

export const networkingResources: readonly ResourceDefinition[] = [ingressClasses, ingresses, networkPolicies];

