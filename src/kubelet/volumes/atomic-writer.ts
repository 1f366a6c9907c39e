// The layout upstream's kubelet gives configMap, secret, downwardAPI and projected volumes
// (pkg/volume/util/atomic_writer.go), so that applications which watch `..data` with inotify
// (as many config reloaders do) work unchanged:
//
//   <target>/..2024_05_01_10_00_00.123456789/   the files of one version (a "timestamped dir")
//   <target>/..data -> ..2024_05_01_10_00_00.123456789
//   <target>/<key>  -> ..data/<key>              (one symlink per top-level name)
//
// A new version is written into a fresh timestamped dir and `..data` is replaced by rename(2),
// so a reader that goes through `..data` sees either the whole old set or the whole new one.
import { createHash } from "node:crypto";
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { CodedError } from "../../util/errors.js";

/** One file of a volume's content. */
export interface FileProjection {
  readonly data: Uint8Array;
  /** permission bits, applied exactly (not narrowed by the umask) */
  readonly mode: number;
}

/** relative path → content */
export type Payload = Map<string, FileProjection>;

export const DATA_DIR = "..data";
const NEW_DATA_DIR = "..data_tmp";
const MAX_FILE_NAME = 255;
const MAX_PATH = 4096;

export type AtomicWriteErrorCode = "InvalidPath" | "PathConflict";

/** A payload that cannot be written (a path that escapes the volume, a file that is also a directory). */
export class AtomicWriteError extends CodedError<AtomicWriteErrorCode> {
  override readonly name = "AtomicWriteError";
}

/** Upstream's validatePath: relative, no `..` element, not starting with `..`, within name limits. */
export function validatePayloadPath(p: string): void {
  if (p === "") throw new AtomicWriteError("InvalidPath", `invalid path: must not be empty: ""`);
  if (p.startsWith("/")) throw new AtomicWriteError("InvalidPath", `invalid path: must be relative path: ${p}`);
  if (p.length > MAX_PATH) throw new AtomicWriteError("InvalidPath", `invalid path: must be less than or equal to ${MAX_PATH} characters`);
  const items = p.split("/");
  for (const item of items) {
    if (item === "..") throw new AtomicWriteError("InvalidPath", `invalid path: must not contain '..': ${p}`);
    if (Buffer.byteLength(item) > MAX_FILE_NAME) throw new AtomicWriteError("InvalidPath", `invalid path: filenames must be less than or equal to ${MAX_FILE_NAME} characters`);
  }
  if (items[0]!.startsWith("..")) throw new AtomicWriteError("InvalidPath", `invalid path: must not start with '..': ${p}`);
}

function cleanPayload(payload: Payload): Payload {
  const clean: Payload = new Map();
  for (const [p, f] of payload) {
    validatePayloadPath(p);
    const c = posix.normalize(p).replace(/\/+$/, "");
    if (c === "." || c === "") throw new AtomicWriteError("InvalidPath", `invalid path: must not be the volume root: ${p}`);
    clean.set(c, { data: f.data, mode: f.mode & 0o7777 });
  }
  for (const p of clean.keys()) {
    for (let d = posix.dirname(p); d !== "."; d = posix.dirname(d)) {
      if (clean.has(d)) throw new AtomicWriteError("PathConflict", `invalid payload: ${d} is both a file and a directory`);
    }
  }
  return clean;
}

function digestOf(payload: Payload): string {
  const h = createHash("sha256");
  for (const p of [...payload.keys()].sort()) {
    const f = payload.get(p)!;
    h.update(`${p}\0${f.mode}\0${f.data.length}\0`);
    h.update(f.data);
  }
  return h.digest("hex");
}

function topLevel(p: string): string {
  const i = p.indexOf("/");
  return i === -1 ? p : p.slice(0, i);
}

function isTimestampDir(name: string): boolean {
  return /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./.test(name);
}

/** `..2006_01_02_15_04_05.` in UTC, the prefix upstream gives its temp dir. */
function timestampPrefix(now: Date): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

