// The TTL-after-finished controller against a real API server: a Job past its TTL is deleted in
// the foreground at once, one finishing now only once its TTL has run out. No Job controller
// runs here, so the tests finish Jobs by writing their status; no garbage collector runs
// either, so a foreground-deleted Job stays, terminating, with the foregroundDeletion finalizer.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Job } from "kubernetes-types/batch/v1.js";
import { type RestClient } from "../../client/rest.js";
import { until } from "../../testing/wait.js";
import { rfc3339 } from "../../util/time.js";
import { runControllersAgainstApiServer, type ControllersAgainstApiServer } from "../../testing/controllers.js";
import { ttlAfterFinishedControllerFactory } from "./index.js";


void describe("TTL-after-finished against an API server", () => {
  let h: ControllersAgainstApiServer;
  let client: RestClient;

  before(async () => {
    h = await runControllersAgainstApiServer((ctx) => [[ttlAfterFinishedControllerFactory()(ctx), 5]]);
    client = h.client;
  });

  after(() => h?.stop());

  const jobs = () => client.forKind("batch/v1", "Job").namespace("default");

  /** Creates a Job with `ttl` and marks it Complete at `finishedAt`. */
  async function finishedJob(name: string, ttl: number, finishedAt: number): Promise<Job> {
    const created = await jobs().create({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name },
      spec: { ttlSecondsAfterFinished: ttl, template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } },
    });
    const at = rfc3339(finishedAt);
    created.status = {
      succeeded: 1,
      startTime: rfc3339(finishedAt - 5000),
      completionTime: at,
      conditions: [
        { type: "SuccessCriteriaMet", status: "True", lastTransitionTime: at },
        { type: "Complete", status: "True", lastTransitionTime: at },
      ],
    };
    return jobs().updateStatus(created);
  }

  const deletedAt = (name: string) => async (): Promise<string | undefined> => (await jobs().get(name)).metadata?.deletionTimestamp;

  void it("deletes an expired Job in the foreground", async () => {
    await finishedJob("expired", 30, Date.now() - 60_000);
    await until("expired Job deleted", deletedAt("expired"));
    assert.ok((await jobs().get("expired")).metadata?.finalizers?.includes("foregroundDeletion"));
    assert.match(await h.registry.getSingleMetricAsString("ttl_after_finished_controller_job_deletion_duration_seconds"), /_count [1-9]/m);
  });

  void it("deletes a Job that finishes now once its TTL has run out, not before", async () => {
    const job = await finishedJob("fresh", 2, Date.now());
    const finishedAt = Date.parse(job.status?.conditions?.find((c) => c.type === "Complete")?.lastTransitionTime ?? "");
    const at = await until("fresh Job deleted", deletedAt("fresh"));
    // Both times are whole seconds (metav1.Time), so the deletion's is at or after the expiry.
    assert.ok(Date.parse(at) >= finishedAt + 2000, `deleted at ${at}, finished at ${rfc3339(finishedAt)} with a TTL of 2 s`);
  });
});
