// Kubernetes' quantity library, with upstream's documented examples.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { celCheckError, celError, celEval } from "./testing.js";

const FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

describe("CEL quantity library", () => {
  it("quantity and isQuantity", () => {
    assert.equal(celEval("quantity('1.5G') == quantity('1500M')"), true);
    assert.equal(celEval("quantity('200k') == quantity('200000')"), true);
    // Upstream's Quantity converts to no other type: string(quantity) does not compile.
    assert.match(celCheckError("string(quantity('200k'))") ?? "", /no matching overload/);
    assert.equal(celError("quantity('200K')"), "unable to parse quantity's suffix");
    assert.equal(celError("quantity('Three')"), FORMAT_ERROR);
    assert.equal(celError("quantity('10Mo')"), FORMAT_ERROR);
    assert.equal(celError("quantity('10Mm')"), "unable to parse quantity's suffix");
    assert.equal(celEval("isQuantity('1.3G')"), true);
    assert.equal(celEval("isQuantity('1.3Gi')"), true);
    assert.equal(celEval("isQuantity('1,3G')"), false);
    assert.equal(celEval("isQuantity('10000k')"), true);
    assert.equal(celEval("isQuantity('200K')"), false);
    assert.equal(celEval("isQuantity('Three')"), false);
    assert.equal(celEval("isQuantity('20Mi')"), true);
    assert.equal(celEval("isQuantity('10Mm')"), false);
  });
  it("conversion to scalars", () => {
    assert.equal(celEval("quantity('50000000G').isInteger()"), true);
    assert.equal(celEval("quantity('50k').isInteger()"), true);
    assert.equal(celEval("quantity('0.5').isInteger()"), false);
    assert.equal(celError("quantity('9999999999999999999999999999999999999G').asInteger()"), "cannot convert value to integer");
    assert.equal(celEval("quantity('9999999999999999999999999999999999999G').isInteger()"), false);
    assert.equal(celEval("quantity('50k').asInteger() == 50000"), true);
    assert.equal(celEval("quantity('50k').sub(20000).asApproximateFloat() == 30000.0"), true);
    assert.equal(celEval("quantity('1.5Gi').asApproximateFloat()"), 1610612736);
  });
  it("arithmetic", () => {
    assert.equal(celEval("quantity('50k').add(quantity('20k')) == quantity('70k')"), true);
    assert.equal(celEval("quantity('50k').add(20) == quantity('50020')"), true);
    assert.equal(celEval("quantity('50k').sub(quantity('20k')) == quantity('30k')"), true);
    assert.equal(celEval("quantity('50k').sub(20000) == quantity('30k')"), true);
    assert.equal(celEval("quantity('50k').add(20).sub(quantity('100k')).sub(-50000) == quantity('20')"), true);
    assert.equal(celEval("quantity('50k').add(quantity('20')) == quantity('50.02k')"), true);
    assert.equal(celEval("quantity('50k').add(20).isLessThan(quantity('50020'))"), false);
    assert.equal(celEval("quantity('50k').sub(quantity('20')) == quantity('49.98k')"), true);
    assert.equal(celEval("quantity('50k').sub(20) == quantity('49980')"), true);
    assert.equal(celEval("quantity('50k').mul(2) == quantity('100000')"), true);
    assert.equal(celEval("quantity('50k').add(20).sub(quantity('100k')).asInteger()"), -49980n);
    assert.equal(celEval("quantity('50.703k').asApproximateFloat()"), 50703);
    assert.equal(celEval("quantity('2M') == quantity('0.002G') && quantity('2000k') == quantity('2M')"), true);
    assert.equal(celEval("quantity('200M') == quantity('0.3G')"), false);
    assert.equal(celEval("quantity('50k').sign()"), 1n);
    assert.equal(celEval("sign(quantity('-50k'))"), -1n);
    assert.equal(celEval("quantity('0').sign()"), 0n);
  });
  it("comparisons", () => {
    assert.equal(celEval("quantity('200M').compareTo(quantity('0.2G'))"), 0n);
    assert.equal(celEval("quantity('50M').compareTo(quantity('50Mi'))"), -1n);
    assert.equal(celEval("quantity('50Mi').compareTo(quantity('50M'))"), 1n);
    assert.equal(celEval("quantity('150Mi').isGreaterThan(quantity('100Mi'))"), true);
    assert.equal(celEval("quantity('50Mi').isGreaterThan(quantity('100Mi'))"), false);
    assert.equal(celEval("quantity('50M').isLessThan(quantity('100M'))"), true);
    assert.equal(celEval("quantity('100M').isLessThan(quantity('50M'))"), false);
    assert.equal(celEval("quantity('1') != quantity('1000m')"), false);
  });
  it("works on quantities in objects", () => {
    assert.equal(celEval("quantity(self.memory).isLessThan(quantity('1Gi'))", { self: { memory: "512Mi" } }), true);
  });
  it("type-checks its arguments", () => {
    assert.match(celCheckError("quantity(1)") ?? "", /no matching overload/);
    assert.match(celCheckError("isQuantity([1, 2, 3])") ?? "", /no matching overload/);
    assert.match(celCheckError("quantity('1').add('1')") ?? "", /no matching overload/);
  });
});
