// Defaults, validation messages and table rows of the coordination, discovery, policy, rbac,
// scheduling and storage declarations, each case checked against what upstream 1.32 answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, ResourceDefinition, StrategyContext } from "../registry/types.js";
import { leases } from "./coordination.js";
import { endpointSlices } from "./discovery.js";
import { ingressClasses, ingresses, networkPolicies } from "./networking.js";
import { podDisruptionBudgets } from "./policy.js";
import { clusterRoleBindings, clusterRoles, roleBindings, roles } from "./rbac.js";
import { priorityClasses } from "./scheduling.js";
import { storageClasses } from "./storage.js";
import { strategyDriver } from "../../testing/strategy.js";

const now = new Date("2024-05-01T12:00:00Z");
const ctx: StrategyContext = { namespace: "default", now, user: { username: "admin", groups: [] } };
const created = "2024-05-01T11:00:00Z";

type J = Record<string, unknown>;

function ns(extra: J, name = "x"): KubeObject {
  return { metadata: { name, namespace: "default", resourceVersion: "1", creationTimestamp: created }, ...extra };
}

function cluster(extra: J, name = "x"): KubeObject {
  return { metadata: { name, resourceVersion: "1", creationTimestamp: created }, ...extra };
}

const { create, update } = strategyDriver(ctx);

function cases(def: ResourceDefinition, list: readonly { name: string; obj: KubeObject; errs: string[] }[]): void {
  for (const c of list) assert.deepEqual(create(def, c.obj), c.errs, c.name);
}

void test("discovery facts of the six groups", () => {
  const facts = [leases, endpointSlices, podDisruptionBudgets, roles, clusterRoles, roleBindings, clusterRoleBindings, priorityClasses, storageClasses].map((d) => [
    `${d.group}/${d.version}`,
    d.plural,
    d.namespaced,
    (d.shortNames ?? []).join(","),
    (d.subresources ?? []).join(","),
  ]);
  assert.deepEqual(facts, [
    ["coordination.k8s.io/v1", "leases", true, "", ""],
    ["discovery.k8s.io/v1", "endpointslices", true, "", ""],
    ["policy/v1", "poddisruptionbudgets", true, "pdb", "status"],
    ["rbac.authorization.k8s.io/v1", "roles", true, "", ""],
    ["rbac.authorization.k8s.io/v1", "clusterroles", false, "", ""],
    ["rbac.authorization.k8s.io/v1", "rolebindings", true, "", ""],
    ["rbac.authorization.k8s.io/v1", "clusterrolebindings", false, "", ""],
    ["scheduling.k8s.io/v1", "priorityclasses", false, "pc", ""],
    ["storage.k8s.io/v1", "storageclasses", false, "sc", ""],
  ]);
  // Only PDBs and endpoint slices keep a generation among these kinds.
  for (const d of [leases, roles, clusterRoles, roleBindings, clusterRoleBindings, priorityClasses, storageClasses]) assert.deepEqual(d.strategy.specFields, [], d.kind);
});

void test("leases", () => {
  const l = ns({ spec: { holderIdentity: "node-1", leaseDurationSeconds: 40, strategy: "OldestEmulationVersion", preferredHolder: "node-2" } }, "node-1");
  assert.deepEqual(create(leases, l), []);
  assert.deepEqual(l.spec, { holderIdentity: "node-1", leaseDurationSeconds: 40 }, "coordinated leader election is off: its fields are dropped");
  assert.deepEqual(leases.table?.row(l, now), ["node-1", "node-1", "60m"]);
  assert.deepEqual(leases.table?.row(ns({ spec: {} }), now), ["x", "", "60m"]);
  cases(leases, [
    {
      name: "durations",
      obj: ns({ spec: { leaseDurationSeconds: 0, leaseTransitions: -1 } }),
      errs: ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0", "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0"],
    },
    { name: "name", obj: ns({ spec: {} }, "Node_1"), errs: [`metadata.name: Invalid value: "Node_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`] },
  ]);
  assert.equal(leases.strategy.allowCreateOnUpdate, true);
});

