// Expected messages below were checked against upstream: the regex/length texts against
// kubectl 1.32's own client-side validation (`kubectl create configmap --from-literal`,
// `kubectl set env --local`, `kubectl set selector --local`), the rest against the
// apimachinery v0.32 sources.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import { FieldPath } from "./fielderrors.js";
import {
  annotationsSize,
  isCIdentifier,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isDNS1123SubdomainWithUnderscore,
  isDomainPrefixedPath,
  isEnvVarName,
  isFullyQualifiedDomainName,
  isHTTPHeaderName,
  isInRange,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidCIDR,
  isValidIP,
  isValidIPv4Address,
  isValidIPv6Address,
  isValidLabelValue,
  isValidPathSegmentName,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  parseCIDRSloppy,
  parseIPSloppy,
  regexError,
  validateAnnotations,
  validateDryRun,
  validateFieldManager,
  validateFieldValidation,
  validateFinalizers,
  validateLabels,
  validateLabelSelector,
  validateManagedFields,
  validateNoNewFinalizers,
  validateObjectMeta,
  validateObjectMetaUpdate,
  validateOwnerReferences,
  validatePathSegmentName,
} from "./validation.js";

const QNAME_REGEX = "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'";
const QNAME_MSG = `must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is ${QNAME_REGEX})`;
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const CONFIG_KEY_MSG =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const ENV_MSG =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";

const a = (n: number): string => "a".repeat(n);

void test("regexError formats examples as upstream (two spaces before 'or')", () => {
  assert.equal(regexError("msg", "re"), "msg (regex used for validation is 're')");
  assert.equal(regexError("msg", "re", "x"), "msg (e.g. 'x', regex used for validation is 're')");
  assert.equal(regexError("msg", "re", "x", "y"), "msg (e.g. 'x',  or 'y', regex used for validation is 're')");
});

