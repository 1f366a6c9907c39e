// The kubelet's volume manager: makes each pod's volumes exist on the host before its
// containers start, keeps configMap/secret/downwardAPI/projected contents current on every
// sync, and removes everything when the pod is gone. Claims (persistentVolumeClaim and generic
// ephemeral volumes) are followed to their bound volume's directory (claims.ts). Paths follow upstream's kubelet
// (<podDir>/volumes/kubernetes.io~<plugin>/<volume>), so a node reads as any other.
import { chmod, mkdir, rm } from "node:fs/promises";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Pod, Volume } from "kubernetes-types/core/v1.js";
import { Quantity } from "../../api/quantity.js";
import type { Logger } from "../../util/log.js";
import { VolumeError, type KubeletPaths, type MountedVolume, type ObjectSource, type VolumeManager } from "../types.js";
import { AtomicWriteError, AtomicWriter, type Payload } from "./atomic-writer.js";
import { hostAllocatable, type NodeAllocatable } from "./downward.js";
import { ClaimVolumeError, setUpClaimVolume } from "./claims.js";
import { checkHostPath, HostPathError } from "./hostpath.js";
import { isMountPoint, MountError, mountsUnder, mountTmpfs, unmount } from "./mounts.js";
import { configMapPayload, DEFAULT_MODE, downwardApiPayload, projectedPayload, secretPayload, SourceError } from "./sources.js";
import { ServiceAccountTokens } from "./tokens.js";

export { MountError } from "./mounts.js";

export const PLUGIN_EMPTY_DIR = "kubernetes.io~empty-dir";
export const PLUGIN_CONFIGMAP = "kubernetes.io~configmap";
export const PLUGIN_SECRET = "kubernetes.io~secret";
export const PLUGIN_DOWNWARD_API = "kubernetes.io~downward-api";
export const PLUGIN_PROJECTED = "kubernetes.io~projected";

const SUPPORTED = ["emptyDir", "hostPath", "configMap", "secret", "downwardAPI", "projected", "persistentVolumeClaim", "ephemeral"] as const;

