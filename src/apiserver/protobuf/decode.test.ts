// Bodies are built field by field from upstream's published field numbers (generated.proto),
// independently of our schema table, so these tests check the table as well as the decoder.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeProtobufObject, formatGoDuration, MAX_NESTING, ProtobufDecodeError, type ProtobufDecodeErrorCode } from "./decode.js";
import { PROTOBUF_MAGIC } from "./envelope.js";
import { coveredKinds, messageDef, messageNames } from "./schema.js";
import { WireType } from "./wire.js";
import { encodeEnvelope, WireWriter } from "./writer.js";

type Build = (w: WireWriter) => unknown;

function body(apiVersion: string, kind: string, build: Build): Uint8Array {
  const w = new WireWriter();
  build(w);
  return encodeEnvelope(apiVersion, kind, w.finish());
}

function decode(apiVersion: string, kind: string, build: Build): Record<string, unknown> {
  return decodeProtobufObject(body(apiVersion, kind, build)).object;
}

function fails(code: ProtobufDecodeErrorCode, fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof ProtobufDecodeError && err.code === code);
}

/** ObjectMeta fields: name 1, namespace 3, labels 11, annotations 12. */
function meta(name: string, extra: Build = () => undefined): Build {
  return (m) => {
    m.string(1, name);
    extra(m);
  };
}

/** What Go's typed clients always write for a non-pointer field: tag plus zero value. */
const goZeroStrings = (m: WireWriter, ...fields: number[]): void => {
  for (const f of fields) m.string(f, "");
};

