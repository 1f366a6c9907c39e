// Jobs, CronJobs and their cleanup end to end with the official kubectl: `k8ts server`
// (controllers and scheduler embedded) and a `k8ts sim-nodes` process whose Job pods finish a
// second after they start (kwok's pod-complete stage). A Job runs to Complete and releases its
// pods' tracking finalizers; an Indexed Job reports every index; a Job past its
// activeDeadlineSeconds fails only once its pod is gone; ttlSecondsAfterFinished deletes a
// finished Job; a CronJob starts a Job at the next minute.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Job } from "kubernetes-types/batch/v1.js";
import type { Pod } from "kubernetes-types/core/v1.js";
import { kubectlOk, kubectlRunner, type Kubectl } from "../../src/testing/apiserver.js";
import { K8tsProcesses } from "../../src/testing/process.js";
import { until as waitUntil } from "../../src/testing/wait.js";
import { freePort } from "../../src/testing/net.js";

const logLevel = process.env["K8TS_TEST_LOG"] ?? "warn";
const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> => waitUntil(what, probe, ms, 200);
const SIM = { key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" };

/** A Job whose pods run on the simulated nodes (`schedulable: false`: they stay Pending). */
function jobManifest(name: string, spec: Record<string, unknown>, schedulable = true): string {
  return JSON.stringify({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name },
    spec: { ...spec, template: { spec: { restartPolicy: "Never", ...(schedulable ? { tolerations: [SIM] } : {}), containers: [{ name: "c", image: "busybox:1.35", command: ["echo", "hi"] }] } } },
  });
}

