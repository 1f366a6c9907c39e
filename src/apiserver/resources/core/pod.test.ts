import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, StrategyContext } from "../../registry/types.js";
import { pods, podGracePeriod, podSelectableFields } from "./pod.js";
import { podStatusCells } from "./pod-table.js";
import { imageTag } from "./podspec-defaults.js";
import { podQOSClass } from "../../../api/qos.js";

const ctx: StrategyContext = { namespace: "default", now: new Date("2024-05-01T12:00:00Z"), user: { username: "admin", groups: [] } };

function pod(spec: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", resourceVersion: "1" }, spec, ...extra };
}

function errors(obj: KubeObject): string[] {
  return (pods.strategy.validate?.(obj, ctx) ?? []).map((e) => e.toString());
}

function defaulted(obj: KubeObject): KubeObject {
  pods.strategy.defaults?.(obj);
  return obj;
}

void test("pod defaults match what upstream stores for a minimal pod", () => {
  const p = defaulted(pod({ containers: [{ name: "web", image: "nginx", ports: [{ containerPort: 80 }], readinessProbe: { httpGet: { port: 80 } } }], volumes: [{ name: "cfg", configMap: { name: "c" } }, { name: "scratch" }] }));
  assert.deepEqual(p.spec, {
    containers: [
      {
        name: "web",
        image: "nginx",
        imagePullPolicy: "Always",
        ports: [{ containerPort: 80, protocol: "TCP" }],
        readinessProbe: { httpGet: { port: 80, path: "/", scheme: "HTTP" }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
        resources: {},
        terminationMessagePath: "/dev/termination-log",
        terminationMessagePolicy: "File",
      },
    ],
    volumes: [
      { name: "cfg", configMap: { name: "c", defaultMode: 420 } },
      { name: "scratch", emptyDir: {} },
    ],
    dnsPolicy: "ClusterFirst",
    restartPolicy: "Always",
    securityContext: {},
    terminationGracePeriodSeconds: 30,
    schedulerName: "default-scheduler",
    enableServiceLinks: true,
  });
});

void test("imagePullPolicy follows the tag: Always for latest or none, IfNotPresent otherwise", () => {
  const cases: [string, string | undefined][] = [
    ["nginx", "latest"],
    ["nginx:latest", "latest"],
    ["nginx:1.25", "1.25"],
    ["registry.local:5000/team/app", "latest"],
    ["registry.local:5000/team/app:v2", "v2"],
    ["busybox@sha256:" + "a".repeat(64), ""],
    ["Nginx", undefined],
  ];
  for (const [image, tag] of cases) assert.equal(imageTag(image), tag, image);
  const p = defaulted(pod({ containers: [{ name: "a", image: "busybox:1.35" }] }));
  assert.equal((p.spec as { containers: { imagePullPolicy: string }[] }).containers[0]!.imagePullPolicy, "IfNotPresent");
});

void test("requests default to limits on pods and quantities are stored canonically", () => {
  const p = defaulted(pod({ containers: [{ name: "a", image: "x", resources: { limits: { cpu: "0.5", memory: "1024Mi" } } }] }));
  const c = (p.spec as { containers: { resources: unknown }[] }).containers[0]!;
  assert.deepEqual(c.resources, { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: "500m", memory: "1Gi" } });
});

void test("prepareForCreate resets status to Pending with the QoS class", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{}, "BestEffort"],
    [{ requests: { cpu: "100m" } }, "Burstable"],
    [{ limits: { cpu: "1", memory: "1Gi" } }, "Guaranteed"],
    [{ limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m" } }, "Burstable"],
  ];
  for (const [resources, want] of cases) {
    const p = defaulted(pod({ containers: [{ name: "a", image: "x", resources }] }, { status: { phase: "Running" } }));
    pods.strategy.prepareForCreate?.(p, ctx);
    assert.deepEqual(p.status, { phase: "Pending", qosClass: want }, JSON.stringify(resources));
  }
  assert.equal(podQOSClass({ containers: [{ resources: { limits: { cpu: "1" } } }] }), "Burstable");
});

