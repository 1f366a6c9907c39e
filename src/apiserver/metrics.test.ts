import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiServerMetrics } from "./metrics.js";
import type { HttpContext } from "./http.js";
import type { RequestInfo } from "./requestinfo.js";

const info = (verb: string, resource: string, name: string, subresource = ""): RequestInfo =>
  ({ isResourceRequest: true, verb, path: "", apiPrefix: "api", apiGroup: "", apiVersion: "v1", namespace: "default", resource, subresource, name, parts: [] }) as RequestInfo;

const ctx = (i: RequestInfo, code: number): HttpContext => ({ info: i, code, res: { statusCode: code } }) as unknown as HttpContext;

void describe("ApiServerMetrics", () => {
  void it("counts requests per label set and code, and times them, with label sets reused", async () => {
    const m = new ApiServerMetrics();
    const f = m.filter();
    const run = (c: HttpContext): Promise<void> => f(c, async () => undefined);
    await run(ctx(info("create", "pods", ""), 201));
    await run(ctx(info("create", "pods", ""), 201));
    await run(ctx(info("create", "pods", ""), 409));
    await run(ctx(info("update", "pods", "a", "status"), 200));
    await run(ctx(info("watch", "pods", ""), 200));
    const text = await m.registry.metrics();
    const line = (prefix: string): string | undefined => text.split("\n").find((l) => l.startsWith(prefix));
    assert.equal(line('apiserver_request_total{verb="POST",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver",code="201"}'), 'apiserver_request_total{verb="POST",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver",code="201"} 2');
    assert.ok(line('apiserver_request_total{verb="POST",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver",code="409"} 1'));
    assert.ok(line('apiserver_request_total{verb="PUT",group="",version="v1",resource="pods",subresource="status",scope="resource",component="apiserver",code="200"} 1'));
    assert.ok(line('apiserver_request_duration_seconds_count{verb="POST",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver"} 3'));
    // Watches are long-running: in the gauge (back to 0 once done), not in the latency histogram.
    assert.ok(line('apiserver_longrunning_requests{verb="WATCH",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver"} 0'));
    assert.equal(line('apiserver_request_duration_seconds_count{verb="WATCH"'), undefined);
  });
});
