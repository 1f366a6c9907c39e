// `k8ts up`'s check that the cluster DNS answers: a real query, not an EndpointSlice's word.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { startFakeUpstream } from "../dns/testing.js";
import { clusterDnsAnswers } from "./up-actions.js";

void describe("clusterDnsAnswers", () => {
  void it("is true only when the server answers the API server's name with an address", async () => {
    const answering = await startFakeUpstream((name, type) => (type === "A" && name === "kubernetes.default.svc.cluster.local" ? [{ type: "A", name, ttl: 5, data: "10.43.0.1" }] : "nxdomain"));
    const refusing = await startFakeUpstream(() => "nxdomain");
    const silent = await startFakeUpstream(() => "drop");
    try {
      assert.equal(await clusterDnsAnswers(`127.0.0.1:${answering.port}`), true);
      assert.ok(answering.asked.some((q) => q.endsWith("kubernetes.default.svc.cluster.local A")), answering.asked.join(", "));
      assert.equal(await clusterDnsAnswers(`127.0.0.1:${answering.port}`, "example.internal"), false, "another cluster domain is another name");
      assert.equal(await clusterDnsAnswers(`127.0.0.1:${refusing.port}`), false);
      assert.equal(await clusterDnsAnswers(`127.0.0.1:${silent.port}`), false, "a server that never answers is given a second");
    } finally {
      await Promise.all([answering.close(), refusing.close(), silent.close()]);
    }
  });

  void it("is false when nothing listens (a cluster IP that rejects, as the proxy makes a Service without endpoints)", async () => {
    const sock = createSocket("udp4");
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
    const port = sock.address().port;
    sock.close();
    assert.equal(await clusterDnsAnswers(`127.0.0.1:${port}`), false);
  });
});
