// The one interface the Proxier drives; iptables/ and nftables/ implement it.
import type { ProxyMode, ServicePortInfo } from "./model.js";

export interface SyncResult {
  /** Something was written to the kernel (false: the rules already matched). */
  readonly wrote: boolean;
  /** Rules (and map elements) written by this sync. */
  readonly rules: number;
  /** Rules (and map elements) of the whole desired ruleset. */
  readonly totalRules: number;
  readonly full: boolean;
  /** Of the sync, the time spent in iptables-restore / nft. */
  readonly writeMs: number;
}

export interface Backend {
  readonly mode: ProxyMode;
  /**
   * Makes the kernel's rules those of `ports`. `full`: rewrite everything and find leftovers
   * in the kernel; otherwise only what differs from the last successful sync. After a failed
   * sync the next one is full whatever is asked.
   */
  sync(ports: readonly ServicePortInfo[], full: boolean): Promise<SyncResult>;
  /** When (Date.now() ms) the backend needs another sync to finish deferred work, if it does. */
  nextDeadline(): number | undefined;
}
