// The declarations of the non-core groups as the official kubectl sees them through a real
// server: discovery facts (short names, categories), server-side defaults, 422 messages and
// the columns `kubectl get` prints.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startTestApiServer, type KubectlResult, type TestApiServer, succeeded as ok } from "../../testing/apiserver.js";

function fails(r: KubectlResult, what: string): string {
  assert.notEqual(r.code, 0, `${what} should have failed: ${r.stdout}`);
  return r.stderr;
}

/** The header line and the rows of a `kubectl get` table, split on runs of 2+ spaces. */
function table(out: string): string[][] {
  return out
    .trimEnd()
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/));
}

void describe("kubectl against the group declarations", () => {
  let s: TestApiServer;
  const k = (args: string[], stdin?: string): Promise<KubectlResult> => s.kubectl(args, stdin !== undefined ? { stdin } : {});

  before(async () => {
    s = await startTestApiServer();
  });
  after(async () => {
    await s?.stop();
  });

  void it("lists the groups' resources with upstream's short names", async () => {
    const res = ok(await k(["api-resources", "--no-headers"]), "api-resources");
    const expected = [
      /^controllerrevisions\s+apps\/v1\s+true\s+ControllerRevision$/m,
      /^daemonsets\s+ds\s+apps\/v1\s+true\s+DaemonSet$/m,
      /^replicasets\s+rs\s+apps\/v1\s+true\s+ReplicaSet$/m,
      /^statefulsets\s+sts\s+apps\/v1\s+true\s+StatefulSet$/m,
      /^cronjobs\s+cj\s+batch\/v1\s+true\s+CronJob$/m,
      /^jobs\s+batch\/v1\s+true\s+Job$/m,
    ];
    for (const re of expected) assert.match(res, re);
    const all = ok(await k(["api-resources", "--categories=all", "-o", "name"]), "api-resources --categories");
    for (const r of ["deployments.apps", "replicasets.apps", "statefulsets.apps", "daemonsets.apps", "jobs.batch", "cronjobs.batch"]) {
      assert.ok(all.split("\n").includes(r), `category all lacks ${r}: ${all}`);
    }
  });

  // `kubectl create <kind>` sends protobuf bodies; YAML through apply exercises the same
  // declarations without depending on the protobuf decoder.
  void it("creates workloads and prints upstream's tables", async () => {
    ok(await k(["apply", "-f", "-"], deployment("web", 2)), "apply deployment");
    assert.deepEqual(table(ok(await k(["get", "deploy"]), "get deploy")).map((r) => r.slice(0, 4)), [
      ["NAME", "READY", "UP-TO-DATE", "AVAILABLE"],
      ["web", "0/2", "0", "0"],
    ]);
    ok(await k(["apply", "-f", "-"], `apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: pi, image: "perl:5.34", command: [perl, -e, print 1]}]
`), "apply job");
    const job = JSON.parse(ok(await k(["get", "job", "pi", "-o", "json"]), "get job")) as { metadata: { uid: string; labels: Record<string, string> }; spec: Record<string, unknown> };
    assert.equal(job.metadata.labels["batch.kubernetes.io/job-name"], "pi");
    assert.deepEqual(job.spec.selector, { matchLabels: { "batch.kubernetes.io/controller-uid": job.metadata.uid } });
    assert.equal(job.spec.backoffLimit, 6);
    assert.equal(job.spec.podReplacementPolicy, "TerminatingOrFailed");
    const jobs = table(ok(await k(["get", "jobs", "-o", "wide"]), "get jobs"));
    assert.deepEqual(jobs[0], ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
    // DURATION is empty before the job starts, so the row has one cell fewer.
    assert.deepEqual([jobs[1]![0], jobs[1]![1], jobs[1]![2], jobs[1]![4], jobs[1]![5], jobs[1]![6]], ["pi", "Running", "0/1", "pi", "perl:5.34", `batch.kubernetes.io/controller-uid=${job.metadata.uid}`]);

    ok(await k(["apply", "-f", "-"], cronJob("tick", "*/5 * * * *")), "apply cronjob");
    const cj = table(ok(await k(["get", "cj"]), "get cj"));
    assert.deepEqual(cj[0], ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"]);
    assert.deepEqual(cj[1]!.slice(0, 6), ["tick", "*/5 * * * *", "<none>", "False", "0", "<none>"]);
    assert.match(ok(await k(["get", "all"]), "get all"), /cronjob\.batch\/tick/);
  });

  void it("rejects invalid objects with upstream's messages", async () => {
    const badCron = fails(await k(["apply", "-f", "-"], cronJob("bad", "* * *")), "bad schedule");
    assert.match(badCron, /The CronJob "bad" is invalid: spec\.schedule: Invalid value: "\* \* \*": expected exactly 5 fields, found 3: \[\* \* \*\]/);
    const job = `apiVersion: batch/v1
kind: Job
metadata: {name: always}
spec:
  template:
    spec:
      containers: [{name: c, image: busybox:1.35}]
`;
    const badJob = fails(await k(["apply", "-f", "-"], job), "job with restartPolicy Always");
    assert.match(badJob, /spec\.template\.spec\.restartPolicy: Required value: valid values: "OnFailure", "Never"/);
    ok(await k(["apply", "-f", "-"], deployment("frozen", 1)), "apply deployment");
    const patched = fails(await k(["patch", "deploy", "frozen", "--type=merge", "-p", '{"spec":{"selector":{"matchLabels":{"app":"other"}}}}']), "selector change");
    assert.match(patched, /spec\.selector: Invalid value: .*: field is immutable/);
  });

  void it("serves the cluster groups with upstream's tables", async () => {
    ok(
      await k(
        ["apply", "-f", "-"],
        `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: node-1}
spec: {holderIdentity: node-1, leaseDurationSeconds: 40}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.1]}, {addresses: [10.0.0.2]}]
ports: [{port: 80}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: User, name: jane}, {kind: ServiceAccount, name: default, namespace: default}]
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local, annotations: {storageclass.kubernetes.io/is-default-class: "true"}}
provisioner: rancher.io/local-path
`,
      ),
      "apply cluster groups",
    );
    const rows = async (args: string[]): Promise<string[][]> => table(ok(await k(["get", ...args]), args.join(" "))).map((r) => r.filter((c) => !/^\d+[smhd]$/.test(c)));
    assert.deepEqual(await rows(["leases"]), [["NAME", "HOLDER", "AGE"], ["node-1", "node-1"]]);
    // The API server's own `kubernetes` slice is there too; this test is about the one it wrote.
    assert.deepEqual(await rows(["endpointslices", "-l", "kubernetes.io/service-name=web"]), [["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"], ["web-abc", "IPv4", "80", "10.0.0.1,10.0.0.2"]]);
    assert.deepEqual(await rows(["pdb"]), [["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"], ["web", "1", "N/A", "0"]]);
    assert.deepEqual(await rows(["rolebindings", "-o", "wide"]), [["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"], ["read", "Role/reader", "jane", "default/default"]]);
    assert.match(ok(await k(["get", "roles"]), "get roles"), /^NAME\s+CREATED AT\nreader\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    // The system priority classes exist from the start, as upstream bootstraps them.
    assert.deepEqual(await rows(["pc"]), [
      ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"],
      ["high", "1000", "false", "PreemptLowerPriority"],
      ["system-cluster-critical", "2000000000", "false", "PreemptLowerPriority"],
      ["system-node-critical", "2000001000", "false", "PreemptLowerPriority"],
    ]);
    assert.deepEqual(await rows(["sc"]), [["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"], ["local (default)", "rancher.io/local-path", "Delete", "Immediate", "false"]]);

    const changed = fails(await k(["patch", "rolebinding", "read", "--type=merge", "-p", '{"roleRef":{"name":"writer"}}']), "roleRef change");
    assert.match(changed, /roleRef: Invalid value: rbac\.RoleRef\{APIGroup:"rbac\.authorization\.k8s\.io", Kind:"Role", Name:"writer"\}: cannot change roleRef/);
    const sc = fails(await k(["patch", "sc", "local", "--type=merge", "-p", '{"provisioner":"other.io/x"}']), "provisioner change");
    assert.match(sc, /provisioner: Forbidden: updates to provisioner are forbidden\./);
    // A lease may be created by PUT, which client-go's lease lock relies on.
    const put = await k(["replace", "-f", "-"], "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: node-2}\nspec: {holderIdentity: node-2}\n");
    ok(put, "replace creates a lease");
  });
});

function deployment(name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: main, image: "busybox:1.35"}]
`;
}

function cronJob(name: string, schedule: string): string {
  return `apiVersion: batch/v1
kind: CronJob
metadata: {name: ${name}}
spec:
  schedule: "${schedule}"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: main, image: "busybox:1.35", command: [date]}]
`;
}
