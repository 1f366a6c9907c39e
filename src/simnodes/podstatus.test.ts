import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod, PodStatus } from "kubernetes-types/core/v1.js";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { desiredPodStatus, statusPatch, uidFraction, type PodPlan } from "./podstatus.js";
import { rfc3339 } from "../util/time.js";

const t0 = Date.parse("2026-01-02T03:04:05Z");
const timing = { readyDelayMs: 1000, failAfterMs: 5000, jobPodRunTimeMs: 2000 };
const plan: PodPlan = { uid: "u1", startedAt: t0, podIP: "10.128.0.2", hostIP: "172.16.0.1", fails: false };

function pod(extra: Partial<NonNullable<Pod["spec"]>> = {}, status: PodStatus = { phase: "Pending" }): Pod {
  return { metadata: { name: "p", namespace: "ns", uid: "u1" }, spec: { containers: [{ name: "app", image: "busybox:1.35" }, { name: "side", image: "reg.io/x/y" }], ...extra }, status };
}

function cond(s: PodStatus, type: string): [string | undefined, string | undefined] {
  const c = s.conditions?.find((x) => x.type === type);
  return [c?.status, c?.lastTransitionTime];
}

void describe("desiredPodStatus", () => {
  void it("runs every container at once, with addresses, and turns ready after the delay", () => {
    const early = desiredPodStatus(pod(), plan, t0, timing);
    assert.equal(early.status.phase, "Running");
    assert.equal(early.status.podIP, "10.128.0.2");
    assert.deepEqual(early.status.podIPs, [{ ip: "10.128.0.2" }]);
    assert.deepEqual(early.status.hostIPs, [{ ip: "172.16.0.1" }]);
    assert.equal(early.status.startTime, "2026-01-02T03:04:05Z");
    assert.deepEqual(early.status.containerStatuses!.map((c) => [c.name, c.ready, c.started, c.restartCount, !!c.state?.running]), [["app", false, true, 0, true], ["side", false, true, 0, true]]);
    assert.equal(early.status.containerStatuses![0]!.imageID.startsWith("busybox@sha256:"), true);
    assert.match(early.status.containerStatuses![0]!.containerID!, /^containerd:\/\/[0-9a-f]{64}$/);
    assert.deepEqual(cond(early.status, "Ready"), ["False", "2026-01-02T03:04:05Z"]);
    assert.equal(early.status.conditions!.find((c) => c.type === "ContainersReady")!.message, "containers with unready status: [app side]");
    assert.deepEqual(cond(early.status, "Initialized"), ["True", "2026-01-02T03:04:05Z"]);
    assert.deepEqual(cond(early.status, "PodScheduled"), ["True", "2026-01-02T03:04:05Z"]);
    assert.equal(early.nextChangeAt, t0 + 1000);

    const later = desiredPodStatus(pod(), plan, t0 + 1000, timing);
    assert.deepEqual(cond(later.status, "Ready"), ["True", "2026-01-02T03:04:06Z"]);
    assert.deepEqual(cond(later.status, "ContainersReady"), ["True", "2026-01-02T03:04:06Z"]);
    assert.equal(later.nextChangeAt, undefined);
  });

  void it("keeps a PodScheduled condition the scheduler wrote and waits for a readiness probe's initial delay", () => {
    const p = pod({ containers: [{ name: "app", image: "i", readinessProbe: { initialDelaySeconds: 3 } }] }, { phase: "Pending", conditions: [{ type: "PodScheduled", status: "True" }] });
    const d = desiredPodStatus(p, plan, t0 + 1000, timing);
    assert.equal(d.status.conditions!.some((c) => c.type === "PodScheduled"), false);
    assert.equal(d.status.containerStatuses![0]!.ready, false);
    assert.equal(d.nextChangeAt, t0 + 3000);
  });

  void it("completes init containers and runs sidecars", () => {
    const p = pod({ initContainers: [{ name: "init", image: "i" }, { name: "proxy", image: "i", restartPolicy: "Always" }] });
    const d = desiredPodStatus(p, plan, t0 + 2000, timing);
    assert.deepEqual(d.status.initContainerStatuses!.map((c) => [c.name, c.state?.terminated?.reason ?? "running", c.ready]), [["init", "Completed", true], ["proxy", "running", true]]);
  });

  void it("restarts the first container of a failing pod once, then it is ready again", () => {
    const failing = { ...plan, fails: true };
    const crashAt = t0 + 1000 + 5000;
    assert.equal(desiredPodStatus(pod(), failing, t0 + 1000, timing).nextChangeAt, crashAt);
    const crashed = desiredPodStatus(pod(), failing, crashAt, timing);
    const app = crashed.status.containerStatuses![0]!;
    assert.equal(app.restartCount, 1);
    assert.equal(app.ready, false);
    assert.equal(app.lastState?.terminated?.exitCode, 1);
    assert.equal(app.state?.running?.startedAt, rfc3339(crashAt));
    assert.equal(crashed.status.containerStatuses![1]!.restartCount, 0);
    assert.equal(crashed.status.phase, "Running");
    assert.deepEqual(cond(crashed.status, "Ready"), ["False", rfc3339(crashAt)]);
    assert.equal(crashed.nextChangeAt, crashAt + 1000);
    const again = desiredPodStatus(pod(), failing, crashAt + 1000, timing);
    assert.deepEqual(cond(again.status, "Ready"), ["True", rfc3339(crashAt + 1000)]);
  });

  void it("fails a failing pod whose restartPolicy is Never", () => {
    const d = desiredPodStatus(pod({ restartPolicy: "Never" }), { ...plan, fails: true }, t0 + 6000, timing);
    assert.equal(d.status.phase, "Failed");
    assert.deepEqual(d.status.containerStatuses!.map((c) => [c.state?.terminated?.exitCode, c.ready]), [[1, false], [1, false]]);
    const ready = d.status.conditions!.find((c) => c.type === "Ready")!;
    assert.deepEqual([ready.status, ready.reason], ["False", "PodFailed"]);
    assert.equal(d.nextChangeAt, undefined);
  });

  void it("picks failing pods by uid, about the asked fraction", () => {
    let n = 0;
    for (let i = 0; i < 2000; i++) if (uidFraction(`uid-${i}`) < 0.1) n++;
    assert.ok(n > 150 && n < 250, String(n));
    assert.equal(uidFraction("x"), uidFraction("x"));
  });
});

