import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Namespace, ServiceAccount } from "kubernetes-types/core/v1.js";
import { FakeApi, alreadyExistsError, apiError } from "../testing/index.js";
import { seedLister } from "../testing/listers.js";
import { createLogger } from "../../util/log.js";
import { ServiceAccountsController } from "./controller.js";
import { DeletedFinalStateUnknown } from "../../client/objects.js";

const log = createLogger("silent");

function ns(name: string, phase: "Active" | "Terminating" = "Active"): Namespace {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, uid: `ns-${name}` }, status: { phase } };
}

function sa(namespace: string, name: string): ServiceAccount {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, uid: `sa-${namespace}-${name}` } };
}

function controller(api: FakeApi, namespaces: Namespace[], accounts: ServiceAccount[]): ServiceAccountsController {
  return new ServiceAccountsController({ api, namespaces: seedLister(namespaces), serviceAccounts: seedLister(accounts), log });
}

void describe("ServiceAccountsController.sync", () => {
  void it("creates default in an active namespace that lacks it", async () => {
    const api = new FakeApi();
    await controller(api, [ns("team")], []).sync("team");
    assert.deepEqual(api.verbs(), ["create serviceaccounts team/default"]);
    assert.deepEqual(api.writes()[0]!.object, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "team" } });
  });

  void it("does nothing when default exists, the namespace is terminating, or gone", async () => {
    const api = new FakeApi();
    await controller(api, [ns("team")], [sa("team", "default")]).sync("team");
    await controller(api, [ns("old", "Terminating")], []).sync("old");
    await controller(api, [], []).sync("gone");
    assert.deepEqual(api.verbs(), []);
  });

  void it("treats AlreadyExists (a lagging cache) and a terminating namespace's refusal as done", async () => {
    const api = new FakeApi();
    api.failOn({ verb: "create", namespace: "a" }, alreadyExistsError("serviceaccounts", "default"));
    api.failOn(
      { verb: "create", namespace: "b" },
      apiError(403, "Forbidden", `serviceaccounts "default" is forbidden: unable to create new content in namespace b because it is being terminated`, {
        causes: [{ reason: "NamespaceTerminating", message: "namespace b is being terminated", field: "metadata.namespace" }],
      }),
    );
    await controller(api, [ns("a"), ns("b")], []).sync("a");
    await controller(api, [ns("a"), ns("b")], []).sync("b");
    assert.deepEqual(api.verbs(), ["create serviceaccounts a/default", "create serviceaccounts b/default"]);
  });

  void it("rethrows other failures so the key is retried", async () => {
    const api = new FakeApi();
    api.failOn({ verb: "create" }, apiError(500, "InternalError", "boom"));
    await assert.rejects(controller(api, [ns("team")], []).sync("team"), /boom/);
  });
});

void describe("ServiceAccountsController handlers", () => {
  void it("enqueue the namespace of a deleted managed ServiceAccount only", async () => {
    const c = controller(new FakeApi(), [], []);
    c.serviceAccountDeleted(sa("x", "builder"));
    assert.equal(c.queue.len(), 0);
    c.serviceAccountDeleted(new DeletedFinalStateUnknown("x/default", sa("x", "default")));
    c.namespaceChanged(ns("y"));
    assert.equal(c.queue.len(), 2);
    assert.equal(await c.queue.get(), "x");
    assert.equal(await c.queue.get(), "y");
    c.queue.shutDown();
  });
});
