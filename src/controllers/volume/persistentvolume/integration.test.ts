// The PV controller against a real API server: what the fake cannot show is that its spec and
// status writes pass the server's PersistentVolume(Claim) validation and status subresources,
// and that the informers bring each write back for the next step. No PVC protection controller
// runs here: a claim the server gave a finalizer has it taken off by the test.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PersistentVolume, PersistentVolumeClaim } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import type { RestClient } from "../../../client/rest.js";
import { runControllersAgainstApiServer, type ControllersAgainstApiServer } from "../../../testing/controllers.js";
import { until } from "../../../testing/wait.js";
import { ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_BETA_STORAGE_PROVISIONER, ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER, DEFAULT_STORAGE_CLASS_ANNOTATION } from "../../../api/persistentvolume.js";
import { persistentVolumeBinderControllerFactory } from "./index.js";

void describe("PV controller against an API server", () => {
  let h: ControllersAgainstApiServer;
  let client: RestClient;

  before(async () => {
    // A short resync, so the retroactive default class does not wait 15 s.
    h = await runControllersAgainstApiServer((ctx) => [[persistentVolumeBinderControllerFactory({ syncPeriodMs: 1000 })(ctx), 1]]);
    client = h.client;
  });

  after(() => h?.stop());

  const pvs = () => client.forKind("v1", "PersistentVolume");
  const pvcs = () => client.forKind("v1", "PersistentVolumeClaim").namespace("default");
  const classes = () => client.forKind("storage.k8s.io/v1", "StorageClass");

  function volume(name: string, o: { size?: string; reclaim?: string; cls?: string; annotations?: Record<string, string> } = {}): PersistentVolume {
    return {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name, ...(o.annotations ? { annotations: o.annotations } : {}) },
      spec: {
        capacity: { storage: o.size ?? "1Gi" },
        accessModes: ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: o.reclaim ?? "Retain",
        storageClassName: o.cls ?? "",
        hostPath: { path: `/tmp/k8ts-pv-${name}` },
      },
    };
  }

  function claim(name: string, cls: string | null = ""): PersistentVolumeClaim {
    return {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, ...(cls !== null ? { storageClassName: cls } : {}) },
    };
  }

  const eventFor = (name: string, reason: string) => () => h.events.events.find((e) => e.name === name && e.reason === reason);

  async function deleteClaim(name: string): Promise<void> {
    await pvcs().delete(name);
    // Admission may have given it the protection finalizer, and nothing here takes it off.
    const left = await pvcs()
      .get(name)
      .catch(() => undefined);
    if (left?.metadata?.finalizers?.length) await pvcs().patch(name, "merge", { metadata: { finalizers: null } });
  }

  void it("binds a static volume and a claim both ways, then releases a Retain volume when the claim goes", async () => {
    await pvs().create(volume("static-1"));
    const created = await pvcs().create(claim("data"));
    const bound = await until("claim Bound", async () => {
      const c = await pvcs().get("data");
      return c.status?.phase === "Bound" ? c : undefined;
    });
    assert.equal(bound.spec?.volumeName, "static-1");
    assert.equal(bound.metadata?.annotations?.[ANN_BIND_COMPLETED], "yes");
    assert.equal(bound.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER], "yes");
    assert.deepEqual(bound.status?.capacity, { storage: "1Gi" });
    assert.deepEqual(bound.status?.accessModes, ["ReadWriteOnce"]);
    const pv = await until("volume Bound", async () => {
      const v = await pvs().get("static-1");
      return v.status?.phase === "Bound" ? v : undefined;
    });
    assert.equal(pv.spec?.claimRef?.uid, created.metadata?.uid);
    assert.equal(pv.spec?.claimRef?.kind, "PersistentVolumeClaim");
    assert.equal(pv.spec?.claimRef?.namespace, "default");
    assert.equal(pv.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER], "yes");

    await deleteClaim("data");
    await until("volume Released", async () => ((await pvs().get("static-1")).status?.phase === "Released" ? true : undefined));
    assert.equal((await pvs().get("static-1")).spec?.claimRef?.uid, created.metadata?.uid, "a Retain volume keeps its claimRef");
  });

  void it("finishes a binding a provisioner started: a volume whose claimRef names the claim", async () => {
    const c = await pvcs().create(claim("prov"));
    const pv = volume("pvc-prov", { reclaim: "Delete", annotations: { "pv.kubernetes.io/provisioned-by": "example.com/ext" } });
    pv.spec!.claimRef = { kind: "PersistentVolumeClaim", apiVersion: "v1", namespace: "default", name: "prov", uid: c.metadata?.uid ?? "" };
    await pvs().create(pv);
    const bound = await until("claim Bound", async () => {
      const got = await pvcs().get("prov");
      return got.status?.phase === "Bound" ? got : undefined;
    });
    assert.equal(bound.spec?.volumeName, "pvc-prov");
    assert.equal(bound.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER], "yes");
    assert.equal((await pvs().get("pvc-prov")).metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER], undefined, "the provisioner, not the controller, set the claimRef");

    // Delete with an external provisioner's annotation: Released, and left to that provisioner.
    await deleteClaim("prov");
    await until("volume Released", async () => ((await pvs().get("pvc-prov")).status?.phase === "Released" ? true : undefined));
  });

  void it("waits for the first consumer, then hands a claim with a selected node to its class's provisioner", async () => {
    const sc: StorageClass = { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "wffc" }, provisioner: "example.com/ext", volumeBindingMode: "WaitForFirstConsumer", reclaimPolicy: "Delete" };
    await classes().create(sc);
    await pvcs().create(claim("late", "wffc"));
    const waiting = await until("WaitForFirstConsumer event", eventFor("late", "WaitForFirstConsumer"));
    assert.equal(waiting.type, "Normal");
    assert.equal(waiting.message, "waiting for first consumer to be created before binding");
    assert.equal((await pvcs().get("late")).metadata?.annotations?.[ANN_STORAGE_PROVISIONER], undefined);

    await pvcs().patch("late", "merge", { metadata: { annotations: { [ANN_SELECTED_NODE]: "node-1" } } });
    const annotated = await until("provisioner annotations", async () => {
      const got = await pvcs().get("late");
      return got.metadata?.annotations?.[ANN_STORAGE_PROVISIONER] ? got : undefined;
    });
    assert.equal(annotated.metadata?.annotations?.[ANN_STORAGE_PROVISIONER], "example.com/ext");
    assert.equal(annotated.metadata?.annotations?.[ANN_BETA_STORAGE_PROVISIONER], "example.com/ext");
    const ev = await until("ExternalProvisioning event", eventFor("late", "ExternalProvisioning"));
    assert.match(ev.message, /^Waiting for a volume to be created either by the external provisioner 'example.com\/ext' or manually by the system administrator/);
  });

  void it("gives a claim without a class the default class once one exists", async () => {
    await pvcs().create(claim("classless", null));
    await until("FailedBinding event", eventFor("classless", "FailedBinding"));
    await classes().create({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "dflt", annotations: { [DEFAULT_STORAGE_CLASS_ANNOTATION]: "true" } },
      provisioner: "example.com/ext",
      volumeBindingMode: "Immediate",
    });
    const got = await until("default class assigned", async () => {
      const c = await pvcs().get("classless");
      return c.spec?.storageClassName ? c : undefined;
    });
    assert.equal(got.spec?.storageClassName, "dflt");
    // An Immediate class with a provisioner: handed to it at once.
    await until("handed to the provisioner", async () => ((await pvcs().get("classless")).metadata?.annotations?.[ANN_STORAGE_PROVISIONER] === "example.com/ext" ? true : undefined));
  });
});
