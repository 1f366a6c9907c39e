// A ustar (POSIX.1-1988) writer, enough for image layers and OCI layout archives: regular
// files, directories and symlinks, owned by root, with a fixed mtime so that the same input
// always gives the same bytes (and so the same digests).
import { CodedError } from "../../util/errors.js";

export class TarError extends CodedError<"NameTooLong" | "FileTooLarge"> {
  override readonly name = "TarError";
}

export type TarEntry =
  | { type: "file"; path: string; mode: number; data: Buffer }
  | { type: "dir"; path: string; mode: number }
  | { type: "symlink"; path: string; target: string };

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

/** ustar keeps names ≤ 100 bytes, or splits them at a "/" into a ≤ 155-byte prefix and the rest. */
function splitName(name: string): { prefix: string; name: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: "", name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== "/") continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest.length > 0) return { prefix, name: rest };
  }
  throw new TarError("NameTooLong", `tar: path too long for ustar: ${name}`);
}

function header(entry: TarEntry, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const path = entry.type === "dir" && !entry.path.endsWith("/") ? `${entry.path}/` : entry.path;
  const { prefix, name } = splitName(path);
  const size = entry.type === "file" ? entry.data.length : 0;
  // 11 octal digits hold sizes below 8 GiB; larger ones need the GNU base-256 form.
  if (size >= 8 ** 11) throw new TarError("FileTooLarge", `tar: ${entry.path} is too large for ustar`);
  const mode = entry.type === "symlink" ? 0o777 : entry.mode;
  h.write(name, 0, 100, "utf8");
  h.write(octal(mode & 0o7777, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii");
  h.write(octal(0, 8), 116, "ascii");
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(mtime, 12), 136, "ascii");
  h.write("        ", 148, "ascii");
  h.write(entry.type === "file" ? "0" : entry.type === "dir" ? "5" : "2", 156, "ascii");
  if (entry.type === "symlink") {
    if (Buffer.byteLength(entry.target) > 100) throw new TarError("NameTooLong", `tar: symlink target too long: ${entry.target}`);
    h.write(entry.target, 157, 100, "utf8");
  }
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write("root", 265, "ascii");
  h.write("root", 297, "ascii");
  h.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  return h;
}

/** The archive as one buffer; entries are written in the order given. */
export function writeTar(entries: readonly TarEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(header(entry, mtime));
    if (entry.type === "file" && entry.data.length > 0) {
      parts.push(entry.data);
      const pad = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
