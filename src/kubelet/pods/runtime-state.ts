// What the runtime has of one pod (upstream's GetPodStatus): its sandboxes and containers with
// their full status, newest first. A container's status changes only with its state, so it is
// cached by id until the runtime lists the container in another state (an exited one never
// changes again); each sandbox's address is cached too. A steady pod costs two list calls.
import { open } from "node:fs/promises";
import type { ContainerState, ContainerStatus, CriClient, PodSandboxState } from "../cri/client.js";
import { isCriError } from "../cri/client.js";
import {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_RESTART_COUNT,
  ANNOTATION_TERMINATION_MESSAGE_PATH,
  ANNOTATION_TERMINATION_MESSAGE_POLICY,
  LABEL_CONTAINER_NAME,
  LABEL_POD_UID,
} from "../types.js";

export interface SandboxRecord {
  readonly id: string;
  readonly state: PodSandboxState;
  /** ms since the epoch */
  readonly createdAt: number;
  readonly attempt: number;
  /** the pod's addresses (empty on the host network or when the network is gone) */
  readonly ips: readonly string[];
  readonly hostNetwork: boolean;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ContainerRecord {
  readonly id: string;
  readonly name: string;
  readonly sandboxId: string;
  readonly state: ContainerState;
  /** ms since the epoch; 0 when not (yet) */
  readonly createdAt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly exitCode: number;
  readonly reason: string;
  /** the runtime's message enriched with the termination message */
  readonly message: string;
  readonly image: string;
  readonly imageRef: string;
  readonly hash: string;
  readonly restartCount: number;
  readonly logPath: string;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface PodRuntime {
  readonly sandboxes: readonly SandboxRecord[];
  readonly containers: readonly ContainerRecord[];
}

export const EMPTY_RUNTIME: PodRuntime = { sandboxes: [], containers: [] };

const nsToMs = (ns: number): number => (ns > 0 ? Math.floor(ns / 1e6) : 0);

// upstream kubecontainer.MaxContainerTerminationMessageLength and the log fallback limits
const MAX_TERMINATION_MESSAGE = 4096;
const MAX_LOG_MESSAGE_BYTES = 2048;
const MAX_LOG_MESSAGE_LINES = 80;

async function readTail(path: string, max: number): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch {
    return undefined;
  }
  try {
    const size = (await fh.stat()).size;
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf;
  } finally {
    await fh.close();
  }
}

/** The last lines of a CRI-format log (`<time> <stream> <P|F> <text>`), joined as the app wrote them. */
export function tailCriLog(text: string, maxLines: number, maxBytes: number): string {
  const lines = text.split("\n").filter((l) => l !== "");
  let out = "";
  for (const l of lines) {
    const m = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/.exec(l);
    if (!m) continue;
    out += m[2] + (m[1] === "F" ? "\n" : "");
  }
  const kept = out.split("\n");
  if (kept[kept.length - 1] === "") kept.pop();
  const tail = kept.slice(-maxLines).join("\n") + (out.endsWith("\n") && kept.length ? "\n" : "");
  const b = Buffer.from(tail);
  return b.length > maxBytes ? b.subarray(b.length - maxBytes).toString("utf8") : tail;
}

/** The termination message of an exited container (upstream getTerminationMessage). */
async function terminationMessage(s: ContainerStatus): Promise<string> {
  const path = s.annotations[ANNOTATION_TERMINATION_MESSAGE_PATH] ?? "";
  const fallback = s.annotations[ANNOTATION_TERMINATION_MESSAGE_POLICY] === "FallbackToLogsOnError" && s.exitCode !== 0 && s.reason !== "ContainerCannotRun";
  let message = "";
  const mount = path ? s.mounts.find((m) => m.containerPath === path) : undefined;
  if (mount) message = (await readTail(mount.hostPath, MAX_TERMINATION_MESSAGE))?.toString("utf8") ?? "";
  if (message === "" && fallback && s.logPath) {
    // The CRI framing takes room; read enough of the file for 2 KiB of text.
    const raw = await readTail(s.logPath, MAX_LOG_MESSAGE_BYTES * 4 + 64 * MAX_LOG_MESSAGE_LINES);
    if (raw) message = tailCriLog(raw.toString("utf8"), MAX_LOG_MESSAGE_LINES, MAX_LOG_MESSAGE_BYTES);
  }
  return message;
}

function toRecord(s: ContainerStatus, sandboxId: string, message: string): ContainerRecord {
  const restart = Number(s.annotations[ANNOTATION_RESTART_COUNT] ?? "0");
  return {
    id: s.id,
    name: s.labels[LABEL_CONTAINER_NAME] ?? s.metadata?.name ?? "",
    sandboxId,
    state: s.state,
    createdAt: nsToMs(s.createdAt),
    startedAt: nsToMs(s.startedAt),
    finishedAt: nsToMs(s.finishedAt),
    exitCode: s.exitCode,
    reason: s.reason,
    message,
    image: s.image?.image ?? "",
    imageRef: s.imageRef,
    hash: s.annotations[ANNOTATION_CONTAINER_HASH] ?? "",
    restartCount: Number.isFinite(restart) ? restart : 0,
    logPath: s.logPath,
    annotations: s.annotations,
  };
}

export interface SandboxNetwork {
  readonly ips: readonly string[];
  readonly hostNetwork: boolean;
}

/** Reads pods' runtime state through CRI, caching what cannot change. */
export class RuntimeReader {
  private readonly records = new Map<string, ContainerRecord>();
  private readonly sandboxNet = new Map<string, SandboxNetwork>();

