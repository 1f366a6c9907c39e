// The images every k8ts node has without a registry, built from the host's Debian busybox-static:
//   docker.io/library/busybox:1.35 — laid out as the Docker Hub image (every applet in /bin,
//     /etc/passwd and /etc/group, /tmp, /var/www, PATH, Cmd ["sh"]), so pod specs written for
//     the real image run unchanged.
//   k8ts.local/pause:3.9 — the pod sandbox image containerd starts first in every pod.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildOciImage, type BuiltImage } from "./oci.js";
import type { TarEntry } from "./tar.js";
import { CodedError } from "../../util/errors.js";

export const BUSYBOX_IMAGE = "docker.io/library/busybox:1.35";
export const PAUSE_IMAGE = "k8ts.local/pause:3.9";
export const DEFAULT_BUSYBOX_PATH = "/bin/busybox";

export class ImageBuildError extends CodedError<"BusyboxMissing" | "BusyboxNotStatic"> {
  override readonly name = "ImageBuildError";
}

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The sandbox's only process. It has to outlive everything in the pod, exit promptly on SIGTERM
 * (a shell that is PID 1 of its namespace gets no default action for TERM, hence the trap) and
 * reap orphans when the pod shares one PID namespace (ash's `wait` collects any child, not just
 * the sleep). Busybox ash and sleep need nothing but the one static binary; a dedicated C pause
 * would need a compiler on every node.
 */
export const PAUSE_COMMAND = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 2147483647 & wait $!; done"];

const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "daemon:x:1:1:daemon:/usr/sbin:/bin/false",
  "bin:x:2:2:bin:/bin:/bin/false",
  "sys:x:3:3:sys:/dev:/bin/false",
  "sync:x:4:100:sync:/bin:/bin/sync",
  "mail:x:8:8:mail:/var/spool/mail:/bin/false",
  "www-data:x:33:33:www-data:/var/www:/bin/false",
  "operator:x:37:37:Operator:/var:/bin/false",
  "nobody:x:65534:65534:nobody:/home:/bin/false",
  "",
].join("\n");

const GROUP = [
  "root:x:0:",
  "daemon:x:1:",
  "bin:x:2:",
  "sys:x:3:",
  "adm:x:4:",
  "tty:x:5:",
  "disk:x:6:",
  "mail:x:8:",
  "wheel:x:10:root",
  "www-data:x:33:",
  "operator:x:37:",
  "staff:x:50:",
  "users:x:100:",
  "nogroup:x:65534:",
  "",
].join("\n");

/** True when the ELF file has no PT_INTERP program header, i.e. needs no dynamic loader. */
export function isStaticElf(data: Buffer): boolean {
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = data[4] === 2;
  const le = data[5] === 1;
  const u16 = (o: number): number => (le ? data.readUInt16LE(o) : data.readUInt16BE(o));
  const u32 = (o: number): number => (le ? data.readUInt32LE(o) : data.readUInt32BE(o));
  const phoff = is64 ? Number(le ? data.readBigUInt64LE(0x20) : data.readBigUInt64BE(0x20)) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > data.length) return false;
    if (u32(off) === 3) return false;
  }
  return true;
}

function readBusybox(path: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch {
    throw new ImageBuildError("BusyboxMissing", `${path} not found: install the Debian package busybox-static`);
  }
  if (!isStaticElf(data)) throw new ImageBuildError("BusyboxNotStatic", `${path} is not a static binary: install the Debian package busybox-static (it replaces busybox)`);
  return data;
}

/** Applet names the binary provides, without "busybox" itself (a link to itself would replace the binary). */
export function busyboxApplets(path: string = DEFAULT_BUSYBOX_PATH): string[] {
  const out = execFileSync(path, ["--list"], { encoding: "utf8" });
  return [...new Set(out.split("\n").map((s) => s.trim()))].filter((name) => name !== "" && name !== "busybox" && !name.includes("/")).sort();
}

export function busyboxLayer(path: string = DEFAULT_BUSYBOX_PATH): TarEntry[] {
  const binary = readBusybox(path);
  const dirs: [string, number][] = [
    ["bin", 0o755],
    ["dev", 0o755],
    ["etc", 0o755],
    ["home", 0o755],
    ["root", 0o700],
    ["tmp", 0o1777],
    ["usr", 0o755],
    ["usr/sbin", 0o755],
    ["var", 0o755],
    ["var/spool", 0o755],
    ["var/spool/mail", 0o755],
    ["var/www", 0o755],
  ];
  return [
    ...dirs.map(([p, mode]): TarEntry => ({ type: "dir", path: p, mode })),
    { type: "file", path: "bin/busybox", mode: 0o755, data: binary },
    ...busyboxApplets(path).map((name): TarEntry => ({ type: "symlink", path: `bin/${name}`, target: "busybox" })),
    { type: "file", path: "etc/passwd", mode: 0o644, data: Buffer.from(PASSWD) },
    { type: "file", path: "etc/group", mode: 0o644, data: Buffer.from(GROUP) },
  ];
}

export function pauseLayer(path: string = DEFAULT_BUSYBOX_PATH): TarEntry[] {
  return [
    { type: "dir", path: "bin", mode: 0o755 },
    { type: "dir", path: "dev", mode: 0o755 },
    { type: "dir", path: "etc", mode: 0o755 },
    { type: "dir", path: "proc", mode: 0o755 },
    { type: "dir", path: "sys", mode: 0o755 },
    { type: "file", path: "bin/busybox", mode: 0o755, data: readBusybox(path) },
    { type: "symlink", path: "bin/sh", target: "busybox" },
    { type: "symlink", path: "bin/sleep", target: "busybox" },
  ];
}

export function buildBusyboxImage(busyboxPath?: string): BuiltImage {
  return buildOciImage({ reference: BUSYBOX_IMAGE, layer: busyboxLayer(busyboxPath), config: { Env: [PATH_ENV], Cmd: ["sh"] } });
}

export function buildPauseImage(busyboxPath?: string): BuiltImage {
  return buildOciImage({ reference: PAUSE_IMAGE, layer: pauseLayer(busyboxPath), config: { Env: [PATH_ENV], Entrypoint: PAUSE_COMMAND } });
}

/** Writes a layer's entries as a directory tree (a runc bundle's rootfs); dir must be empty or absent. */
export function writeRootfs(entries: readonly TarEntry[], dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const e of entries) {
    const p = join(dir, e.path);
    if (e.type === "dir") {
      mkdirSync(p, { recursive: true });
      chmodSync(p, e.mode);
    } else if (e.type === "file") {
      writeFileSync(p, e.data, { mode: e.mode });
      chmodSync(p, e.mode);
    } else symlinkSync(e.target, p);
  }
}
