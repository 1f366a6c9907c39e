// Bad input never breaks the server: thousands of mutated objects and malformed requests get
// 4xx answers in Kubernetes' Status format — no 5xx, no crash — and the server still serves
// afterwards. Deterministic (seeded) so a failure reproduces.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startTestApiServer, type TestApiServer } from "../../src/testing/apiserver.js";
import { adminClient, createDefaultServiceAccount, type RawClient, type RawResponse } from "../../src/testing/client.js";
import { resourceCases } from "../../src/testing/resource-cases.js";
import { builtinResources } from "../../src/apiserver/resources/index.js";

const TOTAL = Number(process.env["K8TS_FUZZ_REQUESTS"] ?? 10_000);
/** Writes on existing objects (every kind with a realistic body). */
const WRITES = Number(process.env["K8TS_FUZZ_WRITES"] ?? 8_000);
/** Another seed explores other requests; the default one is what CI sends. */
const SEED = Number(process.env["K8TS_FUZZ_SEED"] ?? 20261127);

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seeds: { path: string; obj: Record<string, unknown>; createOnly?: boolean }[] = [
  { path: "/api/v1/namespaces/default/configmaps", obj: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", labels: { a: "b" } }, data: { k: "v" } } },
  { path: "/api/v1/namespaces/default/pods", obj: { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "busybox:1.35", ports: [{ containerPort: 80 }], resources: { limits: { cpu: "1", memory: "64Mi" } } }] } } },
  { path: "/apis/apps/v1/namespaces/default/deployments", obj: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { replicas: 2, selector: { matchLabels: { app: "d" } }, template: { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } } } } },
  { path: "/api/v1/namespaces/default/services", obj: { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { selector: { app: "d" }, ports: [{ port: 80, targetPort: 8080 }] } } },
  { path: "/api/v1/namespaces", obj: { apiVersion: "v1", kind: "Namespace", metadata: { name: "ns" } } },
  { path: "/apis/batch/v1/namespaces/default/jobs", obj: { apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox:1.35" }] } } } } },
  { path: "/apis/node.k8s.io/v1/runtimeclasses", obj: { apiVersion: "node.k8s.io/v1", kind: "RuntimeClass", metadata: { name: "rc" }, handler: "runc", overhead: { podFixed: { cpu: "10m", memory: "8Mi" } }, scheduling: { nodeSelector: { a: "b" }, tolerations: [{ key: "k", operator: "Exists" }] } } },
  { path: "/api/v1/namespaces/default/pods", obj: { apiVersion: "v1", kind: "Pod", metadata: { name: "p2" }, spec: { runtimeClassName: "rc", overhead: { cpu: "10m", memory: "8Mi" }, nodeSelector: { a: "b" }, containers: [{ name: "c", image: "busybox:1.35" }] } } },
  { path: "/api/v1/namespaces/default/bindings", obj: { apiVersion: "v1", kind: "Binding", metadata: { name: "p", uid: "u", annotations: { a: "b" } }, target: { kind: "Node", name: "n" } }, createOnly: true },
  { path: "/api/v1/namespaces/default/pods/p2/binding", obj: { apiVersion: "v1", kind: "Binding", metadata: { name: "p2" }, target: { kind: "Node", name: "n" } }, createOnly: true },
  { path: "/apis/authorization.k8s.io/v1/subjectaccessreviews", obj: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec: { user: "u", groups: ["g"], extra: { k: ["v"] }, resourceAttributes: { verb: "get", resource: "pods", namespace: "default" } } }, createOnly: true },
  { path: "/apis/authorization.k8s.io/v1/namespaces/default/localsubjectaccessreviews", obj: { apiVersion: "authorization.k8s.io/v1", kind: "LocalSubjectAccessReview", spec: { user: "u", resourceAttributes: { verb: "get", resource: "pods", namespace: "default" } } }, createOnly: true },
  // With a resourceVersion precondition an eviction that conflicts answers at once; with a uid
  // precondition alone it retries for 10 s as upstream's (EvictionsRetry), which mutations that
  // drop the resourceVersion still reach.
  { path: "/api/v1/namespaces/default/pods/p2/eviction", obj: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "p2" }, deleteOptions: { gracePeriodSeconds: 5, preconditions: { uid: "u", resourceVersion: "1" }, dryRun: ["All"] } }, createOnly: true },
  { path: "/api/v1/namespaces/default/serviceaccounts/default/token", obj: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: ["a"], expirationSeconds: 3600, boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p2", uid: "u" } } }, createOnly: true },
  { path: "/apis/authentication.k8s.io/v1/tokenreviews", obj: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: "t", audiences: ["a"] } }, createOnly: true },
];

