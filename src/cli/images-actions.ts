// What `k8ts images import` and `k8ts images build-builtin` do, without argv.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { containerdSocketPath } from "../kubelet/containerd.js";
import { kubeletPaths } from "../kubelet/types.js";
import { CriClient } from "../kubelet/cri/client.js";
import { builtinImages, ensureBuiltinImages, importImageArchive, ImageImportError, writeBuiltinArchives, type BuiltinImageResult } from "../kubelet/images/import.js";

export interface ImportImagesOptions {
  files: readonly string[];
  dataDir: string;
  /** containerd socket; default <data-dir>/containerd/containerd.sock */
  address?: string;
}

export interface ImportedArchive {
  file: string;
  references: string[];
}

/** The node's containerd of a data dir: the agent keeps its state under <data-dir>/agent. */
function socketOf(dataDir: string, address?: string): string {
  return address ?? containerdSocketPath(kubeletPaths(dataDir).root);
}

async function answers(socket: string): Promise<boolean> {
  if (!existsSync(socket)) return false;
  const cri = new CriClient({ endpoint: socket });
  try {
    await cri.version({ timeoutMs: 2000 });
    return true;
  } catch {
    return false;
  } finally {
    cri.close();
  }
}

export async function importImages(o: ImportImagesOptions): Promise<ImportedArchive[]> {
  const address = socketOf(o.dataDir, o.address);
  for (const file of o.files) if (!existsSync(file)) throw new ImageImportError("ImportFailed", `${file}: no such file`);
  if (!existsSync(address)) throw new ImageImportError("RuntimeNotRunning", `no containerd socket at ${address}: is the k8ts agent running with --data-dir ${o.dataDir}?`);
  const out: ImportedArchive[] = [];
  for (const file of o.files) out.push({ file, references: await importImageArchive(file, { address }) });
  return out;
}

export interface BuildBuiltinOptions {
  dataDir: string;
  /** where the archives go; default <data-dir>/images */
  outputDir?: string;
  /** import into the node's containerd when its socket answers */
  import: boolean;
  address?: string;
  busyboxPath?: string;
}

export interface BuildBuiltinResult {
  archives: { reference: string; file: string; id: string }[];
  /** set when the images went into containerd */
  imported?: BuiltinImageResult[];
  /** why they did not, when import was asked for */
  notImported?: string;
}

export async function buildBuiltin(o: BuildBuiltinOptions): Promise<BuildBuiltinResult> {
  const images = builtinImages(o.busyboxPath);
  // Where the agent keeps them too, so its stamps and archives are the same files.
  const outputDir = o.outputDir ?? join(kubeletPaths(o.dataDir).root, "images");
  const files = writeBuiltinArchives(outputDir, images);
  const archives = images.map((i) => ({ reference: i.reference, file: files.get(i.reference) ?? "", id: i.configDigest }));
  if (!o.import) return { archives };
  const address = socketOf(o.dataDir, o.address);
  if (!(await answers(address))) return { archives, notImported: `containerd is not running at ${address}; the agent imports them when it starts` };
  const cri = new CriClient({ endpoint: address });
  try {
    const imported = await ensureBuiltinImages(cri, { address, archiveDir: outputDir, ...(o.busyboxPath ? { busyboxPath: o.busyboxPath } : {}) });
    return { archives, imported };
  } finally {
    cri.close();
  }
}
