// What the authorization filter asks about a request: a list or watch of one object by
// `fieldSelector=metadata.name=x` is about that name (so a rule with resourceNames allows
// `kubectl get cm x -w`), as upstream's request info makes it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { attributesOf } from "./authorization.js";
import { parseRequestInfo } from "../requestinfo.js";

const user = { username: "ann", groups: ["system:authenticated"] };
const ask = (method: string, path: string) => {
  const url = new URL(path, "https://localhost");
  return attributesOf(user, parseRequestInfo(method, url), url.searchParams);
};

describe("authorization attributes", () => {
  it("names the object a list or watch selects by metadata.name", () => {
    assert.deepEqual(
      [ask("GET", "/api/v1/namespaces/dev/configmaps?fieldSelector=metadata.name%3Dapp&watch=1")].map((a) => [a.verb, a.name]),
      [["watch", "app"]],
    );
    assert.equal(ask("GET", "/api/v1/namespaces/dev/configmaps?fieldSelector=metadata.name%3D%3Dapp").name, "app");
    assert.equal(ask("GET", "/api/v1/namespaces/dev/configmaps?fieldSelector=metadata.namespace%3Ddev,metadata.name%3Dapp").name, "app");
  });

  it("leaves other selectors, bad names and malformed selectors nameless", () => {
    assert.equal(ask("GET", "/api/v1/namespaces/dev/configmaps?fieldSelector=metadata.name!%3Dapp").name, "");
    assert.equal(ask("GET", "/api/v1/namespaces/dev/configmaps?fieldSelector=metadata.name%3D..").name, "");
    assert.equal(ask("GET", "/api/v1/namespaces/dev/configmaps?fieldSelector=%3D%3D%3D").name, "");
    assert.equal(ask("GET", "/api/v1/namespaces/dev/configmaps").name, "");
    // A named GET keeps its name; a DELETE of a collection has none.
    assert.equal(ask("GET", "/api/v1/namespaces/dev/configmaps/app?fieldSelector=metadata.name%3Dother").name, "app");
    assert.equal(ask("DELETE", "/api/v1/namespaces/dev/configmaps?fieldSelector=metadata.name%3Dapp").name, "");
  });
});
