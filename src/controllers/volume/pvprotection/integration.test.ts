// The PV protection controller against a real API server: a deleted volume that is Bound stays
// (terminating) until its phase says otherwise, then goes. The test plays the PV controller,
// writing the phase.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PersistentVolume } from "kubernetes-types/core/v1.js";
import type { RestClient } from "../../../client/rest.js";
import { isNotFound } from "../../../client/errors.js";
import { runControllersAgainstApiServer, type ControllersAgainstApiServer } from "../../../testing/controllers.js";
import { until } from "../../../testing/wait.js";
import { PV_PROTECTION_FINALIZER } from "../../../api/persistentvolume.js";
import { pvProtectionController } from "./index.js";

void describe("PV protection against an API server", () => {
  let h: ControllersAgainstApiServer;
  let client: RestClient;

  before(async () => {
    h = await runControllersAgainstApiServer((ctx) => [[pvProtectionController(ctx), 1]]);
    client = h.client;
  });

  after(() => h?.stop());

  const pvs = () => client.forKind("v1", "PersistentVolume");

  void it("adds the finalizer, keeps a Bound volume, and lets it go once Released", async () => {
    const pv: PersistentVolume = {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: "pv1" },
      spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], persistentVolumeReclaimPolicy: "Retain", hostPath: { path: "/tmp/k8ts-pv1" } },
    };
    await pvs().create(pv);
    const protectedPV = await until("finalizer added", async () => {
      const got = await pvs().get("pv1");
      return got.metadata?.finalizers?.includes(PV_PROTECTION_FINALIZER) ? got : undefined;
    });
    await pvs().updateStatus({ ...protectedPV, status: { phase: "Bound" } });
    await pvs().delete("pv1");
    const deleting = await until("deletion seen by the controller", () => {
      const cached = h.informers.forKind("v1", "PersistentVolume").lister.get("pv1");
      return cached?.metadata?.deletionTimestamp ? cached : undefined;
    });
    assert.ok(deleting.metadata?.finalizers?.includes(PV_PROTECTION_FINALIZER));
    assert.equal((await pvs().get("pv1")).status?.phase, "Bound", "still there while Bound");

    const live = await pvs().get("pv1");
    await pvs().updateStatus({ ...live, status: { phase: "Released" } });
    await until("volume gone", async () => {
      try {
        await pvs().get("pv1");
        return undefined;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    });
  });
});
