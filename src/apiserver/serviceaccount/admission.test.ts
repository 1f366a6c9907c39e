import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { AdmissionAttributes, AdmissionOperation } from "../admission/types.js";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { StatusError } from "../status.js";
import { serviceAccountAdmission, TOKEN_MOUNT_PATH, tokenVolumeSource, type ServiceAccountAdmissionOptions } from "./admission.js";
import { MapLookup } from "./testing.js";

const podsDef = { group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true } as unknown as ResourceDefinition;
const user = { username: "admin", groups: ["system:masters"] };

function attrs(pod: Pod, operation: AdmissionOperation = "CREATE", subresource = "", resource: ResourceDefinition = podsDef): AdmissionAttributes {
  return { operation, resource, subresource, namespace: "ns", name: pod.metadata?.name ?? "p", object: pod as KubeObject, oldObject: undefined, user, dryRun: false };
}

const sa = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { namespace: "ns", name, uid: `uid-${name}` }, ...extra });

function plugin(accounts: KubeObject[] = [sa("default")], o: Partial<ServiceAccountAdmissionOptions> = {}) {
  const lookup = new MapLookup(accounts);
  return { lookup, plugin: serviceAccountAdmission({ serviceAccounts: lookup, suffix: () => "abcde", ...o }) };
}

function pod(spec: Partial<Pod["spec"]> = {}, annotations?: Record<string, string>): Pod {
  return { metadata: { name: "p", ...(annotations ? { annotations } : {}) }, spec: { containers: [{ name: "c", image: "busybox" }], ...spec } };
}

const mount = { name: "kube-api-access-abcde", readOnly: true, mountPath: TOKEN_MOUNT_PATH };

async function admitted(p: Pod, accounts?: KubeObject[]): Promise<Pod> {
  await plugin(accounts).plugin.admit!(attrs(p));
  return p;
}

void describe("ServiceAccount admission", () => {
  void it("defaults the service account and mounts the kube-api-access volume in every (init) container", async () => {
    const p = await admitted(pod({ initContainers: [{ name: "init", image: "busybox" }], containers: [{ name: "a", image: "busybox", volumeMounts: [{ name: "data", mountPath: "/data" }] }, { name: "b", image: "busybox" }], volumes: [{ name: "data", emptyDir: {} }] }));
    assert.equal(p.spec?.serviceAccountName, "default");
    assert.equal(p.spec?.serviceAccount, "default");
    assert.deepEqual(p.spec?.initContainers?.[0]?.volumeMounts, [mount]);
    assert.deepEqual(p.spec?.containers[0]?.volumeMounts, [{ name: "data", mountPath: "/data" }, mount]);
    assert.deepEqual(p.spec?.containers[1]?.volumeMounts, [mount]);
    assert.deepEqual(p.spec?.volumes, [{ name: "data", emptyDir: {} }, { name: "kube-api-access-abcde", projected: tokenVolumeSource() }]);
  });

  void it("builds upstream's projected source: token (3607 s), kube-root-ca.crt's ca.crt, the namespace", () => {
    assert.deepEqual(tokenVolumeSource(), {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ],
    });
  });

  void it("leaves out the token when the pod or its service account opts out; the pod's choice wins", async () => {
    const optOutSA = [sa("default", { automountServiceAccountToken: false }), sa("robot")];
    const a = await admitted(pod({ automountServiceAccountToken: false }), optOutSA);
    const b = await admitted(pod(), optOutSA);
    const c = await admitted(pod({ automountServiceAccountToken: true }), optOutSA);
    const d = await admitted(pod({ serviceAccountName: "robot", automountServiceAccountToken: false }), optOutSA);
    for (const p of [a, b, d]) {
      assert.equal(p.spec?.volumes, undefined);
      assert.equal(p.spec?.containers[0]?.volumeMounts, undefined);
    }
    assert.deepEqual(c.spec?.containers[0]?.volumeMounts, [mount]);
    assert.equal(d.spec?.serviceAccountName, "robot");
  });

  void it("keeps a container's own mount at the token path and reuses an existing kube-api-access volume", async () => {
    const own = { name: "mine", mountPath: TOKEN_MOUNT_PATH };
    const p = await admitted(pod({ containers: [{ name: "a", image: "x", volumeMounts: [own] }], volumes: [{ name: "mine", emptyDir: {} }] }));
    assert.deepEqual(p.spec?.containers[0]?.volumeMounts, [own]);
    assert.deepEqual(p.spec?.volumes, [{ name: "mine", emptyDir: {} }], "no container needed the volume");
    const existing = { name: "kube-api-access-zzzzz", projected: tokenVolumeSource() };
    const q = await admitted(pod({ containers: [{ name: "a", image: "x" }], volumes: [existing] }));
    assert.deepEqual(q.spec?.volumes, [existing]);
    assert.deepEqual(q.spec?.containers[0]?.volumeMounts, [{ ...mount, name: "kube-api-access-zzzzz" }]);
  });

  void it("copies the service account's imagePullSecrets into a pod that has none", async () => {
    const accounts = [sa("default", { imagePullSecrets: [{ name: "regcred" }] })];
    assert.deepEqual((await admitted(pod(), accounts)).spec?.imagePullSecrets, [{ name: "regcred" }]);
    assert.deepEqual((await admitted(pod({ imagePullSecrets: [{ name: "own" }] }), accounts)).spec?.imagePullSecrets, [{ name: "own" }]);
  });

  void it("refuses a pod whose service account does not exist, with upstream's message", async () => {
    const { plugin: pl } = plugin([], { defaultWaitMs: 0 });
    for (const name of ["robot", "default"]) {
      await assert.rejects(async () => pl.admit!(attrs(pod({ serviceAccountName: name }))), (err: unknown) => {
        assert.ok(err instanceof StatusError);
        assert.equal(err.code, 403);
        assert.equal(err.status.reason, "Forbidden");
        assert.equal(err.status.message, `pods "p" is forbidden: error looking up service account ns/${name}: serviceaccount "${name}" not found`);
        return true;
      });
    }
  });

  void it("waits for the default service account the controller is about to create", async () => {
    const { plugin: pl, lookup } = plugin([], { defaultWaitMs: 10_000 });
    const p = pod();
    const admitting = pl.admit!(attrs(p));
    lookup.put(sa("default"));
    await admitting;
    assert.deepEqual(p.spec?.containers[0]?.volumeMounts, [mount]);
  });

  void it("leaves mirror pods, updates, subresources, other resources and foreign namespaces alone", async () => {
    const { plugin: pl, lookup } = plugin([], { namespacePhase: (ns) => Promise.resolve(ns === "gone" ? undefined : "Active"), defaultWaitMs: 0 });
    const mirror = pod({}, { "kubernetes.io/config.mirror": "hash" });
    await pl.admit!(attrs(mirror));
    assert.deepEqual(mirror, pod({}, { "kubernetes.io/config.mirror": "hash" }));
    for (const [op, sub, res] of [["UPDATE", "", podsDef], ["CREATE", "binding", podsDef], ["CREATE", "", { ...podsDef, plural: "podtemplates" }]] as const) {
      const p = pod();
      await pl.admit!(attrs(p, op, sub, res as ResourceDefinition));
      assert.deepEqual(p, pod());
    }
    // A missing namespace is NamespaceLifecycle's to refuse (404), not a missing service account.
    await pl.admit!({ ...attrs(pod()), namespace: "gone" });
    assert.deepEqual(lookup.reads, []);
  });
});
