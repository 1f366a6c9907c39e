// The CEL environment of Kubernetes' expressions (CRD x-kubernetes-validations now; admission
// policies and match conditions can share it): the CEL standard library of
// @marcbachmann/cel-js with Kubernetes' extension libraries registered on it.
import { Environment } from "@marcbachmann/cel-js";
import { registerTwoVarComprehensions } from "./comprehensions.js";
import { registerFormatLibrary } from "./format.js";
import { registerIPLibraries } from "./ip.js";
import { registerListsLibrary } from "./lists.js";
import { registerMethodOverrides } from "./override.js";
import { registerQuantityLibrary } from "./quantity.js";
import { registerRegexLibrary } from "./regex.js";
import { registerSemverLibrary } from "./semver.js";
import { registerStringsLibrary } from "./strings.js";
import { registerURLsLibrary } from "./urls.js";

/** A fresh environment with Kubernetes' CEL libraries; callers register their variables on a clone. */
export function kubernetesCelEnvironment(): Environment {
  const env = new Environment({ enableOptionalTypes: true, unlistedVariablesAreDyn: true });
  registerMethodOverrides(env);
  registerRegexLibrary(env);
  registerListsLibrary(env);
  registerStringsLibrary(env);
  registerQuantityLibrary(env);
  registerIPLibraries(env);
  registerURLsLibrary(env);
  registerFormatLibrary(env);
  registerSemverLibrary(env);
  registerTwoVarComprehensions(env);
  return env;
}
