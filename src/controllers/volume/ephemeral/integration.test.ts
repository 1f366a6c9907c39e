// The ephemeral volume controller against a real API server: a pod with a generic ephemeral
// volume gets its claim, which passes the server's validation, owned by the pod.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { RestClient } from "../../../client/rest.js";
import { runControllersAgainstApiServer, type ControllersAgainstApiServer } from "../../../testing/controllers.js";
import { until } from "../../../testing/wait.js";
import { ephemeralVolumeController } from "./index.js";

void describe("ephemeral volume controller against an API server", () => {
  let h: ControllersAgainstApiServer;
  let client: RestClient;

  before(async () => {
    h = await runControllersAgainstApiServer((ctx) => [[ephemeralVolumeController(ctx), 5]]);
    client = h.client;
  });

  after(() => h?.stop());

  const pvcs = () => client.forKind("v1", "PersistentVolumeClaim").namespace("default");
  const pods = () => client.forKind("v1", "Pod").namespace("default");

  void it("makes the pod's claim from its template, owned by the pod", async () => {
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web" },
      spec: {
        containers: [{ name: "c", image: "busybox", volumeMounts: [{ name: "scratch", mountPath: "/scratch" }] }],
        volumes: [
          {
            name: "scratch",
            ephemeral: {
              volumeClaimTemplate: {
                metadata: { labels: { app: "web" } },
                spec: { accessModes: ["ReadWriteOnce"], storageClassName: "local-path", resources: { requests: { storage: "1Gi" } } },
              },
            },
          },
        ],
      },
    };
    const created = await pods().create(pod);
    const claim = await until("claim made", async () => pvcs().get("web-scratch").catch(() => undefined));
    assert.deepEqual(claim.metadata?.ownerReferences, [{ apiVersion: "v1", kind: "Pod", name: "web", uid: created.metadata?.uid, controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(claim.metadata?.labels, { app: "web" });
    assert.equal(claim.spec?.storageClassName, "local-path");
    assert.deepEqual(claim.spec?.resources?.requests, { storage: "1Gi" });
    assert.deepEqual(h.events.lines(), []);
  });

  void it("warns on the pod when a claim of that name is not the pod's", async () => {
    await pvcs().create({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "taken-scratch" },
      spec: { accessModes: ["ReadWriteOnce"], storageClassName: "", resources: { requests: { storage: "1Gi" } } },
    });
    await until("claim cached", () => (h.informers.forKind("v1", "PersistentVolumeClaim").lister.namespace("default").get("taken-scratch") ? true : undefined));
    await pods().create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "taken" },
      spec: {
        containers: [{ name: "c", image: "busybox" }],
        volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } } } }],
      },
    });
    const ev = await until("FailedBinding", () => h.events.events.find((e) => e.name === "taken" && e.reason === "FailedBinding"));
    assert.equal(ev.type, "Warning");
    assert.equal(ev.message, "ephemeral volume scratch: PVC default/taken-scratch was not created for pod default/taken (pod is not owner)");
  });
});
