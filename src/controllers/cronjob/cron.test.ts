import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CronParseError, CronScheduleError, formatRFC3339In, loadZone, MANY_MISSED, mostRecentScheduleTime, parseSchedule } from "./cron.js";

const at = (iso: string): number => Date.parse(iso);
const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString().replace(".000Z", "Z"));

/** The first `n` activations after `from`, as ISO strings in UTC. */
function nexts(spec: string, from: string, n = 1, timeZone?: string): (string | undefined)[] {
  const s = parseSchedule(spec, timeZone);
  const out: (string | undefined)[] = [];
  let t: number | undefined = at(from);
  for (let i = 0; i < n && t !== undefined; i++) {
    t = s.next(t);
    out.push(iso(t));
  }
  return out;
}

function parseError(spec: string): string {
  try {
    parseSchedule(spec);
  } catch (err) {
    assert.ok(err instanceof CronParseError, `${spec}: ${String(err)}`);
    return err.message;
  }
  return "accepted";
}

void describe("parseSchedule grammar", () => {
  void it("reads stars, lists, ranges and steps", () => {
    assert.deepEqual(nexts("* * * * *", "2024-01-01T10:00:00.500Z", 2), ["2024-01-01T10:01:00Z", "2024-01-01T10:02:00Z"]);
    assert.deepEqual(nexts("*/20 * * * *", "2024-01-01T10:02:30Z", 3), ["2024-01-01T10:20:00Z", "2024-01-01T10:40:00Z", "2024-01-01T11:00:00Z"]);
    assert.deepEqual(nexts("1-10/4 * * * *", "2024-01-01T10:00:00Z", 4), ["2024-01-01T10:01:00Z", "2024-01-01T10:05:00Z", "2024-01-01T10:09:00Z", "2024-01-01T11:01:00Z"]);
    // "3/15" is "3-59/15".
    assert.deepEqual(nexts("3/15 * * * *", "2024-01-01T10:00:00Z", 5), ["2024-01-01T10:03:00Z", "2024-01-01T10:18:00Z", "2024-01-01T10:33:00Z", "2024-01-01T10:48:00Z", "2024-01-01T11:03:00Z"]);
    assert.deepEqual(nexts("0,30 9,17 * * *", "2024-01-01T09:10:00Z", 3), ["2024-01-01T09:30:00Z", "2024-01-01T17:00:00Z", "2024-01-01T17:30:00Z"]);
    assert.deepEqual(nexts("0 0 ? * ?", "2024-01-01T10:00:00Z"), ["2024-01-02T00:00:00Z"]);
  });

  void it("reads month and weekday names in any case", () => {
    // 2024-01-01 is a Monday.
    assert.deepEqual(nexts("0 12 * feb-Mar MON", "2024-01-01T00:00:00Z", 2), ["2024-02-05T12:00:00Z", "2024-02-12T12:00:00Z"]);
    assert.deepEqual(nexts("0 0 1 JUN,dec *", "2024-01-01T00:00:00Z", 2), ["2024-06-01T00:00:00Z", "2024-12-01T00:00:00Z"]);
    assert.deepEqual(nexts("0 0 * * sat,SUN", "2024-01-01T00:00:00Z", 2), ["2024-01-06T00:00:00Z", "2024-01-07T00:00:00Z"]);
    assert.deepEqual(nexts("0 0 * * 0", "2024-01-01T00:00:00Z"), ["2024-01-07T00:00:00Z"]);
  });

  void it("reads the descriptors", () => {
    const from = "2024-05-15T10:20:00Z";
    assert.deepEqual(nexts("@yearly", from), ["2025-01-01T00:00:00Z"]);
    assert.deepEqual(nexts("@annually", from), ["2025-01-01T00:00:00Z"]);
    assert.deepEqual(nexts("@monthly", from), ["2024-06-01T00:00:00Z"]);
    assert.deepEqual(nexts("@weekly", from), ["2024-05-19T00:00:00Z"]); // a Sunday
    assert.deepEqual(nexts("@daily", from), ["2024-05-16T00:00:00Z"]);
    assert.deepEqual(nexts("@midnight", from), ["2024-05-16T00:00:00Z"]);
    assert.deepEqual(nexts("@hourly", from), ["2024-05-15T11:00:00Z"]);
    // @every counts from the given time, in whole seconds, and ignores time zones.
    assert.deepEqual(nexts("@every 90m", "2024-05-15T10:20:00.250Z", 2), ["2024-05-15T11:50:00Z", "2024-05-15T13:20:00Z"]);
    assert.deepEqual(nexts("@every 1h", "2024-05-15T10:20:00Z", 1, "Asia/Tokyo"), ["2024-05-15T11:20:00Z"]);
  });

  void it("rejects what robfig's standard parser rejects, with its messages", () => {
    assert.equal(parseError(""), "empty spec string");
    assert.equal(parseError("* * * *"), "expected exactly 5 fields, found 4: [* * * *]");
    assert.equal(parseError("0 * * * * *"), "expected exactly 5 fields, found 6: [0 * * * * *]");
    assert.equal(parseError("60 * * * *"), "end of range (60) above maximum (59): 60");
    assert.equal(parseError("* * * * 7"), "end of range (7) above maximum (6): 7");
    assert.equal(parseError("* * 0 * *"), "beginning of range (0) below minimum (1): 0");
    assert.equal(parseError("10-5 * * * *"), "beginning of range (10) beyond end of range (5): 10-5");
    assert.equal(parseError("*/0 * * * *"), "step of range should be a positive number: */0");
    assert.equal(parseError("* * * foo *"), 'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax');
    assert.equal(parseError("@fortnightly"), "unrecognized descriptor: @fortnightly");
    assert.equal(parseError("TZ=Mars/Olympus 0 * * * *"), "provided bad location Mars/Olympus: unknown time zone Mars/Olympus");
    assert.throws(() => parseSchedule("0 * * * *", "Mars/Olympus"), (e: unknown) => e instanceof CronParseError && e.message === "unknown time zone Mars/Olympus");
  });
});