void test("isQualifiedName", () => {
  const cases: [string, string[]][] = [
    ["simple", []],
    ["now-with-dashes", []],
    ["1-starts-with-num", []],
    ["1234", []],
    ["simple/simple", []],
    ["now-with-dashes/simple", []],
    ["example.com/Upper_Case.and-dash", []],
    ["A.B.C", []],
    [a(63), []],
    [a(253) + "/" + a(63), []],
    ["a@", ["name part " + QNAME_MSG]],
    ["a-", ["name part " + QNAME_MSG]],
    ["é", ["name part " + QNAME_MSG]],
    ["", ["name part must be non-empty", "name part " + QNAME_MSG]],
    ["a/", ["name part must be non-empty", "name part " + QNAME_MSG]],
    ["/a", ["prefix part must be non-empty"]],
    ["Example.com/a", ["prefix part " + SUBDOMAIN_MSG]],
    ["a.-b/c", ["prefix part " + SUBDOMAIN_MSG]],
    [a(64), ["name part must be no more than 63 characters"]],
    [a(254) + "/x", ["prefix part must be no more than 253 characters"]],
    [
      "a/b/c",
      [
        "a qualified name " +
          QNAME_MSG.replace("must consist", "must consist") +
          " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ],
    ],
  ];
  for (const [v, want] of cases) assert.deepEqual(isQualifiedName(v), want, v);
});

void test("isValidLabelValue", () => {
  const cases: [string, string[]][] = [
    ["", []],
    ["simple", []],
    ["now-with-dashes", []],
    ["1-starts-with-num", []],
    ["end-with-num-1", []],
    ["1234", []],
    ["Upper.Case_ok", []],
    [a(63), []],
    [a(64), ["must be no more than 63 characters"]],
    ["-v", [LABEL_VALUE_MSG]],
    ["v-", [LABEL_VALUE_MSG]],
    ["b@", [LABEL_VALUE_MSG]],
    ["a b", [LABEL_VALUE_MSG]],
    ["é", [LABEL_VALUE_MSG]],
    ["toolongtoolong/x".repeat(5), ["must be no more than 63 characters", LABEL_VALUE_MSG]],
    // 32 two-byte characters are 64 bytes: upstream measures bytes.
    ["é".repeat(32), ["must be no more than 63 characters", LABEL_VALUE_MSG]],
  ];
  for (const [v, want] of cases) assert.deepEqual(isValidLabelValue(v), want, v);
});

void test("DNS labels and subdomains", () => {
  const label: [string, string[]][] = [
    ["a", []],
    ["ab", []],
    ["a-b", []],
    ["0", []],
    ["1-2", []],
    [a(63), []],
    ["", [LABEL_MSG]],
    ["A", [LABEL_MSG]],
    ["a_b", [LABEL_MSG]],
    ["-a", [LABEL_MSG]],
    ["a-", [LABEL_MSG]],
    ["a.b", ["must not contain dots"]],
    [a(64), ["must be no more than 63 characters"]],
    [a(60) + ".bbbb", ["must be no more than 63 characters", "must not contain dots"]],
  ];
  for (const [v, want] of label) assert.deepEqual(isDNS1123Label(v), want, v);

  const sub: [string, string[]][] = [
    ["a", []],
    ["a.b.c", []],
    ["1.2.3", []],
    ["example.com", []],
    [`${a(63)}.${a(63)}.${a(63)}.${a(61)}`, []],
    ["", [SUBDOMAIN_MSG]],
    ["A.b", [SUBDOMAIN_MSG]],
    ["a..b", [SUBDOMAIN_MSG]],
    [".a", [SUBDOMAIN_MSG]],
    ["a.", [SUBDOMAIN_MSG]],
    ["a_b", [SUBDOMAIN_MSG]],
    [`${a(63)}.${a(63)}.${a(63)}.${a(62)}`, ["must be no more than 253 characters"]],
  ];
  for (const [v, want] of sub) assert.deepEqual(isDNS1123Subdomain(v), want, v);

  const d1035: [string, string[]][] = [
    ["a", []],
    ["a1", []],
    ["a-1", []],
    ["1a", [DNS1035_MSG]],
    ["a.b", [DNS1035_MSG]],
    ["", [DNS1035_MSG]],
    [a(64), ["must be no more than 63 characters"]],
  ];
  for (const [v, want] of d1035) assert.deepEqual(isDNS1035Label(v), want, v);

  assert.deepEqual(isDNS1123SubdomainWithUnderscore("_srv._tcp.example.com"), []);
  assert.equal(isDNS1123SubdomainWithUnderscore("A").length, 1);
  assert.match(isDNS1123SubdomainWithUnderscore("A")[0]!, /^a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.'/);
  assert.deepEqual(isWildcardDNS1123Subdomain("*.example.com"), []);
  assert.equal(isWildcardDNS1123Subdomain("*.*.example.com").length, 1);
  assert.equal(isWildcardDNS1123Subdomain("f*.example.com").length, 1);
});

void test("name validators mask a trailing dash for generateName", () => {
  assert.deepEqual(nameIsDNSSubdomain("web-", true), []);
  assert.deepEqual(nameIsDNSSubdomain("web-", false), [SUBDOMAIN_MSG]);
  assert.deepEqual(nameIsDNSLabel("web-", true), []);
  assert.deepEqual(nameIsDNSLabel("-", true), [LABEL_MSG], "a lone dash is not masked");
  assert.deepEqual(nameIsDNS1035Label("1a-", true), [DNS1035_MSG]);
  assert.deepEqual(nameIsDNS1035Label("ab-", true), []);
  // Upstream replaces the last *two* characters by "a" (name[:len-2]+"a"), so "a-" becomes "a".
  assert.deepEqual(nameIsDNSLabel("a-", true), []);
});

void test("path segment names", () => {
  const cases: [string, boolean, string[]][] = [
    ["ok", false, []],
    ["a:b@c", false, []],
    [".", false, ["may not be '.'"]],
    ["..", false, ["may not be '..'"]],
    ["...", false, []],
    ["a/b", false, ["may not contain '/'"]],
    ["a%b", false, ["may not contain '%'"]],
    ["/%", false, ["may not contain '/'", "may not contain '%'"]],
    [".", true, []],
    ["a/", true, ["may not contain '/'"]],
  ];
  for (const [v, prefix, want] of cases) assert.deepEqual(validatePathSegmentName(v, prefix), want, v);
  assert.deepEqual(isValidPathSegmentName(".."), ["may not be '..'"]);
});

void test("env var names, C identifiers, config keys", () => {
  assert.deepEqual(isCIdentifier("my_name"), []);
  assert.deepEqual(isCIdentifier("_X1"), []);
  assert.deepEqual(isCIdentifier("1x"), [
    "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')",
  ]);
  assert.deepEqual(isEnvVarName("MY_ENV.NAME"), []);
  assert.deepEqual(isEnvVarName("1BAD"), [ENV_MSG]);
  assert.deepEqual(isEnvVarName("a b"), [ENV_MSG]);
  assert.deepEqual(isEnvVarName(".."), ["must not be '..'"]);
  assert.deepEqual(isEnvVarName("..a"), ["must not start with '..'"]);
  assert.deepEqual(isEnvVarName("."), ["must not be '.'"]);

  const relaxed: [string, string[]][] = [
    ["A", []],
    ["1BAD", []],
    ["a b!#$%&'()*+,-./:;<>?@[\\]^_`{|}~", []],
    ["", ["environment variable name must be non-empty"]],
    ["A=B", ["a valid environment variable name must consist only of printable ASCII characters other than '='"]],
    ["tab\t", ["a valid environment variable name must consist only of printable ASCII characters other than '='"]],
    ["é", ["a valid environment variable name must consist only of printable ASCII characters other than '='"]],
    ["\x7f", ["a valid environment variable name must consist only of printable ASCII characters other than '='"]],
  ];
  for (const [v, want] of relaxed) assert.deepEqual(isRelaxedEnvVarName(v), want, JSON.stringify(v));

  assert.deepEqual(isConfigMapKey("key.name"), []);
  assert.deepEqual(isConfigMapKey("bad key"), [CONFIG_KEY_MSG]);
  assert.deepEqual(isConfigMapKey("..a"), ["must not start with '..'"]);
  assert.deepEqual(isConfigMapKey("."), ["must not be '.'"]);
  assert.deepEqual(isConfigMapKey("k".repeat(254) + "@"), ["must be no more than 253 characters", CONFIG_KEY_MSG]);
});

void test("ports, percents, header names, ranges", () => {
  assert.deepEqual(isValidPortNum(1), []);
  assert.deepEqual(isValidPortNum(65535), []);
  assert.deepEqual(isValidPortNum(0), ["must be between 1 and 65535, inclusive"]);
  assert.deepEqual(isValidPortNum(65536), ["must be between 1 and 65535, inclusive"]);
  assert.deepEqual(isInRange(5, 1, 4), ["must be between 1 and 4, inclusive"]);

  const names: [string, string[]][] = [
    ["http", []],
    ["h-t-t-p", []],
    ["a1", []],
    [a(15), []],
    [a(16), ["must be no more than 15 characters"]],
    ["1234", ["must contain at least one letter (a-z)"]],
    ["HTTP", ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)", "must contain at least one letter (a-z)"]],
    ["a--b", ["must not contain consecutive hyphens"]],
    ["-ab", ["must not begin or end with a hyphen"]],
    ["ab-", ["must not begin or end with a hyphen"]],
    ["a_b", ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"]],
    [
      "",
      ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)", "must contain at least one letter (a-z)"],
    ],
  ];
  for (const [v, want] of names) assert.deepEqual(isValidPortName(v), want, v);

  assert.deepEqual(isValidPercent("25%"), []);
  assert.deepEqual(isValidPercent("0%"), []);
  const pctMsg = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
  for (const bad of ["25", "%", "-1%", "1.5%", "25 %", ""]) assert.deepEqual(isValidPercent(bad), [pctMsg], bad);

  assert.deepEqual(isHTTPHeaderName("X-Header-Name"), []);
  assert.deepEqual(isHTTPHeaderName("X_Header"), [
    "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')",
  ]);
});

void test("IP and CIDR parsing follows Go 1.16's sloppy parser", () => {
  const ips: [string, number[] | undefined][] = [
    ["10.9.8.7", [10, 9, 8, 7]],
    ["010.009.008.007", [10, 9, 8, 7]],
    ["0000000001.2.3.4", [1, 2, 3, 4]],
    ["255.255.255.255", [255, 255, 255, 255]],
    ["256.1.1.1", undefined],
    ["1.2.3", undefined],
    ["1.2.3.4.5", undefined],
    ["1.2.3.", undefined],
    ["1..2.3", undefined],
    ["", undefined],
    ["abc", undefined],
    [" 1.2.3.4", undefined],
    ["::", new Array<number>(16).fill(0)],
    ["::1", [...new Array<number>(15).fill(0), 1]],
    ["2001:db8::ffff", [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]],
    ["::ffff:1.2.3.4", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]],
    ["1:2:3:4:5:6:1.2.3.4", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]],
    ["1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
    ["1:2:3:4:5:6:7::", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]],
    ["1::8", [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8]],
    ["1:2:3:4:5:6:7:8:9", undefined],
    ["1:2:3:4:5:6:7:8::", undefined],
    ["1::2::3", undefined],
    ["12345::", undefined],
    ["fe80::1%eth0", undefined],
    ["1:2:3:4:5:1.2.3.4", undefined],
    [":1", undefined],
    ["1:", undefined],
    ["g::", undefined],
  ];
  for (const [s, want] of ips) assert.deepEqual(parseIPSloppy(s), want, s);

  const p = FieldPath.of("spec", "clusterIP");
  assert.deepEqual(isValidIP(p, "10.0.0.1"), []);
  assert.equal(isValidIP(p, "10.0.0.256")[0]?.toString(), 'spec.clusterIP: Invalid value: "10.0.0.256": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  assert.deepEqual(isValidIPv4Address(p, "::ffff:1.2.3.4"), [], "an IPv4-mapped address counts as IPv4");
  assert.equal(isValidIPv4Address(p, "::1")[0]?.detail, "must be a valid IPv4 address");
  assert.deepEqual(isValidIPv6Address(p, "::1"), []);
  assert.equal(isValidIPv6Address(p, "1.2.3.4")[0]?.detail, "must be a valid IPv6 address");

  const cidrs: [string, boolean][] = [
    ["10.0.0.0/8", true],
    ["10.1.2.3/8", true],
    ["0.0.0.0/0", true],
    ["1.2.3.4/32", true],
    ["1.2.3.4/33", false],
    ["1.2.3.4/024", true],
    ["2001:db8::/64", true],
    ["::/128", true],
    ["::/129", false],
    ["::ffff:1.2.3.4/120", true],
    ["1.2.3.4", false],
    ["1.2.3.4/", false],
    ["1.2.3.4/a", false],
    ["1.2.3.4/-1", false],
    ["/8", false],
  ];
  for (const [s, ok] of cidrs) assert.equal(parseCIDRSloppy(s) !== undefined, ok, s);
  assert.equal(isValidCIDR(p, "bad")[0]?.detail, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
});

void test("domain names and domain-prefixed paths", () => {
  const p = FieldPath.of("x");
  assert.deepEqual(isFullyQualifiedDomainName(p, "example.com"), []);
  assert.deepEqual(isFullyQualifiedDomainName(p, "example.com."), []);
  assert.equal(isFullyQualifiedDomainName(p, "")[0]?.toString(), "x: Required value");
  assert.equal(isFullyQualifiedDomainName(p, "example")[0]?.detail, "should be a domain with at least two segments separated by dots");
  assert.equal(isFullyQualifiedDomainName(p, "Example.com")[0]?.detail, SUBDOMAIN_MSG);

  assert.deepEqual(isDomainPrefixedPath(p, "acme.io/foo"), []);
  assert.equal(isDomainPrefixedPath(p, "acme.io")[0]?.detail, 'must be a domain-prefixed path (such as "acme.io/foo")');
  assert.equal(isDomainPrefixedPath(p, "/foo")[0]?.detail, 'must be a domain-prefixed path (such as "acme.io/foo")');
  assert.equal(isDomainPrefixedPath(p, "acme.io/")[0]?.detail, 'must be a domain-prefixed path (such as "acme.io/foo")');
  assert.equal(isDomainPrefixedPath(p, "acme.io/a b")[0]?.toString(), `x: Invalid value: "a b": Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')`);
  assert.equal(isDomainPrefixedPath(p, "ACME.io/foo")[0]?.toString(), `x: Invalid value: "ACME.io": ${SUBDOMAIN_MSG}`);
});

void test("labels and annotations", () => {
  const p = FieldPath.of("metadata", "labels");
  assert.deepEqual(validateLabels({ app: "web", "example.com/tier": "front" }, p), []);
  assert.deepEqual(validateLabels(undefined, p), []);
  assert.deepEqual(
    validateLabels({ "a@": "ok", b: "-bad" }, p).map(String),
    [`metadata.labels: Invalid value: "a@": name part ${QNAME_MSG}`, `metadata.labels: Invalid value: "-bad": ${LABEL_VALUE_MSG}`],
  );

  const ap = FieldPath.of("metadata", "annotations");
  assert.deepEqual(validateAnnotations({ "Example.COM/Key": "v", "kubectl.kubernetes.io/last-applied-configuration": "{}" }, ap), [], "keys are checked lower-cased");
  assert.deepEqual(validateAnnotations({ "a b": "" }, ap).map(String), [`metadata.annotations: Invalid value: "a b": name part ${QNAME_MSG}`]);
  const big = "x".repeat(256 * 1024 - 1);
  assert.deepEqual(validateAnnotations({ k: big }, ap), [], "exactly 256 KiB of key+value is allowed");
  assert.deepEqual(validateAnnotations({ kk: big }, ap).map(String), ["metadata.annotations: Too long: may not be more than 262144 bytes"]);
  assert.equal(annotationsSize({ a: "é" }), 3);
});

void test("label selector validation", () => {
  const p = FieldPath.of("spec", "selector");
  assert.deepEqual(validateLabelSelector(undefined, {}, p), []);
  assert.deepEqual(validateLabelSelector({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["a"] }] }, {}, p), []);
  const errs = validateLabelSelector(
    {
      matchLabels: { app: "we b" },
      matchExpressions: [
        { key: "a", operator: "In" },
        { key: "b", operator: "Exists", values: ["x"] },
        { key: "c@", operator: "Foo", values: ["-v"] },
      ],
    },
    {},
    p,
  ).map(String);
  assert.deepEqual(errs, [
    `spec.selector.matchLabels: Invalid value: "we b": ${LABEL_VALUE_MSG}`,
    "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
    'spec.selector.matchExpressions[2].operator: Invalid value: "Foo": not a valid selector operator',
    `spec.selector.matchExpressions[2].key: Invalid value: "c@": name part ${QNAME_MSG}`,
    `spec.selector.matchExpressions[2].values[0]: Invalid value: "-v": ${LABEL_VALUE_MSG}`,
  ]);
  assert.deepEqual(
    validateLabelSelector({ matchExpressions: [{ key: "c", operator: "Foo", values: ["-v"] }] }, { allowInvalidLabelValueInSelector: true, allowUnknownOperatorInRequirement: true }, p),
    [],
  );
});

