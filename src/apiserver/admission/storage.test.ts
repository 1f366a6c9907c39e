import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PersistentVolumeClaim } from "kubernetes-types/core/v1.js";
import type { StorageClass } from "kubernetes-types/storage/v1.js";
import { defaultStorageClassAdmission } from "./defaultstorageclass.js";
import { storageObjectInUseProtection } from "./storageobjectinuse.js";
import type { AdmissionAttributes, AdmissionOperation } from "./types.js";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { startTestApiServer, kubectlOk, type TestApiServer } from "../../testing/apiserver.js";
import { until } from "../../testing/wait.js";

const def = (plural: string): ResourceDefinition => ({ group: "", version: "v1", plural, namespaced: plural !== "persistentvolumes" }) as unknown as ResourceDefinition;
const user = { username: "admin", groups: ["system:masters"] };

function attrs(plural: string, object: unknown, operation: AdmissionOperation = "CREATE", subresource = ""): AdmissionAttributes {
  return { operation, resource: def(plural), subresource, namespace: "ns", name: "x", object: object as KubeObject, oldObject: undefined, user, dryRun: false };
}

const sc = (name: string, isDefault: string | undefined, created = "2026-01-01T00:00:00Z", beta = false): StorageClass => ({
  metadata: { name, creationTimestamp: created, ...(isDefault === undefined ? {} : { annotations: { [beta ? "storageclass.beta.kubernetes.io/is-default-class" : "storageclass.kubernetes.io/is-default-class"]: isDefault } }) },
  provisioner: "k8ts.io/local-path",
});

function admitClaim(classes: StorageClass[], claim: PersistentVolumeClaim, operation: AdmissionOperation = "CREATE", subresource = ""): PersistentVolumeClaim {
  const plugin = defaultStorageClassAdmission(() => classes as unknown as KubeObject[]);
  void plugin.admit!(attrs("persistentvolumeclaims", claim, operation, subresource));
  return claim;
}

const claim = (spec: PersistentVolumeClaim["spec"] = {}, annotations?: Record<string, string>): PersistentVolumeClaim => ({ metadata: { name: "c", ...(annotations ? { annotations } : {}) }, spec });

void describe("DefaultStorageClass admission", () => {
  void it("gives a claim without a class the default class", () => {
    assert.equal(admitClaim([sc("slow", undefined), sc("local-path", "true")], claim()).spec?.storageClassName, "local-path");
    // The beta annotation marks a default too; "false" or any other value does not.
    assert.equal(admitClaim([sc("old", "true", undefined, true)], claim()).spec?.storageClassName, "old");
    assert.equal(admitClaim([sc("a", "false"), sc("b", "yes")], claim()).spec?.storageClassName, undefined);
  });

  void it("picks the newest of several defaults, then the first by name", () => {
    assert.equal(admitClaim([sc("a", "true", "2026-01-01T00:00:00Z"), sc("b", "true", "2026-02-01T00:00:00Z")], claim()).spec?.storageClassName, "b");
    assert.equal(admitClaim([sc("z", "true"), sc("m", "true")], claim()).spec?.storageClassName, "m");
  });

  void it("leaves a claim that names a class, or asks for none with an empty class, as it is", () => {
    const classes = [sc("local-path", "true")];
    assert.equal(admitClaim(classes, claim({ storageClassName: "fast" })).spec?.storageClassName, "fast");
    assert.equal(admitClaim(classes, claim({ storageClassName: "" })).spec?.storageClassName, "");
    const annotated = admitClaim(classes, claim({}, { "volume.beta.kubernetes.io/storage-class": "" }));
    assert.equal(annotated.spec?.storageClassName, undefined);
  });

  void it("does nothing without a default class, on updates, on subresources and to other resources", () => {
    assert.deepEqual(admitClaim([], claim()).spec, {});
    const classes = [sc("local-path", "true")];
    assert.equal(admitClaim(classes, claim(), "UPDATE").spec?.storageClassName, undefined);
    assert.equal(admitClaim(classes, claim(), "CREATE", "status").spec?.storageClassName, undefined);
    const pv = { metadata: { name: "v" }, spec: {} };
    void defaultStorageClassAdmission(() => classes as unknown as KubeObject[]).admit!(attrs("persistentvolumes", pv));
    assert.deepEqual(pv.spec, {});
  });

  void it("makes a spec for a claim sent without one", () => {
    const c = { metadata: { name: "c" } } as PersistentVolumeClaim;
    assert.equal(admitClaim([sc("local-path", "true")], c).spec?.storageClassName, "local-path");
  });
});

void describe("StorageObjectInUseProtection admission", () => {
  const plugin = storageObjectInUseProtection();
  const admit = (plural: string, obj: { metadata?: { finalizers?: string[] } }, operation: AdmissionOperation = "CREATE", subresource = ""): string[] | undefined => {
    void plugin.admit!(attrs(plural, obj, operation, subresource));
    return obj.metadata?.finalizers;
  };

  void it("adds the protection finalizer to claims and volumes on create, once", () => {
    assert.deepEqual(admit("persistentvolumeclaims", { metadata: {} }), ["kubernetes.io/pvc-protection"]);
    assert.deepEqual(admit("persistentvolumes", {}), ["kubernetes.io/pv-protection"]);
    assert.deepEqual(admit("persistentvolumeclaims", { metadata: { finalizers: ["example.com/keep"] } }), ["example.com/keep", "kubernetes.io/pvc-protection"]);
    assert.deepEqual(admit("persistentvolumes", { metadata: { finalizers: ["kubernetes.io/pv-protection"] } }), ["kubernetes.io/pv-protection"]);
  });

  void it("leaves updates, subresources and other resources alone", () => {
    assert.equal(admit("persistentvolumeclaims", { metadata: {} }, "UPDATE"), undefined);
    assert.equal(admit("persistentvolumes", { metadata: {} }, "CREATE", "status"), undefined);
    assert.equal(admit("configmaps", { metadata: {} }), undefined);
  });
});

