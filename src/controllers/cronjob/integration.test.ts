// The CronJob controller against a real API server: the Job it makes passes the server's Job
// validation, its status write lands, and the requeue at the next scheduled time starts the
// next Job. The controller runs on a fake clock set ahead of the server's, so that a minute
// of schedule passes at once.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CronJob, Job } from "kubernetes-types/batch/v1.js";
import { FakeClock } from "../../client/clock.js";
import { type RestClient } from "../../client/rest.js";
import { until } from "../../testing/wait.js";
import { runControllersAgainstApiServer, type ControllersAgainstApiServer } from "../../testing/controllers.js";
import { CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION, cronJobControllerFactory } from "./index.js";


void describe("CronJob controller against an API server", () => {
  let h: ControllersAgainstApiServer;
  let client: RestClient;
  // Past the next minute boundary after anything created now.
  const clock = new FakeClock(Date.now() + 61_000);

  before(async () => {
    h = await runControllersAgainstApiServer((ctx) => [[cronJobControllerFactory(clock)(ctx), 2]]);
    client = h.client;
  });

  after(() => h?.stop());

  void it("starts a Job per scheduled minute and records it in the status", async () => {
    const cronJobs = client.forKind("batch/v1", "CronJob").namespace("default");
    const jobs = client.forKind("batch/v1", "Job").namespace("default");
    const cj = await cronJobs.create({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "tick" },
      spec: {
        schedule: "* * * * *",
        jobTemplate: { metadata: { labels: { app: "tick" } }, spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: "busybox" }] } } } },
      },
    } as CronJob);
    const first = await until("a first Job", async () => (await jobs.list()).items.find((j: Job) => j.metadata?.ownerReferences?.[0]?.uid === cj.metadata?.uid));
    assert.match(first.metadata?.name ?? "", /^tick-\d+$/);
    assert.equal(first.metadata?.labels?.["app"], "tick");
    const minute = Number((first.metadata?.name ?? "").slice("tick-".length));
    assert.equal(first.metadata?.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION], new Date(minute * 60_000).toISOString().replace(".000Z", "Z"));
    const status = await until("the status", async () => {
      const s = (await cronJobs.get("tick")).status;
      return s?.active?.length === 1 ? s : undefined;
    });
    assert.equal(status.active?.[0]?.uid, first.metadata?.uid);
    assert.equal(Date.parse(status.lastScheduleTime ?? ""), minute * 60_000);

    // The controller sets its timer for the next minute just after the status write the test
    // saw: a step before that would leave the timer in the fake future (CI caught it).
    await until("the requeue for the next minute", () => (clock.pending > 0 ? true : undefined));
    clock.step(60_000);
    await until("a second Job", async () => ((await jobs.list()).items.some((j: Job) => j.metadata?.name === `tick-${minute + 1}`) ? true : undefined));
    await until("both in the status", async () => ((await cronJobs.get("tick")).status?.active?.length === 2 ? true : undefined));
    assert.deepEqual(
      h.events.lines().filter((l) => l.includes("SuccessfulCreate")),
      [`Normal SuccessfulCreate Created job tick-${minute}`, `Normal SuccessfulCreate Created job tick-${minute + 1}`],
    );
  });
});
