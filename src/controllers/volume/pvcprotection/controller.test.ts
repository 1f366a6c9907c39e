import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PersistentVolumeClaim, Pod } from "kubernetes-types/core/v1.js";
import { Lister, type Indexer } from "../../../client/informer.js";
import type { DeepReadonly } from "../../../client/objects.js";
import { createLogger } from "../../../util/log.js";
import { FakeApi, cachePut, seedIndexer } from "../../testing/index.js";
import { POD_PVC_INDEX, podPVCIndexFunc } from "../common.js";
import { PVCProtectionController, PVCProtectionEventHandlers, podUsesClaim } from "./controller.js";

const log = createLogger("silent");
const FIN = "kubernetes.io/pvc-protection";

function pvc(o: { finalizers?: string[]; deleting?: boolean; owner?: string } = {}): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: "data",
      namespace: "ns",
      uid: "uid-data",
      resourceVersion: "5",
      ...(o.finalizers ? { finalizers: o.finalizers } : {}),
      ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
      ...(o.owner ? { ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "web", uid: o.owner, controller: true }] } : {}),
    },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
  };
}

function pod(o: { name?: string; uid?: string; nodeName?: string; phase?: string; claim?: string; ephemeral?: string; shutDown?: boolean; namespace?: string } = {}): Pod {
  const name = o.name ?? "web";
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: o.namespace ?? "ns",
      uid: o.uid ?? `uid-${name}`,
      ...(o.shutDown ? { deletionTimestamp: "2026-01-01T00:00:00Z", deletionGracePeriodSeconds: 0 } : {}),
    },
    spec: {
      ...(o.nodeName !== undefined ? { nodeName: o.nodeName } : { nodeName: "node-1" }),
      containers: [],
      volumes: [
        ...(o.claim ? [{ name: "v", persistentVolumeClaim: { claimName: o.claim } }] : []),
        ...(o.ephemeral ? [{ name: o.ephemeral, ephemeral: { volumeClaimTemplate: { spec: {} } } }] : []),
      ],
    },
    status: { phase: o.phase ?? "Running" },
  };
}

class World {
  readonly api = new FakeApi();
  readonly claims: Indexer<PersistentVolumeClaim> = seedIndexer<PersistentVolumeClaim>();
  readonly pods: Indexer<Pod> = seedIndexer<Pod>([], { [POD_PVC_INDEX]: podPVCIndexFunc });
  live: Pod[] = [];
  liveLists = 0;
  readonly c = new PVCProtectionController({
    api: this.api,
    claims: new Lister(this.claims),
    podsOfClaim: (key) => this.pods.byIndex(POD_PVC_INDEX, key),
    livePods: (ns) => {
      this.liveLists++;
      return Promise.resolve(this.live.filter((p) => p.metadata?.namespace === ns));
    },
    log,
  });

  claim(c: PersistentVolumeClaim): this {
    cachePut(this.claims, c);
    this.api.seed("", "persistentvolumeclaims", c);
    return this;
  }

  finalizers(): string[] | undefined {
    return this.api.object<PersistentVolumeClaim>("", "persistentvolumeclaims", "ns", "data")?.metadata?.finalizers;
  }
}

void describe("PVCProtectionController.sync", () => {
  void it("adds the finalizer to a live claim without it, and leaves one that has it", async () => {
    const w = new World().claim(pvc({ finalizers: ["other"] }));
    await w.c.sync("ns/data");
    assert.deepEqual(w.api.verbs(), ["update persistentvolumeclaims ns/data"]);
    assert.deepEqual(w.finalizers(), ["other", FIN]);

    const has = new World().claim(pvc({ finalizers: [FIN] }));
    await has.c.sync("ns/data");
    assert.deepEqual(has.api.verbs(), []);
  });

  void it("keeps a deleting claim a cached scheduled pod uses, without a live list", async () => {
    const w = new World().claim(pvc({ finalizers: [FIN], deleting: true }));
    cachePut(w.pods, pod({ claim: "data" }));
    await w.c.sync("ns/data");
    assert.deepEqual(w.api.verbs(), []);
    assert.equal(w.liveLists, 0);
  });

  void it("keeps a deleting claim a pod the cache has not seen yet uses (the live list)", async () => {
    const w = new World().claim(pvc({ finalizers: [FIN], deleting: true }));
    w.live = [pod({ claim: "data" })];
    await w.c.sync("ns/data");
    assert.deepEqual(w.api.verbs(), []);
    assert.equal(w.liveLists, 1);
  });

  void it("takes the finalizer off a deleting claim no scheduled pod uses, keeping the others", async () => {
    const w = new World().claim(pvc({ finalizers: ["a", FIN, "b"], deleting: true }));
    cachePut(w.pods, pod({ name: "pending", claim: "data", nodeName: "" }));
    w.live = [pod({ name: "pending", claim: "data", nodeName: "" }), pod({ name: "elsewhere", claim: "data", namespace: "other" }), pod({ name: "unrelated", claim: "logs" })];
    await w.c.sync("ns/data");
    assert.deepEqual(w.api.verbs(), ["update persistentvolumeclaims ns/data"]);
    assert.deepEqual(w.finalizers(), ["a", "b"]);
  });

  void it("does nothing for a claim gone from the cache", async () => {
    const w = new World();
    await w.c.sync("ns/data");
    assert.deepEqual(w.api.verbs(), []);
  });
});

