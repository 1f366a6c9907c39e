import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ConfigMap, Namespace } from "kubernetes-types/core/v1.js";
import { FakeApi, alreadyExistsError, apiError, notFoundError } from "../testing/index.js";
import { seedLister } from "../testing/listers.js";
import { createLogger } from "../../util/log.js";
import { DeletedFinalStateUnknown } from "../../client/objects.js";
import { DESCRIPTION, DESCRIPTION_ANNOTATION, ROOT_CA_CONFIGMAP, RootCACertPublisher } from "./controller.js";

const log = createLogger("silent");
const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

function ns(name: string, phase: "Active" | "Terminating" = "Active"): Namespace {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, uid: `ns-${name}` }, status: { phase } };
}

function cm(namespace: string, data: Record<string, string>, annotations: Record<string, string> | null = { [DESCRIPTION_ANNOTATION]: DESCRIPTION }, name = ROOT_CA_CONFIGMAP): ConfigMap {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, uid: `cm-${namespace}`, resourceVersion: "7", ...(annotations ? { annotations } : {}) }, data };
}

function publisher(api: FakeApi, namespaces: Namespace[], configMaps: ConfigMap[]): RootCACertPublisher {
  return new RootCACertPublisher({ api, namespaces: seedLister(namespaces), configMaps: seedLister(configMaps), rootCA: CA, log });
}

void describe("RootCACertPublisher.sync", () => {
  void it("creates kube-root-ca.crt with the CA and upstream's description in an active namespace", async () => {
    const api = new FakeApi();
    await publisher(api, [ns("team")], []).sync("team");
    assert.deepEqual(api.verbs(), ["create configmaps team/kube-root-ca.crt"]);
    assert.deepEqual(api.writes()[0]!.object, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: ROOT_CA_CONFIGMAP, namespace: "team", annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
      data: { "ca.crt": CA },
    });
  });

  void it("does nothing when the ConfigMap is right, the namespace is terminating, or gone", async () => {
    const api = new FakeApi();
    await publisher(api, [ns("team")], [cm("team", { "ca.crt": CA })]).sync("team");
    await publisher(api, [ns("old", "Terminating")], []).sync("old");
    await publisher(api, [], []).sync("gone");
    assert.deepEqual(api.verbs(), []);
  });

  void it("restores edited data and a removed description, keeping other metadata", async () => {
    const api = new FakeApi();
    const existing = [cm("a", { "ca.crt": "tampered", extra: "x" }, { owner: "me" }), cm("b", { "ca.crt": CA }, null)];
    api.seed("", "configmaps", ...structuredClone(existing));
    const p = publisher(api, [ns("a"), ns("b")], existing);
    await p.sync("a");
    await p.sync("b");
    assert.deepEqual(api.verbs(), ["update configmaps a/kube-root-ca.crt", "update configmaps b/kube-root-ca.crt"]);
    const a = api.writes()[0]!.object as ConfigMap;
    assert.deepEqual(a.data, { "ca.crt": CA });
    assert.deepEqual(a.metadata?.annotations, { owner: "me", [DESCRIPTION_ANNOTATION]: DESCRIPTION });
    assert.equal(a.metadata?.resourceVersion, "7", "the update is conditional on what the cache saw");
    assert.deepEqual((api.writes()[1]!.object as ConfigMap).metadata?.annotations, { [DESCRIPTION_ANNOTATION]: DESCRIPTION });
  });

  void it("treats a vanished or terminating namespace as done, retries AlreadyExists and other failures", async () => {
    const api = new FakeApi();
    api.failOn({ verb: "create", namespace: "a" }, notFoundError("namespaces", "a"));
    api.failOn(
      { verb: "create", namespace: "b" },
      apiError(403, "Forbidden", `configmaps "kube-root-ca.crt" is forbidden: unable to create new content in namespace b because it is being terminated`, {
        causes: [{ reason: "NamespaceTerminating", message: "namespace b is being terminated", field: "metadata.namespace" }],
      }),
    );
    api.failOn({ verb: "create", namespace: "c" }, alreadyExistsError("configmaps", ROOT_CA_CONFIGMAP));
    api.failOn({ verb: "create", namespace: "d" }, apiError(500, "InternalError", "boom"));
    const p = publisher(api, [ns("a"), ns("b"), ns("c"), ns("d")], []);
    await p.sync("a");
    await p.sync("b");
    await assert.rejects(p.sync("c"), (err: unknown) => err instanceof Error && /already exists/.test(err.message));
    await assert.rejects(p.sync("d"), /boom/);
  });
});

void describe("RootCACertPublisher handlers", () => {
  void it("enqueue added namespaces, active updated ones, and changes to kube-root-ca.crt only", async () => {
    const p = publisher(new FakeApi(), [], []);
    p.namespaceAdded(ns("new"));
    p.namespaceUpdated(ns("leaving", "Terminating"));
    p.namespaceUpdated(ns("upd"));
    p.configMapChanged(cm("x", {}, null, "other"));
    p.configMapChanged(new DeletedFinalStateUnknown(`y/${ROOT_CA_CONFIGMAP}`, cm("y", {})));
    assert.equal(p.queue.len(), 3);
    assert.deepEqual([await p.queue.get(), await p.queue.get(), await p.queue.get()], ["new", "upd", "y"]);
    p.queue.shutDown();
  });
});
