// The two wire forms of a Kubernetes timestamp. metav1.Time serializes as RFC 3339 in UTC with
// whole seconds (the fraction is truncated, not rounded); metav1.MicroTime, used by Lease
// acquire/renew times and events.k8s.io eventTime, keeps microseconds. A JS Date holds
// milliseconds, so MicroTime's last three digits are always zero. Both take the time as epoch
// milliseconds (what injected clocks return) or as a Date. Slicing the fixed ".sssZ" tail of
// toISOString is cheaper than a regex, and these run on every status write and heartbeat.

/**
 * The last seconds formatted: every write stamps the time of its second (managedFields, status
 * conditions), and a simulated node's sync formats the same handful of instants for every pod.
 */
const recent = new Map<number, string>();
const RECENT = 64;

/** metav1.Time: `YYYY-MM-DDTHH:MM:SSZ`. */
export function rfc3339(t: number | Date): string {
  const sec = Math.floor((typeof t === "number" ? t : t.getTime()) / 1000);
  let s = recent.get(sec);
  if (s === undefined) {
    // An invalid time throws here (toISOString), as it always did, and is never remembered.
    s = `${new Date(sec * 1000).toISOString().slice(0, -5)}Z`;
    if (recent.size >= RECENT) recent.delete(recent.keys().next().value!);
    recent.set(sec, s);
  }
  return s;
}

/** metav1.MicroTime: `YYYY-MM-DDTHH:MM:SS.ssssssZ`. */
export function rfc3339Micro(t: number | Date): string {
  const iso = (typeof t === "number" ? new Date(t) : t).toISOString();
  return `${iso.slice(0, -1)}000Z`;
}

/**
 * Go's time.Duration.String() of a whole number of milliseconds (metav1.Duration's JSON):
 * `0s`, `500ms`, `1.5s`, `2m0s`, `1h0m1.001s`.
 */
export function goDuration(ms: number): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(Math.round(ms));
  if (rest < 1000) return `${sign}${rest}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const frac = rest % 1000;
  const s = `${Math.floor(rest / 1000)}${frac ? `.${String(frac).padStart(3, "0").replace(/0+$/, "")}` : ""}s`;
  return `${sign}${h ? `${h}h${m}m` : m ? `${m}m` : ""}${s}`;
}

/** Parses an RFC 3339 time to ms; undefined for a missing or unparsable one (Go's zero time). */
export function timeOf(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}
