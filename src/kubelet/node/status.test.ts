import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { NodeCondition } from "kubernetes-types/core/v1.js";
import { parseDefaultRouteInterface, parseMeminfo, parseOsRelease, uuidOf } from "./host.js";
import { allocatableOf, capacityOf, computeConditions, desiredStatus, imagesOf, PRESSURE_TRANSITION_MS, PressureTracker, stampHeartbeats, statusChanged, thresholdsMet, type StatusInput } from "./status.js";

const Mi = 1024 * 1024;
const none = { memory: false, disk: false, pid: false };
const ready = { ready: true, reason: "KubeletReady", message: "" };

void describe("node resources", () => {
  const r = { cpu: 2, memoryBytes: 16_786_522_112, ephemeralStorageBytes: 103_865_303_040, pods: 110, hugepages: new Map([["hugepages-2Mi", 0], ["hugepages-1Gi", 0]]) };
  void it("capacity as the machine has it, in canonical quantities", () => {
    assert.deepEqual(capacityOf(r), { cpu: "2", "ephemeral-storage": "101430960Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", memory: "16393088Ki", pods: "110" });
  });
  void it("allocatable less the hard eviction thresholds and hugepages", () => {
    const a = allocatableOf({ ...r, hugepages: new Map([["hugepages-2Mi", 64 * Mi]]) });
    assert.equal(a["memory"], "16225152Ki");
    assert.equal(a["ephemeral-storage"], "91287864Ki");
    assert.equal(allocatableOf({ ...r, ephemeralStorageBytes: 1000 })["ephemeral-storage"], "900");
    assert.equal(a["cpu"], "2");
    assert.equal(allocatableOf({ ...r, memoryBytes: 50 * Mi })["memory"], "0");
  });
});

void describe("node conditions", () => {
  const t0 = "2026-01-01T00:00:00Z";
  const t1 = "2026-01-01T00:00:10Z";
  void it("first report: pressure events for each condition, none for Ready", () => {
    const { conditions, events } = computeConditions(undefined, none, ready, t0);
    assert.deepEqual(conditions.map((c) => [c.type, c.status, c.reason]), [
      ["MemoryPressure", "False", "KubeletHasSufficientMemory"],
      ["DiskPressure", "False", "KubeletHasNoDiskPressure"],
      ["PIDPressure", "False", "KubeletHasSufficientPID"],
      ["Ready", "True", "KubeletReady"],
    ]);
    assert.deepEqual(events, ["NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID"]);
    assert.ok(conditions.every((c) => c.lastTransitionTime === t0));
  });
  void it("a change moves lastTransitionTime and is an event; no change keeps both", () => {
    const first = computeConditions(undefined, none, ready, t0).conditions;
    const same = computeConditions(first, none, ready, t1);
    assert.deepEqual(same.events, []);
    assert.ok(same.conditions.every((c) => c.lastTransitionTime === t0 && c.lastHeartbeatTime === t0));
    const down = computeConditions(first, { ...none, memory: true }, { ready: false, reason: "KubeletNotReady", message: "cni plugin not initialized" }, t1);
    assert.deepEqual(down.events, ["NodeHasInsufficientMemory", "NodeNotReady"]);
    const byType = (cs: NodeCondition[], t: string) => cs.find((c) => c.type === t)!;
    assert.deepEqual([byType(down.conditions, "MemoryPressure").status, byType(down.conditions, "MemoryPressure").reason, byType(down.conditions, "MemoryPressure").lastTransitionTime], ["True", "KubeletHasInsufficientMemory", t1]);
    assert.deepEqual([byType(down.conditions, "Ready").reason, byType(down.conditions, "Ready").message], ["KubeletNotReady", "cni plugin not initialized"]);
    assert.equal(byType(down.conditions, "DiskPressure").lastTransitionTime, t0);
    // Unknown (set by the node lifecycle controller) back to True is a NodeReady event.
    const unknown = first.map((c) => (c.type === "Ready" ? { ...c, status: "Unknown", reason: "NodeStatusUnknown" } : c));
    assert.deepEqual(computeConditions(unknown, none, ready, t1).events, ["NodeReady"]);
  });
  void it("thresholds as upstream's eviction defaults, held for the transition period", () => {
    const s = { memoryAvailableBytes: 200 * Mi, nodefsAvailableBytes: 50, nodefsCapacityBytes: 100, nodefsInodesFree: 50, nodefsInodes: 100 };
    assert.deepEqual(thresholdsMet(s), none);
    assert.equal(thresholdsMet({ ...s, memoryAvailableBytes: 99 * Mi }).memory, true);
    assert.equal(thresholdsMet({ ...s, nodefsAvailableBytes: 9 }).disk, true);
    assert.equal(thresholdsMet({ ...s, nodefsInodesFree: 4 }).disk, true);
    const p = new PressureTracker();
    assert.equal(p.observe({ ...none, memory: true }, 0).memory, true);
    assert.equal(p.observe(none, PRESSURE_TRANSITION_MS - 1).memory, true);
    assert.equal(p.observe(none, PRESSURE_TRANSITION_MS).memory, false);
  });
});

