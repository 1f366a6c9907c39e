// The volume manager on a real filesystem, with real tmpfs mounts (needs root).
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Volume } from "kubernetes-types/core/v1.js";
import { createLogger } from "../../util/log.js";
import { kubeletPaths, VolumeError, type KubeletPaths, type ObjectSource } from "../types.js";
import { Volumes, PLUGIN_CONFIGMAP, PLUGIN_DOWNWARD_API, PLUGIN_EMPTY_DIR, PLUGIN_PROJECTED, PLUGIN_SECRET } from "./index.js";

const skip = process.getuid?.() !== 0 ? "needs root for tmpfs mounts" : false;

function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

function mountOptions(dir: string): string {
  const line = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .find((l) => l.split(" ")[4] === dir);
  return line ?? "";
}

class FakeObjects implements ObjectSource {
  readonly configMaps = new Map<string, ConfigMap>();
  readonly secrets = new Map<string, Secret>();
  readonly claims = new Map<string, PersistentVolumeClaim>();
  readonly volumes = new Map<string, PersistentVolume>();
  readonly tokenCalls: { namespace: string; serviceAccount: string; audiences: readonly string[]; expirationSeconds: number; podName: string; podUid: string }[] = [];
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return Promise.resolve(this.configMaps.get(`${namespace}/${name}`));
  }
  secret(namespace: string, name: string): Promise<Secret | undefined> {
    return Promise.resolve(this.secrets.get(`${namespace}/${name}`));
  }
  persistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return Promise.resolve(this.claims.get(`${namespace}/${name}`));
  }
  persistentVolume(name: string): Promise<PersistentVolume | undefined> {
    return Promise.resolve(this.volumes.get(name));
  }
  services(): Promise<never[]> {
    return Promise.resolve([]);
  }
  runtimeHandler(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
  serviceAccountToken(
    namespace: string,
    serviceAccount: string,
    r: { readonly audiences: readonly string[]; readonly expirationSeconds: number; readonly podName: string; readonly podUid: string },
  ): Promise<{ token: string; expirationTimestamp: string }> {
    this.tokenCalls.push({ namespace, serviceAccount, ...r });
    return Promise.resolve({ token: `token-${this.tokenCalls.length}`, expirationTimestamp: new Date(Date.now() + r.expirationSeconds * 1000).toISOString() });
  }
  putConfigMap(ns: string, name: string, data: Record<string, string>, binaryData?: Record<string, string>): void {
    this.configMaps.set(`${ns}/${name}`, { metadata: { name, namespace: ns }, data, ...(binaryData ? { binaryData } : {}) });
  }
  putSecret(ns: string, name: string, data: Record<string, string>): void {
    const enc = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
    this.secrets.set(`${ns}/${name}`, { metadata: { name, namespace: ns }, data: enc });
  }
}

let uidSeq = 0;
function makePod(volumes: Volume[], extra: Partial<Pod["metadata"]> = {}): Pod {
  return {
    metadata: { name: `p${uidSeq}`, namespace: "ns1", uid: `uid-${process.pid}-${uidSeq++}`, labels: { app: "demo" }, ...extra },
    spec: { containers: [{ name: "c", image: "busybox", resources: { limits: { memory: "128Mi" } } }], serviceAccountName: "builder", volumes },
  };
}

const mode = (p: string): number => statSync(p).mode & 0o7777;
const read = (p: string): string => readFileSync(p, "utf8");
const keysOf = (dir: string): string[] => readdirSync(dir).filter((n) => !n.startsWith("..")).sort();

