// `pattern` in a CRD schema is a Go regular expression (RE2 syntax, regexp.Compile), not an
// ECMAScript one. Patterns come from whoever may create a CRD, so they are compiled and matched
// by re2js, a JavaScript port of RE2 (the same parser and automata as Go's regexp, Perl flags as
// regexp.Compile uses): matching takes time linear in the input, so a hostile pattern such as
// `^(a+)+$` cannot stall the API server as a backtracking RegExp would. Never hand a
// user-supplied pattern to `new RegExp`.
//
// re2js reports Go's parse errors (same codes and offending text); the only difference is the
// rendering of errors that carry no text, which Go still prints with an empty or whole-pattern
// quote (`trailing backslash at end of expression: ``; `expression too large: `<pattern>``).

import { RE2JS, RE2JSException, RE2JSSyntaxException } from "re2js";

/** A compiled Go pattern: `test` reports whether it matches anywhere in the string, as Go's MatchString. */
export interface GoMatcher {
  test(s: string): boolean;
}

export type GoRegexp = { readonly re: GoMatcher } | { readonly error: string };

/** Go's rendering of a *syntax.Error: `error parsing regexp: CODE: `EXPR``, EXPR possibly empty. */
function goError(e: RE2JSSyntaxException, pattern: string): string {
  const code = e.getDescription();
  let expr = e.getPattern();
  if (expr === null) {
    // Go attaches the whole pattern to size/nesting limits, and nothing to a trailing backslash.
    expr = code === "expression too large" || code === "expression nests too deeply" ? pattern : "";
  }
  return `error parsing regexp: ${code}: \`${expr}\``;
}

const cache = new Map<string, GoRegexp>();

/** Compiles a Go (RE2) regular expression: a linear-time matcher, or Go's parse error. */
export function compileGoRegexp(pattern: string): GoRegexp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let result: GoRegexp;
  try {
    result = { re: RE2JS.compile(pattern) };
  } catch (e) {
    if (e instanceof RE2JSSyntaxException) result = { error: goError(e, pattern) };
    else if (e instanceof RE2JSException) result = { error: `error parsing regexp: ${e.message}` };
    else throw e;
  }
  if (cache.size > 1000) cache.clear();
  cache.set(pattern, result);
  return result;
}
