// The list of upstream CEL functions k8ts lacks must not name a function the environment has.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kubernetesCelEnvironment } from "./environment.js";
import { UNIMPLEMENTED_CEL_FUNCTIONS, isUnimplementedCelFunction } from "./unimplemented.js";

describe("unimplemented CEL functions", () => {
  it("names no function the environment provides", () => {
    const provided = new Set(kubernetesCelEnvironment().getDefinitions().functions.map((f) => f.name));
    for (const name of UNIMPLEMENTED_CEL_FUNCTIONS.keys()) assert.equal(provided.has(name), false, name);
  });
  it("answers by name", () => {
    assert.equal(isUnimplementedCelFunction("divInt"), true);
    assert.equal(isUnimplementedCelFunction("quantity"), false);
  });
});
