// The CEL environment of Kubernetes' expressions (CRD x-kubernetes-validations now; admission
// policies and match conditions can share it): the CEL standard library of
// @marcbachmann/cel-js with Kubernetes' extension libraries registered on it, as upstream's base
// environment (apiserver/pkg/cel/environment/base.go) has them: homogeneous aggregate literals,
// optional types, the regex, lists, strings (v2), sets, quantity, IP, CIDR, URL, format, semver
// and image libraries, and two-variable comprehensions. Regular expressions are RE2 (linear
// time) everywhere and string positions count code points; cel-js built-ins that differ are
// replaced through macros (override.ts). What upstream has and this environment lacks is listed
// in unimplemented.ts; constant arguments are checked at compile time by literals.ts.
import { Environment } from "@marcbachmann/cel-js";
import { registerTwoVarComprehensions } from "./comprehensions.js";
import { registerFormatLibrary } from "./format.js";
import { registerImageLibrary } from "./image.js";
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
  registerImageLibrary(env);
  return env;
}
