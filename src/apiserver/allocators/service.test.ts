import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { openStore } from "../../storage/index.js";
import type { Store } from "../../storage/interface.js";
import { createLogger } from "../../util/log.js";
import type { KubeObject } from "../registry/types.js";
import { StatusError } from "../status.js";
import { IP_ADDRESS_PREFIX, NODE_PORT_PREFIX } from "./allocator.js";
import { PortRange, ServiceCIDR, parseServiceCIDRs } from "./ranges.js";
import { ServiceAllocator, type ServiceSpecFields } from "./service.js";

const log = createLogger("silent");

async function withAllocator(fn: (a: ServiceAllocator, store: Store) => Promise<void>, cidrs = "10.43.0.0/16", ports = "30000-32767"): Promise<void> {
  const store = await openStore("memory://");
  try {
    await fn(new ServiceAllocator({ store, serviceCIDRs: parseServiceCIDRs(cidrs), nodePortRange: PortRange.parse(ports), log }), store);
  } finally {
    await store.close();
  }
}

function svc(name: string, spec: ServiceSpecFields): KubeObject {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { ipFamilyPolicy: "SingleStack", ipFamilies: ["IPv4"], ...spec } };
}

const spec = (o: KubeObject): ServiceSpecFields => o["spec"] as ServiceSpecFields;
const keys = async (store: Store, prefix: string): Promise<string[]> => (await store.list(prefix)).kvs.map((kv) => kv.key.slice(prefix.length)).sort();

/** The 422 a failed allocation answers, as kubectl prints its cause. */
function invalidWith(text: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof StatusError, String(e));
    assert.equal(e.code, 422);
    assert.equal(e.status.message, `Service "${e.status.details?.name ?? ""}" is invalid: ${text}`);
    return true;
  };
}

