// Runs ensureDnsImage in a child process: building the image reads the ~100 MB Node binary and
// compresses it, and the memory that takes goes back to the system when the child exits — the
// agent's process (which also serves the API when embedded) keeps neither the CPU stall nor a
// heap grown for one job.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CriClient } from "../cri/client.js";
import { ensureDnsImage } from "./dns.js";
import type { BuiltinImageResult } from "./import.js";

interface Job {
  readonly endpoint: string;
  readonly address: string;
  readonly archiveDir: string;
}

type Reply = { ok: true; result: BuiltinImageResult } | { ok: false; error: string };

const JOB_ENV = "K8TS_DNS_IMAGE_JOB";

/** ensureDnsImage for the containerd at `address`, in a child process; `signal` kills it (an agent stopping does not wait for a build). */
export function ensureDnsImageInChild(job: Job, signal?: AbortSignal): Promise<BuiltinImageResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, [JOB_ENV]: JSON.stringify(job) }, stdio: ["ignore", "ignore", "inherit", "ipc"] });
    const abort = (): void => void child.kill("SIGKILL");
    signal?.addEventListener("abort", abort, { once: true });
    let reply: Reply | undefined;
    child.once("message", (m: Reply) => (reply = m));
    child.once("error", reject);
    child.once("exit", (code, sig) => {
      signal?.removeEventListener("abort", abort);
      if (reply?.ok) resolve(reply.result);
      else reject(new Error(reply && !reply.ok ? reply.error : `DNS image builder exited (${sig ?? code})`));
    });
  });
}

const jobText = process.env[JOB_ENV];
if (jobText && process.send) {
  const job = JSON.parse(jobText) as Job;
  const send = process.send.bind(process);
  const cri = new CriClient({ endpoint: job.endpoint });
  void ensureDnsImage(cri, { address: job.address, archiveDir: job.archiveDir })
    .then(
      (result): Reply => ({ ok: true, result }),
      (err: unknown): Reply => ({ ok: false, error: err instanceof Error ? err.message : String(err) }),
    )
    .then((reply) => send(reply, () => process.exit(0)))
    .finally(() => cri.close());
}