void describe("podUsesClaim", () => {
  const ro = (p: Pod): DeepReadonly<Pod> => p as DeepReadonly<Pod>;
  const claim = (o: Parameters<typeof pvc>[0] = {}): DeepReadonly<PersistentVolumeClaim> => pvc(o) as DeepReadonly<PersistentVolumeClaim>;

  void it("counts a scheduled pod naming the claim whatever its phase, as upstream does", () => {
    assert.equal(podUsesClaim(ro(pod({ claim: "data" })), claim()), true);
    assert.equal(podUsesClaim(ro(pod({ claim: "data", phase: "Succeeded" })), claim()), true);
    assert.equal(podUsesClaim(ro(pod({ claim: "data", nodeName: "" })), claim()), false, "not scheduled");
    assert.equal(podUsesClaim(ro(pod({ claim: "other" })), claim()), false);
  });

  void it("counts an ephemeral claim only for the pod that owns it, and not once the kubelet is done with the pod", () => {
    const mine = claim({ owner: "uid-web" });
    // The claim made for pod web's volume "scratch".
    const owned: DeepReadonly<PersistentVolumeClaim> = { ...mine, metadata: { ...mine.metadata, name: "web-scratch" } };
    const eph = (o: Parameters<typeof pod>[0] = {}): DeepReadonly<Pod> => ro(pod({ name: "web", ...o }));
    assert.equal(podUsesClaim(eph({ ephemeral: "scratch" }), owned), true);
    assert.equal(podUsesClaim(eph({ ephemeral: "scratch", uid: "uid-newer" }), owned), false, "another pod of the name");
    assert.equal(podUsesClaim(eph({ ephemeral: "scratch", shutDown: true }), owned), false);
  });
});

void describe("PVCProtectionEventHandlers", () => {
  const ro = <T,>(v: T): DeepReadonly<T> => v as DeepReadonly<T>;

  void it("enqueues claims that need the finalizer added or may lose it", () => {
    const keys: string[] = [];
    const h = new PVCProtectionEventHandlers((k) => keys.push(k));
    h.claims.onAdd?.(ro(pvc({ finalizers: [FIN] })), false);
    assert.deepEqual(keys, []);
    h.claims.onAdd?.(ro(pvc()), false);
    h.claims.onUpdate?.(ro(pvc({ finalizers: [FIN] })), ro(pvc({ finalizers: [FIN], deleting: true })));
    assert.deepEqual(keys, ["ns/data", "ns/data"]);
  });

  void it("enqueues a pod's claims when the pod stops holding them: deleted, finished, or not scheduled", () => {
    const keys: string[] = [];
    const h = new PVCProtectionEventHandlers((k) => keys.push(k));
    h.pods.onAdd?.(ro(pod({ claim: "data", ephemeral: "scratch" })), false);
    assert.deepEqual(keys, [], "a running scheduled pod holds its claims");
    h.pods.onUpdate?.(ro(pod({ claim: "data" })), ro(pod({ claim: "data", phase: "Succeeded" })));
    h.pods.onDelete?.(ro(pod({ claim: "data", ephemeral: "scratch" })));
    assert.deepEqual(keys, ["ns/data", "ns/data", "ns/web-scratch"]);
    keys.length = 0;
    h.pods.onUpdate?.(ro(pod({ claim: "old" })), ro(pod({ claim: "data", uid: "uid-new" })));
    assert.deepEqual(keys, ["ns/old"], "a pod replaced under its name: the old one's claims");
  });
});
