import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, ResourceDefinition, StrategyContext } from "../registry/types.js";
import { cronJobs, jobs } from "./batch.js";
import { strategyDriver } from "../../testing/strategy.js";

const ctx: StrategyContext = { namespace: "default", now: new Date("2024-05-01T12:00:00Z"), user: { username: "admin", groups: [] } };
const now = new Date("2024-05-01T12:00:00Z");
const UID = "6c4f3b4a-0c4e-4b7e-9a57-0d6f3c1c2b11";

type J = Record<string, unknown>;

function job(spec: J, meta: J = {}): KubeObject {
  return { apiVersion: "batch/v1", kind: "Job", metadata: { name: "pi", namespace: "default", uid: UID, resourceVersion: "7", creationTimestamp: "2024-05-01T11:00:00Z", ...meta }, spec };
}

function cron(spec: J, meta: J = {}): KubeObject {
  return { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "hello", namespace: "default", uid: UID, resourceVersion: "7", creationTimestamp: "2024-05-01T11:00:00Z", ...meta }, spec };
}

const podTemplate = (restartPolicy: string | null = "Never"): J => ({
  spec: { containers: [{ name: "pi", image: "perl:5.34" }], ...(restartPolicy === null ? {} : { restartPolicy }) },
});

const { create } = strategyDriver(ctx);

function created(def: ResourceDefinition, o: KubeObject): KubeObject {
  assert.deepEqual(create(def, o), []);
  return o;
}

void test("job defaults, generated selector and labels as upstream stores them", () => {
  const j = created(jobs, job({ template: podTemplate() }));
  const spec = j.spec as J;
  assert.equal(spec.completions, 1);
  assert.equal(spec.parallelism, 1);
  assert.equal(spec.backoffLimit, 6);
  assert.equal(spec.completionMode, "NonIndexed");
  assert.equal(spec.suspend, false);
  assert.equal(spec.manualSelector, false);
  assert.equal(spec.podReplacementPolicy, "TerminatingOrFailed");
  const labels = { "batch.kubernetes.io/controller-uid": UID, "batch.kubernetes.io/job-name": "pi", "controller-uid": UID, "job-name": "pi" };
  assert.deepEqual(spec.selector, { matchLabels: { "batch.kubernetes.io/controller-uid": UID } });
  assert.deepEqual((spec.template as { metadata: J }).metadata, { labels, creationTimestamp: null });
  assert.deepEqual(j.metadata?.labels, labels);
  assert.deepEqual(j.status, {});
});

void test("job defaults depend on what is set", () => {
  const cases: { name: string; spec: J; expect: J }[] = [
    { name: "parallelism only", spec: { parallelism: 3 }, expect: { parallelism: 3, completions: undefined } },
    { name: "completions only", spec: { completions: 5 }, expect: { parallelism: 1, completions: 5 } },
    { name: "per-index backoff", spec: { completionMode: "Indexed", completions: 2, backoffLimitPerIndex: 1 }, expect: { backoffLimit: 2147483647 } },
    {
      name: "pod failure policy",
      spec: { podFailurePolicy: { rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] }] } },
      expect: { podReplacementPolicy: "Failed", podFailurePolicy: { rules: [{ action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] }] } },
    },
  ];
  for (const c of cases) {
    const j = job({ ...c.spec, template: podTemplate() });
    jobs.strategy.defaults?.(j);
    for (const [k, v] of Object.entries(c.expect)) assert.deepEqual((j.spec as J)[k], v, `${c.name}: ${k}`);
  }
  // A job with labels of its own keeps them.
  const own = job({ template: { ...podTemplate(), metadata: { labels: { app: "pi" } } } }, { labels: { team: "a" } });
  created(jobs, own);
  assert.deepEqual(own.metadata?.labels, { team: "a" });
});

