// The Job controller against a real API server, for what the unit tests' fake cannot show:
// that the status writes of podFailurePolicy, backoffLimitPerIndex and successPolicy pass the
// server's Job status validation. The test plays the kubelet, writing the pods' statuses.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { Job, JobSpec } from "kubernetes-types/batch/v1.js";
import { type RestClient } from "../../client/rest.js";
import { until } from "../../testing/wait.js";
import { runControllersAgainstApiServer, type ControllersAgainstApiServer } from "../../testing/controllers.js";
import { newJobController } from "./index.js";


void describe("Job controller policies against an API server", () => {
  let h: ControllersAgainstApiServer;
  let client: RestClient;

  before(async () => {
    h = await runControllersAgainstApiServer((ctx) => [[newJobController(ctx), 2]]);
    client = h.client;
  });

  after(() => h?.stop());

  const jobs = () => client.forKind("batch/v1", "Job").namespace("default");
  const pods = () => client.forKind("v1", "Pod").namespace("default");

  async function createJob(name: string, spec: Partial<JobSpec>): Promise<Job> {
    return jobs().create({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } }, ...spec },
    } as Job);
  }

  const podsOf = async (job: Job): Promise<Pod[]> => (await pods().list()).items.filter((p: Pod) => p.metadata?.ownerReferences?.[0]?.uid === job.metadata?.uid);
  const indexOf = (p: Pod): string | undefined => p.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"];

  /** What a kubelet would report of a pod that ended a minute ago, its container with `exitCode`. */
  async function finish(p: Pod, exitCode: number): Promise<void> {
    const at = new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, "Z");
    const fresh = await pods().get(p.metadata?.name ?? "");
    const status: Pod["status"] = {
      ...fresh.status,
      phase: exitCode === 0 ? "Succeeded" : "Failed",
      containerStatuses: [{ name: "c", image: "busybox", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode, startedAt: at, finishedAt: at } } }],
    };
    await pods().updateStatus({ ...fresh, status });
  }

  async function finishedCondition(name: string): Promise<[string, string, string]> {
    return until(`job ${name} finished`, async () => {
      const c = (await jobs().get(name)).status?.conditions?.find((x) => (x.type === "Complete" || x.type === "Failed") && x.status === "True");
      return c ? ([c.type, c.reason ?? "", c.message ?? ""] as [string, string, string]) : undefined;
    });
  }

  void it("FailJob: the Job fails with reason PodFailurePolicy", async () => {
    const job = await createJob("failjob", { podFailurePolicy: { rules: [{ action: "FailJob", onExitCodes: { operator: "In", values: [42] } }] } });
    const [p] = await until("a pod", async () => ((await podsOf(job)).length === 1 ? podsOf(job) : undefined));
    await finish(p!, 42);
    assert.deepEqual(await finishedCondition("failjob"), ["Failed", "PodFailurePolicy", `Container c for pod default/${p!.metadata?.name} failed with exit code 42 matching FailJob rule at index 0`]);
    assert.equal((await jobs().get("failjob")).status?.failed, 1);
  });

  void it("backoffLimitPerIndex: a failed index is retried with its failure count, then recorded in failedIndexes", async () => {
    const job = await createJob("perindex", { completionMode: "Indexed", completions: 2, parallelism: 2, backoffLimitPerIndex: 1 });
    const first = await until("two pods", async () => {
      const ps = await podsOf(job);
      return ps.length === 2 ? ps : undefined;
    });
    await finish(first.find((p) => indexOf(p) === "1")!, 0);
    await finish(first.find((p) => indexOf(p) === "0")!, 1);
    const retry = await until("index 0 retried", async () => (await podsOf(job)).find((p) => indexOf(p) === "0" && !first.some((f) => f.metadata?.uid === p.metadata?.uid)));
    assert.equal(retry.metadata?.annotations?.["batch.kubernetes.io/job-index-failure-count"], "1");
    await finish(retry, 1);
    assert.deepEqual(await finishedCondition("perindex"), ["Failed", "FailedIndexes", "Job has failed indexes"]);
    const s = (await jobs().get("perindex")).status;
    assert.deepEqual([s?.failedIndexes, s?.completedIndexes, s?.failed, s?.succeeded], ["0", "1", 2, 1]);
  });

  void it("successPolicy: Complete with reason SuccessPolicy before every index succeeded", async () => {
    const job = await createJob("succeeds", { completionMode: "Indexed", completions: 3, parallelism: 1, successPolicy: { rules: [{ succeededCount: 1 }] } });
    const [p] = await until("a pod", async () => ((await podsOf(job)).length === 1 ? podsOf(job) : undefined));
    await finish(p!, 0);
    assert.deepEqual(await finishedCondition("succeeds"), ["Complete", "SuccessPolicy", "Matched rules at index 0"]);
    assert.equal((await jobs().get("succeeds")).status?.completedIndexes, "0");
  });
});