void test("owner references", () => {
  const p = FieldPath.of("metadata", "ownerReferences");
  const ok = { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u1", controller: true };
  assert.deepEqual(validateOwnerReferences([ok], p), []);
  assert.deepEqual(
    validateOwnerReferences([{ apiVersion: "", kind: "", name: "", uid: "" }], p).map(String),
    [
      'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
      'metadata.ownerReferences.kind: Invalid value: "": kind must not be empty',
      'metadata.ownerReferences.name: Invalid value: "": name must not be empty',
      'metadata.ownerReferences.uid: Invalid value: "": uid must not be empty',
    ],
  );
  assert.deepEqual(
    validateOwnerReferences([{ apiVersion: "a/b/c", kind: "K", name: "n", uid: "u" }], p).map(String),
    ['metadata.ownerReferences.apiVersion: Invalid value: "a/b/c": version must not be empty'],
  );
  const ev = validateOwnerReferences([{ apiVersion: "v1", kind: "Event", name: "e", uid: "u" }], p);
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.detail, "/v1, Kind=Event is disallowed from being an owner");
  assert.equal(ev[0]!.field, "metadata.ownerReferences");
  const two = validateOwnerReferences([ok, { ...ok, kind: "Deployment", name: "d", uid: "u2" }], p);
  assert.equal(two.length, 1);
  assert.equal(two[0]!.detail, 'Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/rs and Deployment/d');
});

