// `k8ts snapshot save|restore` through the real bin/k8ts, against a SQLite store in a temp dir
// and against a real etcd: the restored store must hold every key at the same revisions.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { startEtcd, type RunningEtcd } from "../testing/etcd.js";
import { openStore, type KeyValue, type Store } from "../storage/index.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const bin = join(root, "bin", "k8ts");
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function k8ts(...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
      done({ code, stdout, stderr });
    });
  });
}

function plain(kv: KeyValue): string {
  return JSON.stringify([kv.key, Buffer.from(kv.value).toString("hex"), kv.createRevision, kv.modRevision]);
}

/** Writes creates, updates and deletes so revisions are not simply 1..n. */
async function fill(store: Store, prefix: string): Promise<void> {
  for (let i = 0; i < 40; i++) await store.create(`${prefix}pods/default/p${i}`, enc(JSON.stringify({ i })));
  for (let i = 0; i < 40; i += 3) {
    const kv = (await store.get(`${prefix}pods/default/p${i}`)).kv;
    if (kv) await store.update(kv.key, enc(JSON.stringify({ i, updated: true })), kv.modRevision);
  }
  for (let i = 1; i < 40; i += 7) await store.delete(`${prefix}pods/default/p${i}`);
}

async function contents(store: Store): Promise<{ revision: number; kvs: string[] }> {
  const list = await store.list("/");
  return { revision: list.revision, kvs: list.kvs.map(plain) };
}

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "k8ts-snapshot-cli-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void describe("k8ts snapshot (SQLite)", () => {
  void it("saves a store from --data-dir and restores it into a new --store with every key and revision", async () => {
    const dataDir = join(dir, "data");
    const store = await openStore(`sqlite://${join(dataDir, "state.db")}`);
    let original: { revision: number; kvs: string[] };
    try {
      await fill(store, "/registry/");
      original = await contents(store);
    } finally {
      await store.close();
    }

    const snap = join(dir, "backup.db");
    const save = await k8ts("snapshot", "save", snap, "--data-dir", dataDir);
    assert.equal(save.code, 0, save.stderr);
    assert.match(save.stdout, new RegExp(`at revision ${original.revision} to ${snap}`));
    assert.ok((await stat(snap)).size > 0);

    const again = await k8ts("snapshot", "save", snap, "--data-dir", dataDir);
    assert.notEqual(again.code, 0, "saving over an existing file needs --force");
    assert.match(again.stderr, /exists; choose another file or pass --force/);
    const forced = await k8ts("snapshot", "save", snap, "--data-dir", dataDir, "--force");
    assert.equal(forced.code, 0, forced.stderr);

    const target = join(dir, "restored", "state.db");
    const restore = await k8ts("snapshot", "restore", snap, "--store", `sqlite://${target}`);
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, new RegExp(`into ${target} \\(revision ${original.revision}, ${original.kvs.length} keys\\)`));

    const restored = await openStore(`sqlite://${target}`);
    try {
      assert.deepEqual(await contents(restored), original, "every key at the same create and mod revisions");
      const next = await restored.create("/registry/pods/default/new", enc("{}"));
      assert.equal(next.modRevision, original.revision + 1, "the revision counter continues");
    } finally {
      await restored.close();
    }

    const refused = await k8ts("snapshot", "restore", snap, "--store", `sqlite://${target}`);
    assert.notEqual(refused.code, 0, "restore does not overwrite an existing store without --force");
    assert.match(refused.stderr, /already holds a database/);
    const kept = await openStore(`sqlite://${target}`);
    try {
      assert.ok((await kept.get("/registry/pods/default/new")).kv !== undefined, "the refused restore changed nothing");
    } finally {
      await kept.close();
    }
  });

  void it("restores into the data dir's default store path", async () => {
    const src = join(dir, "src-data");
    const store = await openStore(`sqlite://${join(src, "state.db")}`);
    try {
      await store.create("/registry/namespaces/default", enc("{}"));
    } finally {
      await store.close();
    }
    const snap = join(dir, "default-path.db");
    assert.equal((await k8ts("snapshot", "save", snap, "--store", `sqlite://${join(src, "state.db")}`)).code, 0);
    const dest = join(dir, "dest-data");
    const r = await k8ts("snapshot", "restore", snap, "--data-dir", dest);
    assert.equal(r.code, 0, r.stderr);
    const restored = await openStore(`sqlite://${join(dest, "state.db")}`);
    try {
      assert.equal((await restored.count("/registry/")).count, 1);
    } finally {
      await restored.close();
    }
  });

  void it("gives one clear error for a missing store, a missing snapshot, a bad URL and conflicting flags", async () => {
    const missing = await k8ts("snapshot", "save", join(dir, "never.db"), "--data-dir", join(dir, "no-such-dir"));
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no store at .*no-such-dir\/state\.db/);
    await assert.rejects(stat(join(dir, "no-such-dir")), "a missing store is not created by save");

    const noSnap = await k8ts("snapshot", "restore", join(dir, "nope.snapshot"), "--data-dir", join(dir, "x"));
    assert.notEqual(noSnap.code, 0);
    assert.match(noSnap.stderr, /snapshot file .*nope\.snapshot cannot be read/);

    const badUrl = await k8ts("snapshot", "save", join(dir, "y.db"), "--store", "postgres://db");
    assert.notEqual(badUrl.code, 0);
    assert.match(badUrl.stderr, /unknown scheme "postgres:\/\/".*accepted forms: memory:\/\/, sqlite:\/\/\//);

    const both = await k8ts("snapshot", "save", join(dir, "z.db"), "--store", "sqlite:///tmp/x.db", "--data-dir", dir);
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /cannot be used with/);
  });

  void it("documents itself in --help", async () => {
    const help = await k8ts("snapshot", "restore", "--help");
    assert.equal(help.code, 0);
    for (const flag of ["--store", "--data-dir", "--force", "--etcd-data-dir", "--etcd-name"]) assert.ok(help.stdout.includes(flag), `help mentions ${flag}`);
  });
});