/** Pod uids and volume names become path elements: nothing that could leave the pod dir. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface VolumesOptions {
  readonly paths: KubeletPaths;
  readonly objects: ObjectSource;
  readonly nodeName: string;
  readonly log: Logger;
}

export class Volumes implements VolumeManager {
  private readonly paths: KubeletPaths;
  private readonly objects: ObjectSource;
  private readonly log: Logger;
  private readonly writer = new AtomicWriter();
  private readonly tokens: ServiceAccountTokens;
  /** per pod uid: the tail of its queue of setUp/tearDown calls, which must not overlap */
  private readonly queues = new Map<string, Promise<unknown>>();
  private nodeAllocatable: NodeAllocatable | undefined;
  /** per pod uid: its claim volumes once set up, by volume name */
  private readonly claimVolumes = new Map<string, Map<string, MountedVolume>>();

  constructor(o: VolumesOptions) {
    this.paths = o.paths;
    this.objects = o.objects;
    this.log = o.log.child({ component: "volumes", node: o.nodeName });
    this.tokens = new ServiceAccountTokens(o.objects, this.log);
  }

  setUpPod(pod: Pod): Promise<Map<string, MountedVolume>> {
    const uid = pod.metadata?.uid ?? "";
    if (!SAFE_NAME.test(uid)) return Promise.reject(new VolumeError("", "InvalidVolume", `pod has no usable metadata.uid (${JSON.stringify(uid)})`));
    return this.serialize(uid, () => this.setUp(pod, uid));
  }

  tearDownPod(uid: string): Promise<void> {
    // Nothing could have been made for a uid that is not a plain path element.
    if (!SAFE_NAME.test(uid)) return Promise.resolve();
    return this.serialize(uid, () => this.tearDown(uid));
  }

  podsOnDisk(): string[] {
    try {
      return readdirSync(this.paths.podsRoot, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  }

  private serialize<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(uid) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(uid, tail);
    void tail.then(() => {
      if (this.queues.get(uid) === tail) this.queues.delete(uid);
    });
    return run;
  }

  private async setUp(pod: Pod, uid: string): Promise<Map<string, MountedVolume>> {
    const mounted = new Map<string, MountedVolume>();
    let first: VolumeError | undefined;
    // Every volume is attempted, so one failing volume does not keep the others stale.
    for (const v of pod.spec?.volumes ?? []) {
      try {
        mounted.set(v.name, await this.setUpVolume(pod, uid, v));
      } catch (err) {
        const ve = toVolumeError(v.name, err);
        this.log.debug({ pod: podRef(pod), volume: v.name, reason: ve.reason, err: ve.message }, "volume set-up failed");
        first ??= ve;
      }
    }
    if (first) throw first;
    return mounted;
  }

  private volumeDir(uid: string, plugin: string, name: string): string {
    return join(this.paths.podVolumesDir(uid), plugin, name);
  }

  private async setUpVolume(pod: Pod, uid: string, v: Volume): Promise<MountedVolume> {
    if (!SAFE_NAME.test(v.name)) throw new VolumeError(v.name, "InvalidVolume", `invalid volume name ${JSON.stringify(v.name)}`);
    const namespace = pod.metadata?.namespace ?? "default";
    const kinds = Object.keys(v).filter((k) => k !== "name" && (v as unknown as Record<string, unknown>)[k] != null);
    const kind = kinds[0];
    if (kinds.length > 1) throw new VolumeError(v.name, "InvalidVolume", `volume has more than one source: ${kinds.join(", ")}`);
    if (kind !== undefined && !(SUPPORTED as readonly string[]).includes(kind)) {
      throw new VolumeError(v.name, "InvalidVolume", `unsupported volume type ${JSON.stringify(kind)}: k8ts supports ${SUPPORTED.join(", ")}`);
    }

    if (v.hostPath) {
      await checkHostPath(v.hostPath.path, v.hostPath.type ?? "");
      return { hostPath: v.hostPath.path, readOnly: false };
    }
    if (v.persistentVolumeClaim || v.ephemeral) return this.setUpClaim(pod, uid, v);
    if (v.configMap) {
      const payload = await configMapPayload(this.objects, namespace, v.configMap, v.configMap.defaultMode ?? DEFAULT_MODE);
      return this.writeVolume(uid, PLUGIN_CONFIGMAP, v.name, false, payload);
    }
    if (v.secret) {
      const payload = await secretPayload(this.objects, namespace, v.secret.secretName ?? "", v.secret, v.secret.defaultMode ?? DEFAULT_MODE);
      return this.writeVolume(uid, PLUGIN_SECRET, v.name, true, payload);
    }
    if (v.downwardAPI) {
      const payload = downwardApiPayload(pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? DEFAULT_MODE, () => this.allocatable());
      return this.writeVolume(uid, PLUGIN_DOWNWARD_API, v.name, true, payload);
    }
    if (v.projected) {
      const payload = await projectedPayload(pod, v.projected, { objects: this.objects, tokens: this.tokens, allocatable: () => this.allocatable() });
      return this.writeVolume(uid, PLUGIN_PROJECTED, v.name, true, payload);
    }
    // emptyDir, or no source at all, which API defaulting turns into an emptyDir.
    const medium = v.emptyDir?.medium ?? "";
    if (medium !== "" && medium !== "Memory") throw new VolumeError(v.name, "InvalidVolume", `unsupported emptyDir medium ${JSON.stringify(medium)}`);
    let size: bigint | undefined;
    if (medium === "Memory" && v.emptyDir?.sizeLimit !== undefined) {
      try {
        size = Quantity.parse(String(v.emptyDir.sizeLimit)).value();
      } catch (err) {
        throw new VolumeError(v.name, "InvalidVolume", `emptyDir sizeLimit ${String(v.emptyDir.sizeLimit)}: ${(err as Error).message}`);
      }
    }
    const dir = this.volumeDir(uid, PLUGIN_EMPTY_DIR, v.name);
    await ensureDir(dir);
    if (medium === "Memory") await ensureTmpfs(dir, size !== undefined && size > 0n ? size : undefined);
    return { hostPath: dir, readOnly: false };
  }

  /**
   * A pod waiting for its claim reads it on every sync, so it starts on the sync after the
   * claim is bound. Once set up, the volume stays what it was for the pod's life (a PV's source
   * is immutable): as upstream's populator keeps a processed pod's volumes, a claim deleted
   * while the pod runs (held by pvc-protection) does not stop the pod's syncs.
   */
  private async setUpClaim(pod: Pod, uid: string, v: Volume): Promise<MountedVolume> {
    const known = this.claimVolumes.get(uid)?.get(v.name);
    if (known) return known;
    const mounted = await setUpClaimVolume(this.objects, pod, v);
    let forPod = this.claimVolumes.get(uid);
    if (!forPod) this.claimVolumes.set(uid, (forPod = new Map()));
    forPod.set(v.name, mounted);
    return mounted;
  }

  /**
   * The wrapped emptyDir upstream puts under these volumes: on disk for configMap, a tmpfs for
   * the others (secret contents and tokens never touch the disk).
   */
  private async writeVolume(uid: string, plugin: string, name: string, memory: boolean, payload: Payload): Promise<MountedVolume> {
    const dir = this.volumeDir(uid, plugin, name);
    await ensureDir(dir);
    if (memory) await ensureTmpfs(dir, undefined);
    await this.writer.write(dir, payload);
    return { hostPath: dir, readOnly: true };
  }

  private async tearDown(uid: string): Promise<void> {
    const podDir = this.paths.podDir(uid);
    this.tokens.forgetPod(uid);
    this.claimVolumes.delete(uid);
    this.writer.forget(podDir);
    for (const mp of await mountsUnder(podDir)) await unmount(mp);
    // Removing through a mount would delete what it shows (a bind-mounted host directory);
    // only a pod dir with nothing mounted below it is removed.
    const left = await mountsUnder(podDir);
    if (left.length > 0) throw new MountError("UnmountFailed", `still mounted under ${podDir}: ${left.join(", ")}`);
    await rm(podDir, { recursive: true, force: true });
  }

  /**
   * What an unset container limit means to resourceFieldRef: the node's allocatable amount,
   * approximated by the host's capacity (CPUs, memory, the filesystem of the agent's root).
   */
  private allocatable(): NodeAllocatable {
    this.nodeAllocatable ??= hostAllocatable(this.paths.root);
    return this.nodeAllocatable;
  }
}

function podRef(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
}

/**
 * Creates the volume dir as upstream's emptyDir does: 0777, so containers running as any
 * user can write (parents 0750, readable by root only).
 */
async function ensureDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o750 });
  if (created !== undefined) await chmod(dir, 0o777);
}

async function ensureTmpfs(dir: string, sizeBytes: bigint | undefined): Promise<void> {
  if (await isMountPoint(dir)) return;
  await mountTmpfs(dir, sizeBytes);
}

function toVolumeError(volume: string, err: unknown): VolumeError {
  if (err instanceof VolumeError) return err;
  if ((err instanceof SourceError || err instanceof ClaimVolumeError) && err.unsupported) return new VolumeError(volume, "InvalidVolume", err.message);
  if (err instanceof SourceError || err instanceof ClaimVolumeError || err instanceof HostPathError || err instanceof AtomicWriteError || err instanceof MountError) {
    return new VolumeError(volume, "FailedMount", err.message);
  }
  return new VolumeError(volume, "FailedMount", err instanceof Error ? err.message : String(err));
}