async function readlinkOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** The files under `dir` (relative paths), or undefined if `dir` is gone. */
async function readTree(dir: string): Promise<Payload | undefined> {
  const out: Payload = new Map();
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else {
        const full = join(dir, r);
        const st = await lstat(full);
        out.set(r, { data: e.isFile() ? await readFile(full) : Buffer.alloc(0), mode: e.isFile() ? st.mode & 0o7777 : -1 });
      }
    }
  };
  try {
    await walk("");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return out;
}

function samePayload(a: Payload, b: Payload): boolean {
  if (a.size !== b.size) return false;
  for (const [p, f] of a) {
    const g = b.get(p);
    if (!g || g.mode !== f.mode || Buffer.compare(Buffer.from(g.data), Buffer.from(f.data)) !== 0) return false;
  }
  return true;
}

/**
 * Writes volume contents with upstream's layout. Callers serialize writes to one target (the
 * volume manager does, per pod). Remembers what it last wrote to each target, so that the
 * common case, nothing changed, costs one readlink.
 */
export class AtomicWriter {
  /** target dir → the timestamped dir and payload digest we last left there */
  private readonly written = new Map<string, { readonly tsDir: string; readonly digest: string }>();

  /**
   * Makes `target` (an existing directory) hold exactly `payload`. Returns false when it already
   * did and nothing was written.
   */
  async write(target: string, payload: Payload): Promise<boolean> {
    const clean = cleanPayload(payload);
    const digest = digestOf(clean);
    const dataPath = join(target, DATA_DIR);
    const oldTs = await readlinkOrUndefined(dataPath);
    const memo = this.written.get(target);
    if (oldTs !== undefined && memo?.tsDir === oldTs && memo.digest === digest) return false;

    if (oldTs !== undefined) {
      const old = await readTree(join(target, oldTs));
      if (old) {
        if (samePayload(old, clean)) {
          // Left by an earlier process (or an earlier writer object): the links may be all that is missing.
          await this.linkTopLevel(target, clean);
          this.written.set(target, { tsDir: oldTs, digest });
          return false;
        }
      }
    }

    const tsPath = await mkdtemp(join(target, timestampPrefix(new Date())));
    const tsDir = tsPath.slice(target.length + 1);
    try {
      // mkdtemp creates 0700; others must be able to traverse it (containers run as any user).
      await chmod(tsPath, 0o755);
      for (const [p, f] of clean) {
        const full = join(tsPath, p);
        await mkdir(dirname(full), { recursive: true, mode: 0o755 });
        await writeFile(full, f.data, { mode: f.mode });
        // writeFile's mode is narrowed by the umask; the volume asks for exact bits.
        await chmod(full, f.mode);
      }
      const tmpLink = join(target, NEW_DATA_DIR);
      await rm(tmpLink, { force: true });
      await symlink(tsDir, tmpLink);
      await rename(tmpLink, dataPath);
    } catch (err) {
      await rm(tsPath, { recursive: true, force: true });
      throw err;
    }
    this.written.set(target, { tsDir, digest });

    await this.linkTopLevel(target, clean);
    const newTop = new Set([...clean.keys()].map(topLevel));
    for (const name of await readdir(target)) {
      if (name.startsWith("..")) {
        // Every other timestamped dir is an old version (or one a crashed write left behind).
        if (name !== tsDir && isTimestampDir(name)) await rm(join(target, name), { recursive: true, force: true });
      } else if (!newTop.has(name)) {
        const to = await readlinkOrUndefined(join(target, name)).catch(() => undefined);
        if (to?.startsWith(`${DATA_DIR}/`)) await unlink(join(target, name)).catch(ignoreEnoent);
      }
    }
    return true;
  }

  private async linkTopLevel(target: string, payload: Payload): Promise<void> {
    for (const name of new Set([...payload.keys()].map(topLevel))) {
      const link = join(target, name);
      const want = `${DATA_DIR}/${name}`;
      const have = await readlinkOrUndefined(link).catch(() => undefined);
      if (have === want) continue;
      await rm(link, { force: true, recursive: true });
      await symlink(want, link);
    }
  }

  /** Forgets targets under `prefix` (their volume was torn down). */
  forget(prefix: string): void {
    for (const t of this.written.keys()) if (t === prefix || t.startsWith(`${prefix}/`)) this.written.delete(t);
  }
}

function ignoreEnoent(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
}
