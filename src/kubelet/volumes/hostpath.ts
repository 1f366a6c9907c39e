// hostPath type checks with upstream's rules and messages (pkg/volume/hostpath/host_path.go):
// the path is stat'ed (symlinks followed); the *OrCreate types create what is missing.
import { constants } from "node:fs";
import { mkdir, open, stat } from "node:fs/promises";
import type { Stats } from "node:fs";

export type HostPathType = "" | "DirectoryOrCreate" | "Directory" | "FileOrCreate" | "File" | "Socket" | "CharDevice" | "BlockDevice";

/** A check that failed; `message` is what the FailedMount event says. */
export class HostPathError extends Error {
  override readonly name = "HostPathError";
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** The HostPathType naming what is at the path, as upstream's GetFileType. */
function fileType(st: Stats): string | undefined {
  if (st.isDirectory()) return "Directory";
  if (st.isFile()) return "File";
  if (st.isSocket()) return "Socket";
  if (st.isCharacterDevice()) return "CharDevice";
  if (st.isBlockDevice()) return "BlockDevice";
  return undefined;
}

const descriptions: Readonly<Record<string, string>> = {
  Directory: "directory",
  File: "file",
  Socket: "socket file",
  CharDevice: "character device",
  BlockDevice: "block device",
};

async function expect(path: string, want: keyof typeof descriptions): Promise<void> {
  const description = descriptions[want]!;
  const st = await statOrUndefined(path);
  if (!st) throw new HostPathError(`hostPath ${path} doesn't exist`);
  const got = fileType(st);
  if (got === undefined) {
    throw new HostPathError(`hostPath type check failed, ${path} is not a ${description}, unable to determine its type: only recognise file, directory, socket, block device and character device`);
  }
  if (got !== want) throw new HostPathError(`hostPath type check failed: ${path} is not a ${description}, it's a ${got}`);
}

/** Validates the path (absolute, no `..` element) and checks or creates it as `type` asks. */
export async function checkHostPath(path: string, type: string): Promise<void> {
  if (path.split("/").includes("..")) throw new HostPathError(`invalid HostPath \`${path}\`: must not contain '..'`);
  if (!path.startsWith("/")) throw new HostPathError(`invalid HostPath \`${path}\`: must be an absolute path`);
  switch (type) {
    case "":
      return;
    case "DirectoryOrCreate":
      if (!(await statOrUndefined(path))) await mkdir(path, { recursive: true, mode: 0o755 });
      return expect(path, "Directory");
    case "Directory":
      return expect(path, "Directory");
    case "FileOrCreate":
      if (!(await statOrUndefined(path))) {
        // Like upstream: the parent must exist; O_CREAT without O_EXCL tolerates a racing creator.
        const fh = await open(path, constants.O_CREAT | constants.O_RDONLY, 0o644);
        await fh.close();
      }
      return expect(path, "File");
    case "File":
      return expect(path, "File");
    case "Socket":
      return expect(path, "Socket");
    case "CharDevice":
      return expect(path, "CharDevice");
    case "BlockDevice":
      return expect(path, "BlockDevice");
    default:
      throw new HostPathError(`${type} is an invalid volume type`);
  }
}
