import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ClusterRole, PolicyRule } from "kubernetes-types/rbac/v1.js";
import { aggregatedRules, ruleListsEqual, rulesEqual } from "./aggregate.js";

function role(name: string, labels: Record<string, string>, rules?: PolicyRule[]): ClusterRole {
  return { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name, labels }, ...(rules ? { rules } : {}) };
}

const pods: PolicyRule = { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] };
const deploys: PolicyRule = { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] };
const healthz: PolicyRule = { nonResourceURLs: ["/healthz"], verbs: ["get"] };

void describe("rulesEqual", () => {
  void it("treats a missing list as an empty one, as Go's semantic equality does with nil", () => {
    assert.ok(rulesEqual({ verbs: ["get"], nonResourceURLs: ["/x"] }, { verbs: ["get"], nonResourceURLs: ["/x"], apiGroups: [], resources: [], resourceNames: [] }));
    assert.ok(!rulesEqual({ verbs: ["get", "list"] }, { verbs: ["list", "get"] }), "order within a list matters");
    assert.ok(!rulesEqual(pods, { ...pods, resourceNames: ["p"] }));
    assert.ok(ruleListsEqual([], undefined));
    assert.ok(!ruleListsEqual([pods], [pods, pods]));
  });
});

void describe("aggregatedRules", () => {
  const agg = { clusterRoleSelectors: [{ matchLabels: { "example.com/aggregate-to-x": "true" } }] };

  void it("takes the matched roles' rules in name order, each distinct rule once, skipping unlabelled roles", () => {
    const all = [
      role("b", { "example.com/aggregate-to-x": "true" }, [deploys, pods]),
      role("a", { "example.com/aggregate-to-x": "true" }, [pods]),
      role("c", { "example.com/aggregate-to-x": "false" }, [healthz]),
      role("d", { "example.com/aggregate-to-x": "true" }),
    ];
    assert.deepEqual(aggregatedRules(agg, "x", all), [pods, deploys]);
  });

  void it("goes selector by selector, never takes its own rules, and gathers nothing as []", () => {
    const two = { clusterRoleSelectors: [{ matchLabels: { sel: "2" } }, { matchExpressions: [{ key: "sel", operator: "In", values: ["1", "2"] }] }] };
    const all = [role("a", { sel: "1" }, [pods]), role("z", { sel: "2" }, [deploys]), role("self", { sel: "1" }, [healthz])];
    assert.deepEqual(aggregatedRules(two, "self", all), [deploys, pods]);
    assert.deepEqual(aggregatedRules(agg, "x", all), []);
  });

  void it("an empty selector selects every other role, as upstream's LabelSelectorAsSelector", () => {
    const all = [role("a", {}, [pods]), role("x", {}, [healthz])];
    assert.deepEqual(aggregatedRules({ clusterRoleSelectors: [{}] }, "x", all), [pods]);
  });

  void it("copies the rules (a later change to the result leaves the sources alone) and throws on a bad operator", () => {
    const source = role("a", { "example.com/aggregate-to-x": "true" }, [structuredClone(pods)]);
    const out = aggregatedRules(agg, "x", [source]);
    out[0]!.verbs.push("delete");
    assert.deepEqual(source.rules, [pods]);
    assert.throws(() => aggregatedRules({ clusterRoleSelectors: [{ matchExpressions: [{ key: "k", operator: "Foo" }] }] }, "x", [source]), /"Foo" is not a valid label selector operator/);
  });
});