void test("job validation messages", () => {
  const cases: { name: string; spec: J; meta?: J; errs: string[] }[] = [
    { name: "restart policy unset", spec: { template: podTemplate(null) }, errs: ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'] },
    { name: "restart policy Always", spec: { template: podTemplate("Always") }, errs: ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'] },
    {
      name: "negatives",
      spec: { template: podTemplate(), parallelism: -1, completions: -2, backoffLimit: -1, activeDeadlineSeconds: -5 },
      errs: [
        "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
        "spec.completions: Invalid value: -2: must be greater than or equal to 0",
        "spec.activeDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0",
        "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
      ],
    },
    { name: "completion mode", spec: { template: podTemplate(), completionMode: "Sometimes" }, errs: ['spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"'] },
    {
      name: "indexed needs completions",
      spec: { template: podTemplate(), completionMode: "Indexed", completions: null, parallelism: 2 },
      errs: ["spec.completions: Required value: when completion mode is Indexed"],
    },
    { name: "per-index backoff needs Indexed", spec: { template: podTemplate(), backoffLimitPerIndex: 1 }, errs: ["spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode"] },
    {
      name: "manual selector mismatch",
      spec: { template: { ...podTemplate(), metadata: { labels: { app: "a" } } }, manualSelector: true, selector: { matchLabels: { app: "b" } } },
      errs: ['spec.template.metadata.labels: Invalid value: map[string]string{"app":"a"}: `selector` does not match template `labels`'],
    },
    {
      name: "manual selector missing",
      spec: { template: podTemplate(), manualSelector: true },
      // A nil selector selects nothing, so upstream reports the template as well.
      errs: ["spec.selector: Required value", "spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`"],
    },
    {
      name: "conflicting generated label",
      spec: { template: { ...podTemplate(), metadata: { labels: { "job-name": "other" } } } },
      errs: [
        `spec.template.metadata.labels[job-name]: Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":"${UID}", "batch.kubernetes.io/job-name":"pi", "controller-uid":"${UID}", "job-name":"other"}: must be 'pi'`,
      ],
    },
    {
      name: "selector on another uid",
      spec: { template: podTemplate(), selector: { matchLabels: { "controller-uid": "x" } } },
      errs: [
        `spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"batch.kubernetes.io/controller-uid":"${UID}", "controller-uid":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: \`selector\` not auto-generated`,
        `spec.template.metadata.labels: Invalid value: map[string]string{"batch.kubernetes.io/controller-uid":"${UID}", "batch.kubernetes.io/job-name":"pi", "controller-uid":"${UID}", "job-name":"pi"}: \`selector\` does not match template \`labels\``,
      ],
    },
    {
      name: "pod failure policy rules",
      spec: {
        template: podTemplate(),
        podFailurePolicy: { rules: [{ action: "FailJob", onExitCodes: { containerName: "nope", operator: "In", values: [3, 0, 3] } }, { action: "Explode" }] },
      },
      errs: [
        'spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "nope": must be one of the container or initContainer names in the pod template',
        "spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 0: must not be 0 for the In operator",
        "spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 3",
        "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: []int32{3, 0, 3}: must be ordered",
        'spec.podFailurePolicy.rules[1].action: Unsupported value: "Explode": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
        "spec.podFailurePolicy.rules[1]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required",
      ],
    },
    {
      name: "success policy needs Indexed",
      spec: { template: podTemplate(), successPolicy: { rules: [{ succeededCount: 1 }] } },
      errs: ['spec.successPolicy: Invalid value: {"rules":[{"succeededCount":1}]}: requires indexed completion mode'],
    },
    {
      name: "success policy indexes",
      spec: { template: podTemplate(), completionMode: "Indexed", completions: 5, parallelism: 5, successPolicy: { rules: [{ succeededIndexes: "1,3-2", succeededCount: 9 }] } },
      errs: [
        'spec.successPolicy.rules[0].succeededIndexes: Invalid value: "1,3-2": error parsing succeededIndexes: non-increasing order, previous: 3, current: 2',
        "spec.successPolicy.rules[0].succeededCount: Invalid value: 9: must be less than or equal to 5 (the number of specified completions)",
        "spec.successPolicy.rules[0].succeededCount: Invalid value: 9: must be less than or equal to 0 (the number of indexes in the specified succeededIndexes field)",
      ],
    },
    {
      name: "indexed pod hostname",
      meta: { name: "a".repeat(62) },
      spec: { template: podTemplate(), completionMode: "Indexed", completions: 10, parallelism: 1 },
      errs: [`metadata.name: Invalid value: "${"a".repeat(62)}": will not able to create pod with invalid DNS label: ${"a".repeat(62)}-9`],
    },
  ];
  for (const c of cases) assert.deepEqual(create(jobs, job(c.spec, c.meta)), c.errs, c.name);
});

void test("job updates: immutable fields, suspended jobs may move", () => {
  const old = created(jobs, job({ template: podTemplate(), suspend: true }));
  const next = structuredClone(old);
  const spec = next.spec as J;
  spec.completions = 3;
  spec.parallelism = 2;
  spec.suspend = false;
  (spec.template as { spec: J }).spec.nodeSelector = { disk: "ssd" };
  assert.deepEqual((jobs.strategy.validateUpdate?.(next, old, ctx) ?? []).map(String), ["spec.completions: Invalid value: 3: field is immutable"]);

  const started = structuredClone(old);
  started.status = { startTime: "2024-05-01T11:00:00Z" };
  const moved = structuredClone(started);
  ((moved.spec as J).template as { spec: J }).spec.nodeSelector = { disk: "ssd" };
  const errs = (jobs.strategy.validateUpdate?.(moved, started, ctx) ?? []).map(String);
  assert.equal(errs.length, 1);
  assert.match(errs[0]!, /^spec\.template: Invalid value: .*: field is immutable$/);
});

void test("job status updates", () => {
  const old = created(jobs, job({ template: podTemplate() }));
  old.status = { active: 1, startTime: "2024-05-01T11:00:00Z" };
  const next = structuredClone(old);
  next.status = { active: 1, ready: 2, failed: -1, startTime: "2024-05-01T11:00:00Z", conditions: [{ type: "Complete", status: "True" }] };
  assert.deepEqual((jobs.strategy.validateStatusUpdate?.(next, old, ctx) ?? []).map(String), [
    "status.failed: Invalid value: -1: must be greater than or equal to 0",
    "status.completionTime: Required value: completionTime is required for Complete jobs",
    "status.active: Invalid value: 1: active>0 is invalid for finished job",
    "status.ready: Invalid value: 2: cannot set more ready pods than active",
    "status.failed: Invalid value: -1: cannot decrease the failed counter",
  ]);
  const done = structuredClone(old);
  done.status = { succeeded: 1, startTime: "2024-05-01T11:00:00Z", completionTime: "2024-05-01T11:05:00Z", conditions: [{ type: "SuccessCriteriaMet", status: "True" }, { type: "Complete", status: "True" }] };
  assert.deepEqual(jobs.strategy.validateStatusUpdate?.(done, old, ctx), []);
});

void test("job table", () => {
  const base = created(jobs, job({ template: podTemplate() }));
  const cases: { name: string; patch: (j: KubeObject) => void; row: unknown[] }[] = [
    { name: "new", patch: () => {}, row: ["pi", "Running", "0/1", "", "60m"] },
    { name: "running", patch: (j) => (j.status = { active: 1, startTime: "2024-05-01T11:58:00Z" }), row: ["pi", "Running", "0/1", "2m", "60m"] },
    {
      name: "complete",
      patch: (j) => (j.status = { succeeded: 1, startTime: "2024-05-01T11:00:00Z", completionTime: "2024-05-01T11:00:09Z", conditions: [{ type: "Complete", status: "True" }] }),
      row: ["pi", "Complete", "1/1", "9s", "60m"],
    },
    { name: "failed", patch: (j) => (j.status = { failed: 6, conditions: [{ type: "Failed", status: "True" }] }), row: ["pi", "Failed", "0/1", "", "60m"] },
    { name: "suspended", patch: (j) => (j.status = { conditions: [{ type: "Suspended", status: "True" }] }), row: ["pi", "Suspended", "0/1", "", "60m"] },
    { name: "terminating", patch: (j) => (j.metadata!.deletionTimestamp = "2024-05-01T12:00:00Z"), row: ["pi", "Terminating", "0/1", "", "60m"] },
    {
      name: "work queue",
      patch: (j) => {
        (j.spec as J).completions = undefined;
        (j.spec as J).parallelism = 3;
      },
      row: ["pi", "Running", "0/1 of 3", "", "60m"],
    },
  ];
  for (const c of cases) {
    const j = structuredClone(base);
    c.patch(j);
    assert.deepEqual(jobs.table?.row(j, now).slice(0, 5), c.row, c.name);
  }
  assert.deepEqual(jobs.table?.row(base, now).slice(5), ["pi", "perl:5.34", `batch.kubernetes.io/controller-uid=${UID}`]);
  assert.deepEqual(
    jobs.table?.columns.map((c) => [c.name, c.priority]),
    [["Name", 0], ["Status", 0], ["Completions", 0], ["Duration", 0], ["Age", 0], ["Containers", 1], ["Images", 1], ["Selector", 1]],
  );
  assert.deepEqual(jobs.selectableFields?.({ metadata: {} }), { "status.successful": "0" });
});

void test("cron job defaults, table and validation", () => {
  const c = created(cronJobs, cron({ schedule: "*/5 * * * *", jobTemplate: { spec: { template: podTemplate("OnFailure") } } }));
  const spec = c.spec as J;
  assert.equal(spec.concurrencyPolicy, "Allow");
  assert.equal(spec.suspend, false);
  assert.equal(spec.successfulJobsHistoryLimit, 3);
  assert.equal(spec.failedJobsHistoryLimit, 1);
  const jobSpec = (spec.jobTemplate as { spec: J }).spec;
  assert.equal(jobSpec.backoffLimit, undefined, "job defaults do not run on job templates");
  assert.equal(((jobSpec.template as { spec: J }).spec).dnsPolicy, "ClusterFirst");
  assert.deepEqual(cronJobs.table?.row(c, now), ["hello", "*/5 * * * *", "<none>", "False", 0, "<none>", "60m", "pi", "perl:5.34", "<none>"]);
  c.status = { active: [{ name: "hello-1" }], lastScheduleTime: "2024-05-01T11:55:00Z" };
  (c.spec as J).timeZone = "Europe/Berlin";
  assert.deepEqual(cronJobs.table?.row(c, now).slice(0, 6), ["hello", "*/5 * * * *", "Europe/Berlin", "False", 1, "5m"]);
  assert.deepEqual(
    cronJobs.table?.columns.map((x) => x.name),
    ["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age", "Containers", "Images", "Selector"],
  );

  const cases: { name: string; spec: J; meta?: J; errs: string[] }[] = [
    { name: "no schedule", spec: {}, errs: ["spec.schedule: Required value"] },
    { name: "fields", spec: { schedule: "* * *" }, errs: ['spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]'] },
    { name: "range", spec: { schedule: "61 * * * *" }, errs: ['spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'] },
    { name: "word", spec: { schedule: "@sometimes" }, errs: ['spec.schedule: Invalid value: "@sometimes": unrecognized descriptor: @sometimes'] },
    { name: "int", spec: { schedule: "x * * * *" }, errs: ['spec.schedule: Invalid value: "x * * * *": failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'] },
    { name: "TZ in schedule", spec: { schedule: "TZ=UTC 0 * * * *" }, errs: ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'] },
    { name: "time zone", spec: { schedule: "@hourly", timeZone: "Mars/Olympus" }, errs: ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'] },
    {
      name: "local zone",
      spec: { schedule: "@daily", timeZone: "Local" },
      errs: ['spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'],
    },
    { name: "policy", spec: { schedule: "@daily", concurrencyPolicy: "Sometimes" }, errs: ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'] },
    {
      name: "template selector",
      spec: { schedule: "@daily", jobTemplate: { spec: { selector: { matchLabels: { a: "b" } }, manualSelector: true, template: podTemplate("Always") } } },
      errs: [
        'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
        'spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated',
        'spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: "nil", "false"',
      ],
    },
    { name: "long name", meta: { name: "c".repeat(53) }, spec: { schedule: "@daily" }, errs: [`metadata.name: Invalid value: "${"c".repeat(53)}": must be no more than 52 characters`] },
  ];
  for (const k of cases) {
    const o = cron({ jobTemplate: { spec: { template: podTemplate() } }, ...k.spec }, k.meta);
    assert.deepEqual(create(cronJobs, o), k.errs, k.name);
  }
  // A schedule that already used TZ may keep it on update.
  const legacy = cron({ schedule: "TZ=UTC 0 * * * *", jobTemplate: { spec: { template: podTemplate() } } });
  cronJobs.strategy.defaults?.(legacy);
  const upd = structuredClone(legacy);
  (upd.spec as J).suspend = true;
  assert.deepEqual(cronJobs.strategy.validateUpdate?.(upd, legacy, ctx), []);
});
