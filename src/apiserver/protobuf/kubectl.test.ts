// The acid test: real kubectl binaries send their protobuf bodies to a small HTTPS server that
// captures them; our decoder must turn each into exactly the JSON kubectl itself prints for the
// same object with `--dry-run=client -o json`. The server answers just enough (version,
// discovery, the objects `kubectl drain` reads) for kubectl to reach its writes.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildKubeconfig, writeKubeconfig } from "../../util/kubeconfig.js";
import { ensureClusterPKI, type ClusterPKI } from "../../util/pki.js";
import { decodeProtobufObject, PROTOBUF_CONTENT_TYPE, ProtobufDecodeError } from "./decode.js";

const KUBECTL = process.env["KUBECTL"] ?? "/usr/bin/kubectl";
// Older kubectls (1.27-1.31 are installed too) send JSON; only these send protobuf besides 1.32.
const OTHER_KUBECTLS = ["1.33"]
  .map((v) => ({ version: v, path: `/usr/lib/google-cloud-sdk/bin/kubectl.${v}` }))
  .filter((k) => existsSync(k.path));

interface Captured {
  readonly method: string;
  readonly url: string;
  readonly contentType: string;
  readonly body: Buffer;
}

interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

type Json = Record<string, unknown>;

const resource = (name: string, kind: string, namespaced: boolean, extra: Json = {}): Json => ({
  name,
  singularName: name.includes("/") ? "" : kind.toLowerCase(),
  namespaced,
  kind,
  verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
  ...extra,
});

const DISCOVERY: Record<string, Json> = {
  "/api": { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1:443" }] },
  "/apis": {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: ["apps", "policy", "batch", "authorization.k8s.io", "authentication.k8s.io", "autoscaling", "certificates.k8s.io"].map((g) => ({
      name: g,
      versions: g === "autoscaling" ? [{ groupVersion: "autoscaling/v2", version: "v2" }, { groupVersion: "autoscaling/v1", version: "v1" }] : [{ groupVersion: `${g}/v1`, version: "v1" }],
      preferredVersion: g === "autoscaling" ? { groupVersion: "autoscaling/v2", version: "v2" } : { groupVersion: `${g}/v1`, version: "v1" },
    })),
  },
  "/api/v1": {
    kind: "APIResourceList",
    groupVersion: "v1",
    resources: [
      resource("pods", "Pod", true),
      resource("pods/eviction", "Eviction", true, { group: "policy", version: "v1", verbs: ["create"] }),
      resource("nodes", "Node", false),
      resource("configmaps", "ConfigMap", true),
      resource("secrets", "Secret", true),
      resource("services", "Service", true),
      resource("namespaces", "Namespace", false),
      resource("serviceaccounts", "ServiceAccount", true),
    ],
  },
  "/apis/apps/v1": {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: "apps/v1",
    resources: [resource("deployments", "Deployment", true), resource("deployments/scale", "Scale", true, { group: "autoscaling", version: "v1" }), resource("replicasets", "ReplicaSet", true)],
  },
  "/apis/autoscaling/v1": { kind: "APIResourceList", apiVersion: "v1", groupVersion: "autoscaling/v1", resources: [resource("horizontalpodautoscalers", "HorizontalPodAutoscaler", true)] },
  "/apis/autoscaling/v2": { kind: "APIResourceList", apiVersion: "v1", groupVersion: "autoscaling/v2", resources: [resource("horizontalpodautoscalers", "HorizontalPodAutoscaler", true)] },
  "/apis/policy/v1": { kind: "APIResourceList", apiVersion: "v1", groupVersion: "policy/v1", resources: [resource("poddisruptionbudgets", "PodDisruptionBudget", true)] },
  "/apis/authorization.k8s.io/v1": {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: "authorization.k8s.io/v1",
    resources: [resource("selfsubjectaccessreviews", "SelfSubjectAccessReview", false, { verbs: ["create"] })],
  },
  "/apis/authentication.k8s.io/v1": {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: "authentication.k8s.io/v1",
    resources: [resource("selfsubjectreviews", "SelfSubjectReview", false, { verbs: ["create"] })],
  },
  "/apis/certificates.k8s.io/v1": {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: "certificates.k8s.io/v1",
    resources: [resource("certificatesigningrequests", "CertificateSigningRequest", false), resource("certificatesigningrequests/approval", "CertificateSigningRequest", false, { verbs: ["update"] })],
  },
  "/apis/batch/v1": { kind: "APIResourceList", apiVersion: "v1", groupVersion: "batch/v1", resources: [resource("jobs", "Job", true), resource("cronjobs", "CronJob", true)] },
};

const CRONJOB = {
  kind: "CronJob",
  apiVersion: "batch/v1",
  metadata: { name: "cron1", namespace: "default", uid: "cron-uid" },
  spec: { schedule: "*/5 * * * *", jobTemplate: { spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: "busybox", command: ["date"] }] } } } } },
};

