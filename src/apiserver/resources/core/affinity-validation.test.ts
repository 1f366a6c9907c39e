import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, StrategyContext } from "../../registry/types.js";
import { strategyDriver } from "../../../testing/strategy.js";
import { deployments } from "../apps.js";
import { pods } from "./pod.js";
import { persistentVolumes } from "./other.js";

const ctx: StrategyContext = { namespace: "default", now: new Date("2024-05-01T12:00:00Z"), user: { username: "admin", groups: [] } };
const { create, update } = strategyDriver(ctx);

function pod(spec: Record<string, unknown>, labels?: Record<string, string>): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", ...(labels ? { labels } : {}) }, spec: { containers: [{ name: "c", image: "busybox" }], ...spec } };
}

const podErrors = (spec: Record<string, unknown>, labels?: Record<string, string>): string[] => create(pods, pod(spec, labels));
const nodeAffinity = (na: Record<string, unknown>): Record<string, unknown> => ({ affinity: { nodeAffinity: na } });
const required = (...terms: unknown[]): Record<string, unknown> => nodeAffinity({ requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } });
const R = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution";

void test("required node affinity: operators, values, keys and label values as upstream refuses them", () => {
  assert.deepEqual(podErrors(required({ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] })), []);
  assert.deepEqual(podErrors(nodeAffinity({ requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } })), [`${R}.nodeSelectorTerms: Required value: must have at least one node selector term`]);
  assert.deepEqual(podErrors(nodeAffinity({ requiredDuringSchedulingIgnoredDuringExecution: {} })), [`${R}.nodeSelectorTerms: Required value: must have at least one node selector term`]);
  assert.deepEqual(
    podErrors(
      required({
        matchExpressions: [
          { key: "zone", operator: "In" },
          { key: "zone", operator: "NotIn", values: [] },
          { key: "gpu", operator: "Exists", values: ["x"] },
          { key: "gpu", operator: "DoesNotExist", values: ["x"] },
          { key: "cores", operator: "Gt", values: ["1", "2"] },
          { key: "cores", operator: "Lt" },
          { key: "zone", operator: "Equals", values: ["a"] },
        ],
      }),
    ),
    [
      `${R}.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`,
      `${R}.nodeSelectorTerms[0].matchExpressions[1].values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`,
      `${R}.nodeSelectorTerms[0].matchExpressions[2].values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`,
      `${R}.nodeSelectorTerms[0].matchExpressions[3].values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`,
      `${R}.nodeSelectorTerms[0].matchExpressions[4].values: Required value: must be specified single value when \`operator\` is 'Lt' or 'Gt'`,
      `${R}.nodeSelectorTerms[0].matchExpressions[5].values: Required value: must be specified single value when \`operator\` is 'Lt' or 'Gt'`,
      `${R}.nodeSelectorTerms[0].matchExpressions[6].operator: Invalid value: "Equals": not a valid selector operator`,
    ],
  );
  const bad = podErrors(required({ matchExpressions: [{ key: "bad key", operator: "In", values: ["has space"] }] }));
  assert.equal(bad.length, 2, bad.join("\n"));
  assert.match(bad[0]!, new RegExp(`^${R.replace(/\./g, "\\.")}\\.nodeSelectorTerms\\[0\\]\\.matchExpressions\\[0\\]\\.key: Invalid value: "bad key": name part must consist of alphanumeric characters`));
  assert.match(bad[1]!, /matchExpressions\[0\]\.values\[0\]: Invalid value: "has space": a valid label must be an empty string or consist of alphanumeric characters/);
  // An empty term is allowed (it matches no node), as upstream.
  assert.deepEqual(podErrors(required({})), []);
});