void describe("next activation", () => {
  void it("skips months too short for the day", () => {
    assert.deepEqual(nexts("0 0 31 * *", "2024-04-01T00:00:00Z", 3), ["2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z", "2024-08-31T00:00:00Z"]);
    assert.deepEqual(nexts("59 23 30 * *", "2024-01-31T00:00:00Z"), ["2024-03-30T23:59:00Z"]);
  });

  void it("finds leap days, and gives up after five years as robfig does", () => {
    assert.deepEqual(nexts("0 0 29 2 *", "2023-03-01T00:00:00Z", 2), ["2024-02-29T00:00:00Z", "2028-02-29T00:00:00Z"]);
    // 2100 is not a leap year: the next February 29th after 2096 is more than five years away.
    assert.deepEqual(nexts("0 0 29 2 *", "2096-03-01T00:00:00Z"), [undefined]);
    assert.deepEqual(nexts("0 0 30 2 *", "2024-01-01T00:00:00Z"), [undefined]);
  });

  void it("fires on either day when both day fields are restricted, on both when one is a star", () => {
    // 2024-09-13 is a Friday; Fridays in September 2024: 6, 13, 20, 27.
    assert.deepEqual(nexts("0 0 13 * FRI", "2024-09-01T00:00:00Z", 4), ["2024-09-06T00:00:00Z", "2024-09-13T00:00:00Z", "2024-09-20T00:00:00Z", "2024-09-27T00:00:00Z"]);
    assert.deepEqual(nexts("0 0 10 * MON", "2024-09-01T00:00:00Z", 3), ["2024-09-02T00:00:00Z", "2024-09-09T00:00:00Z", "2024-09-10T00:00:00Z"]);
    assert.deepEqual(nexts("0 0 * * FRI", "2024-09-01T00:00:00Z"), ["2024-09-06T00:00:00Z"]);
    assert.deepEqual(nexts("0 0 10 * ?", "2024-09-01T00:00:00Z"), ["2024-09-10T00:00:00Z"]);
    // "*/1" is still a star; "*/2" is not.
    assert.deepEqual(nexts("0 0 10 * */1", "2024-09-01T00:00:00Z"), ["2024-09-10T00:00:00Z"]);
    assert.deepEqual(nexts("0 0 10 * */2", "2024-09-01T00:00:00Z"), ["2024-09-03T00:00:00Z"]);
  });

  void it("reads the wall clock of the time zone, across DST changes", () => {
    const ny = "America/New_York";
    assert.deepEqual(nexts("0 9 * * *", "2024-01-10T00:00:00Z", 1, ny), ["2024-01-10T14:00:00Z"]);
    assert.deepEqual(nexts("0 9 * * *", "2024-07-10T00:00:00Z", 1, ny), ["2024-07-10T13:00:00Z"]);
    // Spring forward (2024-03-10): 09:00 moves from 14:00Z to 13:00Z; 02:30 does not exist that day.
    assert.deepEqual(nexts("0 9 * * *", "2024-03-09T15:00:00Z", 2, ny), ["2024-03-10T13:00:00Z", "2024-03-11T13:00:00Z"]);
    assert.deepEqual(nexts("30 2 * * *", "2024-03-09T12:00:00Z", 2, ny), ["2024-03-11T06:30:00Z", "2024-03-12T06:30:00Z"]);
    // Fall back (2024-11-03): 01:30 happens twice, and fires twice, as with robfig.
    assert.deepEqual(nexts("30 1 * * *", "2024-11-03T00:00:00Z", 3, ny), ["2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z", "2024-11-04T06:30:00Z"]);
    // A TZ= prefix wins over the zone given.
    assert.deepEqual(nexts("TZ=Asia/Tokyo 0 9 * * *", "2024-01-10T01:00:00Z", 1, ny), ["2024-01-11T00:00:00Z"]);
    assert.deepEqual(nexts("CRON_TZ=Asia/Kolkata 0 9 * * *", "2024-01-10T00:00:00Z"), ["2024-01-10T03:30:00Z"]);
  });

  void it("formats an instant in a zone as RFC 3339", () => {
    const t = at("2016-05-19T10:00:00Z");
    assert.equal(formatRFC3339In(t, loadZone("")), "2016-05-19T10:00:00Z");
    assert.equal(formatRFC3339In(t, loadZone("America/New_York")), "2016-05-19T06:00:00-04:00");
    assert.equal(formatRFC3339In(t, loadZone("Asia/Kolkata")), "2016-05-19T15:30:00+05:30");
    assert.equal(formatRFC3339In(at("2016-01-19T10:00:00Z"), loadZone("Europe/London")), "2016-01-19T10:00:00Z");
  });
});

