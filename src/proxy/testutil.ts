// A ServicePortInfo for the proxy's unit tests: one TCP port 80 of ns/s on 10.43.0.1 with no
// endpoints, overridden field by field, so a field added to the model is defaulted in one place.
import type { ServicePortInfo } from "./model.js";

export function servicePort(o: Partial<ServicePortInfo> = {}): ServicePortInfo {
  return {
    namespace: "ns",
    service: "s",
    portName: "",
    name: "ns/s",
    protocol: "TCP",
    clusterIP: "10.43.0.1",
    port: 80,
    nodePort: 0,
    externalIPs: [],
    loadBalancerIPs: [],
    affinitySeconds: undefined,
    externalPolicyLocal: false,
    internalPolicyLocal: false,
    endpoints: [],
    ...o,
  };
}