void describe("Jobs and CronJobs with kubectl", () => {
  let dir: string;
  const procs = new K8tsProcesses();
  let run: Kubectl;
  const ok = (a: readonly string[], stdin?: string): Promise<string> => kubectlOk(run, a, stdin);
  const getJob = async (name: string): Promise<Job> => JSON.parse(await ok(["get", "job", name, "-o", "json"])) as Job;
  const jobPods = async (name: string): Promise<Pod[]> => (JSON.parse(await ok(["get", "pods", "-l", `batch.kubernetes.io/job-name=${name}`, "-o", "json"])) as { items: Pod[] }).items;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-e2e-jobs-"));
    const kubeconfig = join(dir, "admin.kubeconfig");
    run = kubectlRunner(kubeconfig, join(dir, "kubectl-cache"), dir, 120_000);
    const port = await freePort();
    await procs.start("k8ts server", ["server", "--data-dir", dir, "--port", String(port), "--store", "memory://", "--disable-agent", "--disable-addons", "--log-level", logLevel], "k8ts server ready");
    await procs.start("sim-nodes", ["sim-nodes", "--kubeconfig", kubeconfig, "--count", "2", "--ready-delay", "0s", "--job-pod-run-time", "1s", "--log-level", logLevel], "sim-nodes ready");
    // Started first: its first Job comes at the next minute, while the other cases run.
    await ok(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: { name: "tick" },
        spec: { schedule: "* * * * *", jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", tolerations: [SIM], containers: [{ name: "c", image: "busybox:1.35" }] } } } } },
      }),
    );
  });

  after(async () => {
    await procs.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  void it("runs a Job to Complete and releases its pods", { timeout: 120_000 }, async () => {
    await ok(["apply", "-f", "-"], jobManifest("pi", { completions: 3, parallelism: 2 }));
    assert.match(await ok(["wait", "--for=condition=complete", "job/pi", "--timeout=60s"]), /job.batch\/pi condition met/);
    const job = await getJob("pi");
    assert.equal(job.status?.succeeded, 3);
    assert.deepEqual(
      job.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ["SuccessCriteriaMet", "True", "CompletionsReached"],
        ["Complete", "True", "CompletionsReached"],
      ],
    );
    assert.ok(job.status?.completionTime && job.status.startTime);
    assert.deepEqual(job.status?.uncountedTerminatedPods, {});
    assert.match(await ok(["get", "job", "pi"]), /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\npi\s+Complete\s+3\/3\s+/);
    const pods = await jobPods("pi");
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.equal(p.status?.phase, "Succeeded");
      assert.deepEqual(p.metadata?.finalizers ?? [], [], "the tracking finalizer is gone once the pod is counted");
    }
    assert.match(await ok(["describe", "job", "pi"]), /Pods Statuses:\s+0 Active \(0 Ready\) \/ 3 Succeeded \/ 0 Failed[\s\S]*SuccessfulCreate[\s\S]*Completed\s+\S+\s+job-controller\s+Job completed/);
  });

  void it("runs an Indexed Job: one pod per index, each told its index", { timeout: 120_000 }, async () => {
    await ok(["apply", "-f", "-"], jobManifest("idx", { completionMode: "Indexed", completions: 3, parallelism: 3 }));
    await ok(["wait", "--for=condition=complete", "job/idx", "--timeout=60s"]);
    assert.equal((await getJob("idx")).status?.completedIndexes, "0-2");
    const pods = await jobPods("idx");
    assert.deepEqual(pods.map((p) => p.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"]).sort(), ["0", "1", "2"]);
    assert.deepEqual(pods.map((p) => p.spec?.hostname).sort(), ["idx-0", "idx-1", "idx-2"]);
  });

  void it("fails a Job past its activeDeadlineSeconds once its pod is gone", { timeout: 120_000 }, async () => {
    // Its pod never gets a node (no toleration of the simulated nodes' taint), so it can only
    // end by the deadline.
    await ok(["apply", "-f", "-"], jobManifest("late", { activeDeadlineSeconds: 2 }, false));
    await ok(["wait", "--for=condition=failed", "job/late", "--timeout=90s"]);
    const job = await getJob("late");
    assert.deepEqual(
      job.status?.conditions?.map((c) => [c.type, c.reason]),
      [
        ["FailureTarget", "DeadlineExceeded"],
        ["Failed", "DeadlineExceeded"],
      ],
    );
    assert.match(await ok(["get", "events", "--field-selector", "involvedObject.name=late"]), /DeadlineExceeded\s+job\/late\s+Job was active longer than specified deadline/);
  });

  void it("deletes a finished Job after ttlSecondsAfterFinished", { timeout: 120_000 }, async () => {
    await ok(["apply", "-f", "-"], jobManifest("brief", { ttlSecondsAfterFinished: 1 }));
    await ok(["wait", "--for=condition=complete", "job/brief", "--timeout=60s"]);
    await ok(["wait", "--for=delete", "job/brief", "--timeout=60s"]);
    await until("the Job's pods to go with it", async () => ((await jobPods("brief")).length === 0 ? true : undefined));
  });

  void it("starts a CronJob's Job at the next minute and records it", { timeout: 120_000 }, async () => {
    const job = await until("the CronJob's first Job", async () => (JSON.parse(await ok(["get", "jobs", "-o", "json"])) as { items: Job[] }).items.find((j) => j.metadata?.ownerReferences?.some((r) => r.kind === "CronJob" && r.name === "tick")), 90_000);
    assert.match(job.metadata?.name ?? "", /^tick-\d+$/);
    assert.ok(job.metadata?.annotations?.["batch.kubernetes.io/cronjob-scheduled-timestamp"]);
    const cron = await until("the CronJob's lastScheduleTime", async () => {
      const c = JSON.parse(await ok(["get", "cronjob", "tick", "-o", "json"])) as { status?: { lastScheduleTime?: string } };
      return c.status?.lastScheduleTime ? c : undefined;
    });
    assert.ok(cron.status?.lastScheduleTime);
    await ok(["wait", "--for=condition=complete", `job/${job.metadata?.name ?? ""}`, "--timeout=60s"]);
  });
});