void test("pod validation messages match upstream", () => {
  assert.deepEqual(errors(defaulted(pod({ containers: [] }))), ["spec.containers: Required value"]);
  assert.deepEqual(
    errors(
      defaulted(
        pod({
          containers: [
            { name: "web", image: "nginx", volumeMounts: [{ name: "missing", mountPath: "/x" }] },
            { name: "web", image: "" },
          ],
        }),
      ),
    ),
    ['spec.containers[0].volumeMounts[0].name: Not found: "missing"', "spec.containers[1].image: Required value", 'spec.containers[1].name: Duplicate value: "web"'],
  );
  assert.deepEqual(errors(defaulted(pod({ restartPolicy: "Sometimes", containers: [{ name: "a", image: "x" }] }))), [
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  ]);
  assert.deepEqual(errors(defaulted(pod({ containers: [{ name: "a", image: "x", resources: { limits: { cpu: "100m" }, requests: { cpu: "200m" } } }] }))), [
    'spec.containers[0].resources.requests: Invalid value: "200m": must be less than or equal to cpu limit of 100m',
  ]);
  assert.deepEqual(errors(defaulted(pod({ containers: [{ name: "Bad_Name", image: "x", ports: [{ containerPort: 70000 }] }] }))), [
    "spec.containers[0].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
  ]);
  assert.deepEqual(errors(defaulted(pod({ volumes: [{ name: "v", hostPath: { path: "/a" }, emptyDir: {} }], containers: [{ name: "a", image: "x" }] }))), [
    "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type",
  ]);
  assert.deepEqual(errors(defaulted(pod({ runtimeClassName: "Bad_Class", overhead: { cpu: "-1" }, containers: [{ name: "a", image: "x" }] }))), [
    "spec.runtimeClassName: Invalid value: \"Bad_Class\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    'spec.overhead.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0',
  ]);
  const noName = defaulted(pod({ containers: [{ name: "a", image: "x" }] }));
  delete (noName.metadata as Record<string, unknown>).name;
  assert.deepEqual(errors(noName), ["metadata.name: Required value: name or generateName is required"]);
});