void test("matchFields: only metadata.name, In or NotIn, exactly one valid node name", () => {
  assert.deepEqual(podErrors(required({ matchFields: [{ key: "metadata.name", operator: "In", values: ["node-1"] }] })), []);
  assert.deepEqual(
    podErrors(
      required({
        matchFields: [
          { key: "metadata.name", operator: "In", values: ["a", "b"] },
          { key: "metadata.labels", operator: "Exists" },
          { key: "metadata.name", operator: "NotIn", values: ["Node_1"] },
        ],
      }),
    ),
    [
      `${R}.nodeSelectorTerms[0].matchFields[0].values: Required value: must be only one value when \`operator\` is 'In' or 'NotIn' for node field selector`,
      `${R}.nodeSelectorTerms[0].matchFields[1].operator: Invalid value: "Exists": not a valid selector operator`,
      `${R}.nodeSelectorTerms[0].matchFields[1].key: Invalid value: "metadata.labels": not a valid field selector key`,
      `${R}.nodeSelectorTerms[0].matchFields[2].values[0]: Invalid value: "Node_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    ],
  );
});

void test("preferred node affinity: weight 1-100, label values not checked", () => {
  const P = "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution";
  const pref = (weight: number, expr: Record<string, unknown>): Record<string, unknown> => nodeAffinity({ preferredDuringSchedulingIgnoredDuringExecution: [{ weight, preference: { matchExpressions: [expr] } }] });
  assert.deepEqual(podErrors(pref(100, { key: "zone", operator: "In", values: ["not a label value"] })), []);
  assert.deepEqual(podErrors(pref(0, { key: "zone", operator: "In", values: ["a"] })), [`${P}[0].weight: Invalid value: 0: must be in the range 1-100`]);
  assert.deepEqual(podErrors(pref(101, { key: "zone", operator: "Exists", values: ["a"] })), [
    `${P}[0].weight: Invalid value: 101: must be in the range 1-100`,
    `${P}[0].preference.matchExpressions[0].values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`,
  ]);
});

void test("pod affinity and anti-affinity terms: topology key, selectors, namespaces, label keys, weights", () => {
  const A = "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]";
  const term = (t: Record<string, unknown>): Record<string, unknown> => ({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [t] } } });
  assert.deepEqual(podErrors(term({ labelSelector: { matchLabels: { app: "db" } }, topologyKey: "kubernetes.io/hostname" })), []);
  assert.deepEqual(podErrors(term({ labelSelector: { matchLabels: { app: "db" } } })), [`${A}.topologyKey: Required value: can not be empty`, `${A}.topologyKey: Invalid value: "": name part must be non-empty`, `${A}.topologyKey: Invalid value: "": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`]);
  assert.deepEqual(podErrors(term({ labelSelector: { matchExpressions: [{ key: "app", operator: "In" }] }, namespaceSelector: { matchExpressions: [{ key: "team", operator: "Exists", values: ["x"] }] }, namespaces: ["Bad_NS"], topologyKey: "zone" })), [
    `${A}.labelSelector.matchExpressions[0].values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`,
    `${A}.namespaceSelector.matchExpressions[0].values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`,
    `${A}.namespace: Invalid value: "Bad_NS": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
  ]);
  // Label keys need a label selector, may not be in both lists, and (merged into the selector
  // from the pod's labels on create) may not repeat a key the selector already has.
  assert.deepEqual(podErrors(term({ matchLabelKeys: ["rev"], topologyKey: "zone" })), [`${A}.matchLabelKeys: Forbidden: must not be specified when labelSelector is not set`]);
  assert.deepEqual(podErrors(term({ labelSelector: { matchLabels: { app: "db" } }, matchLabelKeys: ["rev"], mismatchLabelKeys: ["rev"], topologyKey: "zone" })), [
    `${A}.matchLabelKeys[0]: Invalid value: "rev": exists in both matchLabelKeys and mismatchLabelKeys`,
  ]);
  assert.deepEqual(podErrors(term({ labelSelector: { matchLabels: { app: "db" } }, matchLabelKeys: ["app"], topologyKey: "zone" }), { app: "db" }), [`${A}[0]: Invalid value: "app": exists in both matchLabelKeys and labelSelector`]);
  // Without the label on the pod nothing is merged, so nothing repeats.
  assert.deepEqual(podErrors(term({ labelSelector: { matchLabels: { app: "db" } }, matchLabelKeys: ["app"], topologyKey: "zone" })), []);
  const W = "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]";
  assert.deepEqual(podErrors({ affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, podAffinityTerm: { labelSelector: {}, topologyKey: "zone" } }] } } }), [`${W}.weight: Invalid value: 0: must be in the range 1-100`]);
});

void test("a pod's matchLabelKeys and mismatchLabelKeys become part of its term's selector on create", () => {
  const p = pod(
    {
      affinity: {
        podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "web" } }, matchLabelKeys: ["rev", "absent"], topologyKey: "zone" }] },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: { labelSelector: {}, mismatchLabelKeys: ["tenant"], topologyKey: "zone" } }] },
      },
    },
    { app: "web", rev: "abc", tenant: "t1" },
  );
  assert.deepEqual(create(pods, p), []);
  const aff = (p.spec as { affinity: Record<string, { requiredDuringSchedulingIgnoredDuringExecution?: { labelSelector: unknown }[]; preferredDuringSchedulingIgnoredDuringExecution?: { podAffinityTerm: { labelSelector: unknown } }[] }> }).affinity;
  assert.deepEqual(aff["podAffinity"]!.requiredDuringSchedulingIgnoredDuringExecution![0]!.labelSelector, { matchLabels: { app: "web" }, matchExpressions: [{ key: "rev", operator: "In", values: ["abc"] }] });
  assert.deepEqual(aff["podAntiAffinity"]!.preferredDuringSchedulingIgnoredDuringExecution![0]!.podAffinityTerm.labelSelector, { matchExpressions: [{ key: "tenant", operator: "NotIn", values: ["t1"] }] });
});

