// Kubernetes' image library, with upstream's documented examples.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { celCheckError, celError, celEval } from "./testing.js";

const DIGEST = "sha256:6aefddb645ee6963afd681b1845c661d0ea4c3b20ab9db86d9e753b203d385f2";

describe("CEL image library", () => {
  it("image and isImage", () => {
    for (const ok of [
      "registry.k8s.io/kube-apiserver-arm64:latest",
      "nginx",
      `registry.k8s.io/kube-apiserver-arm64@${DIGEST}`,
      `registry.k8s.io/kube-apiserver-arm64:latest@${DIGEST}`,
      "localhost:5000/team/app:v1.2",
    ]) {
      assert.equal(celEval(`isImage('${ok}')`), true, ok);
    }
    assert.equal(celEval("isImage('registry.k8s.io//kube-apiserver-arm64')"), false);
    assert.equal(celEval("isImage('Upper/Case')"), false);
    assert.equal(celError("image('registry.k8s.io//kube-apiserver-arm64')"), "could not parse reference: registry.k8s.io//kube-apiserver-arm64");
    assert.match(celCheckError("image(0)") ?? "", /no matching overload/);
  });
  it("components", () => {
    const cases: [string, unknown][] = [
      [`image('registry.k8s.io/kube-apiserver-arm64:latest@${DIGEST}').containsDigest()`, true],
      [`image('registry.k8s.io/kube-apiserver-arm64@${DIGEST}').containsDigest()`, true],
      ["image('registry.k8s.io/kube-apiserver-arm64:latest').containsDigest()", false],
      ["image('registry.k8s.io/kube-apiserver-arm64').containsDigest()", false],
      ["image('kube-apiserver-arm64:testtag').registry()", "index.docker.io"],
      ["image('registry.k8s.io/kube-apiserver-arm64:latest').registry()", "registry.k8s.io"],
      ["image('registry.k8s.io/kube-apiserver-arm64').repository()", "kube-apiserver-arm64"],
      ["image('nginx').repository()", "library/nginx"],
      ["image('docker.io/bitnami/redis').registry()", "index.docker.io"],
      ["image('registry.k8s.io/kube-apiserver-arm64').tag()", "latest"],
      ["image('registry.k8s.io/kube-apiserver-arm64:testtag').tag()", "testtag"],
      [`image('registry.k8s.io/kube-apiserver-arm64@${DIGEST}').digest()`, DIGEST],
      [`image('registry.k8s.io/kube-apiserver-arm64:latest@${DIGEST}').digest()`, DIGEST],
      ["image('registry.k8s.io/kube-apiserver-arm64:testtag').identifier()", "testtag"],
      [`image('registry.k8s.io/kube-apiserver-arm64@${DIGEST}').identifier()`, DIGEST],
      [`image('registry.k8s.io/kube-apiserver-arm64:latest@${DIGEST}').identifier()`, DIGEST],
      ["image('localhost:5000/team/app:v1.2').registry()", "localhost:5000"],
      ["image('localhost:5000/team/app:v1.2').tag()", "v1.2"],
    ];
    for (const [expr, want] of cases) assert.equal(celEval(expr), want, expr);
  });
});