const jobRef: OwnerReference = { apiVersion: "batch/v1", kind: "Job", name: "j", uid: "job-uid", controller: true, blockOwnerDeletion: true };

function ownedPod(refs: OwnerReference[], extra: Partial<NonNullable<Pod["spec"]>> = {}): Pod {
  const p = pod(extra);
  p.metadata!.ownerReferences = refs;
  return p;
}

void describe("desiredPodStatus of a Job's pod", () => {
  for (const restartPolicy of ["Never", "OnFailure"] as const) {
    void it(`completes a pod with restartPolicy ${restartPolicy} the run time after it turned ready, as a kubelet reports a finished pod`, () => {
      const p = ownedPod([jobRef], { restartPolicy });
      const done = t0 + 1000 + 2000;
      const ready = desiredPodStatus(p, plan, t0 + 1000, timing);
      assert.equal(ready.status.phase, "Running");
      assert.deepEqual(cond(ready.status, "Ready"), ["True", rfc3339(t0 + 1000)]);
      assert.equal(ready.nextChangeAt, done);
      assert.equal(desiredPodStatus(p, plan, done - 1, timing).nextChangeAt, done);

      const d = desiredPodStatus(p, plan, done, timing);
      const ids = ready.status.containerStatuses!.map((c) => c.containerID!);
      assert.deepEqual(d.status, {
        phase: "Succeeded",
        conditions: [
          { type: "PodReadyToStartContainers", status: "True", lastTransitionTime: rfc3339(t0) },
          { type: "Initialized", status: "True", lastTransitionTime: rfc3339(t0) },
          { type: "Ready", status: "False", lastTransitionTime: rfc3339(done), reason: "PodCompleted" },
          { type: "ContainersReady", status: "False", lastTransitionTime: rfc3339(done), reason: "PodCompleted" },
          { type: "PodScheduled", status: "True", lastTransitionTime: rfc3339(t0) },
        ],
        hostIP: "172.16.0.1",
        hostIPs: [{ ip: "172.16.0.1" }],
        podIP: "10.128.0.2",
        podIPs: [{ ip: "10.128.0.2" }],
        startTime: rfc3339(t0),
        containerStatuses: ready.status.containerStatuses!.map((c, i) => ({
          name: c.name,
          image: c.image,
          imageID: c.imageID,
          containerID: ids[i],
          state: { terminated: { exitCode: 0, reason: "Completed", startedAt: rfc3339(t0), finishedAt: rfc3339(done), containerID: ids[i] } },
          lastState: {},
          ready: false,
          restartCount: 0,
          started: false,
        })),
      });
      assert.equal(d.nextChangeAt, undefined);
      assert.deepEqual(desiredPodStatus(p, plan, done + 60_000, timing), d, "nothing changes after completion");
    });
  }

  void it("counts the run time from the last container's readiness, keeps init containers Completed and stops sidecars", () => {
    const p = ownedPod([jobRef], {
      restartPolicy: "Never",
      initContainers: [{ name: "init", image: "i" }, { name: "proxy", image: "i", restartPolicy: "Always" }],
      containers: [{ name: "app", image: "i", readinessProbe: { initialDelaySeconds: 3 } }],
    });
    const done = t0 + 3000 + 2000;
    const running = desiredPodStatus(p, plan, t0 + 3000, timing);
    assert.equal(running.nextChangeAt, done);
    const d = desiredPodStatus(p, plan, done, timing);
    assert.equal(d.status.phase, "Succeeded");
    assert.deepEqual(d.status.initContainerStatuses![0], running.status.initContainerStatuses![0]);
    assert.deepEqual(
      [...d.status.initContainerStatuses!, ...d.status.containerStatuses!].map((c) => [c.name, c.state?.terminated?.exitCode, c.state?.terminated?.reason, c.ready, c.started]),
      [["init", 0, "Completed", true, false], ["proxy", 0, "Completed", false, false], ["app", 0, "Completed", false, false]],
    );
    assert.equal(d.status.initContainerStatuses![1]!.state?.terminated?.finishedAt, rfc3339(done));
  });

  void it("completes a pod when its containers are ready if the run time is 0s: at once without a readiness delay", () => {
    const p = ownedPod([jobRef], { restartPolicy: "Never" });
    const now = desiredPodStatus(p, plan, t0, { ...timing, readyDelayMs: 0, jobPodRunTimeMs: 0 });
    assert.equal(now.status.phase, "Succeeded");
    assert.deepEqual(now.status.containerStatuses!.map((c) => [c.state?.terminated?.startedAt, c.state?.terminated?.finishedAt]), [[rfc3339(t0), rfc3339(t0)], [rfc3339(t0), rfc3339(t0)]]);
    assert.deepEqual(cond(now.status, "Ready"), ["False", rfc3339(t0)]);
    assert.equal(now.nextChangeAt, undefined);
    const delayed = { ...timing, jobPodRunTimeMs: 0 };
    assert.equal(desiredPodStatus(p, plan, t0, delayed).nextChangeAt, t0 + 1000);
    assert.equal(desiredPodStatus(p, plan, t0 + 1000, delayed).status.phase, "Succeeded");
  });

  const forever: [string, Pod][] = [
    ["a pod no Job owns", pod({ restartPolicy: "Never" })],
    ["a pod a Job owns but does not control", ownedPod([{ ...jobRef, controller: false }], { restartPolicy: "Never" })],
    ["a pod whose Job reference has no controller field", ownedPod([{ apiVersion: "batch/v1", kind: "Job", name: "j", uid: "job-uid" }], { restartPolicy: "Never" })],
    ["a pod controlled by another group's Job", ownedPod([{ ...jobRef, apiVersion: "example.com/v1" }], { restartPolicy: "Never" })],
    ["a pod controlled by a ReplicaSet, a Job only owning it", ownedPod([{ ...jobRef, controller: false }, { apiVersion: "apps/v1", kind: "ReplicaSet", name: "r", uid: "rs-uid", controller: true }])],
    ["a Job's pod with restartPolicy Always", ownedPod([jobRef], { restartPolicy: "Always" })],
    ["a Job's pod without a restartPolicy (Always)", ownedPod([jobRef])],
  ];
  for (const [what, p] of forever) {
    void it(`keeps ${what} running`, () => {
      const d = desiredPodStatus(p, plan, t0 + 3_600_000, timing);
      assert.equal(d.status.phase, "Running");
      assert.deepEqual(cond(d.status, "Ready"), ["True", rfc3339(t0 + 1000)]);
      assert.equal(d.nextChangeAt, undefined);
    });
  }

  void it("fails a failing pod with restartPolicy Never instead of completing it", () => {
    const p = ownedPod([jobRef], { restartPolicy: "Never" });
    const failing = { ...plan, fails: true };
    const crashAt = t0 + 1000 + 5000;
    const past = desiredPodStatus(p, failing, t0 + 1000 + 2000, timing);
    assert.equal(past.status.phase, "Running", "not completed at the run time");
    assert.equal(past.nextChangeAt, crashAt);
    const d = desiredPodStatus(p, failing, crashAt, timing);
    assert.equal(d.status.phase, "Failed");
    assert.deepEqual(d.status.containerStatuses!.map((c) => [c.state?.terminated?.exitCode, c.state?.terminated?.reason]), [[1, "Error"], [1, "Error"]]);
    assert.equal(d.status.conditions!.find((c) => c.type === "Ready")!.reason, "PodFailed");
    assert.equal(d.nextChangeAt, undefined);
  });

  void it("restarts a failing pod with restartPolicy OnFailure once, as any failing pod, and does not complete it", () => {
    const p = ownedPod([jobRef], { restartPolicy: "OnFailure" });
    const crashAt = t0 + 1000 + 5000;
    const d = desiredPodStatus(p, { ...plan, fails: true }, crashAt + 60_000, timing);
    assert.equal(d.status.phase, "Running");
    assert.equal(d.status.containerStatuses![0]!.restartCount, 1);
    assert.equal(d.nextChangeAt, undefined);
  });
});

