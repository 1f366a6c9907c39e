// Writes the nftables ruleset with one `nft -f -` transaction per sync. The first transaction
// replaces our table whole (anything of a previous run goes with it); later ones change only
// the chains and map elements that differ from the last one that succeeded.
import { performance } from "node:perf_hooks";
import type { Backend, SyncResult } from "../backend.js";
import type { CommandRunner } from "../exec.js";
import { FragmentMemo } from "../fragments.js";
import type { ServicePortInfo } from "../model.js";
import { countNftRules, nftRuleset, nftScript, STALE_CHAIN_DELAY_MS, type NftApplied, type NftConfig, type NftFragment } from "./rules.js";

export class NftablesBackend implements Backend {
  readonly mode = "nftables" as const;
  private applied: NftApplied | undefined;
  private readonly memo = new FragmentMemo<NftFragment>();

  constructor(
    private readonly cfg: NftConfig,
    private readonly run: CommandRunner,
  ) {}

  nextDeadline(): number | undefined {
    let first: number | undefined;
    for (const at of this.applied?.stale.values() ?? []) first = Math.min(first ?? Infinity, at + STALE_CHAIN_DELAY_MS);
    return first;
  }

  async sync(ports: readonly ServicePortInfo[], fullAsked: boolean): Promise<SyncResult> {
    const desired = nftRuleset(ports, this.cfg, this.memo);
    const full = fullAsked || this.applied === undefined;
    const script = nftScript(this.cfg.table, desired, this.applied, full, Date.now());
    const t0 = performance.now();
    if (script.text !== "") {
      // A failed transaction changes nothing, but what it leaves is no longer known for sure:
      // the next sync starts from a fresh table.
      this.applied = undefined;
      await this.run(["nft", "-f", "-"], script.text);
    }
    const writeMs = performance.now() - t0;
    this.applied = { rs: desired, stale: script.stale };
    return { wrote: script.text !== "", rules: script.rules, totalRules: countNftRules(desired), full, writeMs };
  }
}

/** Deletes our table, if there is one. */
export async function cleanupNftables(table: string, run: CommandRunner): Promise<void> {
  // `add` first so the delete cannot fail on a missing table, all in one transaction.
  await run(["nft", "-f", "-"], `add table ip ${table}\ndelete table ip ${table}\n`);
}