void describe("ServiceAllocator on create", () => {
  void it("gives a ClusterIP service an address from the range and records who holds it", () =>
    withAllocator(async (a, store) => {
      const s = svc("web", { type: "ClusterIP", ports: [{ port: 80, protocol: "TCP" }] });
      const txn = await a.allocateCreate(s, false);
      await txn.finish(true);
      const ip = spec(s).clusterIP!;
      assert.ok(ServiceCIDR.parse("10.43.0.0/16").contains(BigInt(ip.split(".").reduce((v, o) => v * 256 + Number(o), 0))), ip);
      assert.deepEqual(spec(s).clusterIPs, [ip]);
      assert.deepEqual(await keys(store, IP_ADDRESS_PREFIX), [ip]);
      assert.deepEqual(await keys(store, NODE_PORT_PREFIX), []);
    }));

  void it("allocates nothing for headless and ExternalName services", () =>
    withAllocator(async (a, store) => {
      await (await a.allocateCreate(svc("h", { type: "ClusterIP", clusterIP: "None", clusterIPs: ["None"] }), false)).finish(true);
      await (await a.allocateCreate({ metadata: { name: "x", namespace: "default" }, spec: { type: "ExternalName", externalName: "example.com" } }, false)).finish(true);
      assert.equal((await store.count("/registry/")).count, 0);
    }));

  void it("shares one node port between the protocols of a port number and honours requested ones", () =>
    withAllocator(async (a, store) => {
      const s = svc("dns", {
        type: "NodePort",
        ports: [
          { name: "dns", port: 53, protocol: "UDP" },
          { name: "dns-tcp", port: 53, protocol: "TCP" },
          { name: "web", port: 80, protocol: "TCP", nodePort: 30080 },
        ],
      });
      await (await a.allocateCreate(s, false)).finish(true);
      const [udp, tcp, web] = spec(s).ports!;
      assert.equal(udp!.nodePort, tcp!.nodePort);
      assert.ok(udp!.nodePort! >= 30086, "dynamic ports come from above the static band");
      assert.equal(web!.nodePort, 30080);
      assert.deepEqual(await keys(store, NODE_PORT_PREFIX), [String(udp!.nodePort), "30080"].sort());
    }));

  void it("answers a taken address or port with upstream's 422 and gives back what it took before", () =>
    withAllocator(async (a, store) => {
      await (await a.allocateCreate(svc("one", { type: "NodePort", clusterIP: "10.43.0.5", clusterIPs: ["10.43.0.5"], ports: [{ port: 80, nodePort: 30080 }] }), false)).finish(true);
      await assert.rejects(
        a.allocateCreate(svc("two", { type: "ClusterIP", clusterIP: "10.43.0.5", clusterIPs: ["10.43.0.5"], ports: [{ port: 80 }] }), false),
        invalidWith('spec.clusterIPs: Invalid value: []string{"10.43.0.5"}: failed to allocate IP 10.43.0.5: provided IP is already allocated'),
      );
      await assert.rejects(
        a.allocateCreate(svc("three", { type: "NodePort", ports: [{ name: "a", port: 81 }, { name: "b", port: 82, nodePort: 30080 }] }), false),
        invalidWith("spec.ports[1].nodePort: Invalid value: 30080: provided port is already allocated"),
      );
      await assert.rejects(
        a.allocateCreate(svc("four", { type: "NodePort", ports: [{ port: 80, nodePort: 40000 }] }), false),
        invalidWith("spec.ports[0].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767"),
      );
      // Only "one" holds anything: the cluster IP and port 81's node port of "three" were given back.
      assert.deepEqual(await keys(store, IP_ADDRESS_PREFIX), ["10.43.0.5"]);
      assert.deepEqual(await keys(store, NODE_PORT_PREFIX), ["30080"]);
    }));

  void it("gives back everything when the write does not land", () =>
    withAllocator(async (a, store) => {
      const txn = await a.allocateCreate(svc("lb", { type: "LoadBalancer", externalTrafficPolicy: "Local", ports: [{ port: 80 }] }), false);
      assert.equal((await store.count("/registry/")).count, 3, "cluster IP, node port, health-check node port");
      await txn.finish(false);
      assert.equal((await store.count("/registry/")).count, 0);
    }));

  void it("reports a full range as a 422 on the field", () =>
    withAllocator(
      async (a) => {
        for (let i = 0; i < 14; i++) await (await a.allocateCreate(svc(`s${i}`, { type: "ClusterIP", ports: [{ port: 80 }] }), false)).finish(true);
        await assert.rejects(a.allocateCreate(svc("late", { type: "ClusterIP", ports: [{ port: 80 }] }), false), invalidWith("spec.clusterIPs: Invalid value: failed to allocate a serviceIP: range is full"));
      },
      "10.0.0.0/28",
    ));

  void it("refuses families the cluster has no range for, and completes dual-stack requests when it has both", async () => {
    await withAllocator(async (a) => {
      await assert.rejects(a.allocateCreate(svc("v6", { type: "ClusterIP", ipFamilies: ["IPv6"], ports: [{ port: 80 }] }), false), invalidWith('spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster'));
      await assert.rejects(
        a.allocateCreate(svc("ds", { type: "ClusterIP", ipFamilyPolicy: "RequireDualStack", ports: [{ port: 80 }] }), false),
        invalidWith('spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services'),
      );
    });
    await withAllocator(
      async (a) => {
        const s = svc("ds", { type: "ClusterIP", ipFamilyPolicy: "PreferDualStack", ports: [{ port: 80 }] });
        await (await a.allocateCreate(s, false)).finish(true);
        assert.deepEqual(spec(s).ipFamilies, ["IPv4", "IPv6"]);
        assert.match(spec(s).clusterIPs![0]!, /^10\.43\./);
        assert.match(spec(s).clusterIPs![1]!, /^fd00:43::/);
      },
      "10.43.0.0/16,fd00:43::/112",
    );
  });

  void it("takes nothing on a dry run but still fills the fields", () =>
    withAllocator(async (a, store) => {
      const s = svc("np", { type: "NodePort", ports: [{ name: "a", port: 80 }, { name: "b", port: 81 }] });
      await (await a.allocateCreate(s, true)).finish(true);
      assert.ok(spec(s).clusterIP);
      const [p1, p2] = spec(s).ports!;
      assert.ok(p1!.nodePort && p2!.nodePort && p1!.nodePort !== p2!.nodePort);
      assert.equal((await store.count("/registry/")).count, 0);
    }));
});

