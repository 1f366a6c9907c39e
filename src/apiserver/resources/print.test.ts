import { test } from "node:test";
import assert from "node:assert/strict";
import { containerCells, defaultTable, formatLabels, formatLabelSelector, humanDuration, listWithMore, since } from "./print.js";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const DAY = 24 * H;

void test("humanDuration follows apimachinery's HumanDuration at every boundary", () => {
  const cases: [number, string][] = [
    [-3 * S, "<invalid>"],
    [-1500, "0s"],
    [0, "0s"],
    [999, "0s"],
    [5 * S, "5s"],
    [119 * S, "119s"],
    [120 * S, "2m"],
    [190 * S, "3m10s"],
    [9 * M + 59 * S, "9m59s"],
    [10 * M + 30 * S, "10m"],
    [179 * M, "179m"],
    [3 * H, "3h"],
    [3 * H + 25 * M, "3h25m"],
    [7 * H + 59 * M, "7h59m"],
    [8 * H + 30 * M, "8h"],
    [47 * H, "47h"],
    [48 * H, "2d"],
    [2 * DAY + 3 * H, "2d3h"],
    [7 * DAY + 23 * H, "7d23h"],
    [8 * DAY + 5 * H, "8d"],
    [729 * DAY, "729d"],
    [730 * DAY, "2y"],
    [730 * DAY + 40 * DAY, "2y40d"],
    [365 * 8 * DAY, "8y"],
    [365 * 9 * DAY + 100 * DAY, "9y"],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
});

void test("since prints <unknown> for a missing timestamp and the age otherwise", () => {
  const now = new Date("2024-05-01T12:00:00Z");
  assert.equal(since(undefined, now), "<unknown>");
  assert.equal(since("garbage", now), "<unknown>");
  assert.equal(since("2024-05-01T11:56:50Z", now), "3m10s");
});

void test("label and selector formatting as the printers show them", () => {
  assert.equal(formatLabels({}), "<none>");
  assert.equal(formatLabels({ b: "2", a: "1" }), "a=1,b=2");
  assert.equal(formatLabelSelector(undefined), "<none>");
  assert.equal(formatLabelSelector({}), "<none>");
  assert.equal(formatLabelSelector({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }] }), "app=web,tier in (a,b)");
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: "x", operator: "Bogus" }] }), "<error>");
});

void test("container cells and '+ N more...' lists", () => {
  assert.deepEqual(containerCells([{ name: "a", image: "nginx" }, { name: "b", image: "busybox:1.35" }]), ["a,b", "nginx,busybox:1.35"]);
  assert.deepEqual(containerCells(undefined), ["", ""]);
  assert.equal(listWithMore(["1", "2", "3", "4"], 3), "1,2,3 + 1 more...");
  assert.equal(listWithMore([], 3), "<unset>");
});

void test("the default table is NAME and CREATED AT in RFC 3339", () => {
  const t = defaultTable();
  assert.deepEqual(
    t.columns.map((c) => [c.name, c.type, c.format]),
    [
      ["Name", "string", "name"],
      ["Created At", "date", undefined],
    ],
  );
  assert.deepEqual(t.row({ metadata: { name: "r", creationTimestamp: "2024-01-02T03:04:05Z" } }, new Date()), ["r", "2024-01-02T03:04:05Z"]);
});
