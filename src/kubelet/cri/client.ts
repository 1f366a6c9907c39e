// A typed CRI v1 client (RuntimeService + ImageService) over gRPC on a unix socket, with a
// promise API, a deadline on every call and errors that carry the gRPC status as a stable code.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, isAbsolute, join, resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type {
  AuthConfig,
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerStats,
  ContainerStatsFilter,
  ContainerStatusResponse,
  ExecSyncResponse,
  Image,
  ImageFsInfoResponse,
  ImageSpec,
  ImageStatusResponse,
  Input,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStats,
  PodSandboxStatsFilter,
  PodSandboxStatusResponse,
  StatusResponse,
  VersionResponse,
} from "./types.js";

export type * from "./types.js";

/** gRPC status codes by their canonical names; `code` of every CriError is one of these. */
export type CriErrorCode =
  | "Cancelled"
  | "Unknown"
  | "InvalidArgument"
  | "DeadlineExceeded"
  | "NotFound"
  | "AlreadyExists"
  | "PermissionDenied"
  | "ResourceExhausted"
  | "FailedPrecondition"
  | "Aborted"
  | "OutOfRange"
  | "Unimplemented"
  | "Internal"
  | "Unavailable"
  | "DataLoss"
  | "Unauthenticated";

const codeNames: Record<number, CriErrorCode> = {
  [grpc.status.CANCELLED]: "Cancelled",
  [grpc.status.UNKNOWN]: "Unknown",
  [grpc.status.INVALID_ARGUMENT]: "InvalidArgument",
  [grpc.status.DEADLINE_EXCEEDED]: "DeadlineExceeded",
  [grpc.status.NOT_FOUND]: "NotFound",
  [grpc.status.ALREADY_EXISTS]: "AlreadyExists",
  [grpc.status.PERMISSION_DENIED]: "PermissionDenied",
  [grpc.status.RESOURCE_EXHAUSTED]: "ResourceExhausted",
  [grpc.status.FAILED_PRECONDITION]: "FailedPrecondition",
  [grpc.status.ABORTED]: "Aborted",
  [grpc.status.OUT_OF_RANGE]: "OutOfRange",
  [grpc.status.UNIMPLEMENTED]: "Unimplemented",
  [grpc.status.INTERNAL]: "Internal",
  [grpc.status.UNAVAILABLE]: "Unavailable",
  [grpc.status.DATA_LOSS]: "DataLoss",
  [grpc.status.UNAUTHENTICATED]: "Unauthenticated",
};

export class CriError extends Error {
  override readonly name = "CriError";
  constructor(
    readonly code: CriErrorCode,
    /** the RPC, e.g. "RunPodSandbox"; "" when the error is not from a call */
    readonly method: string,
    /** the runtime's own message (containerd's error chain), without our prefix */
    readonly details: string,
  ) {
    super(method ? `CRI ${method}: ${code}: ${details}` : `CRI: ${code}: ${details}`);
  }
}

export function isCriError(err: unknown, code?: CriErrorCode): err is CriError {
  return err instanceof CriError && (code === undefined || err.code === code);
}

export interface CriClientOptions {
  /** `unix:///run/containerd/containerd.sock`, or an absolute socket path */
  endpoint: string;
  /** deadline of a call that does not give its own; upstream's --runtime-request-timeout is 2 min */
  defaultTimeoutMs?: number;
  /** deadline of PullImage; pulls of large images take long */
  pullTimeoutMs?: number;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** wait for the socket to accept a connection instead of failing with Unavailable at once */
  waitForReady?: boolean;
}

// The kubelet's own limit: ListContainers on a full node exceeds gRPC's 4 MiB default.
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const loaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: false,
};

/**
 * runtime.proto ships beside this file in src/; tsc does not copy it, so from the compiled
 * dist/src/kubelet/cri/client.js it is found in the source tree (four levels up, then the same
 * relative path) unless a packaging step put a copy next to the JS.
 */
export function protoPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "runtime.proto"), resolve(here, "../../../../src/kubelet/cri/runtime.proto")];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new CriError("Internal", "", `runtime.proto not found (looked in ${candidates.join(", ")})`);
  return found;
}

type Method = grpc.MethodDefinition<object, object>;
interface Services {
  runtime: Record<string, Method>;
  image: Record<string, Method>;
}

let loaded: Services | undefined;

function services(): Services {
  if (loaded) return loaded;
  const def = protoLoader.loadSync(protoPath(), loaderOptions);
  const pick = (name: string): Record<string, Method> => {
    const svc = def[name];
    if (svc === undefined || "format" in svc) throw new CriError("Internal", "", `service ${name} missing from runtime.proto`);
    return svc as unknown as Record<string, Method>;
  };
  loaded = { runtime: pick("runtime.v1.RuntimeService"), image: pick("runtime.v1.ImageService") };
  return loaded;
}

