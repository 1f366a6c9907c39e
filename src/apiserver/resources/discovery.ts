// discovery.k8s.io/v1 endpoint slices: port defaults, upstream's validation (address types,
// per-type address checks, at most 1000 endpoints, 100 addresses each, 20000 ports), the
// generation rule (any change but metadata, or a label change, bumps it) and the table.
import { duplicate, FieldPath, invalid, notSupported, required, tooMany, type FieldError } from "../../api/fielderrors.js";
import { isFullyQualifiedDomainName, isValidIPv4Address, isValidIPv6Address, isValidLabelValue, nameIsDNSSubdomain, validateLabels } from "../../api/validation.js";
import type { ResourceDefinition } from "../registry/types.js";
import { dns1123Label, immutable, qualifiedName, validateMeta, validateMetaUpdate, validateNonSpecialIP } from "./common.js";
import { D } from "./descriptions.js";
import { ageColumn, column, listWithMore, nameColumn, since } from "./print.js";
import { asArr, asNum, asObj, asStr, creationOf, jsonEqual, nameOf, objs, setDefault, strMap, type Json } from "./util.js";

const MAX_TOPOLOGY_LABELS = 16;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_ENDPOINTS = 1000;
const MAX_ZONE_HINTS = 8;

const ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];

function defaultEndpointSlice(eps: Json): void {
  for (const port of objs(eps.ports)) {
    setDefault(port, "name", "");
    setDefault(port, "protocol", "TCP");
  }
}

function validateAddress(addressType: unknown, address: string, path: FieldPath): FieldError[] {
  switch (addressType) {
    case "IPv4": {
      const errs = isValidIPv4Address(path, address);
      return errs.length > 0 ? errs : validateNonSpecialIP(address, path);
    }
    case "IPv6": {
      const errs = isValidIPv6Address(path, address);
      return errs.length > 0 ? errs : validateNonSpecialIP(address, path);
    }
    case "FQDN":
      return isFullyQualifiedDomainName(path, address);
    default:
      // Unknown address types are reported once at addressType, not per address.
      return [];
  }
}

function validateHints(hints: Json, path: FieldPath): FieldError[] {
  const zones = objs(hints.forZones);
  const fz = path.child("forZones");
  if (zones.length > MAX_ZONE_HINTS) return [tooMany(fz, zones.length, MAX_ZONE_HINTS)];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  zones.forEach((z, i) => {
    const zp = fz.index(i).child("name");
    const name = asStr(z.name) ?? "";
    if (seen.has(name)) errs.push(duplicate(zp, name));
    else seen.add(name);
    for (const m of isValidLabelValue(name)) errs.push(invalid(zp, name, m));
  });
  return errs;
}

