// The Prober driving real probes against a loopback HTTP server whose answers the tests
// switch: thresholds, readiness flipping both ways, liveness and startup restarts, startup
// gating, initial delay, events with upstream's words, graceful deletion; and, on a fake
// clock, first-run jitter, no overlapping runs, and workers stopping with the pod.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import type { Container, Pod, Probe } from "kubernetes-types/core/v1.js";
import { FakeClock, type Clock } from "../../client/clock.js";
import { EventRecorder, type CoreEvent, type EventWriter } from "../../client/events.js";
import { until } from "../../testing/wait.js";
import { createLogger } from "../../util/log.js";
import type { CriClient } from "../cri/client.js";
import { Prober, type ProbeEventSink } from "./index.js";

const log = createLogger("silent");
const noCri: Pick<CriClient, "execSync"> = { execSync: () => Promise.reject(new Error("no exec in these tests")) };
/** a second of periodSeconds / initialDelaySeconds lasts this long in these tests */
const SECOND = 40;

/** A server whose answer per path the test sets; it counts answers by path and status. */
class Answers {
  readonly status = new Map<string, number>();
  readonly served: { path: string; code: number; at: number }[] = [];
  readonly open = new Set<string>();
  readonly hanging: ServerResponse[] = [];
  server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = req.url ?? "/";
      const code = this.status.get(path);
      if (code === undefined) {
        this.open.add(path);
        this.hanging.push(res);
        res.on("close", () => this.open.delete(path));
        return;
      }
      this.served.push({ path, code, at: Date.now() });
      res.writeHead(code).end();
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  count(path: string, code?: number): number {
    return this.served.filter((s) => s.path === path && (code === undefined || s.code === code)).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function httpProbe(path: string, port: number, extra: Partial<Probe> = {}): Probe {
  return { httpGet: { path, port }, periodSeconds: 1, timeoutSeconds: 1, ...extra };
}

function makePod(container: Partial<Container>, extra: { uid?: string; restartPolicy?: "Always" | "Never"; deleting?: boolean } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-1", namespace: "apps", uid: extra.uid ?? "uid-1", resourceVersion: "7", ...(extra.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    spec: { restartPolicy: extra.restartPolicy ?? "Always", containers: [{ name: "web", image: "busybox", ...container }] },
  };
}

interface Harness {
  prober: Prober;
  recorder: EventRecorder;
  /** events as the API would have stored them (creates and count patches) */
  written: CoreEvent[];
  /** what the prober asked to record, with the container's fieldPath */
  calls: { fieldPath: string; type: string; reason: string; message: string }[];
  changes: string[];
}

const harnesses: Harness[] = [];

function harness(o: { clock?: Clock; random?: () => number; secondMs?: number } = {}): Harness {
  const written: CoreEvent[] = [];
  const writer: EventWriter = {
    create: (e) => {
      const stored = { ...e, metadata: { ...e.metadata, resourceVersion: String(written.length + 1) } };
      written.push(stored);
      return Promise.resolve(stored);
    },
    patch: (e, p) => {
      const stored = { ...e, ...(p as Partial<CoreEvent>) };
      written.push(stored);
      return Promise.resolve(stored);
    },
  };
  const recorder = new EventRecorder({ writer, component: "kubelet", host: "node-1", log });
  // The agent hands the prober its EventRecorder as is.
  const _recorderIsASink: ProbeEventSink = recorder;
  const calls: Harness["calls"] = [];
  const events: ProbeEventSink = {
    event: (obj, type, reason, message) => {
      calls.push({ fieldPath: obj.fieldPath, type, reason, message });
      recorder.event(obj, type, reason, message);
    },
  };
  const prober = new Prober({ cri: noCri, events, log, secondMs: o.secondMs ?? SECOND, random: o.random ?? (() => 0), ...(o.clock ? { clock: o.clock } : {}) });
  const changes: string[] = [];
  prober.onChange((uid) => changes.push(uid));
  const h = { prober, recorder, written, calls, changes };
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    h.prober.stop();
    await h.recorder.shutdown();
  }
});