void test("finalizers", () => {
  const p = FieldPath.of("metadata", "finalizers");
  assert.deepEqual(validateFinalizers(["kubernetes.io/pvc-protection", "foregroundDeletion"], p), []);
  assert.deepEqual(validateFinalizers(["bad finalizer"], p).map(String), [`metadata.finalizers: Invalid value: "bad finalizer": name part ${QNAME_MSG}`]);
  assert.deepEqual(validateFinalizers(["orphan", "foregroundDeletion"], p).map(String), [
    'metadata.finalizers: Invalid value: []string{"orphan", "foregroundDeletion"}: finalizer orphan and foregroundDeletion cannot be both set',
  ]);
  assert.deepEqual(validateNoNewFinalizers(["a", "b"], ["a", "b", "c"], p), []);
  assert.deepEqual(validateNoNewFinalizers(["z", "a", "y", "y"], ["a"], p).map(String), [
    'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"y", "z"}',
  ]);
});

void test("field managers and managed fields", () => {
  const p = FieldPath.of("fieldManager");
  assert.deepEqual(validateFieldManager("kubectl-client-side-apply", p), []);
  assert.deepEqual(validateFieldManager("", p), []);
  assert.deepEqual(validateFieldManager("m".repeat(129), p).map(String), ["fieldManager: Too long: may not be more than 128 bytes"]);
  assert.deepEqual(validateFieldManager("é\x07", p).map(String), ['fieldManager: Invalid value: "é\\a": invalid character U+0007 (at position 2)']);
  const mp = FieldPath.of("metadata", "managedFields");
  assert.deepEqual(validateManagedFields([{ manager: "kubectl", operation: "Apply", fieldsType: "FieldsV1" }], mp), []);
  assert.deepEqual(validateManagedFields([{ manager: "m", operation: "Patch", fieldsType: "FieldsV2", subresource: "s".repeat(257) }], mp).map(String), [
    'metadata.managedFields[0].operation: Invalid value: "Patch": must be `Apply` or `Update`',
    'metadata.managedFields[0].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`',
    "metadata.managedFields[0].subresource: Too long: may not be more than 256 bytes",
  ]);
});

