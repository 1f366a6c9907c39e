// When a CronJob's schedule fires. Parsing is api/cron.ts's robfig/cron ParseStandard port,
// the one the API server validates with, so the controller accepts exactly the schedules the
// server let in (5 fields, names, ranges, steps, `?`, the @descriptors including @every, and
// the legacy TZ=/CRON_TZ= prefix). This file adds what the controller needs on top:
//  - robfig's SpecSchedule.Next and ConstantDelaySchedule.Next, in an IANA time zone read
//    through Intl (wall-clock fields and offsets), with Go's time.Date rules for wall times
//    that do not exist or happen twice around a DST change;
//  - upstream's mostRecentScheduleTime (pkg/controller/cronjob/utils.go): the latest missed
//    activation between two instants, and its rough count of how many were missed.
import { CronParseError, isKnownTimeZone, parseStandardCron, type CronField } from "../../api/cron.js";
import { CodedError } from "../../util/errors.js";

export { CronParseError, isKnownTimeZone };

export type CronScheduleErrorCode = "ScheduleInterval";

export class CronScheduleError extends CodedError<CronScheduleErrorCode> {
  override readonly name = "CronScheduleError";
}

/** A parsed schedule. Times are epoch milliseconds. */
export interface Schedule {
  /** The first activation strictly after `t`; undefined when none falls within robfig's five-year search. */
  next(t: number): number | undefined;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

// ---- time zones -----------------------------------------------------------------------------

/** A wall-clock reading; month 1-12, weekday 0 (Sunday) - 6. */
interface Wall {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly weekday: number;
}

/** Wall clocks and offsets of one zone. */
export interface Zone {
  readonly name: string;
  wall(t: number): Wall;
  /** Seconds east of UTC at `t`, in milliseconds. */
  offset(t: number): number;
}

function wallOfUtc(t: number): Wall {
  const d = new Date(t);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), weekday: d.getUTCDay() };
}

const UTC: Zone = { name: "UTC", wall: wallOfUtc, offset: () => 0 };

class IntlZone implements Zone {
  private readonly fmt: Intl.DateTimeFormat;

  constructor(readonly name: string) {
    this.fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: name,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  }

  wall(t: number): Wall {
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const p of this.fmt.formatToParts(t)) {
      const v = Number(p.value);
      if (p.type === "year") year = v;
      else if (p.type === "month") month = v;
      else if (p.type === "day") day = v;
      else if (p.type === "hour") hour = v;
      else if (p.type === "minute") minute = v;
      else if (p.type === "second") second = v;
    }
    return { year, month, day, hour, minute, second, weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay() };
  }

  offset(t: number): number {
    const w = this.wall(t);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - (t - mod(t, SECOND));
  }
}

const zones = new Map<string, Zone>();

/**
 * The zone of an IANA name, as Go's time.LoadLocation finds it: "" and "UTC" are UTC, and so
 * is "Local", the controller's own zone (UTC in k8ts processes). Throws for an unknown name.
 */
export function loadZone(name: string): Zone {
  if (name === "" || name === "UTC" || name === "Local") return UTC;
  let z = zones.get(name);
  if (!z) {
    if (!isKnownTimeZone(name)) throw new CronParseError(`unknown time zone ${name}`);
    z = new IntlZone(name);
    zones.set(name, z);
  }
  return z;
}

/**
 * Go's time.Date: the instant of a wall time, fields out of range carried over (month 13 is
 * January of the next year). A wall time that a DST change skips or repeats resolves as Go
 * resolves it: with the offset in force at the wall time read as UTC, unless the instant that
 * gives lies outside that offset's period, and then with the offset at that instant.
 */
function fromWall(zone: Zone, year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const guess = zone.offset(local);
  const utc = local - guess;
  const actual = zone.offset(utc);
  return actual === guess ? utc : local - actual;
}

