// Both backends build their ruleset from one fragment per service port. A port whose inputs did
// not change since the last ruleset reuses its fragment (the same arrays), so generating and
// diffing a ruleset where one service of 1,000 changed costs little more than that one service.
import type { ServicePortInfo } from "./model.js";

export class FragmentMemo<F> {
  private last = new Map<string, F>();

  /** The fragment of each port, in order: the last call's for an unchanged port, else `build(sp)`. */
  fragments(ports: readonly ServicePortInfo[], build: (sp: ServicePortInfo) => F): F[] {
    const next = new Map<string, F>();
    const out = ports.map((sp) => {
      const key = JSON.stringify(sp);
      const f = this.last.get(key) ?? build(sp);
      next.set(key, f);
      return f;
    });
    this.last = next;
    return out;
  }
}

/** A chain's rules are unchanged: the same array (a reused fragment), or the same lines. */
export function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((l, i) => l === b[i]));
}
