// Container logs as the kubelet serves them: the runtime writes CRI log files
// ("<RFC3339Nano> stdout|stderr P|F <content>", P = partial: the line continues in the next
// record of the same stream), and `kubectl logs` gets the content back, lines joined, with the
// options of upstream's PodLogOptions applied. Following keeps reading as the file grows, moves
// to the new file when the log was rotated (renamed and recreated, or truncated in place), and
// ends once the container has exited and its file has been read to the end.
import { watch, type FSWatcher } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname } from "node:path";

export interface LogOptions {
  readonly follow: boolean;
  readonly timestamps: boolean;
  /** only the last N lines; undefined = all */
  readonly tailLines?: number;
  /** stop after this many bytes of output */
  readonly limitBytes?: number;
  /** ms since the epoch: skip lines logged before */
  readonly since?: number;
}

export interface ParsedLogLine {
  /** the timestamp as written, e.g. 2024-05-01T10:00:00.123456789Z */
  readonly timestamp: string;
  readonly stream: string;
  readonly partial: boolean;
  readonly content: Buffer;
}

/** One CRI log record (without its newline), or undefined when it is not one. */
export function parseCRILogLine(line: Buffer): ParsedLogLine | undefined {
  const s1 = line.indexOf(0x20);
  if (s1 <= 0) return undefined;
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) return undefined;
  const timestamp = line.subarray(0, s1).toString("latin1");
  const stream = line.subarray(s1 + 1, s2).toString("latin1");
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  const s3 = line.indexOf(0x20, s2 + 1);
  const tag = line.subarray(s2 + 1, s3 < 0 ? line.length : s3).toString("latin1");
  // Tags may grow ":"-separated attributes; the first is the partial/full marker.
  const marker = tag.split(":")[0];
  if (marker !== "P" && marker !== "F") return undefined;
  return { timestamp, stream, partial: marker === "P", content: s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1) };
}

/** RFC3339Nano as Go prints it (trailing zeros of the fraction dropped), as upstream's --timestamps shows. */
export function formatTimestamp(ts: string): string {
  const m = /^([^.]+)\.(\d+)(.*)$/.exec(ts);
  if (!m) return ts;
  const frac = m[2]!.replace(/0+$/, "");
  return frac ? `${m[1]}.${frac}${m[3]}` : `${m[1]}${m[3]}`;
}

/** Output sink with backpressure: resolves when the consumer can take more. */
export type LogSink = (chunk: Buffer) => Promise<void>;

/** Turns CRI records into output lines: joins partials per stream, applies since/timestamps/limitBytes. */
class LineAssembler {
  private readonly pending = new Map<string, { timestamp: string; parts: Buffer[] }>();
  private written = 0;
  done = false;

  constructor(
    private readonly opts: LogOptions,
    private readonly sink: LogSink,
  ) {}

  async record(rec: ParsedLogLine): Promise<void> {
    if (this.done) return;
    const p = this.pending.get(rec.stream);
    if (rec.partial) {
      if (p) p.parts.push(rec.content);
      else this.pending.set(rec.stream, { timestamp: rec.timestamp, parts: [rec.content] });
      return;
    }
    const parts = p ? [...p.parts, rec.content] : [rec.content];
    const timestamp = p ? p.timestamp : rec.timestamp;
    this.pending.delete(rec.stream);
    await this.emit(timestamp, Buffer.concat(parts), true);
  }

  /** Partial lines still open at the end of a non-following read are shown as they are. */
  async flushPartials(): Promise<void> {
    for (const [stream, p] of this.pending) {
      this.pending.delete(stream);
      await this.emit(p.timestamp, Buffer.concat(p.parts), false);
    }
  }

  private async emit(timestamp: string, content: Buffer, newline: boolean): Promise<void> {
    if (this.done) return;
    if (this.opts.since !== undefined) {
      const t = Date.parse(timestamp);
      if (Number.isFinite(t) && t < this.opts.since) return;
    }
    const pieces: Buffer[] = [];
    if (this.opts.timestamps) pieces.push(Buffer.from(formatTimestamp(timestamp) + " "));
    pieces.push(content);
    if (newline) pieces.push(Buffer.from("\n"));
    let out = Buffer.concat(pieces);
    if (this.opts.limitBytes !== undefined) {
      const left = this.opts.limitBytes - this.written;
      if (out.length >= left) {
        out = out.subarray(0, left);
        this.done = true;
      }
    }
    this.written += out.length;
    if (out.length > 0) await this.sink(out);
  }
}

const CHUNK = 64 * 1024;

/**
 * Where reading must start to show the last `n` lines: just after the (n+1)-th complete line,
 * counted from the end. Partial records do not end a line, so a long line split over records
 * counts once. A record not yet ended by a newline (being written) is not counted.
 */
