// The API server's proxying of pods/log, exec, attach, portforward and nodes/proxy, against a
// stand-in kubelet (an HTTPS server that records what reaches it): upstream's checks and error
// Statuses as kubectl prints them, the kubelet query translation, plain and upgraded requests
// passed through, and the client certificate the kubelet sees.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, request as httpsRequest, type Server } from "node:https";
import type { Duplex } from "node:stream";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { WebSocket, WebSocketServer } from "ws";
import { startTestApiServer, type TestApiServer } from "../../testing/apiserver.js";
import { adminClient, type RawClient } from "../../testing/client.js";
import { freePort } from "../../testing/net.js";
import { clusterPKIPaths, createCA, isIssuedBy, issueCertificate } from "../../util/pki.js";
import { ensureKubeletClientCert, kubeletClientCertPaths, KUBELET_CLIENT_USER } from "./certs.js";
import { kubeletLogQuery, kubeletPortForwardQuery, kubeletStreamQuery, proxiedPath, resolveContainer, splitSchemeNamePort } from "./index.js";

describe("proxy request translation", () => {
  it("resolves the container as upstream's validateContainer", () => {
    const pod = { metadata: { name: "p" }, spec: { initContainers: [{ name: "init" }], containers: [{ name: "a" }, { name: "b" }] } };
    assert.equal(resolveContainer(pod, "a"), "a");
    assert.equal(resolveContainer(pod, "init"), "init");
    assert.throws(() => resolveContainer(pod, "x"), /container x is not valid for pod p/);
    assert.throws(() => resolveContainer(pod, ""), /a container name must be specified for pod p, choose one of: \[init a b\]/);
    assert.equal(resolveContainer({ metadata: { name: "p" }, spec: { containers: [{ name: "only" }] } }, ""), "only");
  });

  it("turns kubectl's query into the kubelet's", () => {
    assert.equal(kubeletStreamQuery(new URLSearchParams("container=c&command=sh&command=-c&command=echo+hi&stdin=true&stdout=true&stderr=true&tty=false"), true).toString(), "input=1&output=1&error=1&command=sh&command=-c&command=echo+hi");
    assert.equal(kubeletStreamQuery(new URLSearchParams("stdout=1&tty=true"), false).toString(), "output=1&tty=1");
    assert.throws(() => kubeletStreamQuery(new URLSearchParams("command=ls"), true), /at least 1 of stdin, stdout, stderr/);
    assert.throws(() => kubeletStreamQuery(new URLSearchParams("stdout=true"), true), /at least one command/);
    assert.equal(kubeletPortForwardQuery(new URLSearchParams("ports=8080,9090&ports=80")).toString(), "port=8080&port=9090&port=80");
    assert.throws(() => kubeletPortForwardQuery(new URLSearchParams("ports=0")), /port number/);
    assert.equal(kubeletLogQuery(new URLSearchParams("container=c&follow=true&tailLines=10&timestamps=1&previous=false&sinceSeconds=5&limitBytes=9"), "p").toString(), "follow=true&timestamps=true&tailLines=10&limitBytes=9&sinceSeconds=5");
    assert.throws(() => kubeletLogQuery(new URLSearchParams("tailLines=-1"), "p"), /PodLogOptions "p" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0/);
    assert.throws(() => kubeletLogQuery(new URLSearchParams("sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z"), "p"), /at most one of `sinceTime` or `sinceSeconds`/);
    assert.equal(proxiedPath("/api/v1/nodes/n1/proxy/stats/summary", false), "/stats/summary");
    assert.equal(proxiedPath("/api/v1/nodes/n1/proxy", false), "/");
    assert.equal(proxiedPath("/api/v1/namespaces/proxy/pods/proxy/proxy/a%2Fb/", true), "/a%2Fb/");
    assert.deepEqual(splitSchemeNamePort("https:web:8443"), { scheme: "https", name: "web", port: "8443" });
    assert.deepEqual(splitSchemeNamePort("n1:10255"), { scheme: "", name: "n1", port: "10255" });
  });

  it("the kubelet client certificate is kube-apiserver-kubelet-client in system:masters, kept while valid", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "k8ts-kubelet-client-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const ca = await createCA("test-ca");
    const a = await ensureKubeletClientCert(dir, ca);
    assert.ok(isIssuedBy(a.certPem, ca.certPem));
    assert.equal(readFileSync(kubeletClientCertPaths(dir).cert, "utf8"), a.certPem);
    assert.deepEqual(await ensureKubeletClientCert(dir, ca), a);
    const other = await createCA("another-ca");
    const b = await ensureKubeletClientCert(dir, other);
    assert.notEqual(b.certPem, a.certPem);
    assert.ok(isIssuedBy(b.certPem, other.certPem));
  });
});

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly cn: string;
  readonly o: string;
}

