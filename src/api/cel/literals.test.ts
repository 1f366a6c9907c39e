// Compile-time checks of constant regex, duration and timestamp arguments.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kubernetesCelEnvironment } from "./environment.js";
import { literalErrors } from "./literals.js";

const env = kubernetesCelEnvironment();

function errors(expr: string): { message: string; offset: number }[] {
  return literalErrors(env.parse(expr).ast);
}

describe("CEL literal validation", () => {
  it("reports an invalid constant pattern of matches", () => {
    assert.deepEqual(errors("self.matches('[')"), [{ message: "invalid matches argument", offset: 13 }]);
    assert.deepEqual(errors("matches(self, '(a')"), [{ message: "invalid matches argument", offset: 14 }]);
    assert.deepEqual(errors("self.all(x, x.matches('^a+$'))"), []);
    assert.deepEqual(errors("self.matches(pattern)"), []);
  });
  it("reports invalid constant durations and timestamps", () => {
    assert.deepEqual(errors("duration('1x') > duration('1s')"), [{ message: "invalid duration argument", offset: 9 }]);
    assert.deepEqual(errors("timestamp('yesterday') < now"), [{ message: "invalid timestamp argument", offset: 10 }]);
    assert.deepEqual(errors("timestamp('2023-01-01T00:00:00Z') < now"), []);
  });
});
