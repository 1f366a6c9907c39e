// The API server in-process on a free port, driven over real HTTPS: the handler chain, the
// generic store's Kubernetes semantics, and watch behaviour.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:https";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { adminClient, type RawClient } from "../testing/client.js";
import { clusterPKIPaths } from "../util/pki.js";

const POD = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: "t" } },
  spec: { containers: [{ name: "c", image: "busybox:1.35" }] },
  ...extra,
});
const PODS = "/api/v1/namespaces/default/pods";

function json<T = Record<string, unknown>>(body: string): T {
  return JSON.parse(body) as T;
}

/** Reads a watch until `n` events arrived or the deadline passed. */
function watchEvents(s: TestApiServer, path: string, n: number, timeoutMs = 5000): Promise<{ type: string; object: Record<string, unknown> }[]> {
  const p = clusterPKIPaths(s.dataDir);
  return new Promise((resolve, reject) => {
    const events: { type: string; object: Record<string, unknown> }[] = [];
    const req = request(new URL(path, s.url), { ca: readFileSync(p.caCert), cert: readFileSync(p.adminCert), key: readFileSync(p.adminKey) }, (res) => {
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        buf += c;
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)) as { type: string; object: Record<string, unknown> });
          buf = buf.slice(i + 1);
          if (events.length >= n) {
            clearTimeout(timer);
            req.destroy();
            resolve(events);
          }
        }
      });
      res.on("end", () => {
        clearTimeout(timer);
        resolve(events);
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve(events);
    }, timeoutMs);
    req.on("error", (e) => {
      if (events.length < n) reject(e);
    });
    req.end();
  });
}

/** An open watch whose events are read as they come: `until(n)` waits for the first n (or the deadline). */
function openWatch(s: TestApiServer, path: string): { until(n: number, timeoutMs?: number): Promise<{ type: string; object: Record<string, unknown> }[]>; close(): void } {
  const p = clusterPKIPaths(s.dataDir);
  const events: { type: string; object: Record<string, unknown> }[] = [];
  let changed = (): void => {};
  const req = request(new URL(path, s.url), { ca: readFileSync(p.caCert), cert: readFileSync(p.adminCert), key: readFileSync(p.adminKey) }, (res) => {
    let buf = "";
    res.setEncoding("utf8");
    res.on("data", (c: string) => {
      buf += c;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        events.push(JSON.parse(buf.slice(0, i)) as { type: string; object: Record<string, unknown> });
        buf = buf.slice(i + 1);
      }
      changed();
    });
  });
  req.on("error", () => undefined);
  req.end();
  return {
    until: (n, timeoutMs = 5000) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve([...events]), timeoutMs);
        changed = () => {
          if (events.length < n) return;
          clearTimeout(timer);
          resolve([...events]);
        };
        changed();
      }),
    close: () => req.destroy(),
  };
}

describe("API server start", () => {
  it("says which port is taken when another process listens on it", async () => {
    const taken = createNetServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as AddressInfo).port;
    try {
      await assert.rejects(startTestApiServer({ port, bindAddress: "127.0.0.1" }), new RegExp(`^Error: port ${port} on 127\\.0\\.0\\.1 is in use by another process`));
    } finally {
      taken.close();
    }
  });
});

