import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { deepFreeze } from "../../client/objects.js";
import { podEndpointsChanged } from "./podutil.js";
import { pod } from "./testutil.js";

const base = deepFreeze(pod(1, { node: "n1", ports: [{ name: "http", containerPort: 80 }], hostname: "h", subdomain: "s" }));

/** `base` with a change applied to a private copy. */
function changed(edit: (p: Pod) => void): Pod {
  const p = structuredClone(base) as Pod;
  p.metadata = { ...p.metadata, resourceVersion: "2" };
  edit(p);
  return p;
}

void describe("podEndpointsChanged", () => {
  void it("sees no change in what endpoints do not read (status details, annotations, key order)", () => {
    const same = changed((p) => {
      p.metadata!.annotations = { a: "b" };
      p.status!.startTime = "2024-01-01T00:00:00Z";
      p.status!.conditions = [...p.status!.conditions!, { type: "ContainersReady", status: "True" }];
      p.metadata!.labels = { ...p.metadata!.labels };
      p.spec!.containers[0]!.ports = [{ containerPort: 80, name: "http" }];
    });
    assert.deepEqual(podEndpointsChanged(base, same), { changed: false, labelsChanged: false });
  });

  void it("sees every field that can move an endpoint", () => {
    const cases: [string, (p: Pod) => void][] = [
      ["podIP", (p) => (p.status!.podIP = "10.0.0.9")],
      ["podIPs", (p) => (p.status!.podIPs = [...p.status!.podIPs!, { ip: "fd00::1" }])],
      ["readiness", (p) => (p.status!.conditions = [{ type: "Ready", status: "False" }])],
      ["terminal phase", (p) => (p.status!.phase = "Succeeded")],
      ["deletion", (p) => (p.metadata = { ...p.metadata, deletionTimestamp: "2024-01-01T00:00:00Z" })],
      ["node", (p) => (p.spec!.nodeName = "n2")],
      ["hostname", (p) => (p.spec!.hostname = "h2")],
      ["subdomain", (p) => delete p.spec!.subdomain],
      ["uid", (p) => (p.metadata = { ...p.metadata, uid: "other" })],
      ["container port", (p) => (p.spec!.containers[0]!.ports = [{ name: "http", containerPort: 8080 }])],
      ["container count", (p) => p.spec!.containers.push({ name: "d", image: "busybox" })],
      ["sidecar port", (p) => (p.spec!.initContainers = [{ name: "i", image: "busybox", restartPolicy: "Always", ports: [{ name: "m", containerPort: 9 }] }])],
    ];
    for (const [what, edit] of cases) assert.deepEqual(podEndpointsChanged(base, changed(edit)), { changed: true, labelsChanged: false }, what);
  });

  void it("reports a label change as such", () => {
    assert.deepEqual(podEndpointsChanged(base, changed((p) => (p.metadata!.labels = { app: "other" }))), { changed: true, labelsChanged: true });
    assert.deepEqual(podEndpointsChanged(base, changed((p) => (p.metadata!.labels = { ...p.metadata!.labels, extra: "x" }))), { changed: true, labelsChanged: true });
  });
});
