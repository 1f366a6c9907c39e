import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { applyStrategicMergePatch } from "./strategic.js";
import { schemaFromOpenAPI } from "./schema.js";
import { isPatchError, type PatchErrorCode } from "./errors.js";
import type { JsonObject, JsonValue } from "./json.js";
import { defs, openapi } from "./testdata.js";
import { freezeJson } from "../../util/freeze.js";

const pod = schemaFromOpenAPI(openapi, defs.pod);
const deployment = schemaFromOpenAPI(openapi, defs.deployment);
const service = schemaFromOpenAPI(openapi, defs.service);

const y = (s: string): JsonValue => parse(s) as JsonValue;

interface Case {
  name: string;
  schema?: typeof pod;
  original: string;
  patch: string;
  want?: string;
  error?: { code: PatchErrorCode; httpCode: number; message: string | RegExp };
}

const twoContainers = `
spec:
  containers:
  - name: a
    image: a:1
  - name: b
    image: b:1
`;

const podCases: Case[] = [
  {
    name: "changes one container's image among two and keeps their order",
    original: twoContainers,
    patch: `{spec: {containers: [{name: b, image: "b:2"}]}}`,
    want: `{spec: {containers: [{name: a, image: "a:1"}, {name: b, image: "b:2"}]}}`,
  },
  {
    name: "client-side apply: $setElementOrder/containers with one changed image",
    original: twoContainers,
    patch: `
spec:
  $setElementOrder/containers: [{name: a}, {name: b}]
  containers: [{name: a, image: "a:2"}]
`,
    want: `{spec: {containers: [{name: a, image: "a:2"}, {name: b, image: "b:1"}]}}`,
  },
  {
    name: "a container added without $setElementOrder goes first, as upstream puts it",
    original: twoContainers,
    patch: `{spec: {containers: [{name: c, image: "c:1"}]}}`,
    want: `{spec: {containers: [{name: c, image: "c:1"}, {name: a, image: "a:1"}, {name: b, image: "b:1"}]}}`,
  },
  {
    name: "a container added with $setElementOrder goes where the order says",
    original: twoContainers,
    patch: `
spec:
  $setElementOrder/containers: [{name: a}, {name: c}, {name: b}]
  containers: [{name: c, image: "c:1"}]
`,
    want: `{spec: {containers: [{name: a, image: "a:1"}, {name: c, image: "c:1"}, {name: b, image: "b:1"}]}}`,
  },
  {
    name: "$setElementOrder reorders and keeps server-only items next to their live neighbours",
    original: `
spec:
  containers: [{name: "1"}, {name: "3", image: x}, {name: "4"}, {name: "2"}, {name: "9"}]
`,
    patch: `{spec: {$setElementOrder/containers: [{name: "4"}, {name: "2"}, {name: "3"}, {name: "1"}]}}`,
    want: `{spec: {containers: [{name: "4"}, {name: "2"}, {name: "3", image: x}, {name: "1"}, {name: "9"}]}}`,
  },
  {
    name: "$setElementOrder with server-only items in the middle",
    original: `{spec: {containers: [{name: "1"}, {name: "2"}, {name: "7"}, {name: "9"}, {name: "8"}, {name: "3"}, {name: "4"}]}}`,
    patch: `{spec: {$setElementOrder/containers: [{name: "2"}, {name: "1"}, {name: "4"}, {name: "3"}]}}`,
    want: `{spec: {containers: [{name: "2"}, {name: "1"}, {name: "7"}, {name: "9"}, {name: "8"}, {name: "4"}, {name: "3"}]}}`,
  },
  {
    name: "removes an env var with $patch: delete",
    original: `
spec:
  containers:
  - name: app
    env: [{name: A, value: "1"}, {name: B, value: "2"}, {name: C, value: "3"}]
`,
    patch: `{spec: {containers: [{name: app, env: [{name: B, $patch: delete}]}]}}`,
    want: `{spec: {containers: [{name: app, env: [{name: A, value: "1"}, {name: C, value: "3"}]}]}}`,
  },
  {
    name: "kubectl apply three-way patch removing an env var (nested $setElementOrder)",
    original: `
spec:
  containers:
  - name: app
    image: app:1
    env: [{name: A, value: "1"}, {name: B, value: "2"}]
`,
    patch: `
spec:
  $setElementOrder/containers: [{name: app}]
  containers:
  - name: app
    $setElementOrder/env: [{name: A}]
    env: [{$patch: delete, name: B}]
`,
    want: `{spec: {containers: [{name: app, image: "app:1", env: [{name: A, value: "1"}]}]}}`,
  },
  {
    name: "deleting an item that is not there changes nothing",
    original: `{spec: {containers: [{name: app, env: [{name: A, value: "1"}]}]}}`,
    patch: `{spec: {containers: [{name: app, env: [{name: Z, $patch: delete}]}]}}`,
    want: `{spec: {containers: [{name: app, env: [{name: A, value: "1"}]}]}}`,
  },
  {
    name: "$patch: replace inside a merging list replaces the whole list",
    original: twoContainers,
    patch: `{spec: {containers: [{$patch: replace}, {name: z, image: "z:1"}]}}`,
    want: `{spec: {containers: [{name: z, image: "z:1"}]}}`,
  },
  {
    name: "container ports merge by containerPort",
    original: `{spec: {containers: [{name: web, ports: [{containerPort: 80, protocol: TCP}]}]}}`,
    patch: `{spec: {containers: [{name: web, ports: [{containerPort: 443, name: https}, {containerPort: 80, name: http}]}]}}`,
    want: `{spec: {containers: [{name: web, ports: [{containerPort: 443, name: https}, {containerPort: 80, protocol: TCP, name: http}]}]}}`,
  },
  {
    name: "volumeMounts merge by mountPath",
    original: `{spec: {containers: [{name: c, volumeMounts: [{name: v1, mountPath: /a}, {name: v2, mountPath: /b}]}]}}`,
    patch: `{spec: {containers: [{name: c, volumeMounts: [{name: v3, mountPath: /b, readOnly: true}]}]}}`,
    want: `{spec: {containers: [{name: c, volumeMounts: [{name: v1, mountPath: /a}, {name: v3, mountPath: /b, readOnly: true}]}]}}`,
  },
  {
    name: "a volume's source changes with $retainKeys dropping the old source",
    original: `{spec: {volumes: [{name: data, emptyDir: {}}, {name: cfg, configMap: {name: a}}]}}`,
    patch: `{spec: {volumes: [{$retainKeys: [configMap, name], name: data, configMap: {name: b}}]}}`,
    want: `{spec: {volumes: [{name: data, configMap: {name: b}}, {name: cfg, configMap: {name: a}}]}}`,
  },
  {
    name: "a patch key missing from $retainKeys is rejected with 400",
    original: `{spec: {volumes: [{name: data, emptyDir: {}}]}}`,
    patch: `{spec: {volumes: [{$retainKeys: [name], name: data, configMap: {name: b}}]}}`,
    error: { code: "BadStrategicDirective", httpCode: 400, message: "invalid patch format of retainKeys" },
  },
  {
    name: "$retainKeys must be a list",
    original: `{spec: {volumes: [{name: data, emptyDir: {}}]}}`,
    patch: `{spec: {volumes: [{$retainKeys: name, name: data}]}}`,
    error: { code: "BadStrategicDirective", httpCode: 400, message: "invalid patch format of retainKeys" },
  },
  {
    name: "a merge-list item without its merge key fails like upstream (500, kubectl shows the text)",
    original: twoContainers,
    patch: `{spec: {containers: [{image: nginx}]}}`,
    error: { code: "StrategicPatchFailed", httpCode: 500, message: "map: map[image:nginx] does not contain declared merge key: name" },
  },
  {
    name: "a $patch: delete item without its merge key fails",
    original: twoContainers,
    patch: `{spec: {containers: [{$patch: delete, image: x}]}}`,
    error: { code: "StrategicPatchFailed", httpCode: 500, message: "map: map[$patch:delete image:x] does not contain declared merge key: name" },
  },
  {
    name: "$patch: merge in a list is not supported",
    original: twoContainers,
    patch: `{spec: {containers: [{$patch: merge, name: a}]}}`,
    error: { code: "StrategicPatchFailed", httpCode: 500, message: "merging lists cannot yet be specified in the patch" },
  },
  {
    name: "an unknown $patch value on a map fails",
    original: `{metadata: {labels: {a: b}}}`,
    patch: `{metadata: {labels: {$patch: foo, x: y}}}`,
    error: { code: "StrategicPatchFailed", httpCode: 500, message: "unknown patch type: foo in map: map[$patch:foo x:y]" },
  },
  {
    name: "maps merge and null deletes",
    original: `{metadata: {name: p, labels: {app: web, tier: fe}, annotations: {a: "1"}}}`,
    patch: `{metadata: {labels: {tier: null, env: prod}, annotations: null}}`,
    want: `{metadata: {name: p, labels: {app: web, env: prod}}}`,
  },
  {
    name: "null for a field that does not exist is ignored",
    original: `{metadata: {name: p}}`,
    patch: `{metadata: {labels: {gone: null}, annotations: null}}`,
    want: `{metadata: {name: p, labels: {}}}`,
  },
  {
    name: "$patch: replace on a map keeps only the patch's keys",
    original: `{metadata: {labels: {a: "1", b: "2"}}}`,
    patch: `{metadata: {labels: {$patch: replace, c: "3"}}}`,
    want: `{metadata: {labels: {c: "3"}}}`,
  },
  {
    name: "$patch: delete on a map empties it",
    original: `{metadata: {labels: {a: "1"}}, spec: {nodeName: n}}`,
    patch: `{metadata: {labels: {$patch: delete}}}`,
    want: `{metadata: {labels: {}}, spec: {nodeName: n}}`,
  },
  {
    name: "$patch: replace on a map the object lacks adds nothing (upstream drops directive maps)",
    original: `{metadata: {name: p}}`,
    patch: `{metadata: {labels: {$patch: replace, a: "1"}}}`,
    want: `{metadata: {name: p}}`,
  },
  {
    name: "finalizers (merge strategy, primitives) are unioned; new ones go first",
    original: `{metadata: {finalizers: [a]}}`,
    patch: `{metadata: {finalizers: [b]}}`,
    want: `{metadata: {finalizers: [b, a]}}`,
  },
  {
    name: "finalizers union with overlap",
    original: `{metadata: {finalizers: [a, b]}}`,
    patch: `{metadata: {finalizers: [b, c]}}`,
    want: `{metadata: {finalizers: [a, b, c]}}`,
  },
  {
    name: "finalizers ordered by $setElementOrder",
    original: `{metadata: {finalizers: [a]}}`,
    patch: `{metadata: {$setElementOrder/finalizers: [a, b], finalizers: [b]}}`,
    want: `{metadata: {finalizers: [a, b]}}`,
  },
  {
    name: "$deleteFromPrimitiveList removes a finalizer",
    original: `{metadata: {finalizers: [a, b, c]}}`,
    patch: `{metadata: {$deleteFromPrimitiveList/finalizers: [b]}}`,
    want: `{metadata: {finalizers: [a, c]}}`,
  },
  {
    name: "$deleteFromPrimitiveList with $setElementOrder (kubectl apply)",
    original: `{metadata: {finalizers: [a, b, c, d]}}`,
    patch: `{metadata: {$setElementOrder/finalizers: [a, d, e], $deleteFromPrimitiveList/finalizers: [b, c], finalizers: [e]}}`,
    want: `{metadata: {finalizers: [a, d, e]}}`,
  },
  {
    name: "$deleteFromPrimitiveList on a missing list adds nothing",
    original: `{metadata: {name: p}}`,
    patch: `{metadata: {$deleteFromPrimitiveList/finalizers: [x]}}`,
    want: `{metadata: {name: p}}`,
  },
  {
    name: "$deleteFromPrimitiveList also applies to a list without merge strategy",
    original: `{spec: {containers: [{name: c, args: [x, y, z]}]}}`,
    patch: `{spec: {containers: [{name: c, $deleteFromPrimitiveList/args: [y]}]}}`,
    want: `{spec: {containers: [{name: c, args: [x, z]}]}}`,
  },
  {
    name: "a malformed $deleteFromPrimitiveList key is a 400",
    original: `{metadata: {finalizers: [a]}}`,
    patch: `{metadata: {$deleteFromPrimitiveListfinalizers: [a]}}`,
    error: { code: "BadStrategicDirective", httpCode: 400, message: "invalid patch format of primitive list" },
  },
  {
    name: "a malformed $setElementOrder key is a 400",
    original: `{metadata: {finalizers: [a]}}`,
    patch: `{metadata: {$setElementOrderfinalizers: [a]}}`,
    error: { code: "BadStrategicDirective", httpCode: 400, message: "invalid patch format of setElementOrder list" },
  },
  {
    name: "$setElementOrder must be a list",
    original: `{metadata: {finalizers: [a]}}`,
    patch: `{metadata: {$setElementOrder/finalizers: a}}`,
    error: { code: "StrategicPatchFailed", httpCode: 500, message: "expected a []interface {}, but received a string" },
  },
  {
    name: "patch list order contradicting $setElementOrder fails",
    original: `{spec: {containers: [{name: "1"}, {name: "3"}, {name: "2"}]}}`,
    patch: `{spec: {$setElementOrder/containers: [{name: "1"}, {name: "2"}, {name: "3"}], containers: [{name: "3", image: x}, {name: "1", image: y}]}}`,
    error: { code: "StrategicPatchFailed", httpCode: 500, message: /^The order in patch list:\n\[map\[image:x name:3\] map\[image:y name:1\]\]\n doesn't match \$setElementOrder list:/ },
  },
  {
    name: "lists without a merge strategy replace (tolerations, command)",
    original: `{spec: {tolerations: [{key: a}, {key: b}], containers: [{name: c, command: [sh, -c, "true"]}]}}`,
    patch: `{spec: {tolerations: [{key: c}], containers: [{name: c, command: [sleep]}]}}`,
    want: `{spec: {tolerations: [{key: c}], containers: [{name: c, command: [sleep]}]}}`,
  },
  {
    name: "nodeSelector (atomic map, no patch strategy) still merges as upstream's SMP does",
    original: `{spec: {nodeSelector: {a: "1"}}}`,
    patch: `{spec: {nodeSelector: {b: "2"}}}`,
    want: `{spec: {nodeSelector: {a: "1", b: "2"}}}`,
  },
  {
    name: "resources limits merge as a map of quantities",
    original: `{spec: {containers: [{name: c, resources: {limits: {cpu: 100m, memory: 64Mi}}}]}}`,
    patch: `{spec: {containers: [{name: c, resources: {limits: {cpu: 200m}, requests: {cpu: 50m}}}]}}`,
    want: `{spec: {containers: [{name: c, resources: {limits: {cpu: 200m, memory: 64Mi}, requests: {cpu: 50m}}}]}}`,
  },
  {
    name: "status conditions merge by type",
    original: `{status: {conditions: [{type: Ready, status: "False"}, {type: PodScheduled, status: "True"}]}}`,
    patch: `{status: {conditions: [{type: Ready, status: "True", reason: Up}]}}`,
    want: `{status: {conditions: [{type: Ready, status: "True", reason: Up}, {type: PodScheduled, status: "True"}]}}`,
  },
  {
    name: "ownerReferences merge by uid",
    original: `{metadata: {ownerReferences: [{uid: u1, kind: ReplicaSet, name: rs1}]}}`,
    patch: `{metadata: {ownerReferences: [{uid: u2, kind: ReplicaSet, name: rs2}, {uid: u1, controller: true}]}}`,
    want: `{metadata: {ownerReferences: [{uid: u2, kind: ReplicaSet, name: rs2}, {uid: u1, kind: ReplicaSet, name: rs1, controller: true}]}}`,
  },
  {
    name: "two patch items with the same key merge into one",
    original: `{spec: {containers: []}}`,
    patch: `{spec: {containers: [{name: a, image: x}, {name: a, imagePullPolicy: Always}]}}`,
    want: `{spec: {containers: [{name: a, image: x, imagePullPolicy: Always}]}}`,
  },
  {
    name: "new content loses directives and nulls",
    original: `{spec: {containers: [{name: a}]}}`,
    patch: `
spec:
  initContainers:
  - name: init
    image: null
    env: [{name: X, $patch: delete}, {name: Y, value: "1"}]
  containers:
  - name: b
    $setElementOrder/env: [{name: Q}]
    env: [{name: Q, value: null}]
`,
    want: `{spec: {containers: [{name: b, env: [{name: Q}]}, {name: a}], initContainers: [{name: init, env: [{name: Y, value: "1"}]}]}}`,
  },
  {
    name: "a value of another type replaces the old one",
    original: `{spec: {containers: [{name: a, args: [x]}]}}`,
    patch: `{spec: {containers: [{name: a, args: {not: a-list}}]}}`,
    want: `{spec: {containers: [{name: a, args: {not: a-list}}]}}`,
  },
  {
    name: "fields without a schema merge like a JSON merge patch",
    original: `{spec: {unknown: {a: 1, list: [1, 2], deep: {x: 1}}}}`,
    patch: `{spec: {unknown: {list: [3], deep: {y: 2}, c: null, d: 4}}}`,
    want: `{spec: {unknown: {a: 1, list: [3], deep: {x: 1, y: 2}, d: 4}}}`,
  },
  {
    name: "a deletion list over a list of lists is a 422",
    original: `{spec: {unknown: [[1], [2]]}}`,
    patch: `{spec: {$deleteFromPrimitiveList/unknown: [[1]]}}`,
    error: { code: "InvalidStrategicPatch", httpCode: 422, message: "the server rejected our request due to an error in our request" },
  },
  {
    name: "a merging list with elements of different types fails",
    original: `{metadata: {finalizers: [a]}}`,
    patch: `{metadata: {finalizers: [1]}}`,
    error: { code: "StrategicPatchFailed", httpCode: 500, message: "list element types are not identical: [[a] [1]]" },
  },
  {
    name: "an empty patch changes nothing",
    original: twoContainers,
    patch: `{}`,
    want: twoContainers,
  },
  {
    name: "a null patch changes nothing",
    original: twoContainers,
    patch: `null`,
    want: twoContainers,
  },
  {
    name: "a patch that is not an object is a 400",
    original: twoContainers,
    patch: `[1]`,
    error: { code: "BadPatch", httpCode: 400, message: "json: cannot unmarshal array into Go value of type map[string]interface {}" },
  },
  {
    name: "$patch: replace at the top replaces the object",
    original: `{metadata: {name: p}, spec: {nodeName: n}}`,
    patch: `{$patch: replace, metadata: {name: q}}`,
    want: `{metadata: {name: q}}`,
  },
];

const deploymentBase = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.24
        ports: [{containerPort: 80, protocol: TCP}]
      - name: sidecar
        image: busybox:1.35
`;

const deploymentCases: Case[] = [
  {
    name: "strategy RollingUpdate → Recreate with $retainKeys drops rollingUpdate (kubectl apply)",
    original: deploymentBase,
    patch: `{spec: {strategy: {$retainKeys: [type], rollingUpdate: null, type: Recreate}}}`,
    want: deploymentBase.replace("type: RollingUpdate\n    rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}", "type: Recreate"),
  },
  {
    name: "strategy type change without $retainKeys keeps rollingUpdate (merge)",
    original: deploymentBase,
    patch: `{spec: {strategy: {type: Recreate}}}`,
    want: deploymentBase.replace("type: RollingUpdate", "type: Recreate"),
  },
  {
    name: "$retainKeys clears fields the patch does not mention",
    original: deploymentBase,
    patch: `{spec: {strategy: {$retainKeys: [type], type: Recreate}}}`,
    want: deploymentBase.replace("type: RollingUpdate\n    rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}", "type: Recreate"),
  },
  {
    name: "kubectl set image",
    original: deploymentBase,
    patch: `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"},{"name":"sidecar"}],"containers":[{"image":"nginx:1.25","name":"nginx"}]}}}}`,
    want: deploymentBase.replace("nginx:1.24", "nginx:1.25"),
  },
  {
    name: "kubectl rollout restart adds a template annotation",
    original: deploymentBase,
    patch: `{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2025-01-01T00:00:00Z"}}}}}`,
    want: deploymentBase.replace(
      "metadata: {labels: {app: web}}\n    spec:",
      'metadata: {labels: {app: web}, annotations: {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}}\n    spec:',
    ),
  },
  {
    name: "kubectl rollout pause / scale style merge of scalars",
    original: deploymentBase,
    patch: `{"spec":{"paused":true,"replicas":5}}`,
    want: deploymentBase.replace("replicas: 2", "replicas: 5\n  paused: true"),
  },
  {
    name: "kubectl apply removing a container and its port list entry",
    original: deploymentBase,
    patch: `
spec:
  template:
    spec:
      $setElementOrder/containers: [{name: nginx}]
      containers:
      - name: nginx
        $setElementOrder/ports: [{containerPort: 8080}]
        ports: [{containerPort: 8080}, {$patch: delete, containerPort: 80}]
      - {$patch: delete, name: sidecar}
`,
    want: deploymentBase.replace("ports: [{containerPort: 80, protocol: TCP}]\n      - name: sidecar\n        image: busybox:1.35", "ports: [{containerPort: 8080}]"),
  },
  {
    name: "selector (LabelSelector, no patch strategy) merges its matchLabels",
    original: deploymentBase,
    patch: `{spec: {selector: {matchLabels: {tier: fe}}}}`,
    want: deploymentBase.replace("selector: {matchLabels: {app: web}}", "selector: {matchLabels: {app: web, tier: fe}}"),
  },
];
const serviceCases: Case[] = [
  {
    name: "Service ports merge by port",
    original: `{spec: {type: ClusterIP, ports: [{name: http, port: 80, targetPort: 8080}, {name: https, port: 443, targetPort: 8443}]}}`,
    patch: `{spec: {ports: [{port: 443, targetPort: 9443}]}}`,
    want: `{spec: {type: ClusterIP, ports: [{name: http, port: 80, targetPort: 8080}, {name: https, port: 443, targetPort: 9443}]}}`,
  },
  {
    name: "Service port added and one deleted",
    original: `{spec: {ports: [{name: http, port: 80}, {name: https, port: 443}]}}`,
    patch: `{spec: {ports: [{port: 8080, name: alt}, {port: 80, $patch: delete}]}}`,
    want: `{spec: {ports: [{port: 8080, name: alt}, {name: https, port: 443}]}}`,
  },
  {
    name: "Service type change to NodePort keeps ports and selector",
    original: `{spec: {type: ClusterIP, selector: {app: web}, ports: [{port: 80}]}}`,
    patch: `{spec: {type: NodePort}}`,
    want: `{spec: {type: NodePort, selector: {app: web}, ports: [{port: 80}]}}`,
  },
];