/** `unix:///abs/path` for grpc-js from what users write (`unix:///…`, `unix:/…` or a bare path). */
export function normalizeEndpoint(endpoint: string): string {
  let path: string;
  if (endpoint.startsWith("unix://")) path = endpoint.slice("unix://".length);
  else if (endpoint.startsWith("unix:")) path = endpoint.slice("unix:".length);
  else if (!endpoint.includes("://")) path = endpoint;
  else throw new CriError("InvalidArgument", "", `unsupported CRI endpoint ${endpoint}: only unix sockets are supported`);
  if (!isAbsolute(path)) throw new CriError("InvalidArgument", "", `CRI endpoint ${endpoint}: socket path must be absolute`);
  // sockaddr_un.sun_path holds 107 bytes plus the terminator.
  if (Buffer.byteLength(path) > 107) throw new CriError("InvalidArgument", "", `CRI endpoint ${endpoint}: socket path longer than 107 bytes`);
  return `unix://${path}`;
}

function imageSpec(image: string | Input<ImageSpec>): Input<ImageSpec> {
  return typeof image === "string" ? { image } : image;
}

export class CriClient {
  readonly endpoint: string;
  private readonly client: grpc.Client;
  private readonly svc: Services;
  private readonly defaultTimeoutMs: number;
  private readonly pullTimeoutMs: number;

