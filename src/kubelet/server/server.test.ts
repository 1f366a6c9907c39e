// The kubelet server: authentication and the plain endpoints without a runtime; then, as root,
// on our own containerd, a pod made through CRI as a kubelet labels it and the official kubectl
// (1.27, 1.32, 1.33) going through a real API server to it: logs (tail, previous, follow to the
// container's end), exec (-i, exit codes, a TTY with resize), cp both ways, attach, port-forward,
// stats, and which streaming path each kubectl took.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.js";
import { WebSocket } from "ws";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { adminClient, type RawClient } from "../../testing/client.js";
import { freePort } from "../../testing/net.js";
import { runtimeSkipReason, startTestRuntime, type TestRuntime } from "../../testing/runtime.js";
import { until } from "../../testing/wait.js";
import { createLogger } from "../../util/log.js";
import { certificateSANs, clusterPKIPaths, createCA, isIssuedBy, issueCertificate } from "../../util/pki.js";
import { CriClient, type Input, type PodSandboxConfig } from "../cri/client.js";
import { BUSYBOX_IMAGE } from "../images/builtin.js";
import { kubeletPaths, LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from "../types.js";
import { ensureKubeletServingCert, KubeletServer } from "./index.js";

interface Answer {
  readonly status: number;
  readonly body: string;
}

function get(port: number, path: string, tls: { ca?: string; cert?: string; key?: string }, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, rejectUnauthorized: false, headers, ...tls }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: "" });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("kubelet server without a runtime", () => {
  it("answers only callers with a client certificate from the cluster CA", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-kubelet-server-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const ca = await createCA("cluster-ca");
    const tls = await ensureKubeletServingCert({ dir, nodeName: "n1", addresses: ["127.0.0.1"] });
    // Nothing listens there: the endpoints below never reach the runtime.
    const cri = new CriClient({ endpoint: join(dir, "no.sock") });
    t.after(() => cri.close());
    const pod: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" } };
    const server = new KubeletServer({ cri, nodeName: "n1", paths: kubeletPaths(dir), port: 0, bindAddress: "127.0.0.1", tls, clientCA: ca.certPem, log: createLogger("silent"), pods: () => [pod] });
    await server.start();
    t.after(() => server.stop());

    const client = await issueCertificate(ca, { commonName: "kube-apiserver-kubelet-client", organizations: ["system:masters"], usages: "client", validityDays: 1 });
    const stranger = await issueCertificate(await createCA("other-ca"), { commonName: "x", usages: "client", validityDays: 1 });
    const good = { cert: client.certPem, key: client.keyPem };
    assert.deepEqual(await get(server.port, "/healthz", {}), { status: 401, body: "Unauthorized\n" });
    assert.deepEqual(await get(server.port, "/pods", { cert: stranger.certPem, key: stranger.keyPem }), { status: 401, body: "Unauthorized\n" });
    const upgrade = { Connection: "Upgrade", Upgrade: "SPDY/3.1", "X-Stream-Protocol-Version": "v4.channel.k8s.io" };
    assert.equal((await get(server.port, "/exec/default/p/c?command=ls&output=1", {}, upgrade)).status, 401);

    assert.deepEqual(await get(server.port, "/healthz", good), { status: 200, body: "ok" });
    assert.deepEqual(JSON.parse((await get(server.port, "/pods", good)).body), { kind: "PodList", apiVersion: "v1", metadata: {}, items: [pod] });
    assert.deepEqual(await get(server.port, "/exec/default/p/c?command=ls&output=1", good), { status: 400, body: "Upgrade request required\n" });
    assert.deepEqual(await get(server.port, "/exec/default/p/c?command=ls", good, upgrade), { status: 400, body: "you must specify at least 1 of stdin, stdout, stderr\n" });
    assert.deepEqual(await get(server.port, "/nothing", good), { status: 404, body: "404 page not found\n" });
    assert.match((await get(server.port, "/metrics", good)).body, /kubelet_http_requests_total\{method="GET",path="healthz",server_type="readwrite",long_running="false"\} 2/);
  });

  it("serving certificate: self-signed or from the cluster CA, kept while it fits", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-kubelet-cert-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const self = await ensureKubeletServingCert({ dir, nodeName: "node-a", addresses: ["10.0.0.5"] });
    assert.deepEqual(certificateSANs(self.cert), { dnsNames: ["node-a", "localhost"], ipAddresses: ["127.0.0.1", "10.0.0.5"] });
    assert.deepEqual(await ensureKubeletServingCert({ dir, nodeName: "node-a", addresses: ["10.0.0.5"] }), self);
    const moved = await ensureKubeletServingCert({ dir, nodeName: "node-a", addresses: ["10.0.0.6"] });
    assert.notEqual(moved.cert, self.cert);
    const ca = await createCA("cluster-ca");
    const signed = await ensureKubeletServingCert({ dir, nodeName: "node-a", addresses: ["10.0.0.6"], ca: { cert: ca.certPem, key: ca.keyPem } });
    assert.ok(isIssuedBy(signed.cert, ca.certPem));
    assert.deepEqual(await ensureKubeletServingCert({ dir, nodeName: "node-a", addresses: ["10.0.0.6"], ca: { cert: ca.certPem, key: ca.keyPem } }), signed);
  });
});

