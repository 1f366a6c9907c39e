// Client library benchmark: `npm run bench -- client [--requests N] [--events N]`.
// The CPU the client library costs a component, per operation, in this process only:
//  - a GET answered with a 3.7 KB pod over mutual TLS, 32 at a time, without and with a
//    caller's AbortSignal (the server is a child process, so its CPU is not counted);
//  - a watch event decoded from the stream (as the reflector reads them);
//  - deepFreeze of a parsed pod (what informers do to every event) and mutableCopy of a
//    frozen one (what controllers do before every write).
// One JSON object per line with µs of CPU per operation, each next to a baseline measured in the
// same run: node's own https.request over a keep-alive agent with the same certificates and a
// JSON.parse of the answer (GET); JSON.parse of each line (watch event); structuredClone (copy).
import { spawn } from "node:child_process";
import { Agent, request } from "node:https";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import type { Pod } from "kubernetes-types/core/v1.js";
import { createCA, issueCertificate } from "../src/util/pki.js";
import { RestClient, Watch } from "../src/client/rest.js";
import { deepFreeze, mutableCopy, type DeepReadonly } from "../src/client/objects.js";
import { builtinByKind } from "../src/client/resources.js";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const REQUESTS = arg("--requests", 20_000);
const EVENTS = arg("--events", 30_000);
const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;
const emit = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ bench: "client", ...o }) + "\n");

/** A pod as the density bench's pods look once running, managedFields included. */
function pod(i: number): Pod {
  const t = `2026-01-01T00:00:0${i % 10}Z`;
  const fields = (o: Record<string, unknown>): Record<string, unknown> => o;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `web-${i}`,
      namespace: "bench",
      uid: `0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f${i % 10}`,
      resourceVersion: String(100000 + i),
      creationTimestamp: t,
      labels: { app: "web", "pod-template-hash": "5d8f7c9b6" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-5d8f7c9b6", uid: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", controller: true, blockOwnerDeletion: true }],
      managedFields: [
        { manager: "k8ts-controller-manager", operation: "Update", apiVersion: "v1", time: t, fieldsType: "FieldsV1", fieldsV1: fields({ "f:metadata": { "f:labels": { ".": {}, "f:app": {}, "f:pod-template-hash": {} }, "f:ownerReferences": { ".": {} } }, "f:spec": { "f:containers": { 'k:{"name":"pause"}': { ".": {}, "f:image": {}, "f:name": {}, "f:resources": { "f:requests": { "f:cpu": {}, "f:memory": {} } } } }, "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {} } }) },
        { manager: "k8ts-sim-nodes", operation: "Update", apiVersion: "v1", time: t, fieldsType: "FieldsV1", subresource: "status", fieldsV1: fields({ "f:status": { "f:conditions": { 'k:{"type":"Ready"}': { ".": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {} }, 'k:{"type":"ContainersReady"}': { ".": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {} } }, "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {}, "f:startTime": {} } }) },
      ],
    },
    spec: {
      containers: [{ name: "pause", image: "k8ts.local/pause:3.9", imagePullPolicy: "IfNotPresent", resources: { requests: { cpu: "10m", memory: "10Mi" } }, terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File" }],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      nodeName: `sim-${i % 1000}`,
      schedulerName: "default-scheduler",
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }],
    },
    status: {
      phase: "Running",
      hostIP: "10.0.0.1",
      podIP: "10.0.1.2",
      podIPs: [{ ip: "10.0.1.2" }],
      startTime: t,
      qosClass: "Burstable",
      conditions: ["Initialized", "Ready", "ContainersReady", "PodScheduled"].map((type) => ({ type, status: "True", lastTransitionTime: t })),
      containerStatuses: [{ name: "pause", state: { running: { startedAt: t } }, ready: true, restartCount: 0, image: "k8ts.local/pause:3.9", imageID: `k8ts.local/pause@sha256:${"0123456789abcdef".repeat(4)}`, containerID: `containerd://${"0123456789abcdef".repeat(4)}`, started: true }],
    },
  };
}

const SERVER = `
import { createServer } from "node:https";
const { cert, key, ca, body } = JSON.parse(process.env.BENCH_SERVER);
const s = createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: false, keepAlive: true }, (req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) }).end(body));
});
s.listen(0, "127.0.0.1", () => process.stdout.write(s.address().port + "\\n"));
`;

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function requests(): Promise<void> {
  const ca = await createCA("bench-ca");
  const server = await issueCertificate(ca, { commonName: "server", ipAddresses: ["127.0.0.1"], usages: "server", validityDays: 1 });
  const user = await issueCertificate(ca, { commonName: "bench", organizations: ["system:masters"], usages: "client", validityDays: 1 });
  const env = { ...process.env, BENCH_SERVER: JSON.stringify({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, body: JSON.stringify(pod(1)) }) };
  const child = spawn(process.execPath, ["--input-type=module", "-e", SERVER], { env, stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
      child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    });
    const client = new RestClient({ config: { server: `https://127.0.0.1:${port}`, caPem: ca.certPem, certPem: user.certPem, keyPem: user.keyPem, insecureSkipTLSVerify: false, namespace: "default" }, qps: Infinity });
    const pods = client.forKind("v1", "Pod").namespace("bench");
    const agent = new Agent({ keepAlive: true, maxSockets: 32, ca: ca.certPem, cert: user.certPem, key: user.keyPem });
    const rawGet = (): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path: "/api/v1/namespaces/bench/pods/web-1", agent, headers: { Accept: "application/json" } }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
      });
    const rawRun = async (n: number): Promise<void> => {
      let i = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (i++ < n) await rawGet();
        }),
      );
    };
    const stop = new AbortController();
    const run = async (n: number, signal: AbortSignal | undefined): Promise<void> => {
      let i = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (i++ < n) await pods.get("web-1", signal ? { signal } : {});
        }),
      );
    };
    try {
      await run(2000, undefined);
      await rawRun(2000);
      const rawBefore = cpuMicros();
      await rawRun(REQUESTS);
      const baseline = round((cpuMicros() - rawBefore) / REQUESTS);
      for (const signal of [undefined, stop.signal]) {
        const before = cpuMicros();
        const started = performance.now();
        await run(REQUESTS, signal);
        emit({ metric: "get_over_mtls", callerSignal: signal !== undefined, requests: REQUESTS, cpuMicrosPerRequest: round((cpuMicros() - before) / REQUESTS), baselineCpuMicrosPerRequest: baseline, seconds: round((performance.now() - started) / 1000) });
      }
    } finally {
      client.close();
      agent.destroy();
    }
  } finally {
    child.kill();
  }
}

