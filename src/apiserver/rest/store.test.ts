// The generic store's update semantics over real HTTPS: the UID precondition an update takes
// from its object, a patch's uid checked as immutable, and managedFields recorded before
// mutating admission.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { apiServerForSuite } from "../../testing/apiserver.js";

const PODS = "/api/v1/namespaces/default/pods";
const OTHER_UID = "0d3b1f5e-1111-2222-3333-444455556666";

interface Pod {
  metadata: { name: string; uid: string; resourceVersion: string; labels?: Record<string, string>; managedFields?: { manager: string; fieldsV1: Record<string, Record<string, unknown>> }[] };
  spec: { tolerations?: unknown[] };
  status?: Record<string, unknown>;
}

describe("ResourceStore updates", () => {
  const suite = apiServerForSuite({ defaultServiceAccount: true });

  const create = async (name: string): Promise<Pod> => {
    const r = await suite.client.request("POST", PODS, JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, labels: { app: "t" } }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } }), { "User-Agent": "tester/v1" });
    assert.equal(r.status, 201, r.body);
    return JSON.parse(r.body) as Pod;
  };
  const get = async (name: string): Promise<Pod> => JSON.parse((await suite.client.request("GET", `${PODS}/${name}`)).body) as Pod;

  it("refuses an update whose object carries another uid with upstream's precondition conflict", async () => {
    const pod = await create("uid-put");
    const key = "/registry/pods/default/uid-put";
    for (const path of [`${PODS}/uid-put`, `${PODS}/uid-put/status`]) {
      const r = await suite.client.request("PUT", path, JSON.stringify({ ...pod, metadata: { ...pod.metadata, uid: OTHER_UID, labels: { app: "changed" } } }));
      assert.equal(r.status, 409, r.body);
      const st = JSON.parse(r.body) as { reason: string; message: string };
      assert.equal(st.reason, "Conflict");
      assert.equal(st.message, `Operation cannot be fulfilled on pods "uid-put": StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: ${OTHER_UID}, UID in object meta: ${pod.metadata.uid}`);
    }
    assert.equal((await get("uid-put")).metadata.resourceVersion, pod.metadata.resourceVersion);
    // The stored uid, or none, passes.
    const same = await suite.client.request("PUT", `${PODS}/uid-put`, JSON.stringify({ ...pod, metadata: { ...pod.metadata, labels: { app: "same" } } }));
    assert.equal(same.status, 200, same.body);
    const { uid: _uid, ...withoutUid } = (JSON.parse(same.body) as Pod).metadata;
    const none = await suite.client.request("PUT", `${PODS}/uid-put`, JSON.stringify({ ...pod, metadata: { ...withoutUid, labels: { app: "none" } } }));
    assert.equal(none.status, 200, none.body);
    assert.equal((JSON.parse(none.body) as Pod).metadata.uid, pod.metadata.uid);
  });

  it("refuses a patch that changes the uid as an invalid, immutable field, on the status too", async () => {
    const pod = await create("uid-patch");
    const cases: [string, string, unknown][] = [
      [`${PODS}/uid-patch`, "application/merge-patch+json", { metadata: { uid: OTHER_UID, labels: { x: "y" } } }],
      [`${PODS}/uid-patch/status`, "application/strategic-merge-patch+json", { metadata: { uid: OTHER_UID }, status: { phase: "Running" } }],
    ];
    for (const [path, type, body] of cases) {
      const r = await suite.client.request("PATCH", path, JSON.stringify(body), { "Content-Type": type });
      assert.equal(r.status, 422, r.body);
      const st = JSON.parse(r.body) as { message: string; details: { causes: { field: string }[] } };
      assert.equal(st.message, `Pod "uid-patch" is invalid: metadata.uid: Invalid value: "${OTHER_UID}": field is immutable`);
      assert.deepEqual(st.details.causes.map((x) => x.field), ["metadata.uid"]);
    }
    const ok = await suite.client.request("PATCH", `${PODS}/uid-patch/status`, JSON.stringify({ metadata: { uid: pod.metadata.uid }, status: { phase: "Running" } }), { "Content-Type": "application/strategic-merge-patch+json" });
    assert.equal(ok.status, 200, ok.body);
    assert.equal((JSON.parse(ok.body) as Pod).status?.["phase"], "Running");
  });

  it("writes what a strategic /status patch changes and keeps the rest of the stored pod", async () => {
    const pod = await create("status-share");
    const bound = await suite.client.request("POST", `${PODS}/status-share/binding`, JSON.stringify({ apiVersion: "v1", kind: "Binding", metadata: { name: "status-share" }, target: { kind: "Node", name: "n1" } }));
    assert.equal(bound.status, 201, bound.body);
    const before = await get("status-share");
    const patch = {
      metadata: { labels: { app: "ignored" } },
      spec: { activeDeadlineSeconds: 5 },
      status: { phase: "Running", podIP: "10.0.0.7", conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2024-01-01T00:00:00Z" }] },
    };
    const r = await suite.client.request("PATCH", `${PODS}/status-share/status?fieldManager=kubelet`, JSON.stringify(patch), { "Content-Type": "application/strategic-merge-patch+json" });
    assert.equal(r.status, 200, r.body);
    const after = await get("status-share");
    assert.deepEqual(JSON.parse(r.body), after);
    // Everything outside status is the stored pod's; status merged by condition type.
    assert.deepEqual(after.spec, before.spec);
    assert.deepEqual(after.metadata.labels, pod.metadata.labels);
    assert.equal(after.status?.["phase"], "Running");
    assert.equal(after.status?.["podIP"], "10.0.0.7");
    assert.deepEqual(((after.status?.["conditions"] ?? []) as { type: string }[]).map((x) => x.type).sort(), ["PodScheduled", "Ready"]);
    assert.ok(after.metadata.managedFields?.some((m) => m.manager === "kubelet" && "f:status" in m.fieldsV1), JSON.stringify(after.metadata.managedFields));
    // Strict field validation still reads the whole patch.
    const strict = await suite.client.request("PATCH", `${PODS}/status-share/status?fieldValidation=Strict`, JSON.stringify({ spec: { bogus: 1 }, status: { phase: "Running" } }), { "Content-Type": "application/strategic-merge-patch+json" });
    assert.equal(strict.status, 400, strict.body);
    assert.match(strict.body, /unknown field \\"spec.bogus\\"/);
  });

  it("binds a pod as upstream's UpdatePodCondition does: PodScheduled keeps its place, a False one's reason goes and its time moves", async () => {
    await create("bind-cond");
    const old = "2024-01-01T00:00:00Z";
    const conditions = [
      { type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/1 nodes are available", lastTransitionTime: old },
      { type: "Initialized", status: "True", lastTransitionTime: old },
    ];
    const st = await suite.client.request("PATCH", `${PODS}/bind-cond/status`, JSON.stringify({ status: { conditions } }), { "Content-Type": "application/merge-patch+json" });
    assert.equal(st.status, 200, st.body);
    const bound = await suite.client.request("POST", `${PODS}/bind-cond/binding`, JSON.stringify({ apiVersion: "v1", kind: "Binding", metadata: { name: "bind-cond" }, target: { name: "n1" } }));
    assert.equal(bound.status, 201, bound.body);
    const after = await get("bind-cond");
    const conds = (after.status?.["conditions"] ?? []) as { type: string; status: string; reason?: string; message?: string; lastTransitionTime: string }[];
    assert.deepEqual(conds.map((x) => x.type), ["PodScheduled", "Initialized"]);
    assert.equal(conds[0]!.status, "True");
    assert.equal(conds[0]!.reason, undefined);
    assert.equal(conds[0]!.message, undefined);
    assert.notEqual(conds[0]!.lastTransitionTime, old);
    assert.ok(Date.now() - Date.parse(conds[0]!.lastTransitionTime) < 60_000, conds[0]!.lastTransitionTime);
    assert.deepEqual(conds[1], conditions[1]);
  });

  it("binds as upstream's BindingREST: no managedFields entry, uid and resourceVersion preconditions, annotations merged, refusals on pods/binding", async () => {
    const pod = await create("bind-pre");
    const bind = (body: unknown, name = "bind-pre") => suite.client.request("POST", `${PODS}/${name}/binding?fieldManager=scheduler`, JSON.stringify({ apiVersion: "v1", kind: "Binding", ...(body as object) }));
    const conflictMessage = async (r: Promise<{ status: number; body: string }>): Promise<string> => {
      const res = await r;
      assert.equal(res.status, 409, res.body);
      return (JSON.parse(res.body) as { message: string }).message;
    };
    const key = "/registry/pods/default/bind-pre";
    const target = { kind: "Node", name: "n1" };

    assert.equal(
      await conflictMessage(bind({ metadata: { name: "bind-pre", uid: OTHER_UID }, target })),
      `Operation cannot be fulfilled on pods "bind-pre": StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: ${OTHER_UID}, UID in object meta: ${pod.metadata.uid}`,
    );
    assert.equal(
      await conflictMessage(bind({ metadata: { name: "bind-pre", resourceVersion: "1" }, target })),
      `Operation cannot be fulfilled on pods "bind-pre": StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: ${pod.metadata.resourceVersion}`,
    );
    for (const body of [{ metadata: { name: "bind-pre", annotations: "abc" }, target }, { metadata: { name: "bind-pre" }, target: { name: 5 } }, { metadata: { name: "bind-pre", uid: 1 }, target }]) {
      const r = await bind(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
      assert.match(r.body, /cannot be handled as a Binding/);
    }
    for (const [body, message, field] of [
      [{ metadata: { name: "bind-pre" }, target: { kind: "Node" } }, 'Binding "bind-pre" is invalid: target.name: Required value', "target.name"],
      [{ metadata: { name: "bind-pre" }, target: { kind: "Pod", name: "n1" } }, `Binding "bind-pre" is invalid: target.kind: Invalid value: "Pod": must be empty or 'Node'`, "target.kind"],
    ] as const) {
      const r = await bind(body);
      assert.equal(r.status, 422, r.body);
      const st = JSON.parse(r.body) as { message: string; details: { causes: { field: string }[] } };
      assert.equal(st.message, message);
      assert.deepEqual(st.details.causes.map((c) => c.field), [field]);
    }
    const mismatch = await bind({ metadata: { name: "other" }, target });
    assert.equal(mismatch.status, 400, mismatch.body);
    assert.match(mismatch.body, /name in URL does not match name in Binding object/);
    assert.equal((await get("bind-pre")).metadata.resourceVersion, pod.metadata.resourceVersion, "refused bindings write nothing");

    const ok = await bind({ metadata: { name: "bind-pre", uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion, annotations: { "example.com/decided-by": "test" } }, target });
    assert.equal(ok.status, 201, ok.body);
    const bound = (await get("bind-pre")) as Pod & { spec: { nodeName?: string }; metadata: { annotations?: Record<string, string> } };
    assert.equal(bound.spec.nodeName, "n1");
    assert.deepEqual(bound.metadata.annotations, { "example.com/decided-by": "test" });
    assert.deepEqual(bound.metadata.managedFields?.map((m) => m.manager), pod.metadata.managedFields?.map((m) => m.manager), "the binding records no manager");

    assert.equal(await conflictMessage(bind({ metadata: { name: "bind-pre" }, target: { name: "n2" } })), `Operation cannot be fulfilled on pods/binding "bind-pre": pod bind-pre is already assigned to node "n1"`);
    const gated = await suite.client.request("POST", PODS, JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "bind-gated" }, spec: { schedulingGates: [{ name: "example.com/wait" }], containers: [{ name: "c", image: "busybox:1.35" }] } }));
    assert.equal(gated.status, 201, gated.body);
    assert.equal(await conflictMessage(bind({ metadata: { name: "bind-gated" }, target }, "bind-gated")), `Operation cannot be fulfilled on pods/binding "bind-gated": pod bind-gated has non-empty .spec.schedulingGates`);
  });

  it("serves the legacy bindings resource: the pod named in the Binding, create only", async () => {
    await create("bind-legacy");
    const legacy = "/api/v1/namespaces/default/bindings";
    const nameless = await suite.client.request("POST", legacy, JSON.stringify({ apiVersion: "v1", kind: "Binding", metadata: {}, target: { name: "n1" } }));
    assert.equal(nameless.status, 422, nameless.body);
    assert.equal((await suite.client.request("GET", legacy)).status, 405);
    assert.equal((await suite.client.request("POST", "/api/v1/bindings", JSON.stringify({ apiVersion: "v1", kind: "Binding", metadata: { name: "bind-legacy" }, target: { name: "n1" } }))).status, 404);
    const ok = await suite.client.request("POST", legacy, JSON.stringify({ apiVersion: "v1", kind: "Binding", metadata: { name: "bind-legacy" }, target: { name: "n1" } }));
    assert.equal(ok.status, 201, ok.body);
    assert.equal(((await get("bind-legacy")) as Pod & { spec: { nodeName?: string } }).spec.nodeName, "n1");
    const discovery = JSON.parse((await suite.client.request("GET", "/api/v1")).body) as { resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[] };
    assert.deepEqual(discovery.resources.find((r) => r.name === "bindings"), { name: "bindings", singularName: "binding", namespaced: true, kind: "Binding", verbs: ["create"] });
  });

  it("patches the status of a namespace, whose defaults label it by name", async () => {
    // The label is on the stored object's frozen metadata, which the status patch shares.
    const ns = await suite.client.request("POST", "/api/v1/namespaces", JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "status-defaults" } }));
    assert.equal(ns.status, 201, ns.body);
    const r = await suite.client.request("PATCH", "/api/v1/namespaces/status-defaults/status", JSON.stringify({ status: { conditions: [{ type: "NamespaceDeletionDiscoveryFailure", status: "False", reason: "ResourcesDiscovered", message: "ok" }] } }), { "Content-Type": "application/strategic-merge-patch+json" });
    assert.equal(r.status, 200, r.body);
    const got = JSON.parse(r.body) as { metadata: { labels?: Record<string, string> }; status: { phase?: string; conditions?: unknown[] } };
    assert.equal(got.metadata.labels?.["kubernetes.io/metadata.name"], "status-defaults");
    assert.equal(got.status.phase, "Active");
    assert.equal(got.status.conditions?.length, 1);
  });

  it("records the creator's fields before mutating admission adds its own", async () => {
    const pod = await create("mf-admission");
    // The DefaultTolerationSeconds admission plugin added its tolerations...
    assert.ok((pod.spec.tolerations ?? []).length > 0);
    const mine = pod.metadata.managedFields?.find((m) => m.manager === "tester");
    assert.ok(mine, JSON.stringify(pod.metadata.managedFields));
    const spec = mine.fieldsV1["f:spec"] ?? {};
    // ...which belongs to no manager, as on upstream servers.
    assert.equal("f:tolerations" in spec, false, JSON.stringify(spec));
    assert.ok("f:containers" in spec);
  });
});
