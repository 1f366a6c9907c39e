// The timer behind a level-triggered sync (the Proxier's, the network policy controller's):
// one sync at a time, each started when its owner says the next one is due, re-armed after
// every sync and whenever the owner learns of a change. The owner keeps its own reasons
// (dirty state, throttling, periodic and retry deadlines) and folds them into `dueAt`.
export class SyncLoop {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  /** `dueAt`: when the next sync should start (ms since the epoch; past means now). `sync` must not reject. */
  constructor(
    private readonly dueAt: () => number,
    private readonly sync: () => Promise<void>,
  ) {}

  /** (Re)arms the one timer for dueAt(); a running sync re-arms it when it ends. */
  wake(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || this.inFlight) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.dueAt() - Date.now()));
  }

  /** No sync starts after this; resolves when the running one (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }

  private fire(): void {
    this.timer = undefined;
    if (this.stopped || this.inFlight) return;
    this.inFlight = this.sync().finally(() => {
      this.inFlight = undefined;
      this.wake();
    });
  }
}
