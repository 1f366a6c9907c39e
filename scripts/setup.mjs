#!/usr/bin/env node
// Makes a fresh clone ready: Debian packages the chosen purpose needs (installed when missing and
// we are root), node_modules matching package-lock.json, and the TypeScript build in dist/.
// Uses only Node built-ins: it runs before `npm ci`.
//   node scripts/setup.mjs            dependencies + build
//   node scripts/setup.mjs --runtime  also what a running cluster needs
//   node scripts/setup.mjs --test     also what the test suites need
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const args = new Set(process.argv.slice(2));

/**
 * binary that proves the package is there → Debian package. "dpkg:NAME" asks dpkg instead:
 * /bin/busybox also comes from the dynamic `busybox` package, and images need the static one.
 */
const runtimePackages = {
  etcdctl: "etcd-client",
  containerd: "containerd",
  ctr: "containerd",
  "containerd-shim-runc-v2": "containerd",
  runc: "runc",
  "/usr/lib/cni/bridge": "containernetworking-plugins",
  "dpkg:busybox-static": "busybox-static",
  iptables: "iptables",
  nft: "nftables",
  conntrack: "conntrack",
  ip: "iproute2",
};
const testPackages = { ...runtimePackages, etcd: "etcd-server", openssl: "openssl" };

function have(bin) {
  if (bin.startsWith("dpkg:")) {
    const r = spawnSync("dpkg-query", ["-W", "-f=${Status}", bin.slice(5)], { encoding: "utf8" });
    return r.status === 0 && r.stdout.includes("install ok installed");
  }
  return spawnSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" }).status === 0;
}

function ensurePackages(table) {
  const missing = [...new Set(Object.entries(table).filter(([bin]) => !have(bin)).map(([, pkg]) => pkg))];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    console.error(`k8ts setup: missing Debian packages: ${missing.join(" ")}; install them as root (apt-get install -y ${missing.join(" ")})`);
    process.exit(1);
  }
  console.error(`k8ts setup: installing ${missing.join(" ")}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"], env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { stdio: ["ignore", "ignore", "inherit"], env });
}

function mtime(p) {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

function ensureNodeModules() {
  const marker = join(root, "node_modules", ".package-lock.json");
  const lock = join(root, "package-lock.json");
  if (existsSync(marker) && mtime(marker) >= mtime(lock)) return;
  console.error("k8ts setup: npm ci");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
}

function build() {
  // tsc is incremental (dist/.tsbuildinfo): a no-change build takes about a second.
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.json")], { cwd: root, stdio: "inherit" });
  // The OpenAPI schemas (dist/generated/) come from kubernetes-types plus the compiled
  // src/api/openapi/patchmeta.js; tsc emits even when some file has type errors, so they are
  // generated either way (about 0.3 s).
  const g = spawnSync(process.execPath, [join(root, "scripts", "gen-openapi.mjs")], { cwd: root, stdio: "inherit" });
  // The cluster DNS server as one file, for the DNS image (about 0.3 s).
  const d = spawnSync(process.execPath, [join(root, "scripts", "bundle-dns.mjs")], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
  if (g.status !== 0) process.exit(g.status ?? 1);
  if (d.status !== 0) process.exit(d.status ?? 1);
}

if (args.has("--runtime")) ensurePackages(runtimePackages);
if (args.has("--test")) ensurePackages(testPackages);
ensureNodeModules();
if (!args.has("--no-build")) build();