function run(cases: Case[], schema: typeof pod | undefined): void {
  for (const c of cases) {
    void it(c.name, () => {
      const original = y(c.original);
      const patch = y(c.patch);
      const before = JSON.stringify([original, patch]);
      if (c.error !== undefined) {
        const e = c.error;
        assert.throws(
          () => applyStrategicMergePatch(original, patch, c.schema ?? schema),
          (err: unknown) => {
            assert.ok(isPatchError(err), `not a PatchError: ${String(err)}`);
            assert.equal(err.code, e.code);
            assert.equal(err.httpCode, e.httpCode);
            const detail = err.extra.detail ?? err.message;
            if (typeof e.message === "string") assert.ok(err.message === e.message || detail === e.message, `${err.message} / ${detail}`);
            else assert.match(err.message, e.message);
            return true;
          },
        );
      } else {
        const got = applyStrategicMergePatch(original, patch, c.schema ?? schema);
        assert.deepStrictEqual(got, y(c.want ?? "{}"));
        // Sharing what the patch leaves alone: the same result, and a frozen original is
        // never written to (that would throw).
        const shared = applyStrategicMergePatch(freezeJson(y(c.original)), patch, c.schema ?? schema, { share: true });
        assert.deepStrictEqual(shared, y(c.want ?? "{}"));
      }
      assert.equal(JSON.stringify([original, patch]), before, "inputs were modified");
    });
  }
}

