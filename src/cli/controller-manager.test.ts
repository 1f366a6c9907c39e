// `k8ts controller-manager` as its own process through bin/k8ts: it serves /healthz, acts on
// the cluster, holds the lease, and exits cleanly on SIGTERM; bad flags are refused.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCA } from "../util/pki.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { createClientFromKubeconfig, type RestClient } from "../client/rest.js";
import { createLogger } from "../util/log.js";
import { controllerManagerOptionsFromFlags, type ControllerManagerFlags } from "./controller-manager-action.js";
import { until } from "../testing/wait.js";
import { freePort } from "../testing/net.js";
import { httpGet } from "../testing/http.js";
import { K8TS_CLI, K8tsProcess } from "../testing/process.js";

const defaults: ControllerManagerFlags = {
  kubeconfig: "/k",
  controllers: "*",
  leaderElect: true,
  leaderElectLeaseDuration: "15s",
  leaderElectRenewDeadline: "10s",
  leaderElectRetryPeriod: "2s",
  leaderElectResourceNamespace: "kube-system",
  leaderElectResourceName: "kube-controller-manager",
  leaderElectResourceLock: "leases",
  bindAddress: "127.0.0.1",
  securePort: "10257",
  kubeApiQps: "20",
  kubeApiBurst: "30",
  concurrentDeploymentSyncs: "5",
  concurrentReplicasetSyncs: "5",
  concurrentRcSyncs: "5",
  concurrentGcSyncs: "20",
  concurrentNamespaceSyncs: "10",
  logLevel: "silent",
};

void describe("controller-manager flags", () => {
  const log = createLogger("silent");
  void it("parse Go durations, booleans and port 0 as upstream does", () => {
    const o = controllerManagerOptionsFromFlags({ ...defaults, leaderElect: "false", leaderElectLeaseDuration: "1m", leaderElectRenewDeadline: "30s", leaderElectRetryPeriod: "500ms", securePort: "0", concurrentGcSyncs: "3" }, log);
    assert.deepEqual([o.leaderElect, o.leaseDurationMs, o.renewDeadlineMs, o.retryPeriodMs, o.serve], [false, 60_000, 30_000, 500, false]);
    assert.equal(o.enabled.find((e) => e.controller.name === "garbage-collector-controller")?.workers, 3);
    assert.equal(o.useServiceAccountCredentials, false, "off by default, as upstream");
    assert.equal(controllerManagerOptionsFromFlags({ ...defaults, useServiceAccountCredentials: true }, log).useServiceAccountCredentials, true);
    assert.equal(controllerManagerOptionsFromFlags({ ...defaults, useServiceAccountCredentials: "true" }, log).useServiceAccountCredentials, true);
    assert.throws(() => controllerManagerOptionsFromFlags({ ...defaults, useServiceAccountCredentials: "yes" }, log), /invalid argument "yes" for --use-service-account-credentials/);
  });
  void it("refuse bad values with the flag named", () => {
    assert.throws(() => controllerManagerOptionsFromFlags({ ...defaults, leaderElect: "maybe" }, log), /--leader-elect/);
    assert.throws(() => controllerManagerOptionsFromFlags({ ...defaults, leaderElectLeaseDuration: "15" }, log), /--leader-elect-lease-duration: time: missing unit in duration "15"/);
    assert.throws(() => controllerManagerOptionsFromFlags({ ...defaults, leaderElectResourceLock: "endpoints" }, log), /only "leases"/);
    assert.throws(() => controllerManagerOptionsFromFlags({ ...defaults, controllers: "*,-bogus" }, log), /"bogus" is not in the list of known controllers/);
    assert.throws(() => controllerManagerOptionsFromFlags({ ...defaults, clusterSigningDuration: "1y" }, log), /--cluster-signing-duration/);
    assert.throws(() => controllerManagerOptionsFromFlags({ ...defaults, clusterSigningKeyFile: "/nonexistent/ca.key" }, log), /--cluster-signing-key-file: ENOENT/);
  });
  void it("read the cluster signing pair and refuse a key of another pair", async () => {
    const dir = await mkdtemp(join(tmpdir(), "k8ts-cm-"));
    try {
      const [a, b] = [await createCA("a"), await createCA("b")];
      await writeFile(join(dir, "a.crt"), a.certPem);
      await writeFile(join(dir, "a.key"), a.keyPem);
      await writeFile(join(dir, "b.key"), b.keyPem);
      const o = controllerManagerOptionsFromFlags({ ...defaults, clusterSigningCertFile: join(dir, "a.crt"), clusterSigningKeyFile: join(dir, "a.key"), clusterSigningDuration: "24h" }, log);
      assert.ok(o.enabled.some((e) => e.controller.name === "csrsigning-controller" && e.workers === 5));
      assert.ok(o.enabled.some((e) => e.controller.name === "certificatesigningrequest-cleaner-controller"));
      assert.throws(() => controllerManagerOptionsFromFlags({ ...defaults, clusterSigningCertFile: join(dir, "a.crt"), clusterSigningKeyFile: join(dir, "b.key") }, log), /cluster signing certificate and key: the private key does not match the certificate/);
      assert.throws(() => controllerManagerOptionsFromFlags({ ...defaults, clusterSigningKeyFile: join(dir, "a.key") }, log), /without --cluster-signing-cert-file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

void describe("k8ts controller-manager (process)", () => {
  let srv: TestApiServer;
  let client: RestClient;
  let manager: K8tsProcess | undefined;

  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
  });

  after(async () => {
    await manager?.stop("SIGKILL");
    client?.close();
    await srv?.stop();
  });

  void it("serves /healthz, takes the lease, acts, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    manager = K8tsProcess.start("k8ts controller-manager", ["controller-manager", "--kubeconfig", srv.kubeconfig, "--secure-port", String(port), "--log-level", "warn"]);

    await until("healthz", async () => ((await httpGet(`http://127.0.0.1:${port}/healthz`)).status === 200 ? true : undefined));
    await manager.ready("k8ts controller-manager started");
    assert.match(manager.out, /k8ts controller-manager started \(.*garbage-collector-controller.*\); health and metrics at http:\/\/127\.0\.0\.1:\d+/);
    const lease = await until("the lease", () => client.forKind("coordination.k8s.io/v1", "Lease").namespace("kube-system").get("kube-controller-manager"));
    assert.ok(lease.spec?.holderIdentity);
    await client.forKind("v1", "Namespace").create({ metadata: { name: "cli" } });
    await until("default ServiceAccount", () => client.forKind("v1", "ServiceAccount").namespace("cli").get("default"));

    const code = await manager.stop("SIGTERM");
    assert.equal(code, 0, manager.err);
    // Stopping released the lease, so a successor need not wait for it to expire.
    const released = await client.forKind("coordination.k8s.io/v1", "Lease").namespace("kube-system").get("kube-controller-manager");
    assert.equal(released.spec?.holderIdentity ?? "", "");
  });

  void it("refuses unknown controllers with exit code 1", async () => {
    const r = await new Promise<{ code: number; stderr: string }>((done) =>
      execFile(process.execPath, [K8TS_CLI, "controller-manager", "--kubeconfig", srv.kubeconfig, "--controllers", "*,-bogus"], { timeout: 30_000 }, (err, _o, stderr) =>
        done({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stderr }),
      ),
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /"bogus" is not in the list of known controllers/);
  });
});
