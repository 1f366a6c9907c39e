// RestClient with a TokenSource: each request (and watch) sends the source's token as it is
// then, and a 401 answer tells the source its token is no longer good.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { isUnauthorized } from "./errors.js";
import { RestClient } from "./rest.js";

void describe("RestClient tokenSource", () => {
  void it("sends the current token with every request and reports a 401", async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      const auth = req.headers.authorization ?? "";
      seen.push(auth);
      if (auth !== "Bearer good-2") {
        res.writeHead(401, { "Content-Type": "application/json" }).end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "Unauthorized", code: 401, message: "Unauthorized" }));
        return;
      }
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ kind: "Namespace", apiVersion: "v1", metadata: { name: "default" } }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    let token = "good-1";
    let refused = 0;
    const client = new RestClient({
      config: { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, insecureSkipTLSVerify: false, namespace: "default", token: "from-config" },
      qps: Infinity,
      tokenSource: {
        token: () => token,
        unauthorized: () => {
          refused++;
          token = "good-2";
        },
      },
    });
    try {
      await assert.rejects(client.forKind("v1", "Namespace").get("default"), isUnauthorized);
      assert.equal(refused, 1);
      const ns = await client.forKind("v1", "Namespace").get("default");
      assert.equal(ns.metadata?.name, "default");
      assert.deepEqual(seen, ["Bearer good-1", "Bearer good-2"], "the source's token, never the config's");
    } finally {
      client.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
