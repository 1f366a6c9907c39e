// Making a container's image present (upstream's imagePuller.EnsureImageExists): the pull
// policy, pulls through CRI with the pod's pull secrets, a per pod+image back-off after a
// failed pull, and the Pulling/Pulled/Failed/BackOff events users read in `kubectl describe`.
import type { Container, Pod, Secret } from "kubernetes-types/core/v1.js";
import type { EventRecorder } from "../../client/events.js";
import type { AuthConfig, CriClient, Input, PodSandboxConfig } from "../cri/client.js";
import { isCriError } from "../cri/client.js";
import type { ObjectSource } from "../types.js";
import type { Backoff } from "./backoff.js";
import { podRef, pullPolicy, type ImageUser } from "./container.js";

export type ImageErrorReason = "ErrImagePull" | "ImagePullBackOff" | "ErrImageNeverPull" | "InvalidImageName";

export class ImagePullError extends Error {
  override readonly name = "ImagePullError";
  constructor(
    readonly reason: ImageErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface EnsuredImage {
  /** the image id the runtime resolved the reference to */
  readonly ref: string;
  readonly user: ImageUser;
}

/** The registry host of an image reference, as docker's reference parsing decides it. */
export function registryOf(image: string): string {
  const slash = image.indexOf("/");
  if (slash < 0) return "docker.io";
  const first = image.slice(0, slash);
  if (first.includes(".") || first.includes(":") || first === "localhost") return first === "index.docker.io" ? "docker.io" : first;
  return "docker.io";
}

function registryOfKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, "").split("/")[0] ?? "";
  return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
}