void describe("k8ts snapshot (etcd)", () => {
  let etcd: RunningEtcd | undefined;
  let restoredEtcd: RunningEtcd | undefined;
  after(async () => {
    await restoredEtcd?.stop();
    await etcd?.stop();
  });

  void it("saves from etcd:// and restores into a new etcd data dir that etcd starts from", async () => {
    etcd = await startEtcd();
    const url = etcd.endpoint.replace(/^http:/, "etcd:");
    const store = await openStore(url);
    let original: { revision: number; kvs: string[] };
    try {
      await fill(store, "/registry/");
      original = await contents(store);
    } finally {
      await store.close();
    }

    const snap = join(dir, "etcd.snapshot");
    const save = await k8ts("snapshot", "save", snap, "--store", url);
    assert.equal(save.code, 0, save.stderr);
    assert.match(save.stdout, /saved etcd store/);

    const dataDir = join(dir, "etcd-restored");
    const noDir = await k8ts("snapshot", "restore", snap, "--store", url);
    assert.notEqual(noDir.code, 0);
    assert.match(noDir.stderr, /--etcd-data-dir/);

    const restore = await k8ts("snapshot", "restore", snap, "--store", url, "--etcd-data-dir", dataDir, "--etcd-name", "restored");
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /next: start etcd with --data-dir .*etcd-restored --name restored/);

    restoredEtcd = await startEtcd({ dataDir, name: "restored" });
    const restored = await openStore(restoredEtcd.endpoint.replace(/^http:/, "etcd:"));
    try {
      assert.deepEqual(await contents(restored), original, "every key at the same create and mod revisions");
    } finally {
      await restored.close();
    }

    const again = await k8ts("snapshot", "restore", snap, "--store", url, "--etcd-data-dir", dataDir);
    assert.notEqual(again.code, 0, "restore never writes into a data dir that holds data");
    assert.match(again.stderr, /already holds data/);
    assert.ok((await readFile(join(dataDir, "member", "snap", "db"))).length > 0, "the restored data dir is intact");
  });
});