void test("pod updates may change images but not other spec fields", () => {
  const old = defaulted(pod({ containers: [{ name: "a", image: "x:1" }] }));
  const changedImage = structuredClone(old);
  (changedImage.spec as { containers: { image: string }[] }).containers[0]!.image = "x:2";
  assert.deepEqual(pods.strategy.validateUpdate?.(changedImage, old, ctx), []);
  const changedPort = structuredClone(old);
  (changedPort.spec as { containers: Record<string, unknown>[] }).containers[0]!.ports = [{ containerPort: 80, protocol: "TCP" }];
  const errs = pods.strategy.validateUpdate?.(changedPort, old, ctx) ?? [];
  assert.equal(errs.length, 1);
  assert.match(errs[0]!.toString(), /^spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
  const added = structuredClone(old);
  (added.spec as { containers: unknown[] }).containers.push({ name: "b", image: "y" });
  assert.deepEqual(
    (pods.strategy.validateUpdate?.(defaulted(added), old, ctx) ?? []).map(String),
    ["spec.containers: Forbidden: pod updates may not add or remove containers"],
  );
});

void test("pod table: READY, STATUS and RESTARTS as kubectl shows them", () => {
  const now = new Date("2024-05-01T12:00:00Z");
  const running = pod(
    { containers: [{ name: "a" }, { name: "b" }] },
    {
      status: {
        phase: "Running",
        conditions: [{ type: "Ready", status: "False" }],
        containerStatuses: [
          { name: "a", ready: true, restartCount: 0, state: { running: {} } },
          { name: "b", ready: false, restartCount: 5, state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { finishedAt: "2024-05-01T11:55:00Z" } } },
        ],
      },
    },
  );
  assert.deepEqual(podStatusCells(running, now), { ready: "1/2", status: "CrashLoopBackOff", restarts: "5 (5m ago)" });

  const init = pod(
    { initContainers: [{ name: "i1" }, { name: "i2" }], containers: [{ name: "a" }] },
    { status: { phase: "Pending", initContainerStatuses: [{ name: "i1", state: { terminated: { exitCode: 0 } } }, { name: "i2", state: { running: {} } }] } },
  );
  assert.equal(podStatusCells(init, now).status, "Init:1/2");

  const done = pod({ containers: [{ name: "a" }] }, { status: { phase: "Succeeded", containerStatuses: [{ name: "a", state: { terminated: { exitCode: 0, reason: "Completed" } } }] } });
  assert.deepEqual(podStatusCells(done, now), { ready: "0/1", status: "Completed", restarts: "0" });

  const terminating = pod({ containers: [{ name: "a" }] }, { status: { phase: "Running" } });
  (terminating.metadata as Record<string, unknown>).deletionTimestamp = "2024-05-01T12:00:30Z";
  assert.equal(podStatusCells(terminating, now).status, "Terminating");

  const fresh = pod({ containers: [{ name: "a" }] }, { status: { phase: "Pending" } });
  (fresh.metadata as Record<string, unknown>).creationTimestamp = "2024-05-01T11:59:55Z";
  assert.deepEqual(pods.table?.row(fresh, now), ["p", "0/1", "Pending", "0", "5s", "<none>", "<none>", "<none>", "<none>"]);
  assert.deepEqual(
    pods.table?.columns.map((c) => `${c.name}:${c.priority}`),
    ["Name:0", "Ready:0", "Status:0", "Restarts:0", "Age:0", "IP:1", "Node:1", "Nominated Node:1", "Readiness Gates:1"],
  );
});

void test("pod grace period and field selectors", () => {
  const p = pod({ nodeName: "n1", terminationGracePeriodSeconds: 30, restartPolicy: "Always", hostNetwork: true }, { status: { phase: "Running", podIPs: [{ ip: "10.0.0.5" }] } });
  assert.equal(podGracePeriod(p, undefined), 30);
  assert.equal(podGracePeriod(p, 0), undefined);
  assert.equal(podGracePeriod(pod({ terminationGracePeriodSeconds: 30 }), undefined), undefined);
  assert.equal(podGracePeriod(p, -5), 1);
  assert.deepEqual(podSelectableFields(p), {
    "spec.nodeName": "n1",
    "spec.restartPolicy": "Always",
    "spec.schedulerName": "",
    "spec.serviceAccountName": "",
    "spec.hostNetwork": "true",
    "status.phase": "Running",
    "status.podIP": "10.0.0.5",
    "status.nominatedNodeName": "",
  });
});

void test("downward API field paths: quoted subscripts of labels and annotations, as upstream splits them", () => {
  const withEnv = (fieldPath: string): KubeObject =>
    defaulted(pod({ containers: [{ name: "c", image: "busybox", env: [{ name: "X", valueFrom: { fieldRef: { fieldPath } } }] }] }));
  assert.deepEqual(errors(withEnv("metadata.annotations['batch.kubernetes.io/job-completion-index']")), []);
  assert.deepEqual(errors(withEnv("metadata.labels['app']")), []);
  assert.deepEqual(errors(withEnv("metadata.annotations['Bad Key']")), [
    `spec.containers[0].env[0].valueFrom.fieldRef: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
  ]);
  assert.deepEqual(errors(withEnv("spec.nodeName['x']")), ['spec.containers[0].env[0].valueFrom.fieldRef: Invalid value: "spec.nodeName": does not support subscript']);
  // Without quotes it is no subscript at all: an unknown path.
  assert.match(errors(withEnv("metadata.labels[app]"))[0] ?? "", /^spec\.containers\[0\]\.env\[0\]\.valueFrom\.fieldRef\.fieldPath: Unsupported value: "metadata\.labels\[app\]"/);
});
