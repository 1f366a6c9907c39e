// Node IPAM in the controller-manager against a real API server: nodes registered without a
// podCIDR get distinct blocks, a node registered with one keeps it, a deleted node's block is
// reused once the range is full, and a restarted manager does not hand out a block in use.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Node } from "kubernetes-types/core/v1.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { controllerManagerOptionsFromFlags } from "../../cli/controller-manager-action.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { until } from "../../testing/wait.js";
import { createLogger } from "../../util/log.js";
import { compileControllerManagerOptions, ControllerManager, ControllerManagerError } from "../manager.js";
import { NODE_IPAM_CONTROLLER } from "./index.js";

const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");

void describe("node IPAM in the controller-manager", () => {
  void it("is on by default, off with allocateNodeCIDRs false, and refuses a bad --cluster-cidr", () => {
    const enabled = (o: Parameters<typeof compileControllerManagerOptions>[0]): boolean => compileControllerManagerOptions(o).enabled.some((e) => e.controller.name === NODE_IPAM_CONTROLLER);
    assert.equal(enabled({ kubeconfig: "k", log }), true);
    assert.equal(enabled({ kubeconfig: "k", log, controllers: ["*", "-nodeipam"] }), false);
    assert.equal(enabled({ kubeconfig: "k", log, allocateNodeCIDRs: false }), false);
    assert.throws(() => compileControllerManagerOptions({ kubeconfig: "k", log, clusterCIDR: "10.42.0.0/33" }), (e: unknown) => e instanceof ControllerManagerError && e.code === "InvalidOptions" && /invalid CIDR/.test(e.message));
    const flags = { kubeconfig: "/k", controllers: "*", leaderElect: "false", leaderElectLeaseDuration: "15s", leaderElectRenewDeadline: "10s", leaderElectRetryPeriod: "2s", leaderElectResourceNamespace: "kube-system", leaderElectResourceName: "kube-controller-manager", leaderElectResourceLock: "leases", bindAddress: "127.0.0.1", securePort: "0", kubeApiQps: "20", kubeApiBurst: "30", concurrentDeploymentSyncs: "5", concurrentReplicasetSyncs: "5", concurrentRcSyncs: "5", concurrentGcSyncs: "20", concurrentNamespaceSyncs: "10", logLevel: "silent" };
    assert.equal(controllerManagerOptionsFromFlags({ ...flags, allocateNodeCidrs: "false" }, log).enabled.some((e) => e.controller.name === NODE_IPAM_CONTROLLER), false);
    assert.throws(() => controllerManagerOptionsFromFlags({ ...flags, clusterCidr: "10.0.0.0/8", nodeCidrMaskSize: "x" }, log), /--node-cidr-mask-size/);
  });

  let srv: TestApiServer;
  let client: RestClient;
  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
  });
  after(async () => {
    client?.close();
    await srv?.stop();
  });

  const nodes = () => client.forKind("v1", "Node");
  const manager = (): ControllerManager =>
    new ControllerManager(compileControllerManagerOptions({ kubeconfig: srv.kubeconfig, controllers: ["nodeipam"], leaderElect: false, serve: false, log, clusterCIDR: "10.42.0.0/22", qps: 1000, burst: 1000 }));
  const cidrOf = (name: string) => async (): Promise<string[] | undefined> => {
    const n = await nodes().get(name);
    return n.spec?.podCIDRs?.length ? [...n.spec.podCIDRs] : undefined;
  };
  const create = (name: string, podCIDR?: string): Promise<Node> => nodes().create({ apiVersion: "v1", kind: "Node", metadata: { name }, spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {} });

  void it("allocates distinct blocks, keeps preset ones, survives a restart and reuses a deleted node's block", async () => {
    await create("preset", "10.42.0.0/24");
    let m = manager();
    try {
      await m.start();
      await create("n1");
      await create("n2");
      const a = await until("n1 podCIDRs", cidrOf("n1"));
      const b = await until("n2 podCIDRs", cidrOf("n2"));
      assert.deepEqual(new Set([...a, ...b, "10.42.0.0/24"]).size, 3);
      assert.equal((await nodes().get("n1")).spec?.podCIDR, a[0]);
      assert.deepEqual(await cidrOf("preset")(), ["10.42.0.0/24"]);
      await m.stop();

      // A new manager learns what is used from the nodes themselves.
      m = manager();
      await m.start();
      await create("n3");
      const c = await until("n3 podCIDRs", cidrOf("n3"));
      assert.equal(new Set([...a, ...b, ...c, "10.42.0.0/24"]).size, 4, "all four /24s of the /22 are distinct");

      // The range is full: n4 waits (event CIDRNotAvailable) until n1 is deleted.
      await create("n4");
      await until("CIDRNotAvailable event", async () => {
        const evs = await client.forKind("v1", "Event").namespace("default").list({ fieldSelector: "involvedObject.name=n4" });
        return evs.items.find((e) => e.reason === "CIDRNotAvailable");
      });
      await nodes().delete("n1");
      assert.deepEqual(await until("n4 podCIDRs", cidrOf("n4"), 30_000), a);
    } finally {
      await m.stop();
    }
  });
});
