// `pattern` in a CRD schema is a Go regular expression (RE2 syntax, regexp.Compile), not an
// ECMAScript one. This module reads RE2 syntax, reports what Go's parser rejects with Go's
// messages (`error parsing regexp: missing closing ): `(a``), and writes an equivalent
// ECMAScript regular expression (always with the `u` flag, so it matches code points as Go
// matches runes). The differences it bridges:
// - Go has no lookaround or backreferences: `(?=`, `(?!`, `(?<=`, `\1` are errors, as upstream.
// - `\s` is [\t\n\f\r ] in Go (no \v, no Unicode spaces); `\d`, `\w`, `\b` are ASCII in both.
// - `$` without (?m) is the end of the text in both; `\z` and `\A` become `$` and `^`.
// - Flags may appear mid-pattern in Go (`a(?i)b`, `(?i:b)`, `(?s)`, `(?m)`, `(?U)`); ECMAScript
//   in Node 20 has no inline modifiers, so they are applied while translating: letters expand
//   to both cases, `.` widens, `^`/`$` become line lookarounds, greediness flips.
// - `\Q...\E`, POSIX classes `[[:alpha:]]`, `\pL`/`\p{Greek}`, `\x{263a}`, octal `\123`,
//   `(?P<name>`, a literal `{` that starts no repeat, `[]a]` (a leading `]` is literal).
// - Repeat counts above 1000 are an error in Go.
// Case folding under a mid-pattern (?i) covers what String#toLowerCase/toUpperCase map one to
// one; a pattern that starts with (?i) and changes no flag later uses ECMAScript's `i` flag,
// which folds as Go does.

export type GoRegexp = { readonly re: RegExp } | { readonly error: string };

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

class ReError extends Error {
  constructor(code: string, expr: string) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
  }
}

const posixClasses: Record<string, [number, number][]> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

const goSpace: [number, number][] = [
  [0x09, 0x0a],
  [0x0c, 0x0d],
  [0x20, 0x20],
];

function complement(ranges: [number, number][]): [number, number][] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

function cp(c: number): string {
  return `\\u{${c.toString(16)}}`;
}

function rangesText(ranges: [number, number][]): string {
  return ranges.map(([lo, hi]) => (lo === hi ? cp(lo) : `${cp(lo)}-${cp(hi)}`)).join("");
}

/** The other-case forms of one code point, as far as toLowerCase/toUpperCase map it one to one. */
function caseVariants(c: number): number[] {
  const s = String.fromCodePoint(c);
  const out = new Set<number>([c]);
  for (const t of [s.toLowerCase(), s.toUpperCase()]) {
    const cps = [...t];
    if (cps.length === 1) out.add(cps[0]!.codePointAt(0)!);
  }
  return [...out];
}

function foldRanges(ranges: [number, number][]): [number, number][] {
  const out = [...ranges];
  for (const [lo, hi] of ranges) {
    // Letters in ASCII ranges fold by shifting; elsewhere each code point is folded (bounded).
    const aLo = Math.max(lo, 0x41);
    const aHi = Math.min(hi, 0x5a);
    if (aLo <= aHi) out.push([aLo + 32, aHi + 32]);
    const bLo = Math.max(lo, 0x61);
    const bHi = Math.min(hi, 0x7a);
    if (bLo <= bHi) out.push([bLo - 32, bHi - 32]);
    if (hi >= 0x80 && hi - Math.max(lo, 0x80) < 2048) {
      for (let c = Math.max(lo, 0x80); c <= hi; c++) for (const v of caseVariants(c)) if (v !== c) out.push([v, v]);
    }
  }
  return out;
}

const unicodeCategories = new Set([
  "C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N", "Nd", "Nl", "No",
  "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs",
]);

class Translator {
  private pos = 0;
  private out = "";
  private readonly groupFlags: Flags[] = [];
  private flags: Flags;
  /** Whether the last thing written can take a repeat, and where it starts in `out`. */
  private lastAtom: "none" | "atom" | "repeat" = "none";
  private lastRepeatText = "";
  private readonly names = new Set<string>();

  constructor(
    private readonly src: string,
    flags: Flags,
  ) {
    this.flags = flags;
  }