/** A stand-in kubelet: answers by path, echoes WebSocket messages, records who asked what. */
async function fakeKubelet(caPem: string): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const ca = await createCA("fake-kubelet-ca");
  const serving = await issueCertificate(ca, { commonName: "fake-kubelet", ipAddresses: ["127.0.0.1"], usages: "server", validityDays: 1 });
  const seen: Seen[] = [];
  const record = (req: IncomingMessage): void => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    seen.push({ method: req.method ?? "", url: req.url ?? "", cn: String(peer.subject?.CN ?? ""), o: String(peer.subject?.O ?? "") });
  };
  const server = createServer({ cert: serving.certPem, key: serving.keyPem, ca: caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    record(req);
    const path = new URL(req.url ?? "/", "https://x").pathname;
    if (path === "/containerLogs/default/bound/c") {
      res.writeHead(200, { "Content-Type": "text/plain" }).end("line one\nline two\n");
    } else if (path === "/containerLogs/default/bound/waiting") {
      res.writeHead(400, { "Content-Type": "text/plain" }).end('container "waiting" in pod "bound" is waiting to start: ContainerCreating\n');
    } else if (path === "/stats/summary") {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ node: { nodeName: "n1" }, pods: [] }));
    } else {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("404 page not found\n");
    }
  });
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => [...p][0] ?? false });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    record(req);
    const protocol = req.headers["sec-websocket-protocol"] ?? "";
    if (protocol.includes("/")) {
      // Not a token: `ws` would refuse it, kubelets and gorilla do not. Answer by hand.
      const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
      socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => ws.on("message", (m) => ws.send(Buffer.concat([Buffer.from("echo:"), m as Buffer]))));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as { port: number }).port, seen };
}

