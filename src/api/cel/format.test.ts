// Kubernetes' format library, with upstream's documented examples and error messages.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { celCheckError, celEval } from "./testing.js";

describe("CEL format library", () => {
  it("valid strings give optional.none()", () => {
    const valid = [
      "format.dns1123Label().validate('my-label-name')",
      "format.dns1123Subdomain().validate('apiextensions.k8s.io')",
      "format.dns1035Label().validate('my-label-name')",
      "format.qualifiedName().validate('apiextensions.k8s.io/v1beta1')",
      "format.dns1123LabelPrefix().validate('my-label-prefix-')",
      "format.dns1123SubdomainPrefix().validate('mysubdomain.prefix.-')",
      "format.dns1035LabelPrefix().validate('my-label-prefix-')",
      "format.labelValue().validate('my-value')",
      "format.uri().validate('http://example.com')",
      "format.uuid().validate('123e4567-e89b-12d3-a456-426614174000')",
      "format.byte().validate('aGVsbG8=')",
      "format.date().validate('2021-01-01')",
      "format.datetime().validate('2021-01-01T00:00:00Z')",
    ];
    for (const expr of valid) assert.equal(celEval(`${expr}.hasValue()`), false, expr);
  });
  it("invalid strings give upstream's messages", () => {
    assert.deepEqual(celEval("format.dns1123Label().validate('contains a space').value()"), [
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
    assert.deepEqual(celEval("format.dns1035Label().validate('1abc').value()"), [
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]);
    assert.deepEqual(celEval("format.uri().validate('example.com').value()"), ['parse "example.com": invalid URI for request']);
    assert.deepEqual(celEval("format.uuid().validate('not-a-uuid').value()"), ["does not match the UUID format"]);
    assert.deepEqual(celEval("format.byte().validate('!!').value()"), ["invalid base64"]);
    assert.deepEqual(celEval("format.date().validate('2021-13-01').value()"), ["invalid date"]);
    assert.deepEqual(celEval("format.datetime().validate('yesterday').value()"), ["invalid datetime"]);
    assert.equal(celEval("format.dns1123Label().validate('UPPER').value().join('\\n').contains('RFC 1123')"), true);
  });
  it("format.named", () => {
    assert.equal(celEval("format.named('dns1123Label').hasValue()"), true);
    assert.equal(celEval("format.named('dns1123Label').value().validate('a-b').hasValue()"), false);
    assert.equal(celEval("format.named('unknown').hasValue()"), false);
  });
  it("type-checks", () => {
    assert.match(celCheckError("format.dns1123Label().validate(1)") ?? "", /no matching overload/);
  });
});
