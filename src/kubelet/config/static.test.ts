import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.js";
import { until } from "../../testing/wait.js";
import { createLogger } from "../../util/log.js";
import { ANNOTATION_CONFIG_HASH, ANNOTATION_CONFIG_SEEN, ANNOTATION_CONFIG_SOURCE, isStaticPod } from "../types.js";
import { podsFromManifest, StaticPodError, StaticPodSource } from "./static.js";

const log = createLogger("silent");

const web = (name = "web", image = "busybox:1.35"): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  containers:
  - name: main
    image: ${image}
    command: ["httpd", "-f"]
    ports: [{ containerPort: 80 }]
`;

void describe("podsFromManifest", () => {
  const file = { kind: "file", location: "/etc/k8ts/manifests/web.yaml" } as const;
  const parse = (text: string, node = "node-1", source: { kind: "file" | "http"; location: string } = file) => {
    const skipped: string[] = [];
    return { pods: podsFromManifest(text, source, node, (why) => skipped.push(why)), skipped };
  };

  void it("names, places, marks and defaults the pod as upstream's file source does", () => {
    const { pods, skipped } = parse(web());
    assert.deepEqual(skipped, []);
    const p = pods[0]!;
    assert.equal(p.metadata?.name, "web-node-1");
    assert.equal(p.metadata?.namespace, "default");
    assert.match(p.metadata?.uid ?? "", /^[0-9a-f]{32}$/);
    assert.equal(p.metadata?.annotations?.[ANNOTATION_CONFIG_HASH], p.metadata?.uid);
    assert.equal(p.metadata?.annotations?.[ANNOTATION_CONFIG_SOURCE], "file");
    assert.match(p.metadata?.annotations?.[ANNOTATION_CONFIG_SEEN] ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.ok(isStaticPod(p));
    assert.equal(p.spec?.nodeName, "node-1");
    assert.deepEqual(p.spec?.tolerations, [{ operator: "Exists", effect: "NoExecute" }]);
    assert.deepEqual(
      [p.spec?.restartPolicy, p.spec?.dnsPolicy, p.spec?.terminationGracePeriodSeconds, p.spec?.schedulerName, p.spec?.enableServiceLinks],
      ["Always", "ClusterFirst", 30, "default-scheduler", true],
    );
    const c = p.spec!.containers[0]!;
    assert.deepEqual([c.imagePullPolicy, c.terminationMessagePath, c.terminationMessagePolicy, c.ports?.[0]?.protocol], ["IfNotPresent", "/dev/termination-log", "File", "TCP"]);
    assert.equal(p.status?.phase, "Pending");
    assert.equal(parse(web("w", "busybox")).pods[0]!.spec!.containers[0]!.imagePullPolicy, "Always");
  });

  void it("gives a stable uid that changes with the manifest, the node and the source", () => {
    const uid = (text: string, node = "node-1", source: { kind: "file" | "http"; location: string } = file) => parse(text, node, source).pods[0]!.metadata!.uid;
    assert.equal(uid(web()), uid(web()));
    assert.equal(uid(web()), uid(web().replace("labels: { app: web }", "labels:\n    app: web")), "formatting does not matter");
    assert.notEqual(uid(web()), uid(web("web", "busybox:1.36")));
    assert.notEqual(uid(web()), uid(web(), "node-2"));
    assert.notEqual(uid(web()), uid(web(), "node-1", { kind: "http", location: "http://x/" }));
    assert.equal(parse(web().replace("  name: web\n", "  name: web\n  uid: fixed-uid\n")).pods[0]!.metadata?.uid, "fixed-uid");
  });

  void it("reads several documents, Lists and JSON; sets system priorities; skips what is not a valid pod", () => {
    const text = [
      web("a"),
      "",
      "---\n" + web("b").replace("spec:\n", "spec:\n  priorityClassName: system-node-critical\n"),
      "---\nkind: List\napiVersion: v1\nitems:\n- " + JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "c", namespace: "kube-system" }, spec: { containers: [{ name: "x", image: "i:1" }] } }),
      "---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: cm }\n",
      "---\napiVersion: v1\nkind: Pod\nmetadata: { name: NoCaps }\nspec: { containers: [{ name: x, image: i }] }\n",
      "---\napiVersion: v1\nkind: Pod\nmetadata: { name: empty }\nspec: { containers: [] }\n",
      "---\napiVersion: v1\nkind: Pod\nmetadata: { name: dup }\nspec: { containers: [{ name: x, image: i }, { name: x, image: j }] }\n",
      "---\n[1, 2\n",
    ].join("\n");
    const { pods, skipped } = parse(text);
    assert.deepEqual(pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`), ["default/a-node-1", "default/b-node-1", "kube-system/c-node-1"]);
    assert.equal(pods[1]!.spec?.priority, 2_000_001_000);
    assert.equal(skipped.length, 5, skipped.join("\n"));
    assert.match(skipped.join("\n"), /kind must be Pod/);
    assert.match(skipped.join("\n"), /spec\.containers: Required value/);
    assert.match(skipped.join("\n"), /Duplicate value/);
    assert.match(skipped.join("\n"), /not valid YAML/);
    const json = parse(JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "j" }, spec: { containers: [{ name: "x", image: "i:1" }] } }));
    assert.equal(json.pods[0]?.metadata?.name, "j-node-1");
  });
});

