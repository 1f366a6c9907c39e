// The node graph over the API server's real watch cache: its watches are the cache's own, drained
// before each answer, and one the cache cuts off (its queue overflowed) is opened again.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryStore } from "../../storage/memory.js";
import { WatchCache } from "../watchcache.js";
import { NodeGraph, type GraphResource } from "./graph.js";

const PREFIX: Record<GraphResource, string> = { pods: "/registry/pods/", persistentvolumes: "/registry/persistentvolumes/", volumeattachments: "/registry/storage.k8s.io/volumeattachments/" };

const bytes = (o: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(o));
const pod = (name: string, node: string, secret: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "ns" },
  spec: { nodeName: node, containers: [{ name: "c", image: "i" }], volumes: [{ name: "s", secret: { secretName: secret } }] },
});

describe("NodeGraph over the watch cache", () => {
  it("answers from what the cache has applied, and reopens a watch the cache cut off", async () => {
    const store = await MemoryStore.open();
    // A queue of 5 events: a graph nobody asks for a while falls behind and is cut off.
    const cache = new WatchCache(store, Object.values(PREFIX), { historySize: 100, watcherQueueLimit: 5, root: "/registry/" });
    await cache.start();
    try {
      let opened = 0;
      const graph = new NodeGraph({
        watch: (r) => {
          opened++;
          return cache.resource(PREFIX[r]).watch(PREFIX[r], undefined, undefined);
        },
      });
      const write = async (key: string, o: unknown): Promise<void> => {
        const kv = await store.create(key, bytes(o));
        assert.ok(await cache.waitFor(kv.modRevision, 3000));
      };
      await write("/registry/pods/ns/a", pod("a", "n1", "s1"));
      assert.equal(graph.hasPathFrom("n1", "secret", "ns", "s1"), true);
      assert.equal(graph.hasPathFrom("n2", "secret", "ns", "s1"), false);
      assert.equal(opened, 3, "one watch per resource, opened at the first question");

      await write("/registry/pods/ns/b", pod("b", "n2", "s2"));
      assert.equal(graph.hasPathFrom("n2", "secret", "ns", "s2"), true, "a change the cache applied is seen at the next question");
      assert.equal(opened, 3);

      for (let i = 0; i < 10; i++) await write(`/registry/pods/ns/p${i}`, pod(`p${i}`, "n3", `t${i}`));
      assert.equal(graph.hasPathFrom("n3", "secret", "ns", "t9"), true, "rebuilt from a new watch's initial state");
      assert.equal(graph.hasPathFrom("n1", "secret", "ns", "s1"), true);
      assert.equal(opened, 4, "only the pods' watch was cut off and opened again");
    } finally {
      await cache.stop();
      await store.close();
    }
  });
});