describe("Prober", () => {
  const srv = new Answers();
  before(() => srv.start());
  after(() => srv.stop());

  it("readiness starts false, turns true after successThreshold successes and false after failureThreshold failures", async () => {
    const { prober, calls, written, recorder, changes } = harness();
    srv.status.set("/r1", 500);
    const pod = makePod({ readinessProbe: httpProbe("/r1", srv.port, { successThreshold: 2, failureThreshold: 2 }) });
    prober.syncPod(pod, "127.0.0.1", [{ name: "web", containerId: "c1", startedAt: Date.now() }]);
    assert.equal(prober.isStarted("uid-1", "c1"), true, "no startup probe: started at once");
    assert.equal(prober.isReady("uid-1", "c1"), false, "readiness starts false");

    await until("three failed readiness probes", () => (srv.count("/r1", 500) >= 3 ? true : undefined));
    assert.equal(prober.isReady("uid-1", "c1"), false);
    assert.deepEqual(changes, [], "failing from the start changes nothing");

    srv.status.set("/r1", 200);
    await until("ready", () => (prober.isReady("uid-1", "c1") ? true : undefined));
    assert.ok(srv.count("/r1", 200) >= 2, "needs successThreshold successes");
    assert.deepEqual(changes, ["uid-1"]);

    srv.status.set("/r1", 500);
    const failedBefore = srv.count("/r1", 500);
    await until("not ready again", () => (prober.isReady("uid-1", "c1") ? undefined : true));
    assert.ok(srv.count("/r1", 500) - failedBefore >= 2, "needs failureThreshold failures");
    assert.deepEqual(changes, ["uid-1", "uid-1"]);
    assert.equal(prober.restartReason("uid-1", "c1"), undefined, "readiness never restarts");

    const unhealthy = calls.filter((c) => c.reason === "Unhealthy");
    assert.ok(unhealthy.length >= 5);
    assert.deepEqual(new Set(unhealthy.map((c) => `${c.type} ${c.fieldPath} ${c.message}`)), new Set(["Warning spec.containers{web} Readiness probe failed: HTTP probe failed with statuscode: 500"]));
    await recorder.idle();
    const first = written[0];
    assert.ok(first);
    assert.equal(first.reason, "Unhealthy");
    assert.equal(first.type, "Warning");
    assert.equal(first.message, "Readiness probe failed: HTTP probe failed with statuscode: 500");
    assert.deepEqual([first.involvedObject.kind, first.involvedObject.namespace, first.involvedObject.name, first.involvedObject.uid], ["Pod", "apps", "web-1", "uid-1"]);
    assert.equal(first.metadata.namespace, "apps");
    assert.equal(first.source?.component, "kubelet");
    assert.ok((written.at(-1)?.count ?? 0) >= 2, "repeats are counted on one event");
  });

  it("a container found running after a kubelet restart keeps its posted readiness and start until its probes run; a new container starts unready", async () => {
    const { prober, changes } = harness();
    srv.status.set("/adopt", 500);
    const probes = { startupProbe: httpProbe("/adopt-start", srv.port, { periodSeconds: 1000 }), readinessProbe: httpProbe("/adopt", srv.port, { failureThreshold: 2 }) };
    srv.status.set("/adopt-start", 200);
    const pod: Pod = { ...makePod(probes), status: { containerStatuses: [{ name: "web", containerID: "containerd://c1", ready: true, started: true, restartCount: 0, image: "busybox", imageID: "" }] } };
    // The status the last run posted names this very container: it stays ready and started.
    prober.syncPod(pod, "127.0.0.1", [{ name: "web", containerId: "c1", startedAt: Date.now() - 60_000 }]);
    assert.equal(prober.isStarted("uid-1", "c1"), true);
    assert.equal(prober.isReady("uid-1", "c1"), true);
    assert.equal(srv.count("/adopt-start"), 0, "no startup probe to run again");
    // Until a probe says otherwise, as for any container.
    await until("unready after failureThreshold failures", () => (prober.isReady("uid-1", "c1") ? undefined : true));
    assert.ok(srv.count("/adopt", 500) >= 2);
    assert.deepEqual(changes, ["uid-1"]);

    // A container the status does not name (a restart of it) starts unready and not started.
    prober.syncPod(pod, "127.0.0.1", [{ name: "web", containerId: "c2", startedAt: Date.now() }]);
    assert.equal(prober.isStarted("uid-1", "c2"), false);
    assert.equal(prober.isReady("uid-1", "c2"), false);
  });

  it("liveness failing failureThreshold times asks for a restart and holds until the container is replaced", async () => {
    const { prober, changes } = harness();
    srv.status.set("/l1", 500);
    const pod = makePod({ livenessProbe: httpProbe("/l1", srv.port, { failureThreshold: 3 }) });
    prober.syncPod(pod, "127.0.0.1", [{ name: "web", containerId: "c1", startedAt: Date.now() }]);
    assert.equal(prober.isReady("uid-1", "c1"), true, "no readiness probe: ready once started");

    const reason = await until("restart reason", () => prober.restartReason("uid-1", "c1"));
    assert.equal(reason, "Container web failed liveness probe, will be restarted");
    // On hold after the counted failure: no fourth probe was started.
    assert.equal(srv.count("/l1"), 3);
    assert.deepEqual(changes, ["uid-1"]);

    // Another sync with the same container keeps the answer; the replacement starts afresh.
    prober.syncPod(pod, "127.0.0.1", [{ name: "web", containerId: "c1", startedAt: Date.now() }]);
    assert.equal(prober.restartReason("uid-1", "c1"), reason);
    srv.status.set("/l1", 200);
    prober.syncPod(pod, "127.0.0.1", [{ name: "web", containerId: "c2", startedAt: Date.now() }]);
    assert.equal(prober.restartReason("uid-1", "c1"), undefined, "the old container's answer is gone with it");
    assert.equal(prober.restartReason("uid-1", "c2"), undefined);
    await until("the new container probed", () => (srv.count("/l1", 200) >= 2 ? true : undefined));
    assert.equal(prober.restartReason("uid-1", "c2"), undefined);
  });

  it("a startup probe holds back liveness and readiness until it succeeds; readiness runs at once then", async () => {
    const { prober } = harness();
    srv.status.set("/s1", 500);
    srv.status.set("/s1-live", 200);
    srv.status.set("/s1-ready", 200);
    const pod = makePod({
      startupProbe: httpProbe("/s1", srv.port, { failureThreshold: 1000 }),
      livenessProbe: httpProbe("/s1-live", srv.port),
      readinessProbe: httpProbe("/s1-ready", srv.port, { periodSeconds: 1000 }),
    });
    prober.syncPod(pod, "127.0.0.1", [{ name: "web", containerId: "c1", startedAt: Date.now() }]);
    await until("startup probed a few times", () => (srv.count("/s1") >= 3 ? true : undefined));
    assert.equal(prober.isStarted("uid-1", "c1"), false);
    assert.equal(prober.isReady("uid-1", "c1"), false);
    assert.equal(srv.count("/s1-live") + srv.count("/s1-ready"), 0, "liveness and readiness wait for startup");

    srv.status.set("/s1", 200);
    await until("started", () => (prober.isStarted("uid-1", "c1") ? true : undefined));
    // Readiness's period is 1000 "seconds": only the trigger on startup success can make it ready now.
    await until("ready", () => (prober.isReady("uid-1", "c1") ? true : undefined));
    await until("liveness running", () => (srv.count("/s1-live") >= 1 ? true : undefined));
    const startupProbes = srv.count("/s1");
    await until("liveness keeps running", () => (srv.count("/s1-live") >= 3 ? true : undefined));
    assert.equal(srv.count("/s1"), startupProbes, "startup stops once it has succeeded");
  });

  it("a startup probe failing past its threshold asks for a restart (not under restartPolicy Never)", async () => {
    const { prober } = harness();
    srv.status.set("/s2", 503);
    prober.syncPod(makePod({ startupProbe: httpProbe("/s2", srv.port, { failureThreshold: 2 }) }), "127.0.0.1", [{ name: "web", containerId: "c1", startedAt: Date.now() }]);
    assert.equal(await until("restart reason", () => prober.restartReason("uid-1", "c1")), "Container web failed startup probe, will be restarted");
    assert.equal(prober.isStarted("uid-1", "c1"), false);

    prober.syncPod(makePod({ startupProbe: httpProbe("/s2", srv.port, { failureThreshold: 1 }) }, { uid: "uid-2", restartPolicy: "Never" }), "127.0.0.1", [{ name: "web", containerId: "c9", startedAt: Date.now() }]);
    assert.equal(await until("restart reason", () => prober.restartReason("uid-2", "c9")), "Container web failed startup probe");
  });

  it("waits initialDelaySeconds after the container started", async () => {
    const { prober } = harness();
    srv.status.set("/d1", 200);
    const startedAt = Date.now();
    prober.syncPod(makePod({ readinessProbe: httpProbe("/d1", srv.port, { initialDelaySeconds: 5 }) }), "127.0.0.1", [{ name: "web", containerId: "c1", startedAt }]);
    await until("ready", () => (prober.isReady("uid-1", "c1") ? true : undefined));
    const first = srv.served.find((s) => s.path === "/d1");
    assert.ok(first && first.at - startedAt >= 5 * SECOND, `first probe ${first ? first.at - startedAt : "?"} ms after start`);
  });

  it("a container without probes is started and ready at once; containers it was not told about are neither", () => {
    const { prober } = harness();
    prober.syncPod(makePod({}), "127.0.0.1", [{ name: "web", containerId: "c1", startedAt: Date.now() }]);
    assert.equal(prober.isStarted("uid-1", "c1"), true);
    assert.equal(prober.isReady("uid-1", "c1"), true);
    assert.equal(prober.isReady("uid-1", "other"), false);
    assert.equal(prober.isStarted("uid-x", "c1"), false);
    prober.syncPod(makePod({}), "127.0.0.1", []);
    assert.equal(prober.isReady("uid-1", "c1"), false, "gone with the sync that no longer lists it");
  });

  it("records upstream's words for refused connections, unfollowed redirects and probes that cannot run", async () => {
    const { prober, calls } = harness();
    const closed = createTcpServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    prober.syncPod(
      makePod({ readinessProbe: { tcpSocket: { port: closedPort }, periodSeconds: 1 }, livenessProbe: { httpGet: { port: "metrics" }, periodSeconds: 1 } }),
      "127.0.0.1",
      [{ name: "web", containerId: "c1", startedAt: Date.now() }],
    );
    const refused = `Readiness probe failed: dial tcp 127.0.0.1:${closedPort}: connect: connection refused`;
    const errored = 'Liveness probe errored and resulted in unknown state: strconv.Atoi: parsing "metrics": invalid syntax';
    await until("both events", () => (calls.some((c) => c.message === refused) && calls.some((c) => c.message === errored) ? true : undefined));
    await until("the errored liveness probe counted several times", () => (calls.filter((c) => c.message === errored).length >= 6 ? true : undefined));
    assert.equal(prober.restartReason("uid-1", "c1"), undefined, "an errored probe is not a failure");

    const redirect = createServer((req, res) => res.writeHead(302, { location: `http://localhost:${srv.port}/elsewhere` }).end("see there"));
    await new Promise<void>((r) => redirect.listen(0, "127.0.0.1", r));
    try {
      prober.syncPod(makePod({ readinessProbe: httpProbe("/", (redirect.address() as AddressInfo).port) }, { uid: "uid-3" }), "127.0.0.1", [{ name: "web", containerId: "c3", startedAt: Date.now() }]);
      await until("ready through the redirect", () => (prober.isReady("uid-3", "c3") ? true : undefined));
      assert.ok(calls.some((c) => c.reason === "ProbeWarning" && c.message === "Readiness probe warning: Probe terminated redirects, Response body: see there"));
    } finally {
      prober.removePod("uid-3");
      redirect.closeAllConnections();
      await new Promise<void>((r) => redirect.close(() => r()));
    }
  });

  it("a pod being deleted gets no restart: liveness stops and counts as passed", async () => {
    const { prober, changes } = harness();
    srv.status.set("/g1", 500);
    const pod = makePod({ livenessProbe: httpProbe("/g1", srv.port, { failureThreshold: 1 }) });
    prober.syncPod(pod, "127.0.0.1", [{ name: "web", containerId: "c1", startedAt: Date.now() }]);
    await until("restart reason", () => prober.restartReason("uid-1", "c1"));
    prober.syncPod(makePod({ livenessProbe: httpProbe("/g1", srv.port, { failureThreshold: 1 }) }, { deleting: true }), "127.0.0.1", [{ name: "web", containerId: "c1", startedAt: Date.now() }]);
    assert.equal(prober.restartReason("uid-1", "c1"), undefined);
    assert.deepEqual(changes, ["uid-1", "uid-1"]);
  });
});