void test("validateObjectMeta on create", () => {
  const p = FieldPath.of("metadata");
  const cases: [ObjectMeta, boolean, string[]][] = [
    [{ name: "web", namespace: "default" }, true, []],
    [{ name: "node-1" }, false, []],
    [{ generateName: "web-", name: "web-x7k2p", namespace: "default" }, true, []],
    [{ namespace: "default" }, true, ["metadata.name: Required value: name or generateName is required"]],
    [{ name: "Web", namespace: "default" }, true, [`metadata.name: Invalid value: "Web": ${SUBDOMAIN_MSG}`]],
    [{ name: "web" }, true, ["metadata.namespace: Required value"]],
    [{ name: "web", namespace: "Bad_NS" }, true, [`metadata.namespace: Invalid value: "Bad_NS": ${LABEL_MSG}`]],
    [{ name: "n", namespace: "default" }, false, ["metadata.namespace: Forbidden: not allowed on this type"]],
    [
      { generateName: "Web-", name: "Web-abcde", namespace: "default" },
      true,
      [`metadata.generateName: Invalid value: "Web-": ${SUBDOMAIN_MSG}`, `metadata.name: Invalid value: "Web-abcde": ${SUBDOMAIN_MSG}`],
    ],
    [{ name: "web", namespace: "default", generation: -1 }, true, ["metadata.generation: Invalid value: -1: must be greater than or equal to 0"]],
    [
      { name: "web", namespace: "default", labels: { "a@": "b" }, annotations: { "x y": "" }, finalizers: ["a b"] },
      true,
      [
        `metadata.labels: Invalid value: "a@": name part ${QNAME_MSG}`,
        `metadata.annotations: Invalid value: "x y": name part ${QNAME_MSG}`,
        `metadata.finalizers: Invalid value: "a b": name part ${QNAME_MSG}`,
      ],
    ],
  ];
  for (const [meta, namespaced, want] of cases) {
    assert.deepEqual(validateObjectMeta(meta, namespaced, nameIsDNSSubdomain, p).map(String), want, JSON.stringify(meta));
  }
  assert.deepEqual(validateObjectMeta({ name: "a/b", namespace: "default" }, true, validatePathSegmentName, p).map(String), ["metadata.name: Invalid value: \"a/b\": may not contain '/'"]);
});

