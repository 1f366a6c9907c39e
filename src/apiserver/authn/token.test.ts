import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseTokenFile, TokenFileError, tokenFileAuthenticator } from "./token.js";
import { call, startAuthServer, type TestServer } from "./testing.js";

let dir = "";
let server: TestServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "k8ts-tokens-"));
  const file = join(dir, "tokens.csv");
  await writeFile(file, ['admin-token,admin,uid-1,"system:masters,ops"', "viewer-token,viewer,uid-2", ""].join("\n"));
  server = await startAuthServer(await tokenFileAuthenticator(file));
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

void test("a known bearer token names its user, uid and groups", async () => {
  assert.deepEqual(await call(server.url, { headers: { authorization: "Bearer admin-token" } }), {
    status: 200,
    user: { username: "admin", uid: "uid-1", groups: ["system:masters", "ops", "system:authenticated"] },
  });
  // The scheme is case-insensitive, as upstream.
  assert.deepEqual((await call(server.url, { headers: { authorization: "bearer viewer-token" } })).user, { username: "viewer", uid: "uid-2", groups: ["system:authenticated"] });
});

void test("an unknown token is rejected; no token or another scheme is no opinion", async () => {
  assert.deepEqual(await call(server.url, { headers: { authorization: "Bearer nope" } }), { status: 401, code: "InvalidToken", message: "invalid bearer token" });
  assert.deepEqual(await call(server.url), { status: 200, user: null });
  assert.deepEqual(await call(server.url, { headers: { authorization: "Basic YTpi" } }), { status: 200, user: null });
  assert.deepEqual(await call(server.url, { headers: { authorization: "Bearer" } }), { status: 200, user: null });
});

void test("the CSV grammar: quotes, doubled quotes, CRLF, blank lines, empty tokens", () => {
  const tokens = parseTokenFile('t1,u1,id1,"g1,g2"\r\n\r\n,skipped,x\n"t,2",u2,,""\n"t""3",u3,id3,g3');
  assert.deepEqual([...tokens.keys()], ["t1", "t,2", 't"3']);
  assert.deepEqual(tokens.get("t1"), { username: "u1", uid: "id1", groups: ["g1", "g2"] });
  assert.deepEqual(tokens.get("t,2"), { username: "u2", groups: [] });
  assert.deepEqual(tokens.get('t"3'), { username: "u3", uid: "id3", groups: ["g3"] });
  // A later duplicate replaces the earlier one, as upstream's map does.
  assert.equal(parseTokenFile("t,a,1\nt,b,2").get("t")?.username, "b");
});

void test("malformed files fail at load with InvalidTokenFile", async () => {
  for (const bad of ["t,u", 'a"b,u,1', '"t"x,u,1', '"unterminated,u,1']) {
    assert.throws(() => parseTokenFile(bad, "f.csv"), (e) => e instanceof TokenFileError && e.code === "InvalidTokenFile" && e.path === "f.csv", bad);
  }
  await assert.rejects(tokenFileAuthenticator(join(dir, "missing.csv")), { code: "ENOENT" });
});