function validateEndpoints(eps: Json): FieldError[] {
  const path = FieldPath.of("endpoints");
  const endpoints = objs(eps.endpoints);
  if (endpoints.length > MAX_ENDPOINTS) return [tooMany(path, endpoints.length, MAX_ENDPOINTS)];
  const errs: FieldError[] = [];
  endpoints.forEach((ep, i) => {
    const idx = path.index(i);
    const addrPath = idx.child("addresses");
    const addresses = (asArr(ep.addresses) ?? []).map(String);
    if (addresses.length === 0) errs.push(required(addrPath, "must contain at least 1 address"));
    else if (addresses.length > MAX_ADDRESSES) errs.push(tooMany(addrPath, addresses.length, MAX_ADDRESSES));
    addresses.forEach((a, j) => errs.push(...validateAddress(eps.addressType, a, addrPath.index(j))));
    const nodeName = asStr(ep.nodeName);
    if (nodeName !== undefined) for (const m of nameIsDNSSubdomain(nodeName, false)) errs.push(invalid(idx.child("nodeName"), nodeName, m));
    const topology = strMap(ep.deprecatedTopology);
    const topoPath = idx.child("deprecatedTopology");
    if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS) errs.push(tooMany(topoPath, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
    errs.push(...validateLabels(topology, topoPath));
    const zone = asStr(ep.zone);
    if (zone !== undefined) for (const m of isValidLabelValue(zone)) errs.push(invalid(idx.child("zone"), zone, m));
    const hostname = asStr(ep.hostname);
    if (hostname !== undefined) errs.push(...dns1123Label(hostname, idx.child("hostname")));
    const hints = asObj(ep.hints);
    if (hints) errs.push(...validateHints(hints, idx.child("hints")));
  });
  return errs;
}

function validatePorts(eps: Json): FieldError[] {
  const path = FieldPath.of("ports");
  const ports = objs(eps.ports);
  if (ports.length > MAX_PORTS) return [tooMany(path, ports.length, MAX_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const idx = path.index(i);
    const name = asStr(p.name) ?? "";
    if (name.length > 0) errs.push(...dns1123Label(name, idx.child("name")));
    if (names.has(name)) errs.push(duplicate(idx.child("name"), name));
    else names.add(name);
    if (p.protocol === undefined || p.protocol === null) errs.push(required(idx.child("protocol"), ""));
    else if (typeof p.protocol !== "string" || !PROTOCOLS.includes(p.protocol)) errs.push(notSupported(idx.child("protocol"), p.protocol, PROTOCOLS));
    const appProtocol = asStr(p.appProtocol);
    if (appProtocol !== undefined) errs.push(...qualifiedName(appProtocol, idx.child("appProtocol")));
  });
  return errs;
}

function validateEndpointSlice(eps: Json): FieldError[] {
  const errs = validateMeta(eps, true);
  const at = eps.addressType;
  if (at === undefined || at === null || at === "") errs.push(required(FieldPath.of("addressType"), ""));
  else if (typeof at !== "string" || !ADDRESS_TYPES.includes(at)) errs.push(notSupported(FieldPath.of("addressType"), at, ADDRESS_TYPES));
  errs.push(...validateEndpoints(eps), ...validatePorts(eps));
  return errs;
}

/** The printers' formatDiscoveryPorts: port numbers (or names, or "*"), three at most. */
function portsCell(eps: Json): string {
  const ports = objs(eps.ports).map((p) => {
    const n = asNum(p.port);
    if (n !== undefined) return String(n);
    return asStr(p.name) ?? "*";
  });
  return listWithMore(ports.slice(0, 3), 3, ports.length);
}

function endpointsCell(eps: Json): string {
  const addrs = objs(eps.endpoints).flatMap((ep) => (asArr(ep.addresses) ?? []).map(String));
  return listWithMore(addrs.slice(0, 3), 3, addrs.length);
}

export const endpointSlices: ResourceDefinition = {
  group: "discovery.k8s.io",
  version: "v1",
  kind: "EndpointSlice",
  plural: "endpointslices",
  singular: "endpointslice",
  namespaced: true,
  definition: "io.k8s.api.discovery.v1.EndpointSlice",
  strategy: {
    defaults: defaultEndpointSlice,
    // Any field but metadata counts as spec (the store bumps generation for those); a label
    // change bumps it too, as kube-proxy and the mirroring controller key on labels.
    prepareForUpdate: (eps, old) => {
      const meta = eps.metadata;
      const oldMeta = old.metadata ?? {};
      if (meta && meta.generation === (oldMeta.generation ?? 1) && !jsonEqual(meta.labels ?? {}, oldMeta.labels ?? {})) meta.generation = (meta.generation ?? 1) + 1;
    },
    validate: validateEndpointSlice,
    validateUpdate: (eps, old) => [...validateMetaUpdate(eps, old), ...validateEndpointSlice(eps), ...immutable(eps.addressType, old.addressType, FieldPath.of("addressType"))],
    statusFields: [],
    allowCreateOnUpdate: false,
    allowUnconditionalUpdate: true,
  },
  table: {
    columns: [nameColumn(), column("AddressType", "string", D.epsAddressType), column("Ports", "string", D.epsPorts), column("Endpoints", "string", D.epsEndpoints), ageColumn],
    row: (eps, now) => [nameOf(eps), asStr(eps.addressType) ?? "", portsCell(eps), endpointsCell(eps), since(creationOf(eps), now)],
  },
};

export const discoveryResources: readonly ResourceDefinition[] = [endpointSlices];
