// Store URLs and bad input at the front door: every malformed URL, unusable file or unreachable
// server gets one StorageError that says what to do, and nothing that exists is reset.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { freePort } from "../testing/etcd.js";
import { isStorageError, type StorageErrorCode } from "./errors.js";
import { ACCEPTED_STORE_URLS, DEFAULT_STORE_URL, openStore, parseStoreUrl, restoreSnapshot } from "./index.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function rejectsWith(p: Promise<unknown>, code: StorageErrorCode, mentions: readonly (string | RegExp)[] = []): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(isStorageError(err, code), `expected StorageError ${code}, got ${err instanceof Error ? `${err.name} ${(err as { code?: unknown }).code ?? ""}: ${err.message}` : String(err)}`);
    for (const m of mentions) {
      if (typeof m === "string") assert.ok(err.message.includes(m), `message ${JSON.stringify(err.message)} should mention ${JSON.stringify(m)}`);
      else assert.match(err.message, m);
    }
    return err.message;
  }
  return assert.fail(`expected StorageError ${code}, but it succeeded`);
}

/** Any StorageError will do where the code is the backend's choice; the message must name what is wrong. */
async function refused(p: Promise<{ close(): Promise<void> } | unknown>, mentions: readonly string[]): Promise<void> {
  let outcome: unknown;
  try {
    const value = await p;
    if (typeof value === "object" && value !== null && "close" in value && typeof value.close === "function") await (value as { close(): Promise<void> }).close();
  } catch (err) {
    outcome = err;
  }
  assert.ok(isStorageError(outcome), `expected a StorageError, got ${outcome === undefined ? "success" : String(outcome)}`);
  for (const m of mentions) assert.ok(outcome.message.includes(m), `message ${JSON.stringify(outcome.message)} should mention ${JSON.stringify(m)}`);
}

function throwsInvalid(fn: () => unknown, ...mentions: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isStorageError(err, "Invalid"), `expected StorageError Invalid, got ${String(err)}`);
    for (const m of mentions) assert.ok(err.message.includes(m), `message ${JSON.stringify(err.message)} should mention ${JSON.stringify(m)}`);
    return true;
  });
}