  translate(): string {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      switch (c) {
        case "(":
          this.openGroup();
          break;
        case ")":
          if (this.groupFlags.length === 0) throw new ReError("unexpected )", s);
          this.flags = this.groupFlags.pop()!;
          this.out += ")";
          this.pos++;
          this.lastAtom = "atom";
          break;
        case "|":
          this.out += "|";
          this.pos++;
          this.lastAtom = "none";
          break;
        case "*":
        case "+":
        case "?":
          this.repeat(c);
          break;
        case "{":
          if (/^\{\d+(,\d*)?\}/.test(s.slice(this.pos))) this.repeatBraces();
          else {
            this.pos++;
            this.literal(0x7b);
          }
          break;
        case "[":
          this.charClass();
          break;
        case "\\":
          this.escape();
          break;
        case ".":
          this.out += this.flags.s ? "[\\s\\S]" : "[^\\n]";
          this.pos++;
          this.lastAtom = "atom";
          break;
        case "^":
          this.out += this.flags.m ? "(?:^|(?<=\\n))" : "^";
          this.pos++;
          this.lastAtom = "atom";
          break;
        case "$":
          this.out += this.flags.m ? "(?:$|(?=\\n))" : "$";
          this.pos++;
          this.lastAtom = "atom";
          break;
        default: {
          const ch = s.codePointAt(this.pos)!;
          this.pos += ch > 0xffff ? 2 : 1;
          this.literal(ch);
        }
      }
    }
    if (this.groupFlags.length > 0) throw new ReError("missing closing )", s);
    return this.out;
  }

  private literal(c: number): void {
    if (this.flags.i) {
      const vs = caseVariants(c);
      this.out += vs.length > 1 ? `[${vs.map(cp).join("")}]` : cp(c);
    } else {
      this.out += cp(c);
    }
    this.lastAtom = "atom";
  }

  private repeat(op: string): void {
    const s = this.src;
    let text = op;
    this.pos++;
    let lazy = false;
    if (s[this.pos] === "?") {
      lazy = true;
      text += "?";
      this.pos++;
    }
    this.applyRepeat(op, text, lazy);
  }

  private repeatBraces(): void {
    const s = this.src;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.pos))!;
    const start = this.pos;
    this.pos += m[0].length;
    let lazy = false;
    if (s[this.pos] === "?") {
      lazy = true;
      this.pos++;
    }
    const text = s.slice(start, this.pos);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : m[3] === "" ? -1 : Number(m[3]);
    if (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)) throw new ReError("invalid repeat count", text);
    this.applyRepeat(m[0], text, lazy);
  }

  private applyRepeat(op: string, text: string, lazy: boolean): void {
    if (this.lastAtom === "none") throw new ReError("missing argument to repetition operator", text);
    if (this.lastAtom === "repeat") throw new ReError("invalid nested repetition operator", this.lastRepeatText + text);
    this.out += op + (lazy !== this.flags.U ? "?" : "");
    this.lastAtom = "repeat";
    this.lastRepeatText = text;
  }

  private openGroup(): void {
    const s = this.src;
    const rest = s.slice(this.pos);
    if (!rest.startsWith("(?")) {
      this.groupFlags.push({ ...this.flags });
      this.out += "(";
      this.pos++;
      this.lastAtom = "none";
      return;
    }
    const named = /^\(\?P?<([^>]*)>/.exec(rest);
    if (rest.startsWith("(?P<") || (rest.startsWith("(?<") && !rest.startsWith("(?<=") && !rest.startsWith("(?<!"))) {
      if (!named) throw new ReError("invalid named capture", rest);
      const name = named[1]!;
      if (!/^\w+$/.test(name)) throw new ReError("invalid named capture", named[0]);
      if (this.names.has(name)) throw new ReError("duplicate capture group name", name);
      this.names.add(name);
      this.groupFlags.push({ ...this.flags });
      // Names matter only to Go's parser; an ECMAScript name must be an identifier ("1a" is not).
      this.out += "(";
      this.pos += named[0].length;
      this.lastAtom = "none";
      return;
    }
    if (rest.startsWith("(?<=") || rest.startsWith("(?<!")) {
      const end = rest.indexOf(">");
      throw new ReError("invalid named capture", end < 0 ? rest : rest.slice(0, end + 1));
    }
    // Flags: (?flags) or (?flags:re), flags from imsU with at most one '-'.
    let i = 2;
    const f = { ...this.flags };
    let neg = false;
    let sawFlag = false;
    for (; i < rest.length; i++) {
      const c = rest[i]!;
      if (c === "i" || c === "m" || c === "s" || c === "U") {
        f[c] = !neg;
        sawFlag = true;
        continue;
      }
      if (c === "-" && !neg) {
        neg = true;
        sawFlag = false;
        continue;
      }
      if (c === ":" || c === ")") {
        if (neg && !sawFlag) break;
        if (c === ")" && i === 2) break;
        this.pos += i + 1;
        if (c === ":") {
          this.groupFlags.push({ ...this.flags });
          this.flags = f;
          this.out += "(?:";
          this.lastAtom = "none";
        } else {
          this.flags = f;
        }
        return;
      }
      break;
    }
    throw new ReError("invalid or unsupported Perl syntax", rest.slice(0, Math.min(i + 1, rest.length)));
  }

  /** Reads one escape outside a class. */
  private escape(): void {
    const s = this.src;
    const c = s[this.pos + 1];
    if (c === undefined) throw new ReError("trailing backslash at end of expression", "");
    switch (c) {
      case "A":
        this.out += "^";
        this.pos += 2;
        this.lastAtom = "atom";
        return;
      case "z":
        this.out += "$";
        this.pos += 2;
        this.lastAtom = "atom";
        return;
      case "b":
      case "B":
        this.out += `\\${c}`;
        this.pos += 2;
        this.lastAtom = "atom";
        return;
      case "Q": {
        const end = s.indexOf("\\E", this.pos + 2);
        const lit = end < 0 ? s.slice(this.pos + 2) : s.slice(this.pos + 2, end);
        this.pos = end < 0 ? s.length : end + 2;
        for (const ch of lit) this.literal(ch.codePointAt(0)!);
        return;
      }
      default:
        break;
    }
    const cls = this.classEscape();
    if (cls !== undefined) {
      this.out += `[${cls}]`;
      this.lastAtom = "atom";
      return;
    }
    this.literal(this.charEscape());
  }

  /** `\d \s \w \p{..}` and their negations as class contents, or undefined for other escapes. */
  private classEscape(): string | undefined {
    const s = this.src;
    const c = s[this.pos + 1];
    switch (c) {
      case "d":
        this.pos += 2;
        return "0-9";
      case "D":
        this.pos += 2;
        return rangesText(complement([[0x30, 0x39]]));
      case "w":
        this.pos += 2;
        return "0-9A-Za-z_";
      case "W":
        this.pos += 2;
        return rangesText(complement(posixClasses.word!));
      case "s":
        this.pos += 2;
        return rangesText(goSpace);
      case "S":
        this.pos += 2;
        return rangesText(complement(goSpace));
      case "p":
      case "P": {
        let name: string;
        const start = this.pos;
        if (s[this.pos + 2] === "{") {
          const end = s.indexOf("}", this.pos + 3);
          if (end < 0) throw new ReError("invalid character class range", s.slice(start));
          name = s.slice(this.pos + 3, end);
          this.pos = end + 1;
        } else {
          const ch = s[this.pos + 2];
          if (ch === undefined) throw new ReError("invalid character class range", s.slice(start));
          name = ch;
          this.pos += 3;
        }
        let negate = c === "P";
        if (name.startsWith("^")) {
          negate = !negate;
          name = name.slice(1);
        }
        let prop: string;
        if (name === "Any") prop = "Any";
        else if (unicodeCategories.has(name)) prop = name;
        else prop = `Script=${name}`;
        try {
          new RegExp(`\\p{${prop}}`, "u");
        } catch {
          throw new ReError("invalid character class range", s.slice(start, this.pos));
        }
        return `\\${negate ? "P" : "p"}{${prop}}`;
      }
      default:
        return undefined;
    }
  }

  /** A single-character escape: its code point. */
  private charEscape(): number {
    const s = this.src;
    const start = this.pos;
    const c = s[this.pos + 1]!;
    this.pos += 2;
    switch (c) {
      case "a":
        return 7;
      case "f":
        return 12;
      case "n":
        return 10;
      case "r":
        return 13;
      case "t":
        return 9;
      case "v":
        return 11;
      case "x": {
        if (s[this.pos] === "{") {
          const end = s.indexOf("}", this.pos);
          const hex = end < 0 ? "" : s.slice(this.pos + 1, end);
          if (!/^[0-9a-fA-F]+$/.test(hex) || parseInt(hex, 16) > 0x10ffff) {
            throw new ReError("invalid escape sequence", s.slice(start, end < 0 ? s.length : end + 1));
          }
          this.pos = end + 1;
          return parseInt(hex, 16);
        }
        const hex = s.slice(this.pos, this.pos + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new ReError("invalid escape sequence", s.slice(start, this.pos + hex.length));
        this.pos += 2;
        return parseInt(hex, 16);
      }
      default:
        break;
    }
    if (c >= "0" && c <= "7") {
      // A lone non-zero digit is a backreference, which RE2 does not support.
      if (c !== "0" && !(s[this.pos] !== undefined && s[this.pos]! >= "0" && s[this.pos]! <= "7")) {
        throw new ReError("invalid escape sequence", s.slice(start, this.pos));
      }
      let digits = c;
      while (digits.length < 3 && s[this.pos] !== undefined && s[this.pos]! >= "0" && s[this.pos]! <= "7") digits += s[this.pos++];
      return parseInt(digits, 8);
    }
    const code = c.codePointAt(0)!;
    if (code < 0x80 && !/[0-9A-Za-z]/.test(c)) return code;
    throw new ReError("invalid escape sequence", `\\${c}`);
  }

  private charClass(): void {
    const s = this.src;
    const start = this.pos;
    this.pos++;
    let negate = false;
    if (s[this.pos] === "^") {
      negate = true;
      this.pos++;
    }
    const ranges: [number, number][] = [];
    let extra = "";
    let first = true;
    for (;;) {
      if (this.pos >= s.length) throw new ReError("missing closing ]", s.slice(start));
      const c = s[this.pos]!;
      if (c === "]" && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (c === "[" && s[this.pos + 1] === ":") {
        const end = s.indexOf(":]", this.pos + 2);
        if (end >= 0) {
          let name = s.slice(this.pos + 2, end);
          const neg = name.startsWith("^");
          if (neg) name = name.slice(1);
          const pc = posixClasses[name];
          if (!pc) throw new ReError("invalid character class range", s.slice(this.pos, end + 2));
          ranges.push(...(neg ? complement(pc) : pc));
          this.pos = end + 2;
          continue;
        }
      }
      if (c === "\\") {
        const cls = this.classEscape();
        if (cls !== undefined) {
          extra += cls;
          continue;
        }
      }
      const lo = this.classChar();
      if (s[this.pos] === "-" && s[this.pos + 1] !== undefined && s[this.pos + 1] !== "]") {
        const rangeStart = this.pos - 1;
        this.pos++;
        const hi = this.classChar();
        if (hi < lo) throw new ReError("invalid character class range", s.slice(rangeStart - (lo > 0xffff ? 1 : 0), this.pos));
        ranges.push([lo, hi]);
      } else {
        ranges.push([lo, lo]);
      }
    }
    const all = this.flags.i ? foldRanges(ranges) : ranges;
    this.out += `[${negate ? "^" : ""}${rangesText(all)}${extra}]`;
    this.lastAtom = "atom";
  }

  private classChar(): number {
    const s = this.src;
    if (s[this.pos] === "\\") {
      if (s[this.pos + 1] === undefined) throw new ReError("trailing backslash at end of expression", "");
      return this.charEscape();
    }
    const c = s.codePointAt(this.pos)!;
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }
}

const cache = new Map<string, GoRegexp>();

/** Compiles a Go (RE2) regular expression: an equivalent ECMAScript RegExp, or Go's parse error. */
export function compileGoRegexp(pattern: string): GoRegexp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let result: GoRegexp;
  try {
    let src = pattern;
    let jsFlags = "u";
    const noFlags: Flags = { i: false, m: false, s: false, U: false };
    // The common `(?i)^...$`: ECMAScript's own case folding matches Go's simple folding.
    if (src.startsWith("(?i)") && !/\(\?[imsU-]*[:)]/.test(src.slice(4))) {
      src = src.slice(4);
      jsFlags = "iu";
    }
    const js = new Translator(src, noFlags).translate();
    result = { re: new RegExp(js, jsFlags) };
  } catch (e) {
    result = { error: e instanceof ReError ? e.message : `error parsing regexp: ${(e as Error).message}` };
  }
  if (cache.size > 1000) cache.clear();
  cache.set(pattern, result);
  return result;
}