/** Go's t.AddDate(0, months, days) in `zone`. */
function addDate(zone: Zone, t: number, months: number, days: number): number {
  const w = zone.wall(t);
  return fromWall(zone, w.year, w.month + months, w.day + days, w.hour, w.minute, w.second) + mod(t, SECOND);
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** Go's t.In(zone).Format(time.RFC3339): `2016-05-19T06:00:00-04:00`, `Z` for a zero offset. */
export function formatRFC3339In(t: number, zone: Zone): string {
  const w = zone.wall(t);
  const off = Math.round(zone.offset(t) / MINUTE);
  const sign = off < 0 ? "-" : "+";
  const abs = Math.abs(off);
  const suffix = off === 0 ? "Z" : `${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
  return `${String(w.year).padStart(4, "0")}-${two(w.month)}-${two(w.day)}T${two(w.hour)}:${two(w.minute)}:${two(w.second)}${suffix}`;
}

// ---- schedules ------------------------------------------------------------------------------

interface Fields {
  readonly minute: CronField;
  readonly hour: CronField;
  readonly dayOfMonth: CronField;
  readonly month: CronField;
  readonly dayOfWeek: CronField;
}

/**
 * robfig's dayMatches: when day-of-month or day-of-week is `*` (or `?`) both must match, which
 * leaves the other one deciding; when both are restricted either one matching is enough.
 */
function dayMatches(f: Fields, w: Wall): boolean {
  const dom = f.dayOfMonth.values.has(w.day);
  const dow = f.dayOfWeek.values.has(w.weekday);
  if (f.dayOfMonth.star || f.dayOfWeek.star) return dom && dow;
  return dom || dow;
}

/**
 * robfig's SpecSchedule.Next: from the next whole second, walk month, day, hour and minute
 * forward in the zone's wall clock until all match (seconds are always 0 in the standard
 * format), starting over when a field wraps; give up after five years.
 */
class SpecSchedule implements Schedule {
  constructor(
    private readonly f: Fields,
    private readonly zone: Zone,
  ) {}

  next(from: number): number | undefined {
    const { f, zone } = this;
    let t = from + SECOND - mod(from, SECOND);
    let added = false;
    const yearLimit = zone.wall(t).year + 5;
    wrap: for (;;) {
      let w = zone.wall(t);
      if (w.year > yearLimit) return undefined;

      while (!f.month.values.has(w.month)) {
        if (!added) {
          added = true;
          t = fromWall(zone, w.year, w.month, 1, 0, 0, 0);
        }
        t = addDate(zone, t, 1, 0);
        w = zone.wall(t);
        if (w.month === 1) continue wrap;
      }

      while (!dayMatches(f, w)) {
        if (!added) {
          added = true;
          t = fromWall(zone, w.year, w.month, w.day, 0, 0, 0);
        }
        t = addDate(zone, t, 0, 1);
        w = zone.wall(t);
        // A DST change at midnight moves the day's start to 23:00 or 01:00: back to midnight.
        if (w.hour !== 0) {
          t += w.hour > 12 ? (24 - w.hour) * HOUR : -w.hour * HOUR;
          w = zone.wall(t);
        }
        if (w.day === 1) continue wrap;
      }

      while (!f.hour.values.has(w.hour)) {
        if (!added) {
          added = true;
          t = fromWall(zone, w.year, w.month, w.day, w.hour, 0, 0);
        }
        t += HOUR;
        w = zone.wall(t);
        if (w.hour === 0) continue wrap;
      }

      while (!f.minute.values.has(w.minute)) {
        if (!added) {
          added = true;
          t -= mod(t, MINUTE);
        }
        t += MINUTE;
        w = zone.wall(t);
        if (w.minute === 0) continue wrap;
      }

      // robfig steps one second at a time to second 0 and then starts over; jump there at once.
      if (w.second !== 0) {
        if (!added) {
          added = true;
          t -= mod(t, SECOND);
        }
        t += (60 - w.second) * SECOND;
        continue wrap;
      }
      return t;
    }
  }
}

/** robfig's ConstantDelaySchedule (`@every`): whole seconds, at least one; time zones do not apply. */
class EverySchedule implements Schedule {
  private readonly delay: number;

  constructor(everyMs: number) {
    const whole = everyMs - (everyMs % SECOND);
    this.delay = everyMs < SECOND ? SECOND : whole;
  }

  next(t: number): number {
    return t + this.delay - mod(t, SECOND);
  }
}

/**
 * Parses a schedule as upstream's controller does (cron.ParseStandard). A `TZ=`/`CRON_TZ=`
 * prefix names the zone; otherwise `timeZone` does (the CronJob's spec.timeZone), and without
 * either the schedule runs in UTC, the controller's local zone. Throws CronParseError.
 */
export function parseSchedule(spec: string, timeZone?: string): Schedule {
  const s = parseStandardCron(spec);
  if (s.kind === "every") return new EverySchedule(s.everyMs);
  return new SpecSchedule(s, loadZone(s.timeZone ?? timeZone ?? ""));
}

// ---- missed activations ---------------------------------------------------------------------

/** More missed activations than this earn the CronJob a TooManyMissedTimes warning (upstream's 100). */
export const MANY_MISSED = 100;

export interface MostRecent {
  /** The latest activation in (earliest, now], if any. */
  readonly time: number | undefined;
  /**
   * Upstream's estimate of how many activations were missed since `earliest`: 0 when the first
   * is still to come, else the time since the first divided by the interval between the first
   * two, plus one. Above MANY_MISSED it warrants a warning.
   */
  readonly missed: number;
}

/**
 * Upstream's mostRecentScheduleTime, without walking every missed activation (a controller
 * down for years would otherwise loop over each): the interval between the first two
 * activations after `earliest` estimates how many fit before `now`, and the walk starts two
 * intervals before the estimated last one, which also lands irregular schedules
 * (`30 6-16/4 * * 1-5`) and @every right. Throws CronScheduleError for a schedule that fires
 * less than a second apart or never (`59 23 31 2 *`: February 31st).
 */
export function mostRecentScheduleTime(schedule: Schedule, earliest: number, now: number): MostRecent {
  const t1 = schedule.next(earliest);
  const t2 = t1 === undefined ? undefined : schedule.next(t1);
  if (t1 !== undefined && now < t1) return { time: undefined, missed: 0 };
  if (t1 !== undefined && t2 !== undefined && now < t2) return { time: t1, missed: 1 };
  // Go's Duration.Round(time.Second).Seconds(), as an integer.
  const interval = t1 === undefined || t2 === undefined ? 0 : Math.round((t2 - t1) / SECOND);
  if (t1 === undefined || interval < 1) throw new CronScheduleError("ScheduleInterval", "time difference between two schedules is less than 1 second");
  const elapsed = Math.trunc((now - t1) / SECOND);
  const missed = Math.trunc(elapsed / interval) + 1;
  let time: number | undefined;
  for (let t = schedule.next(t1 + (missed - 2) * interval * SECOND); t !== undefined && t <= now; t = schedule.next(t)) time = t;
  return { time, missed };
}
