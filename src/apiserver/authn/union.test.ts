import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createCA, issueCertificate, type CertAndKey } from "../../util/pki.js";
import { ANONYMOUS_USER, anonymousAuthenticator } from "./anonymous.js";
import { staticTokenAuthenticator } from "./token.js";
import { AuthenticationError, union, type Authenticator } from "./types.js";
import { x509Authenticator } from "./x509.js";
import { call, startAuthServer, type TestServer } from "./testing.js";

let ca: CertAndKey;
let admin: CertAndKey;
let stranger: CertAndKey;
const servers: TestServer[] = [];

const tokens = staticTokenAuthenticator(new Map([["t0k", { username: "bot", groups: ["bots"] }]]));

before(async () => {
  ca = await createCA("ca");
  admin = await issueCertificate(ca, { commonName: "kubernetes-admin", organizations: ["system:masters"], usages: "client", validityDays: 1 });
  stranger = await issueCertificate(await createCA("other"), { commonName: "mallory", usages: "client", validityDays: 1 });
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(authenticator: Authenticator): Promise<TestServer> {
  const serving = await issueCertificate(ca, { commonName: "srv", dnsNames: ["localhost"], usages: "server", validityDays: 1 });
  const s = await startAuthServer(authenticator, { key: serving.keyPem, cert: serving.certPem, ca: ca.certPem });
  servers.push(s);
  return s;
}

/** The chain's composition: credentials first, anonymous only when nobody had an opinion. */
const chain = (): Authenticator => union([union([x509Authenticator(), tokens]), anonymousAuthenticator()], { failOnError: true });

void test("the first authenticator that recognises the caller wins", async () => {
  const s = await serve(chain());
  const both = await call(s.url, { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem, headers: { authorization: "Bearer t0k" } });
  assert.equal(both.user?.username, "kubernetes-admin");
  const token = await call(s.url, { ca: ca.certPem, headers: { authorization: "Bearer t0k" } });
  assert.deepEqual(token.user, { username: "bot", groups: ["bots", "system:authenticated"] });
});

void test("a rejected credential does not stop the others, but does stop anonymous", async () => {
  const s = await serve(chain());
  // A bad certificate with a good token: the token authenticates.
  const v = await call(s.url, { ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem, headers: { authorization: "Bearer t0k" } });
  assert.equal(v.user?.username, "bot");
  // A bad token alone is a 401, not an anonymous request.
  assert.deepEqual(await call(s.url, { ca: ca.certPem, headers: { authorization: "Bearer wrong" } }), { status: 401, code: "InvalidToken", message: "invalid bearer token", reused: false });
  // Two bad credentials: both reasons are reported.
  const two = await call(s.url, { ca: ca.certPem, cert: stranger.certPem, key: stranger.keyPem, headers: { authorization: "Bearer wrong" } });
  assert.equal(two.code, "Rejected");
  assert.match(two.message ?? "", /verifying certificate .* failed: .*; invalid bearer token\]$/);
});

void test("no credentials at all: the anonymous user", async () => {
  const s = await serve(chain());
  assert.deepEqual((await call(s.url, { ca: ca.certPem })).user, { username: "system:anonymous", groups: ["system:unauthenticated"] });
  assert.deepEqual(ANONYMOUS_USER.groups, ["system:unauthenticated"]);
  const noAnonymous = await serve(union([x509Authenticator(), tokens]));
  assert.deepEqual(await call(noAnonymous.url, { ca: ca.certPem }), { status: 200, user: null, reused: false });
});

void test("failOnError stops at the first rejection; errors that are not AuthenticationErrors pass through", async () => {
  let asked = 0;
  const broken: Authenticator = { authenticate: () => Promise.reject(new AuthenticationError("InvalidToken", "broken")) };
  const counting: Authenticator = {
    authenticate: () => {
      asked++;
      return Promise.resolve({ username: "u", groups: [] });
    },
  };
  const s = await serve(union([broken, counting], { failOnError: true }));
  assert.equal((await call(s.url, { ca: ca.certPem })).status, 401);
  assert.equal(asked, 0);
  const lenient = await serve(union([broken, counting]));
  assert.equal((await call(lenient.url, { ca: ca.certPem })).user?.username, "u");
  assert.equal(asked, 1);
  const crash = await serve(union([{ authenticate: () => Promise.reject(new RangeError("bug")) }]));
  assert.deepEqual(await call(crash.url, { ca: ca.certPem }), { status: 401, code: "Unknown", message: "bug", reused: false });
});
