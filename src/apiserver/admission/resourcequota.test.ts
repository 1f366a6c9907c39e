// ResourceQuota admission over real HTTPS. The test writes each quota's status itself, as the
// resource quota controller would (status.hard from spec.hard, status.used counted).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { apiServerForSuite } from "../../testing/apiserver.js";
import type { Status } from "../status.js";

interface Quota {
  metadata: { name: string; resourceVersion: string };
  spec: { hard: Record<string, string> };
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
}
describe("ResourceQuota admission", () => {
  const suite = apiServerForSuite({ defaultServiceAccount: true });
  let n = 0;

  const namespace = async (): Promise<string> => {
    const ns = `rq-${++n}`;
    assert.equal((await suite.client.request("POST", "/api/v1/namespaces", JSON.stringify({ metadata: { name: ns } }))).status, 201);
    return ns;
  };
  /** A quota whose status is `used` against its spec.hard (or no status when `used` is undefined). */
  const quota = async (ns: string, name: string, spec: Record<string, unknown>, used?: Record<string, string>): Promise<void> => {
    const r = await suite.client.request("POST", `/api/v1/namespaces/${ns}/resourcequotas`, JSON.stringify({ metadata: { name }, spec }));
    assert.equal(r.status, 201, r.body);
    if (used === undefined) return;
    const q = JSON.parse(r.body) as Quota;
    const s = await suite.client.request("PUT", `/api/v1/namespaces/${ns}/resourcequotas/${name}/status`, JSON.stringify({ ...q, status: { hard: q.spec.hard, used } }));
    assert.equal(s.status, 200, s.body);
  };
  const used = async (ns: string, name: string): Promise<Record<string, string> | undefined> => (JSON.parse((await suite.client.request("GET", `/api/v1/namespaces/${ns}/resourcequotas/${name}`)).body) as Quota).status?.used;
  const pod = (ns: string, name: string, resources?: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    suite.client.request("POST", `/api/v1/namespaces/${ns}/pods`, JSON.stringify({ metadata: { name }, spec: { containers: [{ name: "app", image: "busybox:1.35", ...(resources ? { resources } : {}) }], ...extra } }));
  const message = (body: string): string => (JSON.parse(body) as Status).message ?? "";

  it("charges creates to the quota and refuses the one past its hard limit with upstream's message", async () => {
    const ns = await namespace();
    await quota(ns, "q", { hard: { pods: "2", "requests.cpu": "1", configmaps: "5" } }, { pods: "0", "requests.cpu": "0", configmaps: "1" });
    assert.equal((await pod(ns, "a", { requests: { cpu: "400m" } })).status, 201);
    assert.deepEqual(await used(ns, "q"), { pods: "1", "requests.cpu": "400m", configmaps: "1" });
    const big = await pod(ns, "b", { requests: { cpu: "700m" } });
    assert.equal(big.status, 403, big.body);
    assert.equal(message(big.body), 'pods "b" is forbidden: exceeded quota: q, requested: requests.cpu=700m, used: requests.cpu=400m, limited: requests.cpu=1');
    assert.equal((await pod(ns, "c", { requests: { cpu: "600m" } })).status, 201);
    const third = await pod(ns, "d", { requests: { cpu: "0" } });
    assert.equal(third.status, 403, third.body);
    assert.equal(message(third.body), 'pods "d" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
    assert.deepEqual(await used(ns, "q"), { pods: "2", "requests.cpu": "1", configmaps: "1" });
    // Other kinds count under their own names.
    assert.equal((await suite.client.request("POST", `/api/v1/namespaces/${ns}/configmaps`, JSON.stringify({ metadata: { name: "cm" } }))).status, 201);
    assert.equal((await used(ns, "q"))?.["configmaps"], "2");
  });

  it("lets no two concurrent creates take the last unit", async () => {
    const ns = await namespace();
    await quota(ns, "q", { hard: { "count/configmaps": "3" } }, { "count/configmaps": "0" });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => suite.client.request("POST", `/api/v1/namespaces/${ns}/configmaps`, JSON.stringify({ metadata: { name: `cm-${i}` } }))));
    assert.deepEqual(
      answers.map((a) => a.status).sort(),
      [201, 201, 201, 403, 403, 403, 403, 403, 403, 403],
    );
    assert.equal((await used(ns, "q"))?.["count/configmaps"], "3");
  });

  it("refuses while the quota's status is unknown, and pods without the requests a compute quota needs", async () => {
    const ns = await namespace();
    await quota(ns, "fresh", { hard: { pods: "5" } });
    const early = await pod(ns, "a");
    assert.equal(early.status, 403, early.body);
    assert.equal(message(early.body), 'pods "a" is forbidden: status unknown for quota: fresh, resources: pods');
    // Objects the quota does not track pass.
    assert.equal((await suite.client.request("POST", `/api/v1/namespaces/${ns}/configmaps`, JSON.stringify({ metadata: { name: "cm" } }))).status, 201);

    const other = await namespace();
    await quota(other, "compute", { hard: { "limits.memory": "1Gi", "requests.cpu": "1" } }, { "limits.memory": "0", "requests.cpu": "0" });
    const bare = await pod(other, "bare");
    assert.equal(bare.status, 403, bare.body);
    assert.equal(message(bare.body), 'pods "bare" is forbidden: failed quota: compute: must specify limits.memory for: app; requests.cpu for: app');
  });

  it("counts only what a scoped quota covers, and charges nothing on a dry run", async () => {
    const ns = await namespace();
    await quota(ns, "besteffort", { hard: { pods: "1" }, scopes: ["BestEffort"] }, { pods: "0" });
    assert.equal((await pod(ns, "sized", { requests: { cpu: "100m" } })).status, 201, "not best effort: not covered");
    assert.equal((await used(ns, "besteffort"))?.["pods"], "0");
    const dry = await suite.client.request("POST", `/api/v1/namespaces/${ns}/pods?dryRun=All`, JSON.stringify({ metadata: { name: "dry" }, spec: { containers: [{ name: "app", image: "busybox:1.35" }] } }));
    assert.equal(dry.status, 201, dry.body);
    assert.equal((await used(ns, "besteffort"))?.["pods"], "0", "a dry run is checked, not charged");
    assert.equal((await pod(ns, "free")).status, 201);
    const second = await pod(ns, "free2");
    assert.equal(second.status, 403, second.body);
    assert.match(message(second.body), /exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1$/);
  });

  it("charges an update for what it adds: a service that becomes a NodePort", async () => {
    const ns = await namespace();
    await quota(ns, "q", { hard: { "services.nodeports": "1", services: "5" } }, { "services.nodeports": "0", services: "0" });
    const svc = (name: string, ports: number) => suite.client.request("POST", `/api/v1/namespaces/${ns}/services`, JSON.stringify({ metadata: { name }, spec: { selector: { a: "b" }, ports: Array.from({ length: ports }, (_, i) => ({ name: `p${i}`, port: 80 + i })) } }));
    const toNodePort = (name: string) => suite.client.request("PATCH", `/api/v1/namespaces/${ns}/services/${name}`, JSON.stringify({ spec: { type: "NodePort" } }), { "Content-Type": "application/merge-patch+json" });
    assert.equal((await svc("two", 2)).status, 201);
    assert.equal((await svc("one", 1)).status, 201);
    const two = await toNodePort("two");
    assert.equal(two.status, 403, two.body);
    assert.equal(message(two.body), 'services "two" is forbidden: exceeded quota: q, requested: services.nodeports=2, used: services.nodeports=0, limited: services.nodeports=1');
    assert.equal((await toNodePort("one")).status, 200);
    assert.deepEqual(await used(ns, "q"), { "services.nodeports": "1", services: "2" });
    // An update that adds nothing is not charged.
    const label = await suite.client.request("PATCH", `/api/v1/namespaces/${ns}/services/one`, JSON.stringify({ metadata: { labels: { x: "y" } } }), { "Content-Type": "application/merge-patch+json" });
    assert.equal(label.status, 200, label.body);
    assert.deepEqual(await used(ns, "q"), { "services.nodeports": "1", services: "2" });
  });

  it("counts a NodePort service's ports and a claim's storage", async () => {
    const ns = await namespace();
    await quota(ns, "q", { hard: { "services.nodeports": "2", "requests.storage": "5Gi" } }, { "services.nodeports": "0", "requests.storage": "0" });
    const svc = (name: string, ports: number) => suite.client.request("POST", `/api/v1/namespaces/${ns}/services`, JSON.stringify({ metadata: { name }, spec: { type: "NodePort", selector: { a: "b" }, ports: Array.from({ length: ports }, (_, i) => ({ name: `p${i}`, port: 80 + i })) } }));
    assert.equal((await svc("two", 2)).status, 201);
    const three = await svc("one-more", 1);
    assert.equal(three.status, 403, three.body);
    assert.match(message(three.body), /exceeded quota: q, requested: services.nodeports=1, used: services.nodeports=2, limited: services.nodeports=2/);
    const claim = await suite.client.request("POST", `/api/v1/namespaces/${ns}/persistentvolumeclaims`, JSON.stringify({ metadata: { name: "c" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "6Gi" } } } }));
    assert.equal(claim.status, 403, claim.body);
    assert.match(message(claim.body), /requested: requests.storage=6Gi, used: requests.storage=0, limited: requests.storage=5Gi/);
  });
});
