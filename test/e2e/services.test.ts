// End-to-end Services on a real node: kube-proxy's rules (iptables, then nftables) carry traffic
// to ClusterIPs and NodePorts, EndpointSlices follow scaling and readiness, and the cluster DNS
// addon answers names — all driven with the official kubectl, from the host and from pods.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod, Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";
import { startTestCluster, type TestCluster } from "../../src/testing/cluster.js";
import { runtimeSkipReason } from "../../src/testing/runtime.js";
import { until } from "../../src/testing/wait.js";
import { httpGet } from "../../src/testing/http.js";
import { freePort } from "../../src/testing/net.js";

const skip = runtimeSkipReason();

const get = async (url: string): Promise<string> => (await httpGet(url)).body.trim();

const WEB = (replicas: number): string => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: httpd
        image: busybox:1.35
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && touch /tmp/ready && exec httpd -f -p 8080 -h /www"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {exec: {command: ["cat", "/tmp/ready"]}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-np}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-sticky}
spec:
  selector: {app: web}
  sessionAffinity: ClientIP
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, image: busybox:1.35, command: ["sleep", "3600"]}
`;

function suite(mode: "iptables" | "nftables"): void {
  describe(`Services with kube-proxy in ${mode} mode`, { skip, timeout: 600_000 }, () => {
    let c: TestCluster;
    const kubectl = (...args: string[]): Promise<string> =>
      c.kubectl(args).then((r) => {
        assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
        return r.stdout;
      });
    const inClient = async (script: string): Promise<string> => {
      const r = await c.kubectl(["exec", "client", "--", "sh", "-c", script]);
      assert.equal(r.code, 0, `in client: ${script}: ${r.stderr}${r.stdout}`);
      return r.stdout;
    };
    const service = async (name: string): Promise<Service> => (await c.client.forKind("v1", "Service").namespace("default").get(name)) as Service;
    const readyEndpoints = async (svc: string): Promise<string[]> => {
      const slices = (await c.client.forKind("discovery.k8s.io/v1", "EndpointSlice").namespace("default").list({ labelSelector: `kubernetes.io/service-name=${svc}` })).items as EndpointSlice[];
      return slices.flatMap((s) => s.endpoints.filter((e) => e.conditions?.ready).flatMap((e) => e.addresses)).sort();
    };
    const webPods = async (): Promise<Pod[]> => (await c.client.forKind("v1", "Pod").namespace("default").list({ labelSelector: "app=web" })).items as Pod[];
    /** hostnames answering over `n` requests from the host */
    const fromHost = async (url: string, n: number): Promise<Set<string>> => {
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) seen.add(await get(url));
      return seen;
    };

    before(async () => {
      c = await startTestCluster({ extraArgs: ["--proxy-mode", mode] });
      const r = await c.kubectl(["apply", "-f", "-"], { stdin: WEB(3) });
      assert.equal(r.code, 0, r.stderr);
      await until("3 ready endpoints", async () => ((await readyEndpoints("web")).length === 3 ? true : undefined), 120_000, 200);
      await until("client running", async () => (((await c.client.forKind("v1", "Pod").namespace("default").get("client")) as Pod).status?.phase === "Running" ? true : undefined), 60_000, 200);
    });
    after(async () => {
      await c?.stop();
    });

    it("reaches all three pods through the ClusterIP from the host and from a pod", async () => {
      const ip = (await service("web")).spec!.clusterIP!;
      const names = new Set((await webPods()).map((p) => p.metadata!.name!));
      const host = await until("all pods answer from the host", async () => {
        const seen = await fromHost(`http://${ip}/`, 100);
        return seen.size === 3 ? seen : undefined;
      }, 30_000, 200);
      assert.deepEqual([...host].sort(), [...names].sort());
      const out = await inClient(`for i in $(seq 100); do wget -qO- http://${ip}/; done | sort -u`);
      assert.deepEqual(out.trim().split("\n"), [...names].sort());
    });

    it("answers on a NodePort of the node's address", async () => {
      const svc = await service("web-np");
      const nodePort = svc.spec!.ports![0]!.nodePort!;
      const node = await c.client.forKind("v1", "Node").get(c.nodeName);
      const nodeIP = (node as { status?: { addresses?: { type: string; address: string }[] } }).status!.addresses!.find((a) => a.type === "InternalIP")!.address;
      const body = await until("NodePort answers", () => get(`http://${nodeIP}:${nodePort}/`), 30_000, 200);
      assert.ok((await webPods()).some((p) => p.metadata!.name === body), body);
    });

    it("a LoadBalancer service gets the node's address as its EXTERNAL-IP and answers there", async () => {
      const port = await freePort();
      await kubectl("expose", "deployment", "web", "--type=LoadBalancer", "--name=web-lb", `--port=${port}`, "--target-port=8080");
      const node = (await c.client.forKind("v1", "Node").get(c.nodeName)) as Node;
      const nodeIP = node.status!.addresses!.find((a) => a.type === "InternalIP")!.address;
      const ingress = await until("a load balancer address", async () => (await service("web-lb")).status?.loadBalancer?.ingress, 30_000, 200);
      assert.deepEqual(ingress, [{ ip: nodeIP, ipMode: "VIP" }]);
      assert.match(await kubectl("get", "service", "web-lb"), new RegExp(`\\nweb-lb\\s+LoadBalancer\\s+[\\d.]+\\s+${nodeIP.replace(/\./g, "\\.")}\\s+${port}:\\d+/TCP\\s`));
      const body = await until("the load balancer answers", () => get(`http://${nodeIP}:${port}/`), 30_000, 200);
      assert.ok((await webPods()).some((p) => p.metadata!.name === body), body);
      await kubectl("delete", "service", "web-lb");
    });

    it("pins a client with sessionAffinity ClientIP", async () => {
      const ip = (await service("web-sticky")).spec!.clusterIP!;
      const out = await inClient(`for i in $(seq 30); do wget -qO- http://${ip}/; done | sort -u`);
      assert.equal(out.trim().split("\n").length, 1, out);
    });

    it("resolves Service names through the cluster DNS addon", async () => {
      const names = new Set((await webPods()).map((p) => p.metadata!.name!));
      const long = await until("web.default.svc.cluster.local answers", async () => {
        const r = await c.kubectl(["exec", "client", "--", "timeout", "5", "wget", "-qO-", "http://web.default.svc.cluster.local/"]);
        return r.code === 0 ? r.stdout.trim() : undefined;
      }, 180_000, 1000);
      assert.ok(names.has(long), long);
      const short = await inClient("timeout 5 wget -qO- http://web/");
      assert.ok(names.has(short.trim()), short);
      const headless = await inClient("nslookup web-headless.default.svc.cluster.local");
      const podIPs = (await webPods()).map((p) => p.status!.podIP!);
      for (const ip of podIPs) assert.match(headless, new RegExp(ip.replace(/\./g, "\\.")));
      const missing = await c.kubectl(["exec", "client", "--", "nslookup", "nothing-here.default.svc.cluster.local"]);
      assert.notEqual(missing.code, 0);
    });

    it("follows scaling and readiness in the EndpointSlices and the rules", async () => {
      const ip = (await service("web")).spec!.clusterIP!;
      await kubectl("scale", "deployment/web", "--replicas=1");
      await until("1 endpoint", async () => ((await readyEndpoints("web")).length === 1 ? true : undefined), 60_000, 100);
      const one = await until("only one pod answers", async () => {
        const seen = await fromHost(`http://${ip}/`, 20);
        return seen.size === 1 ? seen : undefined;
      }, 10_000, 100);
      assert.equal(one.size, 1);
      await kubectl("scale", "deployment/web", "--replicas=3");
      await until("3 endpoints", async () => ((await readyEndpoints("web")).length === 3 ? true : undefined), 120_000, 200);
      // A pod failing readiness leaves the rotation.
      const [victim] = await webPods();
      const name = victim!.metadata!.name!;
      await kubectl("exec", name, "--", "rm", "/tmp/ready");
      await until("victim not ready", async () => ((await readyEndpoints("web")).includes(victim!.status!.podIP!) ? undefined : true), 60_000, 200);
      const rest = await until("traffic avoids the unready pod", async () => {
        const seen = await fromHost(`http://${ip}/`, 60);
        return seen.has(name) ? undefined : seen;
      }, 10_000, 100);
      assert.equal(rest.size, 2);
      const slices = await kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=web");
      assert.match(slices.split("\n")[0]!, /NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE/);
      const describe = await kubectl("describe", "svc", "web");
      assert.match(describe, /Endpoints:\s+\d+\.\d+\.\d+\.\d+:8080/);
      assert.match(describe, /TargetPort:\s+http\/TCP/);
    });
  });
}

suite("iptables");
suite("nftables");
