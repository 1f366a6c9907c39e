import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { openStore } from "../../storage/index.js";
import type { Store } from "../../storage/interface.js";
import { IPAllocator, PortAllocator, ipAddressKeys, nodePortKeys, IP_ADDRESS_PREFIX } from "./allocator.js";
import { serviceRef } from "./keys.js";
import { AllocatorError, PortRange, ServiceCIDR, parseIP } from "./ranges.js";

const web = serviceRef("default", "web");
const other = serviceRef("default", "other");

async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
  const store = await openStore("memory://");
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

const code = (c: string) => (e: unknown) => e instanceof AllocatorError && e.code === c;

void describe("IPAllocator", () => {
  void it("takes a requested address once, refuses one outside the range, with upstream's messages", () =>
    withStore(async (store) => {
      const ips = new IPAllocator(ServiceCIDR.parse("10.43.0.0/16"), ipAddressKeys(store));
      await ips.allocate("10.43.0.5", web);
      await assert.rejects(ips.allocate("10.43.0.5", other), (e: unknown) => code("Allocated")(e) && (e as Error).message === "provided IP is already allocated");
      await assert.rejects(ips.allocate("10.44.0.5", web), { message: "the provided IP (10.44.0.5) is not in the valid range. The range of valid IPs is 10.43.0.0/16" });
      // The network and broadcast addresses are not allocatable.
      await assert.rejects(ips.allocate("10.43.0.0", web), code("NotInRange"));
      await assert.rejects(ips.allocate("10.43.255.255", web), code("NotInRange"));
      const { kv } = await store.get(IP_ADDRESS_PREFIX + "10.43.0.5");
      const rec = JSON.parse(new TextDecoder().decode(kv!.value)) as Record<string, unknown>;
      assert.equal(rec["kind"], "IPAddress");
      assert.deepEqual((rec["spec"] as { parentRef: unknown }).parentRef, { group: "", resource: "services", namespace: "default", name: "web" });
    }));

  void it("draws from the upper band until it is full, then from the lower band, then reports the range full", () =>
    withStore(async (store) => {
      // 10.0.0.0/27: 30 addresses, the first 16 (10.0.0.1-16) are the static band.
      const ips = new IPAllocator(ServiceCIDR.parse("10.0.0.0/27"), ipAddressKeys(store));
      const got: number[] = [];
      for (let i = 0; i < 30; i++) got.push(Number(parseIP(await ips.allocateNext(web))!.value & 0xffn));
      assert.deepEqual(
        got.slice(0, 14).sort((a, b) => a - b),
        Array.from({ length: 14 }, (_, i) => 17 + i),
        "the 14 upper addresses come first",
      );
      assert.deepEqual(
        got.slice(14).sort((a, b) => a - b),
        Array.from({ length: 16 }, (_, i) => 1 + i),
      );
      await assert.rejects(ips.allocateNext(web), (e: unknown) => code("Full")(e) && (e as Error).message === "range is full");
      assert.equal(await ips.release("10.0.0.9", other), false, "only the holder releases");
      assert.equal(await ips.release("10.0.0.9", web), true);
      assert.equal(await ips.allocateNext(web), "10.0.0.9");
    }));

  void it("never hands one address to two API servers allocating at once on one store", () =>
    withStore(async (store) => {
      const cidr = ServiceCIDR.parse("10.0.0.0/26"); // 62 addresses
      const a = new IPAllocator(cidr, ipAddressKeys(store));
      const b = new IPAllocator(cidr, ipAddressKeys(store));
      const results = await Promise.allSettled(Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? a : b).allocateNext(serviceRef("ns", `s${i}`))));
      const ok = results.filter((r): r is PromiseFulfilledResult<string> => r.status === "fulfilled").map((r) => r.value);
      assert.equal(ok.length, 62);
      assert.equal(new Set(ok).size, 62, "no address given twice");
      for (const r of results) if (r.status === "rejected") assert.ok(code("Full")(r.reason));
      assert.equal((await store.count(IP_ADDRESS_PREFIX)).count, 62);
    }));

  void it("checks without taking on a dry run", () =>
    withStore(async (store) => {
      const ips = new IPAllocator(ServiceCIDR.parse("10.43.0.0/16"), ipAddressKeys(store));
      await ips.allocate("10.43.0.5", web, true);
      const next = await ips.allocateNext(web, true);
      assert.ok(ips.contains(next));
      assert.equal((await store.count(IP_ADDRESS_PREFIX)).count, 0);
      await ips.allocate("10.43.0.5", web);
      await assert.rejects(ips.allocate("10.43.0.5", web, true), code("Allocated"));
    }));

  void it("keys IPv6 addresses by their canonical text", () =>
    withStore(async (store) => {
      const ips = new IPAllocator(ServiceCIDR.parse("fd00:43::/112"), ipAddressKeys(store));
      await ips.allocate("fd00:43:0:0:0:0:0:a", web);
      await assert.rejects(ips.allocate("fd00:43::a", other), code("Allocated"));
      assert.ok((await store.get(IP_ADDRESS_PREFIX + "fd00:43::a")).kv);
    }));
});

void describe("PortAllocator", () => {
  void it("prefers the upper band, honours requests, and reports upstream's messages", () =>
    withStore(async (store) => {
      const range = PortRange.parse("30000-30099"); // band of 16: 30000-30015
      const ports = new PortAllocator(range, nodePortKeys(store));
      await ports.allocate(30005, web);
      await assert.rejects(ports.allocate(30005, other), { message: "provided port is already allocated" });
      await assert.rejects(ports.allocate(40000, web), { message: "provided port is not in the valid range. The range of valid ports is 30000-30099" });
      const upper: number[] = [];
      for (let i = 0; i < 84; i++) upper.push(await ports.allocateNext(web));
      assert.ok(upper.every((p) => p >= 30016), "the dynamic band is used first");
      const lower: number[] = [];
      for (let i = 0; i < 15; i++) lower.push(await ports.allocateNext(web));
      assert.deepEqual(lower.sort((x, y) => x - y), [30000, 30001, 30002, 30003, 30004, ...Array.from({ length: 10 }, (_, i) => 30006 + i)]);
      await assert.rejects(ports.allocateNext(web), { message: "range is full" });
      assert.equal(await ports.allocateNext(web, true).catch((e: unknown) => (e as Error).message), "range is full");
    }));

  void it("gives distinct ports to one dry run asking several times", () =>
    withStore(async (store) => {
      const ports = new PortAllocator(PortRange.parse("30000-30001"), nodePortKeys(store));
      const seen = new Set<number>();
      seen.add(await ports.allocateNext(web, true, seen));
      seen.add(await ports.allocateNext(web, true, seen));
      assert.deepEqual([...seen].sort(), [30000, 30001]);
      await assert.rejects(ports.allocateNext(web, true, seen), code("Full"));
    }));
});
