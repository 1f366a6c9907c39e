// Importing image archives into the node's containerd, in the k8s.io namespace the CRI plugin
// serves. `ctr` (shipped with Debian's containerd) reads OCI layout and `docker save` archives
// and unpacks them into the default snapshotter, so CRI can start containers from them at once.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { CriClient } from "../cri/client.js";
import { BUSYBOX_IMAGE, buildBusyboxImage, buildPauseImage, DEFAULT_BUSYBOX_PATH, PAUSE_IMAGE } from "./builtin.js";
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

function archiveName(reference: string): string {
  return reference.replace(/^.*\//, "").replace(/:/g, "-");
}

/** Writes the built-in images as OCI archives under `dir`; returns their paths by reference. */
export function writeBuiltinArchives(dir: string, images: readonly BuiltImage[] = builtinImages()): Map<string, string> {
  mkdirSync(dir, { recursive: true });
  const out = new Map<string, string>();
  for (const image of images) {
    const file = join(dir, `${archiveName(image.reference)}.tar`);
    writeFileSync(file, image.archive);
    out.set(image.reference, file);
  }
  return out;
}

/** An image the node builds from host files. */
export interface ImageSource {
  readonly reference: string;
  /** the host files it is built from: a change to any (size, mtime) means a rebuild */
  readonly inputs: readonly string[];
  build(): BuiltImage | Promise<BuiltImage>;
}

function inputsSignature(files: readonly string[]): string {
  return files
    .map((p) => {
      const st = statSync(p, { throwIfNoEntry: false });
      return `${p}:${st?.size ?? "-"}:${st?.mtimeMs ?? "-"}`;
    })
    .join("|");
}

/**
 * Makes each image present in containerd. Building compresses the image's files (for the DNS
 * image, the whole Node binary), so it is skipped when a stamp beside the archives says
 * containerd holds the image built from these very inputs; otherwise the image is built and
 * imported unless containerd already has the same image id (so a busybox or Node upgrade on
 * the host brings a new image).
 */
export async function ensureImages(cri: CriClient, sources: readonly ImageSource[], opts: ImportOptions & { archiveDir: string }): Promise<BuiltinImageResult[]> {
  mkdirSync(opts.archiveDir, { recursive: true });
  const results: BuiltinImageResult[] = [];
  for (const source of sources) {
    const stampFile = join(opts.archiveDir, `${archiveName(source.reference)}.stamp.json`);
    const inputs = inputsSignature(source.inputs);
    const stampIt = (id: string): void => writeFileSync(stampFile, JSON.stringify({ inputs, id }) + "\n");
    try {
      const stamp = JSON.parse(readFileSync(stampFile, "utf8")) as { inputs?: string; id?: string };
      if (stamp.inputs === inputs && stamp.id && (await cri.imageStatus(source.reference)).image?.id === stamp.id) {
        results.push({ reference: source.reference, id: stamp.id, imported: false });
        continue;
      }
    } catch {
      // no stamp yet, or an unreadable one: build
    }
    const image = await source.build();
    if ((await cri.imageStatus(image.reference)).image?.id === image.configDigest) {
      stampIt(image.configDigest);
      results.push({ reference: image.reference, id: image.configDigest, imported: false });
      continue;
    }
    const file = writeBuiltinArchives(opts.archiveDir, [image]).get(image.reference)!;
    await importImageArchive(file, opts);
    const status = await cri.imageStatus(image.reference);
    if (status.image === null) throw new ImageImportError("ImportFailed", `${image.reference} imported from ${file} but the CRI runtime does not report it`);
    stampIt(status.image.id);
    results.push({ reference: image.reference, id: status.image.id, imported: true });
  }
  return results;
}

/** The built-in busybox and pause images, made present in containerd (see ensureImages). */
export async function ensureBuiltinImages(cri: CriClient, opts: ImportOptions & { archiveDir: string; busyboxPath?: string }): Promise<BuiltinImageResult[]> {
  const busybox = opts.busyboxPath ?? DEFAULT_BUSYBOX_PATH;
  return ensureImages(
    cri,
    [
      { reference: PAUSE_IMAGE, inputs: [busybox], build: () => buildPauseImage(busybox) },
      { reference: BUSYBOX_IMAGE, inputs: [busybox], build: () => buildBusyboxImage(busybox) },
    ],
    opts,
  );
}
