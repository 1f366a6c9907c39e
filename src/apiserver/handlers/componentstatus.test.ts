import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { leaseHealth, storeComponentName, storeHealth } from "./componentstatus.js";

const NOW = Date.parse("2026-11-27T12:00:00Z");
const lease = (spec: Lease["spec"]): Lease => ({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "kube-scheduler", namespace: "kube-system" }, spec });
const REF = "kube-system/kube-scheduler";

describe("leaseHealth", () => {
  it("is healthy while the holder renews within the lease's duration", () => {
    assert.deepEqual(leaseHealth(lease({ holderIdentity: "host_1", leaseDurationSeconds: 15, renewTime: "2026-11-27T11:59:50.000000Z" }), REF, "scheduler", NOW), { healthy: true, message: "ok" });
    // A lease just taken has no renewTime yet, only its acquireTime.
    assert.deepEqual(leaseHealth(lease({ holderIdentity: "host_1", leaseDurationSeconds: 15, acquireTime: "2026-11-27T11:59:59.000000Z" }), REF, "scheduler", NOW), { healthy: true, message: "ok" });
  });

  it("says why not: no lease, no holder, a renewal older than the duration", () => {
    assert.deepEqual(leaseHealth(undefined, REF, "scheduler", NOW), { healthy: false, error: "no scheduler has taken the Lease kube-system/kube-scheduler: none runs, or it runs without leader election" });
    assert.deepEqual(leaseHealth(lease({ leaseDurationSeconds: 15, renewTime: "2026-11-27T11:59:59.000000Z" }), REF, "scheduler", NOW), { healthy: false, error: "the Lease kube-system/kube-scheduler has no holder: the last scheduler released it" });
    assert.deepEqual(leaseHealth(lease({ holderIdentity: "host_1", leaseDurationSeconds: 15, renewTime: "2026-11-27T11:57:30.000000Z" }), REF, "scheduler", NOW), {
      healthy: false,
      error: "the Lease kube-system/kube-scheduler held by host_1 was last renewed 2m30s ago; it lasts 15s",
    });
    assert.equal(leaseHealth(lease({ holderIdentity: "host_1", leaseDurationSeconds: 15 }), REF, "scheduler", NOW).healthy, false);
  });
});

describe("storeHealth", () => {
  it("is healthy when the read answers, and says what failed when it does not", async () => {
    assert.deepEqual(await storeHealth(async () => 42), { healthy: true, message: "ok" });
    assert.deepEqual(await storeHealth(() => Promise.reject(new Error("etcd: connection refused"))), { healthy: false, error: "etcd: connection refused" });
  });

  it("gives up on a read that does not answer in time", async () => {
    assert.deepEqual(await storeHealth(() => new Promise(() => undefined), 20), { healthy: false, error: "no answer within 20ms" });
  });

  it("names the store as upstream names etcd, or by its backend", () => {
    assert.equal(storeComponentName("etcd://127.0.0.1:2379,127.0.0.1:22379"), "etcd-0");
    assert.equal(storeComponentName("sqlite:///var/lib/k8ts/state.db"), "sqlite");
    assert.equal(storeComponentName("memory://"), "memory");
  });
});
