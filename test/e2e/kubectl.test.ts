// The official kubectl against a real k8ts API server: what a user types, and what they read.
// Runs with kubectl 1.32 (/usr/bin/kubectl) and, when installed, 1.27 and 1.33.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestApiServer, type KubectlResult, type TestApiServer, succeeded as ok } from "../../src/testing/apiserver.js";

const versions: { name: string; binary: string }[] = [
  { name: "1.32", binary: "/usr/bin/kubectl" },
  { name: "1.27", binary: "/usr/lib/google-cloud-sdk/bin/kubectl.1.27" },
  { name: "1.33", binary: "/usr/lib/google-cloud-sdk/bin/kubectl.1.33" },
].filter((v) => existsSync(v.binary));

const manifests = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  labels: {app: shop, tier: config}
data:
  color: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: httpd
        image: busybox:1.35
        command: ["httpd", "-f", "-p", "8080"]
        ports:
        - containerPort: 8080
        env:
        - name: A
          value: "1"
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
`;

for (const v of versions) {
  describe(`kubectl ${v.name}`, () => {
    let s: TestApiServer;
    let dir: string;
    const k = (args: string[], stdin?: string, env?: NodeJS.ProcessEnv): Promise<KubectlResult> =>
      s.kubectl(args, { binary: v.binary, ...(stdin !== undefined ? { stdin } : {}), ...(env ? { env } : {}) });

    before(async () => {
      s = await startTestApiServer();
      dir = mkdtempSync(join(tmpdir(), "k8ts-kubectl-"));
    });
    after(async () => {
      await s?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("reports versions and API resources", async () => {
      const out = ok(await k(["version", "-o", "json"]), "version");
      const parsed = JSON.parse(out) as { serverVersion: { gitVersion: string; major: string; minor: string } };
      assert.match(parsed.serverVersion.gitVersion, /^v1\.\d+\.\d+-k8ts/);
      const res = ok(await k(["api-resources"]), "api-resources");
      assert.match(res, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND/m);
      for (const line of [/^pods\s+po\s+v1\s+true\s+Pod$/m, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m, /^leases\s+coordination.k8s.io\/v1\s+true\s+Lease$/m, /^bindings\s+v1\s+true\s+Binding$/m]) {
        assert.match(res, line);
      }
      const gv = ok(await k(["api-versions"]), "api-versions");
      for (const g of ["v1", "apps/v1", "batch/v1", "autoscaling/v2", "rbac.authorization.k8s.io/v1", "storage.k8s.io/v1"]) assert.ok(gv.split("\n").includes(g), `api-versions lacks ${g}`);
    });

    it("binds a pod with `kubectl create` of a Binding (the legacy bindings resource)", async () => {
      ok(await k(["run", "to-bind", "--image", "busybox:1.35", "--restart", "Never"]), "run");
      const binding = "apiVersion: v1\nkind: Binding\nmetadata:\n  name: to-bind\ntarget:\n  kind: Node\n  name: node-x\n";
      // The answer is upstream's success Status, which kubectl names as it can.
      assert.match(ok(await k(["create", "-f", "-"], binding), "create binding"), /^status\/<unknown> created$/m);
      assert.equal(ok(await k(["get", "pod", "to-bind", "-o", "jsonpath={.spec.nodeName} {.status.conditions[?(@.type=='PodScheduled')].status}"]), "get pod"), "node-x True");
      assert.match((await k(["create", "-f", "-"], binding)).stderr, /Error from server \(Conflict\): .*pods\/binding "to-bind": pod to-bind is already assigned to node "node-x"/);
      ok(await k(["delete", "pod", "to-bind", "--grace-period", "0", "--force"]), "delete");
    });

    it("applies multi-document YAML and shows it back in every output format", async () => {
      const file = join(dir, "app.yaml");
      writeFileSync(file, manifests);
      const applied = ok(await k(["apply", "-f", file]), "apply");
      assert.match(applied, /namespace\/shop created/);
      assert.match(applied, /configmap\/settings created/);
      assert.match(applied, /deployment.apps\/web created/);
      assert.match(applied, /service\/web created/);
      assert.match(ok(await k(["apply", "-f", file]), "re-apply"), /deployment.apps\/web unchanged/);

      const deploy = ok(await k(["get", "deploy", "-n", "shop"]), "get deploy");
      assert.match(deploy, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+0\/2\s+0\s+0\s+\d+s\n$/);
      const wide = ok(await k(["get", "deploy", "web", "-n", "shop", "-o", "wide"]), "get -o wide");
      assert.match(wide, /CONTAINERS\s+IMAGES\s+SELECTOR/);
      assert.match(wide, /httpd\s+busybox:1.35\s+app=web/);
      const json = JSON.parse(ok(await k(["get", "deploy", "web", "-n", "shop", "-o", "json"]), "get -o json")) as { spec: { replicas: number; strategy: { type: string } }; metadata: { generation: number } };
      assert.equal(json.spec.replicas, 2);
      assert.equal(json.spec.strategy.type, "RollingUpdate");
      assert.equal(json.metadata.generation, 1);
      assert.match(ok(await k(["get", "cm", "settings", "-n", "shop", "-o", "yaml"]), "-o yaml"), /^ {2}color: blue$/m);
      assert.equal(ok(await k(["get", "cm", "settings", "-n", "shop", "-o", "jsonpath={.data.color}"]), "jsonpath"), "blue");
      assert.match(ok(await k(["get", "cm", "-n", "shop", "-o", "custom-columns=NAME:.metadata.name,COLOR:.data.color"]), "custom-columns"), /^NAME\s+COLOR\nsettings\s+blue\n/);
      assert.match(ok(await k(["get", "cm", "-n", "shop", "--show-labels"]), "--show-labels"), /settings\s+1\s+\S+\s+app=shop,tier=config/);
      assert.match(ok(await k(["get", "cm", "-n", "shop", "-l", "app in (shop,x),!missing,tier!=web"]), "-l set-based"), /settings/);
      assert.match(ok(await k(["get", "cm", "-n", "shop", "-l", "app notin (shop)"]), "-l notin") + "", /^$/);
      const svc = ok(await k(["get", "svc", "web", "-n", "shop"]), "get svc");
      assert.match(svc, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\n/);
      assert.match(ok(await k(["get", "all", "-n", "shop"]), "get all"), /deployment.apps\/web/);
      assert.match(ok(await k(["describe", "deploy", "web", "-n", "shop"]), "describe"), /Replicas:\s+2 desired/);
    });

    it("creates, labels, annotates, patches, scales and edits", async () => {
      ok(await k(["create", "namespace", "work"]), "create ns");
      ok(await k(["create", "configmap", "cfg", "-n", "work", "--from-literal=a=1"]), "create cm");
      ok(await k(["create", "secret", "generic", "pw", "-n", "work", "--from-literal=password=s3cret"]), "create secret");
      assert.equal(Buffer.from(ok(await k(["get", "secret", "pw", "-n", "work", "-o", "jsonpath={.data.password}"]), "get secret"), "base64").toString(), "s3cret");
      ok(await k(["create", "deployment", "api", "-n", "work", "--image=busybox:1.35", "--replicas=3"]), "create deploy");
      assert.match(ok(await k(["label", "cm", "cfg", "-n", "work", "team=a"]), "label"), /configmap\/cfg labeled/);
      assert.match(ok(await k(["annotate", "cm", "cfg", "-n", "work", "note=hello"]), "annotate"), /configmap\/cfg annotated?\n/ /* kubectl 1.27 prints "annotate" */);
      ok(await k(["patch", "cm", "cfg", "-n", "work", "--type=merge", "-p", '{"data":{"b":"2"}}']), "merge patch");
      ok(await k(["patch", "cm", "cfg", "-n", "work", "--type=json", "-p", '[{"op":"add","path":"/data/c","value":"3"}]']), "json patch");
      ok(await k(["patch", "deploy", "api", "-n", "work", "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"busybox","image":"busybox:1.36"}]}}}}']), "strategic patch");
      const cm = JSON.parse(ok(await k(["get", "cm", "cfg", "-n", "work", "-o", "json"]), "get cm")) as { data: Record<string, string>; metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
      assert.deepEqual(cm.data, { a: "1", b: "2", c: "3" });
      assert.equal(cm.metadata.labels["team"], "a");
      assert.equal(cm.metadata.annotations["note"], "hello");
      const d = JSON.parse(ok(await k(["get", "deploy", "api", "-n", "work", "-o", "json"]), "get deploy")) as { spec: { template: { spec: { containers: { name: string; image: string }[] } } }; metadata: { generation: number } };
      assert.deepEqual(d.spec.template.spec.containers.map((c) => c.image), ["busybox:1.36"]);
      assert.equal(d.metadata.generation, 2);
      assert.match(ok(await k(["scale", "deploy", "api", "-n", "work", "--replicas=5"]), "scale"), /deployment.apps\/api scaled/);
      assert.equal(ok(await k(["get", "deploy", "api", "-n", "work", "-o", "jsonpath={.spec.replicas}"]), "replicas"), "5");
      // The scale subresource prints as upstream's: NAME DESIRED AVAILABLE AGE.
      assert.match(ok(await k(["get", "deploy", "api", "-n", "work", "--subresource=scale"]), "get scale"), /^NAME\s+DESIRED\s+AVAILABLE\s+AGE\napi\s+5\s+\d+\s+\S+/);
      // kubectl edit with an editor script that changes the data.
      const editor = join(dir, "editor.sh");
      writeFileSync(editor, "#!/bin/sh\nsed -i 's/a: \"1\"/a: \"edited\"/' \"$1\"\n");
      chmodSync(editor, 0o755);
      assert.match(ok(await k(["edit", "cm", "cfg", "-n", "work"], undefined, { EDITOR: editor, KUBE_EDITOR: editor }), "edit"), /configmap\/cfg edited/);
      assert.equal(ok(await k(["get", "cm", "cfg", "-n", "work", "-o", "jsonpath={.data.a}"]), "edited"), "edited");
    });

    it("applies server-side with field managers and conflicts, and diffs", async () => {
      const file = join(dir, "ssa.yaml");
      writeFileSync(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: default\ndata:\n  x: \"1\"\n");
      assert.match(ok(await k(["apply", "--server-side", "-f", file]), "ssa"), /configmap\/ssa serverside-applied/);
      const managed = JSON.parse(ok(await k(["get", "cm", "ssa", "-o", "json", "--show-managed-fields"]), "get managed")) as { metadata: { managedFields: { manager: string; operation: string }[] } };
      assert.ok(managed.metadata.managedFields.some((m) => m.manager === "kubectl" && m.operation === "Apply"));
      writeFileSync(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: default\ndata:\n  x: \"2\"\n");
      const conflict = await k(["apply", "--server-side", "--field-manager=other", "-f", file]);
      assert.notEqual(conflict.code, 0);
      assert.match(conflict.stderr, /conflict/i);
      ok(await k(["apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", file]), "ssa force");
      writeFileSync(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: default\ndata:\n  x: \"3\"\n");
      const diff = await k(["diff", "-f", file]);
      assert.equal(diff.code, 1, diff.stderr);
      assert.match(diff.stdout, /-\s+x: "2"/);
      assert.match(diff.stdout, /\+\s+x: "3"/);
      assert.equal(ok(await k(["get", "cm", "ssa", "-o", "jsonpath={.data.x}"]), "diff persisted nothing"), "2");
    });

    it("watches and waits", async () => {
      ok(await k(["create", "configmap", "w1", "--from-literal=a=1"]), "create");
      const wait = k(["wait", "--for=jsonpath={.data.a}=2", "cm/w1", "--timeout=30s"]);
      ok(await k(["patch", "cm", "w1", "--type=merge", "-p", '{"data":{"a":"2"}}']), "patch");
      assert.match(ok(await wait, "wait"), /configmap\/w1 condition met/);
      const watch = k(["get", "cm", "-w", "--request-timeout=3s", "-l", "watch=me"]);
      ok(await k(["create", "configmap", "w2"]), "create w2");
      ok(await k(["label", "cm", "w2", "watch=me"]), "label");
      const out = (await watch).stdout;
      assert.match(out, /w2/);
    });

    it("deletes with each cascade mode", async () => {
      for (const [name, cascade] of [["d1", "background"], ["d2", "foreground"], ["d3", "orphan"]] as const) {
        ok(await k(["create", "configmap", name]), `create ${name}`);
        const flags = cascade === "background" ? ["--cascade=background"] : [`--cascade=${cascade}`, "--wait=false"];
        assert.match(ok(await k(["delete", "cm", name, ...flags]), `delete ${cascade}`), new RegExp(`configmap "${name}" deleted`));
      }
      // Foreground and orphan deletions leave a finalizer for the garbage collector to act on.
      const d2 = JSON.parse(ok(await k(["get", "cm", "d2", "-o", "json"]), "get d2")) as { metadata: { finalizers: string[]; deletionTimestamp: string } };
      assert.deepEqual(d2.metadata.finalizers, ["foregroundDeletion"]);
      assert.ok(d2.metadata.deletionTimestamp);
      const gone = await k(["get", "cm", "d1"]);
      assert.match(gone.stderr, /Error from server \(NotFound\): configmaps "d1" not found/);
    });

    it("deletes nothing on a server dry run, one object or a collection", async () => {
      ok(await k(["create", "configmap", "dry1"]), "create dry1");
      ok(await k(["label", "cm", "dry1", "dry=run"]), "label dry1");
      assert.match(ok(await k(["delete", "cm", "dry1", "--dry-run=server"]), "delete dry-run"), /configmap "dry1" deleted \(server dry run\)/);
      assert.match(ok(await k(["delete", "cm", "-l", "dry=run", "--dry-run=server"]), "delete -l dry-run"), /configmap "dry1" deleted \(server dry run\)/);
      ok(await k(["get", "cm", "dry1"]), "dry1 is still there");
    });

    it("answers auth can-i and whoami, and explains fields", async () => {
      assert.equal(ok(await k(["auth", "can-i", "create", "pods"]), "can-i").trim(), "yes");
      const who = await k(["auth", "whoami"]);
      if (who.code === 0) {
        assert.match(who.stdout, /system:masters/);
        // --as and --as-group: the request is made as that user, who is authenticated.
        const as = ok(await k(["auth", "whoami", "--as=alice", "--as-group=devs"]), "whoami --as");
        assert.match(as, /Username\s+alice/);
        assert.match(as, /Groups\s+\[devs system:authenticated\]/);
      }
      const explain = ok(await k(["explain", "deployment.spec.replicas"]), "explain");
      assert.match(explain, /FIELD:\s+replicas/);
      assert.match(explain, /Number of desired pods/);
    });

    it("reports the control plane's health: get componentstatuses", async () => {
      // No scheduler or controller-manager runs beside this server: no one holds their Leases.
      const none = await k(["get", "cs"]);
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stderr, /Warning: v1 ComponentStatus is deprecated in v1\.19\+/);
      assert.match(none.stdout, /^NAME\s+STATUS\s+MESSAGE\s+ERROR$/m);
      assert.match(none.stdout, /^scheduler\s+Unhealthy\s+no scheduler has taken the Lease kube-system\/kube-scheduler: none runs/m);
      assert.match(none.stdout, /^controller-manager\s+Unhealthy\s+no controller-manager has taken the Lease kube-system\/kube-controller-manager/m);
      assert.match(none.stdout, /^memory\s+Healthy\s+ok\s*$/m);
      // A holder that renews makes the scheduler healthy; one that stopped renewing does not.
      const microTime = (ms: number): string => new Date(ms).toISOString().replace("Z", "000Z");
      const leaseYaml = (name: string, renewed: number): string =>
        `apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: ${name}\n  namespace: kube-system\nspec:\n  holderIdentity: host_1\n  leaseDurationSeconds: 15\n  renewTime: "${microTime(renewed)}"\n`;
      ok(await k(["apply", "-f", "-"], leaseYaml("kube-scheduler", Date.now()) + "---\n" + leaseYaml("kube-controller-manager", Date.now() - 5 * 60_000)), "apply leases");
      assert.match(ok(await k(["get", "cs", "scheduler"]), "get cs scheduler"), /^scheduler\s+Healthy\s+ok\s*$/m);
      assert.match(ok(await k(["get", "componentstatus", "controller-manager"]), "get cs controller-manager"), /^controller-manager\s+Unhealthy\s+the Lease kube-system\/kube-controller-manager held by host_1 was last renewed 5m\d*s? ago; it lasts 15s$/m);
      const yaml = ok(await k(["get", "cs", "scheduler", "-o", "yaml"]), "get cs -o yaml");
      assert.match(yaml, /^kind: ComponentStatus$/m);
      assert.match(yaml, /^- message: ok\n {2}status: "True"\n {2}type: Healthy$/m);
      assert.match((await k(["get", "cs", "nope"])).stderr, /Error from server \(NotFound\): componentstatuses "nope" not found/);
      assert.match((await k(["delete", "cs", "scheduler"])).stderr, /Error from server \(MethodNotAllowed\): delete is not supported on resources of kind "componentstatuses"/);
      assert.match((await k(["get", "--raw", "/api/v1/namespaces/default/componentstatuses"])).stderr, /Error from server \(NotFound\): the server could not find the requested resource/);
    });

    it("reports bad input as upstream does", async () => {
      const file = join(dir, "bad.yaml");
      writeFileSync(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n");
      const bad = await k(["apply", "-f", file]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /is invalid: metadata.name: Invalid value: "Bad_Name"/);
      writeFileSync(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\ndata:\n  a: b\nbogus: 1\n");
      const strict = await k(["apply", "-f", file]);
      assert.notEqual(strict.code, 0);
      assert.match(strict.stderr, /unknown field "bogus"/);
      const missing = await k(["get", "deploy", "nope"]);
      assert.match(missing.stderr, /Error from server \(NotFound\): deployments.apps "nope" not found/);
    });
  });
}
