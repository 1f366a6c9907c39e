// cel-go's strings extension as Kubernetes enables it (ext.Strings, version 2): charAt, indexOf,
// lastIndexOf, lowerAscii, upperAscii, replace, split, substring, trim, join, strings.quote, and
// format. Positions count code points, as cel-go's runes; cel-js's built-ins of the same names
// count UTF-16 code units, so they are replaced (override.ts). Methods without arguments cannot
// be replaced that way (a cel-js macro needs an argument), so lowerAscii, upperAscii and trim
// stay cel-js's: they differ from cel-go's only beyond ASCII (lowerAscii/upperAscii change the
// case of any letter; trim also removes U+FEFF and keeps U+0085).
import { EvaluationError, type Environment } from "@marcbachmann/cel-js";
import { formatString } from "./format-string.js";
import { listIndexOf, listLastIndexOf } from "./lists.js";
import { overrideMethod } from "./override.js";

function outOfRange(i: bigint | number): EvaluationError {
  return new EvaluationError(`index out of range: ${i}`);
}

function charAt(s: string, i: bigint): string {
  const runes = [...s];
  if (i < 0n || i > BigInt(runes.length)) throw outOfRange(i);
  return runes[Number(i)] ?? "";
}

function runesEqualAt(runes: readonly string[], sub: readonly string[], at: number): boolean {
  for (let j = 0; j < sub.length; j++) if (runes[at + j] !== sub[j]) return false;
  return true;
}

function indexOf(s: string, sub: string, offset = 0n): bigint {
  if (sub === "") return offset;
  const runes = [...s];
  const subRunes = [...sub];
  if (offset < 0n || offset >= BigInt(runes.length)) throw outOfRange(offset);
  for (let i = Number(offset); i < runes.length - (subRunes.length - 1); i++) {
    if (runesEqualAt(runes, subRunes, i)) return BigInt(i);
  }
  return -1n;
}

function lastIndexOf(s: string, sub: string, offset?: bigint): bigint {
  const runes = [...s];
  if (sub === "") return offset ?? BigInt(runes.length);
  const off = offset ?? BigInt(runes.length - 1);
  const subRunes = [...sub];
  if (off < 0n || off >= BigInt(runes.length)) throw outOfRange(off);
  for (let i = Math.min(Number(off), runes.length - subRunes.length); i >= 0; i--) {
    if (runesEqualAt(runes, subRunes, i)) return BigInt(i);
  }
  return -1n;
}

function substring(s: string, start: bigint, end?: bigint): string {
  const runes = [...s];
  const len = BigInt(runes.length);
  if (end !== undefined && start > end) throw new EvaluationError(`invalid substring range. start: ${start}, end: ${end}`);
  if (start < 0n || start > len) throw outOfRange(start);
  if (end !== undefined && (end < 0n || end > len)) throw outOfRange(end);
  return runes.slice(Number(start), end === undefined ? undefined : Number(end)).join("");
}

/** Go's strings.SplitN: n == 0 gives no pieces, n < 0 all, an empty separator splits into characters. */
function splitN(s: string, sep: string, n: bigint): string[] {
  if (n === 0n) return [];
  const pieces = sep === "" ? [...s] : s.split(sep);
  if (n < 0n || BigInt(pieces.length) <= n) return pieces;
  const k = Number(n);
  const head = pieces.slice(0, k - 1);
  const rest = pieces.slice(k - 1);
  head.push(sep === "" ? rest.join("") : rest.join(sep));
  return head;
}

/** Go's strings.Replace: at most n replacements (all when n < 0); an empty `old` matches before every character and at the end. */
function replaceN(s: string, old: string, repl: string, n: bigint): string {
  if (n === 0n || old === repl) return s;
  let limit = n < 0n ? Number.POSITIVE_INFINITY : Number(n);
  if (old === "") {
    const runes = [...s];
    let out = "";
    for (let i = 0; i <= runes.length; i++) {
      if (limit > 0) {
        out += repl;
        limit--;
      }
      out += runes[i] ?? "";
    }
    return out;
  }
  let out = "";
  let from = 0;
  while (limit > 0) {
    const at = s.indexOf(old, from);
    if (at < 0) break;
    out += s.slice(from, at) + repl;
    from = at + old.length;
    limit--;
  }
  return out + s.slice(from);
}

const QUOTE_ESCAPES: Record<string, string> = {
  "\u0007": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  "\\": "\\\\",
  '"': '\\"',
};

/** strings.quote: a double-quoted CEL string literal; lone surrogates (invalid UTF-8 in Go) become U+FFFD. */
export function quote(s: string): string {
  let out = '"';
  for (const c of s) {
    const cp = c.codePointAt(0) ?? 0;
    out += QUOTE_ESCAPES[c] ?? (cp >= 0xd800 && cp <= 0xdfff ? "\ufffd" : c);
  }
  return out + '"';
}

/** The `strings` namespace: `strings.quote(s)` is a method call on the constant `strings`. */
class StringsNamespace {}

const I = "int";
const S = "string";

export function registerStringsLibrary(env: Environment): void {
  env.registerFunction("string.charAt(int): string", charAt);
  overrideMethod(env, "indexOf", 1, [
    { receiver: S, args: [S], returns: I, impl: (s: string, sub: string) => indexOf(s, sub) },
    { receiver: "list", args: ["dyn"], returns: I, impl: listIndexOf },
  ]);
  overrideMethod(env, "indexOf", 2, [{ receiver: S, args: [S, I], returns: I, impl: indexOf }]);
  overrideMethod(env, "lastIndexOf", 1, [
    { receiver: S, args: [S], returns: I, impl: (s: string, sub: string) => lastIndexOf(s, sub) },
    { receiver: "list", args: ["dyn"], returns: I, impl: listLastIndexOf },
  ]);
  overrideMethod(env, "lastIndexOf", 2, [{ receiver: S, args: [S, I], returns: I, impl: lastIndexOf }]);
  overrideMethod(env, "substring", 1, [{ receiver: S, args: [I], returns: S, impl: (s: string, i: bigint) => substring(s, i) }]);
  overrideMethod(env, "substring", 2, [{ receiver: S, args: [I, I], returns: S, impl: substring }]);
  overrideMethod(env, "split", 1, [{ receiver: S, args: [S], returns: "list<string>", impl: (s: string, sep: string) => splitN(s, sep, -1n) }]);
  overrideMethod(env, "split", 2, [{ receiver: S, args: [S, I], returns: "list<string>", impl: splitN }]);
  env.registerFunction("string.replace(string, string): string", (s: string, o: string, r: string) => replaceN(s, o, r, -1n));
  env.registerFunction("string.replace(string, string, int): string", replaceN);
  // cel-go lets the argument list of format mix types (its homogeneous-literal check skips it).
  overrideMethod(env, "format", 1, [{ receiver: S, args: ["list"], returns: S, impl: formatString }], { heterogeneousLiteralArgs: true });

  env.registerType("k8ts.StringsNamespace", StringsNamespace);
  env.registerConstant("strings", "k8ts.StringsNamespace", new StringsNamespace());
  env.registerFunction("k8ts.StringsNamespace.quote(string): string", (_: unknown, s: string) => quote(s));
}