const weird: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 53, "", "x", "-1", "\u0000", "a".repeat(70_000), [], [null], {}, { "": "" }, { $patch: "delete" }, "${x}", "../..", "ÿ", -0];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function mutate(r: () => number, value: unknown, depth = 0): unknown {
  if (typeof value !== "object" || value === null || depth > 6) return r() < 0.3 ? pick(r, weird) : value;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const action = r();
  if (keys.length === 0 || action < 0.15) {
    (copy as Record<string, unknown>)[pick(r, ["x", "metadata", "spec", "status", "name", "0", "__proto__", "constructor"])] = pick(r, weird);
  } else if (action < 0.3) {
    delete (copy as Record<string, unknown>)[pick(r, keys)];
  } else if (action < 0.45) {
    (copy as Record<string, unknown>)[pick(r, keys)] = pick(r, weird);
  } else {
    const k = pick(r, keys);
    (copy as Record<string, unknown>)[k] = mutate(r, (copy as Record<string, unknown>)[k], depth + 1);
  }
  return copy;
}

/** A seed's name (reviews have none: they are created, answered and never stored). */
const nameOf = (obj: Record<string, unknown>): string => (obj["metadata"] as { name?: string } | undefined)?.name ?? "unnamed";

function malformed(r: () => number): { method: string; path: string; body?: string; headers?: Record<string, string> } {
  const s = pick(r, seeds);
  const text = JSON.stringify(s.obj);
  switch (Math.floor(r() * 10)) {
    case 0:
      return { method: "POST", path: s.path, body: text.slice(0, Math.floor(r() * text.length)) };
    case 1:
      return { method: "POST", path: s.path, body: text, headers: { "Content-Type": pick(r, ["text/plain", "application/xml", "application/vnd.kubernetes.protobuf", "application/yaml", ""]) } };
    case 2:
      return { method: pick(r, ["GET", "DELETE", "PATCH", "PUT", "POST"]), path: `${s.path}/${encodeURIComponent(pick(r, ["..", "a/b", "%", "x".repeat(300), "UPPER", "ok"]))}${pick(r, ["", "/status", "/scale", "/bogus", "/binding", "/eviction"])}`, body: text };
    case 3:
      return { method: "GET", path: `${s.path}?${pick(r, ["limit=abc", "limit=-1", "resourceVersion=x", "resourceVersion=99999999999999999999", "labelSelector=a%20in%20(", "labelSelector=!!", "fieldSelector=spec.bogus=1", "fieldSelector===", "continue=garbage", "resourceVersionMatch=Exact", "watch=true&resourceVersion=1&timeoutSeconds=1", "watch=true&timeoutSeconds=-5&resourceVersion=abc"])}` };
    case 4:
      return { method: "PATCH", path: `${s.path}/${nameOf(s.obj)}`, body: pick(r, ["[]", "{}", "[{\"op\":\"bogus\"}]", "[{\"op\":\"test\",\"path\":\"/x\",\"value\":1}]", "null", "{\"$patch\":\"replace\"}", "{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}", "{\"metadata\":{\"$retainKeys\":7}}"]), headers: { "Content-Type": pick(r, ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml", "application/json"]) } };
    case 5:
      return { method: "DELETE", path: `${s.path}/${nameOf(s.obj)}`, body: pick(r, ["{\"gracePeriodSeconds\":-3}", "{\"propagationPolicy\":\"Sideways\"}", "{\"preconditions\":{\"uid\":\"nope\"}}", "[1]", "{\"orphanDependents\":true,\"propagationPolicy\":\"Orphan\"}"]) };
    case 6:
      return {
        method: "GET",
        path: pick(r, [
          "/apis/nope/v1/things",
          "/api/v2",
          "/apis/apps/v9",
          "/openapi/v3/apis/nope/v1",
          "/api/v1/namespaces/default/nothings",
          "/%",
          "/apis/apps/v1/namespaces/default/deployments/d/scale/extra",
          "/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=a%20in%20(",
          "/apis/metrics.k8s.io/v1beta1/pods?fieldSelector===",
          "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/p?watch=1",
          "/apis/metrics.k8s.io/v1beta1/nodes/x/status",
          "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?includeObject=All",
        ]),
      };
    case 7:
      return { method: "POST", path: s.path, body: `{"a":${"[".repeat(2000)}${"]".repeat(2000)}}` };
    case 8:
      return { method: "POST", path: s.path, body: "x".repeat(3 * 1024 * 1024 + 10) };
    default:
      // What is only ever created (reviews, bindings) gets its mutations posted.
      return s.createOnly ? { method: "POST", path: s.path, body: JSON.stringify(mutate(r, s.obj)) } : { method: "PUT", path: `${s.path}/${nameOf(s.obj)}`, body: JSON.stringify(mutate(r, s.obj)) };
  }
}

type FuzzRequest = { method: string; path: string; body?: string; headers?: Record<string, string> };

/** Counts the answer's code; a 5xx, or a 4xx that is not a Status, is a failure. */
function judge(req: FuzzRequest, res: RawResponse, codes: Map<number, number>, failures: string[]): void {
  codes.set(res.status, (codes.get(res.status) ?? 0) + 1);
  if (res.status >= 500) failures.push(`${res.status} ${req.method} ${req.path} ${String(req.body).slice(0, 200)} → ${res.body.slice(0, 300)}`);
  if (res.status >= 400 && !res.headers["content-type"]?.toString().startsWith("text/plain") && res.status !== 404) {
    const parsed = JSON.parse(res.body) as { kind?: string; code?: number };
    if (parsed.kind !== "Status" || parsed.code !== res.status) failures.push(`not a Status: ${res.status} ${req.method} ${req.path}: ${res.body.slice(0, 200)}`);
  }
}

/** An existing object to write on: a realistic body of its kind (testing/resource-cases.ts). */
interface Target {
  readonly path: string;
  readonly name: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly body: Record<string, unknown>;
  /** Subresources that write part of the object: `/status`, pods' `/ephemeralcontainers`. */
  readonly partWrites: readonly string[];
  readonly scale: boolean;
}

function targets(): Target[] {
  const out: Target[] = [];
  for (const def of builtinResources()) {
    const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    const cases = (resourceCases[`${apiVersion}/${def.kind}`] ?? []).filter((c) => c.writtenBy === undefined);
    cases.forEach((c, i) =>
      out.push({
        path: `${def.group ? `/apis/${def.group}` : "/api"}/${def.version}${def.namespaced ? "/namespaces/default" : ""}/${def.plural}`,
        name: `fz-${def.plural.replace(/[^a-z0-9]/g, "")}-${i}`,
        apiVersion,
        kind: def.kind,
        body: c.body as Record<string, unknown>,
        partWrites: (["status", "ephemeralcontainers"] as const).filter((sub) => def.subresources?.includes(sub)).map((sub) => `/${sub}`),
        scale: def.subresources?.includes("scale") ?? false,
      }),
    );
  }
  return out;
}

/**
 * `obj` with one element of one of its lists (any depth, managedFields aside) replaced or joined
 * by a null, an empty object, "" or 0: list elements are where validators and allocators walk.
 */
function withOddElement(r: () => number, obj: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(obj);
  const lists: unknown[][] = [];
  const collect = (v: unknown, key: string): void => {
    if (key === "managedFields" || typeof v !== "object" || v === null) return;
    if (Array.isArray(v)) lists.push(v);
    for (const [k, x] of Object.entries(v)) collect(x, k);
  };
  collect(copy, "");
  if (lists.length === 0) return copy;
  const list = pick(r, lists);
  list[Math.floor(r() * (list.length + 1))] = pick(r, [null, {}, "", 0]);
  return copy;
}

/**
 * A mutated write on `obj` (the target's object as stored): PUT of the object, its status or
 * its ephemeral containers (mutated, or with an odd list element), a merge, strategic, JSON or
 * apply patch of one part, a /scale write, a mutated ephemeral container added as kubectl debug
 * adds one, or a create of a mutated body.
 */
function writeOn(r: () => number, t: Target, obj: Record<string, unknown>, n: number): FuzzRequest | undefined {
  const at = `${t.path}/${t.name}${t.partWrites.length > 0 && r() < 0.5 ? pick(r, t.partWrites) : ""}`;
  const part = pick(r, ["spec", "status", "metadata"]);
  switch (Math.floor(r() * 7)) {
    case 0:
      return { method: "PUT", path: at, body: JSON.stringify(r() < 0.5 ? mutate(r, obj) : withOddElement(r, obj)) };
    case 1:
      // Deeper: the mutations spent on one part.
      return { method: "PUT", path: at, body: JSON.stringify({ ...obj, [part]: mutate(r, obj[part] ?? {}) }) };
    case 2:
      return { method: "PATCH", path: at, body: JSON.stringify({ [part]: mutate(r, obj[part] ?? {}) }), headers: { "Content-Type": pick(r, ["application/merge-patch+json", "application/strategic-merge-patch+json"]) } };
    case 3: {
      const keys = Object.keys((obj[part] as Record<string, unknown> | undefined) ?? { x: 1 });
      return { method: "PATCH", path: at, body: JSON.stringify([{ op: pick(r, ["add", "replace", "remove"]), path: `/${part}/${pick(r, keys)}`, value: pick(r, weird) }]), headers: { "Content-Type": "application/json-patch+json" } };
    }
    case 4:
      return { method: "PATCH", path: `${at}?fieldManager=fuzz&force=true`, body: JSON.stringify({ apiVersion: t.apiVersion, kind: t.kind, metadata: { name: t.name }, [part]: mutate(r, obj[part] ?? {}) }), headers: { "Content-Type": "application/apply-patch+yaml" } };
    case 5:
      // What kubectl debug sends: the ephemeral containers with one more, here a mutated one.
      if (t.partWrites.includes("/ephemeralcontainers") && r() < 0.5) {
        const existing = ((obj["spec"] as { ephemeralContainers?: unknown[] } | undefined)?.ephemeralContainers ?? []).slice();
        const added = mutate(r, { name: `dbg-${n}`, image: "busybox:1.35", targetContainerName: "c", stdin: true, tty: true });
        return { method: "PATCH", path: `${t.path}/${t.name}/ephemeralcontainers`, body: JSON.stringify({ spec: { ephemeralContainers: [...existing, added] } }), headers: { "Content-Type": "application/strategic-merge-patch+json" } };
      }
      if (!t.scale) return undefined;
      return { method: "PATCH", path: `${t.path}/${t.name}/scale`, body: JSON.stringify({ spec: { replicas: pick(r, weird) } }), headers: { "Content-Type": pick(r, ["application/merge-patch+json", "application/strategic-merge-patch+json"]) } };
    default:
      return { method: "POST", path: t.path, body: JSON.stringify(mutate(r, { apiVersion: t.apiVersion, kind: t.kind, metadata: { name: `${t.name}-${n}` }, ...structuredClone(t.body) })) };
  }
}

describe("fuzz", () => {
  let s: TestApiServer;
  let c: RawClient;
  before(async () => {
    // The webhook and policy plugins are off: a webhook configuration the fuzz stores would
    // otherwise make every later matching write call a service that does not exist, and fail
    // with upstream's 500 ("failed calling webhook"), and a policy binding could refuse them:
    // both the contract, not bugs of the server.
    s = await startTestApiServer({ maxRequestsInflight: 10_000, maxMutatingRequestsInflight: 10_000, disableAdmissionPlugins: ["ServiceAccount", "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook"] });
    c = adminClient(s.url, s.dataDir, { maxSockets: 8 });
  });
  after(async () => {
    c?.close();
    await s?.stop();
  });

  it(`answers ${TOTAL} mutated and malformed requests without a 5xx`, async () => {
    const r = prng(20261126);
    const failures: string[] = [];
    const codes = new Map<number, number>();
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (sent < TOTAL) {
        sent++;
        const req = r() < 0.5 ? (() => {
          const seed = pick(r, seeds);
          return { method: "POST", path: seed.path, body: JSON.stringify(mutate(r, seed.obj)) } as { method: string; path: string; body?: string; headers?: Record<string, string> };
        })() : malformed(r);
        const res = await c.request(req.method, req.path, req.body, req.headers);
        judge(req, res, codes, failures);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.deepEqual(failures.slice(0, 20), [], `codes: ${JSON.stringify([...codes])}`);
    const health = await c.request("GET", "/readyz");
    assert.equal(health.status, 200);
    const list = await c.request("GET", "/api/v1/namespaces");
    assert.equal(list.status, 200);
  });

  // The /status, patch and apply paths work on stored objects (the watch cache's, frozen), so
  // mutated writes on existing objects of every kind reach code a mutated create does not.
  it(`answers ${WRITES} mutated writes on existing objects of every kind without a 5xx`, async () => {
    await createDefaultServiceAccount(c);
    const all = targets();
    assert.ok(all.length > 25, `${all.length} targets`);
    const r = prng(SEED);
    const failures: string[] = [];
    const codes = new Map<number, number>();
    /** The target's object as stored now, created first if a write deleted or never made it. */
    const live = async (t: Target): Promise<Record<string, unknown> | undefined> => {
      const got = await c.request("GET", `${t.path}/${t.name}`);
      if (got.status === 200) return JSON.parse(got.body) as Record<string, unknown>;
      const req = { method: "POST", path: t.path, body: JSON.stringify({ apiVersion: t.apiVersion, kind: t.kind, metadata: { name: t.name }, ...t.body }) };
      const made = await c.request(req.method, req.path, req.body);
      judge(req, made, codes, failures);
      return made.status === 201 ? (JSON.parse(made.body) as Record<string, unknown>) : undefined;
    };
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (sent < WRITES) {
        const n = sent++;
        const t = pick(r, all);
        const obj = await live(t);
        const req = obj && writeOn(r, t, obj, n);
        if (!req) continue;
        judge(req, await c.request(req.method, req.path, req.body, req.headers), codes, failures);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.deepEqual(failures.slice(0, 20), [], `codes: ${JSON.stringify([...codes])}`);
    assert.ok((codes.get(200) ?? 0) > WRITES / 4, `most writes should land: ${JSON.stringify([...codes])}`);
    assert.equal((await c.request("GET", "/readyz")).status, 200);
  });
});