void describe("strategic merge patch: Pod", () => run(podCases, pod));
void describe("strategic merge patch: Deployment", () => run(deploymentCases, deployment));
void describe("strategic merge patch: Service", () => run(serviceCases, service));

void describe("strategic merge patch: edge cases", () => {
  void it("with share, keeps the original's maps and lists where the patch does not reach", () => {
    const original = freezeJson(y(`{metadata: {name: p, labels: {a: "1"}}, spec: {containers: [{name: a, image: "a:1"}]}, status: {phase: Pending, conditions: [{type: PodScheduled, status: "True"}]}}`)) as JsonObject;
    const got = applyStrategicMergePatch(original, y(`{status: {phase: Running, conditions: [{type: Ready, status: "True"}]}}`), pod, { share: true });
    assert.equal(got["spec"], original["spec"]);
    assert.equal(got["metadata"], original["metadata"]);
    const status = got["status"] as JsonObject;
    const was = original["status"] as JsonObject;
    assert.notEqual(status, was);
    assert.ok(!Object.isFrozen(status));
    assert.equal((status["conditions"] as JsonValue[])[1], (was["conditions"] as JsonValue[])[0]);
    assert.deepStrictEqual(status, y(`{phase: Running, conditions: [{type: Ready, status: "True"}, {type: PodScheduled, status: "True"}]}`));
  });

  void it("without a schema behaves like a JSON merge patch, directives aside", () => {
    const got = applyStrategicMergePatch(
      y(`{a: {b: 1, c: [1, 2]}, d: x}`),
      y(`{a: {c: [3], e: {$patch: delete}}, d: null, f: {g: null, h: 1}}`),
      undefined,
    );
    assert.deepStrictEqual(got, { a: { b: 1, c: [3] }, f: { h: 1 } });
  });

  void it("keeps order of a long primitive merge list stable", () => {
    const live = Array.from({ length: 200 }, (_, i) => `f${i}`);
    const got = applyStrategicMergePatch(
      { metadata: { finalizers: live } },
      { metadata: { "$setElementOrder/finalizers": [...live, "new"], finalizers: ["new"] } },
      pod,
    );
    assert.deepStrictEqual((got["metadata"] as JsonObject)["finalizers"], [...live, "new"]);
    const order = [...live].reverse();
    const reordered = applyStrategicMergePatch({ metadata: { finalizers: live } }, { metadata: { "$setElementOrder/finalizers": order } }, pod);
    assert.deepStrictEqual((reordered["metadata"] as JsonObject)["finalizers"], order);
  });

  void it("stores __proto__ as a plain key", () => {
    const got = applyStrategicMergePatch({ data: {} }, JSON.parse(`{"data":{"__proto__":{"polluted":"yes"}}}`), undefined);
    const data = got["data"] as JsonObject;
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.deepStrictEqual(Object.keys(data), ["__proto__"]);
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  });
});
