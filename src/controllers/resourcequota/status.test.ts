import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ResourceQuota } from "kubernetes-types/core/v1.js";
import type { DeepReadonly, KubeObject } from "../../client/objects.js";
import type { CountedResource } from "../../api/quota.js";
import { computeUsed, nextStatus, sameResourceList } from "./status.js";

const q = (spec: ResourceQuota["spec"], status?: ResourceQuota["status"]): ResourceQuota => ({ metadata: { name: "q", namespace: "ns" }, spec, ...(status ? { status } : {}) });

void describe("resource quota status", () => {
  void it("compares resource lists by quantity and by name set", () => {
    assert.ok(sameResourceList({ cpu: "1", memory: "1Gi" }, { cpu: "1000m", memory: "1024Mi" }));
    assert.ok(sameResourceList(undefined, {}));
    assert.ok(!sameResourceList({ cpu: "1" }, { cpu: "1", pods: "0" }));
    assert.ok(!sameResourceList({ cpu: "1" }, { memory: "1" }));
    assert.ok(!sameResourceList({ cpu: "1" }, { cpu: "2" }));
  });

  void it("lists only the resources the quota may count", () => {
    const asked: string[] = [];
    const objects = (r: CountedResource): DeepReadonly<KubeObject>[] => {
      asked.push(r.group ? `${r.plural}.${r.group}` : r.plural);
      return [];
    };
    assert.deepEqual(computeUsed(q({ hard: { "limits.memory": "1Gi", "count/jobs.batch": "2", "requests.storage": "5Gi" } }), objects), { "limits.memory": "0", "count/jobs.batch": "0", "requests.storage": "0" });
    assert.deepEqual(asked, ["pods", "persistentvolumeclaims", "jobs.batch"]);
  });

  void it("writes a status that is missing, even one of zeros", () => {
    assert.deepEqual(nextStatus(q({ hard: { pods: "1" } }), () => []), { hard: { pods: "1" }, used: { pods: "0" } });
    assert.deepEqual(nextStatus(q({ hard: { pods: "1" } }, { hard: { pods: "1" } }), () => []), { hard: { pods: "1" }, used: { pods: "0" } });
    assert.equal(nextStatus(q({ hard: { pods: "1" } }, { hard: { pods: "1" }, used: { pods: "0" } }), () => []), undefined);
  });
});