  constructor(options: CriClientOptions) {
    this.endpoint = normalizeEndpoint(options.endpoint);
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 120_000;
    this.pullTimeoutMs = options.pullTimeoutMs ?? 15 * 60_000;
    this.svc = services();
    this.client = new grpc.Client(this.endpoint, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
      // grpc-js fails calls at once while the channel backs off between reconnects, and its
      // default backoff grows to 120 s: after containerd restarts, the kubelet would see it
      // "down" for minutes. A local socket is cheap to retry.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 2000,
    });
  }

  close(): void {
    this.client.close();
  }

  private call<Res>(service: "runtime" | "image", name: string, request: object, opts: CallOptions = {}, defaultTimeoutMs = this.defaultTimeoutMs): Promise<Res> {
    const method = this.svc[service][name];
    if (method === undefined) return Promise.reject(new CriError("Unimplemented", name, "method not in runtime.proto"));
    if (opts.signal?.aborted) return Promise.reject(new CriError("Cancelled", name, "aborted before the call"));
    const deadline = new Date(Date.now() + (opts.timeoutMs ?? defaultTimeoutMs));
    return new Promise<Res>((resolvePromise, reject) => {
      const onAbort = (): void => call.cancel();
      const call = this.client.makeUnaryRequest<object, object>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        // grpc-js reads waitForReady from the metadata options, not the call options.
        new grpc.Metadata(opts.waitForReady ? { waitForReady: true } : {}),
        { deadline },
        (err, value) => {
          opts.signal?.removeEventListener("abort", onAbort);
          if (err) reject(new CriError(codeNames[err.code] ?? "Unknown", name, err.details || err.message));
          else resolvePromise(value as Res);
        },
      );
      opts.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  // ---- RuntimeService ----

  version(opts?: CallOptions): Promise<VersionResponse> {
    return this.call("runtime", "Version", { version: "v1" }, opts);
  }

  /** RuntimeReady / NetworkReady conditions (NetworkReady is false until a CNI config exists). */
  status(verbose = false, opts?: CallOptions): Promise<StatusResponse> {
    return this.call("runtime", "Status", { verbose }, opts);
  }

  async runPodSandbox(config: Input<PodSandboxConfig>, runtimeHandler = "", opts?: CallOptions): Promise<string> {
    const r = await this.call<{ podSandboxId: string }>("runtime", "RunPodSandbox", { config, runtimeHandler }, opts);
    return r.podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string, opts?: CallOptions): Promise<void> {
    await this.call("runtime", "StopPodSandbox", { podSandboxId }, opts);
  }

  async removePodSandbox(podSandboxId: string, opts?: CallOptions): Promise<void> {
    await this.call("runtime", "RemovePodSandbox", { podSandboxId }, opts);
  }

  podSandboxStatus(podSandboxId: string, verbose = false, opts?: CallOptions): Promise<PodSandboxStatusResponse> {
    return this.call("runtime", "PodSandboxStatus", { podSandboxId, verbose }, opts);
  }

  async listPodSandbox(filter?: Input<PodSandboxFilter>, opts?: CallOptions): Promise<PodSandbox[]> {
    const r = await this.call<{ items: PodSandbox[] }>("runtime", "ListPodSandbox", filter ? { filter } : {}, opts);
    return r.items;
  }

  async createContainer(podSandboxId: string, config: Input<ContainerConfig>, sandboxConfig: Input<PodSandboxConfig>, opts?: CallOptions): Promise<string> {
    const r = await this.call<{ containerId: string }>("runtime", "CreateContainer", { podSandboxId, config, sandboxConfig }, opts);
    return r.containerId;
  }

  async startContainer(containerId: string, opts?: CallOptions): Promise<void> {
    await this.call("runtime", "StartContainer", { containerId }, opts);
  }

  /** Sends the stop signal, then SIGKILL after `timeoutSeconds`; the call's deadline covers that wait. */
  async stopContainer(containerId: string, timeoutSeconds: number, opts?: CallOptions): Promise<void> {
    await this.call("runtime", "StopContainer", { containerId, timeout: timeoutSeconds }, opts, this.defaultTimeoutMs + timeoutSeconds * 1000);
  }

  async removeContainer(containerId: string, opts?: CallOptions): Promise<void> {
    await this.call("runtime", "RemoveContainer", { containerId }, opts);
  }

  async listContainers(filter?: Input<ContainerFilter>, opts?: CallOptions): Promise<Container[]> {
    const r = await this.call<{ containers: Container[] }>("runtime", "ListContainers", filter ? { filter } : {}, opts);
    return r.containers;
  }

  containerStatus(containerId: string, verbose = false, opts?: CallOptions): Promise<ContainerStatusResponse> {
    return this.call("runtime", "ContainerStatus", { containerId, verbose }, opts);
  }

  /** Runs `cmd` in the container; `timeoutSeconds` 0 means no limit but the call's deadline. */
  execSync(containerId: string, cmd: readonly string[], timeoutSeconds = 0, opts?: CallOptions): Promise<ExecSyncResponse> {
    return this.call("runtime", "ExecSync", { containerId, cmd, timeout: timeoutSeconds }, opts, this.defaultTimeoutMs + timeoutSeconds * 1000);
  }

  /** The runtime's streaming-server URL that serves this exec session. */
  async exec(request: { containerId: string; cmd: readonly string[]; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }, opts?: CallOptions): Promise<string> {
    const r = await this.call<{ url: string }>("runtime", "Exec", request, opts);
    return r.url;
  }

  async attach(request: { containerId: string; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }, opts?: CallOptions): Promise<string> {
    const r = await this.call<{ url: string }>("runtime", "Attach", request, opts);
    return r.url;
  }

  async portForward(podSandboxId: string, ports: readonly number[], opts?: CallOptions): Promise<string> {
    const r = await this.call<{ url: string }>("runtime", "PortForward", { podSandboxId, port: ports }, opts);
    return r.url;
  }

  async containerStats(containerId: string, opts?: CallOptions): Promise<ContainerStats | null> {
    const r = await this.call<{ stats: ContainerStats | null }>("runtime", "ContainerStats", { containerId }, opts);
    return r.stats;
  }

  async listContainerStats(filter?: Input<ContainerStatsFilter>, opts?: CallOptions): Promise<ContainerStats[]> {
    const r = await this.call<{ stats: ContainerStats[] }>("runtime", "ListContainerStats", filter ? { filter } : {}, opts);
    return r.stats;
  }

  async listPodSandboxStats(filter?: Input<PodSandboxStatsFilter>, opts?: CallOptions): Promise<PodSandboxStats[]> {
    const r = await this.call<{ stats: PodSandboxStats[] }>("runtime", "ListPodSandboxStats", filter ? { filter } : {}, opts);
    return r.stats;
  }

  // ---- ImageService ----

  async listImages(filter?: string | Input<ImageSpec>, opts?: CallOptions): Promise<Image[]> {
    const r = await this.call<{ images: Image[] }>("image", "ListImages", filter ? { filter: { image: imageSpec(filter) } } : {}, opts);
    return r.images;
  }

  /** `image` is null in the answer when the image is not present (not an error). */
  imageStatus(image: string | Input<ImageSpec>, verbose = false, opts?: CallOptions): Promise<ImageStatusResponse> {
    return this.call("image", "ImageStatus", { image: imageSpec(image), verbose }, opts);
  }

  /** Returns the image reference the runtime stored (the image id, sha256:…). */
  async pullImage(image: string | Input<ImageSpec>, auth?: Input<AuthConfig>, sandboxConfig?: Input<PodSandboxConfig>, opts?: CallOptions): Promise<string> {
    const request = { image: imageSpec(image), ...(auth ? { auth } : {}), ...(sandboxConfig ? { sandboxConfig } : {}) };
    const r = await this.call<{ imageRef: string }>("image", "PullImage", request, opts, this.pullTimeoutMs);
    return r.imageRef;
  }

  async removeImage(image: string | Input<ImageSpec>, opts?: CallOptions): Promise<void> {
    await this.call("image", "RemoveImage", { image: imageSpec(image) }, opts);
  }

  imageFsInfo(opts?: CallOptions): Promise<ImageFsInfoResponse> {
    return this.call("image", "ImageFsInfo", {}, opts);
  }
}