void describe("decodeProtobufObject: objects as kubectl sends them", () => {
  void it("decodes a ConfigMap, dropping zero-valued omitempty strings Go writes anyway", () => {
    const obj = decode("v1", "ConfigMap", (w) =>
      w
        .message(1, (m) => {
          m.string(1, "foo");
          goZeroStrings(m, 2, 3, 4, 5, 6);
          m.int(7, 0);
          m.message(8, () => undefined); // zero creationTimestamp: empty Time
        })
        .mapEntry(2, "a", "b")
        .mapEntry(2, "c", "d")
        .message(3, (e) => e.string(1, "bin").bytes(2, [0, 1, 254, 255])),
    );
    assert.deepEqual(obj, {
      kind: "ConfigMap",
      apiVersion: "v1",
      metadata: { name: "foo" },
      data: { a: "b", c: "d" },
      binaryData: { bin: "AAH+/w==" },
    });
  });

  void it("decodes a Deployment as `kubectl create deployment web --image=busybox:1.35 --replicas=3 -- httpd -f -p 8080` sends it", () => {
    const obj = decode("apps/v1", "Deployment", (w) =>
      w
        .message(1, meta("web", (m) => m.mapEntry(11, "app", "web")))
        .message(2, (spec) =>
          spec
            .int(1, 3)
            .message(2, (sel) => sel.mapEntry(1, "app", "web"))
            .message(3, (tmpl) =>
              tmpl
                .message(1, (m) => m.string(1, "").mapEntry(11, "app", "web"))
                .message(2, (pod) =>
                  pod.message(2, (c) =>
                    c
                      .string(1, "busybox")
                      .string(2, "busybox:1.35")
                      .string(3, "httpd")
                      .string(3, "-f")
                      .string(3, "-p")
                      .string(3, "8080")
                      .message(8, () => undefined)
                      .string(13, "")
                      .string(20, "")
                      .string(14, "")
                      .int(16, false)
                      .int(17, false)
                      .int(18, false),
                  ),
                ),
            )
            .message(4, (s) => s.string(1, ""))
            .int(5, 0)
            .int(7, false),
        )
        .message(3, (st) => st.int(1, 0).int(2, 0)),
    );
    assert.deepEqual(obj, {
      kind: "Deployment",
      apiVersion: "apps/v1",
      metadata: { name: "web", labels: { app: "web" } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "busybox", image: "busybox:1.35", command: ["httpd", "-f", "-p", "8080"], resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    });
  });

  void it("keeps a pointer field present with its zero value (replicas: 0) and writes nil non-omitempty fields as null", () => {
    const obj = decode("apps/v1", "Deployment", (w) => w.message(1, meta("zero")).message(2, (spec) => spec.int(1, 0)));
    assert.deepEqual(obj["spec"], { replicas: 0, selector: null, template: { metadata: {}, spec: { containers: null } }, strategy: {} });
  });

  void it("decodes a Secret with binary data, stringData and type", () => {
    const all = Array.from({ length: 256 }, (_, i) => i);
    const obj = decode("v1", "Secret", (w) =>
      w
        .message(1, meta("s", (m) => m.string(3, "ns1")))
        .message(2, (e) => e.string(1, "bin").bytes(2, all))
        .message(2, (e) => e.string(1, "empty").bytes(2, []))
        .message(2, (e) => e.string(1, "nil"))
        .mapEntry(4, "plain", "text")
        .string(3, "Opaque")
        .int(5, false),
    );
    assert.deepEqual(obj, {
      kind: "Secret",
      apiVersion: "v1",
      metadata: { name: "s", namespace: "ns1" },
      immutable: false,
      data: { bin: Buffer.from(all).toString("base64"), empty: "", nil: null },
      stringData: { plain: "text" },
      type: "Opaque",
    });
  });

  void it("decodes a Service with int and named targetPorts", () => {
    const port = (name: string, p: number, target: Build): Build => (sp) => sp.string(1, name).string(2, "TCP").int(3, p).message(4, target).int(5, 0);
    const obj = decode("v1", "Service", (w) =>
      w
        .message(1, meta("web"))
        .message(2, (spec) =>
          spec
            .message(1, port("http", 80, (t) => t.int(1, 0).int(2, 8080).string(3, "")))
            .message(1, port("https", 443, (t) => t.int(1, 1).int(2, 0).string(3, "https")))
            .message(1, port("zero", 81, () => undefined))
            .mapEntry(2, "app", "web")
            .string(4, "ClusterIP"),
        )
        .message(3, (st) => st.message(1, () => undefined)),
    );
    assert.deepEqual(obj, {
      kind: "Service",
      apiVersion: "v1",
      metadata: { name: "web" },
      spec: {
        ports: [
          { name: "http", protocol: "TCP", port: 80, targetPort: 8080 },
          { name: "https", protocol: "TCP", port: 443, targetPort: "https" },
          // Go writes a zero IntOrString (a struct) as 0: omitempty does not apply to structs.
          { name: "zero", protocol: "TCP", port: 81, targetPort: 0 },
        ],
        selector: { app: "web" },
        type: "ClusterIP",
      },
      status: { loadBalancer: {} },
    });
  });

  void it("decodes a Namespace", () => {
    const obj = decode("v1", "Namespace", (w) =>
      w
        .message(1, meta("team-a", (m) => m.mapEntry(11, "kubernetes.io/metadata.name", "team-a")))
        .message(2, (s) => s.string(1, "kubernetes"))
        .message(3, (s) => s.string(1, "Active")),
    );
    assert.deepEqual(obj, {
      kind: "Namespace",
      apiVersion: "v1",
      metadata: { name: "team-a", labels: { "kubernetes.io/metadata.name": "team-a" } },
      spec: { finalizers: ["kubernetes"] },
      status: { phase: "Active" },
    });
  });

  void it("decodes an Eviction with deleteOptions, keeping gracePeriodSeconds: 0", () => {
    const obj = decode("policy/v1", "Eviction", (w) =>
      w.message(1, meta("p1", (m) => m.string(3, "default"))).message(2, (d) =>
        d
          .int(1, 0)
          .message(2, (p) => p.string(1, "uid-1"))
          .string(4, "Foreground")
          .string(5, "All"),
      ),
    );
    assert.deepEqual(obj, {
      kind: "Eviction",
      apiVersion: "policy/v1",
      metadata: { name: "p1", namespace: "default" },
      deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: "uid-1" }, propagationPolicy: "Foreground", dryRun: ["All"] },
    });
  });

  void it("decodes DeleteOptions under any group version", () => {
    for (const apiVersion of ["v1", "apps/v1", "meta.k8s.io/v1"]) {
      const d = decodeProtobufObject(body(apiVersion, "DeleteOptions", (w) => w.int(1, 5).int(3, true)));
      assert.deepEqual(d.object, { kind: "DeleteOptions", apiVersion, gracePeriodSeconds: 5, orphanDependents: true });
    }
  });

  void it("flattens inline structs (Volume.volumeSource, Probe.handler) into their parent", () => {
    const obj = decode("v1", "Pod", (w) =>
      w.message(1, meta("p")).message(2, (spec) =>
        spec
          .message(1, (v) => v.string(1, "data").message(2, (src) => src.message(2, (ed) => ed.string(1, "Memory").message(2, (q) => q.string(1, "64Mi")))))
          .message(2, (c) =>
            c
              .string(1, "c")
              .message(10, (probe) => probe.message(1, (h) => h.message(2, (g) => g.string(1, "/healthz").message(2, (p) => p.int(1, 0).int(2, 8080)))).int(2, 3))
              .message(8, (r) => r.message(1, (e) => e.string(1, "cpu").message(2, (q) => q.string(1, "500m"))).message(2, (e) => e.string(1, "memory"))),
          ),
      ),
    );
    const spec = obj["spec"] as Record<string, unknown>;
    assert.deepEqual(spec["volumes"], [{ name: "data", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } }]);
    assert.deepEqual(spec["containers"], [
      {
        name: "c",
        // A map value missing from its entry is Go's zero Quantity, written "0".
        resources: { limits: { cpu: "500m" }, requests: { memory: "0" } },
        livenessProbe: { httpGet: { path: "/healthz", port: 8080 }, initialDelaySeconds: 3 },
      },
    ]);
  });

  void it("canonicalizes quantities as Go's Quantity does and rejects invalid ones", () => {
    const quota = (q: string): Build => (w) => w.message(1, meta("q")).message(2, (s) => s.message(1, (e) => e.string(1, "cpu").message(2, (v) => v.string(1, q))));
    assert.deepEqual((decode("v1", "ResourceQuota", quota("1000m"))["spec"] as Record<string, unknown>)["hard"], { cpu: "1" });
    assert.deepEqual((decode("v1", "ResourceQuota", quota("1Gi"))["spec"] as Record<string, unknown>)["hard"], { cpu: "1Gi" });
    fails("Malformed", () => decode("v1", "ResourceQuota", quota("lots")));
  });

  void it("renders Time (seconds), MicroTime (microseconds) and the zero time as Go does", () => {
    const lease = decode("coordination.k8s.io/v1", "Lease", (w) =>
      w
        .message(1, meta("node-1", (m) => m.message(8, (t) => t.int(1, 1700000000).int(2, 999999999)).message(9, () => undefined)))
        .message(2, (s) =>
          s
            .string(1, "node-1")
            .int(2, 40)
            .message(3, (t) => t.int(1, 0))
            .message(4, (t) => t.int(1, 1700000000).int(2, 123456789)),
        ),
    );
    assert.deepEqual(lease["metadata"], { name: "node-1", creationTimestamp: "2023-11-14T22:13:20Z", deletionTimestamp: null });
    assert.deepEqual(lease["spec"], {
      holderIdentity: "node-1",
      leaseDurationSeconds: 40,
      acquireTime: "1970-01-01T00:00:00.000000Z",
      renewTime: "2023-11-14T22:13:20.123456Z",
    });
    const zero = decode("coordination.k8s.io/v1", "Lease", (w) => w.message(1, meta("z", (m) => m.message(8, (t) => t.int(1, -62135596800)))));
    assert.deepEqual(zero["metadata"], { name: "z" });
    fails("Malformed", () => decode("coordination.k8s.io/v1", "Lease", (w) => w.message(1, meta("z", (m) => m.message(8, (t) => t.int(1, 2n ** 50n))))));
  });

  void it("writes a core/v1 Event's non-omitempty MicroTime as null when unset", () => {
    const ev = decode("v1", "Event", (w) => w.message(1, meta("e")).message(2, (o) => o.string(1, "Pod").string(3, "p")).string(3, "Started"));
    assert.deepEqual(ev, {
      kind: "Event",
      apiVersion: "v1",
      metadata: { name: "e" },
      involvedObject: { kind: "Pod", name: "p" },
      reason: "Started",
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      eventTime: null,
      reportingComponent: "",
      reportingInstance: "",
    });
  });

  void it("parses RawExtension bytes as JSON, or as a nested protobuf object, and rejects anything else", () => {
    const rev = (data: Build): Record<string, unknown> => decode("apps/v1", "ControllerRevision", (w) => w.message(1, meta("r")).message(2, data).int(3, 2));
    assert.deepEqual(rev((d) => d.string(1, '{"spec":{"template":{"x":[1,2]}}}')), {
      kind: "ControllerRevision",
      apiVersion: "apps/v1",
      metadata: { name: "r" },
      data: { spec: { template: { x: [1, 2] } } },
      revision: 2,
    });
    const inner = body("v1", "ConfigMap", (w) => w.message(1, meta("inner")).mapEntry(2, "k", "v"));
    assert.deepEqual(rev((d) => d.bytes(1, inner))["data"], { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "inner" }, data: { k: "v" } });
    assert.equal(rev(() => undefined)["data"], null);
    fails("Malformed", () => rev((d) => d.string(1, "{not json")));
  });

  void it("renders managedFields with FieldsV1 JSON", () => {
    const obj = decode("v1", "ConfigMap", (w) =>
      w.message(1, meta("m", (m) => m.message(17, (e) => e.string(1, "kubectl").string(2, "Apply").string(3, "v1").string(6, "FieldsV1").message(7, (f) => f.string(1, '{"f:data":{}}'))))),
    );
    assert.deepEqual(obj["metadata"], { name: "m", managedFields: [{ manager: "kubectl", operation: "Apply", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:data": {} } }] });
  });

  void it("renders named slices (UserInfo.extra values) as arrays", () => {
    const obj = decode("authentication.k8s.io/v1", "TokenReview", (w) =>
      w.message(1, meta("t")).message(3, (st) =>
        st.int(1, true).message(2, (u) => u.string(1, "alice").message(4, (e) => e.string(1, "scopes").message(2, (v) => v.string(1, "a").string(1, "b")))),
      ),
    );
    assert.deepEqual(obj["status"], { authenticated: true, user: { username: "alice", extra: { scopes: ["a", "b"] } } });
  });

  void it("merges repeated occurrences of a message field and lets later scalars win", () => {
    const obj = decode("v1", "ConfigMap", (w) => w.message(1, meta("first")).message(1, (m) => m.string(1, "second").mapEntry(11, "a", "1")).mapEntry(2, "k", "old").mapEntry(2, "k", "new"));
    assert.deepEqual(obj, { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "second", labels: { a: "1" } }, data: { k: "new" } });
  });

  void it("accepts packed and unpacked repeated integers", () => {
    const ctx = (build: Build): unknown =>
      ((decode("v1", "Pod", (w) => w.message(2, (s) => s.message(14, build)))["spec"] as Record<string, unknown>)["securityContext"] as Record<string, unknown>)["supplementalGroups"];
    assert.deepEqual(
      ctx((sc) => sc.int(4, 1000).int(4, 2000)),
      [1000, 2000],
    );
    const packed = new WireWriter().varint(1000).varint(-1).finish();
    assert.deepEqual(
      ctx((sc) => sc.bytes(4, packed)),
      [1000, -1],
    );
  });

  void it("skips unknown fields of every wire type", () => {
    const obj = decode("v1", "ConfigMap", (w) =>
      w
        .int(99, 7)
        .double(98, 1)
        .string(97, "x")
        .tag(96, WireType.Fixed32)
        .raw([0, 0, 0, 0])
        .tag(95, WireType.StartGroup)
        .string(1, "in group")
        .tag(95, WireType.EndGroup)
        .message(1, (m) => m.string(1, "cm").string(1000, "future field"))
        .mapEntry(2, "a", "b"),
    );
    assert.deepEqual(obj, { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "cm" }, data: { a: "b" } });
  });

  void it("keeps map keys such as __proto__ as ordinary keys", () => {
    const obj = decode("v1", "ConfigMap", (w) => w.message(1, meta("p")).mapEntry(2, "__proto__", "x").mapEntry(2, "constructor", "y"));
    const data = obj["data"] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.deepEqual(Object.keys(data).sort(), ["__proto__", "constructor"]);
    assert.equal(JSON.stringify(data), '{"__proto__":"x","constructor":"y"}');
  });

  void it("keeps a leading BOM and replaces invalid UTF-8 as Go's JSON encoder does", () => {
    const obj = decode("v1", "ConfigMap", (w) => w.message(1, meta("u")).message(2, (e) => e.string(1, "k").bytes(2, [0xef, 0xbb, 0xbf, 0x61, 0xff])));
    assert.deepEqual(obj["data"], { k: "\ufeffa\ufffd" });
  });

  void it("fills a missing apiVersion or kind from the caller's defaults", () => {
    const raw = new WireWriter().message(1, meta("d")).finish();
    const d = decodeProtobufObject(encodeEnvelope("", "", raw), { defaults: { apiVersion: "v1", kind: "Namespace" } });
    assert.equal(d.kind, "Namespace");
    assert.equal(d.apiVersion, "v1");
    assert.deepEqual(d.object, { kind: "Namespace", apiVersion: "v1", metadata: { name: "d" }, spec: {}, status: {} });
  });
});