/** Credentials for `image` from the pod's dockercfg / dockerconfigjson pull secrets. */
export function pullAuths(image: string, secrets: readonly Secret[]): Input<AuthConfig>[] {
  const registry = registryOf(image);
  const out: Input<AuthConfig>[] = [];
  for (const s of secrets) {
    let auths: Record<string, { username?: string; password?: string; auth?: string; identitytoken?: string; registrytoken?: string }> = {};
    try {
      if (s.type === "kubernetes.io/dockerconfigjson" && s.data?.[".dockerconfigjson"]) {
        auths = (JSON.parse(Buffer.from(s.data[".dockerconfigjson"], "base64").toString("utf8")) as { auths?: typeof auths }).auths ?? {};
      } else if (s.type === "kubernetes.io/dockercfg" && s.data?.[".dockercfg"]) {
        auths = JSON.parse(Buffer.from(s.data[".dockercfg"], "base64").toString("utf8")) as typeof auths;
      }
    } catch {
      continue;
    }
    for (const [key, a] of Object.entries(auths)) {
      if (registryOfKey(key) !== registry) continue;
      let { username = "", password = "" } = a;
      if (!username && a.auth) {
        const decoded = Buffer.from(a.auth, "base64").toString("utf8");
        const i = decoded.indexOf(":");
        username = decoded.slice(0, Math.max(0, i));
        password = decoded.slice(i + 1);
      }
      out.push({ username, password, serverAddress: key, identityToken: a.identitytoken ?? "", registryToken: a.registrytoken ?? "" });
    }
  }
  return out;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3).replace(/\.?0+$/, "")}s`;
}

/** Images the node makes itself (the cluster DNS image): nothing to pull from a registry. */
export interface BuiltinImages {
  /**
   * While `image` is being built and imported: resolves true once it is present, false if the
   * build failed. Undefined for any other image, and once the build is over.
   */
  building(image: string): Promise<boolean> | undefined;
}

export const NO_BUILTIN_IMAGES: BuiltinImages = { building: () => undefined };

export class ImagePuller {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly cri: CriClient,
    private readonly events: EventRecorder,
    private readonly objects: ObjectSource,
    private readonly backoff: Backoff,
    private readonly builtin: BuiltinImages = NO_BUILTIN_IMAGES,
  ) {}

  /** The image's id once present; throws ImagePullError with the waiting reason. */
  async ensure(pod: Pod, c: Container, sandbox: Input<PodSandboxConfig>): Promise<EnsuredImage> {
    const image = c.image ?? "";
    const ref = podRef(pod, c.name);
    if (image === "") throw new ImagePullError("InvalidImageName", `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`);
    const policy = pullPolicy(c);
    let present = (await this.cri.imageStatus(image)).image;
    if (present && policy !== "Always") {
      this.events.event(ref, "Normal", "Pulled", `Container image "${image}" already present on machine`);
      return { ref: present.id, user: { uid: present.uid?.value, username: present.username } };
    }
    if (!present && policy === "Never") {
      const msg = `Container image "${image}" is not present with pull policy of Never`;
      this.events.event(ref, "Warning", "ErrImageNeverPull", msg);
      throw new ImagePullError("ErrImageNeverPull", msg);
    }
    // A pod that wants an image this node is still building waits for it, as for a pull: a pull
    // from the registry its name points at would fail (there is none) and back off.
    const building = present ? undefined : this.builtin.building(image);
    if (building) {
      this.events.event(ref, "Normal", "Pulling", `Waiting for image "${image}", which this node builds`);
      const t0 = Date.now();
      present = (await building) ? (await this.cri.imageStatus(image)).image : null;
      if (present) {
        this.events.event(ref, "Normal", "Pulled", `Image "${image}" built on this node; waited ${seconds(Date.now() - t0)}. Image size: ${present.size} bytes.`);
        return { ref: present.id, user: { uid: present.uid?.value, username: present.username } };
      }
    }
    const key = `${pod.metadata?.uid ?? ""}/${image}`;
    if (this.backoff.remainingSinceUpdate(key) > 0) {
      const msg = `Back-off pulling image "${image}"`;
      this.events.event(ref, "Normal", "BackOff", msg);
      throw new ImagePullError("ImagePullBackOff", msg);
    }
    this.events.event(ref, "Normal", "Pulling", `Pulling image "${image}"`);
    const t0 = Date.now();
    try {
      await this.pull(image, pod, sandbox);
    } catch (err) {
      this.backoff.next(key);
      const detail = isCriError(err) ? err.details : (err as Error).message;
      this.events.event(ref, "Warning", "Failed", `Failed to pull image "${image}": ${detail}`);
      throw new ImagePullError("ErrImagePull", detail);
    }
    present = (await this.cri.imageStatus(image)).image;
    if (!present) throw new ImagePullError("ErrImagePull", `image "${image}" not present after pull`);
    const took = seconds(Date.now() - t0);
    this.events.event(ref, "Normal", "Pulled", `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${present.size} bytes.`);
    return { ref: present.id, user: { uid: present.uid?.value, username: present.username } };
  }

  /** ms until the pull back-off of this pod's image allows another try */
  backoffLeft(pod: Pod, c: Container): number {
    return this.backoff.remainingSinceUpdate(`${pod.metadata?.uid ?? ""}/${c.image ?? ""}`);
  }

  forgetPod(uid: string): void {
    this.backoff.forgetPrefix(`${uid}/`);
  }

  /** Concurrent pulls of one image share one CRI call. */
  private pull(image: string, pod: Pod, sandbox: Input<PodSandboxConfig>): Promise<string> {
    let p = this.inflight.get(image);
    if (!p) {
      p = this.pullWithSecrets(image, pod, sandbox).finally(() => this.inflight.delete(image));
      this.inflight.set(image, p);
    }
    return p;
  }

  private async pullWithSecrets(image: string, pod: Pod, sandbox: Input<PodSandboxConfig>): Promise<string> {
    const ns = pod.metadata?.namespace ?? "default";
    const secrets: Secret[] = [];
    for (const s of pod.spec?.imagePullSecrets ?? []) {
      const got = s.name ? await this.objects.secret(ns, s.name).catch(() => undefined) : undefined;
      if (got) secrets.push(got);
    }
    const auths = pullAuths(image, secrets);
    let last: unknown;
    for (const auth of auths) {
      try {
        return await this.cri.pullImage(image, auth, sandbox);
      } catch (err) {
        last = err;
      }
    }
    if (auths.length && last) throw last;
    return this.cri.pullImage(image, undefined, sandbox);
  }
}