void describe("ServiceAllocator on update and delete", () => {
  async function created(a: ServiceAllocator, s: KubeObject): Promise<KubeObject> {
    await (await a.allocateCreate(s, false)).finish(true);
    return structuredClone(s);
  }

  void it("releases node ports when a NodePort service becomes ClusterIP, only once the write lands", () =>
    withAllocator(async (a, store) => {
      const old = await created(a, svc("web", { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] }));
      const next = structuredClone(old);
      spec(next).type = "ClusterIP";
      delete spec(next).ports![0]!.nodePort;
      const failed = await a.allocateUpdate(next, old, false);
      await failed.finish(false);
      assert.deepEqual(await keys(store, NODE_PORT_PREFIX), ["30080"], "a failed write keeps the port");
      await (await a.allocateUpdate(structuredClone(next), old, false)).finish(true);
      assert.deepEqual(await keys(store, NODE_PORT_PREFIX), []);
      assert.equal((await keys(store, IP_ADDRESS_PREFIX)).length, 1, "the cluster IP stays");
    }));

  void it("allocates for a ClusterIP service turned NodePort, and swaps a changed requested port", () =>
    withAllocator(async (a, store) => {
      const old = await created(a, svc("web", { type: "ClusterIP", ports: [{ port: 80 }] }));
      const np = structuredClone(old);
      spec(np).type = "NodePort";
      await (await a.allocateUpdate(np, old, false)).finish(true);
      const first = spec(np).ports![0]!.nodePort!;
      assert.deepEqual(await keys(store, NODE_PORT_PREFIX), [String(first)]);
      const moved = structuredClone(np);
      spec(moved).ports![0]!.nodePort = 30099;
      await (await a.allocateUpdate(moved, np, false)).finish(true);
      assert.deepEqual(await keys(store, NODE_PORT_PREFIX), ["30099"]);
    }));

  void it("gives an ExternalName service turned ClusterIP an address, and releases it on the way back", () =>
    withAllocator(async (a, store) => {
      const ext: KubeObject = { metadata: { name: "x", namespace: "default" }, spec: { type: "ExternalName", externalName: "example.com" } };
      const cip = structuredClone(ext);
      spec(cip).type = "ClusterIP";
      spec(cip).ports = [{ port: 80 }];
      await (await a.allocateUpdate(cip, ext, false)).finish(true);
      assert.deepEqual(await keys(store, IP_ADDRESS_PREFIX), [spec(cip).clusterIP!]);
      const back = structuredClone(ext);
      await (await a.allocateUpdate(back, cip, false)).finish(true);
      assert.deepEqual(await keys(store, IP_ADDRESS_PREFIX), []);
    }));

  void it("refuses to move the health-check node port of a Local LoadBalancer", () =>
    withAllocator(async (a) => {
      const old = await created(a, svc("lb", { type: "LoadBalancer", externalTrafficPolicy: "Local", ports: [{ port: 80 }] }));
      const next = structuredClone(old);
      spec(next).healthCheckNodePort = (spec(old).healthCheckNodePort ?? 0) === 32000 ? 32001 : 32000;
      await assert.rejects(a.allocateUpdate(next, old, false), invalidWith(`spec.healthCheckNodePort: Invalid value: ${spec(next).healthCheckNodePort}: cannot change healthCheckNodePort on loadBalancer service with externalTraffic=Local during update`));
    }));

  void it("releases what a deleted service held, and nothing it does not hold", () =>
    withAllocator(async (a, store) => {
      const one = await created(a, svc("one", { type: "NodePort", ports: [{ port: 80 }] }));
      await created(a, svc("two", { type: "ClusterIP", clusterIP: "10.43.0.9", clusterIPs: ["10.43.0.9"], ports: [{ port: 80 }] }));
      // A service claiming another's address (as a corrupt store could hold) does not free it.
      await a.releaseAll(svc("imposter", { type: "ClusterIP", clusterIP: "10.43.0.9", clusterIPs: ["10.43.0.9"] }));
      await a.releaseAll(one);
      assert.deepEqual(await keys(store, IP_ADDRESS_PREFIX), ["10.43.0.9"]);
      assert.deepEqual(await keys(store, NODE_PORT_PREFIX), []);
    }));
});