const DEPLOYMENT = {
  kind: "Deployment",
  apiVersion: "apps/v1",
  metadata: { name: "web", namespace: "default", uid: "dep-uid", labels: { app: "web" } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "busybox", ports: [{ containerPort: 8080 }] }] } },
  },
};

const NODE = { kind: "Node", apiVersion: "v1", metadata: { name: "n1", uid: "node-uid", resourceVersion: "1" }, spec: {} };
const CSR = {
  kind: "CertificateSigningRequest",
  apiVersion: "certificates.k8s.io/v1",
  metadata: { name: "csr1", uid: "csr-uid", resourceVersion: "5", creationTimestamp: "2024-01-01T00:00:00Z" },
  spec: {
    request: Buffer.from("not really a CSR\u0000\u00ff").toString("base64"),
    signerName: "kubernetes.io/kube-apiserver-client",
    expirationSeconds: 3600,
    usages: ["client auth"],
    username: "alice",
    groups: ["devs", "system:authenticated"],
    extra: { scopes: ["a", "b"] },
  },
  status: {},
};

/** Kubernetes 1.36's ObjectMeta leaves a zero creationTimestamp out (omitzero); kubectl 1.32 prints it as null. */
function dropNullCreationTimestamps(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNullCreationTimestamps);
  if (typeof v !== "object" || v === null) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === "creationTimestamp" && x === null) continue;
    out[k] = dropNullCreationTimestamps(x);
  }
  return out;
}