async function digest(file: string): Promise<string> {
  return createHash("sha256").update(await readFile(file)).digest("hex");
}

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "k8ts-storage-index-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void describe("parseStoreUrl", () => {
  void it("reads memory, SQLite (absolute and relative) and etcd URLs", () => {
    assert.deepEqual(parseStoreUrl("memory://"), { backend: "memory", options: {} });
    assert.deepEqual(parseStoreUrl("sqlite:///var/lib/k8ts/state.db"), { backend: "sqlite", path: "/var/lib/k8ts/state.db", options: {} });
    assert.deepEqual(parseStoreUrl("sqlite://data/state.db", "/home/me"), { backend: "sqlite", path: "/home/me/data/state.db", options: {} });
    assert.deepEqual(parseStoreUrl("sqlite://./x.db?synchronous=normal", "/w"), { backend: "sqlite", path: "/w/x.db", options: { sqliteSynchronous: "NORMAL" } });
    assert.deepEqual(parseStoreUrl("SQLITE:///x.db?synchronous=FULL").options, { sqliteSynchronous: "FULL" });
    assert.equal((parseStoreUrl("sqlite:///tmp/a%20b/%3F%23%25.db") as { path: string }).path, "/tmp/a b/?#%.db");
    assert.deepEqual(parseStoreUrl("etcd://10.0.0.1:2379,etcd-2.example:12379,[::1]:3000,solo"), {
      backend: "etcd",
      endpoints: ["http://10.0.0.1:2379", "http://etcd-2.example:12379", "http://[::1]:3000", "http://solo:2379"],
      options: {},
    });
    assert.deepEqual(parseStoreUrl("etcd://127.0.0.1:2379/", "/w"), { backend: "etcd", endpoints: ["http://127.0.0.1:2379"], options: {} });
  });

  void it("switches etcd to TLS when certificate files are given, resolving them against the current directory", () => {
    assert.deepEqual(parseStoreUrl("etcd://a:1,b:2?cacert=pki/ca.crt&cert=/etc/c.crt&key=c.key", "/w"), {
      backend: "etcd",
      endpoints: ["https://a:1", "https://b:2"],
      options: { tls: { caFile: "/w/pki/ca.crt", certFile: "/etc/c.crt", keyFile: "/w/c.key" } },
    });
    assert.deepEqual(parseStoreUrl("etcd://a:1?cacert=/ca.pem").options, { tls: { caFile: "/ca.pem" } });
  });

  void it("DEFAULT_STORE_URL is state.db in the data dir, and survives odd directory names", () => {
    assert.equal(DEFAULT_STORE_URL("/var/lib/k8ts"), "sqlite:///var/lib/k8ts/state.db");
    assert.deepEqual(parseStoreUrl(DEFAULT_STORE_URL("/var/lib/k8ts")), { backend: "sqlite", path: "/var/lib/k8ts/state.db", options: {} });
    assert.equal((parseStoreUrl(DEFAULT_STORE_URL("rel/dir"), "/w") as { path: string }).path, "/w/rel/dir/state.db");
    assert.equal((parseStoreUrl(DEFAULT_STORE_URL("/tmp/100% sure?#x")) as { path: string }).path, "/tmp/100% sure?#x/state.db");
  });

  void it("rejects an unknown scheme with a message that lists the accepted forms", () => {
    for (const url of ["postgres://localhost/k8s", "mysql://x", "etcds://127.0.0.1:2379", "file:///tmp/x.db"]) {
      throwsInvalid(() => parseStoreUrl(url), "unknown scheme", "memory://", "sqlite:///", "etcd://", ACCEPTED_STORE_URLS);
    }
  });

  void it("rejects malformed URLs, each with the reason", () => {
    const cases: Array<[string, string]> = [
      ["", "expected SCHEME://"],
      ["/var/lib/k8ts/state.db", "expected SCHEME://"],
      ["sqlite:/x.db", "expected SCHEME://"],
      ["sqlite://", "no database file path"],
      ["sqlite:///", "no database file path"],
      ["sqlite:///var/lib/k8ts/", "names a directory"],
      ["sqlite:///x.db?synchronus=normal", 'unknown parameter "synchronus"'],
      ["sqlite:///x.db?synchronous=off", "synchronous must be full or normal"],
      ["sqlite:///x.db?synchronous=full&synchronous=normal", "given twice"],
      ["sqlite:///x.db?synchronous=", "has no value"],
      ["sqlite:///x%zz.db", "percent-decode"],
      ["sqlite:///x.db#frag", "fragment"],
      ["memory://somewhere", "takes no path"],
      ["memory://?x=1", "takes no parameters"],
      ["etcd://", "no etcd endpoint"],
      ["etcd://host:0", "out of range"],
      ["etcd://host:65536", "out of range"],
      ["etcd://host:port", "not host:port"],
      ["etcd://a:1,,b:2", "not host:port"],
      ["etcd://a:1/registry", "no path"],
      ["etcd://a:1?cert=/c.crt", "cert and key go together"],
      ["etcd://a:1?tls=true", 'unknown parameter "tls"'],
    ];
    for (const [url, why] of cases) throwsInvalid(() => parseStoreUrl(url), why, "accepted forms");
  });
});

