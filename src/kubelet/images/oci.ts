// Single-layer OCI images as an OCI image layout archive (oci-layout, index.json, blobs/sha256/…),
// the format `ctr images import` and `docker load`/`podman load` read. The index names the image
// with org.opencontainers.image.ref.name set to the full reference, which is what containerd
// stores it under.
import { createHash } from "node:crypto";
import { gzip, gzipSync } from "node:zlib";
import { promisify } from "node:util";

const gzipAsync = promisify(gzip);
import { writeTar, type TarEntry } from "./tar.js";

export const MEDIA_TYPE_INDEX = "application/vnd.oci.image.index.v1+json";
export const MEDIA_TYPE_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const MEDIA_TYPE_CONFIG = "application/vnd.oci.image.config.v1+json";
export const MEDIA_TYPE_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
export const ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name";

export interface ImageConfig {
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
}

export interface OciImageSpec {
  /** full reference, e.g. docker.io/library/busybox:1.35 */
  reference: string;
  layer: readonly TarEntry[];
  config: ImageConfig;
  /** GOARCH name; defaults to this host's */
  architecture?: string;
}

export interface BuiltImage {
  reference: string;
  /** the OCI layout archive */
  archive: Buffer;
  /** sha256:… of the manifest (what containerd reports as the repo digest) */
  manifestDigest: string;
  /** sha256:… of the config (the image id CRI reports) */
  configDigest: string;
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Node's process.arch → the GOARCH names OCI platforms use. */
export function goArch(arch: string = process.arch): string {
  const map: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return map[arch] ?? arch;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function blobPath(digest: string): string {
  return `blobs/sha256/${digest.slice("sha256:".length)}`;
}

// gzip output depends only on the input and the zlib build: same files, same digest, so a
// rebuild of an unchanged image imports as a no-op.
const GZIP_LEVEL = 6;

export function buildOciImage(spec: OciImageSpec): BuiltImage {
  const layerTar = writeTar(spec.layer);
  return assemble(spec, layerTar, gzipSync(layerTar, { level: GZIP_LEVEL }));
}

/** As buildOciImage, with the compression (most of the work for a big layer) off the event loop. */
export async function buildOciImageAsync(spec: OciImageSpec): Promise<BuiltImage> {
  const layerTar = writeTar(spec.layer);
  return assemble(spec, layerTar, await gzipAsync(layerTar, { level: GZIP_LEVEL }));
}

function assemble(spec: OciImageSpec, layerTar: Buffer, layerGz: Buffer): BuiltImage {
  const architecture = spec.architecture ?? goArch();
  const config = json({
    architecture,
    os: "linux",
    config: spec.config,
    rootfs: { type: "layers", diff_ids: [sha256(layerTar)] },
    history: [{ created_by: "k8ts: built from host files", comment: spec.reference }],
  });
  const configDigest = sha256(config);
  const layerDigest = sha256(layerGz);
  const manifest = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_MANIFEST,
    config: { mediaType: MEDIA_TYPE_CONFIG, digest: configDigest, size: config.length },
    layers: [{ mediaType: MEDIA_TYPE_LAYER_GZIP, digest: layerDigest, size: layerGz.length }],
  });
  const manifestDigest = sha256(manifest);
  const index = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_INDEX,
    manifests: [
      {
        mediaType: MEDIA_TYPE_MANIFEST,
        digest: manifestDigest,
        size: manifest.length,
        platform: { architecture, os: "linux" },
        annotations: { [ANNOTATION_REF_NAME]: spec.reference },
      },
    ],
  });
  const archive = writeTar([
    { type: "file", path: "oci-layout", mode: 0o644, data: json({ imageLayoutVersion: "1.0.0" }) },
    { type: "file", path: "index.json", mode: 0o644, data: index },
    { type: "dir", path: "blobs", mode: 0o755 },
    { type: "dir", path: "blobs/sha256", mode: 0o755 },
    { type: "file", path: blobPath(manifestDigest), mode: 0o644, data: manifest },
    { type: "file", path: blobPath(configDigest), mode: 0o644, data: config },
    { type: "file", path: blobPath(layerDigest), mode: 0o644, data: layerGz },
  ]);
  return { reference: spec.reference, archive, manifestDigest, configDigest };
}
