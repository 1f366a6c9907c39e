// DaemonSets end to end with the official kubectl: `k8ts server` (controllers and scheduler
// embedded) and two simulated nodes (`--immediate-deletion`, so a replaced pod is gone at
// once). A DaemonSet puts one pod on each node, pinned by a matchFields term; `kubectl set
// image` rolls them one node at a time (maxUnavailable 1) with `rollout status` following;
// `rollout history` lists both revisions and `rollout undo` brings the first template back as
// revision 3.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.js";
import { kubectlOk, kubectlRunner, type Kubectl } from "../../src/testing/apiserver.js";
import { K8tsProcesses } from "../../src/testing/process.js";
import { freePort } from "../../src/testing/net.js";

const logLevel = process.env["K8TS_TEST_LOG"] ?? "warn";

void describe("DaemonSets with kubectl", () => {
  let dir: string;
  const procs = new K8tsProcesses();
  let run: Kubectl;
  const ok = (a: readonly string[], stdin?: string): Promise<string> => kubectlOk(run, a, stdin);
  const pods = async (): Promise<Pod[]> => (JSON.parse(await ok(["get", "pods", "-l", "app=agent", "-o", "json"])) as { items: Pod[] }).items;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-e2e-ds-"));
    const kubeconfig = join(dir, "admin.kubeconfig");
    run = kubectlRunner(kubeconfig, join(dir, "kubectl-cache"), dir, 120_000);
    const port = await freePort();
    await procs.start("k8ts server", ["server", "--data-dir", dir, "--port", String(port), "--store", "memory://", "--disable-agent", "--disable-addons", "--log-level", logLevel], "k8ts server ready");
    await procs.start("sim-nodes", ["sim-nodes", "--kubeconfig", kubeconfig, "--count", "2", "--ready-delay", "0s", "--immediate-deletion", "--log-level", logLevel], "sim-nodes ready");
  });

  after(async () => {
    await procs.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  void it("runs one pod per node, rolls a new image, and undoes it", { timeout: 180_000 }, async () => {
    await ok(
      ["apply", "-f", "-"],
      JSON.stringify({
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: { name: "agent" },
        spec: {
          selector: { matchLabels: { app: "agent" } },
          template: { metadata: { labels: { app: "agent" } }, spec: { tolerations: [{ key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" }], containers: [{ name: "c", image: "busybox:1.35" }] } },
        },
      }),
    );
    assert.match(await ok(["rollout", "status", "ds/agent", "--timeout=60s"]), /daemon set "agent" successfully rolled out/);
    const first = await pods();
    assert.deepEqual(first.map((p) => p.spec?.nodeName).sort(), ["sim-0", "sim-1"]);
    for (const p of first) {
      const terms = p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
      assert.deepEqual(terms, [{ matchFields: [{ key: "metadata.name", operator: "In", values: [p.spec?.nodeName ?? ""] }] }]);
    }
    assert.match(await ok(["get", "ds", "agent"]), /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\nagent\s+2\s+2\s+2\s+2\s+2\s+<none>\s+/);

    await ok(["set", "image", "ds/agent", "c=busybox:1.36"]);
    assert.match(await ok(["rollout", "status", "ds/agent", "--timeout=90s"]), /successfully rolled out/);
    assert.deepEqual((await pods()).map((p) => p.spec?.containers[0]?.image), ["busybox:1.36", "busybox:1.36"]);
    assert.match(await ok(["rollout", "history", "ds/agent"]), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);

    await ok(["rollout", "undo", "ds/agent"]);
    assert.match(await ok(["rollout", "status", "ds/agent", "--timeout=90s"]), /successfully rolled out/);
    assert.deepEqual((await pods()).map((p) => p.spec?.containers[0]?.image), ["busybox:1.35", "busybox:1.35"]);
    assert.match(await ok(["rollout", "history", "ds/agent"]), /REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);
  });
});