void describe("StaticPodSource", () => {
  const dirs: string[] = [];
  const sources: StaticPodSource[] = [];
  let server: Server | undefined;
  after(() => {
    for (const s of sources) s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    server?.close();
  });
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), "k8ts-static-"));
    dirs.push(d);
    return d;
  };
  const names = (pods: Pod[] | undefined): string[] | undefined => pods?.map((p) => p.metadata?.name ?? "").sort();
  const source = (o: Partial<ConstructorParameters<typeof StaticPodSource>[0]>, seen: Pod[][]): StaticPodSource => {
    const s = new StaticPodSource({ nodeName: "n1", log, onChange: (pods) => seen.push(pods), ...o });
    sources.push(s);
    return s;
  };
  const waitFor = (seen: Pod[][], want: string[]): Promise<Pod[]> =>
    until(`static pods ${want.join(",")}`, () => {
      const last = seen.at(-1);
      return JSON.stringify(names(last)) === JSON.stringify(want) ? last : undefined;
    });

  void it("needs a path or a URL", () => {
    assert.throws(() => new StaticPodSource({ nodeName: "n", log, onChange: () => undefined }), (e: unknown) => e instanceof StaticPodError && e.code === "InvalidOptions");
  });

  void it("reports the directory on start and every file added, changed or removed (fs.watch, no poll)", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "a.yaml"), web("a"));
    writeFileSync(join(dir, ".hidden.yaml"), web("hidden"));
    writeFileSync(join(dir, "notes.txt"), web("txt"));
    const seen: Pod[][] = [];
    const s = source({ manifestPath: dir, pollIntervalMs: 3_600_000, debounceMs: 20 }, seen);
    await s.start();
    assert.deepEqual(names(seen[0]), ["a-n1"], "the first list is reported before start resolves");
    const uidA = seen[0]![0]!.metadata!.uid;

    writeFileSync(join(dir, "b.json"), JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "b" }, spec: { containers: [{ name: "x", image: "i:1" }] } }));
    await waitFor(seen, ["a-n1", "b-n1"]);

    // An editor's save: write a temp file, rename it over the old one.
    writeFileSync(join(dir, ".a.yaml.swp"), web("a", "busybox:1.36"));
    renameSync(join(dir, ".a.yaml.swp"), join(dir, "a.yaml"));
    const changed = await until("a changed", () => seen.at(-1)?.find((p) => p.metadata?.name === "a-n1" && p.metadata.uid !== uidA));
    assert.equal(changed.spec?.containers[0]?.image, "busybox:1.36");

    const before = seen.length;
    writeFileSync(join(dir, "broken.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: { name: broken }\n");
    writeFileSync(join(dir, "c.yml"), web("c"));
    const list = await waitFor(seen, ["a-n1", "b-n1", "c-n1"]);
    assert.ok(seen.length > before);
    assert.ok(!list.some((p) => p.metadata?.name === "broken-n1"));

    unlinkSync(join(dir, "b.json"));
    await waitFor(seen, ["a-n1", "c-n1"]);
  });

  void it("finds a manifest directory created after start by polling; reads a single file path", async () => {
    const root = tmp();
    const dir = join(root, "later");
    const seen: Pod[][] = [];
    await source({ manifestPath: dir, pollIntervalMs: 50 }, seen).start();
    assert.deepEqual(seen, [[]]);
    mkdirSync(dir);
    writeFileSync(join(dir, "x.yaml"), web("x"));
    await waitFor(seen, ["x-n1"]);

    const single: Pod[][] = [];
    writeFileSync(join(root, "one.yaml"), web("one"));
    await source({ manifestPath: join(root, "one.yaml"), pollIntervalMs: 3_600_000, debounceMs: 20 }, single).start();
    assert.deepEqual(names(single[0]), ["one-n1"]);
  });

  void it("reads a URL, follows its changes and keeps its pods while it fails", async () => {
    let body = web("u1");
    let status = 200;
    let failed = 0;
    server = createServer((_req, res) => {
      if (status !== 200) failed++;
      res.writeHead(status).end(body);
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pods`;
    const seen: Pod[][] = [];
    await source({ manifestUrl: url, pollIntervalMs: 50 }, seen).start();
    assert.deepEqual(names(seen[0]), ["u1-n1"]);
    assert.equal(seen[0]![0]!.metadata?.annotations?.[ANNOTATION_CONFIG_SOURCE], "http");
    body = `${web("u1")}---\n${web("u2")}`;
    await waitFor(seen, ["u1-n1", "u2-n1"]);
    const count = seen.length;
    status = 500;
    body = "";
    // Several polls against the failing server change nothing.
    await until("three failed polls", () => (failed >= 3 ? true : undefined));
    assert.equal(seen.length, count);
    status = 200;
    body = web("u2");
    await waitFor(seen, ["u2-n1"]);
  });
});

void describe("static pods with an unreadable manifest path", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-static-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  void it("start reports an empty list for a path that does not exist", async () => {
    const seen: Pod[][] = [];
    const s = new StaticPodSource({ nodeName: "n1", manifestPath: join(dir, "missing"), log, onChange: (p) => seen.push(p) });
    await s.start();
    s.stop();
    assert.deepEqual(seen, [[]]);
  });
});
