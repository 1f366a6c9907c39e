// End-to-end NetworkPolicies on a real node: pods in containerd on the node's bridge, policies
// applied with the official kubectl, traffic tried from inside the pods (busybox wget and
// nslookup through the cluster DNS). The node's network policy controller turns the policies
// into its nftables table; the kubelet's probes keep working through a deny-all.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Pod } from "kubernetes-types/core/v1.js";
import { kubectlOk } from "../../src/testing/apiserver.js";
import { startTestCluster, type TestCluster } from "../../src/testing/cluster.js";
import { runtimeSkipReason } from "../../src/testing/runtime.js";
import { until } from "../../src/testing/wait.js";

const skip = runtimeSkipReason();

const PODS = `apiVersion: v1
kind: Namespace
metadata: {name: np-other}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: httpd
        image: busybox:1.35
        command: ["sh", "-c", "mkdir -p /www && echo web > /www/index.html && exec httpd -f -p 8080 -h /www"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1, failureThreshold: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, image: busybox:1.35, command: ["sh", "-c", "mkdir -p /www && echo client > /www/index.html && exec httpd -f -p 8080 -h /www"]}
---
apiVersion: v1
kind: Pod
metadata: {name: stranger, labels: {app: stranger}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, image: busybox:1.35, command: ["sleep", "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: outsider, namespace: np-other, labels: {app: client}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, image: busybox:1.35, command: ["sleep", "3600"]}
`;

const WEB_DENY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-deny}
spec:
  podSelector: {matchLabels: {app: web}}
`;

const WEB_ALLOW = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-allow}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: client}}
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: np-other}}
    ports: [{port: http}]
`;

// The client may talk to the web pods and to the cluster DNS, nothing else.
const CLIENT_EGRESS = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: web}}}]
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
`;

describe("NetworkPolicies on a real node", { skip, timeout: 600_000 }, () => {
  let c: TestCluster;
  const kubectl = (args: readonly string[], stdin?: string): Promise<string> => kubectlOk(c.kubectl, args, stdin);
  /** One GET from inside `pod`: the page's first line, "timeout" (dropped), or "error" (refused: the packets got through). */
  const fetch = async (pod: string, url: string, ns = "default"): Promise<string> => {
    const r = await c.kubectl(["exec", "-n", ns, pod, "--", "sh", "-c", `timeout 2 wget -qO- ${url}; echo "rc=$?"`]);
    const out = r.stdout.trim().split("\n");
    const rc = out.pop();
    if (rc === "rc=0") return out[0] ?? "";
    return rc === "rc=143" || rc === "rc=124" ? "timeout" : "error";
  };
  const expect = async (pod: string, url: string, want: string, ns = "default"): Promise<void> => {
    let got = "";
    await until(`${ns}/${pod} → ${url}: ${want}`, async () => ((got = await fetch(pod, url, ns)) === want ? true : undefined), 30_000, 200).catch((err: Error) => {
      throw new Error(`${err.message} (last: ${got})`);
    });
  };
  const podIP = async (name: string): Promise<string> => ((await c.client.forKind("v1", "Pod").namespace("default").get(name)) as Pod).status!.podIP!;
  const webReady = async (): Promise<boolean> => {
    const pods = (await c.client.forKind("v1", "Pod").namespace("default").list({ labelSelector: "app=web" })).items as Pod[];
    return pods.length === 1 && pods[0]!.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True") === true;
  };

  before(async () => {
    c = await startTestCluster();
    await kubectl(["apply", "-f", "-"], PODS);
    await until("the pods run and web is ready", async () => {
      const pods = [...((await c.client.forKind("v1", "Pod").list()).items as Pod[])].filter((p) => ["default", "np-other"].includes(p.metadata!.namespace!));
      return pods.length === 4 && pods.every((p) => p.status?.phase === "Running") && (await webReady()) ? true : undefined;
    }, 120_000, 200);
  });
  after(async () => {
    await c?.stop();
  });

  it("without policies every pod reaches web through its Service name", async () => {
    await expect("client", "http://web/", "web");
    await expect("stranger", "http://web/", "web");
    await expect("outsider", "http://web.default/", "web", "np-other");
  });

  it("a deny-all policy isolates web; the kubelet's probes still reach it", async () => {
    await kubectl(["apply", "-f", "-"], WEB_DENY);
    await expect("client", "http://web/", "timeout");
    await expect("stranger", "http://web/", "timeout");
    assert.equal(await webReady(), true, "web stays Ready: probes come from the node");
    assert.equal(await fetch("stranger", `http://${await podIP("client")}:8080/`), "client", "pods no policy selects are not isolated");
  });

  it("an allow policy lets in the pods and namespaces it names, on the named port", async () => {
    await kubectl(["apply", "-f", "-"], WEB_ALLOW);
    await expect("client", "http://web/", "web");
    await expect("outsider", "http://web.default/", "web", "np-other");
    await expect("stranger", "http://web/", "timeout");
    const table = await kubectl(["get", "networkpolicies"]);
    assert.match(table, /^NAME\s+POD-SELECTOR\s+AGE\n/);
    assert.match(table, /\nweb-allow\s+app=web\s+\d+s\n/);
  });

  it("an egress policy limits the client to web and DNS", async () => {
    await kubectl(["apply", "-f", "-"], CLIENT_EGRESS);
    await expect("client", `http://${await podIP("stranger")}:8080/`, "timeout");
    await expect("client", "http://web/", "web");
    const dns = await c.kubectl(["exec", "client", "--", "nslookup", "web.default.svc.cluster.local"]);
    assert.equal(dns.code, 0, dns.stderr + dns.stdout);
  });

  it("deleting the policies opens everything again", async () => {
    await kubectl(["delete", "networkpolicy", "--all"]);
    await expect("stranger", "http://web/", "web");
    await expect("client", `http://${await podIP("stranger")}:8080/`, "error");
  });
});
