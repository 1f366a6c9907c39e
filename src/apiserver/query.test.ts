import { test } from "node:test";
import assert from "node:assert/strict";
import { queryBool } from "./query.js";

test("queryBool reads booleans as upstream's parameter codec: only 0 and false are false", () => {
  const read = (qs: string): boolean | undefined => queryBool(new URLSearchParams(qs), "follow");
  assert.equal(read(""), undefined);
  assert.equal(read("other=1"), undefined);
  for (const t of ["follow=true", "follow=1", "follow=True", "follow=t", "follow=yes", "follow=", "follow"]) assert.equal(read(t), true, t);
  for (const f of ["follow=false", "follow=FALSE", "follow=False", "follow=0"]) assert.equal(read(f), false, f);
  // The first value counts, as Go's codec takes the slice's first element.
  assert.equal(read("follow=0&follow=1"), false);
});
