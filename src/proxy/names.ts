// Chain and set names. iptables names are upstream's: `KUBE-SVC-` + the first 16 base32
// characters of sha256(servicePortName + protocol) (endpoints add the `ip:port` string), so a
// rule dump reads like a kube-proxy's and names survive restarts. nftables names are upstream's
// readable ones: `service-<hash8>-ns/name/proto/port`.
import { createHash } from "node:crypto";
import { endpointString, ProxyError, type EndpointInfo, type ServicePortInfo } from "./model.js";

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 (Go's base32.StdEncoding), without padding: callers only take a prefix. */
export function base32(buf: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

export function hashName(s: string, len: number): string {
  return base32(createHash("sha256").update(s).digest()).slice(0, len);
}

/** iptables chain names are at most 28 characters (XT_EXTENSION_MAXNAMELEN less the NUL). */
const IPTABLES_MAX_CHAIN = 28;

/** A prefix of upper-case letters, digits and dashes that leaves room for `-EXTERNAL-SERVICES`. */
export function checkChainPrefix(prefix: string): void {
  if (!/^[A-Z][A-Z0-9]*$/.test(prefix) || prefix.length > 10) {
    throw new ProxyError("InvalidOptions", `chain prefix ${JSON.stringify(prefix)}: want 1-10 upper-case letters or digits, starting with a letter`);
  }
}

/** The names of one proxier's iptables chains. */
export class IptablesNames {
  readonly services: string;
  readonly nodePorts: string;
  readonly externalServices: string;
  readonly forward: string;
  readonly postrouting: string;
  readonly markMasq: string;
  readonly firewall: string;
  /** Prefixes of the per-service and per-endpoint chains (stale ones are found by them). */
  readonly dynamicPrefixes: readonly string[];
  private readonly hashLen: number;
  private readonly cache = new Map<string, string>();

  constructor(readonly prefix: string) {
    checkChainPrefix(prefix);
    this.services = `${prefix}-SERVICES`;
    this.nodePorts = `${prefix}-NODEPORTS`;
    this.externalServices = `${prefix}-EXTERNAL-SERVICES`;
    this.forward = `${prefix}-FORWARD`;
    this.postrouting = `${prefix}-POSTROUTING`;
    this.markMasq = `${prefix}-MARK-MASQ`;
    this.firewall = `${prefix}-FIREWALL`;
    this.dynamicPrefixes = ["SVC", "SVL", "EXT", "SEP"].map((k) => `${prefix}-${k}-`);
    // Upstream's 16 hash characters with "KUBE"; a longer prefix gets fewer so names fit.
    this.hashLen = Math.min(16, IPTABLES_MAX_CHAIN - prefix.length - 5);
  }

  /** Every chain name that is ours: the fixed ones and any per-service/per-endpoint one. */
  isOurs(chain: string): boolean {
    return this.fixed().includes(chain) || this.dynamicPrefixes.some((p) => chain.startsWith(p));
  }

  fixed(): string[] {
    return [this.services, this.nodePorts, this.externalServices, this.forward, this.postrouting, this.markMasq, this.firewall];
  }

  private hashed(kind: string, key: string): string {
    const k = `${kind}\0${key}`;
    let name = this.cache.get(k);
    if (name === undefined) {
      name = `${this.prefix}-${kind}-${hashName(key, this.hashLen)}`;
      this.cache.set(k, name);
    }
    return name;
  }

  private portKey(sp: ServicePortInfo): string {
    return sp.name + sp.protocol.toLowerCase();
  }

  /** Cluster-policy chain (upstream KUBE-SVC-). */
  svc(sp: ServicePortInfo): string {
    return this.hashed("SVC", this.portKey(sp));
  }

  /** Local-policy chain (upstream KUBE-SVL-). */
  svl(sp: ServicePortInfo): string {
    return this.hashed("SVL", this.portKey(sp));
  }

  /** External destinations chain (upstream KUBE-EXT-). */
  ext(sp: ServicePortInfo): string {
    return this.hashed("EXT", this.portKey(sp));
  }

  /** Per-endpoint chain (upstream KUBE-SEP-); also the name of its `-m recent` affinity list. */
  sep(sp: ServicePortInfo, ep: EndpointInfo): string {
    return this.hashed("SEP", this.portKey(sp) + endpointString(ep));
  }
}

/** nftables names are up to 256 bytes; upstream keeps its per-service base under 240. */
const NFT_BASE_MAX = 240;

function nftBase(name: string): string {
  const full = `${hashName(name, 8)}-${name}`;
  return full.length > NFT_BASE_MAX ? `${full.slice(0, NFT_BASE_MAX - 3)}...` : full;
}

export class NftNames {
  private readonly cache = new Map<string, string>();

  private base(sp: ServicePortInfo): string {
    const key = `${sp.namespace}/${sp.service}/${sp.protocol.toLowerCase()}/${sp.portName}`;
    let b = this.cache.get(key);
    if (b === undefined) this.cache.set(key, (b = nftBase(key)));
    return b;
  }

  private epBase(sp: ServicePortInfo, ep: EndpointInfo): string {
    const key = `${sp.namespace}/${sp.service}/${sp.protocol.toLowerCase()}/${sp.portName}__${ep.ip}/${ep.port}`;
    let b = this.cache.get(key);
    if (b === undefined) this.cache.set(key, (b = nftBase(key)));
    return b;
  }

  service(sp: ServicePortInfo): string {
    return `service-${this.base(sp)}`;
  }

  local(sp: ServicePortInfo): string {
    return `local-${this.base(sp)}`;
  }

  external(sp: ServicePortInfo): string {
    return `external-${this.base(sp)}`;
  }

  endpoint(sp: ServicePortInfo, ep: EndpointInfo): string {
    return `endpoint-${this.epBase(sp, ep)}`;
  }

  affinity(sp: ServicePortInfo, ep: EndpointInfo): string {
    return `affinity-${this.epBase(sp, ep)}`;
  }
}

/** Chains and sets of ours whose names carry a service (the fixed ones never contain a slash). */
export function isNftServiceObject(name: string): boolean {
  return name.includes("/");
}