async function watchDecode(): Promise<void> {
  const lines = Array.from({ length: 1000 }, (_, i) => Buffer.from(JSON.stringify({ type: "MODIFIED", object: pod(i) }) + "\n"));
  const info = builtinByKind("v1", "Pod")!;
  const once = async (n: number): Promise<number> => {
    const chunks = Array.from({ length: n }, (_, i) => lines[i % lines.length]!);
    const watch = new Watch<Pod>(Readable.from(chunks) as unknown as IncomingMessage, new AbortController(), undefined, info);
    const before = cpuMicros();
    let got = 0;
    for await (const _ of watch) got++;
    return (cpuMicros() - before) / got;
  };
  await once(2000);
  const perEvent = round(await once(EVENTS));
  const text = lines.map((l) => l.toString("utf8"));
  const before = cpuMicros();
  for (let i = 0; i < EVENTS; i++) JSON.parse(text[i % text.length]!);
  emit({ metric: "watch_event_decode", events: EVENTS, cpuMicrosPerEvent: perEvent, baselineCpuMicrosPerEvent: round((cpuMicros() - before) / EVENTS) });
}

function objects(): void {
  const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify(pod(i)));
  const n = EVENTS;
  const time = (fn: (i: number) => unknown): number => {
    for (let i = 0; i < 2000; i++) fn(i);
    const before = cpuMicros();
    for (let i = 0; i < n; i++) fn(i);
    return round((cpuMicros() - before) / n);
  };
  const parse = time((i) => JSON.parse(lines[i % 1000]!));
  const parseAndFreeze = time((i) => deepFreeze(JSON.parse(lines[i % 1000]!) as Pod));
  const frozen = lines.map((l) => deepFreeze(JSON.parse(l) as Pod));
  const copy = time((i) => mutableCopy<Pod>(frozen[i % 1000] as DeepReadonly<Pod>));
  const clone = time((i) => structuredClone(frozen[i % 1000]));
  emit({ metric: "objects", podJsonBytes: lines[0]!.length, parseMicros: parse, deepFreezeMicros: round(parseAndFreeze - parse), mutableCopyMicros: copy, baselineStructuredCloneMicros: clone });
}

await requests();
await watchDecode();
objects();