void describe("openStore", () => {
  void it("opens a memory store", async () => {
    const s = await openStore("memory://");
    try {
      assert.equal(s.backend, "memory");
      const kv = await s.create("/a", enc("x"));
      assert.equal(kv.modRevision, 1);
    } finally {
      await s.close();
    }
  });

  void it("creates a SQLite store where none exists and opens it again with its data", async () => {
    const url = `sqlite://${join(dir, "fresh", "state.db")}?synchronous=normal`;
    const s = await openStore(url);
    const kv = await s.create("/registry/a", enc("x"));
    await s.close();
    const again = await openStore(url);
    try {
      assert.equal(again.backend, "sqlite");
      assert.equal((await again.get("/registry/a")).kv?.modRevision, kv.modRevision);
    } finally {
      await again.close();
    }
  });

  void it("rejects options that contradict the URL, and bad option values, as Invalid", async () => {
    await rejectsWith(openStore(`sqlite://${join(dir, "x.db")}?synchronous=normal`, { sqliteSynchronous: "FULL" }), "Invalid", ["contradicts"]);
    await rejectsWith(openStore("memory://", { watchQueueLimit: 0 }), "Invalid", ["watchQueueLimit"]);
    await rejectsWith(openStore("etcd://127.0.0.1:1?cacert=/a.crt", { tls: { caFile: "/b.crt" } }), "Invalid", ["contradicts"]);
  });

  void it("refuses a path that is a directory, or under a file, naming the path", async () => {
    const d = join(dir, "a-directory.db");
    await mkdir(d);
    await refused(openStore(`sqlite://${d}`), [d]);
    const file = join(dir, "plain-file");
    await writeFile(file, "not a directory");
    await refused(openStore(`sqlite://${join(file, "state.db")}`), [file]);
    assert.equal(await readFile(file, "utf8"), "not a directory", "the file in the way is untouched");
  });

  void it("refuses a corrupt SQLite file and a SQLite database that is not a k8ts store, leaving both as they were", async () => {
    const corrupt = join(dir, "corrupt.db");
    await writeFile(corrupt, Buffer.concat([Buffer.from("this is not a database at all "), Buffer.alloc(4096, 7)]));
    const before = await digest(corrupt);
    await refused(openStore(`sqlite://${corrupt}`), [corrupt]);
    assert.equal(await digest(corrupt), before, "the corrupt file is untouched");

    const foreign = join(dir, "foreign.db");
    const db = new Database(foreign);
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me');");
    db.close();
    const foreignBefore = await digest(foreign);
    await refused(openStore(`sqlite://${foreign}`), [foreign]);
    assert.equal(await digest(foreign), foreignBefore, "the foreign database is untouched");
  });

  void it("reports an unreachable etcd as Unavailable, naming the address", async () => {
    const port = await freePort();
    const t0 = Date.now();
    await rejectsWith(openStore(`etcd://127.0.0.1:${port}`), "Unavailable", [`127.0.0.1:${port}`, "etcd"]);
    assert.ok(Date.now() - t0 < 15_000, "it fails within the dial timeout, not after minutes");
  });

  void it("names an unreadable etcd TLS file before dialing", async () => {
    const missing = join(dir, "no-such-ca.crt");
    await rejectsWith(openStore(`etcd://127.0.0.1:1?cacert=${missing}`), "Invalid", [missing]);
  });
});

void describe("restoreSnapshot", () => {
  void it("restores a SQLite snapshot into a new file, and refuses to overwrite one without force", async () => {
    const src = await openStore(`sqlite://${join(dir, "restore-src.db")}`);
    const snap = join(dir, "restore.snapshot");
    let rev: number;
    try {
      await src.create("/registry/x", enc("1"));
      rev = (await src.create("/registry/y", enc("2"))).modRevision;
      await src.snapshot(snap);
    } finally {
      await src.close();
    }

    const targetUrl = `sqlite://${join(dir, "restored", "state.db")}`;
    assert.deepEqual(await restoreSnapshot(targetUrl, snap), { backend: "sqlite", target: join(dir, "restored", "state.db") });
    const restored = await openStore(targetUrl);
    try {
      assert.equal(await restored.currentRevision(), rev);
      assert.equal((await restored.list("/registry/")).kvs.length, 2);
      await restored.create("/registry/z", enc("after restore"));
    } finally {
      await restored.close();
    }

    const target = join(dir, "restored", "state.db");
    await rejectsWith(restoreSnapshot(targetUrl, snap), "AlreadyExists", [target]);
    const check = await openStore(targetUrl);
    try {
      assert.equal((await check.get("/registry/z")).kv !== undefined, true, "the refused restore left the existing data alone");
    } finally {
      await check.close();
    }
    await restoreSnapshot(targetUrl, snap, { force: true });
    const forced = await openStore(targetUrl);
    try {
      assert.equal((await forced.get("/registry/z")).kv, undefined, "force replaced the database with the snapshot");
      assert.equal(await forced.currentRevision(), rev);
    } finally {
      await forced.close();
    }
  });

  void it("rejects what it cannot restore, each with the reason", async () => {
    await rejectsWith(restoreSnapshot(`sqlite://${join(dir, "r1.db")}`, join(dir, "missing.snapshot")), "Invalid", ["missing.snapshot"]);
    const snap = join(dir, "junk.snapshot");
    await writeFile(snap, "junk");
    await rejectsWith(restoreSnapshot("memory://", snap), "Invalid", ["memory"]);
    await rejectsWith(restoreSnapshot("etcd://127.0.0.1:2379", snap), "Invalid", ["--etcd-data-dir"]);
    await rejectsWith(restoreSnapshot("bogus://x", snap), "Invalid", ["unknown scheme"]);
    await refused(restoreSnapshot(`sqlite://${join(dir, "from-junk.db")}`, snap), [snap]);
    await assert.rejects(readFile(join(dir, "from-junk.db")), "no target file is left behind by a failed restore");
  });
});