const skip = runtimeSkipReason() ?? false;
// K8TS_KUBECTL_VERSIONS=1.27,1.28,… runs the kubectl cases with other installed versions.
const VERSIONS = (process.env["K8TS_KUBECTL_VERSIONS"] ?? "1.27,1.32,1.33").split(",").filter((v) => existsSync(kubectlBinary(v)));
const NS = "default";
const POD = "p1";

function kubectlBinary(v: string): string {
  return `/usr/lib/google-cloud-sdk/bin/kubectl.${v}`;
}

/** Waits (5 s at most) for the terminal size kubectl sends right after the session starts. */
const TTY_SCRIPT = 'for i in $(seq 50); do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; sleep 0.1; done; echo size:$s; read x; echo got:$x';

interface Running {
  readonly proc: ChildProcess;
  out: string;
  err: string;
  code: number | null | undefined;
}

describe("kubelet server on a real runtime, through the API server, with the official kubectl", { skip }, () => {
  let rt: TestRuntime;
  let api: TestApiServer;
  let raw: RawClient;
  let kubelet: KubeletServer;
  let dir: string;
  let sandboxId: string;
  let sandboxConfig: Input<PodSandboxConfig>;
  const procs: ChildProcess[] = [];
  const attempts = new Map<string, number>();
  const paths = (): ReturnType<typeof kubeletPaths> => kubeletPaths(join(rt.dataDir, "kubelet"));
  const uid = randomUUID();
  const labels = { [LABEL_POD_NAMESPACE]: NS, [LABEL_POD_NAME]: POD, [LABEL_POD_UID]: uid };

  /** Creates and starts the next attempt of a container, labelled as the kubelet does. */
  const startContainer = async (name: string, command: string[], extra: { stdin?: boolean } = {}): Promise<string> => {
    const attempt = attempts.has(name) ? attempts.get(name)! + 1 : 0;
    attempts.set(name, attempt);
    const id = await rt.cri.createContainer(
      sandboxId,
      { metadata: { name, attempt }, image: { image: BUSYBOX_IMAGE }, command, logPath: paths().containerLogPath(name, attempt), labels: { ...labels, [LABEL_CONTAINER_NAME]: name }, ...extra },
      sandboxConfig,
    );
    await rt.cri.startContainer(id);
    return id;
  };

  const exited = async (id: string): Promise<void> => {
    await until(`container ${id} to exit`, async () => ((await rt.cri.containerStatus(id)).status?.state === "CONTAINER_EXITED" ? true : undefined));
  };

  const kubectl = (v: string, args: string[], stdin?: string): ReturnType<TestApiServer["kubectl"]> => api.kubectl(args, { binary: kubectlBinary(v), ...(stdin !== undefined ? { stdin } : {}) });

  /** A long-running kubectl (logs -f, attach, port-forward): output collected as it comes. */
  const background = (bin: string, args: string[]): Running => {
    const proc = spawn(bin, args, { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: api.dataDir } });
    procs.push(proc);
    const r: Running = { proc, out: "", err: "", code: undefined };
    proc.stdout?.on("data", (d: Buffer) => (r.out += d.toString()));
    proc.stderr?.on("data", (d: Buffer) => (r.err += d.toString()));
    proc.on("exit", (code) => (r.code = code));
    return r;
  };
  const kubectlBackground = (v: string, args: string[]): Running => background(kubectlBinary(v), ["--kubeconfig", api.kubeconfig, "--cache-dir", join(api.dataDir, "kubectl-cache"), ...args]);
  const stop = async (r: Running): Promise<void> => {
    if (r.code === undefined) {
      r.proc.kill();
      await once(r.proc, "exit");
    }
  };

  const streamCount = async (kind: string, mode: string): Promise<number> => {
    const m = await raw.request("GET", "/api/v1/nodes/n1/proxy/metrics");
    const line = m.body.split("\n").find((l) => l.startsWith(`kubelet_streaming_requests_total{kind="${kind}",mode="${mode}"}`));
    return line ? Number(line.split(" ")[1]) : 0;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-kubelet-e2e-"));
    rt = await startTestRuntime({ network: true });
    api = await startTestApiServer();
    raw = adminClient(api.url, api.dataDir);

    const logDirectory = paths().podLogDir(NS, POD, uid);
    mkdirSync(logDirectory, { recursive: true });
    sandboxConfig = { metadata: { name: POD, namespace: NS, uid, attempt: 0 }, hostname: POD, logDirectory, labels, linux: { cgroupParent: `/${rt.cgroupRoot}/pod${uid}` } };
    sandboxId = await rt.cri.runPodSandbox(sandboxConfig);
    await startContainer("fixed", ["sh", "-c", "echo one; echo two; echo three; echo four; exec sleep 3600"]);
    // The runtime copies stdout and stderr concurrently: their relative order in the log is not fixed.
    await startContainer("stderr", ["sh", "-c", "echo to stderr >&2; exec sleep 3600"]);
    await startContainer("ticker", ["sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"]);
    await startContainer("web", ["sh", "-c", "mkdir -p /www && echo hello through port-forward > /www/index.html && exec httpd -f -p 8080 -h /www"]);
    await startContainer("cat", ["cat"], { stdin: true });
    await exited(await startContainer("crash", ["sh", "-c", "echo run-0; exit 1"]));
    await startContainer("crash", ["sh", "-c", "echo run-1; exec sleep 3600"]);

    const ca = readFileSync(join(api.dataDir, "tls", "ca.crt"), "utf8");
    const tls = await ensureKubeletServingCert({ dir: join(dir, "pki"), nodeName: "n1", addresses: ["127.0.0.1"] });
    kubelet = new KubeletServer({ cri: rt.cri, nodeName: "n1", paths: paths(), port: 0, bindAddress: "127.0.0.1", tls, clientCA: ca, log: createLogger("silent") });
    await kubelet.start();

    const send = async (method: string, path: string, body: unknown, type = "application/json"): Promise<void> => {
      const r = await raw.request(method, path, JSON.stringify(body), { "Content-Type": type });
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.body}`);
    };
    await send("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
    await send("PATCH", "/api/v1/nodes/n1/status", { status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } } }, "application/merge-patch+json");
    const containers = ["fixed", "stderr", "ticker", "web", "cat", "crash", "short", "pending"].map((name) => ({ name, image: "busybox:1.35", ...(name === "cat" ? { stdin: true } : {}) }));
    await send("POST", `/api/v1/namespaces/${NS}/pods`, { apiVersion: "v1", kind: "Pod", metadata: { name: POD }, spec: { nodeName: "n1", containers } });
    await send("PATCH", `/api/v1/namespaces/${NS}/pods/${POD}/status`, { status: { phase: "Running" } }, "application/merge-patch+json");
  });

  after(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGKILL");
    raw?.close();
    await kubelet?.stop();
    await api?.stop();
    await rt?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const v of VERSIONS) {
    it(`kubectl ${v}: logs, --tail, --timestamps, --previous, -f until the container ends`, async () => {
      const all = await kubectl(v, ["logs", POD, "-c", "fixed"]);
      assert.deepEqual([all.code, all.stdout, all.stderr], [0, "one\ntwo\nthree\nfour\n", ""]);
      assert.equal((await kubectl(v, ["logs", POD, "-c", "stderr"])).stdout, "to stderr\n");
      assert.equal((await kubectl(v, ["logs", POD, "-c", "fixed", "--tail=2"])).stdout, "three\nfour\n");
      assert.equal((await kubectl(v, ["logs", POD, "-c", "fixed", "--limit-bytes=6"])).stdout, "one\ntw");
      assert.match((await kubectl(v, ["logs", POD, "-c", "fixed", "--timestamps", "--tail=1"])).stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) four\n$/);
      assert.equal((await kubectl(v, ["logs", POD, "-c", "fixed", "--since=1h"])).stdout, "one\ntwo\nthree\nfour\n");
      assert.equal((await kubectl(v, ["logs", POD, "-c", "crash"])).stdout, "run-1\n");
      assert.equal((await kubectl(v, ["logs", POD, "-c", "crash", "--previous"])).stdout, "run-0\n");

      const noPrevious = await kubectl(v, ["logs", POD, "-c", "fixed", "--previous"]);
      assert.match(noPrevious.stderr, /Error from server \(BadRequest\): previous terminated container "fixed" in pod "p1" not found/);
      const pending = await kubectl(v, ["logs", POD, "-c", "pending"]);
      assert.match(pending.stderr, /Error from server \(BadRequest\): container "pending" in pod "p1" is waiting to start: ContainerCreating/);

      // -f sees lines written after it started.
      const f = kubectlBackground(v, ["logs", "-f", POD, "-c", "ticker", "--tail=1"]);
      try {
        const first = await until("a first tick", () => /tick (\d+)\n/.exec(f.out)?.[1]);
        await until("a later tick", () => (new RegExp(`tick ${Number(first) + 2}\\n`).test(f.out) ? true : undefined));
      } finally {
        await stop(f);
      }
      // -f ends by itself once the container exits and its file was read.
      await startContainer("short", ["sh", "-c", "for i in 1 2 3; do echo s$i; sleep 0.3; done"]);
      const s = kubectlBackground(v, ["logs", "-f", POD, "-c", "short"]);
      try {
        await until("logs -f to end with the container", () => (s.code !== undefined ? true : undefined));
        assert.deepEqual([s.code, s.out], [0, "s1\ns2\ns3\n"]);
      } finally {
        await stop(s);
      }
    });

    it(`kubectl ${v}: exec, exec -i, exit codes, a TTY, cp both ways`, async () => {
      const before = { passthrough: await streamCount("exec", "passthrough"), bridged: await streamCount("exec", "bridge-v5") };
      const hostname = await kubectl(v, ["exec", POD, "-c", "fixed", "--", "cat", "/etc/hostname"]);
      assert.deepEqual([hostname.code, hostname.stdout, hostname.stderr], [0, `${POD}\n`, ""]);
      const stdin = await kubectl(v, ["exec", "-i", POD, "-c", "fixed", "--", "wc", "-c"], "hello world\n");
      assert.deepEqual([stdin.code, stdin.stdout.trim()], [0, "12"]);
      const both = await kubectl(v, ["exec", POD, "-c", "fixed", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
      assert.deepEqual([both.code, both.stdout], [3, "out\n"]);
      assert.match(both.stderr, /^err\ncommand terminated with exit code 3\n$/);
      // A terminal of 33x91 (script(1) gives kubectl one), resized into the container.
      if (existsSync("/usr/bin/script")) {
        const cmd = `stty cols 91 rows 33; ${kubectlBinary(v)} --kubeconfig ${api.kubeconfig} --cache-dir ${join(api.dataDir, "kubectl-cache")} exec -it ${POD} -c fixed -- sh -c '${TTY_SCRIPT}'`;
        const tty = background("script", ["-qec", cmd, "/dev/null"]);
        try {
          await until("the tty size", () => (/size:33 91\r\n/.test(tty.out) ? true : undefined));
          tty.proc.stdin?.write("typed\r");
          await until("the tty session to end", () => (tty.code !== undefined ? true : undefined));
          assert.match(tty.out, /got:typed\r\n/);
          assert.equal(tty.code, 0);
        } finally {
          await stop(tty);
        }
      }

      // 512 KiB of random bytes in and back out.
      const local = join(dir, `in-${v}.bin`);
      const data = randomBytes(512 * 1024);
      writeFileSync(local, data);
      const cpIn = await kubectl(v, ["cp", local, `${POD}:/tmp/in-${v}.bin`, "-c", "fixed"]);
      assert.equal(cpIn.code, 0, cpIn.stderr);
      const sum = await kubectl(v, ["exec", POD, "-c", "fixed", "--", "md5sum", `/tmp/in-${v}.bin`]);
      assert.equal(sum.stdout.split(" ")[0], createHash("md5").update(data).digest("hex"));
      const back = join(dir, `out-${v}.bin`);
      const cpOut = await kubectl(v, ["cp", `${POD}:/tmp/in-${v}.bin`, back, "-c", "fixed"]);
      assert.equal(cpOut.code, 0, cpOut.stderr);
      assert.ok(readFileSync(back).equals(data), "the copy out equals the copy in");

      // kubectl ≥1.30 speaks WebSocket v5 (bridged to SPDY), older ones SPDY (passed through).
      const after = { passthrough: await streamCount("exec", "passthrough"), bridged: await streamCount("exec", "bridge-v5") };
      if (Number(v.split(".")[1]) >= 30) assert.equal(after.passthrough, before.passthrough, "no SPDY fallback");
      else assert.equal(after.bridged, before.bridged);

      const missing = await kubectl(v, ["exec", POD, "-c", "pending", "--", "true"]);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /container not found \("pending"\)/);
    });

    it(`kubectl ${v}: attach to output, attach -i to a container's stdin`, async () => {
      const a = kubectlBackground(v, ["attach", POD, "-c", "ticker"]);
      try {
        const first = await until("attached output", () => /tick (\d+)\n/.exec(a.out)?.[1]);
        await until("more attached output", () => (new RegExp(`tick ${Number(first) + 1}\\n`).test(a.out) ? true : undefined));
      } finally {
        await stop(a);
      }
      const ai = kubectlBackground(v, ["attach", "-i", POD, "-c", "cat"]);
      try {
        ai.proc.stdin?.write(`typed into ${v}\n`);
        await until("cat to echo stdin", () => (ai.out.includes(`typed into ${v}\n`) ? true : undefined));
      } finally {
        await stop(ai);
      }
    });

    it(`kubectl ${v}: port-forward to httpd in the pod`, async () => {
      const tunnelBefore = await streamCount("portforward", "tunnel");
      const port = await freePort();
      const pf = kubectlBackground(v, ["port-forward", `pod/${POD}`, `${port}:8080`]);
      try {
        await until("port-forward to listen", () => (pf.out.includes(`Forwarding from 127.0.0.1:${port}`) ? true : undefined));
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`http://127.0.0.1:${port}/`);
          assert.equal(await res.text(), "hello through port-forward\n");
        }
      } finally {
        await stop(pf);
      }
      // kubectl ≥1.31 tunnels SPDY through a WebSocket; the kubelet unwraps it.
      const tunnelled = (await streamCount("portforward", "tunnel")) - tunnelBefore;
      assert.equal(tunnelled, Number(v.split(".")[1]) >= 31 ? 1 : 0);
    });
  }

  it("WebSocket v4 (the JavaScript client's exec protocol) passes through to the runtime", async () => {
    const before = await streamCount("exec", "passthrough");
    const p = clusterPKIPaths(api.dataDir);
    const query = "container=fixed&command=sh&command=-c&command=" + encodeURIComponent("echo hi; exit 5") + "&stdout=true&stderr=true";
    const ws = new WebSocket(`${api.url.replace("https", "wss")}/api/v1/namespaces/${NS}/pods/${POD}/exec?${query}`, ["v4.channel.k8s.io"], { ca: readFileSync(p.caCert), cert: readFileSync(p.adminCert), key: readFileSync(p.adminKey) });
    const got = new Map<number, string>();
    ws.on("message", (m: Buffer) => got.set(m[0]!, (got.get(m[0]!) ?? "") + m.subarray(1).toString()));
    await once(ws, "close");
    assert.equal(ws.protocol, "v4.channel.k8s.io");
    assert.equal(got.get(1), "hi\n");
    const st = JSON.parse(got.get(3) ?? "{}") as { status?: string; reason?: string; details?: { causes?: { reason: string; message: string }[] } };
    assert.deepEqual([st.status, st.reason, st.details?.causes], ["Failure", "NonZeroExitCode", [{ reason: "ExitCode", message: "5" }]]);
    assert.equal(await streamCount("exec", "passthrough"), before + 1);
  });

  it("WebSocket port-forward (the JavaScript client's protocol) passes through to the runtime", async () => {
    const p = clusterPKIPaths(api.dataDir);
    const ws = new WebSocket(`${api.url.replace("https", "wss")}/api/v1/namespaces/${NS}/pods/${POD}/portforward?ports=8080`, ["v4.channel.k8s.io"], { ca: readFileSync(p.caCert), cert: readFileSync(p.adminCert), key: readFileSync(p.adminKey) });
    const frames = new Map<number, Buffer[]>();
    ws.on("message", (m: Buffer) => frames.set(m[0]!, [...(frames.get(m[0]!) ?? []), m.subarray(1)]));
    try {
      await once(ws, "open");
      // Each channel (data 0, error 1 for the first port) opens with the port, little-endian.
      await until("the port on both channels", () => (frames.get(0)?.length && frames.get(1)?.length ? true : undefined));
      assert.deepEqual([frames.get(0)![0]!.readUInt16LE(0), frames.get(1)![0]!.readUInt16LE(0)], [8080, 8080]);
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from("GET / HTTP/1.0\r\n\r\n")]));
      await until("the answer of httpd", () => (Buffer.concat(frames.get(0)!.slice(1)).toString().includes("hello through port-forward") ? true : undefined));
    } finally {
      ws.close();
    }
  });

  it("stats: node and pod figures through nodes/proxy", async () => {
    const r = await api.kubectl(["get", "--raw", "/api/v1/nodes/n1/proxy/stats/summary"]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { node: { nodeName: string; cpu: { usageCoreNanoSeconds: number }; memory: { workingSetBytes: number } }; pods: { podRef: { name: string; uid: string }; containers: { name: string; memory?: { workingSetBytes?: number } }[]; memory?: { workingSetBytes?: number } }[] };
    assert.equal(s.node.nodeName, "n1");
    assert.ok(s.node.cpu.usageCoreNanoSeconds > 0);
    assert.ok(s.node.memory.workingSetBytes > 0);
    const pod = s.pods.find((p) => p.podRef.name === POD);
    assert.ok(pod);
    assert.equal(pod.podRef.uid, uid);
    assert.deepEqual(pod.containers.map((c) => c.name), ["cat", "crash", "fixed", "stderr", "ticker", "web"]);
    assert.ok(pod.containers.every((c) => (c.memory?.workingSetBytes ?? 0) > 0));
    const res = await api.kubectl(["get", "--raw", "/api/v1/nodes/n1/proxy/metrics/resource"]);
    assert.match(res.stdout, /container_memory_working_set_bytes\{container="ticker",namespace="default",pod="p1"\} \d+/);
  });
});