void describe("decodeProtobufObject: bad input fails with a code", () => {
  const good = body("apps/v1", "Deployment", (w) =>
    w
      .message(1, meta("web", (m) => m.mapEntry(11, "app", "web").message(8, (t) => t.int(1, 1700000000))))
      .message(2, (spec) =>
        spec
          .int(1, 3)
          .message(2, (sel) => sel.mapEntry(1, "app", "web"))
          .message(3, (tmpl) => tmpl.message(2, (pod) => pod.message(2, (c) => c.string(1, "c").string(2, "img").message(8, (r) => r.message(1, (e) => e.string(1, "cpu").message(2, (q) => q.string(1, "1")))))))
          .message(4, (s) => s.string(1, "RollingUpdate").message(2, (ru) => ru.message(1, (i) => i.int(1, 1).string(3, "25%")))),
      ),
  );

  void it("rejects empty bodies, bad magic and a bare magic prefix", () => {
    fails("Empty", () => decodeProtobufObject(new Uint8Array(0)));
    fails("BadMagic", () => decodeProtobufObject(new TextEncoder().encode('{"kind":"Pod"}')));
    fails("BadMagic", () => decodeProtobufObject(Uint8Array.of(0x6b, 0x38, 0x73)));
    fails("Empty", () => decodeProtobufObject(PROTOBUF_MAGIC));
  });

  void it("answers 415 for kinds the table lacks and 400 for a missing kind", () => {
    const raw = new WireWriter().message(1, meta("x")).finish();
    assert.throws(
      () => decodeProtobufObject(encodeEnvelope("example.com/v1", "Widget", raw)),
      (err: unknown) => err instanceof ProtobufDecodeError && err.code === "UnknownKind" && err.httpStatus === 415 && err.message.includes('"Widget"'),
    );
    assert.throws(() => decodeProtobufObject(encodeEnvelope("v1", "", raw)), (err: unknown) => err instanceof ProtobufDecodeError && err.code === "MissingKind" && err.httpStatus === 400);
    fails("MissingKind", () => decodeProtobufObject(encodeEnvelope("", "ConfigMap", raw)));
  });

  void it("rejects a known field sent with the wrong wire type", () => {
    fails("Malformed", () => decode("v1", "ConfigMap", (w) => w.int(1, 5)));
    fails("Malformed", () => decode("apps/v1", "Deployment", (w) => w.message(2, (s) => s.string(1, "3"))));
  });

  void it("rejects an impossible IntOrString type", () => {
    fails("Malformed", () => decode("v1", "Service", (w) => w.message(2, (s) => s.message(1, (p) => p.message(4, (t) => t.int(1, 2))))));
  });

  void it("rejects every truncation of a valid body with a ProtobufDecodeError", () => {
    assert.equal((decodeProtobufObject(good).object["metadata"] as Record<string, unknown>)["name"], "web");
    for (let n = 0; n < good.length; n++) {
      try {
        decodeProtobufObject(good.subarray(0, n));
      } catch (err) {
        assert.ok(err instanceof ProtobufDecodeError, `cut at ${n}: ${String(err)}`);
        continue;
      }
      // A cut exactly at a field boundary is a valid, shorter message; only such cuts may decode.
    }
    fails("Truncated", () => decodeProtobufObject(good.subarray(0, good.length - 1)));
  });

  void it("never throws anything but a ProtobufDecodeError on 20k mutated bodies", () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const codes = new Map<string, number>();
    let decoded = 0;
    for (let i = 0; i < 20000; i++) {
      const b = Uint8Array.from(good);
      const flips = 1 + rand(4);
      for (let k = 0; k < flips; k++) {
        const at = PROTOBUF_MAGIC.length + rand(b.length - PROTOBUF_MAGIC.length);
        b[at] = rand(3) === 0 ? 0xff : rand(256);
      }
      try {
        decodeProtobufObject(b);
        decoded++;
      } catch (err) {
        assert.ok(err instanceof ProtobufDecodeError, `mutation ${i}: ${String(err)}`);
        codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
      }
    }
    assert.ok(decoded > 0 && (codes.get("Truncated") ?? 0) > 0 && (codes.get("Malformed") ?? 0) > 0, JSON.stringify([decoded, ...codes]));
  });

  void it("rejects a huge declared length without allocating it", () => {
    const w = new WireWriter().raw(PROTOBUF_MAGIC).tag(2, WireType.LengthDelimited).varint(2n ** 62n);
    fails("Truncated", () => decodeProtobufObject(w.finish()));
    fails("Truncated", () => decode("v1", "ConfigMap", (x) => x.tag(1, WireType.LengthDelimited).varint(0x7fffffff)));
  });

  void it("rejects objects nested too deeply inside RawExtensions", () => {
    let inner = body("v1", "ConfigMap", (w) => w.message(1, meta("leaf")));
    for (let i = 0; i < MAX_NESTING; i++) {
      const nested = inner;
      inner = body("apps/v1", "ControllerRevision", (w) => w.message(2, (d) => d.bytes(1, nested)));
    }
    fails("TooDeep", () => decodeProtobufObject(inner));
  });

  void it("refuses bodies of empty elements that would expand past the value budget (413), and decodes big real objects", () => {
    const statuses = new WireWriter();
    for (let i = 0; i < 200_000; i++) statuses.raw([0x42, 0x00]); // PodStatus.containerStatuses (8), empty
    const bomb = body("v1", "Pod", (w) => w.message(3, (st) => st.raw(statuses.finish())));
    assert.throws(() => decodeProtobufObject(bomb), (err: unknown) => err instanceof ProtobufDecodeError && err.code === "TooLarge" && err.httpStatus === 413);

    const big = body("v1", "ConfigMap", (w) => {
      w.message(1, meta("big"));
      for (let i = 0; i < 50_000; i++) w.mapEntry(2, `k${i}`, "v");
    });
    assert.equal(Object.keys(decodeProtobufObject(big).object["data"] as object).length, 50_000);
    fails("TooLarge", () => decodeProtobufObject(big, { maxValues: 1000 }));
  });

  void it("rejects deeply nested unknown groups", () => {
    fails("TooDeep", () =>
      decode("v1", "ConfigMap", (w) => {
        for (let i = 0; i < 500; i++) w.tag(50, WireType.StartGroup);
      }),
    );
  });
});

