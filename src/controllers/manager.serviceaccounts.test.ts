// --use-service-account-credentials against a real server authorizing with Node,RBAC: the
// manager runs as system:kube-controller-manager (a client certificate from the cluster CA, as
// kubeadm gives it), creates each controller's account in kube-system, and every controller's
// requests carry its account's token. The audit log shows who made each request; no request of
// a controller may be refused (a 403 there is a missing permission in the bootstrap policy).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import type { AuditEvent } from "../apiserver/filters/audit.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { until } from "../testing/wait.js";
import { buildKubeconfig, writeKubeconfig } from "../util/kubeconfig.js";
import { pino } from "pino";
import { clusterPKIPaths, createCertificateRequest, issueCertificate } from "../util/pki.js";
import { builtinControllers, compileControllerManagerOptions, ControllerManager, controllerServiceAccount } from "./manager.js";
import { serviceAccountUser } from "./satokens.js";

/** The manager's warnings and errors, kept: a refused request shows there (code 403). */
const logged: Record<string, unknown>[] = [];
const log = pino({ level: "warn" }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
const refusals = (): string[] =>
  logged
    .map((l) => `${String(l["controller"] ?? l["component"])}: ${JSON.stringify(l["error"] ?? l["err"] ?? l["msg"])}`)
    // RBAC's refusal names the verb and resource; admission's (quota, a terminating namespace) do not.
    .filter((line) => /cannot [a-z]+ (resource|path)|\b401\b|Unauthorized/.test(line));
const UA_PREFIX = "k8ts-controller-manager/";

void describe("controllers under their own ServiceAccounts", () => {
  let srv: TestApiServer;
  let admin: RestClient;
  let manager: ControllerManager | undefined;
  const audit: AuditEvent[] = [];

  before(async () => {
    srv = await startTestApiServer({ authorizationModes: ["Node", "RBAC"], auditSink: { record: (e) => void audit.push(e) } });
    admin = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    const paths = clusterPKIPaths(srv.dataDir);
    const ca = { certPem: readFileSync(paths.caCert, "utf8"), keyPem: readFileSync(paths.caKey, "utf8") };
    const cert = await issueCertificate(ca, { commonName: "system:kube-controller-manager", usages: "client", validityDays: 1 });
    const kubeconfig = join(srv.dataDir, "controller-manager.kubeconfig");
    await writeKubeconfig(kubeconfig, buildKubeconfig({ clusterName: "k8ts", server: srv.url, caPem: ca.certPem, userName: "system:kube-controller-manager", clientCertPem: cert.certPem, clientKeyPem: cert.keyPem, contextName: "default" }));
    manager = new ControllerManager(
      compileControllerManagerOptions({
        kubeconfig,
        useServiceAccountCredentials: true,
        clusterSigningCert: ca.certPem,
        clusterSigningKey: ca.keyPem,
        serve: false,
        qps: 1000,
        burst: 1000,
        leaseDurationMs: 3_000,
        renewDeadlineMs: 2_000,
        retryPeriodMs: 500,
        log,
      }),
    );
    await manager.start();
    assert.ok(await manager.waitUntilLeading(AbortSignal.timeout(30_000)), "the manager leads");
  });

  after(async () => {
    await manager?.stop();
    admin?.close();
    await srv?.stop();
  });

  /** Requests a controller made (its client's user agent names it), with who made them. */
  const byController = (name: string): AuditEvent[] => audit.filter((e) => e.userAgent?.startsWith(UA_PREFIX) && e.userAgent.endsWith(`/${name}`));

  void it("creates every controller's account in kube-system", async () => {
    const accounts = new Set(builtinControllers().map(controllerServiceAccount));
    const list = await admin.forKind("v1", "ServiceAccount").namespace("kube-system").list();
    const have = new Set(list.items.map((sa) => sa.metadata?.name));
    for (const a of accounts) assert.ok(have.has(a), `kube-system/${a}`);
    const lease = await admin.forKind("coordination.k8s.io/v1", "Lease").namespace("kube-system").get("kube-controller-manager");
    assert.ok(lease.spec?.holderIdentity, "leader election runs as the manager itself");
    const tokenRequests = audit.filter((e) => e.objectRef?.subresource === "token" && e.objectRef.namespace === "kube-system");
    assert.ok(tokenRequests.length >= accounts.size);
    for (const e of tokenRequests) assert.equal(e.user.username, "system:kube-controller-manager");
  });

  void it("rolls a Deployment out to a ReplicaSet and Pods, each written by its controller's account", async () => {
    await admin.forKind("v1", "Namespace").create({ metadata: { name: "sa-creds" } });
    const labels = { app: "web" };
    await admin.forKind("apps/v1", "Deployment").namespace("sa-creds").create({
      metadata: { name: "web" },
      spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } } },
    });
    await until("two pods", async () => ((await admin.forKind("v1", "Pod").namespace("sa-creds").list()).items.length === 2 ? true : undefined), 30_000);
    await until("the deployment's status", async () => ((await admin.forKind("apps/v1", "Deployment").namespace("sa-creds").get("web")).status?.replicas === 2 ? true : undefined), 30_000);
    const rsCreate = audit.find((e) => e.verb === "create" && e.objectRef?.resource === "replicasets" && e.objectRef.namespace === "sa-creds");
    assert.equal(rsCreate?.user.username, serviceAccountUser("kube-system", "deployment-controller"));
    const podCreates = audit.filter((e) => e.verb === "create" && e.objectRef?.resource === "pods" && e.objectRef.namespace === "sa-creds");
    assert.equal(podCreates.length, 2);
    for (const e of podCreates) assert.equal(e.user.username, serviceAccountUser("kube-system", "replicaset-controller"));
    const sa = await until("the namespace's default account", () => admin.forKind("v1", "ServiceAccount").namespace("sa-creds").get("default"));
    assert.ok(sa.metadata?.uid);
    await until("kube-root-ca.crt", () => admin.forKind("v1", "ConfigMap").namespace("sa-creds").get("kube-root-ca.crt"));
  });

  void it("signs and cleans certificate requests as certificate-controller", async () => {
    const { csrPem } = await createCertificateRequest({ commonName: "alice", organizations: ["devs"] });
    await admin.forKind("certificates.k8s.io/v1", "CertificateSigningRequest").create({
      metadata: { name: "alice" },
      spec: { request: Buffer.from(csrPem).toString("base64"), signerName: "kubernetes.io/kube-apiserver-client", usages: ["client auth"] },
    });
    const csrs = admin.forKind("certificates.k8s.io/v1", "CertificateSigningRequest");
    const csr = await csrs.get("alice");
    await csrs.subresource("PUT", "alice", "approval", { ...csr, status: { conditions: [{ type: "Approved", status: "True", reason: "Test", message: "approved by the test" }] } });
    await until("the certificate", async () => ((await csrs.get("alice")).status?.certificate ? true : undefined), 30_000);
    const signed = audit.find((e) => e.objectRef?.resource === "certificatesigningrequests" && e.objectRef.subresource === "status" && e.verb === "update");
    assert.equal(signed?.user.username, serviceAccountUser("kube-system", "certificate-controller"));
  });

  void it("runs the other controllers' work without a refusal", async () => {
    const ns = "sa-more";
    await admin.forKind("v1", "Namespace").create({ metadata: { name: ns } });
    const labels = { app: "x" };
    const template = { metadata: { labels }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } };
    await admin.forKind("v1", "Node").create({ metadata: { name: "n1" } });
    await admin.forKind("batch/v1", "Job").namespace(ns).create({ metadata: { name: "j" }, spec: { template: { ...template, spec: { ...template.spec, restartPolicy: "Never" } } } });
    await admin.forKind("apps/v1", "StatefulSet").namespace(ns).create({
      metadata: { name: "s" },
      spec: { replicas: 1, serviceName: "s", selector: { matchLabels: { app: "s" } }, template: { ...template, metadata: { labels: { app: "s" } } }, volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }] },
    });
    await admin.forKind("apps/v1", "DaemonSet").namespace(ns).create({ metadata: { name: "d" }, spec: { selector: { matchLabels: { app: "d" } }, template: { ...template, metadata: { labels: { app: "d" } } } } });
    await admin.forKind("v1", "Service").namespace(ns).create({ metadata: { name: "svc" }, spec: { selector: { app: "s" }, ports: [{ port: 80 }] } });
    await admin.forKind("policy/v1", "PodDisruptionBudget").namespace(ns).create({ metadata: { name: "pdb" }, spec: { minAvailable: 1, selector: { matchLabels: { app: "s" } } } });
    await admin.forKind("v1", "ResourceQuota").namespace(ns).create({ metadata: { name: "q" }, spec: { hard: { pods: "10" } } });
    await admin.forKind("v1", "PersistentVolume").create({ metadata: { name: "pv1" }, spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/tmp/pv1" } } });
    await admin.forKind("v1", "PersistentVolumeClaim").namespace(ns).create({ metadata: { name: "claim" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeName: "pv1", storageClassName: "" } });
    await admin.forKind("rbac.authorization.k8s.io/v1", "ClusterRole").create({ metadata: { name: "agg" }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "sa-test": "true" } }] } });
    await admin.forKind("rbac.authorization.k8s.io/v1", "ClusterRole").create({ metadata: { name: "agg-part", labels: { "sa-test": "true" } }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }] });

    await until("the job's pod", async () => ((await admin.forKind("v1", "Pod").namespace(ns).list({ labelSelector: "job-name=j" })).items.length === 1 ? true : undefined), 30_000);
    await until("the stateful pod and its claim", async () => ((await admin.forKind("v1", "PersistentVolumeClaim").namespace(ns).list()).items.some((c) => c.metadata?.name === "data-s-0") && (await admin.forKind("v1", "Pod").namespace(ns).list({ labelSelector: "app=s" })).items.length === 1 ? true : undefined), 30_000);
    await until("the daemon pod", async () => ((await admin.forKind("v1", "Pod").namespace(ns).list({ labelSelector: "app=d" })).items.length === 1 ? true : undefined), 30_000);
    await until("the endpoint slice", async () => ((await admin.forKind("discovery.k8s.io/v1", "EndpointSlice").namespace(ns).list()).items.length > 0 ? true : undefined), 30_000);
    await until("the endpoints", () => admin.forKind("v1", "Endpoints").namespace(ns).get("svc"));
    await until("the budget's status", async () => ((await admin.forKind("policy/v1", "PodDisruptionBudget").namespace(ns).get("pdb")).status?.observedGeneration ? true : undefined), 30_000);
    await until("the quota's status", async () => ((await admin.forKind("v1", "ResourceQuota").namespace(ns).get("q")).status?.hard ? true : undefined), 30_000);
    await until("the claim bound", async () => ((await admin.forKind("v1", "PersistentVolumeClaim").namespace(ns).get("claim")).status?.phase === "Bound" ? true : undefined), 30_000);
    await until("the node's pod CIDR", async () => ((await admin.forKind("v1", "Node").get("n1")).spec?.podCIDR ? true : undefined), 30_000);
    await until("the aggregated role", async () => ((await admin.forKind("rbac.authorization.k8s.io/v1", "ClusterRole").get("agg")).rules?.length ? true : undefined), 30_000);

    // The garbage collector and the namespace controller: deleting the namespace empties it.
    await admin.forKind("apps/v1", "Deployment").namespace("sa-creds").delete("web");
    await until("the ReplicaSet collected", async () => ((await admin.forKind("apps/v1", "ReplicaSet").namespace("sa-creds").list()).items.length === 0 ? true : undefined), 30_000);
    await admin.forKind("v1", "Namespace").delete(ns);
    await until("the namespace gone", async () => {
      try {
        await admin.forKind("v1", "Namespace").get(ns);
        return undefined;
      } catch {
        return true;
      }
    }, 60_000);
    await admin.forKind("v1", "Node").delete("n1");
    assert.deepEqual(refusals(), []);
  });

  void it("signs cluster-info, cleans expired tokens, protects volumes and claims, makes ephemeral claims, serves load balancers", async () => {
    const ns = "sa-volumes";
    await admin.forKind("v1", "Namespace").create({ metadata: { name: ns } });
    // The bootstrap signer (roles in kube-public and kube-system) and the token cleaner.
    await admin.forKind("v1", "ConfigMap").namespace("kube-public").create({ metadata: { name: "cluster-info" }, data: { kubeconfig: "apiVersion: v1\nkind: Config\nclusters: []\n" } });
    const secret = (id: string, extra: Record<string, string>) => ({
      metadata: { name: `bootstrap-token-${id}` },
      type: "bootstrap.kubernetes.io/token",
      stringData: { "token-id": id, "token-secret": "0123456789abcdef", "usage-bootstrap-signing": "true", ...extra },
    });
    await admin.forKind("v1", "Secret").namespace("kube-system").create(secret("abcdef", {}));
    await admin.forKind("v1", "Secret").namespace("kube-system").create(secret("expird", { expiration: "2020-01-01T00:00:00Z" }));
    await until("the JWS signature", async () => ((await admin.forKind("v1", "ConfigMap").namespace("kube-public").get("cluster-info")).data?.["jws-kubeconfig-abcdef"] ? true : undefined), 30_000);
    await until("the expired token deleted", async () => {
      try {
        await admin.forKind("v1", "Secret").namespace("kube-system").get("bootstrap-token-expird");
        return undefined;
      } catch {
        return true;
      }
    }, 30_000);
    // PV and PVC protection, the ephemeral volume controller.
    await admin.forKind("v1", "PersistentVolume").create({ metadata: { name: "pv2" }, spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/tmp/pv2" } } });
    await until("the PV's finalizer", async () => ((await admin.forKind("v1", "PersistentVolume").get("pv2")).metadata?.finalizers?.includes("kubernetes.io/pv-protection") ? true : undefined), 30_000);
    await admin.forKind("v1", "Pod").namespace(ns).create({
      metadata: { name: "eph" },
      spec: {
        containers: [{ name: "c", image: "busybox:1.35", volumeMounts: [{ name: "scratch", mountPath: "/s" }] }],
        volumes: [{ name: "scratch", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } } } }],
      },
    });
    const claim = await until("the ephemeral claim", () => admin.forKind("v1", "PersistentVolumeClaim").namespace(ns).get("eph-scratch"));
    assert.equal(claim.metadata?.ownerReferences?.[0]?.name, "eph");
    await until("the claim's finalizer", async () => ((await admin.forKind("v1", "PersistentVolumeClaim").namespace(ns).get("eph-scratch")).metadata?.finalizers?.includes("kubernetes.io/pvc-protection") ? true : undefined), 30_000);
    // The service load balancer (upstream's service-controller account): no Ready node, so it only looks.
    await admin.forKind("v1", "Service").namespace(ns).create({ metadata: { name: "lb" }, spec: { type: "LoadBalancer", selector: { app: "x" }, ports: [{ port: 80 }] } });
    await admin.forKind("v1", "PersistentVolume").delete("pv2");
    await admin.forKind("v1", "Namespace").delete(ns);
    await until("the PV gone", async () => {
      try {
        await admin.forKind("v1", "PersistentVolume").get("pv2");
        return undefined;
      } catch {
        return true;
      }
    }, 30_000);
    assert.deepEqual(refusals(), []);
  });

  void it("every request a controller made was made as its account", () => {
    const accountOf = new Map(builtinControllers().map((k) => [k.name, controllerServiceAccount(k)]));
    let seen = 0;
    for (const [name, account] of accountOf) {
      for (const e of byController(name)) {
        seen++;
        assert.equal(e.user.username, serviceAccountUser("kube-system", account), `${name}: ${e.verb} ${e.requestURI}`);
      }
    }
    assert.ok(seen > 50, `${seen} requests`);
    // The shared informers list as the manager itself, also for the resources a controller names
    // with its own client (the daemon set controller's, the job controller's).
    for (const path of ["/apis/apps/v1/daemonsets", "/apis/apps/v1/controllerrevisions", "/apis/batch/v1/jobs", "/api/v1/pods", "/api/v1/nodes"]) {
      const lists = audit.filter((e) => e.verb === "list" && e.requestURI.split("?")[0] === path && e.userAgent?.startsWith(UA_PREFIX));
      assert.ok(lists.length > 0, path);
      for (const e of lists) assert.equal(e.user.username, "system:kube-controller-manager", `${path} by ${e.userAgent}`);
    }
    assert.deepEqual(refusals(), []);
  });
});
