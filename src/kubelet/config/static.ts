// Static pods (upstream pkg/kubelet/config file.go, http.go, common.go): pods described by
// manifests in a directory (--pod-manifest-path) or at a URL (--manifest-url) rather than in
// the API. Each manifest document (YAML or JSON; several per file with `---`; a v1 List or
// PodList) that is a valid Pod becomes a pod of this node:
//  - named `<name>-<node name>`, in namespace default when it names none, spec.nodeName set;
//  - with a uid that hashes the manifest, the node and the source (stable across restarts, new
//    when the manifest changes), also written as the kubernetes.io/config.hash annotation,
//    plus config.source (file/http) and config.seen;
//  - tolerating every NoExecute taint (so node problems never evict it), and with the defaults
//    the API server would have applied.
// The directory is re-read on fs.watch events (debounced) and every pollIntervalMs, the URL
// every pollIntervalMs; onChange gets the whole list whenever it differs from the last one.
// A manifest that cannot be read or is not a valid pod is logged and skipped; one that
// becomes invalid drops out of the list, as upstream does. An unreachable URL keeps its last
// list.
import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Pod } from "kubernetes-types/core/v1.js";
import { parseAllDocuments } from "yaml";
import type { Logger } from "../../util/log.js";
import { ANNOTATION_CONFIG_HASH, ANNOTATION_CONFIG_SEEN, ANNOTATION_CONFIG_SOURCE } from "../types.js";
import { applyPodDefaults } from "./defaults.js";
import { CodedError } from "../../util/errors.js";

export type StaticPodErrorCode = "InvalidManifest" | "InvalidOptions";

export class StaticPodError extends CodedError<StaticPodErrorCode> {
  override readonly name = "StaticPodError";
}

export interface StaticPodSourceOptions {
  nodeName: string;
  manifestPath?: string;
  manifestUrl?: string;
  /** how often the directory and the URL are re-read; default 20 000 (upstream's file check and http intervals) */
  pollIntervalMs?: number;
  /** how long after an fs.watch event the directory is read (edits come in bursts); default 100 */
  debounceMs?: number;
  /** timeout of one fetch of the URL; default 10 000 */
  fetchTimeoutMs?: number;
  log: Logger;
  onChange: (pods: Pod[]) => void;
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** RFC 3339 with nanoseconds, as upstream's config.seen. */
function seenNow(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === "object" && !Array.isArray(val) ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : val,
  );
}

