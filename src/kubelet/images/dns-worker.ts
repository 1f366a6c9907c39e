// Runs ensureDnsImage in a worker thread: building the image reads the ~100 MB Node binary and
// compresses it, and those buffers belong to the worker's heap, which is torn down with it —
// the agent's process (which also serves the API when embedded) keeps neither the CPU stall
// nor the memory.
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { CriClient } from "../cri/client.js";
import { ensureDnsImage } from "./dns.js";
import type { BuiltinImageResult } from "./import.js";

interface Job {
  readonly endpoint: string;
  readonly address: string;
  readonly archiveDir: string;
}

/** ensureDnsImage for the containerd at `address`, in a worker thread; `signal` terminates it (an agent stopping does not wait for a build). */
export function ensureDnsImageInWorker(job: Job, signal?: AbortSignal): Promise<BuiltinImageResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    const abort = (): void => void worker.terminate();
    signal?.addEventListener("abort", abort, { once: true });
    worker.once("exit", () => signal?.removeEventListener("abort", abort));
    let result: BuiltinImageResult | undefined;
    worker.once("message", (m: { ok: true; result: BuiltinImageResult } | { ok: false; error: string }) => {
      if (m.ok) result = m.result;
      else reject(new Error(m.error));
    });
    worker.once("error", reject);
    worker.once("exit", (code) => (result ? resolve(result) : reject(new Error(`DNS image worker exited with code ${code}`))));
  });
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const job = workerData as Job;
  const cri = new CriClient({ endpoint: job.endpoint });
  ensureDnsImage(cri, { address: job.address, archiveDir: job.archiveDir })
    .then(
      (result) => port.postMessage({ ok: true, result }),
      (err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
    )
    .finally(() => cri.close());
}
