// ClusterRole aggregation against a real API server: rules gathered in name order, kept in
// step as the sources change or go, and put back after a hand edit.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import type { ClusterRole, PolicyRule } from "kubernetes-types/rbac/v1.js";
import { newControllerMetrics } from "../../client/controller.js";
import { SharedInformerFactory } from "../../client/informer.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { until } from "../../testing/wait.js";
import { createLogger } from "../../util/log.js";
import type { ControllerContext } from "../context.js";
import { RecordingEventSink } from "../testing/index.js";
import { aggregatedRules, ruleListsEqual } from "./aggregate.js";
import { FIELD_MANAGER } from "./controller.js";
import { clusterRoleAggregationController } from "./index.js";

const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");
const LABEL = "example.com/aggregate-to-x";

const pods: PolicyRule = { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] };
const deploys: PolicyRule = { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] };
const secrets: PolicyRule = { apiGroups: [""], resources: ["secrets"], verbs: ["get"] };
const healthz: PolicyRule = { nonResourceURLs: ["/healthz"], verbs: ["get"] };

void describe("clusterrole aggregation against an API server", () => {
  let srv: TestApiServer;
  let client: RestClient;
  let informers: SharedInformerFactory;
  const ac = new AbortController();
  const runs: Promise<void>[] = [];

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    informers = new SharedInformerFactory({ client, log });
    const registry = new Registry();
    const ctx: ControllerContext = { client, informers, events: new RecordingEventSink(), log, metrics: newControllerMetrics(registry), registry };
    const c = clusterRoleAggregationController(ctx);
    informers.start(ac.signal);
    runs.push(c.run(ac.signal, 5));
  });

  after(async () => {
    ac.abort();
    await Promise.all(runs);
    await informers?.shutdown();
    client?.close();
    await srv?.stop();
  });

  const roles = () => client.forKind("rbac.authorization.k8s.io/v1", "ClusterRole");
  const source = (name: string, rules: PolicyRule[]): Promise<ClusterRole> =>
    roles().create({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name, labels: { [LABEL]: "true" } }, rules });
  /** Waits until the aggregate's rules are `want` (a missing list counting as empty). */
  const rulesOf = (name: string, want: PolicyRule[]) =>
    until(`${name} has ${JSON.stringify(want)}`, async () => {
      const r = await roles().get(name);
      return ruleListsEqual(r.rules, want) ? r : undefined;
    });

  void it("gathers the selected roles' rules in name order and follows their changes and deletion", async () => {
    await roles().create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "x-aggregate" },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [LABEL]: "true" } }] },
    });
    await source("x-part-b", [deploys, pods]);
    await source("x-part-a", [pods]);
    const got = await rulesOf("x-aggregate", [pods, deploys]);
    assert.ok(
      (got.metadata?.managedFields ?? []).some((m) => m.manager === FIELD_MANAGER && m.operation === "Apply"),
      "the rules are applied under the controller's field manager",
    );

    await roles().patch("x-part-a", "merge", { rules: [secrets] });
    await rulesOf("x-aggregate", [secrets, deploys, pods]);

    await roles().delete("x-part-b");
    await rulesOf("x-aggregate", [secrets]);

    await roles().delete("x-part-a");
    await rulesOf("x-aggregate", []);
  });

  void it("puts back rules a user edited by hand", async () => {
    await roles().create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "y-aggregate" },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "example.com/aggregate-to-y": "true" } }] },
    });
    await roles().create({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "y-part", labels: { "example.com/aggregate-to-y": "true" } }, rules: [healthz] });
    const before = await rulesOf("y-aggregate", [healthz]);
    const edited = await roles().update({ ...before, rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }] });
    assert.notEqual(edited.metadata?.resourceVersion, before.metadata?.resourceVersion);
    const restored = await rulesOf("y-aggregate", [healthz]);
    assert.notEqual(restored.metadata?.resourceVersion, edited.metadata?.resourceVersion, "written again after the edit");
  });

  void it("leaves every aggregating role of the server with the rules its selectors gather (the bootstrap admin/edit/view included)", async () => {
    const all = await until("every aggregate settled", async () => {
      const items = (await roles().list()).items;
      const unsettled = items.filter((r) => r.aggregationRule && !ruleListsEqual(r.rules, aggregatedRules(r.aggregationRule, r.metadata?.name ?? "", items)));
      return unsettled.length === 0 ? items : undefined;
    });
    // `kubectl get clusterrole view -o yaml` shows rules once the bootstrap policy has the
    // system:aggregate-to-view role to gather them from.
    const view = all.find((r) => r.metadata?.name === "view");
    if (view?.aggregationRule && all.some((r) => r.metadata?.name === "system:aggregate-to-view")) assert.ok((view.rules ?? []).length > 0, "view has rules");
  });
});
