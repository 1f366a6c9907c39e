import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { Quantity } from "../../api/quantity.js";
import { goQuote } from "../../api/fielderrors.js";
import { DownwardApiError, fieldRefValue, formatMap, resourceFieldRefValue } from "./downward.js";
import { ServiceAccountTokens, type TokenRequest } from "./tokens.js";
import type { ObjectSource } from "../types.js";
import { createLogger } from "../../util/log.js";

const pod: Pod = {
  metadata: {
    name: "web-1",
    namespace: "shop",
    uid: "1234-abcd",
    labels: { tier: "front", app: "web" },
    annotations: { "note/x": 'say "hi"\nbye', plain: "ü" },
  },
  spec: {
    containers: [
      { name: "main", image: "busybox", resources: { limits: { cpu: "500m", memory: "64Mi" }, requests: { cpu: "250m", memory: "32Mi" } } },
      { name: "bare", image: "busybox" },
    ],
    initContainers: [{ name: "init", image: "busybox", resources: { limits: { "ephemeral-storage": "1Gi" } } }],
  },
};

const allocatable = { cpu: Quantity.parse("4"), memory: Quantity.parse("8Gi"), "ephemeral-storage": Quantity.parse("100Gi") };

describe("downward API values", () => {
  it("quotes as Go's %q", () => {
    assert.equal(goQuote("plain"), '"plain"');
    assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(goQuote("l1\nl2\t\x01\x7f"), '"l1\\nl2\\t\\x01\\x7f"');
    assert.equal(goQuote("ünïcode ✓"), '"ünïcode ✓"');
  });

  it("renders labels and annotations as sorted k=\"v\" lines without a trailing newline", () => {
    assert.equal(formatMap({ b: "2", a: "1" }), 'a="1"\nb="2"');
    assert.equal(fieldRefValue(pod, { fieldPath: "metadata.labels" }), 'app="web"\ntier="front"');
    assert.equal(fieldRefValue(pod, { fieldPath: "metadata.annotations" }), 'note/x="say \\"hi\\"\\nbye"\nplain="ü"');
    assert.equal(fieldRefValue({ metadata: {} }, { fieldPath: "metadata.labels" }), "");
  });

  it("metadata fields and subscripted labels/annotations", () => {
    assert.equal(fieldRefValue(pod, { fieldPath: "metadata.name" }), "web-1");
    assert.equal(fieldRefValue(pod, { fieldPath: "metadata.namespace" }), "shop");
    assert.equal(fieldRefValue(pod, { fieldPath: "metadata.uid" }), "1234-abcd");
    assert.equal(fieldRefValue(pod, { fieldPath: "metadata.labels['app']" }), "web");
    assert.equal(fieldRefValue(pod, { fieldPath: "metadata.annotations['note/x']" }), 'say "hi"\nbye');
    assert.throws(() => fieldRefValue(pod, { fieldPath: "spec.nodeName" }), (e: unknown) => e instanceof DownwardApiError && e.message === "unsupported fieldPath: spec.nodeName");
  });

  it("resource values divided by the divisor and rounded up; unset limits are the node's allocatable", () => {
    const v = (containerName: string, resource: string, divisor?: string): string => resourceFieldRefValue(pod, { containerName, resource, ...(divisor ? { divisor } : {}) }, allocatable);
    assert.equal(v("main", "limits.cpu"), "1");
    assert.equal(v("main", "limits.cpu", "1m"), "500");
    assert.equal(v("main", "requests.cpu", "1m"), "250");
    assert.equal(v("main", "limits.memory"), String(64 * 1024 * 1024));
    assert.equal(v("main", "limits.memory", "1Mi"), "64");
    assert.equal(v("main", "requests.memory", "1M"), "34");
    assert.equal(v("main", "limits.cpu", "0"), "1");
    assert.equal(v("bare", "limits.cpu"), "4");
    assert.equal(v("bare", "limits.memory", "1Gi"), "8");
    assert.equal(v("bare", "requests.memory"), "0");
    assert.equal(v("init", "limits.ephemeral-storage", "1Mi"), "1024");
    assert.throws(() => v("nope", "limits.cpu"), /container nope not found/);
    assert.throws(() => v("main", "limits.gpu"), /unsupported container resource : limits.gpu/);
  });
});

describe("ServiceAccountTokens", () => {
  const log = createLogger("silent");
  const req: TokenRequest = { namespace: "ns", serviceAccount: "sa", audiences: [], expirationSeconds: 3600, podName: "p", podUid: "u1" };

  function fakeSource(now: () => number, ttlSeconds: number): { source: ObjectSource; calls: unknown[]; fail: { on: boolean } } {
    const calls: unknown[] = [];
    const fail = { on: false };
    const source: ObjectSource = {
      configMap: () => Promise.resolve(undefined),
      secret: () => Promise.resolve(undefined),
      services: () => Promise.resolve([]),
      runtimeHandler: () => Promise.resolve(undefined),
      persistentVolumeClaim: () => Promise.resolve(undefined),
      persistentVolume: () => Promise.resolve(undefined),
      serviceAccountToken: (ns, sa, r) => {
        calls.push([ns, sa, r]);
        if (fail.on) return Promise.reject(new Error("server down"));
        return Promise.resolve({ token: `t${calls.length}`, expirationTimestamp: new Date(now() + ttlSeconds * 1000).toISOString() });
      },
    };
    return { source, calls, fail };
  }

  it("renews once 80% of the granted lifetime has passed", async () => {
    let t = Date.parse("2025-01-01T00:00:00Z");
    const { source, calls } = fakeSource(() => t, 3600);
    const tokens = new ServiceAccountTokens(source, log, () => t);
    assert.equal(await tokens.get(req), "t1");
    assert.deepEqual(calls[0], ["ns", "sa", { audiences: [], expirationSeconds: 3600, podName: "p", podUid: "u1" }]);
    t += 2879_000;
    assert.equal(await tokens.get(req), "t1");
    t += 2_000;
    assert.equal(await tokens.get(req), "t2");
    assert.equal(calls.length, 2);
  });

  it("renews a long-lived token after 24 hours", async () => {
    let t = 0;
    const { source } = fakeSource(() => t, 7 * 24 * 3600);
    const tokens = new ServiceAccountTokens(source, log, () => t);
    assert.equal(await tokens.get(req), "t1");
    t += 23 * 3600_000;
    assert.equal(await tokens.get(req), "t1");
    t += 3600_000;
    assert.equal(await tokens.get(req), "t2");
  });

  it("keeps serving a still-valid token when renewal fails, fails once it expired; tokens are per pod", async () => {
    let t = 0;
    const { source, fail } = fakeSource(() => t, 1000);
    const tokens = new ServiceAccountTokens(source, log, () => t);
    assert.equal(await tokens.get(req), "t1");
    fail.on = true;
    t += 900_000;
    assert.equal(await tokens.get(req), "t1");
    t += 200_000;
    await assert.rejects(tokens.get(req), /server down/);
    fail.on = false;
    assert.equal(await tokens.get({ ...req, podUid: "u2" }), "t4");
    tokens.forgetPod("u2");
    assert.equal(await tokens.get({ ...req, podUid: "u2" }), "t5");
  });
});
