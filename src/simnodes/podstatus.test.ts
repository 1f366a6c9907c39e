import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod, PodStatus } from "kubernetes-types/core/v1.js";
import { desiredPodStatus, statusPatch, uidFraction, type PodPlan } from "./podstatus.js";
import { rfc3339 } from "../util/time.js";

const t0 = Date.parse("2026-01-02T03:04:05Z");
const timing = { readyDelayMs: 1000, failAfterMs: 5000 };
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
});

