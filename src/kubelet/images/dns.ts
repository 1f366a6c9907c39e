// The cluster DNS image, built on the node from what is already there — as upstream ships
// CoreDNS as an image, k8ts ships its DNS server as one, but without a registry: the running
// Node binary at /usr/bin/node with the shared libraries `ldd` lists for it (each under every
// name the loader looks it up by: symlinked directories such as Debian's /lib → usr/lib and
// versioned library links are reproduced as links), the dynamic loader at its PT_INTERP path,
// and the bundled server (scripts/bundle-dns.mjs) at /k8ts-dns.cjs.
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { dirname, posix, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { VERSION } from "../../util/version.js";
import type { CriClient } from "../cri/client.js";
import { ensureImages, type BuiltinImageResult, type ImportOptions } from "./import.js";
import { buildOciImage, buildOciImageAsync, type BuiltImage, type OciImageSpec } from "./oci.js";
import type { TarEntry } from "./tar.js";
import { CodedError } from "../../util/errors.js";

export const DNS_IMAGE = `k8ts.local/dns:${VERSION.gitVersion}`;
export const DNS_BUNDLE_IN_IMAGE = "/k8ts-dns.cjs";
export const NODE_IN_IMAGE = "/usr/bin/node";

export class DnsImageError extends CodedError<"BundleMissing" | "NodeMissing" | "LddFailed"> {
  override readonly name = "DnsImageError";
}

/** Where the build puts the bundle: dist/dns/k8ts-dns.cjs, found from this module (dist/src/kubelet/images/). */
export function defaultDnsBundlePath(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "dns", "k8ts-dns.cjs");
}

/**
 * The files `ldd` says `binary` loads: resolved library paths and the loader, without the
 * kernel's vDSO (which is no file).
 */
export function sharedLibraries(binary: string): string[] {
  let out: string;
  try {
    out = execFileSync("ldd", [binary], { encoding: "utf8" });
  } catch (err) {
    throw new DnsImageError("LddFailed", `ldd ${binary}: ${(err as Error).message}`, { cause: err });
  }
  const paths = new Set<string>();
  for (const line of out.split("\n")) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (m?.[1]) paths.add(m[1]);
    else if (/=>\s*not found/.test(line)) throw new DnsImageError("LddFailed", `ldd ${binary}: ${line.trim()}`);
  }
  return [...paths];
}

/**
 * Adds a host file to the layer under the same path, following symlinks the way the loader
 * does: each symlink met on the way (a directory or the file itself) becomes a link in the
 * image and the walk continues at its target, so every name resolves inside the image.
 */
function addHostFile(path: string, entries: Map<string, TarEntry>, depth = 0): void {
  if (depth > 40) throw new DnsImageError("LddFailed", `too many levels of symbolic links at ${path}`);
  const parts = posix.normalize(path).split("/").filter(Boolean);
  let at = "";
  for (let i = 0; i < parts.length; i++) {
    const host = `${at}/${parts[i]}`;
    const rel = host.slice(1);
    const st = lstatSync(host);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(host);
      if (!entries.has(rel)) entries.set(rel, { type: "symlink", path: rel, target });
      const resolved = posix.resolve(posix.dirname(host), target);
      addHostFile(posix.join(resolved, ...parts.slice(i + 1)), entries, depth + 1);
      return;
    }
    if (i < parts.length - 1) {
      if (!entries.has(rel)) entries.set(rel, { type: "dir", path: rel, mode: st.mode & 0o7777 });
    } else if (!entries.has(rel)) {
      entries.set(rel, { type: "file", path: rel, mode: st.mode & 0o7777, data: readFileSync(host) });
    }
    at = host;
  }
}

const PASSWD = "root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP = "root:x:0:\nnogroup:x:65534:\n";

/** The image's one layer: the Node runtime, its libraries and loader, the bundle. */
export function dnsLayer(o: { nodePath?: string; bundlePath?: string } = {}): TarEntry[] {
  const nodePath = o.nodePath ?? process.execPath;
  const bundlePath = o.bundlePath ?? defaultDnsBundlePath();
  if (!existsSync(nodePath)) throw new DnsImageError("NodeMissing", `${nodePath} not found`);
  if (!existsSync(bundlePath)) throw new DnsImageError("BundleMissing", `${bundlePath} not found: run \`node scripts/bundle-dns.mjs\` (part of the build)`);
  const entries = new Map<string, TarEntry>();
  for (const [p, mode] of [["etc", 0o755], ["tmp", 0o1777], ["usr", 0o755], ["usr/bin", 0o755], ["proc", 0o555], ["sys", 0o555], ["dev", 0o755], ["root", 0o700]] as const) entries.set(p, { type: "dir", path: p, mode });
  entries.set(NODE_IN_IMAGE.slice(1), { type: "file", path: NODE_IN_IMAGE.slice(1), mode: 0o755, data: readFileSync(realpathSync(nodePath)) });
  for (const lib of sharedLibraries(nodePath)) addHostFile(lib, entries);
  entries.set(DNS_BUNDLE_IN_IMAGE.slice(1), { type: "file", path: DNS_BUNDLE_IN_IMAGE.slice(1), mode: 0o644, data: readFileSync(bundlePath) });
  entries.set("etc/passwd", { type: "file", path: "etc/passwd", mode: 0o644, data: Buffer.from(PASSWD) });
  entries.set("etc/group", { type: "file", path: "etc/group", mode: 0o644, data: Buffer.from(GROUP) });
  // Directories before what they hold, then everything in path order: the same files always
  // give the same tar, so the same image id.
  const all = [...entries.values()];
  const dirs = all.filter((e) => e.type === "dir").sort((a, b) => a.path.localeCompare(b.path));
  const rest = all.filter((e) => e.type !== "dir").sort((a, b) => a.path.localeCompare(b.path));
  return [...dirs, ...rest];
}

function dnsImageSpec(o: { nodePath?: string; bundlePath?: string; reference?: string }): OciImageSpec {
  return {
    reference: o.reference ?? DNS_IMAGE,
    layer: dnsLayer(o),
    config: {
      Entrypoint: [NODE_IN_IMAGE, DNS_BUNDLE_IN_IMAGE],
      User: "0",
      Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production"],
      ExposedPorts: { "53/udp": {}, "53/tcp": {}, "9153/tcp": {} },
      Labels: { "org.opencontainers.image.title": "k8ts cluster DNS", "org.opencontainers.image.version": VERSION.gitVersion },
    },
  };
}

export function buildDnsImage(o: { nodePath?: string; bundlePath?: string; reference?: string } = {}): BuiltImage {
  return buildOciImage(dnsImageSpec(o));
}

/**
 * Makes the DNS image present in containerd: built from this node's Node binary and bundle
 * (see ensureImages: rebuilt only when either changed).
 */
export async function ensureDnsImage(cri: CriClient, opts: ImportOptions & { archiveDir: string; nodePath?: string; bundlePath?: string }): Promise<BuiltinImageResult> {
  const [result] = await ensureImages(
    cri,
    [
      {
        reference: DNS_IMAGE,
        inputs: [opts.nodePath ?? process.execPath, opts.bundlePath ?? defaultDnsBundlePath()],
        // The gzip of ~100 MB runs in libuv's pool.
        build: () => buildOciImageAsync(dnsImageSpec(opts)),
      },
    ],
    opts,
  );
  return result!;
}
