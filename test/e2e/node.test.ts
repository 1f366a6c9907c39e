// End-to-end on a real node: `k8ts server` with its embedded agent (containerd + runc + CNI),
// driven by the official kubectl as a user would.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.js";
import { startTestCluster, type TestCluster } from "../../src/testing/cluster.js";
import { runtimeSkipReason } from "../../src/testing/runtime.js";
import { until } from "../../src/testing/wait.js";
import { freePort } from "../../src/testing/net.js";
import { httpGet } from "../../src/testing/http.js";
import { CriClient } from "../../src/kubelet/cri/client.js";
import { LABEL_POD_UID } from "../../src/kubelet/types.js";

const skip = runtimeSkipReason();

describe("a real node", { skip, timeout: 600_000 }, () => {
  let c: TestCluster;
  const ns = "default";

  const pod = async (name: string): Promise<Pod> => (await c.client.forKind("v1", "Pod").namespace(ns).get(name)) as Pod;
  const running = (name: string): Promise<Pod> =>
    until(`${name} running`, async () => {
      const p = await pod(name);
      return p.status?.phase === "Running" ? p : undefined;
    }, 60_000, 100);
  const apply = async (yaml: string): Promise<void> => {
    const r = await c.kubectl(["apply", "-f", "-"], { stdin: yaml });
    assert.equal(r.code, 0, r.stderr);
  };
  const podOf = async (selector: string): Promise<Pod> =>
    until(`a running pod for ${selector}`, async () => {
      const list = (await c.client.forKind("v1", "Pod").namespace(ns).list({ labelSelector: selector })).items as Pod[];
      return list.find((p) => p.status?.phase === "Running" && p.status.podIP && !p.metadata?.deletionTimestamp && p.status.conditions?.some((x) => x.type === "Ready" && x.status === "True"));
    }, 90_000, 200);

  before(async () => {
    c = await startTestCluster({ staticPods: true });
  });
  after(async () => {
    if (process.env["K8TS_TEST_KEEP"]) return;
    await c?.stop();
  });

  it("runs a deployment whose pods answer on their IP from the host", async () => {
    const r = await c.kubectl(["create", "deployment", "web", "--image=busybox:1.35", "--", "sh", "-c", "echo hello from $(hostname) > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"]);
    assert.equal(r.code, 0, r.stderr);
    const p = await podOf("app=web");
    const res = await until("httpd answering", () => httpGet(`http://${p.status!.podIP}:8080/index.html`), 30_000, 100);
    assert.equal(res.status, 200);
    assert.equal(res.body.trim(), `hello from ${p.metadata!.name}`);
    const wide = await c.kubectl(["get", "pods", "-o", "wide"]);
    assert.match(wide.stdout, new RegExp(`${p.metadata!.name}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${p.status!.podIP!.replace(/\./g, "\\.")}\\s+${c.nodeName}`));
    const ready = p.status?.conditions?.find((x) => x.type === "Ready");
    assert.equal(ready?.status, "True");
    assert.match(p.status!.containerStatuses![0]!.containerID!, /^containerd:\/\//);
  });

  it("serves logs, exec, exec with stdin, cp and port-forward", async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:1.35
    command: ["sh", "-c", "echo started; echo serving > /tmp/index.html; httpd -p 8081 -h /tmp; i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done"]
`);
    await running("talker");
    const logs = await until("logs", async () => {
      const r = await c.kubectl(["logs", "talker"]);
      return r.code === 0 && r.stdout.includes("line 2") ? r.stdout : undefined;
    }, 30_000, 200);
    assert.match(logs, /^started\n/);
    const tail = await c.kubectl(["logs", "talker", "--tail=1"]);
    assert.equal(tail.code, 0, tail.stderr);
    assert.equal(tail.stdout.trim().split("\n").length, 1);

    const host = await c.kubectl(["exec", "talker", "--", "cat", "/etc/hostname"]);
    assert.equal(host.code, 0, host.stderr);
    assert.equal(host.stdout.trim(), "talker");
    const stdin = await c.kubectl(["exec", "-i", "talker", "--", "sh", "-c", "tr a-z A-Z"], { stdin: "shout\n" });
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.equal(stdin.stdout, "SHOUT\n");
    const code = await c.kubectl(["exec", "talker", "--", "sh", "-c", "exit 3"]);
    assert.equal(code.code, 3);

    const dir = mkdtempSync(join(tmpdir(), "k8ts-cp-"));
    try {
      writeFileSync(join(dir, "in.txt"), "copied in\n");
      const cpIn = await c.kubectl(["cp", join(dir, "in.txt"), "talker:/tmp/in.txt"]);
      assert.equal(cpIn.code, 0, cpIn.stderr);
      const cpOut = await c.kubectl(["cp", "talker:/tmp/in.txt", join(dir, "out.txt")]);
      assert.equal(cpOut.code, 0, cpOut.stderr);
      assert.equal(readFileSync(join(dir, "out.txt"), "utf8"), "copied in\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const local = await freePort();
    const pf = c.kubectlProcess(["port-forward", "pod/talker", `${local}:8081`]);
    try {
      const res = await until("port-forward answering", () => httpGet(`http://127.0.0.1:${local}/index.html`), 30_000, 200);
      assert.equal(res.body.trim(), "serving");
    } finally {
      pf.kill("SIGTERM");
    }
  });

  it("debugs a running pod with kubectl debug: an ephemeral container sharing the target's processes, attached", async () => {
    // restartPolicy Always: the debugger that exits below is still never restarted, so it has no previous logs.
    const run = await c.kubectl(["run", "debuggee", "--image=busybox:1.35", "--", "sleep", "3600"]);
    assert.equal(run.code, 0, run.stderr);
    await running("debuggee");
    // Not attached: the debugger runs in the target's process namespace and exits.
    const made = await c.kubectl(["debug", "debuggee", "--image=busybox:1.35", "--target=debuggee", "--container=looker", "--profile=general", "--", "ps", "-o", "pid,args"]);
    assert.equal(made.code, 0, made.stderr);
    const done = await until("the debugger terminated", async () => {
      const s = (await pod("debuggee")).status?.ephemeralContainerStatuses?.find((x) => x.name === "looker");
      return s?.state?.terminated;
    }, 60_000, 200);
    assert.equal(done.exitCode, 0);
    const logs = await c.kubectl(["logs", "debuggee", "-c", "looker"]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /sleep 3600/, "the debugger sees the target's process");
    const previous = await c.kubectl(["logs", "--previous", "debuggee", "-c", "looker"]);
    assert.notEqual(previous.code, 0);
    assert.match(previous.stderr, /previous terminated container "looker" in pod "debuggee" not found/);

    // Attached, as a user debugs: stdin reaches the debugger and its output comes back. Lines
    // are typed until one is answered: containerd starts copying an attaching client's stdin
    // before it hands that client the output, so the answer to a line that arrives first can
    // go nowhere (a user sees the prompt kubectl prints for it and presses enter). Stdin stays
    // open until the answer is in: kubectl debug makes no stdinOnce container, and containerd
    // stops sending output to a client whose stdin ended (as with upstream's kubelet).
    const attached = c.kubectlProcess(["debug", "-i", "debuggee", "--image=busybox:1.35", "--container=talker", "--profile=general", "--", "sh", "-c", "while read line; do echo debugger got $line; done"], { pipe: true });
    try {
      let out = "";
      let err = "";
      attached.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      attached.stderr!.on("data", (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => attached.once("exit", resolve));
      await until(
        "the debugger's answer",
        async () => {
          if (out.includes("debugger got hello")) return true;
          attached.stdin!.write("hello\n");
          return undefined;
        },
        60_000,
        250,
      ).catch(async (e: unknown) => {
        const st = (await pod("debuggee")).status?.ephemeralContainerStatuses;
        throw new Error(`${String(e)}\nkubectl stdout: ${out}\nkubectl stderr: ${err}\nstatuses: ${JSON.stringify(st)}`);
      });
      attached.stdin!.end();
      assert.equal(await exited, 0);
    } finally {
      attached.kill("SIGTERM");
    }

    const p = await pod("debuggee");
    assert.deepEqual(p.spec?.ephemeralContainers?.map((x) => x.name), ["looker", "talker"]);
    assert.equal(p.status?.containerStatuses?.[0]?.restartCount, 0, "the target kept running");
    const describe = await c.kubectl(["describe", "pod", "debuggee"]);
    assert.match(describe.stdout, /Ephemeral Containers:\n\s+looker:/);
  });

  it("kubectl run -it without a terminal: a TTY container refuses the attach as upstream's kubelet does, and kubectl falls back to its logs and ends", async () => {
    // kubectl without a terminal asks for stderr; the container has a TTY, which settles the
    // attach (upstream takes tty from the container's spec). The runtime refuses the pair and
    // kubectl reads the logs instead. Taking the client's tty=false used to attach a stderr that
    // a TTY never closes: kubectl waited forever after the container had exited.
    const run = c.kubectlProcess(["run", "-it", "--rm", "ttyrun", "--image=busybox:1.35", "--restart=Never", "--", "sh", "-c", "sleep 1; echo done"], { pipe: true });
    let out = "";
    run.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    run.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    run.stdin!.end();
    try {
      const code = await until("kubectl run -it --rm to end", () => run.exitCode ?? run.signalCode ?? undefined, 90_000, 200).catch((e: unknown) => {
        throw new Error(`${String(e)}\nkubectl printed: ${out}`);
      });
      assert.equal(code, 0, out);
      assert.match(out, /couldn't attach to pod\/ttyrun, falling back to streaming logs: .*tty and stderr cannot both be true/);
      assert.match(out, /pod "ttyrun" deleted/);
    } finally {
      run.kill("SIGKILL");
    }
  });

  it("kubectl top shows the node's and a busy pod's usage from the kubelet's resource metrics", async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: burner}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: spin, image: busybox:1.35, command: ["sh", "-c", "while true; do :; done"]}
  - {name: idle, image: busybox:1.35, command: ["sleep", "3600"]}
`);
    try {
      await running("burner");
      const node = await until("node metrics", async () => {
        const r = await c.kubectl(["top", "node", c.nodeName, "--no-headers"]);
        return r.code === 0 ? r.stdout : undefined;
      }, 60_000, 500);
      const [name, cpu, cpuPct, mem, memPct] = node.trim().split(/\s+/);
      assert.equal(name, c.nodeName);
      assert.match(cpu!, /^\d+m$/);
      assert.match(cpuPct!, /^\d+%$/);
      assert.match(mem!, /^\d+Mi$/);
      assert.match(memPct!, /^\d+%$/);
      assert.ok(Number.parseInt(mem!, 10) > 0);
      // The busy loop gets a good share of a core on any machine, the idle container next to nothing.
      const rows = await until("the busy container's usage", async () => {
        const r = await c.kubectl(["top", "pod", "burner", "--containers", "--no-headers"]);
        if (r.code !== 0) return undefined;
        const byName = new Map(r.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)).map((f) => [f[1]!, Number.parseInt(f[2]!, 10)] as const));
        return (byName.get("spin") ?? 0) >= 100 ? byName : undefined;
      }, 60_000, 500);
      assert.deepEqual([...rows.keys()].sort(), ["idle", "spin"]);
      assert.ok(rows.get("idle")! < 50, `idle container at ${rows.get("idle")}m`);
    } finally {
      await c.kubectl(["delete", "pod", "burner", "--wait=false"]);
    }
  });

  it("runs a pod of a RuntimeClass with the class's CRI handler, and reports a handler the runtime lacks", async () => {
    await apply(`apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: plain-runc}
handler: runc
overhead:
  podFixed: {cpu: 10m, memory: 8Mi}
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: missing-handler}
handler: no-such-runtime
---
apiVersion: v1
kind: Pod
metadata: {name: classy}
spec:
  runtimeClassName: plain-runc
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, image: busybox:1.35, command: ["sleep", "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: classless}
spec:
  runtimeClassName: missing-handler
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, image: busybox:1.35, command: ["sleep", "3600"]}
`);
    try {
      const p = await running("classy");
      assert.deepEqual(p.spec?.overhead, { cpu: "10m", memory: "8Mi" });
      const cri = new CriClient({ endpoint: `unix://${join(c.dataDir, "agent", "containerd", "containerd.sock")}` });
      try {
        const sandboxes = await cri.listPodSandbox({ labelSelector: { [LABEL_POD_UID]: p.metadata!.uid! } });
        assert.deepEqual(sandboxes.map((x) => x.runtimeHandler), ["runc"]);
      } finally {
        cri.close();
      }
      const failed = await until("the missing handler's sandbox failure", async () => {
        const r = await c.kubectl(["get", "events", "--field-selector", "involvedObject.name=classless,reason=FailedCreatePodSandBox", "-o", "jsonpath={.items[*].message}"]);
        return r.stdout.includes("no-such-runtime") ? r.stdout : undefined;
      }, 60_000, 500);
      assert.match(failed, /^Failed to create pod sandbox: /);
      assert.equal((await pod("classless")).status?.phase, "Pending");
    } finally {
      await c.kubectl(["delete", "pod", "classy", "classless", "--wait=false"]);
    }
  });

  it("backs off a crashing container (CrashLoopBackOff, growing restarts)", async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, image: busybox:1.35, command: ["sh", "-c", "echo dying; exit 1"]}
