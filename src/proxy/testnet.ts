// A small network of namespaces for the proxy's tests and benchmark, so real rules are
// programmed and real packets flow without touching the host's tables:
//
//   ext (192.0.2.2) ── veth ── node (192.0.2.1; 10.244.0.1 towards every pod) ── veth ── pod-i (10.244.0.(10+i))
//
// Pods are routed, not bridged (a /32 each, with the node as gateway), so all their traffic
// crosses the node namespace's netfilter hooks where the Proxier's rules live. Each pod may run
// busybox httpd answering `/cgi-bin/who` with "<pod name> <client address>". Everything is
// named kt-<id>-…; cleanup() kills the servers and deletes the namespaces (and with them every
// veth and rule).
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandRunner, type CommandResult } from "./exec.js";

export interface TestPod {
  readonly name: string;
  readonly netns: string;
  readonly ip: string;
}

export interface TestNet {
  readonly id: string;
  /** The namespace the Proxier programs. */
  readonly node: string;
  /** An off-cluster client. */
  readonly ext: string;
  readonly nodeIP: string;
  readonly extIP: string;
  /** The node's address on the pod side (what masqueraded traffic to pods comes from). */
  readonly nodePodSideIP: string;
  readonly podCIDR: string;
  readonly pods: readonly TestPod[];
  readonly httpPort: number;
  /** The directory a pod's httpd serves. */
  webRoot(pod: TestPod): string;
  /** One datagram to host:port from local port `fromPort` in `netns`: the answer, or "ERROR timeout" after 1 s. */
  udp(netns: string, host: string, port: number, fromPort: number): Promise<string>;
  /** Runs a command in a namespace; rejects on a non-zero exit. */
  exec(netns: string, argv: readonly string[], stdin?: string): Promise<CommandResult>;
  /**
   * `count` HTTP GETs of `url` from `netns`, one connection each (busybox wget, `timeoutS` each):
   * the answers' first lines, or "ERROR <message>" ("ERROR timeout") for a failed request.
   */
  get(netns: string, url: string, count: number, timeoutS?: number): Promise<string[]>;
  cleanup(): Promise<void>;
}

export interface TestNetOptions {
  /** Short and unique per run: names are kt-<id>-node etc. (at most 15 characters in all). */
  readonly id: string;
  readonly pods: number;
  /** Start busybox httpd in every pod (default true). */
  readonly httpd?: boolean;
  /** Start a UDP server on port 5353 in every pod that answers each datagram with the pod's name. */
  readonly udp?: boolean;
  /** Start busybox httpd in the node namespace too (name "node", on nodeIP:8080). */
  readonly nodeHttpd?: boolean;
}

const UDP_SERVER = `const s = require("node:dgram").createSocket("udp4"); s.on("message", (m, r) => s.send(process.argv[1], r.port, r.address)); s.bind(5353);`;
const UDP_CLIENT = `const [host, port, from] = process.argv.slice(1); const s = require("node:dgram").createSocket("udp4");
const t = setTimeout(() => { console.log("ERROR timeout"); process.exit(0); }, 1000);
s.on("message", (m) => { console.log(m.toString()); clearTimeout(t); s.close(); });
s.bind(Number(from), () => s.send("?", Number(port), host));`;

const BUSYBOX = "/bin/busybox";