void describe("storage admission through the API server, as kubectl sees it", () => {
  let srv: TestApiServer;
  before(async () => {
    srv = await startTestApiServer();
  });
  after(async () => {
    await srv?.stop();
  });

  const pvcYaml = (name: string, extra = ""): string => `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ${name}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
${extra}`;

  void it("creates a claim with the default class and the protection finalizer; dry runs show them and store nothing", async () => {
    const k = srv.kubectl;
    await kubectlOk(k, ["create", "-f", "-"], pvcYaml("before-default"));
    let got = JSON.parse(await kubectlOk(k, ["get", "pvc", "before-default", "-o", "json"])) as PersistentVolumeClaim;
    assert.equal(got.spec?.storageClassName, undefined);
    assert.deepEqual(got.metadata?.finalizers, ["kubernetes.io/pvc-protection"]);

    await kubectlOk(
      k,
      ["create", "-f", "-"],
      `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: k8ts.io/local-path
volumeBindingMode: WaitForFirstConsumer
`,
    );
    // Lists come from the watch cache, which admission reads too.
    await until("class in the cache", async () => ((await kubectlOk(k, ["get", "storageclass", "-o", "name"])).includes("local-path") ? true : undefined), 10_000, 50);

    const dry = JSON.parse(await kubectlOk(k, ["create", "--dry-run=server", "-o", "json", "-f", "-"], pvcYaml("dry"))) as PersistentVolumeClaim;
    assert.equal(dry.spec?.storageClassName, "local-path");
    assert.deepEqual(dry.metadata?.finalizers, ["kubernetes.io/pvc-protection"]);
    const missing = await k(["get", "pvc", "dry"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /NotFound|not found/);

    await kubectlOk(k, ["create", "-f", "-"], pvcYaml("data"));
    const yaml = await kubectlOk(k, ["get", "pvc", "data", "-o", "yaml"]);
    assert.match(yaml, /storageClassName: local-path/);
    assert.match(yaml, /finalizers:\n {2}- kubernetes.io\/pvc-protection/);

    await kubectlOk(k, ["create", "-f", "-"], pvcYaml("none", "  storageClassName: \"\"\n"));
    got = JSON.parse(await kubectlOk(k, ["get", "pvc", "none", "-o", "json"])) as PersistentVolumeClaim;
    assert.equal(got.spec?.storageClassName, "");

    // Server-side apply creates through the same admission.
    await kubectlOk(k, ["apply", "--server-side", "-f", "-"], pvcYaml("applied"));
    got = JSON.parse(await kubectlOk(k, ["get", "pvc", "applied", "-o", "json"])) as PersistentVolumeClaim;
    assert.equal(got.spec?.storageClassName, "local-path");
    assert.deepEqual(got.metadata?.finalizers, ["kubernetes.io/pvc-protection"]);
    // Applying the same manifest again leaves what admission set alone.
    await kubectlOk(k, ["apply", "--server-side", "-f", "-"], pvcYaml("applied"));
    await kubectlOk(k, ["apply", "-f", "-"], pvcYaml("data"));
    await kubectlOk(k, ["apply", "-f", "-"], pvcYaml("data"));

    const table = await kubectlOk(k, ["get", "pvc", "data"]);
    assert.match(table.split("\n")[0] ?? "", /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$/);
    assert.match(table.split("\n")[1] ?? "", /^data\s+Pending\s+local-path\s+<unset>\s+\S+$/);
  });

  void it("creates a volume with the pv-protection finalizer", async () => {
    await kubectlOk(
      srv.kubectl,
      ["create", "-f", "-"],
      `apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv1
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/pv1}
`,
    );
    const pv = JSON.parse(await kubectlOk(srv.kubectl, ["get", "pv", "pv1", "-o", "json"])) as { metadata: { finalizers?: string[] } };
    assert.deepEqual(pv.metadata.finalizers, ["kubernetes.io/pv-protection"]);
    const table = await kubectlOk(srv.kubectl, ["get", "pv"]);
    assert.match(table.split("\n")[0] ?? "", /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE$/);
  });
});

void describe("--disable-admission-plugins", () => {
  void it("knows every built-in plugin by name, the storage ones included", async () => {
    const { compileApiServerOptions } = await import("../server.js");
    const base = { dataDir: "/nonexistent", resources: [], log: (await import("../../util/log.js")).createLogger("silent") };
    const names = ["NamespaceLifecycle", "ServiceAccount", "LimitRanger", "DefaultTolerationSeconds", "DefaultStorageClass", "StorageObjectInUseProtection", "RuntimeClass", "ResourceQuota"];
    assert.deepEqual(compileApiServerOptions({ ...base, disableAdmissionPlugins: names }).disableAdmissionPlugins, names);
    assert.throws(() => compileApiServerOptions({ ...base, disableAdmissionPlugins: ["DefaultStorageclass"] }), /unknown plugin "DefaultStorageclass"/);
  });
});