void describe("schema facts", () => {
  void it("parse, and every message they name exists", () => {
    let fields = 0;
    for (const name of messageNames()) {
      const def = messageDef(name);
      for (const f of def.fields) {
        fields++;
        if (typeof f.type !== "string") assert.doesNotThrow(() => messageDef((f.type as { message: string }).message), `${name}.${f.json}`);
        if (f.inline) assert.ok(f.shape === "single" && typeof f.type !== "string", `${name}: inline ${f.number}`);
      }
    }
    assert.ok(fields > 1500, `only ${fields} fields`);
  });

  void it("cover every kind kubectl writes through typed clients", () => {
    const covered = new Set(coveredKinds().map((k) => `${k.apiVersion} ${k.kind}`));
    const wanted = [
      "v1 Namespace", "v1 ConfigMap", "v1 Secret", "v1 Service", "v1 ServiceAccount", "v1 Pod", "v1 ResourceQuota", "v1 Binding",
      "v1 Event", "v1 Node", "v1 Endpoints", "v1 PersistentVolumeClaim", "v1 LimitRange", "v1 ReplicationController",
      "apps/v1 Deployment", "apps/v1 ReplicaSet", "apps/v1 StatefulSet", "apps/v1 DaemonSet", "batch/v1 Job", "batch/v1 CronJob",
      "rbac.authorization.k8s.io/v1 Role", "rbac.authorization.k8s.io/v1 RoleBinding", "rbac.authorization.k8s.io/v1 ClusterRole",
      "rbac.authorization.k8s.io/v1 ClusterRoleBinding", "policy/v1 PodDisruptionBudget", "policy/v1 Eviction",
      "scheduling.k8s.io/v1 PriorityClass", "networking.k8s.io/v1 Ingress", "networking.k8s.io/v1 NetworkPolicy",
      "authentication.k8s.io/v1 TokenRequest", "authorization.k8s.io/v1 SelfSubjectAccessReview", "coordination.k8s.io/v1 Lease",
      "discovery.k8s.io/v1 EndpointSlice", "autoscaling/v1 HorizontalPodAutoscaler", "autoscaling/v2 HorizontalPodAutoscaler",
      "autoscaling/v1 Scale", "storage.k8s.io/v1 StorageClass", "certificates.k8s.io/v1 CertificateSigningRequest",
    ];
    for (const k of wanted) assert.ok(covered.has(k), k);
    for (const k of coveredKinds()) {
      const first = messageDef(k.message).byNumber.get(1);
      assert.ok(first?.json === "metadata", `${k.apiVersion} ${k.kind}: field 1 is ${first?.json}`);
    }
  });
});

void describe("formatGoDuration", () => {
  void it("writes durations as Go's time.Duration.String", () => {
    const cases: Array<[bigint, string]> = [
      [0n, "0s"], [1n, "1ns"], [999n, "999ns"], [1500n, "1.5µs"], [1_000_000n, "1ms"], [1_500_000n, "1.5ms"],
      [1_000_000_000n, "1s"], [90_000_000_000n, "1m30s"], [3_600_000_000_000n, "1h0m0s"], [3_723_500_000_000n, "1h2m3.5s"],
      [-1_500_000_000n, "-1.5s"], [-(2n ** 63n), "-2562047h47m16.854775808s"],
    ];
    for (const [ns, s] of cases) assert.equal(formatGoDuration(ns), s, String(ns));
  });
});
