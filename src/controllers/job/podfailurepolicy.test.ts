import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ContainerStatus, Pod, PodCondition } from "kubernetes-types/core/v1.js";
import type { PodFailurePolicy } from "kubernetes-types/batch/v1.js";
import { matchPodFailurePolicy } from "./podfailurepolicy.js";

const terminated = (name: string, exitCode: number): ContainerStatus => ({ name, image: "i", imageID: "", ready: false, restartCount: 0, state: { terminated: { exitCode } } });
const running = (name: string): ContainerStatus => ({ name, image: "i", imageID: "", ready: true, restartCount: 0, state: { running: {} } });

function failedPod(o: { containers?: ContainerStatus[]; init?: ContainerStatus[]; conditions?: PodCondition[] }): Pod {
  return {
    metadata: { name: "p", namespace: "ns" },
    status: { phase: "Failed", containerStatuses: o.containers ?? [], ...(o.init ? { initContainerStatuses: o.init } : {}), conditions: o.conditions ?? [] },
  };
}

const exitRule = (action: string, operator: string, values: number[], containerName?: string): PodFailurePolicy["rules"][number] => ({
  action,
  onExitCodes: { operator, values, ...(containerName !== undefined ? { containerName } : {}) },
});

void describe("matchPodFailurePolicy", () => {
  void it("without a policy every failure counts", () => {
    assert.deepEqual(matchPodFailurePolicy(undefined, failedPod({ containers: [terminated("c", 1)] })), { action: undefined, countFailed: true });
  });

  void it("In matches a terminated container's exit code and names it in the FailJob message", () => {
    const policy: PodFailurePolicy = { rules: [exitRule("Ignore", "In", [1]), exitRule("FailJob", "In", [42])] };
    const m = matchPodFailurePolicy(policy, failedPod({ containers: [running("a"), terminated("main", 42)] }));
    assert.deepEqual(m, { action: "FailJob", countFailed: true, failJobMessage: "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1" });
  });

  void it("NotIn skips containers that exited 0 and matches another exit code", () => {
    const policy: PodFailurePolicy = { rules: [exitRule("Ignore", "NotIn", [1, 2])] };
    assert.equal(matchPodFailurePolicy(policy, failedPod({ containers: [terminated("a", 0)] })).action, undefined, "a clean exit never matches NotIn");
    assert.equal(matchPodFailurePolicy(policy, failedPod({ containers: [terminated("a", 2)] })).action, undefined);
    assert.deepEqual(matchPodFailurePolicy(policy, failedPod({ containers: [terminated("a", 0), terminated("b", 3)] })), { action: "Ignore", countFailed: false });
  });

  void it("containerName restricts the rule to that container, init containers included", () => {
    const policy: PodFailurePolicy = { rules: [exitRule("FailJob", "In", [5], "setup")] };
    assert.equal(matchPodFailurePolicy(policy, failedPod({ containers: [terminated("main", 5)] })).action, undefined);
    const m = matchPodFailurePolicy(policy, failedPod({ containers: [running("main")], init: [terminated("setup", 5)] }));
    assert.equal(m.failJobMessage, "Container setup for pod ns/p failed with exit code 5 matching FailJob rule at index 0");
  });

  void it("onPodConditions matches a condition of that type and status, and names it", () => {
    const policy: PodFailurePolicy = {
      rules: [
        { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "False" }] },
        { action: "FailJob", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
      ],
    };
    const m = matchPodFailurePolicy(policy, failedPod({ conditions: [{ type: "Ready", status: "False" }, { type: "DisruptionTarget", status: "True" }] }));
    assert.deepEqual(m, { action: "FailJob", countFailed: true, failJobMessage: "Pod ns/p has condition DisruptionTarget matching FailJob rule at index 1" });
  });

  void it("Count and FailIndex count the failure; an unknown action or operator is skipped", () => {
    const pod = failedPod({ containers: [terminated("c", 7)] });
    assert.deepEqual(matchPodFailurePolicy({ rules: [exitRule("Later", "In", [7]), exitRule("Count", "In", [7])] }, pod), { action: "Count", countFailed: true });
    assert.deepEqual(matchPodFailurePolicy({ rules: [exitRule("Ignore", "Between", [7]), exitRule("FailIndex", "In", [7])] }, pod), { action: "FailIndex", countFailed: true });
  });
});