void test("topology spread constraints", () => {
  const T = "spec.topologySpreadConstraints";
  const tsc = (...c: unknown[]): Record<string, unknown> => ({ topologySpreadConstraints: c });
  assert.deepEqual(podErrors(tsc({ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "a" } }, matchLabelKeys: ["pod-template-hash"], minDomains: 2 })), []);
  assert.deepEqual(
    podErrors(
      tsc(
        { maxSkew: 0, topologyKey: "", whenUnsatisfiable: "Maybe", nodeAffinityPolicy: "Sometimes" },
        { maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "ScheduleAnyway", minDomains: 0, matchLabelKeys: ["app"], labelSelector: { matchLabels: { app: "a" } } },
        { maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "ScheduleAnyway", matchLabelKeys: ["x"], nodeTaintsPolicy: "Honor" },
      ),
    ),
    [
      `${T}[0].maxSkew: Invalid value: 0: must be greater than zero`,
      `${T}[0].topologyKey: Required value: can not be empty`,
      `${T}[0].whenUnsatisfiable: Unsupported value: "Maybe": supported values: "DoNotSchedule", "ScheduleAnyway"`,
      `${T}[0].nodeAffinityPolicy: Unsupported value: "Sometimes": supported values: "Honor", "Ignore"`,
      `${T}[1].{topologyKey, whenUnsatisfiable}: Duplicate value: "{zone, ScheduleAnyway}"`,
      `${T}[1].minDomains: Invalid value: 0: must be greater than zero`,
      `${T}[1].minDomains: Invalid value: 0: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway`,
      `${T}[1].matchLabelKeys[0]: Invalid value: "app": exists in both matchLabelKeys and labelSelector`,
      `${T}[2].matchLabelKeys: Forbidden: must not be specified when labelSelector is not set`,
    ],
  );
});

void test("a Deployment's pod template is checked by the same rules, at its own paths", () => {
  const d: KubeObject = {
    metadata: { name: "d", namespace: "default" },
    spec: {
      selector: { matchLabels: { app: "a" } },
      template: {
        metadata: { labels: { app: "a" } },
        spec: {
          containers: [{ name: "c", image: "busybox" }],
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In" }] }] } } },
        },
      },
    },
  };
  assert.deepEqual(create(deployments, d), [
    "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
  ]);
});

void test("PersistentVolume node affinity: required terms, required for local volumes, immutable once set", () => {
  const pv = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: "pv", resourceVersion: "1" }, spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], ...spec } });
  const affinity = (values: string[]): Record<string, unknown> => ({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values }] }] } });
  assert.deepEqual(create(persistentVolumes, pv({ local: { path: "/mnt/disk" }, nodeAffinity: affinity(["n1"]) })), []);
  assert.deepEqual(create(persistentVolumes, pv({ local: { path: "/mnt/disk" } })), ["spec.nodeAffinity: Required value: Local volume requires node affinity"]);
  assert.deepEqual(create(persistentVolumes, pv({ hostPath: { path: "/data" }, nodeAffinity: {} })), ["spec.nodeAffinity.required: Required value: must specify required node constraints"]);
  assert.deepEqual(create(persistentVolumes, pv({ local: { path: "/mnt/disk" }, nodeAffinity: {} })), ["spec.nodeAffinity.required: Required value: must specify required node constraints"]);
  assert.deepEqual(create(persistentVolumes, pv({ hostPath: { path: "/data" }, nodeAffinity: { required: { nodeSelectorTerms: [] } } })), ["spec.nodeAffinity.required.nodeSelectorTerms: Required value: must have at least one node selector term"]);
  assert.deepEqual(create(persistentVolumes, pv({ hostPath: { path: "/data" }, nodeAffinity: affinity([]) })), [
    "spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
  ]);
  // Set once on a volume without it; then it stays.
  const old = pv({ hostPath: { path: "/data" } });
  create(persistentVolumes, old);
  const set = pv({ hostPath: { path: "/data" }, nodeAffinity: affinity(["n1"]) });
  assert.deepEqual(update(persistentVolumes, set, old), []);
  const moved = pv({ hostPath: { path: "/data" }, nodeAffinity: affinity(["n2"]) });
  const errs = update(persistentVolumes, moved, set);
  assert.equal(errs.length, 1, errs.join("\n"));
  assert.match(errs[0]!, /^nodeAffinity: Invalid value: .*: field is immutable$/);
});