void describe("mostRecentScheduleTime", () => {
  const hourly = parseSchedule("0 * * * *");

  void it("finds nothing before the first activation, and the first before the second", () => {
    assert.deepEqual(mostRecentScheduleTime(hourly, at("2024-01-01T10:00:00Z"), at("2024-01-01T10:59:59Z")), { time: undefined, missed: 0 });
    assert.deepEqual(mostRecentScheduleTime(hourly, at("2024-01-01T10:00:00Z"), at("2024-01-01T11:00:00Z")), { time: at("2024-01-01T11:00:00Z"), missed: 1 });
  });

  void it("finds the latest of several missed activations and estimates their number", () => {
    assert.deepEqual(mostRecentScheduleTime(hourly, at("2024-01-01T10:00:00Z"), at("2024-01-01T13:30:00Z")), { time: at("2024-01-01T13:00:00Z"), missed: 3 });
    const minutely = parseSchedule("* * * * *");
    const r = mostRecentScheduleTime(minutely, at("2024-01-01T10:00:00Z"), at("2024-01-01T12:00:30Z"));
    assert.equal(r.time, at("2024-01-01T12:00:00Z"));
    assert.equal(r.missed, 120);
    assert.ok(r.missed > MANY_MISSED);
  });

  void it("lands irregular schedules and @every on the right activation", () => {
    // Weekdays at 06:30, 10:30 and 14:30; from Friday afternoon to Tuesday noon.
    const office = parseSchedule("30 6-16/4 * * 1-5");
    assert.equal(mostRecentScheduleTime(office, at("2024-01-05T15:00:00Z"), at("2024-01-09T12:00:00Z")).time, at("2024-01-09T10:30:00Z"));
    const every = parseSchedule("@every 1h");
    assert.equal(mostRecentScheduleTime(every, at("2024-01-01T10:00:30Z"), at("2024-01-01T15:10:00Z")).time, at("2024-01-01T15:00:30Z"));
  });

  void it("refuses a schedule that never fires", () => {
    assert.throws(() => mostRecentScheduleTime(parseSchedule("59 23 31 2 *"), at("2024-01-01T00:00:00Z"), at("2024-06-01T00:00:00Z")), (e: unknown) => e instanceof CronScheduleError && e.message === "time difference between two schedules is less than 1 second");
  });
});
