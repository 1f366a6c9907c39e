// The bundled program (scripts/bundle-dns.mjs) runs alone: copied to a directory with no
// node_modules, it answers queries from an API server and stops on SIGTERM.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Service } from "kubernetes-types/core/v1.js";
import { createClientFromKubeconfig } from "../client/rest.js";
import { startTestApiServer, type TestApiServer } from "../testing/apiserver.js";
import { freePort } from "../testing/net.js";
import { until } from "../testing/wait.js";
import { ask } from "./testing.js";

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

void describe("the bundled DNS server", () => {
  let dir: string;
  let bundle: string;
  let api: TestApiServer | undefined;
  let child: ChildProcess | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "k8ts-dns-bundle-"));
    const built = join(dir, "built", "k8ts-dns.cjs");
    await run(process.execPath, [join(repo, "scripts", "bundle-dns.mjs"), "--outfile", built], { cwd: repo });
    bundle = join(dir, "k8ts-dns.cjs");
    copyFileSync(built, bundle);
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
    await api?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  void it("prints its help and refuses unknown flags, from a directory without node_modules", async () => {
    const help = await run(process.execPath, [bundle, "--help"], { cwd: dir });
    assert.match(help.stdout, /--cluster-domain <name>/);
    const bad = await run(process.execPath, [bundle, "--nope"], { cwd: dir }).catch((e: { code: number; stderr: string }) => e);
    assert.equal((bad as { code: number }).code, 2);
  });

  void it("without a kubeconfig outside a pod, says why it cannot start", async () => {
    const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin" };
    const r = await run(process.execPath, [bundle, "--listen", "127.0.0.1:0"], { cwd: dir, env }).catch((e: { code: number; stderr: string }) => e);
    assert.equal((r as { code: number }).code, 1);
    assert.match((r as { stderr: string }).stderr, /KUBERNETES_SERVICE_HOST/);
  });

  void it("answers from the API server and exits 0 on SIGTERM", async () => {
    api = await startTestApiServer();
    const client = await createClientFromKubeconfig(api.kubeconfig);
    try {
      await client.forKind("v1", "Service").namespace("default").create({ metadata: { name: "bundled" }, spec: { clusterIP: "10.43.0.77", ports: [{ name: "http", port: 80 }] } } as Service);
    } finally {
      client.close();
    }
    const port = await freePort();
    const ready = await freePort();
    child = spawn(process.execPath, [bundle, "--kubeconfig", api.kubeconfig, "--listen", `127.0.0.1:${port}`, "--http-address", "127.0.0.1", "--health-port", "0", "--ready-port", String(ready), "--metrics-port", "0", "--upstream", "127.0.0.1:9", "--log-level", "warn"], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    await until("the bundled server is ready", async () => {
      if (child?.exitCode !== null) throw new Error(`exited: ${stderr}`);
      return (await fetch(`http://127.0.0.1:${ready}/ready`)).status === 200 ? true : undefined;
    });
    const r = await ask(port, "bundled.default.svc.cluster.local", "A");
    assert.deepEqual(r.answers?.map((a) => (a as { data: string }).data), ["10.43.0.77"]);
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, stderr);
  });
});