void describe("protobuf bodies from the official kubectl", () => {
  let dir: string;
  let pki: ClusterPKI;
  let server: Server;
  let kubeconfig: string;
  const captured: Captured[] = [];

  function respond(method: string, path: string, query: URLSearchParams, contentType: string, body: Buffer): [number, unknown] {
    if (method === "GET" && path === "/version") return [200, { major: "1", minor: "32", gitVersion: "v1.32.0" }];
    if (method === "GET" && Object.hasOwn(DISCOVERY, path)) return [200, DISCOVERY[path]];
    if (method === "GET" && path === "/api/v1/nodes/n1") return [200, NODE];
    if (method === "GET" && path === "/apis/batch/v1/namespaces/default/cronjobs/cron1") return [200, CRONJOB];
    if (method === "GET" && path === "/apis/apps/v1/namespaces/default/deployments/web") return [200, DEPLOYMENT];
    if (method === "GET" && path === "/apis/certificates.k8s.io/v1/certificatesigningrequests/csr1") return [200, CSR];
    if (method === "POST" || method === "PUT") {
      try {
        const { kind, object } = contentType === PROTOBUF_CONTENT_TYPE ? decodeProtobufObject(body) : { kind: "", object: JSON.parse(body.toString("utf8")) as Json };
        if (kind === "TokenRequest") return [201, { ...object, status: { token: "t0k3n", expirationTimestamp: "2030-01-01T00:00:00Z" } }];
        if (kind === "SelfSubjectAccessReview") return [201, { ...object, status: { allowed: true } }];
        if (kind === "SelfSubjectReview") return [201, { ...object, status: { userInfo: { username: "admin", groups: ["system:masters"] } } }];
        return [201, object];
      } catch (err) {
        if (err instanceof ProtobufDecodeError) return [err.httpStatus, status(err.httpStatus, "BadRequest", err.message)];
        throw err;
      }
    }
    return [404, status(404, "NotFound", "the server could not find the requested resource")];
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "k8ts-pb-kubectl-"));
    pki = await ensureClusterPKI(dir);
    server = createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const url = new URL(req.url ?? "/", "https://localhost");
        const contentType = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
        if (req.method !== "GET") captured.push({ method: req.method ?? "", url: req.url ?? "", contentType, body });
        const [code, payload] = respond(req.method ?? "", url.pathname, url.searchParams, contentType, body);
        res.writeHead(code, { "content-type": "application/json" });
        res.end(JSON.stringify(payload));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    kubeconfig = join(dir, "kubeconfig");
    await writeKubeconfig(
      kubeconfig,
      buildKubeconfig({ clusterName: "pb", server: `https://127.0.0.1:${port}`, caPem: pki.ca.certPem, userName: "admin", clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem, contextName: "pb" }),
    );
  });

  after(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function kubectl(args: readonly string[], binary = KUBECTL): Promise<KubectlResult> {
    return new Promise((resolve) => {
      execFile(
        binary,
        ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, `cache-${binary.replace(/\W/g, "_")}`), ...args],
        { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir }, timeout: 60_000, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  /** Runs kubectl and returns the one protobuf write it made. */
  async function captureWrite(args: readonly string[], binary = KUBECTL): Promise<Captured> {
    const from = captured.length;
    const r = await kubectl(args, binary);
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    const writes = captured.slice(from).filter((c) => c.method === "POST" || c.method === "PUT");
    assert.equal(writes.length, 1, `kubectl ${args.join(" ")} made ${writes.length} writes`);
    assert.equal(writes[0]!.contentType, PROTOBUF_CONTENT_TYPE);
    return writes[0]!;
  }

  /** kubectl's own JSON for the object it would send. */
  async function clientDryRun(args: readonly string[], binary = KUBECTL): Promise<unknown> {
    const dash = args.indexOf("--");
    const withFlags = dash < 0 ? [...args, "--dry-run=client", "-o", "json"] : [...args.slice(0, dash), "--dry-run=client", "-o", "json", ...args.slice(dash)];
    const r = await kubectl(withFlags, binary);
    assert.equal(r.code, 0, `kubectl ${withFlags.join(" ")}: ${r.stderr}`);
    return dropNullCreationTimestamps(JSON.parse(r.stdout));
  }

  async function assertDecodesLikeKubectl(args: readonly string[], binary = KUBECTL): Promise<Json> {
    const write = await captureWrite(args, binary);
    const decoded = decodeProtobufObject(write.body).object;
    assert.deepEqual(decoded, await clientDryRun(args, binary), `kubectl ${args.join(" ")}`);
    return decoded;
  }

  void it("decodes `kubectl create configmap foo --from-literal=a=b --dry-run=server`", async () => {
    const write = await captureWrite(["create", "configmap", "foo", "--from-literal=a=b", "--dry-run=server"]);
    assert.match(write.url, /^\/api\/v1\/namespaces\/default\/configmaps\?.*dryRun=All/);
    const decoded = decodeProtobufObject(write.body);
    assert.equal(decoded.apiVersion, "v1");
    assert.equal(decoded.kind, "ConfigMap");
    assert.deepEqual(decoded.object, { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "foo" }, data: { a: "b" } });
  });

  const creates: Array<readonly string[]> = [
    ["create", "namespace", "team-a"],
    ["create", "configmap", "cm", "--from-literal=a=b", "--from-literal=empty="],
    ["create", "deployment", "web", "--image=busybox:1.35", "--replicas=3", "--", "httpd", "-f", "-p", "8080"],
    ["create", "deployment", "two", "--image=busybox", "--image=nginx", "--port=80", "--replicas=0"],
    ["create", "secret", "generic", "gen", "--from-literal=user=admin", "--type=Opaque"],
    ["create", "secret", "docker-registry", "reg", "--docker-username=u", "--docker-password=p", "--docker-server=registry.example"],
    ["create", "service", "clusterip", "svc", "--tcp=80:8080", "--tcp=443:https"],
    ["create", "service", "clusterip", "headless", "--clusterip=None"],
    ["create", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"],
    ["create", "service", "loadbalancer", "lb", "--tcp=5678:8080"],
    ["create", "service", "externalname", "en", "--external-name=example.com"],
    ["create", "job", "job1", "--image=busybox", "--", "echo", "hi"],
    ["create", "cronjob", "cron1", "--image=busybox", "--schedule=*/5 * * * *", "--restart=OnFailure", "--", "date"],
    ["create", "role", "r1", "--verb=get,list,watch", "--resource=pods,deployments.apps", "--resource-name=a"],
    ["create", "rolebinding", "rb1", "--role=r1", "--user=alice", "--group=devs", "--serviceaccount=default:sa1"],
    ["create", "clusterrole", "cr1", "--verb=get", "--resource=nodes", "--non-resource-url=/healthz"],
    ["create", "clusterrole", "agg", "--aggregation-rule=rbac.example.com/aggregate-to-monitoring=true"],
    ["create", "clusterrolebinding", "crb1", "--clusterrole=cr1", "--user=bob"],
    ["create", "quota", "q1", "--hard=cpu=1,memory=1Gi,pods=10,requests.storage=500Mi", "--scopes=NotTerminating"],
    ["create", "poddisruptionbudget", "pdb1", "--selector=app=web", "--min-available=50%"],
    ["create", "poddisruptionbudget", "pdb2", "--selector=app=web", "--max-unavailable=1"],
    ["create", "priorityclass", "high", "--value=1000", "--description=important", "--preemption-policy=Never"],
    ["create", "priorityclass", "zero", "--value=0", "--global-default=true"],
    ["create", "ingress", "ing", "--class=default", "--rule=foo.com/bar=svc1:8080,tls=my-cert", "--rule=bar.com/*=svc2:http", "--annotation=a=b", "--default-backend=def:80"],
    ["create", "serviceaccount", "sa1"],
  ];
  for (const args of creates) {
    void it(`decodes kubectl ${args.slice(0, args[0] === "run" ? 1 : 3).join(" ")} exactly as kubectl prints it (${args.slice(2).join(" ")})`, async () => {
      await assertDecodesLikeKubectl(args);
    });
  }

  void it("decodes a Secret with binary file data and a TLS secret", async () => {
    const bin = join(dir, "blob.bin");
    await writeFile(bin, Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    const generic = await assertDecodesLikeKubectl(["create", "secret", "generic", "blob", `--from-file=blob=${bin}`]);
    assert.equal(Buffer.from((generic["data"] as Json)["blob"] as string, "base64").length, 256);
    await assertDecodesLikeKubectl(["create", "secret", "tls", "tls1", `--cert=${pki.paths.serverCert}`, `--key=${pki.paths.serverKey}`]);
  });

  void it("decodes `kubectl create token` (authentication.k8s.io/v1 TokenRequest)", async () => {
    const write = await captureWrite(["create", "token", "sa1", "--duration=10m", "--audience=api", "--audience=vault"]);
    assert.match(write.url, /^\/api\/v1\/namespaces\/default\/serviceaccounts\/sa1\/token/);
    assert.deepEqual(decodeProtobufObject(write.body).object, {
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: {},
      spec: { audiences: ["api", "vault"], expirationSeconds: 600, boundObjectRef: null },
      status: { token: "", expirationTimestamp: null },
    });
  });

  void it("decodes the reviews `kubectl auth can-i` and `kubectl auth whoami` post", async () => {
    const sar = await captureWrite(["auth", "can-i", "get", "deployments.apps", "--subresource=scale", "-n", "kube-system"]);
    assert.deepEqual(decodeProtobufObject(sar.body).object, {
      kind: "SelfSubjectAccessReview",
      apiVersion: "authorization.k8s.io/v1",
      metadata: {},
      spec: { resourceAttributes: { namespace: "kube-system", verb: "get", group: "apps", resource: "deployments", subresource: "scale" } },
      status: { allowed: false },
    });
    const ssr = await captureWrite(["auth", "whoami"]);
    assert.deepEqual(decodeProtobufObject(ssr.body).object, { kind: "SelfSubjectReview", apiVersion: "authentication.k8s.io/v1", metadata: {}, status: { userInfo: {} } });
  });

  void it("decodes the Job `kubectl create job --from=cronjob/...` and the HPA `kubectl autoscale` send", async () => {
    const job = await assertDecodesLikeKubectl(["create", "job", "manual", "--from=cronjob/cron1"]);
    assert.deepEqual((job["metadata"] as Json)["ownerReferences"], [{ apiVersion: "batch/v1", kind: "CronJob", name: "cron1", uid: "cron-uid", controller: true }]);
    await assertDecodesLikeKubectl(["autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=60"]);
  });

  void it("decodes the node debugging Pod `kubectl debug node/...` creates", async () => {
    const write = await captureWrite(["debug", "node/n1", "--image=busybox", "--profile=general"]);
    const pod = decodeProtobufObject(write.body).object;
    const meta = pod["metadata"] as Json;
    assert.match(meta["name"] as string, /^node-debugger-n1-[a-z0-9]{5}$/);
    assert.deepEqual({ ...pod, metadata: { ...meta, name: "X" } }, {
      kind: "Pod",
      apiVersion: "v1",
      metadata: { name: "X" },
      spec: {
        volumes: [{ name: "host-root", hostPath: { path: "/" } }],
        containers: [{ name: "debugger", image: "busybox", resources: {}, volumeMounts: [{ name: "host-root", mountPath: "/host" }], terminationMessagePolicy: "File" }],
        restartPolicy: "Never",
        nodeName: "n1",
        hostNetwork: true,
        hostPID: true,
        hostIPC: true,
        tolerations: [{ operator: "Exists" }],
      },
      status: {},
    });
  });

  void it("decodes the CertificateSigningRequest `kubectl certificate approve` puts", async () => {
    const write = await captureWrite(["certificate", "approve", "csr1"]);
    assert.equal(write.method, "PUT");
    assert.equal(write.url.split("?")[0], "/apis/certificates.k8s.io/v1/certificatesigningrequests/csr1/approval");
    const csr = decodeProtobufObject(write.body).object;
    const conditions = (csr["status"] as Json)["conditions"] as Json[];
    assert.equal(conditions.length, 1);
    assert.match(conditions[0]!["lastUpdateTime"] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual({ ...conditions[0], lastUpdateTime: "T" }, {
      type: "Approved",
      status: "True",
      reason: "KubectlApprove",
      message: "This CSR was approved by kubectl certificate approve.",
      lastUpdateTime: "T",
      // A zero metav1.Time is a struct, so omitempty keeps it, as null.
      lastTransitionTime: null,
    });
    assert.deepEqual(csr["spec"], CSR.spec);
    assert.deepEqual(csr["metadata"], CSR.metadata);
  });

  for (const { version, path } of OTHER_KUBECTLS) {
    void it(`decodes kubectl ${version}'s Deployment, Service and Secret bodies (when it sends protobuf)`, async (t) => {
      const from = captured.length;
      const probe = await kubectl(["create", "namespace", `probe-${version.replace(".", "-")}`], path);
      assert.equal(probe.code, 0, probe.stderr);
      const write = captured.slice(from).find((c) => c.method === "POST");
      if (write?.contentType !== PROTOBUF_CONTENT_TYPE) {
        // kubectl sends typed-client writes as protobuf only from 1.32 on.
        t.skip(`kubectl ${version} sends ${write?.contentType ?? "nothing"}`);
        return;
      }
      await assertDecodesLikeKubectl(["create", "deployment", "web", "--image=busybox:1.35", "--replicas=2", "--port=8080", "--", "httpd", "-f"], path);
      await assertDecodesLikeKubectl(["create", "service", "nodeport", "np", "--tcp=80:http"], path);
      await assertDecodesLikeKubectl(["create", "secret", "generic", "s", "--from-literal=k=v"], path);
    });
  }
});

function status(code: number, reason: string, message: string): Json {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}
