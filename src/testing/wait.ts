// Waiting on a condition with a deadline — the one way tests wait (never a fixed sleep).

/**
 * Polls `probe` until it returns something other than undefined, and returns that. Errors
 * thrown by the probe count as "not yet" and the last one is reported on timeout.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 20_000, pollMs = 25): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
