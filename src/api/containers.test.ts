import { test } from "node:test";
import assert from "node:assert/strict";
import type { PodSpec } from "kubernetes-types/core/v1.js";
import { podContainer } from "./containers.js";

test("podContainer finds regular and init containers, and ephemeral ones when asked", () => {
  const spec: PodSpec = {
    containers: [{ name: "app", image: "a" }],
    initContainers: [{ name: "setup", image: "s" }],
    ephemeralContainers: [{ name: "debugger", image: "d" }],
  };
  assert.equal(podContainer(spec, "app")?.image, "a");
  assert.equal(podContainer(spec, "setup")?.image, "s");
  assert.equal(podContainer(spec, "debugger"), undefined);
  assert.equal(podContainer(spec, "debugger", true)?.image, "d");
  assert.equal(podContainer(spec, "nope", true), undefined);
  assert.equal(podContainer(spec, undefined), undefined);
  assert.equal(podContainer(undefined, "app"), undefined);
});
