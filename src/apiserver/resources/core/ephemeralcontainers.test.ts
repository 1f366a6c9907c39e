// pods/ephemeralcontainers over real HTTPS, as `kubectl debug` uses it: a strategic merge patch
// adds a container to spec.ephemeralContainers and nothing else of the pod changes; existing
// ephemeral containers may be neither changed nor removed; the main resource cannot add any.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { apiServerForSuite } from "../../../testing/apiserver.js";
import type { Status } from "../../status.js";

const PODS = "/api/v1/namespaces/default/pods";
const SMP = { "Content-Type": "application/strategic-merge-patch+json" };

interface Pod {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string>; managedFields?: { manager: string; subresource?: string }[] };
  spec: { containers: { name: string; image: string }[]; ephemeralContainers?: Record<string, unknown>[] };
  status?: { phase?: string };
}

const debuggerContainer = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, image: "busybox:1.35", command: ["sh"], stdin: true, tty: true, targetContainerName: "app", ...extra });

describe("pods/ephemeralcontainers", () => {
  const suite = apiServerForSuite({ defaultServiceAccount: true });

  const create = async (name: string): Promise<Pod> => {
    const r = await suite.client.request("POST", PODS, JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, labels: { app: "t" } }, spec: { containers: [{ name: "app", image: "busybox:1.35" }] } }));
    assert.equal(r.status, 201, r.body);
    return JSON.parse(r.body) as Pod;
  };
  const patch = (name: string, body: unknown, headers: Record<string, string> = SMP) => suite.client.request("PATCH", `${PODS}/${name}/ephemeralcontainers`, JSON.stringify(body), headers);

  it("adds an ephemeral container through a strategic merge patch, as kubectl debug does, and changes nothing else", async () => {
    const pod = await create("dbg");
    // kubectl debug sends the pod's ephemeral containers with the new one, plus whatever else
    // it copied: only spec.ephemeralContainers may come through.
    const r = await patch("dbg", { metadata: { labels: { app: "changed" } }, spec: { ephemeralContainers: [debuggerContainer("debugger-1")], containers: [{ name: "app", image: "busybox:1.36" }] } });
    assert.equal(r.status, 200, r.body);
    const got = JSON.parse(r.body) as Pod;
    assert.equal(got.spec.ephemeralContainers?.length, 1);
    const added = got.spec.ephemeralContainers![0]!;
    assert.equal(added["name"], "debugger-1");
    assert.equal(added["targetContainerName"], "app");
    // Defaulted as upstream defaults a container.
    assert.equal(added["terminationMessagePolicy"], "File");
    assert.equal(added["imagePullPolicy"], "IfNotPresent");
    assert.deepEqual(got.metadata.labels, { app: "t" }, "metadata is not the subresource's to change");
    assert.equal(got.spec.containers[0]!.image, "busybox:1.35", "nor the rest of the spec");
    assert.notEqual(got.metadata.resourceVersion, pod.metadata.resourceVersion);
    assert.ok(
      got.metadata.managedFields?.some((m) => m.subresource === "ephemeralcontainers"),
      "the write is recorded as the subresource's",
    );

    // GET on the subresource answers the pod.
    const read = await suite.client.request("GET", `${PODS}/dbg/ephemeralcontainers`);
    assert.equal(read.status, 200, read.body);
    assert.equal((JSON.parse(read.body) as Pod).spec.ephemeralContainers?.[0]?.["name"], "debugger-1");

    // A second one, sent as kubectl sends it: the existing ones (as stored) and the new one.
    const second = await patch("dbg", { spec: { ephemeralContainers: [added, debuggerContainer("debugger-2", { targetContainerName: undefined })] } });
    assert.equal(second.status, 200, second.body);
    assert.deepEqual((JSON.parse(second.body) as Pod).spec.ephemeralContainers?.map((c) => c["name"]), ["debugger-1", "debugger-2"]);
  });

  it("refuses to change or remove an existing ephemeral container, with upstream's causes", async () => {
    await create("fixed");
    assert.equal((await patch("fixed", { spec: { ephemeralContainers: [debuggerContainer("d")] } })).status, 200);
    const current = JSON.parse((await suite.client.request("GET", `${PODS}/fixed`)).body) as Pod;

    const changed = { ...current, spec: { ...current.spec, ephemeralContainers: [{ ...current.spec.ephemeralContainers![0], image: "busybox:1.36" }] } };
    const r1 = await suite.client.request("PUT", `${PODS}/fixed/ephemeralcontainers`, JSON.stringify(changed));
    assert.equal(r1.status, 422, r1.body);
    const s1 = JSON.parse(r1.body) as Status;
    assert.deepEqual(s1.details?.causes?.map((c) => [c.field, c.reason]), [["spec.ephemeralContainers[d]", "FieldValueForbidden"]]);
    assert.match(s1.message ?? "", /existing ephemeral containers "d" may not be changed/);

    const removed = { ...current, spec: { ...current.spec, ephemeralContainers: [] } };
    const r2 = await suite.client.request("PUT", `${PODS}/fixed/ephemeralcontainers`, JSON.stringify(removed));
    assert.equal(r2.status, 422, r2.body);
    assert.match((JSON.parse(r2.body) as Status).message ?? "", /existing ephemeral containers "d" may not be removed/);
  });

  it("refuses what an ephemeral container may not have: ports, probes, resources, a taken name, an unknown target", async () => {
    await create("bad");
    const r = await patch("bad", {
      spec: {
        ephemeralContainers: [
          debuggerContainer("app", { ports: [{ containerPort: 80 }], readinessProbe: { exec: { command: ["true"] } }, resources: { limits: { cpu: "1" } }, targetContainerName: "nope" }),
        ],
      },
    });
    assert.equal(r.status, 422, r.body);
    const causes = (JSON.parse(r.body) as Status).details?.causes?.map((c) => `${c.field} ${c.reason}`) ?? [];
    for (const want of [
      "spec.ephemeralContainers[0].ports FieldValueForbidden",
      "spec.ephemeralContainers[0].resources FieldValueForbidden",
      "spec.ephemeralContainers[0].readinessProbe FieldValueForbidden",
      "spec.ephemeralContainers[0].name FieldValueDuplicate",
      "spec.ephemeralContainers[0].targetContainerName FieldValueNotFound",
    ]) {
      assert.ok(causes.includes(want), `${want} in ${JSON.stringify(causes)}`);
    }
    const pod = JSON.parse((await suite.client.request("GET", `${PODS}/bad`)).body) as Pod;
    assert.equal(pod.spec.ephemeralContainers, undefined, "nothing was written");
  });

  it("cannot add ephemeral containers through the pod itself, on create or on update", async () => {
    const create = await suite.client.request("POST", PODS, JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "direct" }, spec: { containers: [{ name: "app", image: "busybox:1.35" }], ephemeralContainers: [debuggerContainer("d")] } }));
    assert.equal(create.status, 422, create.body);
    assert.deepEqual((JSON.parse(create.body) as Status).details?.causes?.map((c) => c.field), ["spec.ephemeralContainers"]);

    await suite.client.request("POST", PODS, JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "direct" }, spec: { containers: [{ name: "app", image: "busybox:1.35" }] } }));
    const r = await suite.client.request("PATCH", `${PODS}/direct`, JSON.stringify({ spec: { ephemeralContainers: [debuggerContainer("d")] } }), SMP);
    assert.equal(r.status, 422, r.body);
    assert.match((JSON.parse(r.body) as Status).message ?? "", /pod updates may not change fields other than/);
  });

  it("is listed in discovery with get, patch and update, and other verbs are refused", async () => {
    const r = await suite.client.request("GET", "/api/v1");
    const list = JSON.parse(r.body) as { resources: { name: string; verbs: string[] }[] };
    assert.deepEqual(list.resources.find((x) => x.name === "pods/ephemeralcontainers")?.verbs, ["get", "patch", "update"]);
    await create("verbs");
    const del = await suite.client.request("DELETE", `${PODS}/verbs/ephemeralcontainers`);
    assert.equal(del.status, 405, del.body);
  });
});
