// Importing image archives into the node's containerd, in the k8s.io namespace the CRI plugin
// serves. `ctr` (shipped with Debian's containerd) reads OCI layout and `docker save` archives
// and unpacks them into the default snapshotter, so CRI can start containers from them at once.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { CriClient } from "../cri/client.js";
import { buildBusyboxImage, buildPauseImage } from "./builtin.js";
import type { BuiltImage } from "./oci.js";

const run = promisify(execFile);

export const CRI_NAMESPACE = "k8s.io";

export class ImageImportError extends Error {
  override readonly name = "ImageImportError";
  constructor(
    readonly code: "CtrMissing" | "ImportFailed" | "RuntimeNotRunning",
    message: string,
    readonly stderr = "",
  ) {
    super(message);
  }
}

export interface ImportOptions {
  /** containerd's socket path (not a unix:// URL) */
  address: string;
  namespace?: string;
  ctrPath?: string;
  timeoutMs?: number;
}

/** Imports an OCI layout or docker archive; returns the references ctr reports it unpacked. */
export async function importImageArchive(file: string, opts: ImportOptions): Promise<string[]> {
  const args = ["--address", opts.address, "--namespace", opts.namespace ?? CRI_NAMESPACE, "images", "import", file];
  let stdout: string;
  try {
    ({ stdout } = await run(opts.ctrPath ?? "ctr", args, { timeout: opts.timeoutMs ?? 300_000, maxBuffer: 16 * 1024 * 1024 }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw new ImageImportError("CtrMissing", `ctr not found: install the Debian package containerd`);
    const stderr = (e.stderr ?? "").trim();
    throw new ImageImportError("ImportFailed", `ctr images import ${file}: ${stderr || e.message}`, stderr);
  }
  // "unpacking docker.io/library/busybox:1.35 (sha256:…)...done"
  const refs: string[] = [];
  for (const m of stdout.matchAll(/^unpacking (\S+) \(sha256:[0-9a-f]+\)/gm)) if (m[1] !== undefined) refs.push(m[1]);
  return refs;
}

export interface BuiltinImageResult {
  reference: string;
  /** the image id (config digest) containerd has for it now */
  id: string;
  /** false when containerd already had exactly this image */
  imported: boolean;
}

export function builtinImages(busyboxPath?: string): BuiltImage[] {
  return [buildPauseImage(busyboxPath), buildBusyboxImage(busyboxPath)];
}

/** Writes the built-in images as OCI archives under `dir`; returns their paths by reference. */
export function writeBuiltinArchives(dir: string, images: readonly BuiltImage[] = builtinImages()): Map<string, string> {
  mkdirSync(dir, { recursive: true });
  const out = new Map<string, string>();
  for (const image of images) {
    const file = join(dir, `${image.reference.replace(/^.*\//, "").replace(/:/g, "-")}.tar`);
    writeFileSync(file, image.archive);
    out.set(image.reference, file);
  }
  return out;
}

/**
 * Makes the built-in images present in containerd: each is built from the host's files and
 * imported unless containerd already holds the same image id (a busybox upgrade on the host
 * changes the id, so the new one is imported).
 */
export async function ensureBuiltinImages(cri: CriClient, opts: ImportOptions & { archiveDir: string; busyboxPath?: string }): Promise<BuiltinImageResult[]> {
  const images = builtinImages(opts.busyboxPath);
  const results: BuiltinImageResult[] = [];
  const missing: BuiltImage[] = [];
  for (const image of images) {
    const status = await cri.imageStatus(image.reference);
    if (status.image?.id === image.configDigest) results.push({ reference: image.reference, id: image.configDigest, imported: false });
    else missing.push(image);
  }
  if (missing.length === 0) return results;
  const files = writeBuiltinArchives(opts.archiveDir, missing);
  for (const image of missing) {
    const file = files.get(image.reference);
    if (file === undefined) continue;
    await importImageArchive(file, opts);
    const status = await cri.imageStatus(image.reference);
    if (status.image === null) throw new ImageImportError("ImportFailed", `${image.reference} imported from ${file} but the CRI runtime does not report it`);
    results.push({ reference: image.reference, id: status.image.id, imported: true });
  }
  return results;
}
