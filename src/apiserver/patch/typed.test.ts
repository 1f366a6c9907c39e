import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { compare, ensureNamedFieldsAreMembers, merge, removeItems, toFieldSet, validateApplied } from "./typed.js";
import { FieldSet, path, pathString } from "./fieldpath.js";
import { schemaFromOpenAPI } from "./schema.js";
import type { JsonValue } from "./json.js";
import { defs, openapi } from "./testdata.js";

const pod = schemaFromOpenAPI(openapi, defs.pod);
const deployment = schemaFromOpenAPI(openapi, defs.deployment);
const service = schemaFromOpenAPI(openapi, defs.service);
const node = schemaFromOpenAPI(openapi, defs.node);
const y = (s: string): JsonValue => parse(s) as JsonValue;

void describe("toFieldSet", () => {
  const cases: { name: string; schema: typeof pod; value: string; want: unknown }[] = [
    {
      name: "a Deployment as kubectl apply --server-side sends it",
      schema: deployment,
      value: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{containerPort: 80}]
        env: [{name: A, value: "1"}]
`,
      want: {
        "f:apiVersion": {},
        "f:kind": {},
        "f:metadata": { "f:labels": { "f:app": {} }, "f:name": {} },
        "f:spec": {
          "f:replicas": {},
          "f:selector": {},
          "f:template": {
            "f:metadata": { "f:labels": { "f:app": {} } },
            "f:spec": {
              "f:containers": {
                'k:{"name":"nginx"}': {
                  ".": {},
                  "f:env": { 'k:{"name":"A"}': { ".": {}, "f:name": {}, "f:value": {} } },
                  "f:image": {},
                  "f:name": {},
                  // protocol is a list-map key with default "TCP", so it is part of the key.
                  "f:ports": { 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } },
                },
              },
            },
          },
        },
      },
    },
    {
      name: "sets, atomic lists and maps, empty maps and nulls",
      schema: pod,
      value: `
metadata: {finalizers: [b, a], annotations: {}}
spec:
  nodeSelector: {disk: ssd}
  tolerations: [{key: k}]
  containers: [{name: c, command: [sh], resources: {}, image: null}]
`,
      want: {
        "f:metadata": { "f:annotations": {}, "f:finalizers": { 'v:"a"': {}, 'v:"b"': {} } },
        "f:spec": {
          "f:containers": { 'k:{"name":"c"}': { ".": {}, "f:command": {}, "f:image": {}, "f:name": {}, "f:resources": {} } },
          "f:nodeSelector": {},
          "f:tolerations": {},
        },
      },
    },
    {
      name: "Service ports keyed by port and defaulted protocol",
      schema: service,
      value: `{spec: {ports: [{port: 80, targetPort: 8080}, {port: 53, protocol: UDP}]}}`,
      want: {
        "f:spec": {
          "f:ports": {
            'k:{"port":53,"protocol":"UDP"}': { ".": {}, "f:port": {}, "f:protocol": {} },
            'k:{"port":80,"protocol":"TCP"}': { ".": {}, "f:port": {}, "f:targetPort": {} },
          },
        },
      },
    },
    {
      name: "fields without a schema: maps granular, lists atomic",
      schema: node,
      value: `{anything: {a: {b: 1}, l: [1, 2]}}`,
      want: { "f:anything": { "f:a": { ".": {}, "f:b": {} }, "f:l": {} } },
    },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.deepStrictEqual(toFieldSet(y(c.value), c.schema).toFieldsV1(), c.want));
  }

  void it("marks duplicated list items once, without their fields", () => {
    const s = toFieldSet(y(`{spec: {containers: [{name: a, image: x}, {name: a, image: y}]}}`), pod);
    assert.deepStrictEqual(s.toFieldsV1(), { "f:spec": { "f:containers": { 'k:{"name":"a"}': {} } } });
  });
});

void describe("validateApplied", () => {
  const cases: [string, typeof pod, string, string[]][] = [
    ["accepts a valid pod", pod, `{spec: {containers: [{name: a, ports: [{containerPort: 80}]}]}}`, []],
    ["reports undeclared fields", pod, `{spec: {containerz: [], containers: [{name: a, imagee: x}]}}`, [".spec.containerz: field not declared in schema", '.spec.containers[name="a"].imagee: field not declared in schema']],
    ["takes a missing key from its default (name defaults to \"\")", pod, `{spec: {containers: [{image: x}]}}`, []],
    [
      "reports items without keys when the keys have no default",
      schemaFromOpenAPI(
        { components: { schemas: { T: { type: "object", properties: { l: { type: "array", items: { type: "object", properties: { k: { type: "string" }, v: { type: "string" } } }, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"] } } } } } },
        "T",
      ),
      `{l: [{v: x}]}`,
      ['.l: element 0: associative list with keys has an element that omits all key fields ["k"] (and doesn\'t have default values for any key fields)'],
    ],
    ["reports duplicate keys", pod, `{spec: {containers: [{name: a}, {name: a}]}}`, ['.spec.containers: duplicate entries for key [name="a"]']],
    ["reports maps in sets", pod, `{metadata: {finalizers: [{a: 1}]}}`, [".metadata.finalizers: element 0: associative list without keys has an element that's a map type"]],
    ["looks inside atomic lists", pod, `{spec: {tolerations: [{kee: x}]}}`, [".spec.tolerations[0].kee: field not declared in schema"]],
    ["accepts anything under preserve-unknown-fields and in maps", node, `{anything: {x: {y: 1}}, byName: {q: {name: n}}}`, []],
  ];
  for (const [name, schema, value, want] of cases) void it(name, () => assert.deepStrictEqual(validateApplied(y(value), schema), want));
});

void describe("merge (keep the applied side)", () => {
  const cases: { name: string; schema: typeof pod; live: string; applied: string; want: string }[] = [
    {
      name: "granular maps merge, scalars replace",
      schema: pod,
      live: `{metadata: {labels: {a: "1", b: "2"}}, spec: {nodeName: n1, restartPolicy: Always}}`,
      applied: `{metadata: {labels: {b: "3", c: "4"}}, spec: {nodeName: n2}}`,
      want: `{metadata: {labels: {a: "1", b: "3", c: "4"}}, spec: {nodeName: n2, restartPolicy: Always}}`,
    },
    {
      name: "atomic lists and maps are replaced",
      schema: pod,
      live: `{spec: {tolerations: [{key: a}, {key: b}], nodeSelector: {x: "1", y: "2"}}}`,
      applied: `{spec: {tolerations: [{key: c}], nodeSelector: {z: "3"}}}`,
      want: `{spec: {tolerations: [{key: c}], nodeSelector: {z: "3"}}}`,
    },
    {
      name: "keyed list items merge; live-only items keep their place",
      schema: pod,
      live: `{spec: {containers: [{name: a, image: a1, imagePullPolicy: Always}, {name: x, image: x1}, {name: b, image: b1}]}}`,
      applied: `{spec: {containers: [{name: a, image: a2}, {name: b, image: b2}, {name: n, image: n1}]}}`,
      want: `{spec: {containers: [{name: a, image: a2, imagePullPolicy: Always}, {name: x, image: x1}, {name: b, image: b2}, {name: n, image: n1}]}}`,
    },
    {
      name: "the applied order wins for shared items",
      schema: pod,
      live: `{spec: {containers: [{name: a}, {name: b}, {name: c}]}}`,
      applied: `{spec: {containers: [{name: b}, {name: a}]}}`,
      want: `{spec: {containers: [{name: b}, {name: c}, {name: a}]}}`,
    },
    {
      name: "sets are unioned",
      schema: pod,
      live: `{metadata: {finalizers: [a, b]}}`,
      applied: `{metadata: {finalizers: [c, a]}}`,
      want: `{metadata: {finalizers: [c, a, b]}}`,
    },
    {
      name: "ports merge by containerPort and defaulted protocol",
      schema: pod,
      live: `{spec: {containers: [{name: w, ports: [{containerPort: 80, protocol: TCP, name: http}, {containerPort: 80, protocol: UDP}]}]}}`,
      applied: `{spec: {containers: [{name: w, ports: [{containerPort: 80, hostPort: 8080}]}]}}`,
      want: `{spec: {containers: [{name: w, ports: [{containerPort: 80, protocol: TCP, name: http, hostPort: 8080}, {containerPort: 80, protocol: UDP}]}]}}`,
    },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.deepStrictEqual(merge(y(c.live), y(c.applied), c.schema), y(c.want)));
  }

  void it("rejects duplicate keys in the applied list", () => {
    assert.throws(() => merge(y(`{spec: {containers: []}}`), y(`{spec: {containers: [{name: a}, {name: a}]}}`), pod), /duplicate entries for key \[name="a"\]/);
  });
});

void describe("compare", () => {
  void it("reports added, removed and modified paths", () => {
    const c = compare(
      y(`{metadata: {labels: {a: "1", b: "2"}}, spec: {nodeName: n1, containers: [{name: a, image: x}, {name: b}]}}`),
      y(`{metadata: {labels: {a: "9"}}, spec: {nodeName: n1, containers: [{name: a, image: y}, {name: c}]}}`),
      pod,
    );
    assert.deepStrictEqual(c.added.paths().map(pathString), ['.spec.containers[name="c"]', '.spec.containers[name="c"].name']);
    assert.deepStrictEqual(c.removed.paths().map(pathString), [".metadata.labels.b", '.spec.containers[name="b"]', '.spec.containers[name="b"].name']);
    assert.deepStrictEqual(c.modified.paths().map(pathString), [".metadata.labels.a", '.spec.containers[name="a"].image']);
  });

  void it("treats fields a Go zero object always has as present", () => {
    const c = compare({}, y(`{metadata: {labels: {a: "1"}}, spec: {replicas: 1, template: {spec: {containers: [{name: a}]}}}, status: {}}`), deployment);
    assert.deepStrictEqual(c.added.paths().map(pathString), [
      ".metadata.labels",
      ".metadata.labels.a",
      ".spec.replicas",
      '.spec.template.spec.containers[name="a"]',
      '.spec.template.spec.containers[name="a"].name',
    ]);
    assert.ok(c.modified.isEmpty());
  });

  void it("finds nothing between equal objects", () => {
    const v = y(`{spec: {containers: [{name: a, env: [{name: X}]}], tolerations: [{key: t}]}}`);
    const c = compare(v, v, pod);
    assert.ok(c.added.isEmpty() && c.removed.isEmpty() && c.modified.isEmpty());
  });
});

void describe("compare with paths to skip", () => {
  const live = y(`
metadata: {name: p, labels: {app: a, tier: x}, annotations: {note: old}}
spec:
  containers: [{name: c, image: i1}, {name: d, image: j1}]
  nodeName: n1
status: {phase: Pending, conditions: [{type: Ready, status: "False"}]}
`);
  const next = y(`
metadata: {name: p, labels: {app: b}, annotations: {note: new}}
spec:
  containers: [{name: c, image: i2}, {name: e, image: k1}]
  nodeName: n2
status: {phase: Running, podIP: 10.0.0.1, conditions: [{type: Ready, status: "True"}, {type: Initialized, status: "True"}]}
`);
  const text = (c: { added: FieldSet; removed: FieldSet; modified: FieldSet }): string => JSON.stringify([c.added.toFieldsV1(), c.removed.toFieldsV1(), c.modified.toFieldsV1()]);
  const skips: [string, FieldSet][] = [
    ["/status writes' reset fields", FieldSet.of(path("spec"), path("metadata", "labels"), path("metadata", "annotations"))],
    ["the main resource's", FieldSet.of(path("status"))],
    ["a list item and a field inside another", FieldSet.of([...path("spec", "containers"), { kind: "key", fields: [["name", "c"]] }], [...path("status", "conditions"), { kind: "key", fields: [["type", "Ready"]] }, ...path("status")])],
    ["nothing", new FieldSet()],
  ];
  for (const [what, skip] of skips) {
    void it(`leaves out ${what} exactly as a recursive difference would`, () => {
      const full = compare(live, next, pod);
      const want = { added: full.added.recursiveDifference(skip), removed: full.removed.recursiveDifference(skip), modified: full.modified.recursiveDifference(skip) };
      assert.equal(text(compare(live, next, pod, skip)), text(want));
    });
  }

  void it("skips only below a path that is in the set, not its siblings", () => {
    const c = compare(live, next, pod, FieldSet.of(path("metadata", "labels")));
    assert.ok(c.modified.has(path("metadata", "annotations", "note")));
    assert.ok(!c.modified.has(path("metadata", "labels", "app")) && !c.removed.has(path("metadata", "labels", "tier")));
    assert.ok(c.modified.has(path("spec", "nodeName")));
  });
});

void describe("removeItems", () => {
  void it("removes fields and keyed items, keeping structs held by value", () => {
    const v = y(`{metadata: {labels: {a: "1"}}, spec: {nodeName: n, containers: [{name: a, image: x}, {name: b, image: y}]}}`);
    const out = removeItems(
      v,
      FieldSet.of(path("metadata", "labels", "a"), [...path("spec", "containers"), { kind: "key", fields: [["name", "b"]] }], [...path("spec", "containers"), { kind: "key", fields: [["name", "a"]] }, { kind: "field", name: "image" }]),
      pod,
    );
    assert.deepStrictEqual(out, y(`{metadata: {}, spec: {nodeName: n, containers: [{name: a}]}}`));
  });

  void it("ensureNamedFieldsAreMembers adds declared struct fields only", () => {
    const s = ensureNamedFieldsAreMembers(FieldSet.of(path("metadata", "labels", "a"), path("spec", "nodeName")), pod);
    assert.deepStrictEqual(s.paths().map(pathString), [".metadata", ".spec", ".metadata.labels", ".metadata.labels.a", ".spec.nodeName"]);
  });
});