`);
    const p = await until("CrashLoopBackOff with 2 restarts", async () => {
      const x = await pod("crasher");
      const s = x.status?.containerStatuses?.[0];
      return s && s.restartCount >= 2 && s.state?.waiting?.reason === "CrashLoopBackOff" ? x : undefined;
    }, 120_000, 250);
    const s = p.status!.containerStatuses![0]!;
    assert.equal(s.lastState?.terminated?.exitCode, 1);
    assert.equal(s.lastState?.terminated?.reason, "Error");
    const prev = await c.kubectl(["logs", "crasher", "--previous"]);
    assert.equal(prev.stdout.trim(), "dying");
  });

  it("restarts a container whose liveness probe fails and keeps a failing readiness probe out of Ready", async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: live
    image: busybox:1.35
    command: ["sh", "-c", "touch /tmp/ok; sleep 3; rm /tmp/ok; sleep 3600"]
    livenessProbe: {exec: {command: ["cat", "/tmp/ok"]}, periodSeconds: 1, failureThreshold: 1}
  - name: unready
    image: busybox:1.35
    command: ["sleep", "3600"]
    readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1}
`);
    const p = await until("liveness restart", async () => {
      const x = await pod("probed");
      return (x.status?.containerStatuses?.find((s) => s.name === "live")?.restartCount ?? 0) >= 1 ? x : undefined;
    }, 90_000, 250);
    const unready = p.status!.containerStatuses!.find((s) => s.name === "unready")!;
    assert.equal(unready.ready, false);
    assert.equal(p.status!.conditions!.find((x) => x.type === "Ready")?.status, "False");
    const ev = await c.kubectl(["get", "events", "--field-selector", "involvedObject.name=probed", "-o", "jsonpath={.items[*].reason}"]);
    assert.match(ev.stdout, /Unhealthy/);
  });

  it("kills a memory hog with OOMKilled", async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:1.35
    command: ["sh", "-c", "x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while true; do x=$x$x; done"]
    resources: {limits: {memory: 20Mi}}
`);
    const p = await until("OOMKilled", async () => {
      const x = await pod("hog");
      return x.status?.containerStatuses?.[0]?.state?.terminated ? x : undefined;
    }, 60_000, 250);
    assert.equal(p.status!.containerStatuses![0]!.state!.terminated!.reason, "OOMKilled");
    assert.equal(p.status!.phase, "Failed");
  });

  it("mounts configMap and secret volumes and env", async () => {
    await apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {greeting: hello, mode: fast}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: configured}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: busybox:1.35
    command: ["sleep", "3600"]
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: settings, key: greeting}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    - {name: MY_POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    volumeMounts:
    - {name: cfg, mountPath: /etc/cfg}
    - {name: sec, mountPath: /etc/sec}
  volumes:
  - {name: cfg, configMap: {name: settings}}
  - {name: sec, secret: {secretName: creds}}
`);
    await running("configured");
    const env = await c.kubectl(["exec", "configured", "--", "sh", "-c", "echo $GREETING $PASSWORD $MY_POD $(cat /etc/cfg/mode) $(cat /etc/sec/password)"]);
    assert.equal(env.code, 0, env.stderr);
    assert.equal(env.stdout, "hello s3cret configured fast s3cret\n");
    const patched = await c.kubectl(["patch", "configmap", "settings", "-p", '{"data":{"mode":"slow"}}']);
    assert.equal(patched.code, 0, patched.stderr);
    await until("configMap update reaches the volume", async () => {
      const r = await c.kubectl(["exec", "configured", "--", "cat", "/etc/cfg/mode"]);
      return r.stdout === "slow" ? true : undefined;
    }, 90_000, 500);
  });

  it("runs a static pod from the manifest dir and shows it as a mirror pod", async () => {
    writeFileSync(join(c.dataDir, "manifests", "static-web.yaml"), `apiVersion: v1
kind: Pod
metadata: {name: static-web, namespace: kube-system}
spec:
  containers:
  - {name: main, image: busybox:1.35, command: ["sleep", "3600"]}
`);
    const name = `static-web-${c.nodeName}`;
    const mirror = await until("mirror pod Running", async () => {
      const x = (await c.client.forKind("v1", "Pod").namespace("kube-system").get(name).catch(() => undefined)) as Pod | undefined;
      return x?.status?.phase === "Running" ? x : undefined;
    }, 60_000, 200);
    assert.ok(mirror.metadata?.annotations?.["kubernetes.io/config.mirror"]);
    // Deleting the mirror pod does not stop the static pod: the kubelet recreates the mirror.
    const del = await c.kubectl(["delete", "pod", "-n", "kube-system", name, "--wait=false"]);
    assert.equal(del.code, 0, del.stderr);
    await until("mirror pod recreated", async () => {
      const x = (await c.client.forKind("v1", "Pod").namespace("kube-system").get(name).catch(() => undefined)) as Pod | undefined;
      return x && x.metadata?.uid !== mirror.metadata?.uid ? true : undefined;
    }, 60_000, 200);
  });

  it("adopts running containers when the agent restarts, and a ready pod stays ready", async () => {
    // A pod whose readiness probe counts its runs in a file: the restarted agent has looked at
    // the pod once the count grows.
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: keeps-ready}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: busybox:1.35
    command: ["sleep", "3600"]
    readinessProbe: {exec: {command: ["sh", "-c", "echo x >> /tmp/probes"]}, periodSeconds: 2}
`);
    const probes = async (): Promise<number> => {
      const r = await c.kubectl(["exec", "keeps-ready", "--", "sh", "-c", "wc -l < /tmp/probes"]);
      return r.code === 0 ? Number(r.stdout.trim()) : 0;
    };
    const ready = await until("keeps-ready Ready", async () => {
      const p = await pod("keeps-ready");
      return p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True") ? p : undefined;
    }, 60_000, 200);
    const before = await pod("configured");
    const id = before.status!.containerStatuses![0]!.containerID;
    const mirror = async (): Promise<Pod> => (await c.client.forKind("v1", "Pod").namespace("kube-system").get(`static-web-${c.nodeName}`)) as Pod;
    // The mirror pod the previous test deleted comes back with the static pod's status.
    const staticId = await until("the recreated mirror pod's status", async () => (await mirror()).status?.containerStatuses?.[0]?.containerID, 30_000, 200);
    await c.restart();
    // The static pod too: its first read joins the pods the restarted agent adopts.
    await until("static pod reported again", async () => ((await mirror()).status?.containerStatuses?.[0]?.containerID === staticId ? true : undefined), 30_000, 200);
    const r = await c.kubectl(["exec", "configured", "--", "echo", "still here"]);
    assert.equal(r.code, 0, r.stderr);
    const after = await pod("configured");
    assert.equal(after.status!.containerStatuses![0]!.containerID, id);
    assert.equal(after.status!.containerStatuses![0]!.restartCount, 0);

    // The agent that came back never reported keeps-ready unready (it used to, for up to a probe
    // period, taking it out of its Services' endpoints): once it has probed the pod, the Ready
    // condition is still the one from before the restart, not a later transition back to True.
    const counted = await probes();
    await until("a readiness probe by the restarted agent", async () => ((await probes()) > counted ? true : undefined), 30_000, 250);
    const readyCondition = (p: Pod): string => JSON.stringify(p.status?.conditions?.find((x) => x.type === "Ready"));
    assert.equal(readyCondition(await pod("keeps-ready")), readyCondition(ready));
    assert.equal((await pod("keeps-ready")).status?.containerStatuses?.[0]?.ready, true);
  });

  it("masquerades pod traffic leaving the cluster's range", async () => {
    // An "outside" host: a network namespace on a veth with a /30 and no route to the pods, so
    // it can answer a pod only if the node rewrote the pod's address to its own.
    const id = c.runId.slice(0, 6);
    const ns = `k8tsx${id}`;
    const [hostIf, nsIf] = [`k8xh${id}`, `k8xn${id}`];
    const third = 16 + Math.floor(Math.random() * 200);
    const [hostIP, nsIP] = [`192.168.${third}.1`, `192.168.${third}.2`];
    const www = mkdtempSync(join(tmpdir(), "k8ts-ext-"));
    writeFileSync(join(www, "index.html"), "outside\n");
    const sh = (cmd: string[]): void => void execFileSync(cmd[0]!, cmd.slice(1), { stdio: "ignore" });
    let server: ReturnType<typeof spawn> | undefined;
    try {
      sh(["ip", "netns", "add", ns]);
      sh(["ip", "link", "add", hostIf, "type", "veth", "peer", "name", nsIf]);
      sh(["ip", "link", "set", nsIf, "netns", ns]);
      sh(["ip", "addr", "add", `${hostIP}/30`, "dev", hostIf]);
      sh(["ip", "link", "set", hostIf, "up"]);
      sh(["ip", "netns", "exec", ns, "ip", "addr", "add", `${nsIP}/30`, "dev", nsIf]);
      sh(["ip", "netns", "exec", ns, "ip", "link", "set", nsIf, "up"]);
      sh(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
      server = spawn("ip", ["netns", "exec", ns, "busybox", "httpd", "-f", "-p", "8080", "-h", www], { stdio: "ignore" });
      await apply(`apiVersion: v1
kind: Pod
metadata: {name: egress}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: main, image: busybox:1.35, command: ["sleep", "3600"]}
`);
      await running("egress");
      const out = await until("the outside host answers the pod", async () => {
        const r = await c.kubectl(["exec", "egress", "--", "timeout", "3", "wget", "-qO-", `http://${nsIP}:8080/index.html`]);
        return r.code === 0 ? r.stdout : undefined;
      }, 20_000, 500);
      assert.equal(out, "outside\n");
    } finally {
      server?.kill("SIGKILL");
      for (const cmd of [["ip", "link", "del", hostIf], ["ip", "netns", "del", ns]]) {
        try {
          sh(cmd);
        } catch {
          // not made: the setup failed before it
        }
      }
      rmSync(www, { recursive: true, force: true });
    }
  });

  it("deleting a pod leaves no container, sandbox or veth behind", async () => {
    await apply(`apiVersion: v1
kind: Pod
metadata: {name: shortlived}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - {name: main, image: busybox:1.35, command: ["sleep", "3600"]}
`);
    const p = await running("shortlived");
    const uid = p.metadata!.uid!;
    const vethsBefore = bridgePorts(c.bridge);
    const del = await c.kubectl(["delete", "pod", "shortlived", "--wait=true", "--timeout=60s"]);
    assert.equal(del.code, 0, del.stderr);
    await until("sandbox and containers gone", async () => {
      const left = await criLeft(c, uid);
      return left.sandboxes === 0 && left.containers === 0 ? true : undefined;
    }, 30_000, 200);
    await until("veth gone", () => (bridgePorts(c.bridge) < vethsBefore ? true : undefined), 30_000, 200);
  });
});

function bridgePorts(bridge: string): number {
  try {
    return execFileSync("ip", ["-o", "link", "show", "master", bridge], { encoding: "utf8" }).split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

/** Sandboxes and containers the node's containerd still has for a pod uid. */
async function criLeft(c: TestCluster, uid: string): Promise<{ sandboxes: number; containers: number }> {
  const cri = new CriClient({ endpoint: `unix://${join(c.dataDir, "agent", "containerd", "containerd.sock")}` });
  try {
    const selector = { labelSelector: { [LABEL_POD_UID]: uid } };
    return { sandboxes: (await cri.listPodSandbox(selector)).length, containers: (await cri.listContainers(selector)).length };
  } finally {
    cri.close();
  }
}
