import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "node:https";
import { createCA, issueCertificate, type CertAndKey } from "../../util/pki.js";
import { x509Authenticator } from "./x509.js";
import { call, startAuthServer, type TestServer } from "./testing.js";

let ca: CertAndKey;
let otherCA: CertAndKey;
let serving: CertAndKey;
const servers: TestServer[] = [];

before(async () => {
  ca = await createCA("cluster-ca");
  otherCA = await createCA("other-ca");
  serving = await issueCertificate(ca, { commonName: "kube-apiserver", dnsNames: ["localhost"], usages: "server", validityDays: 1 });
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function server(opts: { trustedByTLS: string; clientCA?: string }): Promise<TestServer> {
  const s = await startAuthServer(x509Authenticator(opts.clientCA === undefined ? {} : { clientCA: opts.clientCA }), { key: serving.keyPem, cert: serving.certPem, ca: opts.trustedByTLS });
  servers.push(s);
  return s;
}

const client = (signer: CertAndKey, commonName: string, organizations: string[] = []): Promise<CertAndKey> =>
  issueCertificate(signer, { commonName, organizations, usages: "client", validityDays: 1 });

void test("CN is the username, every O a group, plus system:authenticated", async () => {
  const s = await server({ trustedByTLS: ca.certPem });
  const admin = await client(ca, "kubernetes-admin", ["system:masters"]);
  assert.deepEqual(await call(s.url, { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem }), {
    status: 200,
    user: { username: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] },
    reused: false,
  });
  const node = await client(ca, "system:node:n1", ["system:nodes", "team-a"]);
  const v = await call(s.url, { ca: ca.certPem, cert: node.certPem, key: node.keyPem });
  assert.deepEqual(v.user, { username: "system:node:n1", groups: ["system:nodes", "team-a", "system:authenticated"] });
});

void test("no certificate, no opinion; a certificate without CN names nobody", async () => {
  const s = await server({ trustedByTLS: ca.certPem });
  assert.deepEqual(await call(s.url, { ca: ca.certPem }), { status: 200, user: null, reused: false });
  const nameless = await client(ca, "", ["system:masters"]);
  assert.equal((await call(s.url, { ca: ca.certPem, cert: nameless.certPem, key: nameless.keyPem })).user, null);
});

void test("a certificate from an unknown CA is rejected after the handshake, with a 401", async () => {
  const s = await server({ trustedByTLS: ca.certPem });
  const stranger = await client(otherCA, "kubernetes-admin", ["system:masters"]);
  const v = await call(s.url, { ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem });
  assert.equal(v.status, 401);
  assert.equal(v.code, "InvalidCertificate");
  assert.match(v.message ?? "", /^verifying certificate SN=[0-9A-F]+ failed: /);
});

void test("a serving certificate is not a client certificate", async () => {
  const s = await server({ trustedByTLS: ca.certPem });
  const v = await call(s.url, { ca: ca.certPem, cert: serving.certPem, key: serving.keyPem });
  assert.equal(v.status, 401);
  assert.equal(v.code, "InvalidCertificate");
});

void test("clientCA narrows what the TLS layer trusts, also on resumed sessions", async () => {
  const s = await server({ trustedByTLS: ca.certPem + otherCA.certPem, clientCA: ca.certPem });
  const fromOther = await client(otherCA, "proxy");
  const v = await call(s.url, { ca: ca.certPem, cert: fromOther.certPem, key: fromOther.keyPem });
  assert.deepEqual([v.status, v.code, v.message?.endsWith("not issued by a client CA")], [401, "InvalidCertificate", true]);

  const alice = await client(ca, "alice");
  // A new connection per request through one agent: the second resumes the TLS session.
  const agent = new Agent({ keepAlive: false, maxCachedSessions: 10 });
  try {
    const first = await call(s.url, { ca: ca.certPem, cert: alice.certPem, key: alice.keyPem, agent });
    const second = await call(s.url, { ca: ca.certPem, cert: alice.certPem, key: alice.keyPem, agent });
    assert.equal(first.user?.username, "alice");
    assert.equal(second.reused, true, "the second connection resumed the session");
    assert.equal(second.user?.username, "alice");
  } finally {
    agent.destroy();
  }
});

void test("plain HTTP carries no certificate: no opinion", async () => {
  const s = await startAuthServer(x509Authenticator());
  servers.push(s);
  assert.deepEqual(await call(s.url), { status: 200, user: null });
});