describe("pods/log, exec, attach, portforward and nodes/proxy through the API server", () => {
  let api: TestApiServer;
  let raw: RawClient;
  let kubelet: Awaited<ReturnType<typeof fakeKubelet>>;

  before(async () => {
    api = await startTestApiServer();
    raw = adminClient(api.url, api.dataDir);
    kubelet = await fakeKubelet(readFileSync(clusterPKIPaths(api.dataDir).caCert, "utf8"));
    const closedPort = await freePort();
    const node = (name: string, port: number): Promise<unknown> =>
      raw.request("POST", "/api/v1/nodes", JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name } })).then(() =>
        raw.request("PATCH", `/api/v1/nodes/${name}/status`, JSON.stringify({ status: { addresses: [{ type: "Hostname", address: "localhost" }, { type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } }), { "Content-Type": "application/merge-patch+json" }),
      );
    await node("n1", kubelet.port);
    await node("gone", closedPort);
    const pod = (name: string, nodeName: string | undefined, containers: string[]): Promise<unknown> =>
      raw.request("POST", "/api/v1/namespaces/default/pods", JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { ...(nodeName ? { nodeName } : {}), containers: containers.map((c) => ({ name: c, image: "busybox:1.35" })) } }));
    await pod("bound", "n1", ["c", "waiting"]);
    await pod("single", "n1", ["c"]);
    await pod("unbound", undefined, ["c"]);
    await pod("lost", "gone", ["c"]);
    await pod("nowhere", "no-such-node", ["c"]);
  });

  after(async () => {
    raw?.close();
    kubelet?.server.close();
    kubelet?.server.closeAllConnections();
    await api?.stop();
  });

  it("logs reach the kubelet with its query and the client certificate it trusts", async () => {
    const r = await api.kubectl(["logs", "bound", "-c", "c", "--tail=5", "--timestamps", "--since=10s"]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "line one\nline two\n");
    const last = kubelet.seen.at(-1)!;
    assert.equal(last.url, "/containerLogs/default/bound/c?timestamps=true&tailLines=5&sinceSeconds=10");
    assert.equal(last.cn, KUBELET_CLIENT_USER);
    assert.equal(last.o, "system:masters");
  });

  it("errors as kubectl shows them from a real cluster", async () => {
    const cases: [string[], RegExp][] = [
      // kubectl reads the pod itself first.
      [["logs", "nope"], /pods "nope" not found/],
      [["logs", "bound", "-c", "x"], /container x is not valid for pod bound/],
      [["logs", "bound", "-c", "waiting"], /Error from server \(BadRequest\): container "waiting" in pod "bound" is waiting to start: ContainerCreating/],
      [["logs", "lost"], /Error from server \(ServiceUnavailable\): Error dialing backend: dial tcp 127\.0\.0\.1:\d+: connect: connection refused/],
      [["logs", "nowhere"], /Error from server \(NotFound\): nodes "no-such-node" not found/],
      [["exec", "unbound", "--", "true"], /pod unbound does not have a host assigned/],
      [["exec", "lost", "--", "true"], /Error dialing backend: dial tcp 127\.0\.0\.1:\d+: connect: connection refused/],
      [["exec", "bound", "-c", "x", "--", "true"], /container x is not valid for pod bound/],
    ];
    for (const [args, want] of cases) {
      const r = await api.kubectl(args);
      assert.notEqual(r.code, 0, args.join(" "));
      assert.match(r.stderr, want, `${args.join(" ")}: ${r.stderr}`);
    }
    const notValid = await raw.request("GET", "/api/v1/namespaces/default/pods/bound/log?container=x");
    assert.equal(notValid.status, 400);
    assert.equal(JSON.parse(notValid.body).message, "container x is not valid for pod bound");
    const r = await raw.request("GET", "/api/v1/namespaces/default/pods/bound/log");
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).message, "a container name must be specified for pod bound, choose one of: [c waiting]");
    const invalid = await raw.request("GET", "/api/v1/namespaces/default/pods/single/log?limitBytes=0");
    assert.equal(invalid.status, 422);
    assert.equal(JSON.parse(invalid.body).reason, "Invalid");
    const unbound = await raw.request("GET", "/api/v1/namespaces/default/pods/unbound/log");
    assert.deepEqual([unbound.status, unbound.body], [200, ""]);
    const noUpgrade = await raw.request("POST", "/api/v1/namespaces/default/pods/single/exec?command=ls&stdout=true");
    assert.equal(noUpgrade.status, 400);
    assert.equal(JSON.parse(noUpgrade.body).message, "Upgrade request required");
    const unreachable = await raw.request("GET", "/api/v1/namespaces/default/pods/lost/log");
    assert.equal(unreachable.status, 503);
    assert.equal(JSON.parse(unreachable.body).reason, "ServiceUnavailable");
  });

  it("nodes/proxy forwards any path and query", async () => {
    const r = await api.kubectl(["get", "--raw", "/api/v1/nodes/n1/proxy/stats/summary?only_cpu_and_memory=true"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { node: { nodeName: "n1" }, pods: [] });
    assert.equal(kubelet.seen.at(-1)!.url, "/stats/summary?only_cpu_and_memory=true");
    const missing = await raw.request("GET", "/api/v1/nodes/n1/proxy/nothing/here");
    assert.deepEqual([missing.status, missing.body], [404, "404 page not found\n"]);
  });

  it("pods/proxy reaches the pod's address and port", async (t) => {
    const seen: string[] = [];
    const web = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "Content-Type": "text/plain" }).end("from the pod\n");
    });
    web.listen(0, "127.0.0.1");
    await once(web, "listening");
    t.after(() => web.close());
    const port = (web.address() as { port: number }).port;
    await raw.request("POST", "/api/v1/namespaces/default/pods", JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "web" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "busybox:1.35" }] } }));
    const noIP = await raw.request("GET", `/api/v1/namespaces/default/pods/web:${port}/proxy/`);
    assert.equal(noIP.status, 503);
    await raw.request("PATCH", "/api/v1/namespaces/default/pods/web/status", JSON.stringify({ status: { podIP: "127.0.0.1", podIPs: [{ ip: "127.0.0.1" }] } }), { "Content-Type": "application/merge-patch+json" });
    const r = await api.kubectl(["get", "--raw", `/api/v1/namespaces/default/pods/web:${port}/proxy/hello/world?x=1`]);
    assert.deepEqual([r.code, r.stdout], [0, "from the pod\n"]);
    assert.deepEqual(seen, ["GET /hello/world?x=1"]);
  });

  it("services/proxy reaches an endpoint with the service port, named or numbered, whose pod has its IP, as upstream picks it", async (t) => {
    // An endpoint may not be a loopback address: serve on one of this machine's others.
    const host = Object.values(networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal && !a.address.startsWith("169.254."))?.address;
    if (!host) return t.skip("no non-loopback IPv4 address on this machine");
    const seen: string[] = [];
    const web = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "Content-Type": "text/plain" }).end("from an endpoint\n");
    });
    web.listen(0, host);
    await once(web, "listening");
    t.after(() => web.close());
    const port = (web.address() as { port: number }).port;
    const ns = "/api/v1/namespaces/default";
    await raw.request("POST", `${ns}/services`, JSON.stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "websvc" }, spec: { ports: [{ name: "http", port: 80, targetPort: port }] } }));
    const noEndpoints = await raw.request("GET", `${ns}/services/websvc:80/proxy/`);
    assert.equal(noEndpoints.status, 404, noEndpoints.body);
    // The endpoint's pod must exist and have its IP (upstream's isValidAddress).
    const address = { ip: host, targetRef: { kind: "Pod", namespace: "default", name: "websvc-pod" } };
    await raw.request("POST", `${ns}/endpoints`, JSON.stringify({ apiVersion: "v1", kind: "Endpoints", metadata: { name: "websvc" }, subsets: [{ addresses: [address], ports: [{ name: "http", port, protocol: "TCP" }] }] }));
    const noPod = await raw.request("GET", `${ns}/services/websvc:80/proxy/`);
    assert.deepEqual([noPod.status, JSON.parse(noPod.body).message], [503, 'no endpoints available for service "websvc:80"']);
    await raw.request("POST", `${ns}/pods`, JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "websvc-pod" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "busybox:1.35" }] } }));
    await raw.request("PATCH", `${ns}/pods/websvc-pod/status`, JSON.stringify({ status: { podIP: host, podIPs: [{ ip: host }] } }), { "Content-Type": "application/merge-patch+json" });
    for (const id of ["websvc:80", "websvc:http", "http:websvc:http"]) {
      const r = await api.kubectl(["get", "--raw", `${ns}/services/${id}/proxy/hi?x=1`]);
      assert.deepEqual([r.code, r.stdout], [0, "from an endpoint\n"], id);
    }
    assert.deepEqual(seen, ["GET /hi?x=1", "GET /hi?x=1", "GET /hi?x=1"]);
    const undeclared = await raw.request("GET", `${ns}/services/websvc:81/proxy/`);
    assert.deepEqual([undeclared.status, JSON.parse(undeclared.body).message], [503, 'no service port 81 found for service "websvc"']);
    // The only port is named: without its name there is no endpoint for the unnamed port.
    const unnamed = await raw.request("GET", `${ns}/services/websvc/proxy/`);
    assert.deepEqual([unnamed.status, JSON.parse(unnamed.body).message], [503, 'no endpoints available for service "websvc"']);
  });

  it("upgrades pass through to the kubelet byte for byte", async () => {
    const p = clusterPKIPaths(api.dataDir);
    const tlsOpts = { ca: readFileSync(p.caCert), cert: readFileSync(p.adminCert), key: readFileSync(p.adminKey) };
    const roundTrip = async (path: string, protocol: string): Promise<string> => {
      const ws = new WebSocket(new URL(path, api.url.replace("https", "wss")), [protocol], tlsOpts);
      await once(ws, "open");
      assert.equal(ws.protocol, protocol);
      ws.send(Buffer.from([1, 104, 105]));
      const [msg] = (await once(ws, "message")) as [Buffer];
      ws.close();
      return msg.toString("latin1");
    };
    assert.equal(await roundTrip("/api/v1/namespaces/default/pods/single/exec?command=sh&command=-c&command=true&stdin=true&stdout=true", "v5.channel.k8s.io"), "echo:\x01hi");
    assert.equal(kubelet.seen.at(-1)!.url, "/exec/default/single/c?input=1&output=1&command=sh&command=-c&command=true");
    assert.equal(kubelet.seen.at(-1)!.method, "GET");
    assert.equal(await roundTrip("/api/v1/namespaces/default/pods/bound/attach?container=c&stdout=true&tty=true", "v4.channel.k8s.io"), "echo:\x01hi");
    assert.equal(kubelet.seen.at(-1)!.url, "/attach/default/bound/c?output=1&tty=1");
    // A refused upgrade is an HTTP answer, after which the server closes the connection.
    const refused = tlsConnect({ host: "127.0.0.1", port: Number(new URL(api.url).port), ...tlsOpts });
    await once(refused, "secureConnect");
    refused.write("POST /api/v1/namespaces/default/pods/nope/exec?command=true&stdout=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n");
    let answer = "";
    refused.on("data", (d: Buffer) => (answer += d.toString()));
    await once(refused, "end", { signal: AbortSignal.timeout(5000) });
    assert.match(answer, /^HTTP\/1\.1 404 Not Found\r\n[\s\S]*"message":"pods \\"nope\\" not found"/);

    // `ws` will not ask for a protocol with a "/" in it: the tunnel's upgrade by hand.
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpsRequest(new URL("/api/v1/namespaces/default/pods/bound/portforward?ports=8080", api.url), {
        ...tlsOpts,
        headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "SPDY/3.1+portforward.k8s.io" },
      });
      req.on("upgrade", (r: IncomingMessage, socket: Duplex) => {
        socket.destroy();
        resolve(r);
      });
      req.on("response", (r) => reject(new Error(`no upgrade: ${r.statusCode}`)));
      req.on("error", reject);
      req.end();
    });
    assert.equal(res.statusCode, 101);
    assert.equal(res.headers["sec-websocket-protocol"], "SPDY/3.1+portforward.k8s.io");
    assert.equal(res.headers["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert.equal(kubelet.seen.at(-1)!.url, "/portForward/default/bound?port=8080");
    assert.equal(kubelet.seen.at(-1)!.cn, KUBELET_CLIENT_USER);
  });
});
