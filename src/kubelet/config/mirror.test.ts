// Mirror pods against a real API server.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { isNotFound } from "../../client/errors.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { until } from "../../testing/wait.js";
import { createLogger } from "../../util/log.js";
import { ANNOTATION_CONFIG_HASH, ANNOTATION_CONFIG_MIRROR, isMirrorPod } from "../types.js";
import { MirrorPods } from "./mirror.js";
import { podsFromManifest } from "./static.js";

const log = createLogger((process.env["K8TS_TEST_LOG"] as "info" | undefined) ?? "silent");

function staticPods(node: string, ...specs: { name: string; image?: string; priorityClassName?: string }[]): Pod[] {
  const text = specs
    .map((s) => JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: s.name }, spec: { ...(s.priorityClassName ? { priorityClassName: s.priorityClassName } : {}), containers: [{ name: "main", image: s.image ?? "busybox:1.35" }] } }))
    .join("\n---\n");
  return podsFromManifest(text, { kind: "file", location: "/m/pods.yaml" }, node, (why) => assert.fail(why));
}

void describe("MirrorPods", () => {
  let srv: TestApiServer;
  let client: RestClient;
  let nodeUid = "";
  const mirrors: MirrorPods[] = [];
  before(async () => {
    srv = await startTestApiServer();
    client = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
    const n = await client.forKind("v1", "Node").create({ apiVersion: "v1", kind: "Node", metadata: { name: "m1" } });
    nodeUid = n.metadata?.uid ?? "";
  });
  after(async () => {
    for (const m of mirrors) await m.stop();
    client?.close();
    await srv?.stop();
  });
  const pods = () => client.forKind("v1", "Pod").namespace("default");
  const make = (node = "m1"): MirrorPods => {
    const m = new MirrorPods({ client, nodeName: node, log });
    mirrors.push(m);
    return m;
  };
  const absent = (name: string) => async (): Promise<true | undefined> => {
    try {
      await pods().get(name);
      return undefined;
    } catch (err) {
      return isNotFound(err) ? true : undefined;
    }
  };

  void it("creates a mirror pod per static pod, owned by the node and marked with its hash", async () => {
    const m = make();
    const list = staticPods("m1", { name: "etcd", priorityClassName: "system-node-critical" }, { name: "web" });
    await m.sync(list);
    const mirror = await pods().get("etcd-m1");
    assert.ok(isMirrorPod(mirror));
    assert.equal(mirror.metadata?.annotations?.[ANNOTATION_CONFIG_MIRROR], list[0]!.metadata?.annotations?.[ANNOTATION_CONFIG_HASH]);
    assert.notEqual(mirror.metadata?.uid, list[0]!.metadata?.uid, "the API gives the mirror pod its own uid");
    assert.deepEqual(mirror.metadata?.ownerReferences, [{ apiVersion: "v1", kind: "Node", name: "m1", uid: nodeUid, controller: true }]);
    assert.equal(mirror.spec?.nodeName, "m1");
    assert.equal(mirror.spec?.priority, 2_000_001_000);
    const got = await srv.kubectl(["get", "pods", "-o", "name"]);
    assert.deepEqual(got.stdout.trim().split("\n").sort(), ["pod/etcd-m1", "pod/web-m1"]);

    // Nothing changes: no writes (the resourceVersion stays).
    await m.sync(list);
    assert.equal((await pods().get("etcd-m1")).metadata?.resourceVersion, mirror.metadata?.resourceVersion);
    await m.sync([]);
    await until("mirror pods gone", async () => ((await pods().list()).items.length === 0 ? true : undefined));
  });

  void it("replaces a mirror pod whose static pod changed and deletes those whose static pod is gone", async () => {
    const m = make();
    await m.sync(staticPods("m1", { name: "a" }, { name: "b" }));
    const oldA = await pods().get("a-m1");
    const changed = staticPods("m1", { name: "a", image: "busybox:1.36" });
    await m.sync(changed);
    const newA = await pods().get("a-m1");
    assert.notEqual(newA.metadata?.uid, oldA.metadata?.uid);
    assert.equal(newA.spec?.containers[0]?.image, "busybox:1.36");
    assert.equal(newA.metadata?.annotations?.[ANNOTATION_CONFIG_MIRROR], changed[0]!.metadata?.annotations?.[ANNOTATION_CONFIG_HASH]);
    await until("b-m1 deleted", absent("b-m1"));
    await m.sync([]);
  });

  void it("with start(), puts back a mirror pod deleted by hand, also through kubectl's graceful delete", async () => {
    const m = make();
    await m.start();
    await m.sync(staticPods("m1", { name: "keep" }));
    const first = await pods().get("keep-m1");
    await pods().delete("keep-m1", { gracePeriodSeconds: 0 });
    const second = await until("keep-m1 re-created", async () => {
      const p = await pods().get("keep-m1");
      return p.metadata?.uid !== first.metadata?.uid ? p : undefined;
    });
    const del = await srv.kubectl(["delete", "pod", "keep-m1", "--wait=false"]);
    assert.equal(del.code, 0, del.stderr);
    await until("keep-m1 re-created after kubectl delete", async () => {
      const p = await pods().get("keep-m1");
      return p.metadata?.uid !== second.metadata?.uid && !p.metadata?.deletionTimestamp ? p : undefined;
    });
    await m.sync([]);
  });

  void it("leaves a pod of the same name that is not a mirror pod alone, and waits for an unregistered node", async () => {
    await pods().create({ apiVersion: "v1", kind: "Pod", metadata: { name: "taken-m1" }, spec: { containers: [{ name: "c", image: "busybox:1.35" }] } });
    const m = make();
    await m.sync(staticPods("m1", { name: "taken" }));
    assert.equal(isMirrorPod(await pods().get("taken-m1")), false);
    await m.sync([]);
    assert.equal(isMirrorPod(await pods().get("taken-m1")), false, "not deleted: it is not ours");
    await pods().delete("taken-m1", { gracePeriodSeconds: 0 });

    const later = make("m2");
    await later.sync(staticPods("m2", { name: "early" }));
    assert.ok(await absent("early-m2")());
    await client.forKind("v1", "Node").create({ apiVersion: "v1", kind: "Node", metadata: { name: "m2" } });
    await later.sync(staticPods("m2", { name: "early" }));
    assert.ok(isMirrorPod(await pods().get("early-m2")));
  });
});
