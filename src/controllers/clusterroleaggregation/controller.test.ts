import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ClusterRole, PolicyRule } from "kubernetes-types/rbac/v1.js";
import type { KubeObject } from "../../client/objects.js";
import type { PatchOptions, PatchType, ResourceApi } from "../api.js";
import { FakeApi, apiError, conflictError, notFoundError } from "../testing/index.js";
import { seedLister } from "../testing/listers.js";
import { createLogger } from "../../util/log.js";
import { ClusterRoleAggregationController, FIELD_MANAGER } from "./controller.js";

const log = createLogger("silent");
const GROUP = "rbac.authorization.k8s.io";
const LABEL = "example.com/aggregate-to-x";

const pods: PolicyRule = { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] };
const deploys: PolicyRule = { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] };

function source(name: string, rules: PolicyRule[]): ClusterRole {
  return { apiVersion: `${GROUP}/v1`, kind: "ClusterRole", metadata: { name, labels: { [LABEL]: "true" }, resourceVersion: "5" }, rules };
}

function aggregate(name: string, rules?: PolicyRule[], selects = LABEL): ClusterRole {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: "ClusterRole",
    metadata: { name, resourceVersion: "7" },
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [selects]: "true" } }] },
    ...(rules ? { rules } : {}),
  };
}

/** The fake does not do server-side apply (it answers 415): this one records apply calls and their options, and succeeds. */
class ApplyingApi extends FakeApi {
  readonly applied: { readonly name: string; readonly body: unknown; readonly opts: PatchOptions | undefined }[] = [];

  override resource<T extends KubeObject = KubeObject>(group: string, version: string, plural: string, opts?: { readonly namespaced?: boolean; readonly kind?: string }): ResourceApi<T> {
    const inner = super.resource<T>(group, version, plural, opts);
    const applied = this.applied;
    return Object.assign(Object.create(inner) as ResourceApi<T>, {
      patch(name: string, type: PatchType, body: unknown, o?: PatchOptions): Promise<T> {
        if (type !== "apply") return inner.patch(name, type, body, o);
        applied.push({ name, body, opts: o });
        return Promise.resolve(body as T);
      },
    });
  }
}

function controller(api: FakeApi, roles: ClusterRole[]): ClusterRoleAggregationController {
  api.seed(GROUP, "clusterroles", ...structuredClone(roles));
  return new ClusterRoleAggregationController({ api, clusterRoles: seedLister(roles), log });
}

void describe("ClusterRoleAggregationController.sync", () => {
  void it("applies the gathered rules with force under its field manager", async () => {
    const api = new ApplyingApi();
    await controller(api, [aggregate("x"), source("b", [deploys]), source("a", [pods, deploys])]).sync("x");
    assert.deepEqual(api.applied, [
      { name: "x", body: { apiVersion: `${GROUP}/v1`, kind: "ClusterRole", metadata: { name: "x" }, rules: [pods, deploys] }, opts: { fieldManager: FIELD_MANAGER, force: true } },
    ]);
    assert.deepEqual(api.verbs(), [], "no fallback update");
  });

  void it("falls back to an update conditional on the cached resourceVersion where apply is unsupported (415)", async () => {
    const api = new FakeApi();
    await controller(api, [aggregate("x", [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }]), source("a", [pods])]).sync("x");
    assert.deepEqual(api.verbs(), ["patch clusterroles x", "update clusterroles x"]);
    const updated = api.writes({ verb: "update" })[0]!.object as ClusterRole;
    assert.deepEqual(updated.rules, [pods]);
    assert.equal(updated.metadata?.resourceVersion, "7");
    assert.deepEqual(updated.aggregationRule, aggregate("x").aggregationRule);
  });

  void it("leaves out rules when nothing is gathered, as upstream's apply configuration", async () => {
    const api = new FakeApi();
    await controller(api, [aggregate("x", [pods])]).sync("x");
    assert.deepEqual(api.writes({ verb: "patch" })[0]!.patch, { apiVersion: `${GROUP}/v1`, kind: "ClusterRole", metadata: { name: "x" } });
    assert.equal((api.writes({ verb: "update" })[0]!.object as ClusterRole).rules, undefined);
  });

  void it("writes nothing when the rules already match, for roles without aggregationRule, or gone ones", async () => {
    const api = new FakeApi();
    const c = controller(api, [aggregate("x", [pods, deploys]), aggregate("empty", undefined, "example.com/nothing"), aggregate("emptied", [], "example.com/nothing"), source("a", [pods]), source("b", [deploys])]);
    await c.sync("x");
    await c.sync("empty");
    await c.sync("emptied");
    await c.sync("a");
    await c.sync("gone");
    assert.deepEqual(api.verbs(), []);
  });

  void it("retries a Conflict and other failures, and treats NotFound as done", async () => {
    const api = new FakeApi();
    api.failOn({ verb: "update", name: "x" }, conflictError("clusterroles.rbac.authorization.k8s.io", "x"));
    api.failOn({ verb: "patch", name: "y" }, apiError(500, "InternalError", "boom"));
    api.failOn({ verb: "patch", name: "z" }, notFoundError("clusterroles.rbac.authorization.k8s.io", "z"));
    const c = controller(api, [aggregate("x"), aggregate("y"), aggregate("z"), source("a", [pods])]);
    await assert.rejects(c.sync("x"), /the object has been modified/);
    await assert.rejects(c.sync("y"), /boom/);
    await c.sync("z");
  });
});

void describe("ClusterRoleAggregationController handlers", () => {
  void it("queue every aggregating ClusterRole on any change", async () => {
    const c = controller(new FakeApi(), [aggregate("x"), aggregate("y"), source("a", [pods])]);
    c.clusterRoleChanged();
    c.clusterRoleChanged();
    assert.equal(c.queue.len(), 2);
    assert.deepEqual([await c.queue.get(), await c.queue.get()].sort(), ["x", "y"]);
    c.queue.shutDown();
  });
});
