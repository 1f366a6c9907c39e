// LimitRanger over real HTTPS: a namespace's LimitRanges default its new pods' container
// resources and bound pods, containers and claims, with upstream's words.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { apiServerForSuite } from "../../testing/apiserver.js";
import type { Status } from "../status.js";

interface Container {
  name: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface Pod {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { containers: Container[]; initContainers?: Container[] };
  status?: { qosClass?: string };
}
describe("LimitRanger admission", () => {
  const suite = apiServerForSuite({ defaultServiceAccount: true });
  let n = 0;

  /** A fresh namespace with these LimitRange specs' items. */
  const namespace = async (...ranges: Record<string, unknown>[][]): Promise<string> => {
    const ns = `lr-${++n}`;
    assert.equal((await suite.client.request("POST", "/api/v1/namespaces", JSON.stringify({ metadata: { name: ns } }))).status, 201);
    for (const [i, limits] of ranges.entries()) {
      const r = await suite.client.request("POST", `/api/v1/namespaces/${ns}/limitranges`, JSON.stringify({ metadata: { name: `r${i}` }, spec: { limits } }));
      assert.equal(r.status, 201, r.body);
    }
    return ns;
  };
  const createPod = (ns: string, name: string, containers: Container[], initContainers?: Container[]) =>
    suite.client.request("POST", `/api/v1/namespaces/${ns}/pods`, JSON.stringify({ metadata: { name }, spec: { containers: containers.map((c) => ({ image: "busybox:1.35", ...c })), ...(initContainers ? { initContainers: initContainers.map((c) => ({ image: "busybox:1.35", ...c })) } : {}) } }));

  it("gives containers without requests or limits the defaults, and says so in an annotation", async () => {
    const ns = await namespace([{ type: "Container", default: { cpu: "500m", memory: "256Mi" }, defaultRequest: { cpu: "100m" } }]);
    const r = await createPod(ns, "p", [{ name: "app" }, { name: "side", resources: { limits: { memory: "64Mi" } } }], [{ name: "init" }]);
    assert.equal(r.status, 201, r.body);
    const pod = JSON.parse(r.body) as Pod;
    assert.deepEqual(pod.spec.containers[0]!.resources, { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "256Mi" } });
    // What the container set stays; its memory request was defaulted from its own limit first.
    assert.deepEqual(pod.spec.containers[1]!.resources, { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "500m", memory: "64Mi" } });
    assert.deepEqual(pod.spec.initContainers![0]!.resources, { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "256Mi" } });
    assert.equal(
      pod.metadata.annotations?.["kubernetes.io/limit-ranger"],
      "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app; cpu request for container side; cpu limit for container side; cpu, memory request for init container init; cpu, memory limit for init container init",
    );
    assert.equal(pod.status?.qosClass, "Burstable", "the QoS class counts the defaults");
  });

  it("refuses a container outside the bounds with 403 and upstream's messages", async () => {
    // max alone defaults the limit (and the request) to it.
    const ns = await namespace([{ type: "Container", max: { memory: "1Gi" }, min: { cpu: "50m" }, maxLimitRequestRatio: { cpu: "4" } }]);
    const ok = await createPod(ns, "fits", [{ name: "app", resources: { requests: { cpu: "100m" }, limits: { cpu: "400m" } } }]);
    assert.equal(ok.status, 201, ok.body);
    assert.deepEqual((JSON.parse(ok.body) as Pod).spec.containers[0]!.resources?.limits, { cpu: "400m", memory: "1Gi" });

    const big = await createPod(ns, "big", [{ name: "app", resources: { requests: { cpu: "100m" }, limits: { cpu: "100m", memory: "2Gi" } } }]);
    assert.equal(big.status, 403, big.body);
    const s = JSON.parse(big.body) as Status;
    assert.equal(s.reason, "Forbidden");
    assert.equal(s.message, 'pods "big" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi');

    const several = await createPod(ns, "several", [{ name: "app", resources: { requests: { cpu: "10m" }, limits: { cpu: "1" } } }]);
    assert.equal(several.status, 403, several.body);
    assert.equal(
      (JSON.parse(several.body) as Status).message,
      'pods "several" is forbidden: [minimum cpu usage per Container is 50m, but request is 10m, cpu max limit to request ratio per Container is 4, but provided ratio is 100.000000]',
    );
    assert.equal((await suite.client.request("GET", `/api/v1/namespaces/${ns}/pods/big`)).status, 404, "nothing was stored");
  });

  it("bounds the pod as a whole, init containers included", async () => {
    const ns = await namespace([{ type: "Pod", max: { cpu: "1" } }]);
    const two = await createPod(ns, "two", [
      { name: "a", resources: { limits: { cpu: "600m" } } },
      { name: "b", resources: { limits: { cpu: "600m" } } },
    ]);
    assert.equal(two.status, 403, two.body);
    assert.equal((JSON.parse(two.body) as Status).message, 'pods "two" is forbidden: maximum cpu usage per Pod is 1, but limit is 1200m');
    const init = await createPod(ns, "init", [{ name: "a", resources: { limits: { cpu: "300m" } } }], [{ name: "i", resources: { limits: { cpu: "2" } } }]);
    assert.equal(init.status, 403, init.body);
    assert.match((JSON.parse(init.body) as Status).message ?? "", /maximum cpu usage per Pod is 1, but limit is 2$/);
    assert.equal((await createPod(ns, "fits", [{ name: "a", resources: { limits: { cpu: "500m" } } }])).status, 201);
  });

  it("bounds what a PersistentVolumeClaim requests", async () => {
    const ns = await namespace([{ type: "PersistentVolumeClaim", min: { storage: "1Gi" }, max: { storage: "10Gi" } }]);
    const claim = (size: string) => JSON.stringify({ metadata: { name: "c" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } } } });
    const small = await suite.client.request("POST", `/api/v1/namespaces/${ns}/persistentvolumeclaims`, claim("500Mi"));
    assert.equal(small.status, 403, small.body);
    assert.equal((JSON.parse(small.body) as Status).message, 'persistentvolumeclaims "c" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi');
    const big = await suite.client.request("POST", `/api/v1/namespaces/${ns}/persistentvolumeclaims`, claim("20Gi"));
    assert.equal(big.status, 403, big.body);
    assert.equal((JSON.parse(big.body) as Status).message, 'persistentvolumeclaims "c" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi');
    assert.equal((await suite.client.request("POST", `/api/v1/namespaces/${ns}/persistentvolumeclaims`, claim("5Gi"))).status, 201);
  });

  it("leaves namespaces without LimitRanges, pod updates and subresources alone", async () => {
    const plain = await namespace();
    const r = await createPod(plain, "p", [{ name: "app" }]);
    assert.equal(r.status, 201, r.body);
    const pod = JSON.parse(r.body) as Pod;
    assert.equal(pod.metadata.annotations?.["kubernetes.io/limit-ranger"], undefined);
    assert.deepEqual(pod.spec.containers[0]!.resources, {});

    // A LimitRange made after a pod does not touch the pod's later writes.
    const lr = await suite.client.request("POST", `/api/v1/namespaces/${plain}/limitranges`, JSON.stringify({ metadata: { name: "late" }, spec: { limits: [{ type: "Container", max: { cpu: "1" } }] } }));
    assert.equal(lr.status, 201, lr.body);
    const label = await suite.client.request("PATCH", `/api/v1/namespaces/${plain}/pods/p`, JSON.stringify({ metadata: { labels: { a: "b" } } }), { "Content-Type": "application/merge-patch+json" });
    assert.equal(label.status, 200, label.body);
    const status = await suite.client.request("PATCH", `/api/v1/namespaces/${plain}/pods/p/status`, JSON.stringify({ status: { phase: "Running" } }), { "Content-Type": "application/merge-patch+json" });
    assert.equal(status.status, 200, status.body);
  });
});