void describe("status changes", () => {
  const input: StatusInput = {
    resources: { cpu: 2, memoryBytes: 1024 * Mi, ephemeralStorageBytes: 10 * 1024 * Mi, pods: 110, hugepages: new Map() },
    addresses: [{ type: "InternalIP", address: "10.0.0.1" }, { type: "Hostname", address: "n" }],
    nodeInfo: { machineID: "m", systemUUID: "s", bootID: "b", kernelVersion: "k", osImage: "o", containerRuntimeVersion: "containerd://1.6", kubeletVersion: "v", kubeProxyVersion: "v", operatingSystem: "linux", architecture: "amd64" },
    images: [],
    kubeletPort: 10250,
    pressure: none,
    readiness: ready,
  };
  void it("heartbeats alone, and what others own, are no change", () => {
    const posted = stampHeartbeats(desiredStatus(undefined, input, "2026-01-01T00:00:00Z").status, "2026-01-01T00:00:00Z");
    const later = desiredStatus(posted, input, "2026-01-01T00:05:00Z").status;
    assert.equal(statusChanged(posted, stampHeartbeats(later, "2026-01-01T00:05:00Z")), false);
    const withOthers = { ...posted, capacity: { ...posted.capacity, "example.com/gpu": "1" }, addresses: [...posted.addresses!, { type: "ExternalIP", address: "1.2.3.4" }], conditions: [...posted.conditions!, { type: "NetworkUnavailable", status: "False" }] };
    assert.equal(statusChanged(withOthers, later), false);
    assert.equal(statusChanged(posted, desiredStatus(posted, { ...input, readiness: { ready: false, reason: "", message: "x" } }, "2026-01-01T00:05:00Z").status), true);
    assert.equal(statusChanged(posted, desiredStatus(posted, { ...input, addresses: [{ type: "InternalIP", address: "10.0.0.2" }] }, "2026-01-01T00:05:00Z").status), true);
    assert.equal(statusChanged(undefined, later), true);
  });
  void it("images biggest first, digests then tags, at most 5 names and 50 images", () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ repoTags: [`t${i}`], repoDigests: [], size: i }));
    const out = imagesOf([{ repoTags: ["a:1", "a:2", "a:3", "a:4"], repoDigests: ["a@sha256:1", "a@sha256:2"], size: "1000" }, ...many]);
    assert.equal(out.length, 50);
    assert.deepEqual(out[0], { names: ["a@sha256:1", "a@sha256:2", "a:1", "a:2", "a:3"], sizeBytes: 1000 });
    assert.deepEqual(out[1]?.names, ["t59"]);
  });
});

void describe("host facts", () => {
  void it("parse meminfo, os-release and the route table", () => {
    assert.deepEqual(parseMeminfo("MemTotal:       16393088 kB\nMemFree:  100 kB\nMemAvailable:   8000000 kB\n"), { totalBytes: 16393088 * 1024, availableBytes: 8000000 * 1024 });
    assert.deepEqual(parseMeminfo("MemTotal: 10 kB\nMemFree: 1 kB\nBuffers: 2 kB\nCached: 3 kB\n"), { totalBytes: 10240, availableBytes: 6144 });
    assert.equal(parseOsRelease('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'), "Debian GNU/Linux 12 (bookworm)");
    assert.equal(parseOsRelease("PRETTY_NAME=Alpine\\ Linux\n"), "Alpine\\ Linux");
    assert.equal(parseOsRelease("NAME=x\n"), "Linux");
    const route = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n" + "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n" + "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" + "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
    assert.equal(parseDefaultRouteInterface(route), "eth0");
    assert.equal(parseDefaultRouteInterface("Iface\tDestination\n"), undefined);
    assert.equal(uuidOf("3d1219c7c4c5404aaa1f6d2a48adfda4"), "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4");
  });
});
