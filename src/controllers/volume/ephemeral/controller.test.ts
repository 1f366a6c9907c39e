import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import { Registry } from "prom-client";
import { Lister, type Indexer } from "../../../client/informer.js";
import type { DeepReadonly } from "../../../client/objects.js";
import { createLogger } from "../../../util/log.js";
import { FakeApi, RecordingEventSink, apiError, cachePut, seedIndexer } from "../../testing/index.js";
import { POD_PVC_INDEX, podPVCIndexFunc } from "../common.js";
import { EphemeralVolumeController, EphemeralVolumeEventHandlers, ephemeralVolumeMetrics } from "./controller.js";

const log = createLogger("silent");

function pod(o: { deleting?: boolean; ephemeral?: boolean } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "ns", uid: "uid-web", ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: {
      containers: [],
      volumes: [
        { name: "cfg", configMap: { name: "c" } },
        ...(o.ephemeral === false
          ? []
          : [
              {
                name: "scratch",
                ephemeral: {
                  volumeClaimTemplate: {
                    metadata: { labels: { app: "web" }, annotations: { note: "x" } },
                    spec: { accessModes: ["ReadWriteOnce"], storageClassName: "local-path", resources: { requests: { storage: "1Gi" } } },
                  },
                },
              },
            ]),
      ],
    },
  };
}

class World {
  readonly api = new FakeApi();
  readonly pods: Indexer<Pod> = seedIndexer<Pod>([], { [POD_PVC_INDEX]: podPVCIndexFunc });
  readonly claims: Indexer<PersistentVolumeClaim> = seedIndexer<PersistentVolumeClaim>();
  readonly events = new RecordingEventSink();
  readonly registry = new Registry();
  readonly c = new EphemeralVolumeController({ api: this.api, pods: new Lister(this.pods), claims: new Lister(this.claims), events: this.events, log, metrics: ephemeralVolumeMetrics(this.registry) });
}

void describe("EphemeralVolumeController.sync", () => {
  void it("makes the claim <pod>-<volume> from the template, owned by the pod", async () => {
    const w = new World();
    cachePut(w.pods, pod());
    await w.c.sync("ns/web");
    assert.deepEqual(w.api.verbs(), ["create persistentvolumeclaims ns/web-scratch"]);
    const c = w.api.object<PersistentVolumeClaim>("", "persistentvolumeclaims", "ns", "web-scratch");
    assert.deepEqual(c?.metadata?.ownerReferences, [{ apiVersion: "v1", kind: "Pod", name: "web", uid: "uid-web", controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(c?.metadata?.labels, { app: "web" });
    assert.deepEqual(c?.metadata?.annotations, { note: "x" });
    assert.deepEqual(c?.spec, { accessModes: ["ReadWriteOnce"], storageClassName: "local-path", resources: { requests: { storage: "1Gi" } } });
    assert.match(await w.registry.getSingleMetricAsString("ephemeral_volume_controller_create_total"), / 1$/m);
    assert.deepEqual(w.events.lines(), []);
  });

  void it("leaves a claim the pod already owns, and pods being deleted or without ephemeral volumes", async () => {
    const w = new World();
    cachePut(w.pods, pod());
    cachePut(w.claims, { metadata: { name: "web-scratch", namespace: "ns", ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "web", uid: "uid-web", controller: true }] } });
    await w.c.sync("ns/web");
    cachePut(w.pods, pod({ deleting: true }));
    await w.c.sync("ns/web");
    await w.c.sync("ns/gone");
    assert.deepEqual(w.api.verbs(), []);
  });

  void it("warns on the pod about a claim of that name it does not own, and retries", async () => {
    const w = new World();
    cachePut(w.pods, pod());
    cachePut(w.claims, { metadata: { name: "web-scratch", namespace: "ns" } });
    await assert.rejects(w.c.sync("ns/web"));
    assert.deepEqual(w.api.verbs(), []);
    assert.deepEqual(w.events.lines(), ["Warning FailedBinding ephemeral volume scratch: PVC ns/web-scratch was not created for pod ns/web (pod is not owner)"]);
    assert.equal(w.events.events[0]?.kind, "Pod");
  });

  void it("warns when the create fails, and counts the failure", async () => {
    const w = new World();
    cachePut(w.pods, pod());
    w.api.failOn({ verb: "create" }, apiError(403, "Forbidden", 'persistentvolumeclaims "web-scratch" is forbidden: exceeded quota'));
    await assert.rejects(w.c.sync("ns/web"));
    assert.deepEqual(w.events.lines(), ['Warning FailedBinding ephemeral volume scratch: create PVC web-scratch: persistentvolumeclaims "web-scratch" is forbidden: exceeded quota']);
    assert.match(await w.registry.getSingleMetricAsString("ephemeral_volume_controller_create_failures_total"), / 1$/m);
  });
});

void describe("EphemeralVolumeEventHandlers", () => {
  void it("enqueues new pods with ephemeral volumes, and the pods of a deleted claim", () => {
    const keys: string[] = [];
    const pods = seedIndexer<Pod>([pod()], { [POD_PVC_INDEX]: podPVCIndexFunc });
    const h = new EphemeralVolumeEventHandlers((k) => keys.push(k), (key) => pods.byIndex(POD_PVC_INDEX, key));
    const ro = <T,>(v: T): DeepReadonly<T> => v as DeepReadonly<T>;
    h.pods.onAdd?.(ro(pod({ ephemeral: false })), false);
    h.pods.onAdd?.(ro(pod({ deleting: true })), false);
    assert.deepEqual(keys, []);
    h.pods.onAdd?.(ro(pod()), false);
    h.claims.onDelete?.(ro<PersistentVolumeClaim>({ metadata: { name: "web-scratch", namespace: "ns" } }));
    h.claims.onDelete?.(ro<PersistentVolumeClaim>({ metadata: { name: "unrelated", namespace: "ns" } }));
    assert.deepEqual(keys, ["ns/web", "ns/web"]);
  });
});