void test("endpoint slices", () => {
  const eps = ns({ addressType: "IPv4", endpoints: [{ addresses: ["10.0.0.1"] }, { addresses: ["10.0.0.2", "10.0.0.3"] }, { addresses: ["10.0.0.4"] }], ports: [{ port: 80 }, { name: "metrics", port: 9090, protocol: "UDP" }] }, "web-abc");
  assert.deepEqual(create(endpointSlices, eps), []);
  assert.deepEqual(eps.ports, [
    { port: 80, name: "", protocol: "TCP" },
    { name: "metrics", port: 9090, protocol: "UDP" },
  ]);
  assert.deepEqual(endpointSlices.table?.row(eps, now), ["web-abc", "IPv4", "80,9090", "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...", "60m"]);
  assert.deepEqual(endpointSlices.table?.row(ns({ addressType: "IPv6" }), now), ["x", "IPv6", "<unset>", "<unset>", "60m"]);
  cases(endpointSlices, [
    { name: "no address type", obj: ns({}), errs: ["addressType: Required value"] },
    { name: "bad address type", obj: ns({ addressType: "IP" }), errs: ['addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"'] },
    {
      name: "addresses",
      obj: ns({ addressType: "IPv4", endpoints: [{ addresses: [] }, { addresses: ["127.0.0.1", "fd00::1", "nope"] }] }),
      errs: [
        "endpoints[0].addresses: Required value: must contain at least 1 address",
        'endpoints[1].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
        'endpoints[1].addresses[1]: Invalid value: "fd00::1": must be a valid IPv4 address',
        'endpoints[1].addresses[2]: Invalid value: "nope": must be a valid IPv4 address',
      ],
    },
    { name: "too many endpoints", obj: ns({ addressType: "FQDN", endpoints: Array.from({ length: 1001 }, () => ({ addresses: ["a.example.com"] })) }), errs: ["endpoints: Too many: 1001: must have at most 1000 items"] },
    {
      name: "ports",
      obj: ns({ addressType: "IPv4", ports: [{ name: "http", port: 80, protocol: "ICMP" }, { name: "http", port: 81 }] }),
      errs: ['ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"', 'ports[1].name: Duplicate value: "http"'],
    },
  ]);
  const changed = structuredClone(eps);
  changed.addressType = "IPv6";
  changed.endpoints = [{ addresses: ["fd00::1"] }];
  assert.deepEqual(update(endpointSlices, changed, eps), ['addressType: Invalid value: "IPv6": field is immutable']);
  // A label change bumps the generation even though only metadata changed.
  const old = structuredClone(eps);
  old.metadata!.generation = 3;
  const relabeled = structuredClone(old);
  relabeled.metadata!.labels = { "kubernetes.io/service-name": "web" };
  endpointSlices.strategy.prepareForUpdate?.(relabeled, old, ctx);
  assert.equal(relabeled.metadata?.generation, 4);
});

void test("pod disruption budgets", () => {
  const pdb = ns({ spec: { minAvailable: 2, selector: { matchLabels: { app: "web" } } } }, "web");
  assert.deepEqual(create(podDisruptionBudgets, pdb), []);
  assert.deepEqual(pdb.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
  assert.deepEqual(podDisruptionBudgets.table?.row(pdb, now), ["web", "2", "N/A", 0, "60m"]);
  assert.deepEqual(podDisruptionBudgets.table?.row(ns({ spec: { maxUnavailable: "25%" }, status: { disruptionsAllowed: 1 } }), now), ["x", "N/A", "25%", 1, "60m"]);
  cases(podDisruptionBudgets, [
    {
      name: "both set",
      obj: ns({ spec: { minAvailable: 1, maxUnavailable: "150%" } }),
      errs: [
        'spec: Invalid value: {"minAvailable":1,"maxUnavailable":"150%"}: minAvailable and maxUnavailable cannot be both set',
        'spec.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%',
      ],
    },
    { name: "negative", obj: ns({ spec: { minAvailable: -1 } }), errs: ["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"] },
    { name: "policy", obj: ns({ spec: { unhealthyPodEvictionPolicy: "Never" } }), errs: ['spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"'] },
    // Names only need to be path segments: upstream checks metadata generically, after the spec.
    { name: "upper-case name", obj: ns({ spec: {} }, "Web_PDB"), errs: [] },
    { name: "path segment", obj: ns({ spec: {} }, "a/b"), errs: ["metadata.name: Invalid value: \"a/b\": may not contain '/'"] },
  ]);
  const old = ns({ spec: { minAvailable: 1 }, status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 } });
  const st = structuredClone(old);
  st.status = { disruptionsAllowed: -1, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1, conditions: [{ type: "DisruptionAllowed", status: "Maybe", reason: "9lives", lastTransitionTime: created }] };
  assert.deepEqual((podDisruptionBudgets.strategy.validateStatusUpdate?.(st, old, ctx) ?? []).map(String), [
    'status.conditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
    `status.conditions[0].reason: Invalid value: "9lives": a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')`,
    "status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0",
  ]);
});