void describe("statusPatch", () => {
  void it("is undefined once the pod shows the desired status", () => {
    const d = desiredPodStatus(pod(), plan, t0 + 1000, timing).status;
    const first = statusPatch({ phase: "Pending" }, d, t0 + 1000);
    assert.ok(first);
    assert.equal(statusPatch(structuredClone(d), d, t0 + 1000), undefined);
  });

  void it("sends only the conditions that differ, and a condition changed by someone else transitions again now", () => {
    const d = desiredPodStatus(pod(), plan, t0 + 1000, timing).status;
    const current = structuredClone(d);
    const ready = current.conditions!.find((c) => c.type === "Ready")!;
    Object.assign(ready, { status: "False", lastTransitionTime: rfc3339(t0 + 60_000) });
    const p = statusPatch(current, d, t0 + 90_000)!;
    assert.deepEqual(Object.keys(p), ["conditions"]);
    assert.deepEqual(p["conditions"], [{ type: "Ready", status: "True", lastTransitionTime: rfc3339(t0 + 90_000), reason: null, message: null }]);
  });

  void it("turns a ready Job's pod into a completed one: phase, containers and the Ready conditions", () => {
    const p = pod({ restartPolicy: "Never" });
    p.metadata!.ownerReferences = [jobRef];
    const ready = desiredPodStatus(p, plan, t0 + 1000, timing).status;
    const done = desiredPodStatus(p, plan, t0 + 3000, timing).status;
    const patch = statusPatch(structuredClone(ready), done, t0 + 3000)!;
    assert.deepEqual(Object.keys(patch).sort(), ["conditions", "containerStatuses", "phase"]);
    assert.equal(patch["phase"], "Succeeded");
    assert.deepEqual(patch["conditions"], [
      { type: "Ready", status: "False", lastTransitionTime: rfc3339(t0 + 3000), reason: "PodCompleted", message: null },
      { type: "ContainersReady", status: "False", lastTransitionTime: rfc3339(t0 + 3000), reason: "PodCompleted", message: null },
    ]);
  });
});