/** The problems that keep a manifest document from being a pod, in upstream's words where it has them. */
function validate(doc: Record<string, unknown>, nodeName: string): string[] {
  const errs: string[] = [];
  if (doc["kind"] !== "Pod") errs.push(`kind must be Pod, got ${JSON.stringify(doc["kind"])}`);
  if (doc["apiVersion"] !== undefined && doc["apiVersion"] !== "v1") errs.push(`apiVersion must be v1, got ${JSON.stringify(doc["apiVersion"])}`);
  const meta = (doc["metadata"] ?? {}) as Record<string, unknown>;
  const name = meta["name"];
  if (typeof name !== "string" || name === "") errs.push("metadata.name: Required value");
  else {
    const full = `${name}-${nodeName.toLowerCase()}`;
    if (full.length > 253 || !DNS1123_SUBDOMAIN.test(full)) errs.push(`metadata.name: Invalid value: ${JSON.stringify(full)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
  }
  const ns = meta["namespace"];
  if (ns !== undefined && ns !== "" && (typeof ns !== "string" || ns.length > 63 || !DNS1123_LABEL.test(ns))) errs.push(`metadata.namespace: Invalid value: ${JSON.stringify(ns)}`);
  const spec = doc["spec"] as Record<string, unknown> | undefined;
  const containers = spec?.["containers"];
  if (!Array.isArray(containers) || containers.length === 0) errs.push("spec.containers: Required value");
  const names = new Set<string>();
  for (const [field, list] of [
    ["spec.initContainers", spec?.["initContainers"]],
    ["spec.containers", containers],
  ] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      errs.push(`${field}: must be a list`);
      continue;
    }
    list.forEach((c: unknown, i) => {
      const o = (c ?? {}) as Record<string, unknown>;
      const n = o["name"];
      if (typeof n !== "string" || !DNS1123_LABEL.test(n)) errs.push(`${field}[${i}].name: Invalid value: ${JSON.stringify(n)}`);
      else if (names.has(n)) errs.push(`${field}[${i}].name: Duplicate value: ${JSON.stringify(n)}`);
      else names.add(n);
      if (typeof o["image"] !== "string" || o["image"].trim() === "") errs.push(`${field}[${i}].image: Required value`);
    });
  }
  return errs;
}

export interface ManifestSource {
  readonly kind: "file" | "http";
  /** the file path or the URL (hashed into the uid, as upstream does) */
  readonly location: string;
}

/**
 * The pods of one manifest (a file's or a URL's text): invalid documents are reported through
 * `skip` and left out. `seen` gives config.seen per uid (first sight), so it stays stable.
 */
export function podsFromManifest(text: string, source: ManifestSource, nodeName: string, skip: (why: string) => void, seen: (uid: string) => string = seenNow): Pod[] {
  const docs: unknown[] = [];
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length > 0) {
      skip(`not valid YAML or JSON: ${d.errors[0]!.message}`);
      continue;
    }
    const v: unknown = d.toJS();
    if (v === null || v === undefined) continue;
    docs.push(v);
  }
  const pods: Pod[] = [];
  const expand = (v: unknown): void => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      skip("a manifest document must be an object");
      return;
    }
    const o = v as Record<string, unknown>;
    if ((o["kind"] === "List" || o["kind"] === "PodList") && Array.isArray(o["items"])) {
      for (const item of o["items"] as unknown[]) expand(item);
      return;
    }
    const errs = validate(o, nodeName);
    if (errs.length > 0) {
      const name = ((o["metadata"] ?? {}) as Record<string, unknown>)["name"];
      skip(`pod ${JSON.stringify(name ?? "")} is invalid: ${errs.join("; ")}`);
      return;
    }
    pods.push(toStaticPod(o, source, nodeName, seen));
  };
  for (const d of docs) expand(d);
  return pods;
}

function toStaticPod(doc: Record<string, unknown>, source: ManifestSource, nodeName: string, seen: (uid: string) => string): Pod {
  const pod = structuredClone(doc) as unknown as Pod;
  const meta = (pod.metadata ??= {}) as NonNullable<Pod["metadata"]> & Record<string, unknown>;
  // upstream's applyDefaults: md5 of the pod as written, then the node and where it came from.
  const uid =
    meta.uid ||
    createHash("md5")
      .update(canonical(doc))
      .update(`host:${nodeName}`)
      .update(source.kind === "file" ? `file:${source.location}` : `url:${source.location}`)
      .digest("hex");
  const m = meta as { -readonly [K in keyof typeof meta]: (typeof meta)[K] };
  m.uid = uid;
  m.name = `${meta.name}-${nodeName.toLowerCase()}`;
  m.namespace ||= "default";
  m.annotations = { ...meta.annotations, [ANNOTATION_CONFIG_HASH]: uid, [ANNOTATION_CONFIG_SOURCE]: source.kind, [ANNOTATION_CONFIG_SEEN]: seen(uid) };
  for (const k of ["resourceVersion", "creationTimestamp", "generation", "selfLink", "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds"]) delete m[k];
  const spec = pod.spec!;
  (spec as { nodeName?: string }).nodeName = nodeName;
  // Static pods tolerate every NoExecute taint: node problems must not evict what the node itself runs.
  const tolerations = [...(spec.tolerations ?? [])];
  if (!tolerations.some((t) => t.operator === "Exists" && !t.key && t.effect === "NoExecute")) tolerations.push({ operator: "Exists", effect: "NoExecute" });
  (spec as { tolerations?: typeof tolerations }).tolerations = tolerations;
  applyPodDefaults(spec);
  (pod as { status?: Pod["status"] }).status = { phase: "Pending" };
  (pod as { apiVersion?: string }).apiVersion = "v1";
  (pod as { kind?: string }).kind = "Pod";
  return pod;
}

/** What decides whether the list changed: everything but config.seen. */
function fingerprint(pods: readonly Pod[]): string {
  return canonical(
    pods.map((p) => {
      const { [ANNOTATION_CONFIG_SEEN]: _seen, ...annotations } = p.metadata?.annotations ?? {};
      return { ...p, metadata: { ...p.metadata, annotations } };
    }),
  );
}

export class StaticPodSource {
  private readonly o: Required<Pick<StaticPodSourceOptions, "pollIntervalMs" | "debounceMs" | "fetchTimeoutMs">> & StaticPodSourceOptions;
  private readonly seenAt = new Map<string, string>();
  private filePods: Pod[] = [];
  private httpPods: Pod[] = [];
  private lastBody: string | undefined;
  private lastEmitted: string | undefined;
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private rereadFiles = false;
  private stopped = false;
  /** files already reported as invalid, with the text they had, so each problem is logged once */
  private readonly reported = new Map<string, string>();

  constructor(o: StaticPodSourceOptions) {
    if (!o.manifestPath && !o.manifestUrl) throw new StaticPodError("InvalidOptions", "a manifest path or a manifest URL is needed");
    this.o = { pollIntervalMs: 20_000, debounceMs: 100, fetchTimeoutMs: 10_000, ...o };
  }

  private seen = (uid: string): string => {
    let t = this.seenAt.get(uid);
    if (!t) {
      t = seenNow();
      this.seenAt.set(uid, t);
    }
    return t;
  };

  /** Reads every source once and reports the result (also when empty); then keeps watching. */
  async start(): Promise<void> {
    this.stopped = false;
    await Promise.all([this.o.manifestPath ? this.readFiles() : undefined, this.o.manifestUrl ? this.readUrl() : undefined]);
    this.emit(true);
    this.armWatch();
    this.poll = setInterval(() => this.refresh(), this.o.pollIntervalMs);
    this.poll.unref();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
  }

  private refresh(): void {
    if (this.stopped) return;
    this.armWatch();
    this.scheduleFiles(0);
    if (this.o.manifestUrl) void this.readUrl().then(() => this.emit(false));
  }

  /** Watches the manifest directory (or the file's directory); a path that does not exist yet is picked up by the poll. */
  private armWatch(): void {
    const path = this.o.manifestPath;
    if (!path || this.watcher || this.stopped) return;
    const tryWatch = (dir: string): FSWatcher | undefined => {
      try {
        return watch(dir, { persistent: false }, () => this.scheduleFiles(this.o.debounceMs));
      } catch {
        return undefined;
      }
    };
    // A directory is watched itself; a single file through its directory (editors replace files).
    const w = tryWatch(path) ?? tryWatch(dirname(path));
    if (!w) return;
    w.on("error", (err) => {
      this.o.log.debug({ err, path }, "watching the manifest path failed; polling");
      w.close();
      if (this.watcher === w) this.watcher = undefined;
    });
    this.watcher = w;
  }

  private scheduleFiles(ms: number): void {
    if (!this.o.manifestPath || this.stopped) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.rereadAndEmit();
    }, ms);
    this.debounce.unref();
  }

  /** One directory read at a time; an event during a read reads again after it. */
  private async rereadAndEmit(): Promise<void> {
    if (this.reading) {
      this.rereadFiles = true;
      return;
    }
    this.reading = this.readFiles();
    await this.reading;
    this.reading = undefined;
    this.emit(false);
    if (this.rereadFiles) {
      this.rereadFiles = false;
      this.scheduleFiles(0);
    }
  }

  private async manifestFiles(path: string): Promise<string[]> {
    let st;
    try {
      st = await stat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.o.log.warn({ err, path }, "cannot read the pod manifest path");
      return [];
    }
    if (!st.isDirectory()) return [path];
    const names = (await readdir(path)).filter((n) => !n.startsWith(".") && MANIFEST_EXT.test(n)).sort();
    const files: string[] = [];
    for (const n of names) {
      const p = join(path, n);
      try {
        if ((await stat(p)).isFile()) files.push(p);
      } catch {
        // removed meanwhile
      }
    }
    return files;
  }

  private async readFiles(): Promise<void> {
    const path = this.o.manifestPath;
    if (!path) return;
    const pods: Pod[] = [];
    const files = await this.manifestFiles(path).catch((err: unknown) => {
      this.o.log.warn({ err, path }, "cannot list the pod manifest directory");
      return undefined;
    });
    // A directory that cannot be listed keeps the last list rather than stopping every static pod.
    if (!files) return;
    const present = new Set(files);
    for (const f of [...this.reported.keys()]) if (!present.has(f)) this.reported.delete(f);
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (err) {
        this.o.log.warn({ err, file: basename(file) }, "cannot read pod manifest; skipped");
        continue;
      }
      const problems: string[] = [];
      pods.push(...podsFromManifest(text, { kind: "file", location: file }, this.o.nodeName, (why) => problems.push(why), this.seen));
      if (problems.length > 0 && this.reported.get(file) !== text) this.o.log.warn({ file, problems }, "invalid static pod manifest; skipped");
      if (problems.length > 0) this.reported.set(file, text);
      else this.reported.delete(file);
    }
    this.filePods = pods;
  }

  private async readUrl(): Promise<void> {
    const url = this.o.manifestUrl;
    if (!url) return;
    let body: string;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.o.fetchTimeoutMs) });
      body = await res.text();
      if (!res.ok) throw new StaticPodError("InvalidManifest", `${url}: HTTP ${res.status}`);
    } catch (err) {
      this.o.log.warn({ err, url }, "cannot fetch the pod manifest URL; keeping the last pods it gave");
      return;
    }
    if (body === this.lastBody) return;
    this.lastBody = body;
    const problems: string[] = [];
    this.httpPods = podsFromManifest(body, { kind: "http", location: url }, this.o.nodeName, (why) => problems.push(why), this.seen);
    if (problems.length > 0) this.o.log.warn({ url, problems }, "invalid static pod manifest at the URL; skipped");
  }

  private emit(always: boolean): void {
    if (this.stopped) return;
    // The same pod from two places: the first one (files before the URL, then file name order) wins.
    const byName = new Map<string, Pod>();
    const twice: string[] = [];
    for (const p of [...this.filePods, ...this.httpPods]) {
      const key = `${p.metadata?.namespace}/${p.metadata?.name}`;
      if (byName.has(key)) twice.push(key);
      else byName.set(key, p);
    }
    const pods = [...byName.values()];
    const fp = fingerprint(pods);
    if (!always && fp === this.lastEmitted) return;
    this.lastEmitted = fp;
    if (twice.length > 0) this.o.log.warn({ pods: twice }, "static pods defined twice; the later definitions are ignored");
    const live = new Set(pods.map((p) => p.metadata!.uid!));
    for (const uid of [...this.seenAt.keys()]) if (!live.has(uid)) this.seenAt.delete(uid);
    try {
      this.o.onChange(pods.map((p) => structuredClone(p)));
    } catch (err) {
      this.o.log.error({ err }, "static pod change handler threw");
    }
  }
}