export async function createTestNet(o: TestNetOptions): Promise<TestNet> {
  const prefix = `kt-${o.id}`;
  const node = `${prefix}-node`;
  const ext = `${prefix}-ext`;
  const pods: TestPod[] = Array.from({ length: o.pods }, (_, i) => ({ name: `pod${i + 1}`, netns: `${prefix}-p${i + 1}`, ip: `10.244.0.${11 + i}` }));
  const created: string[] = [];
  const servers: ChildProcess[] = [];
  const dir = join(tmpdir(), `${prefix}-www`);
  const host = commandRunner(undefined);
  const ip = (args: readonly string[]): Promise<CommandResult> => host(["ip", ...args]);
  const httpPort = 8080;

  const net: TestNet = {
    id: o.id,
    node,
    ext,
    nodeIP: "192.0.2.1",
    extIP: "192.0.2.2",
    nodePodSideIP: "10.244.0.1",
    podCIDR: "10.244.0.0/16",
    pods,
    httpPort,
    webRoot: (p) => join(dir, p.name),
    exec: (netns, argv, stdin) => commandRunner(netns)(argv, stdin),
    async udp(netns, host, port, fromPort) {
      const { stdout } = await commandRunner(netns)([process.execPath, "-e", UDP_CLIENT, host, String(port), String(fromPort)]);
      return stdout.trim();
    },
    async get(netns, url, count, timeoutS = 2) {
      // busybox-static's own `wget -T` crashes (SIGSEGV in its alarm handler): coreutils' timeout bounds each request instead.
      const script = `i=0; while [ $i -lt ${count} ]; do i=$((i+1)); out=$(timeout ${timeoutS} ${BUSYBOX} wget -q -O - '${url}' 2>&1); rc=$?; if [ $rc -eq 0 ]; then echo "$out" | head -n1; elif [ $rc -eq 124 ]; then echo "ERROR timeout"; else echo "ERROR $(echo $out | head -n1)"; fi; done`;
      const { stdout } = await commandRunner(netns)(["sh", "-c", script]);
      return stdout.split("\n").filter((l) => l !== "");
    },
    async cleanup() {
      const running = servers.filter((s) => s.exitCode === null && s.signalCode === null);
      const exited = running.map((s) => new Promise<void>((r) => s.once("exit", () => r())));
      for (const s of running) s.kill("SIGKILL");
      await Promise.all(exited);
      for (const ns of created.reverse()) await ip(["netns", "del", ns]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    for (const ns of [node, ext, ...pods.map((p) => p.netns)]) {
      await ip(["netns", "add", ns]);
      created.push(ns);
      await ip(["-n", ns, "link", "set", "lo", "up"]);
    }
    await net.exec(node, ["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);
    // node ⇄ ext
    await ip(["-n", node, "link", "add", "vext", "type", "veth", "peer", "name", "eth0", "netns", ext]);
    await ip(["-n", node, "addr", "add", "192.0.2.1/24", "dev", "vext"]);
    await ip(["-n", node, "link", "set", "vext", "up"]);
    await ip(["-n", ext, "addr", "add", "192.0.2.2/24", "dev", "eth0"]);
    await ip(["-n", ext, "link", "set", "eth0", "up"]);
    // Off-cluster clients route the service and pod ranges through the node.
    await ip(["-n", ext, "route", "add", "10.43.0.0/16", "via", "192.0.2.1"]);
    await ip(["-n", ext, "route", "add", "10.244.0.0/16", "via", "192.0.2.1"]);
    // The node needs some route for cluster IPs before OUTPUT's DNAT sends them to a pod.
    await ip(["-n", node, "route", "add", "default", "via", "192.0.2.2"]);
    for (const [i, p] of pods.entries()) {
      const veth = `vp${i + 1}`;
      await ip(["-n", node, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", p.netns]);
      await ip(["-n", node, "addr", "add", "10.244.0.1/32", "dev", veth]);
      await ip(["-n", node, "link", "set", veth, "up"]);
      await ip(["-n", node, "route", "add", `${p.ip}/32`, "dev", veth]);
      await ip(["-n", p.netns, "addr", "add", `${p.ip}/32`, "dev", "eth0"]);
      await ip(["-n", p.netns, "link", "set", "eth0", "up"]);
      await ip(["-n", p.netns, "route", "add", "10.244.0.1", "dev", "eth0"]);
      await ip(["-n", p.netns, "route", "add", "default", "via", "10.244.0.1", "dev", "eth0"]);
    }
    if (o.httpd ?? true) {
      const servedBy = [...pods, ...(o.nodeHttpd ? [{ name: "node", netns: node, ip: "192.0.2.1" }] : [])];
      for (const p of servedBy) {
        const root = join(dir, p.name);
        mkdirSync(join(root, "cgi-bin"), { recursive: true });
        const cgi = join(root, "cgi-bin", "who");
        writeFileSync(cgi, `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\necho "${p.name} $REMOTE_ADDR"\n`);
        chmodSync(cgi, 0o755);
        const s = spawn("ip", ["netns", "exec", p.netns, BUSYBOX, "httpd", "-f", "-p", String(httpPort), "-h", root], { stdio: "ignore" });
        servers.push(s);
      }
    }
    if (o.udp) {
      for (const p of pods) servers.push(spawn("ip", ["netns", "exec", p.netns, process.execPath, "-e", UDP_SERVER, p.name], { stdio: "ignore" }));
    }
  } catch (err) {
    await net.cleanup();
    throw err;
  }
  return net;
}
