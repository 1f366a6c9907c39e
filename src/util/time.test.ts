import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { goDuration, rfc3339, rfc3339Micro } from "./time.js";

void describe("rfc3339", () => {
  void it("writes whole seconds in UTC, truncating the fraction", () => {
    assert.equal(rfc3339(Date.parse("2026-03-04T05:06:07.999Z")), "2026-03-04T05:06:07Z");
    assert.equal(rfc3339(Date.parse("2026-03-04T05:06:07Z")), "2026-03-04T05:06:07Z");
    assert.equal(rfc3339(new Date("2026-03-04T05:06:07.089+02:00")), "2026-03-04T03:06:07Z");
    assert.equal(rfc3339(0), "1970-01-01T00:00:00Z");
  });

  void it("truncates toward the earlier second before the epoch, as flooring the milliseconds does", () => {
    assert.equal(rfc3339(-500), "1969-12-31T23:59:59Z");
    assert.equal(rfc3339(-1000), "1969-12-31T23:59:59Z");
  });

  void it("takes a number and a Date alike", () => {
    for (const ms of [1, 999, 1000, 1_767_225_600_123, 253_402_300_799_999]) assert.equal(rfc3339(ms), rfc3339(new Date(ms)));
  });

  void it("formats every instant of a second alike, from memory or not", () => {
    const t0 = Date.parse("2026-01-02T03:04:05Z");
    assert.equal(rfc3339(t0), "2026-01-02T03:04:05Z");
    assert.equal(rfc3339(t0 + 999), "2026-01-02T03:04:05Z");
    assert.equal(rfc3339(t0 + 1000), "2026-01-02T03:04:06Z");
    // More seconds than are remembered, then the first again.
    for (let i = 0; i < 200; i++) assert.equal(rfc3339(t0 + i * 1000 + 7), `${new Date(t0 + i * 1000).toISOString().slice(0, 19)}Z`);
    assert.equal(rfc3339(t0), "2026-01-02T03:04:05Z");
  });

  void it("throws a RangeError on an invalid time, as Date#toISOString does", () => {
    assert.throws(() => rfc3339(Number.NaN), RangeError);
    assert.throws(() => rfc3339(new Date("nope")), RangeError);
  });
});

void describe("rfc3339Micro", () => {
  void it("writes six fractional digits, the last three zero", () => {
    assert.equal(rfc3339Micro(Date.parse("2026-03-04T05:06:07.089Z")), "2026-03-04T05:06:07.089000Z");
    assert.equal(rfc3339Micro(new Date(0)), "1970-01-01T00:00:00.000000Z");
  });

  void it("round-trips through Date.parse to the same millisecond", () => {
    for (const ms of [0, 1, 999, 1_767_225_600_123]) assert.equal(Date.parse(rfc3339Micro(ms)), ms);
  });
});

void describe("goDuration", () => {
  void it("prints a duration as Go's time.Duration.String does", () => {
    const cases: [number, string][] = [
      [0, "0s"],
      [1, "1ms"],
      [500, "500ms"],
      [1000, "1s"],
      [1001, "1.001s"],
      [15_250, "15.25s"],
      [60_000, "1m0s"],
      [90_500, "1m30.5s"],
      [3_600_000, "1h0m0s"],
      [3_661_001, "1h1m1.001s"],
      [-1500, "-1.5s"],
    ];
    for (const [ms, want] of cases) assert.equal(goDuration(ms), want, `${ms} ms`);
  });
});
