import { test } from "node:test";
import assert from "node:assert/strict";
import { CronParseError, parseGoDuration, parseStandardCron } from "./cron.js";

function err(spec: string): string {
  try {
    parseStandardCron(spec);
  } catch (e) {
    assert.ok(e instanceof CronParseError);
    return e.message;
  }
  return "ok";
}

void test("schedules robfig/cron's ParseStandard accepts", () => {
  for (const s of ["* * * * *", "*/5 * * * *", "0 0 1 1 *", "0-59/15 0,12 1-31 jan-dec mon-fri", "? * * * ?", "5 4 * * SUN", "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually", "@every 1h30m", "TZ=UTC 0 * * * *", "CRON_TZ=Europe/Berlin @daily", "1,,2 * * * *"]) {
    assert.equal(err(s), "ok", s);
  }
  const sched = parseStandardCron("*/20 9-17/4 * * 1-5");
  assert.equal(sched.kind, "spec");
  if (sched.kind === "spec") {
    assert.deepEqual([...sched.minute.values], [0, 20, 40]);
    assert.deepEqual([...sched.hour.values], [9, 13, 17]);
    assert.equal(sched.dayOfMonth.star, true);
    assert.deepEqual([...sched.dayOfWeek.values], [1, 2, 3, 4, 5]);
  }
});

void test("cron errors carry robfig/cron's messages", () => {
  const cases: [string, string][] = [
    ["", "empty spec string"],
    ["   ", "expected exactly 5 fields, found 0: []"],
    ["* * * *", "expected exactly 5 fields, found 4: [* * * *]"],
    ["* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"],
    ["60 * * * *", "end of range (60) above maximum (59): 60"],
    ["* 24 * * *", "end of range (24) above maximum (23): 24"],
    ["* * 0 * *", "beginning of range (0) below minimum (1): 0"],
    ["* * * 13 *", "end of range (13) above maximum (12): 13"],
    ["* * * * 7", "end of range (7) above maximum (6): 7"],
    ["5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"],
    ["*/0 * * * *", "step of range should be a positive number: */0"],
    ["1-2-3 * * * *", "too many hyphens: 1-2-3"],
    ["*/2/3 * * * *", "too many slashes: */2/3"],
    ["-1 * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'],
    ["* * * foo *", 'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax'],
    ["99999999999999999999 * * * *", 'failed to parse int from 99999999999999999999: strconv.Atoi: parsing "99999999999999999999": value out of range'],
    ["@Daily", "unrecognized descriptor: @Daily"],
    ["@every 5", 'failed to parse duration @every 5: time: missing unit in duration "5"'],
    ["@every 5y", 'failed to parse duration @every 5y: time: unknown unit "y" in duration "5y"'],
    ["@every x", 'failed to parse duration @every x: time: invalid duration "x"'],
    ["TZ=Nowhere/Land * * * * *", "provided bad location Nowhere/Land: unknown time zone Nowhere/Land"],
  ];
  for (const [spec, msg] of cases) assert.equal(err(spec), msg, JSON.stringify(spec));
});

void test("Go durations", () => {
  assert.equal(parseGoDuration("1h30m"), 90 * 60 * 1000);
  assert.equal(parseGoDuration("1.5s"), 1500);
  assert.equal(parseGoDuration("-2m"), -120000);
  assert.equal(parseGoDuration("0"), 0);
  assert.equal(parseGoDuration("300ms"), 300);
});
