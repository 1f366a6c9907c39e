// The PVC protection controller against a real API server: a deleted claim a scheduled pod uses
// stays (terminating) until the pod is gone, then goes.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import type { RestClient } from "../../../client/rest.js";
import { isNotFound } from "../../../client/errors.js";
import { runControllersAgainstApiServer, type ControllersAgainstApiServer } from "../../../testing/controllers.js";
import { until } from "../../../testing/wait.js";
import { PVC_PROTECTION_FINALIZER } from "../../../api/persistentvolume.js";
import { pvcProtectionController } from "./index.js";

void describe("PVC protection against an API server", () => {
  let h: ControllersAgainstApiServer;
  let client: RestClient;

  before(async () => {
    h = await runControllersAgainstApiServer((ctx) => [[pvcProtectionController(ctx), 1]]);
    client = h.client;
  });

  after(() => h?.stop());

  const pvcs = () => client.forKind("v1", "PersistentVolumeClaim").namespace("default");
  const pods = () => client.forKind("v1", "Pod").namespace("default");
  const gone = (name: string) => async (): Promise<true | undefined> => {
    try {
      await pvcs().get(name);
      return undefined;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  };

  const claim = (name: string): PersistentVolumeClaim => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name },
    spec: { accessModes: ["ReadWriteOnce"], storageClassName: "", resources: { requests: { storage: "1Gi" } } },
  });

  void it("adds the finalizer, keeps a used claim while its pod lives, and lets it go after", async () => {
    await pvcs().create(claim("data"));
    await until("finalizer added", async () => ((await pvcs().get("data")).metadata?.finalizers?.includes(PVC_PROTECTION_FINALIZER) ? true : undefined));
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "user" },
      spec: { nodeName: "node-1", containers: [{ name: "c", image: "busybox" }], volumes: [{ name: "v", persistentVolumeClaim: { claimName: "data" } }] },
    };
    await pods().create(pod);
    await pvcs().delete("data");
    // The controller sees the deletion and a user: the claim stays, terminating.
    await until("deletion seen", async () => ((await pvcs().get("data")).metadata?.deletionTimestamp ? true : undefined));
    await until("the pod is in the controller's cache", () => (h.informers.forKind("v1", "Pod").lister.namespace("default").get("user") ? true : undefined));
    const held = await pvcs().get("data");
    assert.ok(held.metadata?.finalizers?.includes(PVC_PROTECTION_FINALIZER), "kept while a pod uses it");

    await pods().delete("user", { gracePeriodSeconds: 0 });
    await until("claim gone", gone("data"));
  });

  void it("lets an unused claim go at once", async () => {
    await pvcs().create(claim("idle"));
    await until("finalizer added", async () => ((await pvcs().get("idle")).metadata?.finalizers?.includes(PVC_PROTECTION_FINALIZER) ? true : undefined));
    await pvcs().delete("idle");
    await until("claim gone", gone("idle"));
  });
});