void test("validateObjectMetaUpdate keeps identity immutable", () => {
  const p = FieldPath.of("metadata");
  const old: ObjectMeta = {
    name: "web",
    namespace: "default",
    uid: "u1",
    resourceVersion: "5",
    generation: 2,
    creationTimestamp: "2024-01-02T03:04:05Z",
  };
  assert.deepEqual(validateObjectMetaUpdate({ ...old, labels: { a: "b" } }, old, p), []);
  assert.deepEqual(validateObjectMetaUpdate({ ...old, creationTimestamp: "2024-01-02T03:04:05.000Z" }, old, p), [], "same instant, other spelling");
  const cases: [ObjectMeta, string[]][] = [
    [{ ...old, name: "other" }, ['metadata.name: Invalid value: "other": field is immutable']],
    [{ ...old, namespace: "kube-system" }, ['metadata.namespace: Invalid value: "kube-system": field is immutable']],
    [{ ...old, uid: "u2" }, ['metadata.uid: Invalid value: "u2": field is immutable']],
    [{ ...old, resourceVersion: "" }, ['metadata.resourceVersion: Invalid value: "": must be specified for an update']],
    [{ ...old, generation: 1 }, ["metadata.generation: Invalid value: 1: must not be decremented"]],
    [{ ...old, creationTimestamp: "2025-06-07T08:09:10Z" }, ["metadata.creationTimestamp: Invalid value: 2025-06-07 08:09:10 +0000 UTC: field is immutable"]],
    [{ ...old, deletionTimestamp: "2025-06-07T08:09:10Z" }, ["metadata.deletionTimestamp: Invalid value: 2025-06-07 08:09:10 +0000 UTC: field is immutable"]],
    [{ ...old, deletionGracePeriodSeconds: 30 }, ["metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable"]],
  ];
  for (const [meta, want] of cases) assert.deepEqual(validateObjectMetaUpdate(meta, old, p).map(String), want, JSON.stringify(meta));

  const deleting: ObjectMeta = { ...old, deletionTimestamp: "2025-01-01T00:00:00Z", deletionGracePeriodSeconds: 30, finalizers: ["a"] };
  assert.deepEqual(validateObjectMetaUpdate({ ...deleting, finalizers: [] }, deleting, p), [], "removing finalizers is allowed while deleting");
  assert.deepEqual(validateObjectMetaUpdate({ ...deleting, finalizers: ["a", "b"] }, deleting, p).map(String), [
    'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b"}',
  ]);
  assert.deepEqual(validateObjectMetaUpdate({ ...old, deletionTimestamp: undefined }, deleting, p).map(String), [
    "metadata.deletionTimestamp: Invalid value: null: field is immutable",
    "metadata.deletionGracePeriodSeconds: Invalid value: null: field is immutable",
  ]);
});

void test("request option validation", () => {
  assert.deepEqual(validateDryRun(FieldPath.of("dryRun"), ["All"]), []);
  assert.deepEqual(validateDryRun(FieldPath.of("dryRun"), undefined), []);
  assert.deepEqual(validateDryRun(FieldPath.of("dryRun"), ["Some"]).map(String), ['dryRun: Unsupported value: []string{"Some"}: supported values: "All"']);
  assert.deepEqual(validateFieldValidation(FieldPath.of("fieldValidation"), "Strict"), []);
  assert.deepEqual(validateFieldValidation(FieldPath.of("fieldValidation"), "strict").map(String), [
    'fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"',
  ]);
});
