// Scrapes every Ready node's kubelet (/metrics/resource, with the API server's kubelet client
// certificate, as the logs and exec proxy reach it) into a MetricsStore, as metrics-server does
// every 15 s. It runs only while the metrics API is used: the first request starts it with two
// scrapes of each node a second apart (usage needs two points), waiting 3 s at most for them,
// and it stops after ten minutes without a request, so an idle cluster (or a benchmark) never
// pays for it.
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import type { Node } from "kubernetes-types/core/v1.js";
import { isReady } from "../../api/conditions.js";
import { SIMULATED_NODE_ANNOTATION } from "../../api/labels.js";
import type { KubeObject } from "../registry/types.js";
import { kubeletAddress } from "../proxy/index.js";
import type { CertAndKey } from "../../util/pki.js";
import { parseResourceMetrics } from "./points.js";
import { MetricsStore } from "./store.js";

export interface ScraperOptions {
  /** The nodes as the API server has them now (its watch cache). */
  readonly nodes: () => readonly Readonly<KubeObject>[];
  readonly kubeletClient: CertAndKey;
  readonly log: { warn(obj: object, msg: string): void };
  /** metrics-server's --metric-resolution. */
  readonly resolutionMs?: number;
  /** Stop scraping after this long without a request. */
  readonly idleMs?: number;
  /** Per kubelet; metrics-server's --kubelet-request-timeout is 10 s. */
  readonly timeoutMs?: number;
  /** The first round's gap between its two scrapes. */
  readonly warmupGapMs?: number;
  /** How long the first request waits for the first round at most. */
  readonly firstAnswerMs?: number;
}

export class Scraper {
  readonly store = new MetricsStore();
  private readonly resolutionMs: number;
  private readonly idleMs: number;
  private readonly timeoutMs: number;
  private readonly warmupGapMs: number;
  private readonly firstAnswerMs: number;
  /** Set while scraping is on: resolves once every node has had its first two scrapes. */
  private warm: Promise<void> | undefined;
  /** Requests wait for the first scrapes until then (ms since the epoch), not after. */
  private warmWaitEnds = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastUse = 0;
  private stopped = false;

  constructor(private readonly o: ScraperOptions) {
    this.resolutionMs = o.resolutionMs ?? 15_000;
    this.idleMs = o.idleMs ?? 600_000;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.warmupGapMs = o.warmupGapMs ?? 1_000;
    this.firstAnswerMs = o.firstAnswerMs ?? 3_000;
  }

  /**
   * Called by each metrics request: starts scraping if it is off, and waits for the first two
   * scrapes of every node, but never past `firstAnswerMs` after they began (a kubelet that does
   * not answer does not hold up the others' figures).
   */
  async used(): Promise<void> {
    this.lastUse = Date.now();
    if (this.stopped) return;
    if (!this.warm) {
      this.warm = this.warmUp();
      this.warmWaitEnds = this.lastUse + this.firstAnswerMs;
    }
    const wait = this.warmWaitEnds - this.lastUse;
    if (wait <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.warm, new Promise<void>((r) => (timer = setTimeout(r, wait)))]);
    clearTimeout(timer);
  }

  /** Whether scraping is on (a request came within the idle time). */
  get scraping(): boolean {
    return this.warm !== undefined;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /**
   * Two scrapes of each node a gap apart, each node on its own; then the regular rounds. What
   * the store kept from before an idle pause goes first: usage over the pause is no one's now.
   */
  private async warmUp(): Promise<void> {
    for (const name of [...this.store.nodeNames()]) this.store.forget(name);
    await Promise.all(
      this.targets().map(async (node) => {
        await this.scrape(node);
        await new Promise((r) => setTimeout(r, this.warmupGapMs));
        await this.scrape(node);
      }),
    );
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      if (Date.now() - this.lastUse > this.idleMs) {
        this.warm = undefined;
        return;
      }
      void this.scrapeAll().finally(() => this.schedule());
    }, this.resolutionMs);
    this.timer.unref();
  }

  /** One round: every Ready, real node at once. */
  async scrapeAll(): Promise<void> {
    await Promise.all(this.targets().map((node) => this.scrape(node)));
  }

  /** The nodes to scrape, Ready and not simulated; the store forgets every other node. */
  private targets(): Readonly<KubeObject>[] {
    const targets = this.o.nodes().filter((n) => isReady(n as Node) && !n.metadata?.annotations?.[SIMULATED_NODE_ANNOTATION]);
    const names = new Set(targets.map((n) => n.metadata?.name ?? ""));
    for (const name of [...this.store.nodeNames()]) if (!names.has(name)) this.store.forget(name);
    return targets;
  }

  /** One scrape of one node into the store; a node that fails keeps no points (its usage would be stale). */
  private async scrape(node: Readonly<KubeObject>): Promise<void> {
    const name = node.metadata?.name ?? "";
    try {
      const at = Date.now();
      const text = await this.get(node);
      this.store.record(name, parseResourceMetrics(text, at), at);
    } catch (err) {
      this.store.forget(name);
      this.o.log.warn({ node: name, err: err instanceof Error ? err.message : String(err) }, "metrics: could not scrape the kubelet");
    }
  }

  private get(node: Readonly<KubeObject>): Promise<string> {
    const kubelet = kubeletAddress(node);
    if (typeof kubelet === "string") return Promise.reject(new Error(kubelet));
    const { host, port } = kubelet;
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host,
          port,
          path: "/metrics/resource",
          method: "GET",
          cert: this.o.kubeletClient.certPem,
          key: this.o.kubeletClient.keyPem,
          // As the logs and exec proxy: the kubelet is reached by its client certificate's trust, not its own.
          rejectUnauthorized: false,
          ...(isIP(host) === 0 ? { servername: host } : {}),
          timeout: this.timeoutMs,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString("utf8")) : reject(new Error(`GET https://${host}:${port}/metrics/resource: ${res.statusCode}`))));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`GET https://${host}:${port}/metrics/resource: no answer within ${this.timeoutMs} ms`)));
      req.on("error", reject);
      req.end();
    });
  }
}