export async function tailStartOffset(fh: FileHandle, size: number, n: number): Promise<number> {
  if (n <= 0) return size;
  let end = size;
  let carry = Buffer.alloc(0);
  let fullLines = 0;
  // Position of the byte after the last newline we saw, i.e. where the line after it starts.
  let lastNewlineEnd = -1;
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    const buf = Buffer.alloc(end - start);
    await fh.read(buf, 0, buf.length, start);
    const data = carry.length ? Buffer.concat([buf, carry]) : buf;
    let idx = data.length;
    for (;;) {
      const nl = data.lastIndexOf(0x0a, idx - 1);
      if (nl < 0) break;
      const lineStart = nl + 1;
      const abs = start + lineStart;
      if (lastNewlineEnd >= 0) {
        const rec = parseCRILogLine(data.subarray(lineStart, idx));
        if (!rec || !rec.partial) {
          fullLines++;
          if (fullLines > n) return lastNewlineEnd;
        }
      }
      lastNewlineEnd = abs;
      idx = nl;
      if (idx === 0) break;
    }
    carry = data.subarray(0, idx);
    end = start;
  }
  // The first line of the file (no newline before it).
  if (lastNewlineEnd >= 0 && carry.length > 0) {
    const rec = parseCRILogLine(carry);
    if (!rec || !rec.partial) {
      fullLines++;
      if (fullLines > n) return lastNewlineEnd;
    }
  }
  return 0;
}

export interface FollowControl {
  /** whether the container may still write (running or about to); false ends a follow */
  isRunning(): Promise<boolean>;
  readonly signal: AbortSignal;
  /** how long to wait for a file change before checking the container again (ms) */
  readonly pollMs?: number;
}

/** Reads one CRI log file (and, following, its successors at the same path) into `sink`. */
export async function readContainerLog(path: string, opts: LogOptions, sink: LogSink, control: FollowControl): Promise<void> {
  const asm = new LineAssembler(opts, sink);
  let fh: FileHandle = await open(path, "r");
  const first = await fh.stat();
  let ino = first.ino;
  let pos = 0;
  // Without follow, the log as it was when asked: lines written meanwhile would make a tail of
  // N lines answer N+1 (kubectl logs --tail=1 of a container writing every 0.2 s did, now and
  // then). Following reads on as the file grows.
  const limit = opts.follow ? Infinity : first.size;
  if (opts.tailLines !== undefined) pos = await tailStartOffset(fh, first.size, opts.tailLines);
  let rest = Buffer.alloc(0);
  const buf = Buffer.alloc(CHUNK);

  const drain = async (): Promise<void> => {
    for (;;) {
      if (asm.done || control.signal.aborted) return;
      const want = Math.min(CHUNK, limit - pos);
      if (want <= 0) return;
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      let data = rest.length ? Buffer.concat([rest, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
      let nl: number;
      while ((nl = data.indexOf(0x0a)) >= 0) {
        const rec = parseCRILogLine(data.subarray(0, nl));
        data = data.subarray(nl + 1);
        if (rec) await asm.record(rec);
        if (asm.done) return;
      }
      rest = data;
    }
  };

  let watcher: FSWatcher | undefined;
  let wake: (() => void) | undefined;
  try {
    await drain();
    if (!opts.follow) {
      await asm.flushPartials();
      return;
    }
    // Watch the directory, not the file: a rotation replaces the file under the same name.
    const name = basename(path);
    try {
      watcher = watch(dirname(path), (_event, file) => {
        if (file === null || file === name) wake?.();
      });
      watcher.on("error", () => undefined);
    } catch {
      watcher = undefined; // polling alone still follows the file
    }
    const onAbort = (): void => wake?.();
    control.signal.addEventListener("abort", onAbort);
    try {
      for (;;) {
        if (asm.done || control.signal.aborted) return;
        const changed = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), control.pollMs ?? 1000);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        wake = undefined;
        await drain();
        // A rotated log: finish the old file (done above), then continue with the new one.
        const now = await stat(path).catch(() => undefined);
        if (now && now.ino !== ino) {
          await fh.close();
          fh = await open(path, "r");
          ino = (await fh.stat()).ino;
          pos = 0;
          rest = Buffer.alloc(0);
          await drain();
          continue;
        }
        if (now && now.size < pos) {
          // Truncated in place (copytruncate): start over at the top. Best effort: a write that
          // lands before we notice the truncation makes the file look grown, not cut.
          pos = 0;
          rest = Buffer.alloc(0);
          await drain();
          continue;
        }
        if (!changed && !(await control.isRunning())) {
          // The runtime may flush the last records as the container exits.
          await drain();
          return;
        }
      }
    } finally {
      control.signal.removeEventListener("abort", onAbort);
    }
  } finally {
    watcher?.close();
    await fh.close().catch(() => undefined);
  }
}