void test("rbac roles and bindings", () => {
  const role = ns({ rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }] }, "reader");
  assert.deepEqual(create(roles, role), []);
  assert.deepEqual(roles.table?.row(role, now), ["reader", "2024-05-01T11:00:00Z"]);
  assert.deepEqual(roles.table?.columns.map((c) => c.name), ["Name", "Created At"]);
  cases(roles, [
    {
      name: "rules",
      obj: ns({ rules: [{ resources: ["pods"] }, { verbs: ["get"], nonResourceURLs: ["/healthz"] }] }),
      errs: [
        "rules[0].verbs: Required value: verbs must contain at least one value",
        "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
        'rules[1].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs',
      ],
    },
    // RBAC names are path segments, so colons (system:...) are fine.
    { name: "system name", obj: ns({ rules: [] }, "system:controller:x"), errs: [] },
  ]);
  cases(clusterRoles, [
    { name: "non-resource URLs", obj: cluster({ rules: [{ verbs: ["get"], nonResourceURLs: ["/metrics"] }] }), errs: [] },
    { name: "aggregation", obj: cluster({ aggregationRule: { clusterRoleSelectors: [] } }), errs: ["aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"] },
  ]);

  const rb = ns({ roleRef: { kind: "Role", name: "reader" }, subjects: [{ kind: "User", name: "jane" }, { kind: "ServiceAccount", name: "default", namespace: "default" }, { kind: "Group", name: "devs" }] }, "read");
  assert.deepEqual(create(roleBindings, rb), []);
  assert.deepEqual(rb.roleRef, { kind: "Role", name: "reader", apiGroup: "rbac.authorization.k8s.io" });
  // A service account's core group "" is omitempty upstream: it stays off the wire.
  assert.deepEqual((rb.subjects as J[]).map((s) => s.apiGroup), ["rbac.authorization.k8s.io", undefined, "rbac.authorization.k8s.io"]);
  assert.deepEqual(roleBindings.table?.row(rb, now), ["read", "Role/reader", "60m", "jane", "devs", "default/default"]);
  assert.deepEqual(roleBindings.table?.columns.map((c) => [c.name, c.priority]), [["Name", 0], ["Role", 0], ["Age", 0], ["Users", 1], ["Groups", 1], ["ServiceAccounts", 1]]);
  const changed = structuredClone(rb);
  (changed.roleRef as J).name = "writer";
  assert.deepEqual(update(roleBindings, changed, rb), ['roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"writer"}: cannot change roleRef']);
  cases(clusterRoleBindings, [
    {
      name: "cluster binding",
      obj: cluster({ roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "r" }, subjects: [{ kind: "ServiceAccount", name: "sa" }, { kind: "Robot", name: "r2" }] }),
      errs: [
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
        "subjects[0].namespace: Required value",
        'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
      ],
    },
  ]);
});