async function rejectsWith(p: Promise<unknown>, volume: string, reason: string, message: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof VolumeError, `not a VolumeError: ${String(err)}`);
    assert.equal(err.volume, volume);
    assert.equal(err.reason, reason);
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe("Volumes", { skip }, () => {
  let dataDir: string;
  let hostDir: string;
  let paths: KubeletPaths;
  let objects: FakeObjects;
  let volumes: Volumes;
  const pods: string[] = [];

  const setUp = async (pod: Pod): Promise<Map<string, { hostPath: string; readOnly: boolean }>> => {
    pods.push(pod.metadata!.uid!);
    return volumes.setUpPod(pod);
  };
  const dirOf = (pod: Pod, plugin: string, name: string): string => join(paths.podVolumesDir(pod.metadata!.uid!), plugin, name);

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "k8ts-volumes-"));
    hostDir = mkdtempSync(join(tmpdir(), "k8ts-hostpath-"));
    paths = kubeletPaths(dataDir);
    objects = new FakeObjects();
    volumes = new Volumes({ paths, objects, nodeName: "node-a", log: createLogger("silent") });
  });
  afterEach(async () => {
    for (const uid of pods.splice(0)) await volumes.tearDownPod(uid);
  });
  after(() => {
    // Whatever a failed test left mounted must not survive it.
    for (const mp of mountsUnder(dataDir).sort((a, b) => b.length - a.length)) execFileSync("umount", ["-l", mp]);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(hostDir, { recursive: true, force: true });
  });

  it("emptyDir on disk: a 0777 directory under the pod's volumes", async () => {
    const pod = makePod([{ name: "scratch", emptyDir: {} }, { name: "nosource" } as Volume]);
    const m = await setUp(pod);
    const dir = dirOf(pod, PLUGIN_EMPTY_DIR, "scratch");
    assert.deepEqual(m.get("scratch"), { hostPath: dir, readOnly: false });
    assert.equal(mode(dir), 0o777);
    assert.deepEqual(mountsUnder(dir), []);
    // A volume without a source is an emptyDir, as API defaulting makes it.
    assert.equal(m.get("nosource")?.hostPath, dirOf(pod, PLUGIN_EMPTY_DIR, "nosource"));
    writeFileSync(join(dir, "kept"), "x");
    await setUp(pod);
    assert.equal(read(join(dir, "kept")), "x");
  });

  it("emptyDir medium Memory: a tmpfs sized by sizeLimit, mounted once", async () => {
    const pod = makePod([
      { name: "mem", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
      { name: "mem2", emptyDir: { medium: "Memory" } },
    ]);
    await setUp(pod);
    await setUp(pod);
    const dir = dirOf(pod, PLUGIN_EMPTY_DIR, "mem");
    assert.deepEqual(mountsUnder(dir), [dir]);
    assert.match(mountOptions(dir), / tmpfs tmpfs .*size=16384k/);
    assert.deepEqual(mountsUnder(dirOf(pod, PLUGIN_EMPTY_DIR, "mem2")).length, 1);
    await volumes.tearDownPod(pod.metadata!.uid!);
    assert.deepEqual(mountsUnder(paths.podDir(pod.metadata!.uid!)), []);
  });

  it("hostPath: type checks with upstream's messages; the *OrCreate types create", async () => {
    const file = join(hostDir, "file");
    writeFileSync(file, "f");
    const sock = join(hostDir, "sock");
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const ok = makePod([
        { name: "any", hostPath: { path: join(hostDir, "missing-but-untyped") } },
        { name: "dir", hostPath: { path: hostDir, type: "Directory" } },
        { name: "mkdir", hostPath: { path: join(hostDir, "made/deep"), type: "DirectoryOrCreate" } },
        { name: "file", hostPath: { path: file, type: "File" } },
        { name: "mkfile", hostPath: { path: join(hostDir, "newfile"), type: "FileOrCreate" } },
        { name: "sock", hostPath: { path: sock, type: "Socket" } },
        { name: "null", hostPath: { path: "/dev/null", type: "CharDevice" } },
      ]);
      const m = await setUp(ok);
      assert.deepEqual(m.get("dir"), { hostPath: hostDir, readOnly: false });
      assert.equal(mode(join(hostDir, "made/deep")), 0o755);
      assert.ok(statSync(join(hostDir, "newfile")).isFile());
      assert.equal(mode(join(hostDir, "newfile")), 0o644);
      assert.ok(!existsSync(join(hostDir, "missing-but-untyped")));
      assert.ok(!existsSync(join(paths.podVolumesDir(ok.metadata!.uid!), "kubernetes.io~host-path")));

      const cases: [Volume["hostPath"], string][] = [
        [{ path: file, type: "Directory" }, `hostPath type check failed: ${file} is not a directory, it's a File`],
        [{ path: hostDir, type: "File" }, `hostPath type check failed: ${hostDir} is not a file, it's a Directory`],
        [{ path: file, type: "Socket" }, `hostPath type check failed: ${file} is not a socket file, it's a File`],
        [{ path: "/dev/null", type: "BlockDevice" }, "hostPath type check failed: /dev/null is not a block device, it's a CharDevice"],
        [{ path: file, type: "CharDevice" }, `hostPath type check failed: ${file} is not a character device, it's a File`],
        [{ path: join(hostDir, "nope"), type: "Directory" }, `hostPath ${join(hostDir, "nope")} doesn't exist`],
        [{ path: file, type: "DirectoryOrCreate" }, `hostPath type check failed: ${file} is not a directory, it's a File`],
        [{ path: hostDir, type: "Weird" }, "Weird is an invalid volume type"],
        [{ path: "/tmp/../etc", type: "" }, "invalid HostPath `/tmp/../etc`: must not contain '..'"],
      ];
      for (const [hp, message] of cases) await rejectsWith(setUp(makePod([{ name: "h", hostPath: hp! }])), "h", "FailedMount", message);
    } finally {
      server.close();
    }
  });

  it("configMap: every key (data and binaryData) with defaultMode, on disk, read-only", async () => {
    objects.putConfigMap("ns1", "cfg", { "app.conf": "a=1\n", other: "o" }, { "blob.bin": Buffer.from([0, 1, 2, 255]).toString("base64") });
    const pod = makePod([
      { name: "all", configMap: { name: "cfg" } },
      { name: "exec", configMap: { name: "cfg", defaultMode: 0o755 } },
    ]);
    const m = await setUp(pod);
    const dir = dirOf(pod, PLUGIN_CONFIGMAP, "all");
    assert.deepEqual(m.get("all"), { hostPath: dir, readOnly: true });
    assert.deepEqual(keysOf(dir), ["app.conf", "blob.bin", "other"]);
    assert.equal(read(join(dir, "app.conf")), "a=1\n");
    assert.deepEqual([...readFileSync(join(dir, "blob.bin"))], [0, 1, 2, 255]);
    assert.equal(mode(join(dir, "app.conf")), 0o644);
    assert.equal(mode(join(dirOf(pod, PLUGIN_CONFIGMAP, "exec"), "other")), 0o755);
    assert.equal(mode(dir), 0o777);
    assert.deepEqual(mountsUnder(dir), []);
  });

  it("configMap items: key → path with per-item mode; a missing key fails unless optional", async () => {
    objects.putConfigMap("ns1", "items", { a: "A", b: "B" });
    const pod = makePod([{ name: "v", configMap: { name: "items", defaultMode: 0o600, items: [{ key: "a", path: "conf/a.txt", mode: 0o400 }, { key: "b", path: "b" }] } }]);
    await setUp(pod);
    const dir = dirOf(pod, PLUGIN_CONFIGMAP, "v");
    assert.deepEqual(keysOf(dir), ["b", "conf"]);
    assert.equal(readlinkSync(join(dir, "conf")), "..data/conf");
    assert.equal(read(join(dir, "conf/a.txt")), "A");
    assert.equal(mode(join(dir, "conf/a.txt")), 0o400);
    assert.equal(mode(join(dir, "b")), 0o600);

    await rejectsWith(setUp(makePod([{ name: "v", configMap: { name: "items", items: [{ key: "zzz", path: "z" }] } }])), "v", "FailedMount", "configmap references non-existent config key: zzz");
    const opt = makePod([{ name: "v", configMap: { name: "items", optional: true, items: [{ key: "zzz", path: "z" }, { key: "a", path: "a" }] } }]);
    await setUp(opt);
    assert.deepEqual(keysOf(dirOf(opt, PLUGIN_CONFIGMAP, "v")), ["a"]);
  });

  it("a missing configMap or secret fails with upstream's message, or is an empty volume when optional", async () => {
    await rejectsWith(setUp(makePod([{ name: "cm", configMap: { name: "absent" } }])), "cm", "FailedMount", 'configmap "absent" not found');
    await rejectsWith(setUp(makePod([{ name: "s", secret: { secretName: "absent" } }])), "s", "FailedMount", 'secret "absent" not found');
    const pod = makePod([
      { name: "cm", configMap: { name: "absent", optional: true } },
      { name: "s", secret: { secretName: "absent", optional: true } },
    ]);
    const m = await setUp(pod);
    assert.deepEqual(keysOf(m.get("cm")!.hostPath), []);
    assert.deepEqual(keysOf(m.get("s")!.hostPath), []);
    assert.ok(existsSync(join(m.get("cm")!.hostPath, "..data")));
  });

  it("one failing volume does not stop the others; the first failure is thrown", async () => {
    const pod = makePod([
      { name: "bad", configMap: { name: "absent" } },
      { name: "good", emptyDir: {} },
      { name: "pvc", persistentVolumeClaim: { claimName: "c" } },
    ]);
    await rejectsWith(setUp(pod), "bad", "FailedMount", 'configmap "absent" not found');
    assert.ok(existsSync(dirOf(pod, PLUGIN_EMPTY_DIR, "good")));
  });

  it("secret: base64-decoded data on a tmpfs, items and modes as asked", async () => {
    objects.putSecret("ns1", "creds", { user: "admin", pass: "s3cr3t\n" });
    const pod = makePod([
      { name: "s", secret: { secretName: "creds", defaultMode: 0o400 } },
      { name: "one", secret: { secretName: "creds", items: [{ key: "pass", path: "p/word", mode: 0o440 }] } },
    ]);
    const m = await setUp(pod);
    const dir = dirOf(pod, PLUGIN_SECRET, "s");
    assert.deepEqual(m.get("s"), { hostPath: dir, readOnly: true });
    assert.equal(read(join(dir, "user")), "admin");
    assert.equal(read(join(dir, "pass")), "s3cr3t\n");
    assert.equal(mode(join(dir, "user")), 0o400);
    assert.deepEqual(mountsUnder(dir), [dir]);
    assert.match(mountOptions(dir), / tmpfs tmpfs /);
    const one = dirOf(pod, PLUGIN_SECRET, "one");
    assert.deepEqual(keysOf(one), ["p"]);
    assert.equal(mode(join(one, "p/word")), 0o440);
    await rejectsWith(setUp(makePod([{ name: "x", secret: { secretName: "creds", items: [{ key: "nope", path: "n" }] } }])), "x", "FailedMount", "references non-existent secret key: nope");
  });

  it("downwardAPI: metadata and resources, on a tmpfs, refreshed when the pod's labels change", async () => {
    const pod = makePod(
      [
        {
          name: "info",
          downwardAPI: {
            defaultMode: 0o444,
            items: [
              { path: "name", fieldRef: { fieldPath: "metadata.name" } },
              { path: "ns", fieldRef: { fieldPath: "metadata.namespace" } },
              { path: "uid", fieldRef: { fieldPath: "metadata.uid" } },
              { path: "labels", fieldRef: { fieldPath: "metadata.labels" } },
              { path: "annotations", fieldRef: { fieldPath: "metadata.annotations" }, mode: 0o400 },
              { path: "mem", resourceFieldRef: { containerName: "c", resource: "limits.memory", divisor: "1Mi" } },
              { path: "cpu", resourceFieldRef: { containerName: "c", resource: "limits.cpu" } },
            ],
          },
        },
      ],
      { annotations: { b: "2", a: 'x"y' } },
    );
    await setUp(pod);
    const dir = dirOf(pod, PLUGIN_DOWNWARD_API, "info");
    assert.equal(read(join(dir, "name")), pod.metadata!.name);
    assert.equal(read(join(dir, "ns")), "ns1");
    assert.equal(read(join(dir, "uid")), pod.metadata!.uid);
    assert.equal(read(join(dir, "labels")), 'app="demo"');
    assert.equal(read(join(dir, "annotations")), 'a="x\\"y"\nb="2"');
    assert.equal(mode(join(dir, "annotations")), 0o400);
    assert.equal(mode(join(dir, "name")), 0o444);
    assert.equal(read(join(dir, "mem")), "128");
    // No cpu limit: the node's allocatable, approximated by the host's CPUs.
    assert.equal(read(join(dir, "cpu")), String(cpus().length));
    assert.deepEqual(mountsUnder(dir), [dir]);

    const ts = readlinkSync(join(dir, "..data"));
    await setUp(pod);
    assert.equal(readlinkSync(join(dir, "..data")), ts);
    await setUp({ ...pod, metadata: { ...pod.metadata, labels: { app: "demo", tier: "web" } } });
    assert.equal(read(join(dir, "labels")), 'app="demo"\ntier="web"');
    assert.notEqual(readlinkSync(join(dir, "..data")), ts);

    await rejectsWith(setUp(makePod([{ name: "d", downwardAPI: { items: [{ path: "x", fieldRef: { fieldPath: "status.podIP" } }] } }])), "d", "FailedMount", "unsupported fieldPath: status.podIP");
  });

  it("projected: configMap, secret, downwardAPI and a bound service account token in one tmpfs volume", async () => {
    objects.putConfigMap("ns1", "ca", { "ca.crt": "CERT" });
    objects.putSecret("ns1", "tls", { key: "KEY" });
    const pod = makePod([
      {
        name: "kube-api-access",
        projected: {
          defaultMode: 0o420,
          sources: [
            { serviceAccountToken: { path: "token" } },
            { serviceAccountToken: { path: "vault-token", audience: "vault", expirationSeconds: 7200 } },
            { configMap: { name: "ca", items: [{ key: "ca.crt", path: "ca.crt" }] } },
            { secret: { name: "tls", items: [{ key: "key", path: "tls/key", mode: 0o400 }] } },
            { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } },
            { configMap: { name: "absent", optional: true } },
          ],
        },
      },
    ]);
    const before = objects.tokenCalls.length;
    const m = await setUp(pod);
    const dir = dirOf(pod, PLUGIN_PROJECTED, "kube-api-access");
    assert.deepEqual(m.get("kube-api-access"), { hostPath: dir, readOnly: true });
    assert.deepEqual(keysOf(dir), ["ca.crt", "namespace", "tls", "token", "vault-token"]);
    assert.match(read(join(dir, "token")), /^token-\d+$/);
    assert.equal(read(join(dir, "ca.crt")), "CERT");
    assert.equal(read(join(dir, "tls/key")), "KEY");
    assert.equal(read(join(dir, "namespace")), "ns1");
    assert.equal(mode(join(dir, "token")), 0o420);
    assert.equal(mode(join(dir, "tls/key")), 0o400);
    assert.deepEqual(mountsUnder(dir), [dir]);
    const calls = objects.tokenCalls.slice(before);
    assert.deepEqual(calls, [
      { namespace: "ns1", serviceAccount: "builder", audiences: [], expirationSeconds: 3600, podName: pod.metadata!.name, podUid: pod.metadata!.uid },
      { namespace: "ns1", serviceAccount: "builder", audiences: ["vault"], expirationSeconds: 7200, podName: pod.metadata!.name, podUid: pod.metadata!.uid },
    ]);
    // Resyncs reuse the cached tokens and write nothing.
    const ts = readlinkSync(join(dir, "..data"));
    await setUp(pod);
    assert.equal(objects.tokenCalls.length, before + 2);
    assert.equal(readlinkSync(join(dir, "..data")), ts);

    await rejectsWith(
      setUp(makePod([{ name: "p", projected: { sources: [{ configMap: { name: "absent" } }, { secret: { name: "absent" } }] } }])),
      "p",
      "FailedMount",
      '[configmap "absent" not found, secret "absent" not found]',
    );
    await rejectsWith(
      setUp(makePod([{ name: "p", projected: { sources: [{ clusterTrustBundle: { path: "b", signerName: "x" } } as never] } }])),
      "p",
      "InvalidVolume",
      /clusterTrustBundle is not supported/,
    );
  });

  it("configMap updates reach the volume atomically; unchanged content writes nothing", async () => {
    objects.putConfigMap("ns1", "live", { a: "1", b: "1" });
    const pod = makePod([{ name: "v", configMap: { name: "live" } }]);
    await setUp(pod);
    const dir = dirOf(pod, PLUGIN_CONFIGMAP, "v");
    const ts1 = readlinkSync(join(dir, "..data"));
    for (let i = 0; i < 3; i++) await setUp(pod);
    assert.equal(readlinkSync(join(dir, "..data")), ts1);
    assert.deepEqual(readdirSync(dir).filter((n) => /^\.\.\d/.test(n)), [ts1]);

    objects.putConfigMap("ns1", "live", { a: "2", c: "3" });
    await setUp(pod);
    const ts2 = readlinkSync(join(dir, "..data"));
    assert.notEqual(ts2, ts1);
    assert.deepEqual(keysOf(dir), ["a", "c"]);
    assert.equal(read(join(dir, "a")), "2");
    assert.deepEqual(readdirSync(dir).filter((n) => /^\.\.\d/.test(n)), [ts2]);

    // A new manager (a restarted agent) compares with what is on disk.
    const again = new Volumes({ paths, objects, nodeName: "node-a", log: createLogger("silent") });
    await again.setUpPod(pod);
    assert.equal(readlinkSync(join(dir, "..data")), ts2);
  });

  it("unsupported volume types and bad names are InvalidVolume", async () => {
    await rejectsWith(setUp(makePod([{ name: "n", nfs: { server: "s", path: "/" } }])), "n", "InvalidVolume", /unsupported volume type "nfs"/);
    await rejectsWith(setUp(makePod([{ name: "c", csi: { driver: "d" } }])), "c", "InvalidVolume", /unsupported volume type "csi"/);
    await rejectsWith(setUp(makePod([{ name: "m", emptyDir: { medium: "HugePages" } }])), "m", "InvalidVolume", /unsupported emptyDir medium/);
    await rejectsWith(setUp(makePod([{ name: "../escape", emptyDir: {} }])), "../escape", "InvalidVolume", /invalid volume name/);
    await assert.rejects(volumes.setUpPod({ metadata: { uid: "../x" }, spec: { containers: [] } }), VolumeError);
  });

  describe("claims (persistentVolumeClaim and ephemeral volumes)", () => {
    const putClaim = (name: string, over: { phase?: string; volumeName?: string; uid?: string; deleting?: boolean; owner?: string } = {}): PersistentVolumeClaim => {
      const claim: PersistentVolumeClaim = {
        metadata: {
          name,
          namespace: "ns1",
          uid: over.uid ?? `claim-uid-${name}`,
          ...(over.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
          ...(over.owner ? { ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "owner", uid: over.owner, controller: true }] } : {}),
        },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, ...(over.volumeName !== "" ? { volumeName: over.volumeName ?? `pv-${name}` } : {}) },
        status: { phase: over.phase ?? "Bound" },
      };
      objects.claims.set(`ns1/${name}`, claim);
      return claim;
    };
    const putVolume = (name: string, source: Partial<PersistentVolume["spec"]>, claimUid: string | undefined, extra: Partial<NonNullable<PersistentVolume["spec"]>> = {}): void => {
      objects.volumes.set(name, {
        metadata: { name },
        spec: {
          capacity: { storage: "1Gi" },
          accessModes: ["ReadWriteOnce"],
          ...source,
          ...extra,
          ...(claimUid !== undefined ? { claimRef: { kind: "PersistentVolumeClaim", apiVersion: "v1", namespace: "ns1", name: "x", uid: claimUid } } : {}),
        },
        status: { phase: "Bound" },
      });
    };
    const claimPod = (claimName: string, readOnly?: boolean): Pod =>
      makePod([{ name: "data", persistentVolumeClaim: { claimName, ...(readOnly !== undefined ? { readOnly } : {}) } }]);

    it("a claim bound to a hostPath volume mounts its directory (DirectoryOrCreate makes it), read-only as the pod's volume says", async () => {
      const claim = putClaim("web");
      const dir = join(hostDir, "pvc-web");
      putVolume("pv-web", { hostPath: { path: dir, type: "DirectoryOrCreate" } }, claim.metadata!.uid);
      const m = await setUp(claimPod("web"));
      assert.deepEqual(m.get("data"), { hostPath: dir, readOnly: false });
      assert.ok(statSync(dir).isDirectory());
      assert.deepEqual((await setUp(claimPod("web", true))).get("data"), { hostPath: dir, readOnly: true });
      // Nothing is made under the pod dir for it, so tearing the pod down leaves the data.
      writeFileSync(join(dir, "kept"), "x");
      const pod = claimPod("web");
      await setUp(pod);
      await volumes.tearDownPod(pod.metadata!.uid!);
      assert.equal(read(join(dir, "kept")), "x");
    });

    it("hostPath volumes are checked by their type; local volumes must be directories", async () => {
      const c1 = putClaim("typed");
      putVolume("pv-typed", { hostPath: { path: join(hostDir, "absent"), type: "Directory" } }, c1.metadata!.uid);
      await rejectsWith(setUp(claimPod("typed")), "data", "FailedMount", `hostPath ${join(hostDir, "absent")} doesn't exist`);

      const c2 = putClaim("local");
      const localDir = join(hostDir, "disk1");
      mkdirSync(localDir, { recursive: true });
      putVolume("pv-local", { local: { path: localDir } }, c2.metadata!.uid);
      assert.deepEqual((await setUp(claimPod("local", true))).get("data"), { hostPath: localDir, readOnly: true });

      const c3 = putClaim("local-missing");
      putVolume("pv-local-missing", { local: { path: join(hostDir, "disk9") } }, c3.metadata!.uid);
      await rejectsWith(setUp(claimPod("local-missing")), "data", "FailedMount", `stat ${join(hostDir, "disk9")}: no such file or directory`);

      const c4 = putClaim("local-file");
      const file = join(hostDir, "a-file");
      writeFileSync(file, "");
      putVolume("pv-local-file", { local: { path: file } }, c4.metadata!.uid);
      await rejectsWith(setUp(claimPod("local-file")), "data", "FailedMount", "only directory and block device are supported");
    });

    it("the pod waits, with upstream's messages, until its claim is bound to a volume that names it", async () => {
      await rejectsWith(setUp(claimPod("nothing")), "data", "FailedMount", 'error processing PVC ns1/nothing: failed to fetch PVC from API server: persistentvolumeclaims "nothing" not found');
      putClaim("pending", { phase: "Pending", volumeName: "" });
      await rejectsWith(setUp(claimPod("pending")), "data", "FailedMount", "error processing PVC ns1/pending: PVC is not bound");
      putClaim("going", { deleting: true });
      await rejectsWith(setUp(claimPod("going")), "data", "FailedMount", "error processing PVC ns1/going: PVC is being deleted");
      putClaim("nameless", { volumeName: "" });
      await rejectsWith(setUp(claimPod("nameless")), "data", "FailedMount", "error processing PVC ns1/nameless: PVC has empty pvc.Spec.VolumeName");
      putClaim("nopv");
      await rejectsWith(setUp(claimPod("nopv")), "data", "FailedMount", 'error processing PVC ns1/nopv: failed to fetch PV pv-nopv from API server: persistentvolumes "pv-nopv" not found');
      putClaim("unref");
      putVolume("pv-unref", { hostPath: { path: hostDir } }, undefined);
      await rejectsWith(
        setUp(claimPod("unref")),
        "data",
        "FailedMount",
        "error processing PVC ns1/unref: found PV object pv-unref but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim",
      );
      putClaim("stolen", { uid: "uid-mine" });
      putVolume("pv-stolen", { hostPath: { path: hostDir } }, "uid-other");
      await rejectsWith(
        setUp(claimPod("stolen")),
        "data",
        "FailedMount",
        "error processing PVC ns1/stolen: found PV object pv-stolen but its pv.Spec.ClaimRef.UID uid-other does not point to claim.UID uid-mine",
      );

      // The same pod, synced again once the claim is bound, mounts: nothing about the wait is kept.
      const pod = claimPod("later");
      putClaim("later", { phase: "Pending", volumeName: "" });
      await rejectsWith(setUp(pod), "data", "FailedMount", "error processing PVC ns1/later: PVC is not bound");
      const bound = putClaim("later");
      putVolume("pv-later", { hostPath: { path: hostDir, type: "Directory" } }, bound.metadata!.uid);
      assert.deepEqual((await setUp(pod)).get("data"), { hostPath: hostDir, readOnly: false });
      // Mounted, the pod keeps its volume when the claim is then deleted (pvc-protection holds it
      // while the pod runs): its syncs go on.
      putClaim("later", { deleting: true });
      assert.deepEqual((await setUp(pod)).get("data"), { hostPath: hostDir, readOnly: false });
      await volumes.tearDownPod(pod.metadata!.uid!);
      await rejectsWith(setUp(pod), "data", "FailedMount", "error processing PVC ns1/later: PVC is being deleted");
    });

    it("volumes k8ts cannot mount are InvalidVolume, naming the source", async () => {
      const c1 = putClaim("nfs");
      putVolume("pv-nfs", { nfs: { server: "10.0.0.1", path: "/export" } }, c1.metadata!.uid);
      await rejectsWith(setUp(claimPod("nfs")), "data", "InvalidVolume", "PersistentVolume pv-nfs has a nfs source: k8ts mounts PersistentVolumes with hostPath or local sources only");
      const c2 = putClaim("block");
      putVolume("pv-block", { local: { path: "/dev/null" } }, c2.metadata!.uid, { volumeMode: "Block" });
      const pod = claimPod("block");
      pod.spec!.containers[0]!.volumeMounts = [{ name: "data", mountPath: "/data" }];
      await rejectsWith(setUp(pod), "data", "FailedMount", "volume data has volumeMode Block, but is specified in volumeMounts");
    });

    it("an ephemeral volume uses the claim <pod>-<volume> only when the pod owns it", async () => {
      const pod = makePod([{ name: "scratch", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } } } }]);
      const claimName = `${pod.metadata!.name!}-scratch`;
      const dir = join(hostDir, "eph");
      const foreign = putClaim(claimName, { owner: "someone-else" });
      putVolume(`pv-${claimName}`, { hostPath: { path: dir, type: "DirectoryOrCreate" } }, foreign.metadata!.uid);
      await rejectsWith(setUp(pod), "scratch", "FailedMount", `PVC ns1/${claimName} was not created for pod ns1/${pod.metadata!.name!} (pod is not owner)`);
      assert.ok(!existsSync(dir));
      putClaim(claimName, { owner: pod.metadata!.uid!, uid: foreign.metadata!.uid! });
      assert.deepEqual((await setUp(pod)).get("scratch"), { hostPath: dir, readOnly: false });
      // Unbound, the wait is reported first, as upstream checks the owner after the binding.
      const waiting = makePod([{ name: "tmp", ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"] } } } }]);
      putClaim(`${waiting.metadata!.name!}-tmp`, { phase: "Pending", volumeName: "", owner: "someone-else" });
      await rejectsWith(setUp(waiting), "tmp", "FailedMount", `error processing PVC ns1/${waiting.metadata!.name!}-tmp: PVC is not bound`);
    });
  });

  it("tearDownPod unmounts, removes the pod dir, never touches a hostPath, and is idempotent", async () => {
    objects.putSecret("ns1", "creds2", { k: "v" });
    const keep = join(hostDir, "keep");
    mkdirSync(keep, { recursive: true });
    writeFileSync(join(keep, "data"), "precious");
    const pod = makePod([
      { name: "s", secret: { secretName: "creds2" } },
      { name: "mem", emptyDir: { medium: "Memory" } },
      { name: "disk", emptyDir: {} },
      { name: "host", hostPath: { path: keep, type: "Directory" } },
    ]);
    const uid = pod.metadata!.uid!;
    await setUp(pod);
    // A container's view of a host dir, as a bind mount under the pod dir (like subPath mounts).
    const bind = join(paths.podDir(uid), "volume-subpaths", "host");
    mkdirSync(bind, { recursive: true });
    execFileSync("mount", ["--bind", keep, bind]);
    assert.ok(volumes.podsOnDisk().includes(uid));
    assert.equal(mountsUnder(paths.podDir(uid)).length, 3);

    await volumes.tearDownPod(uid);
    assert.deepEqual(mountsUnder(paths.podDir(uid)), []);
    assert.ok(!existsSync(paths.podDir(uid)));
    assert.ok(!volumes.podsOnDisk().includes(uid));
    assert.equal(read(join(keep, "data")), "precious");
    await volumes.tearDownPod(uid);
    await volumes.tearDownPod("never-seen");
  });

  it("podsOnDisk lists the pod dirs (none when the root does not exist yet)", async () => {
    const fresh = new Volumes({ paths: kubeletPaths(join(dataDir, "fresh")), objects, nodeName: "n", log: createLogger("silent") });
    assert.deepEqual(fresh.podsOnDisk(), []);
    const a = makePod([{ name: "e", emptyDir: {} }]);
    const b = makePod([]);
    await setUp(a);
    await setUp(b);
    assert.ok(volumes.podsOnDisk().includes(a.metadata!.uid!));
  });
});
