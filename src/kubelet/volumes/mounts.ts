// tmpfs mounts for memory-backed volumes, through mount(8)/umount(8): Node has no mount(2).
import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { CodedError } from "../../util/errors.js";

export class MountError extends CodedError<"MountFailed" | "UnmountFailed"> {
  override readonly name = "MountError";
}

function run(cmd: string, args: readonly string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ ok: !err, output: `${stdout}${stderr}`.trim() || (err ? err.message : "") });
    });
  });
}

/**
 * True when `dir` is the root of a mount. Like upstream's IsLikelyNotMountPoint it compares the
 * device of the directory with its parent's: cheap enough for every pod sync. (A bind mount of
 * a directory of the same filesystem would be missed; we only ask about our own tmpfs mounts.)
 */
export async function isMountPoint(dir: string): Promise<boolean> {
  const [a, b] = await Promise.all([stat(dir), stat(dirname(dir))]);
  return a.dev !== b.dev;
}

/** Mounts a fresh tmpfs on `dir` (which must exist); `sizeBytes` caps it. */
export async function mountTmpfs(dir: string, sizeBytes?: bigint): Promise<void> {
  const args = ["-t", "tmpfs"];
  if (sizeBytes !== undefined) args.push("-o", `size=${sizeBytes}`);
  args.push("tmpfs", dir);
  const r = await run("mount", args);
  if (!r.ok) throw new MountError("MountFailed", `mount failed: ${r.output} (mount ${args.join(" ")})`);
}

/**
 * Unmounts `dir`. A mount still busy (a process holding a file open) is detached lazily: the
 * kernel frees it when the last user lets go, and the pod is gone either way.
 */
export async function unmount(dir: string): Promise<void> {
  const r = await run("umount", [dir]);
  if (r.ok) return;
  const lazy = await run("umount", ["-l", dir]);
  if (!lazy.ok) throw new MountError("UnmountFailed", `unmount ${dir} failed: ${r.output}; lazy unmount: ${lazy.output}`);
}

/** Decodes the octal escapes (\040 for a space, ...) of /proc/self/mountinfo fields. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mount points at or under `root`, deepest first (the order to unmount them in). */
export async function mountsUnder(root: string): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const mp = line.split(" ")[4];
    if (mp === undefined) continue;
    const p = unescapeMountField(mp);
    if (p === root || p.startsWith(`${root}/`)) out.push(p);
  }
  // A path mounted twice appears twice: one umount per layer.
  return out.sort((a, b) => b.length - a.length);
}
