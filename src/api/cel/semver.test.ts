// Kubernetes' semver library, with upstream's documented examples.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { celError, celEval } from "./testing.js";

describe("CEL semver library", () => {
  it("semver and isSemver", () => {
    assert.equal(celEval("semver('1.0.0') == semver('1.0.0+build')"), true);
    assert.equal(celEval("semver('0.1.0-alpha.1').minor()"), 1n);
    assert.equal(celError("semver('200K')"), "No Major.Minor.Patch elements found");
    assert.equal(celError("semver('Three')"), "No Major.Minor.Patch elements found");
    assert.equal(celError("semver('01.1.1')"), 'Major number must not contain leading zeroes "01"');
    assert.equal(celError("semver('1.x.1')"), 'Invalid character(s) found in minor number "x"');
    assert.equal(celEval("semver('v1.0.0', true) == semver('1.0.0')"), true);
    assert.equal(celEval("semver('1.0', true) == semver('1.0.0')"), true);
    assert.equal(celEval("semver('01.01.01', true) == semver('1.1.1')"), true);
    assert.equal(celError("semver('1.0-alpha', true)"), "short version cannot contain PreRelease/Build meta data");
    assert.equal(celEval("isSemver('1.0.0')"), true);
    assert.equal(celEval("isSemver('hello')"), false);
    assert.equal(celEval("isSemver('v1.0')"), false);
    assert.equal(celEval("isSemver('v1.0', true)"), true);
    assert.equal(celEval("isSemver('1.0', true)"), true);
    assert.equal(celEval("isSemver('01.01.01', true)"), true);
    assert.equal(celEval("isSemver('1.0.0-01')"), false);
  });
  it("components and comparisons", () => {
    assert.equal(celEval("semver('1.2.3').major()"), 1n);
    assert.equal(celEval("semver('1.2.3').patch()"), 3n);
    assert.equal(celEval("semver('1.2.3').compareTo(semver('1.2.3'))"), 0n);
    assert.equal(celEval("semver('1.2.3').compareTo(semver('2.0.0'))"), -1n);
    assert.equal(celEval("semver('1.2.3').compareTo(semver('0.1.2'))"), 1n);
    assert.equal(celEval("semver('1.0.0-alpha').isLessThan(semver('1.0.0'))"), true);
    assert.equal(celEval("semver('1.0.0-alpha.1').isLessThan(semver('1.0.0-alpha.beta'))"), true);
    assert.equal(celEval("semver('1.0.0-beta.11').isGreaterThan(semver('1.0.0-beta.2'))"), true);
    assert.equal(celEval("semver('1.0.0-rc.1').isLessThan(semver('1.0.0-rc.1.1'))"), true);
  });
});
