import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { EndpointInfo, ServicePortInfo } from "./model.js";
import { staleUdpFlows } from "./conntrack.js";
import { servicePort } from "./testutil.js";

const ep = (ip: string): EndpointInfo => ({ ip, port: 53, ready: true, serving: true, terminating: false, local: true });
const dns = (ips: string[], o: Partial<ServicePortInfo> = {}): ServicePortInfo =>
  servicePort({ namespace: "kube-system", service: "kube-dns", portName: "dns", name: "kube-system/kube-dns:dns", protocol: "UDP", clusterIP: "10.43.0.10", port: 53, endpoints: ips.map(ep), ...o });

describe("stale UDP flows", () => {
  it("clears the flows DNATed to an endpoint that went, on every address of the service", () => {
    assert.deepEqual(staleUdpFlows([dns(["10.244.0.5", "10.244.0.6"], { nodePort: 30053 })], [dns(["10.244.0.6"], { nodePort: 30053 })]), [
      ["-D", "-p", "udp", "--orig-dst", "10.43.0.10", "--dst-nat", "10.244.0.5"],
      ["-D", "-p", "udp", "--dport", "30053", "--dst-nat", "10.244.0.5"],
    ]);
  });

  it("clears a service's flows when it gets its first endpoint, and when the service goes", () => {
    assert.deepEqual(staleUdpFlows([dns([])], [dns(["10.244.0.5"])]), [["-D", "-p", "udp", "--orig-dst", "10.43.0.10"]]);
    assert.deepEqual(staleUdpFlows([], [dns(["10.244.0.5"])]), [["-D", "-p", "udp", "--orig-dst", "10.43.0.10"]]);
    assert.deepEqual(staleUdpFlows([dns(["10.244.0.5"])], []), [["-D", "-p", "udp", "--orig-dst", "10.43.0.10", "--dst-nat", "10.244.0.5"]]);
  });

  it("leaves TCP and unchanged UDP ports alone", () => {
    assert.deepEqual(staleUdpFlows([dns(["10.244.0.5"])], [dns(["10.244.0.5"])]), []);
    assert.deepEqual(staleUdpFlows([dns(["10.244.0.5"], { protocol: "TCP" })], [dns([], { protocol: "TCP" })]), []);
  });
});
