import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { AdmissionAttributes } from "../types.js";
import type { ResourceDefinition } from "../../registry/types.js";
import { StatusError } from "../../status.js";
import { exempt, orderedWebhooks, ruleMatches, shouldCall, type Rule } from "./match.js";

const def = (group: string, plural: string, namespaced = true): ResourceDefinition => ({ group, version: "v1", plural, kind: plural, namespaced }) as unknown as ResourceDefinition;
const user = { username: "u", groups: [] };

function attrs(o: Partial<AdmissionAttributes> = {}): AdmissionAttributes {
  return { operation: "CREATE", resource: def("apps", "deployments"), subresource: "", namespace: "ns", name: "d", object: { metadata: { name: "d" } }, oldObject: undefined, user, ...o, dryRun: false };
}

const rule = (resources: string[], extra: Partial<Rule> = {}): Rule => ({ operations: ["*"], apiGroups: ["*"], apiVersions: ["*"], resources, ...extra });

void describe("webhook rules", () => {
  void it("resources, subresources and wildcards as upstream's rule matcher", () => {
    const cases: [string[], string, boolean][] = [
      [["deployments"], "", true],
      [["deployments"], "scale", false],
      [["deployments/scale"], "scale", true],
      [["deployments/scale"], "", false],
      [["*"], "", true],
      [["*"], "status", false],
      [["*/scale"], "scale", true],
      [["*/scale"], "status", false],
      [["deployments/*"], "", true],
      [["deployments/*"], "status", true],
      [["*/*"], "status", true],
      [["pods"], "", false],
    ];
    for (const [resources, sub, want] of cases) assert.equal(ruleMatches(rule(resources), attrs({ subresource: sub })), want, `${resources.join(",")} vs deployments/${sub}`);
  });

  void it("operations, groups and versions", () => {
    assert.equal(ruleMatches(rule(["*"], { operations: ["UPDATE"] }), attrs()), false);
    assert.equal(ruleMatches(rule(["*"], { operations: ["CREATE", "UPDATE"] }), attrs()), true);
    assert.equal(ruleMatches(rule(["*"], { apiGroups: [""] }), attrs()), false);
    assert.equal(ruleMatches(rule(["*"], { apiGroups: ["apps"], apiVersions: ["v1beta1"] }), attrs()), false);
    assert.equal(ruleMatches(rule(["*"], { apiGroups: ["apps"], apiVersions: ["v1"] }), attrs()), true);
  });

  void it("scope: namespaces are cluster-scoped", () => {
    const ns = attrs({ resource: def("", "namespaces", false), namespace: "", name: "x" });
    const node = attrs({ resource: def("", "nodes", false), namespace: "", name: "n" });
    assert.equal(ruleMatches(rule(["*"], { scope: "Namespaced" }), attrs()), true);
    assert.equal(ruleMatches(rule(["*"], { scope: "Namespaced" }), node), false);
    assert.equal(ruleMatches(rule(["*"], { scope: "Namespaced" }), ns), false);
    assert.equal(ruleMatches(rule(["*"], { scope: "Cluster" }), ns), true);
    assert.equal(ruleMatches(rule(["*"], { scope: "Cluster" }), attrs()), false);
    assert.equal(ruleMatches(rule(["*"], { scope: "*" }), node), true);
  });

  void it("admissionregistration requests are exempt", () => {
    assert.equal(exempt(attrs({ resource: def("admissionregistration.k8s.io", "validatingwebhookconfigurations", false) })), true);
    assert.equal(exempt(attrs()), false);
  });

  void it("configurations in name order", () => {
    const got = orderedWebhooks([
      { metadata: { name: "b" }, webhooks: [{ name: "b1" }] },
      { metadata: { name: "a" }, webhooks: [{ name: "a1" }, { name: "a2" }] },
    ] as never);
    assert.deepEqual(
      got.map((h) => `${h.configuration}/${(h.webhook as { name: string }).name}`),
      ["a/a1", "a/a2", "b/b1"],
    );
  });

  void it("a namespace that does not exist is NotFound; a selector that does not parse, an internal error", async () => {
    const w = { name: "w", rules: [rule(["*"])], namespaceSelector: { matchLabels: { a: "b" } } } as never;
    const err = await shouldCall(w, attrs(), () => Promise.resolve(undefined)).catch((e: unknown) => e);
    assert.ok(err instanceof StatusError && err.code === 404);
    assert.equal(err.status.message, 'namespaces "ns" not found');
    const bad = { name: "w", rules: [rule(["*"])], objectSelector: { matchExpressions: [{ key: "a", operator: "Bogus" }] } } as never;
    const err2 = await shouldCall(bad, attrs(), () => Promise.resolve({})).catch((e: unknown) => e);
    assert.ok(err2 instanceof StatusError && err2.code === 500);
  });
});