describe("Prober timing (fake clock)", () => {
  const srv = new Answers();
  before(() => srv.start());
  after(() => srv.stop());

  it("jitters first runs only just after the kubelet started, and never before initialDelaySeconds", () => {
    const clock = new FakeClock(1_000_000);
    const { prober } = harness({ clock, random: () => 0.5, secondMs: 1000 });
    const probe = httpProbe("/never", srv.port, { periodSeconds: 10 });
    prober.syncPod(makePod({ readinessProbe: probe }), "127.0.0.1", [{ name: "web", containerId: "c1", startedAt: clock.now() }]);
    assert.equal(clock.nextTimerAt(), 1_005_000, "half a period of jitter");
    prober.removePod("uid-1");
    assert.equal(clock.pending, 0, "removePod cancels the timers");

    clock.step(60_000);
    prober.syncPod(makePod({ readinessProbe: probe }), "127.0.0.1", [{ name: "web", containerId: "c2", startedAt: clock.now() }]);
    assert.equal(clock.nextTimerAt(), clock.now(), "long after start: at once");
    prober.removePod("uid-1");

    prober.syncPod(makePod({ readinessProbe: { ...probe, initialDelaySeconds: 30 } }), "127.0.0.1", [{ name: "web", containerId: "c3", startedAt: clock.now() - 5000 }]);
    assert.equal(clock.nextTimerAt(), clock.now() + 25_000, "initialDelaySeconds counts from the container's start");
    prober.stop();
    assert.equal(clock.pending, 0, "stop cancels the timers");
  });

  it("a probe never overlaps itself; removing the pod aborts the run under way", async () => {
    const clock = new FakeClock(0);
    const { prober } = harness({ clock, secondMs: 1000 });
    clock.step(3_600_000);
    // /slow has no answer set: the server holds the request open.
    prober.syncPod(makePod({ readinessProbe: httpProbe("/slow", srv.port, { periodSeconds: 1, timeoutSeconds: 30 }) }), "127.0.0.1", [{ name: "web", containerId: "c1", startedAt: clock.now() }]);
    clock.step(0);
    await until("the first probe under way", () => (srv.open.has("/slow") ? true : undefined));
    assert.equal(clock.pending, 0, "no next run is scheduled while one is under way");
    clock.step(60_000);
    assert.equal(srv.hanging.length, 1, "sixty periods later, still one request");
    prober.removePod("uid-1");
    await until("the request aborted", () => (srv.open.has("/slow") ? undefined : true));
    assert.equal(clock.pending, 0);
    assert.equal(srv.hanging.length, 1);
  });
});
