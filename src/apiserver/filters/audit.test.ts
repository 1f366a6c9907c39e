// The audit filter against a real server: one event per request, with the code the client got —
// also for requests refused further in (authorization's 403 is answered after the event is made).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { AuditEvent } from "./audit.js";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { createClientFromKubeconfig, type RestClient } from "../../client/rest.js";
import { until } from "../../testing/wait.js";

describe("audit", () => {
  const events: AuditEvent[] = [];
  let srv: TestApiServer;
  let admin: RestClient;
  before(async () => {
    srv = await startTestApiServer({ auditSink: { record: (e) => void events.push(e) } });
    admin = await createClientFromKubeconfig(srv.kubeconfig, { qps: Infinity });
  });
  after(async () => {
    admin?.close();
    await srv?.stop();
  });

  it("records the code of a served request and of a refused one, with the refusal's reason", async () => {
    await admin.forKind("v1", "ConfigMap").namespace("default").create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "audited" } });
    const r = await srv.kubectl(["get", "configmap", "audited", "--as", "jane"]);
    assert.notEqual(r.code, 0);
    // A create's request names no object (its objectRef has none).
    const of = (user: string, verb: string): AuditEvent | undefined =>
      events.find((e) => (e.impersonatedUser ?? e.user).username === user && e.verb === verb && e.objectRef?.resource === "configmaps" && (verb === "create" || e.objectRef.name === "audited"));
    await until("both events", () => (of("jane", "get") && of("kubernetes-admin", "create") ? true : undefined), 5000);
    assert.deepEqual(of("kubernetes-admin", "create")!.responseStatus, { code: 201 });
    const refused = of("jane", "get")!.responseStatus;
    assert.equal(refused.code, 403);
    assert.equal(refused.status, "Failure");
    assert.equal(refused.reason, "Forbidden");
    assert.match(refused.message ?? "", /^configmaps "audited" is forbidden: User "jane" cannot get resource "configmaps"/);
  });
});