void test("priority classes", () => {
  const pc = cluster({ value: 1000, description: "high" }, "high");
  assert.deepEqual(create(priorityClasses, pc), []);
  assert.equal(pc.preemptionPolicy, "PreemptLowerPriority");
  assert.deepEqual(priorityClasses.table?.row(pc, now), ["high", 1000, false, "60m", "PreemptLowerPriority"]);
  assert.deepEqual(priorityClasses.table?.columns.map((c) => c.name), ["Name", "Value", "Global-Default", "Age", "PreemptionPolicy"]);
  cases(priorityClasses, [
    { name: "too high", obj: cluster({ value: 1_000_000_001 }), errs: ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"] },
    { name: "reserved", obj: cluster({ value: 5 }, "system-mine"), errs: ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"] },
    { name: "system class", obj: cluster({ value: 2000001000 }, "system-node-critical"), errs: [] },
    { name: "policy", obj: cluster({ value: 1, preemptionPolicy: "Sometimes" }), errs: ['preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"'] },
  ]);
  const next = structuredClone(pc);
  next.value = 2000;
  next.preemptionPolicy = "Never";
  assert.deepEqual(update(priorityClasses, next, pc), ["value: Forbidden: may not be changed in an update.", 'preemptionPolicy: Invalid value: "Never": field is immutable']);
});

void test("storage classes", () => {
  const sc = cluster({ provisioner: "rancher.io/local-path" }, "local-path");
  assert.deepEqual(create(storageClasses, sc), []);
  assert.equal(sc.reclaimPolicy, "Delete");
  assert.equal(sc.volumeBindingMode, "Immediate");
  assert.deepEqual(storageClasses.table?.row(sc, now), ["local-path", "rancher.io/local-path", "Delete", "Immediate", false, "60m"]);
  const def = cluster({ provisioner: "p.io/x", reclaimPolicy: "Retain", volumeBindingMode: "WaitForFirstConsumer", allowVolumeExpansion: true }, "fast");
  def.metadata!.annotations = { "storageclass.kubernetes.io/is-default-class": "true" };
  assert.deepEqual(create(storageClasses, def), []);
  assert.deepEqual(storageClasses.table?.row(def, now), ["fast (default)", "p.io/x", "Retain", "WaitForFirstConsumer", true, "60m"]);
  cases(storageClasses, [
    { name: "no provisioner", obj: cluster({}), errs: ["provisioner: Required value"] },
    {
      name: "bad values",
      obj: cluster({ provisioner: "p.io/x", reclaimPolicy: "Recycle", volumeBindingMode: "Later" }),
      errs: ['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"', 'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"'],
    },
    {
      name: "topologies",
      obj: cluster({ provisioner: "p.io/x", allowedTopologies: [{ matchLabelExpressions: [{ key: "zone", values: [] }] }, { matchLabelExpressions: [] }] }),
      errs: ["allowedTopologies[0].matchLabelExpressions[0].values: Required value", "allowedTopologies[1].matchLabelExpressions: Required value: must have at least one label key"],
    },
  ]);
  const next = structuredClone(sc);
  next.provisioner = "other.io/y";
  next.parameters = { type: "ssd" };
  next.reclaimPolicy = "Retain";
  assert.deepEqual(update(storageClasses, next, sc), [
    "parameters: Forbidden: updates to parameters are forbidden.",
    "provisioner: Forbidden: updates to provisioner are forbidden.",
    "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
  ]);
});

void test("networking validation messages and tables", () => {
  const backend = { service: { name: "web", port: { number: 80 } } };
  cases(ingresses, [
    { name: "nothing to route", obj: ns({ spec: {} }), errs: ["spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified"] },
    {
      name: "paths and backends",
      obj: ns({
        spec: {
          rules: [
            { host: "10.0.0.1", http: { paths: [{ path: "a//b", pathType: "Prefix", backend }] } },
            { host: "*.example.com", http: { paths: [{ path: "/", pathType: "Regex", backend: { service: { name: "Web", port: {} } } }] } },
          ],
        },
      }),
      errs: [
        'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
        'spec.rules[0].http.paths[0].path: Invalid value: "a//b": must be an absolute path',
        "spec.rules[0].http.paths[0].path: Invalid value: \"a//b\": must not contain '//'",
        'spec.rules[1].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
        `spec.rules[1].http.paths[0].backend.service.name: Invalid value: "Web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
        "spec.rules[1].http.paths[0].backend: Required value: port name or number is required",
      ],
    },
    {
      name: "class annotation",
      obj: { ...ns({ spec: { ingressClassName: "nginx", defaultBackend: backend } }), metadata: { name: "x", namespace: "default", annotations: { "kubernetes.io/ingress.class": "traefik" } } },
      errs: ['annotations.kubernetes.io/ingress.class: Invalid value: "traefik": must match `ingressClassName` when both are specified'],
    },
  ]);
  const ing = ns({ spec: { defaultBackend: backend, rules: [{ host: "a.io" }, { host: "b.io" }, { host: "c.io" }, { host: "d.io" }] }, status: {} });
  create(ingresses, ing);
  ing.status = { loadBalancer: { ingress: [{ ip: "192.0.2.1" }, { hostname: "lb.example.com" }] } };
  assert.deepEqual(ingresses.table?.row(ing, now), ["x", "<none>", "a.io,b.io,c.io + 1 more...", "192.0.2.1,lb.example.com", "80", "60m"]);

  const ic = cluster({ spec: { controller: "example.com/ingress", parameters: { kind: "Config", name: "c", namespace: "x" } } });
  assert.deepEqual(create(ingressClasses, ic), ["spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"]);
  assert.deepEqual((ic.spec as { parameters: J }).parameters.scope, "Cluster");
  assert.deepEqual(create(ingressClasses, cluster({ spec: { controller: "nginx" } })), ['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']);
  const withParams = cluster({ spec: { controller: "example.com/ingress", parameters: { apiGroup: "k8s.example.com", kind: "Config", name: "c" } } }, "ex");
  create(ingressClasses, withParams);
  assert.deepEqual(ingressClasses.table?.row(withParams, now), ["ex", "example.com/ingress", "Config.k8s.example.com/c", "60m"]);

  cases(networkPolicies, [
    {
      name: "ports and peers",
      obj: ns({ spec: { podSelector: {}, ingress: [{ ports: [{ port: "http", endPort: 90 }, { protocol: "ICMP", port: 70000 }], from: [{}, { ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} }] }] } }),
      errs: [
        "spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric",
        'spec.ingress[0].ports[1].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
        "spec.ingress[0].ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
        "spec.ingress[0].from[0]: Required value: must specify a peer",
        "spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer",
      ],
    },
  ]);
  const np = ns({ spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] } });
  create(networkPolicies, np);
  assert.deepEqual(np.spec, { podSelector: {}, ingress: [{ ports: [{ port: 80, protocol: "TCP" }] }], policyTypes: ["Ingress"] });
  assert.deepEqual(networkPolicies.table?.row(np, now), ["x", "<none>", "60m"]);
});