describe("API server", () => {
  let s: TestApiServer;
  let c: RawClient;
  before(async () => {
    s = await startTestApiServer({ watchCacheHistory: 8, maxMutatingRequestsInflight: 1 });
    c = adminClient(s.url, s.dataDir);
  });
  after(async () => {
    c?.close();
    await s?.stop();
  });

  it("lets anonymous callers reach only health and version", async () => {
    const anon = adminClient(s.url, s.dataDir, { anonymous: true });
    try {
      assert.equal((await anon.request("GET", "/healthz")).status, 200);
      assert.equal((await anon.request("GET", "/readyz?verbose")).body.includes("readyz check passed"), true);
      assert.equal(json<{ gitVersion: string }>((await anon.request("GET", "/version")).body).gitVersion.startsWith("v1."), true);
      const denied = await anon.request("GET", PODS);
      assert.equal(denied.status, 401);
      assert.equal(json<{ reason: string }>(denied.body).reason, "Unauthorized");
    } finally {
      anon.close();
    }
  });

  it("refuses bodies over 3 MiB with 413 and unknown resources with 404", async () => {
    const big = await c.request("POST", PODS, JSON.stringify(POD("big", { x: "y".repeat(3 * 1024 * 1024) })));
    assert.equal(big.status, 413);
    const nope = await c.request("GET", "/apis/nope.example/v1/things");
    assert.equal(nope.status, 404);
    assert.equal(json<{ kind: string }>(nope.body).kind, "Status");
  });

  it("creates with generateName, uid, timestamps and generation; dryRun persists nothing", async () => {
    const created = json<{ metadata: Record<string, unknown>; status: { phase: string } }>((await c.request("POST", PODS, JSON.stringify({ ...POD(""), metadata: { generateName: "gen-" } }))).body);
    assert.match(String(created.metadata["name"]), /^gen-[a-z0-9]{5}$/);
    assert.match(String(created.metadata["uid"]), /^[0-9a-f-]{36}$/);
    assert.match(String(created.metadata["creationTimestamp"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(created.status.phase, "Pending");
    const dry = await c.request("POST", `${PODS}?dryRun=All`, JSON.stringify(POD("dry")));
    assert.equal(dry.status, 201);
    assert.equal((await c.request("GET", `${PODS}/dry`)).status, 404);
    const dup = await c.request("POST", PODS, JSON.stringify(POD(String(created.metadata["name"]))));
    assert.equal(dup.status, 409);
    assert.equal(json<{ reason: string }>(dup.body).reason, "AlreadyExists");
  });

  it("keeps spec and status apart and bumps generation on spec changes only", async () => {
    const DEPLOY = "/apis/apps/v1/namespaces/default/deployments";
    const d = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "gen" }, spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c", image: "x" }] } } }, status: { replicas: 9 } };
    const created = json<{ metadata: { generation: number; resourceVersion: string }; status?: { replicas?: number } }>((await c.request("POST", DEPLOY, JSON.stringify(d))).body);
    assert.equal(created.metadata.generation, 1);
    assert.equal(created.status?.replicas, undefined, "status is not set through the main resource");
    const st = await c.request("PUT", `${DEPLOY}/gen/status`, JSON.stringify({ ...d, spec: { ...d.spec, replicas: 7 }, metadata: { name: "gen", resourceVersion: created.metadata.resourceVersion, labels: { ignored: "yes" }, annotations: { kept: "yes" } }, status: { replicas: 3 } }));
    assert.equal(st.status, 200, st.body);
    const afterStatus = json<{ metadata: { generation: number; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: { replicas: number }; status: { replicas: number } }>(st.body);
    assert.equal(afterStatus.metadata.annotations?.["kept"], "yes", "annotations change with status");
    assert.equal(afterStatus.metadata.labels?.["ignored"], undefined, "labels do not");
    assert.equal(afterStatus.status.replicas, 3);
    assert.equal(afterStatus.spec.replicas, 1, "spec is not changed through /status");
    assert.equal(afterStatus.metadata.generation, 1);
    const labelled = json<{ metadata: { generation: number } }>((await c.request("PATCH", `${DEPLOY}/gen`, JSON.stringify({ metadata: { labels: { x: "y" } } }), { "Content-Type": "application/merge-patch+json" })).body);
    assert.equal(labelled.metadata.generation, 1, "metadata changes do not bump generation");
    const scaled = json<{ metadata: { generation: number } }>((await c.request("PATCH", `${DEPLOY}/gen`, JSON.stringify({ spec: { replicas: 4 } }), { "Content-Type": "application/merge-patch+json" })).body);
    assert.equal(scaled.metadata.generation, 2);
    const scale = json<{ kind: string; spec: { replicas: number }; status: { selector: string } }>((await c.request("GET", `${DEPLOY}/gen/scale`)).body);
    assert.deepEqual([scale.kind, scale.spec.replicas, scale.status.selector], ["Scale", 4, "a=b"]);
    const stale = await c.request("PUT", `${DEPLOY}/gen`, JSON.stringify({ ...d, metadata: { name: "gen", resourceVersion: created.metadata.resourceVersion } }));
    assert.equal(stale.status, 409);
    assert.match(json<{ message: string }>(stale.body).message, /the object has been modified; please apply your changes to the latest version and try again/);
  });

  it("deletes pods gracefully and other objects once their finalizers are gone", async () => {
    await c.request("POST", PODS, JSON.stringify(POD("graceful", { spec: { nodeName: "n1", containers: [{ name: "c", image: "x" }] } })));
    const del = json<{ metadata: { deletionTimestamp?: string; deletionGracePeriodSeconds?: number } }>((await c.request("DELETE", `${PODS}/graceful`)).body);
    assert.ok(del.metadata.deletionTimestamp, "a bound pod waits for its kubelet");
    assert.equal(del.metadata.deletionGracePeriodSeconds, 30);
    assert.equal((await c.request("GET", `${PODS}/graceful`)).status, 200);
    assert.equal((await c.request("DELETE", `${PODS}/graceful`, JSON.stringify({ gracePeriodSeconds: 0 }))).status, 200);
    assert.equal((await c.request("GET", `${PODS}/graceful`)).status, 404);

    await c.request("POST", PODS, JSON.stringify(POD("fin", { metadata: { name: "fin", finalizers: ["example.com/hold"] } })));
    const pending = json<{ metadata: { deletionTimestamp?: string } }>((await c.request("DELETE", `${PODS}/fin`)).body);
    assert.ok(pending.metadata.deletionTimestamp);
    const cleared = await c.request("PATCH", `${PODS}/fin`, JSON.stringify({ metadata: { finalizers: null } }), { "Content-Type": "application/merge-patch+json" });
    assert.equal(cleared.status, 200, cleared.body);
    assert.equal((await c.request("GET", `${PODS}/fin`)).status, 404);
  });

  it("lists in pages consistent at one resourceVersion, as tables and as metadata", async () => {
    for (let i = 0; i < 5; i++) await c.request("POST", PODS, JSON.stringify(POD(`page-${i}`)));
    const first = json<{ items: unknown[]; metadata: { continue: string; resourceVersion: string; remainingItemCount?: number } }>((await c.request("GET", `${PODS}?limit=2`)).body);
    assert.equal(first.items.length, 2);
    assert.ok(first.metadata.continue);
    await c.request("POST", PODS, JSON.stringify(POD("page-late")));
    const second = json<{ items: unknown[]; metadata: { resourceVersion: string } }>((await c.request("GET", `${PODS}?limit=2&continue=${encodeURIComponent(first.metadata.continue)}`)).body);
    assert.equal(second.metadata.resourceVersion, first.metadata.resourceVersion);
    const table = json<{ kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }>((await c.request("GET", `${PODS}?labelSelector=app%3Dt`, undefined, { Accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" })).body);
    assert.equal(table.kind, "Table");
    assert.deepEqual(table.columnDefinitions.slice(0, 5).map((c) => c.name), ["Name", "Ready", "Status", "Restarts", "Age"]);
    const meta = json<{ kind: string; items: { kind: string }[] }>((await c.request("GET", PODS, undefined, { Accept: "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io" })).body);
    assert.equal(meta.kind, "PartialObjectMetadataList");
    const badField = await c.request("GET", `${PODS}?fieldSelector=spec.bogus%3Dx`);
    assert.equal(badField.status, 400);
    assert.match(json<{ message: string }>(badField.body).message, /field label not supported: spec.bogus/);
  });

  it("watches: synthetic ADDED at 0, changes after a version, 410 Expired when too old", async () => {
    const base = json<{ metadata: { resourceVersion: string } }>((await c.request("POST", PODS, JSON.stringify(POD("w0")))).body).metadata.resourceVersion;
    const initial = await watchEvents(s, `${PODS}?watch=true&resourceVersion=0&fieldSelector=metadata.name%3Dw0`, 1);
    assert.equal(initial[0]?.type, "ADDED");
    const live = watchEvents(s, `${PODS}?watch=true&resourceVersion=${base}&fieldSelector=metadata.name%3Dw0`, 2);
    await c.request("PATCH", `${PODS}/w0`, JSON.stringify({ metadata: { labels: { n: "1" } } }), { "Content-Type": "application/merge-patch+json" });
    await c.request("DELETE", `${PODS}/w0`);
    assert.deepEqual((await live).map((e) => e.type), ["MODIFIED", "DELETED"]);
    // The history holds 8 events; push it past the base revision.
    for (let i = 0; i < 12; i++) await c.request("POST", PODS, JSON.stringify(POD(`churn-${i}`)));
    const old = await watchEvents(s, `${PODS}?watch=true&resourceVersion=${base}`, 1);
    assert.equal(old[0]?.type, "ERROR");
    assert.equal((old[0]?.object as { code: number }).code, 410);
    assert.equal((old[0]?.object as { reason: string }).reason, "Expired");
  });

  it("impersonates users, service accounts, groups, extras and uids as upstream (kubectl --as)", async () => {
    const whoami = async (headers: Record<string, string | string[]>): Promise<{ status: number; user?: Record<string, unknown>; body: string }> => {
      const r = await c.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }), headers);
      return { status: r.status, body: r.body, ...(r.status === 201 ? { user: json<{ status: { userInfo: Record<string, unknown> } }>(r.body).status.userInfo } : {}) };
    };
    assert.deepEqual((await whoami({ "Impersonate-User": "alice", "Impersonate-Group": ["devs", "qa"], "Impersonate-Extra-Scopes": "view", "Impersonate-Uid": "u-1" })).user, { username: "alice", uid: "u-1", groups: ["devs", "qa", "system:authenticated"], extra: { scopes: ["view"] } });
    assert.deepEqual((await whoami({ "Impersonate-User": "system:serviceaccount:default:robot" })).user, { username: "system:serviceaccount:default:robot", groups: ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"] });
    assert.deepEqual((await whoami({ "Impersonate-User": "carol", "Impersonate-Group": "system:authenticated" })).user, { username: "carol", groups: ["system:authenticated"] });
    // Asking for system:unauthenticated (or for the anonymous user) makes an anonymous request: refused.
    assert.equal((await whoami({ "Impersonate-User": "bob", "Impersonate-Group": "system:unauthenticated" })).status, 403);
    const noUser = await whoami({ "Impersonate-Group": "devs" });
    assert.equal(noUser.status, 400, noUser.body);
    assert.match(noUser.body, /without impersonating a user/);
    assert.equal((await whoami({ "Impersonate-User": "system:anonymous" })).status, 403);
    // Without the headers the caller is itself.
    assert.equal((await whoami({})).user?.["username"], "kubernetes-admin");
  });

  it("answers a delete with a Status naming what went, or the object for kinds upstream returns it for", async () => {
    const cm = json<{ metadata: { uid: string } }>((await c.request("POST", "/api/v1/namespaces/default/configmaps", JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "gone" } }))).body);
    const r = await c.request("DELETE", "/api/v1/namespaces/default/configmaps/gone");
    assert.equal(r.status, 200);
    assert.deepEqual(json(r.body), { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name: "gone", kind: "configmaps", uid: cm.metadata.uid } });
    const rb = json<{ metadata: { uid: string } }>((await c.request("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", JSON.stringify({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "gone" }, rules: [] }))).body);
    assert.deepEqual(json<{ details: unknown }>((await c.request("DELETE", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/gone")).body).details, { name: "gone", group: "rbac.authorization.k8s.io", kind: "roles", uid: rb.metadata.uid });
    assert.equal((await c.request("POST", "/api/v1/namespaces/default/serviceaccounts", JSON.stringify({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "gone" } }))).status, 201);
    const sa = await c.request("DELETE", "/api/v1/namespaces/default/serviceaccounts/gone");
    assert.deepEqual([sa.status, json<{ kind: string }>(sa.body).kind], [200, "ServiceAccount"]);
  });

  it("answers in YAML when asked, and 406 for a media type it does not serve", async () => {
    const asJson = await c.request("GET", "/api/v1/namespaces/default");
    const asYaml = await c.request("GET", "/api/v1/namespaces/default", undefined, { Accept: "application/yaml" });
    assert.equal(asYaml.status, 200);
    assert.equal(asYaml.headers["content-type"], "application/yaml");
    assert.deepEqual(parseYaml(asYaml.body), json(asJson.body));
    assert.match(asYaml.body, /^apiVersion: v1\nkind: Namespace\nmetadata:\n/, "keys sorted, as upstream's");
    assert.match(asYaml.body, /\n {2}creationTimestamp: "\d{4}-\d\d-\d\dT[\d:]+Z"\n/, "a timestamp-like string quoted, as go-yaml does");
    // Errors too; preference by q; protobuf (not served) gets JSON, which client-go decodes by its Content-Type.
    const missing = await c.request("GET", "/api/v1/namespaces/nope", undefined, { Accept: "application/json;q=0.5, application/yaml" });
    assert.deepEqual([missing.status, missing.headers["content-type"], (parseYaml(missing.body) as { reason: string }).reason], [404, "application/yaml", "NotFound"]);
    assert.equal((await c.request("GET", "/api/v1/namespaces/default", undefined, { Accept: "application/vnd.kubernetes.protobuf" })).headers["content-type"], "application/json");
    const html = await c.request("GET", "/api/v1/namespaces/default", undefined, { Accept: "text/html" });
    assert.deepEqual([html.status, json<{ reason: string; message: string }>(html.body).reason], [406, "NotAcceptable"]);
    assert.equal(json<{ message: string }>(html.body).message, "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf");
    assert.equal((await c.request("GET", "/api/v1/namespaces?watch=true&timeoutSeconds=1", undefined, { Accept: "application/yaml" })).status, 406, "a watch streams JSON only");
  });

  it("takes a delete's dryRun from its DeleteOptions body as from its query: nothing is deleted", async () => {
    const cms = "/api/v1/namespaces/default/configmaps";
    assert.equal((await c.request("POST", cms, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "dry", labels: { dry: "y" } } }))).status, 201);
    const body = JSON.stringify({ apiVersion: "v1", kind: "DeleteOptions", dryRun: ["All"] });
    assert.equal((await c.request("DELETE", `${cms}/dry`, body)).status, 200);
    assert.equal((await c.request("DELETE", `${cms}?labelSelector=dry%3Dy`, body)).status, 200);
    assert.equal((await c.request("DELETE", `${cms}/dry?dryRun=All`)).status, 200);
    assert.equal((await c.request("GET", `${cms}/dry`)).status, 200, "still there");
    assert.equal((await c.request("DELETE", `${cms}/dry`, JSON.stringify({ dryRun: ["Some"] }))).status, 400);
    assert.equal((await c.request("DELETE", `${cms}/dry`)).status, 200);
    assert.equal((await c.request("GET", `${cms}/dry`)).status, 404);
  });

  it("reads force and orphanDependents as upstream's codec reads booleans (1 and True are true)", async () => {
    const cm = "/api/v1/namespaces/default/configmaps/owned";
    const apply = (manager: string, value: string, query = ""): Promise<{ status: number; body: string }> =>
      c.request("PATCH", `${cm}?fieldManager=${manager}${query}`, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "owned" }, data: { k: value } }), { "Content-Type": "application/apply-patch+yaml" });
    assert.equal((await apply("a", "1")).status, 201);
    assert.equal((await apply("b", "2")).status, 409, "b conflicts with a over data.k");
    const forced = await apply("b", "2", "&force=True");
    assert.equal(forced.status, 200, forced.body);
    assert.equal(json<{ data: { k: string } }>(forced.body).data.k, "2");
    // An orphaning delete leaves the orphan finalizer on an object that has finalizers to wait for.
    assert.equal((await c.request("PATCH", cm, JSON.stringify({ metadata: { finalizers: ["example.com/hold"] } }), { "Content-Type": "application/merge-patch+json" })).status, 200);
    const deleted = await c.request("DELETE", `${cm}?orphanDependents=1`);
    assert.equal(deleted.status, 200, deleted.body);
    assert.deepEqual(json<{ metadata: { finalizers: string[] } }>(deleted.body).metadata.finalizers, ["example.com/hold", "orphan"]);
    assert.equal((await c.request("PATCH", cm, JSON.stringify({ metadata: { finalizers: [] } }), { "Content-Type": "application/merge-patch+json" })).status, 200);
  });

  it("streams lists: sendInitialEvents sends the state, then a bookmark marking its end, then the changes", async () => {
    const ns = "/api/v1/namespaces/default/configmaps";
    for (const name of ["sl-a", "sl-b"]) assert.equal((await c.request("POST", ns, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { sl: "y" } } }))).status, 201);
    const stream = openWatch(s, `${ns}?watch=true&labelSelector=sl%3Dy&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
    try {
      const initial = await stream.until(3);
      assert.deepEqual(initial.map((e) => e.type), ["ADDED", "ADDED", "BOOKMARK"]);
      assert.deepEqual(initial.slice(0, 2).map((e) => (e.object["metadata"] as { name: string }).name).sort(), ["sl-a", "sl-b"]);
      const mark = initial[2]!.object["metadata"] as { resourceVersion: string; annotations?: Record<string, string> };
      assert.deepEqual(mark.annotations, { "k8s.io/initial-events-end": "true" });
      // A change after the initial state comes after the bookmark, at a later revision.
      const changed = await c.request("POST", ns, JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "sl-c", labels: { sl: "y" } } }));
      const all = await stream.until(4);
      assert.equal(all[3]?.type, "ADDED");
      assert.equal((all[3]!.object["metadata"] as { name: string }).name, "sl-c");
      assert.ok(Number(mark.resourceVersion) < Number(json<{ metadata: { resourceVersion: string } }>(changed.body).metadata.resourceVersion));
    } finally {
      stream.close();
    }

    // A plain watch from "" or "0" is one too (upstream's SetListOptionsDefaults in 1.32).
    const plainWithBookmarks = await watchEvents(s, `${ns}?watch=true&labelSelector=sl%3Dy&allowWatchBookmarks=true&timeoutSeconds=1`, 4);
    assert.deepEqual(plainWithBookmarks.map((e) => e.type), ["ADDED", "ADDED", "ADDED", "BOOKMARK"]);
    assert.deepEqual((plainWithBookmarks[3]!.object["metadata"] as { annotations?: Record<string, string> }).annotations, { "k8s.io/initial-events-end": "true" });
    // Without bookmarks, the state and no marker; with sendInitialEvents=false, only changes.
    const plain = await watchEvents(s, `${ns}?watch=true&labelSelector=sl%3Dy&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1`, 4);
    assert.deepEqual(plain.map((e) => e.type), ["ADDED", "ADDED", "ADDED"]);
    const onlyChanges = openWatch(s, `${ns}?watch=true&labelSelector=sl%3Dy&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=2`);
    try {
      // Its state is not sent: what arrives before its timeout is the deletion, if anything.
      const deleted = c.request("DELETE", `${ns}/sl-a`);
      await deleted;
      const seen = await onlyChanges.until(1, 3000);
      assert.ok(seen.every((e) => e.type === "DELETED"), JSON.stringify(seen.map((e) => e.type)));
    } finally {
      onlyChanges.close();
    }
  });

  it("refuses list and watch options that do not go together with upstream's 422 ListOptions causes", async () => {
    const cases: [string, string[]][] = [
      ["watch=true&sendInitialEvents=true", ["resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"]],
      ["watch=true&resourceVersionMatch=NotOlderThan", ["resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"]],
      ["watch=true&sendInitialEvents=true&resourceVersionMatch=Exact", ["resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan", 'resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"']],
      ["sendInitialEvents=true", ["sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"]],
      ["resourceVersionMatch=NotOlderThan", ["resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"]],
      ["resourceVersion=0&resourceVersionMatch=Exact", ['resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"']],
      ["resourceVersion=1&resourceVersionMatch=Newest", ['resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""']],
    ];
    for (const [query, want] of cases) {
      const r = await c.request("GET", `${PODS}?${query}`);
      assert.equal(r.status, 422, `${query}: ${r.body}`);
      const st = json<{ reason: string; details: { kind: string; group: string; causes: { field: string; message: string }[] } }>(r.body);
      assert.deepEqual([st.reason, st.details.kind, st.details.group], ["Invalid", "ListOptions", "meta.k8s.io"]);
      assert.deepEqual(st.details.causes.map((x) => `${x.field}: ${x.message}`), want, query);
    }
    // Booleans read as upstream's parameter codec reads them: any value but "0" and "false" is
    // true, so this list asks for initial events, which a list may not.
    const maybe = await c.request("GET", `${PODS}?sendInitialEvents=maybe`);
    assert.equal(maybe.status, 422, maybe.body);
    assert.match(maybe.body, /sendInitialEvents is forbidden for list/);
  });

  it("answers invalid objects with 422 and a cause per field", async () => {
    const bad = await c.request("POST", PODS, JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "Bad_Name" }, spec: { containers: [{ name: "", image: "" }] } }));
    assert.equal(bad.status, 422);
    const status = json<{ reason: string; message: string; details: { causes: { field: string }[] } }>(bad.body);
    assert.equal(status.reason, "Invalid");
    assert.match(status.message, /^Pod "Bad_Name" is invalid: \[/);
    assert.ok(status.details.causes.some((cause) => cause.field === "metadata.name"));
    const wrongType = await c.request("POST", PODS, JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: 5 } }));
    assert.equal(wrongType.status, 400);
    assert.match(json<{ message: string }>(wrongType.body).message, /cannot unmarshal number 5 into Go struct field .metadata.name of type string/);
    const strict = await c.request("POST", `${PODS}?fieldValidation=Strict`, JSON.stringify({ ...POD("strict"), spec: { containers: [{ name: "c", image: "x", bogus: 1 }] } }));
    assert.equal(strict.status, 400);
    assert.match(json<{ message: string }>(strict.body).message, /strict decoding error: unknown field "spec.containers\[0\].bogus"/);
    const warn = await c.request("POST", `${PODS}?fieldValidation=Warn`, JSON.stringify({ ...POD("warn"), spec: { containers: [{ name: "c", image: "x", bogus: 1 }] } }));
    assert.equal(warn.status, 201);
    assert.match(String(warn.headers["warning"]), /299 - "unknown field \\"spec.containers\[0\].bogus\\""/);
    // A null list element is an empty one, as Go decodes it: judged as such, never stored as null.
    const svcs = "/api/v1/namespaces/default/services";
    const svc = await c.request("POST", svcs, JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "nulls" }, spec: { type: "NodePort", selector: { a: "b" }, ports: [{ port: 80 }] } }));
    assert.equal(svc.status, 201, svc.body);
    const created = json<{ spec: { ports: unknown[] } }>(svc.body);
    const nulled = await c.request("PUT", `${svcs}/nulls`, JSON.stringify({ ...created, spec: { ...created.spec, ports: [created.spec.ports[0], null] } }));
    assert.equal(nulled.status, 422, nulled.body);
    assert.ok(json<{ details: { causes: { field: string }[] } }>(nulled.body).details.causes.some((cause) => cause.field === "spec.ports[1].port"), nulled.body);
  });

  it("serves discovery in both forms and OpenAPI v3", async () => {
    const agg = await c.request("GET", "/apis", undefined, { Accept: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json" });
    assert.equal(agg.headers["content-type"], "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    const apps = json<{ items: { metadata: { name: string }; versions: { resources: { resource: string; responseKind: unknown }[] }[] }[] }>(agg.body).items.find((g) => g.metadata.name === "apps");
    assert.ok(apps?.versions[0]?.resources.some((r) => r.resource === "deployments" && r.responseKind));
    const legacy = json<{ resources: { name: string }[] }>((await c.request("GET", "/api/v1")).body);
    assert.ok(legacy.resources.some((r) => r.name === "pods/status"));
    const root = json<{ paths: Record<string, { serverRelativeURL: string }> }>((await c.request("GET", "/openapi/v3")).body);
    const appsDoc = await c.request("GET", root.paths["apis/apps/v1"]!.serverRelativeURL);
    assert.equal(appsDoc.status, 200);
    assert.ok(json<{ components: { schemas: Record<string, unknown> } }>(appsDoc.body).components.schemas["io.k8s.api.apps.v1.Deployment"]);
  });

  it("exposes metrics", async () => {
    const m = await c.request("GET", "/metrics");
    assert.match(m.body, /apiserver_request_total\{verb="POST",group="",version="v1",resource="pods"/);
    assert.match(m.body, /apiserver_storage_request_duration_seconds_bucket/);
  });
  // Last: it leaves the mutating slot to be freed when the server notices the aborted upload.
  it("answers 429 with Retry-After beyond the mutating in-flight limit", async () => {
    const p = clusterPKIPaths(s.dataDir);
    // Hold the single mutating slot open by sending a body that never ends.
    const held = request(new URL(PODS, s.url), { method: "POST", ca: readFileSync(p.caCert), cert: readFileSync(p.adminCert), key: readFileSync(p.adminKey), headers: { "Content-Type": "application/json", "Content-Length": "1000" } });
    held.on("error", () => undefined);
    held.write("{");
    try {
      let r = await c.request("POST", PODS, JSON.stringify(POD("second")));
      for (let i = 0; r.status !== 429 && i < 50; i++) r = await c.request("POST", PODS, JSON.stringify(POD(`second-${i}`)));
      assert.equal(r.status, 429);
      assert.equal(r.headers["retry-after"], "1");
    } finally {
      held.destroy();
    }
  });
});