  constructor(private readonly cri: CriClient) {}

  /** A sandbox's addresses, read once (they do not change while it lives); throws CRI's NotFound. */
  async sandboxNetwork(id: string): Promise<SandboxNetwork> {
    let net = this.sandboxNet.get(id);
    if (!net) {
      const st = (await this.cri.podSandboxStatus(id)).status;
      const ips = st?.network?.ip ? [st.network.ip, ...st.network.additionalIps.map((a) => a.ip)] : [];
      net = { ips, hostNetwork: st?.linux?.namespaces?.options?.network === "NODE" };
      this.sandboxNet.set(id, net);
    }
    return net;
  }

  async read(uid: string): Promise<PodRuntime> {
    const selector = { labelSelector: { [LABEL_POD_UID]: uid } };
    const [sandboxes, containers] = await Promise.all([this.cri.listPodSandbox(selector), this.cri.listContainers(selector)]);
    const sbs: SandboxRecord[] = [];
    for (const sb of sandboxes) {
      let net: SandboxNetwork;
      try {
        net = await this.sandboxNetwork(sb.id);
      } catch (err) {
        if (!isCriError(err, "NotFound")) throw err;
        continue;
      }
      sbs.push({ id: sb.id, state: sb.state, createdAt: nsToMs(sb.createdAt), attempt: sb.metadata?.attempt ?? 0, ips: sb.state === "SANDBOX_READY" ? net.ips : [], hostNetwork: net.hostNetwork, labels: sb.labels });
    }
    sbs.sort((a, b) => b.createdAt - a.createdAt);

    const recs = await Promise.all(
      containers.map(async (c): Promise<ContainerRecord | undefined> => {
        const cached = this.records.get(c.id);
        if (cached && (cached.state === "CONTAINER_EXITED" || (cached.state === c.state && c.state !== "CONTAINER_UNKNOWN"))) return cached;
        let s: ContainerStatus | null;
        try {
          s = (await this.cri.containerStatus(c.id)).status;
        } catch (err) {
          if (isCriError(err, "NotFound")) return undefined;
          throw err;
        }
        if (!s) return undefined;
        let message = s.message;
        if (s.state === "CONTAINER_EXITED") {
          const tm = await terminationMessage(s);
          message = s.message && tm ? `${s.message}: ${tm}` : s.message || tm;
        }
        const rec = toRecord(s, c.podSandboxId, message);
        this.records.set(c.id, rec);
        return rec;
      }),
    );
    const cs = recs.filter((r): r is ContainerRecord => r !== undefined).sort((a, b) => b.createdAt - a.createdAt);
    return { sandboxes: sbs, containers: cs };
  }

  /** Forgets cached state of removed containers and sandboxes. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) {
      this.records.delete(id);
      this.sandboxNet.delete(id);
    }
  }
}
