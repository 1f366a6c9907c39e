// Writes the iptables ruleset with one `iptables-restore --noflush` per sync: only our chains
// are declared (so nobody else's rules are touched), and after the first sync only the chains
// whose rules changed. Full syncs read iptables-save to find leftovers (chains of a previous
// run, missing or duplicate jumps from the built-in chains).
import { performance } from "node:perf_hooks";
import type { Backend, SyncResult } from "../backend.js";
import type { CommandRunner } from "../exec.js";
import { FragmentMemo } from "../fragments.js";
import type { ServicePortInfo } from "../model.js";
import type { IptablesNames } from "../names.js";
import { countRules, iptablesJumps, iptablesRuleset, parseSave, planRestore, restoreScript, TABLES, type IptablesConfig, type IptablesFragment, type IptablesRuleset, type Jump, type RestorePlan, type Table } from "./rules.js";

export const RESTORE = ["iptables-restore", "-w", "5", "--noflush"] as const;

export class IptablesBackend implements Backend {
  readonly mode = "iptables" as const;
  private applied: IptablesRuleset | undefined;
  private readonly memo = new FragmentMemo<IptablesFragment>();

  constructor(
    private readonly cfg: IptablesConfig,
    private readonly run: CommandRunner,
  ) {}

  nextDeadline(): number | undefined {
    return undefined;
  }

  async sync(ports: readonly ServicePortInfo[], fullAsked: boolean): Promise<SyncResult> {
    const desired = iptablesRuleset(ports, this.cfg, this.memo);
    const full = fullAsked || this.applied === undefined;
    let plan: RestorePlan;
    if (full) {
      const { stdout } = await this.run(["iptables-save"]);
      plan = fullPlan(desired, stdout, this.cfg);
    } else {
      const applied = this.applied!;
      plan = { ...planRestore(desired, applied, { filter: applied.filter.keys(), nat: applied.nat.keys() }), addJumps: [], dropJumps: [] };
    }
    const { text, rules } = restoreScript(desired, plan);
    const t0 = performance.now();
    if (text !== "") {
      this.applied = undefined;
      await this.run(RESTORE, text);
    }
    const writeMs = performance.now() - t0;
    this.applied = desired;
    return { wrote: text !== "", rules, totalRules: countRules(desired), full, writeMs };
  }
}

function fullPlan(desired: IptablesRuleset, save: string, cfg: IptablesConfig): RestorePlan {
  const names = cfg.names;
  const parsed = parseSave(save, (c) => names.isOurs(c));
  const { write, remove } = planRestore(desired, undefined, { filter: parsed.filter.chains, nat: parsed.nat.chains });
  const addJumps: Jump[] = [];
  const dropJumps: { table: Table; builtin: string; spec: string }[] = [];
  const wanted = iptablesJumps(cfg);
  for (const t of TABLES) {
    const seen = new Set<string>();
    for (const j of parsed[t].jumps) {
      const key = `${j.builtin} ${j.target}`;
      const ok = desired[t].has(j.target) && wanted.some((w) => w.table === t && w.builtin === j.builtin && w.target === j.target);
      if (!ok || seen.has(key)) dropJumps.push({ table: t, builtin: j.builtin, spec: j.spec });
      else seen.add(key);
    }
    for (const w of wanted) if (w.table === t && !seen.has(`${w.builtin} ${w.target}`)) addJumps.push(w);
  }
  return { write, remove, addJumps, dropJumps };
}

/** Removes every chain named by `names` and every jump to one, from both tables. */
export async function cleanupIptables(names: IptablesNames, run: CommandRunner): Promise<void> {
  const { stdout } = await run(["iptables-save"]);
  const parsed = parseSave(stdout, (c) => names.isOurs(c));
  const empty: IptablesRuleset = { filter: new Map(), nat: new Map() };
  const plan: RestorePlan = {
    write: { filter: [], nat: [] },
    remove: { filter: parsed.filter.chains, nat: parsed.nat.chains },
    addJumps: [],
    dropJumps: TABLES.flatMap((t) => parsed[t].jumps.map((j) => ({ table: t, builtin: j.builtin, spec: j.spec }))),
  };
  const { text } = restoreScript(empty, plan);
  if (text !== "") await run(RESTORE, text);
}
