// Watch streaming: 200 with chunked transfer, one compact JSON event per line, flushed as it
// happens. Each event is serialized once per encoding and shared by every watcher.
import type { HttpContext } from "../http.js";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import type { Status } from "../status.js";
import { columnsOf, rowOf, type IncludeObject, type Rendering } from "../table.js";
import type { CacheWatcher, CachedObject, WatcherEvent } from "../watchcache.js";

export interface WatchServeOptions {
  readonly rendering: Rendering;
  readonly include: IncludeObject;
  readonly timeoutSeconds: number;
  readonly bookmarks: boolean;
  /** The served form of a stored object (conversion for shared storage). */
  readonly served: (obj: Readonly<KubeObject>) => Readonly<KubeObject>;
  readonly currentRevision: () => number;
  /**
   * Set for a streaming list (sendInitialEvents) whose client takes bookmarks: the revision of
   * its initial state, announced after the last of its events by a BOOKMARK annotated
   * `k8s.io/initial-events-end: "true"`.
   */
  readonly initialEventsEnd?: number;
}

/** The annotation of the BOOKMARK that ends a streaming list's initial state. */
export const INITIAL_EVENTS_END_ANNOTATION = "k8s.io/initial-events-end";

const BOOKMARK_INTERVAL_MS = 30_000;

/** The bytes around an event's object: `{"type":"ADDED","object":` … `}` and the line's end. */
const EVENT_HEADS = new Map<string, Buffer>();
const eventHead = (type: string): Buffer => {
  let head = EVENT_HEADS.get(type);
  if (head === undefined) EVENT_HEADS.set(type, (head = Buffer.from(`{"type":"${type}","object":`)));
  return head;
};
const EVENT_TAIL = Buffer.from("}\n");

function startStream(ctx: HttpContext): void {
  ctx.code = 200;
  ctx.res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
  ctx.res.flushHeaders();
}

async function write(ctx: HttpContext, line: string | Buffer): Promise<boolean> {
  if (ctx.res.destroyed || ctx.signal.aborted) return false;
  if (!ctx.res.write(line)) {
    // Wait for the client to catch up (or go away), leaving no listener behind.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        ctx.res.off("drain", done);
        ctx.res.off("close", done);
        resolve();
      };
      ctx.res.on("drain", done);
      ctx.res.on("close", done);
    });
  }
  return !ctx.res.destroyed;
}

/** A watch that fails at once (e.g. 410 Expired): one ERROR event, then the end. */
export async function serveWatchError(ctx: HttpContext, status: Status): Promise<void> {
  startStream(ctx);
  await write(ctx, JSON.stringify({ type: "ERROR", object: status }) + "\n");
  ctx.res.end();
}

export async function serveWatch(ctx: HttpContext, def: ResourceDefinition, watcher: CacheWatcher, opts: WatchServeOptions): Promise<void> {
  startStream(ctx);
  // Encoding ids, made once per watch rather than once per event.
  const idPrefix = `${def.group}/${def.version}/${def.plural}|${opts.rendering}|${opts.include}|`;
  const ids: Record<string, string> = {};
  const encodingId = (type: string): string => (ids[type] ??= idPrefix + type);
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  ctx.res.once("close", onAbort);
  let firstTable = true;
  let lastBookmark = Date.now();
  const encodeObject = (type: string, obj: CachedObject): Buffer => {
    if (opts.rendering === "table") {
      const table = { kind: "Table", apiVersion: "meta.k8s.io/v1", metadata: { resourceVersion: obj.object.metadata?.resourceVersion ?? "" }, columnDefinitions: firstTable ? columnsOf(def) : [], rows: [rowOf(def, opts.served(obj.object), new Date(), opts.include)] };
      return Buffer.from(JSON.stringify({ type, object: table }) + "\n");
    }
    if (opts.rendering === "metadata") {
      return Buffer.from(JSON.stringify({ type, object: { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.object.metadata } }) + "\n");
    }
    const served = opts.served(obj.object);
    if (served === obj.object) return obj.jsonBytes(eventHead(type), EVENT_TAIL);
    return Buffer.from(`{"type":"${type}","object":${JSON.stringify(served)}}\n`);
  };
  const apiVersion = def.group === "" ? def.version : `${def.group}/${def.version}`;
  const bookmark = (rv: number, annotations?: Record<string, string>): Buffer => Buffer.from(JSON.stringify({ type: "BOOKMARK", object: { kind: def.kind, apiVersion, metadata: { resourceVersion: String(rv), ...(annotations ? { annotations } : {}) } } }) + "\n");
  let initialEnd = opts.initialEventsEnd;
  const encodeEvent = (e: WatcherEvent): Buffer => {
    // Tables carry column definitions on the first event only, so that one is not shared.
    const line = opts.rendering === "table" && firstTable ? encodeObject(e.type, e.object) : e.event.encode(encodingId(e.object === e.event.object ? e.type : `${e.type}|prev`), () => encodeObject(e.type, e.object));
    firstTable = false;
    return line;
  };
  /** The next line to send, if one is ready: the initial state's end goes between its last event and the first change. */
  const nextLine = (): Buffer | undefined => {
    if (initialEnd !== undefined) {
      const owed = watcher.takeOwed();
      if (owed) return encodeEvent(owed);
      if (watcher.closed) return undefined;
      const line = bookmark(initialEnd, { [INITIAL_EVENTS_END_ANNOTATION]: "true" });
      initialEnd = undefined;
      return line;
    }
    const n = watcher.takeNow();
    return n && encodeEvent(n);
  };
  try {
    while (!stop.signal.aborted) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      let line = nextLine();
      if (line) {
        // Every event that is ready goes out in one write (up to 1 MiB): one write per event,
        // each waiting for the socket, left busy watchers far behind under load.
        const batch: Buffer[] = [];
        let size = 0;
        while (line) {
          batch.push(line);
          size += line.length;
          if (size >= 1 << 20) break;
          line = nextLine();
        }
        if (!(await write(ctx, batch.length === 1 ? batch[0]! : Buffer.concat(batch, size)))) break;
        continue;
      }
      if (watcher.closed) break;
      if (opts.bookmarks && Date.now() - lastBookmark >= BOOKMARK_INTERVAL_MS) {
        lastBookmark = Date.now();
        if (!(await write(ctx, bookmark(opts.currentRevision())))) break;
      }
      await watcher.waitForEvent(stop.signal, Math.min(remaining, opts.bookmarks ? BOOKMARK_INTERVAL_MS : remaining));
    }
  } finally {
    watcher.close();
    ctx.signal.removeEventListener("abort", onAbort);
    if (!ctx.res.destroyed) ctx.res.end();
  }
}
