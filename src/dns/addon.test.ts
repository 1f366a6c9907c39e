import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { dnsAddonObjects } from "./addon.js";

void describe("dnsAddonObjects", () => {
  let api: TestApiServer;
  before(async () => {
    api = await startTestApiServer();
  });
  after(async () => {
    await api?.stop();
  });

  const objects = dnsAddonObjects({ clusterDNSIP: "10.43.0.10", image: "k8ts.local/dns:test", clusterDomain: "cluster.local" });

  void it("has upstream's names, labels, probes and resources", () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata?.name}`);
    assert.deepEqual(kinds, ["ServiceAccount/coredns", "ClusterRole/system:coredns", "ClusterRoleBinding/system:coredns", "Deployment/coredns", "Service/kube-dns"]);
    const svc = objects[4] as { metadata: { labels: Record<string, string> }; spec: { clusterIP: string; ports: { name: string; port: number; protocol: string }[] } };
    assert.equal(svc.metadata.labels["kubernetes.io/cluster-service"], "true");
    assert.equal(svc.spec.clusterIP, "10.43.0.10");
    assert.deepEqual(svc.spec.ports.map((p) => `${p.name} ${p.port}/${p.protocol}`), ["dns 53/UDP", "dns-tcp 53/TCP", "metrics 9153/TCP"]);
    const dep = objects[3] as { spec: { strategy: { rollingUpdate: { maxUnavailable: number; maxSurge: number } }; template: { spec: { dnsPolicy: string; priorityClassName: string; containers: { args: string[]; readinessProbe: { httpGet: { path: string }; periodSeconds: number; initialDelaySeconds: number } }[] } } } };
    assert.deepEqual(dep.spec.strategy.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 }, "a rollout never leaves the cluster without DNS");
    const pod = dep.spec.template.spec;
    assert.equal(pod.dnsPolicy, "Default");
    assert.equal(pod.priorityClassName, "system-cluster-critical");
    assert.equal(pod.containers[0]?.readinessProbe.httpGet.path, "/ready");
    assert.equal(pod.containers[0]?.readinessProbe.periodSeconds, 2, "a DNS that is up is in its Service within 2 s");
    assert.equal(pod.containers[0]?.readinessProbe.initialDelaySeconds, 1, "not probed before it can listen");
    assert.ok(pod.containers[0]?.args.includes("cluster.local"));
  });

  void it("is accepted by the API server, and kubectl cluster-info lists the DNS Service", async () => {
    const list = { apiVersion: "v1", kind: "List", items: objects };
    const created = await api.kubectl(["create", "-f", "-"], { stdin: JSON.stringify(list) });
    assert.equal(created.code, 0, created.stderr);
    const info = await api.kubectl(["cluster-info"]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /CoreDNS is running at .*\/api\/v1\/namespaces\/kube-system\/services\/kube-dns:dns\/proxy/);
    const dep = await api.kubectl(["-n", "kube-system", "get", "deployment", "coredns", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
    assert.equal(dep.stdout, "k8ts.local/dns:test");
  });
});
