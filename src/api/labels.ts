// Label selectors as Kubernetes apimachinery pkg/labels implements them: the string grammar
// that `?labelSelector=` and `kubectl -l` use, the conversion from metav1.LabelSelector, and
// the canonical string form (requirements sorted by key, set values sorted) that we put into
// `status.selector` for kubectl to read back. Error messages follow upstream word for word,
// including its quirks (a key error names the field "<nil>").
/** A metav1.LabelSelector as these functions read it: a frozen (informer-cached) one will do. */
export interface LabelSelectorSpec {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
}
import { aggregateMessage, childPath, compareGoStrings, invalid, notSupported, type FieldError, type PathOrNil } from "./fielderrors.js";
import { isQualifiedName, isValidLabelValue } from "./validation.js";

/** selection.Operator values, as upstream spells them. */
export type Operator = "!" | "=" | "==" | "in" | "!=" | "notin" | "exists" | "gt" | "lt";

const binaryOperators: readonly Operator[] = ["in", "notin", "=", "==", "!=", "gt", "lt"];
const validOperators: readonly Operator[] = [...binaryOperators, "exists", "!"];

/** A set of labels: any object whose own string properties are label key → value. */
export type Labels = Readonly<Record<string, string>>;

/** The same label set (an absent set is the empty one); the order of keys does not count. */
export function labelsEqual(a: Labels | undefined, b: Labels | undefined): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b?.[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

function hasLabel(ls: Labels | undefined, key: string): boolean {
  return ls !== undefined && Object.prototype.hasOwnProperty.call(ls, key);
}

/** The selector or requirement was invalid. `fieldErrors` is set when field validation failed. */
export class LabelSelectorError extends Error {
  override readonly name = "LabelSelectorError";
  readonly code = "InvalidLabelSelector" as const;
  constructor(
    message: string,
    readonly fieldErrors: readonly FieldError[] = [],
  ) {
    super(message);
  }
}

export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  /** As given (the parser hands over a sorted, de-duplicated set). */
  readonly values: readonly string[];
}

/** Go's strconv.ParseInt(s, 10, 64). */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v >= -(2n ** 63n) && v < 2n ** 63n ? v : undefined;
}

function validateLabelKey(k: string, path: PathOrNil): FieldError | undefined {
  const errs = isQualifiedName(k);
  return errs.length === 0 ? undefined : invalid(path, k, errs.join("; "));
}

/** Collects the field errors upstream's NewRequirement reports for these arguments. */
function requirementErrors(key: string, op: Operator, vals: readonly string[], path: PathOrNil): FieldError[] {
  const errs: FieldError[] = [];
  const keyErr = validateLabelKey(key, childPath(path, "key"));
  if (keyErr) errs.push(keyErr);
  const valuePath = childPath(path, "values");
  switch (op) {
    case "in":
    case "notin":
      if (vals.length === 0) errs.push(invalid(valuePath, [...vals], "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case "=":
    case "==":
    case "!=":
      if (vals.length !== 1) errs.push(invalid(valuePath, [...vals], "exact-match compatibility requires one single value"));
      break;
    case "exists":
    case "!":
      if (vals.length !== 0) errs.push(invalid(valuePath, [...vals], "values set must be empty for exists and does not exist"));
      break;
    case "gt":
    case "lt":
      if (vals.length !== 1) errs.push(invalid(valuePath, [...vals], "for 'Gt', 'Lt' operators, exactly one value is required"));
      vals.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(invalid(valuePath.index(i), v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
    default:
      errs.push(notSupported(childPath(path, "operator"), op, validOperators));
  }
  vals.forEach((v, i) => {
    // Upstream names a bad value's field `values[i][key]`.
    const msgs = isValidLabelValue(v);
    if (msgs.length > 0) errs.push(invalid(valuePath.index(i).key(key), v, msgs.join("; ")));
  });
  return errs;
}

/**
 * Builds a validated requirement, as upstream's NewRequirement: throws LabelSelectorError whose
 * message is the aggregate of the field errors (paths `key`, `values`, `values[i][key]`).
 */
export function newRequirement(key: string, op: Operator, values: readonly string[], path: PathOrNil = null): Requirement {
  const errs = requirementErrors(key, op, values, path);
  if (errs.length > 0) throw new LabelSelectorError(aggregateMessage(errs), errs);
  return { key, operator: op, values: [...values] };
}

export function requirementMatches(r: Requirement, ls: Labels | undefined): boolean {
  switch (r.operator) {
    case "in":
    case "=":
    case "==":
      return hasLabel(ls, r.key) && r.values.includes(ls![r.key]!);
    case "notin":
    case "!=":
      return !hasLabel(ls, r.key) || !r.values.includes(ls![r.key]!);
    case "exists":
      return hasLabel(ls, r.key);
    case "!":
      return !hasLabel(ls, r.key);
    case "gt":
    case "lt": {
      if (!hasLabel(ls, r.key) || r.values.length !== 1) return false;
      const have = parseInt64(ls![r.key]!);
      const want = parseInt64(r.values[0]!);
      if (have === undefined || want === undefined) return false;
      return r.operator === "gt" ? have > want : have < want;
    }
    default:
      return false;
  }
}

function sortedValues(values: readonly string[]): string[] {
  return [...values].sort(compareGoStrings);
}

/** Upstream's Requirement.String(): `key=v`, `key in (a,b)`, `!key`, `key>5`. */
export function requirementString(r: Requirement): string {
  let s = r.operator === "!" ? "!" + r.key : r.key;
  switch (r.operator) {
    case "=":
      s += "=";
      break;
    case "==":
      s += "==";
      break;
    case "!=":
      s += "!=";
      break;
    case "in":
      s += " in ";
      break;
    case "notin":
      s += " notin ";
      break;
    case "gt":
      s += ">";
      break;
    case "lt":
      s += "<";
      break;
    case "exists":
    case "!":
      return s;
  }
  const vals = r.values.length === 1 ? r.values[0]! : sortedValues(r.values).join(",");
  return r.operator === "in" || r.operator === "notin" ? `${s}(${vals})` : s + vals;
}

function sortByKey(reqs: Requirement[]): Requirement[] {
  // A stable sort: upstream's sort.Sort is an insertion sort at the sizes selectors have.
  return reqs.sort((a, b) => compareGoStrings(a.key, b.key));
}

/**
 * A label selector: an AND of requirements kept sorted by key. An empty selector matches
 * everything; the "nothing" selector (from a nil metav1.LabelSelector) matches no object.
 */
export class Selector {
  private constructor(
    private readonly reqs: readonly Requirement[],
    private readonly nothing: boolean,
  ) {}

  /** @internal used by the constructors below */
  static create(reqs: Requirement[], nothing = false): Selector {
    return new Selector(sortByKey(reqs), nothing);
  }

  matches(ls: Labels | undefined): boolean {
    if (this.nothing) return false;
    return this.reqs.every((r) => requirementMatches(r, ls));
  }

  /** True when the selector does not restrict anything (it matches every object). */
  isEmpty(): boolean {
    return !this.nothing && this.reqs.length === 0;
  }

  /** True for the selector that matches nothing. */
  isNothing(): boolean {
    return this.nothing;
  }

  /** The requirements, and false for the nothing selector (which has none but selects nothing). */
  requirements(): { requirements: readonly Requirement[]; selectable: boolean } {
    return { requirements: this.reqs, selectable: !this.nothing };
  }

  /** A new selector with these requirements added (the nothing selector stays nothing). */
  add(...reqs: Requirement[]): Selector {
    if (this.nothing) return this;
    return Selector.create([...this.reqs, ...reqs]);
  }

  /**
   * The single value the selector requires `label` to have, if its first requirement on that
   * key is `=`, `==` or `in` with one value (lets a server narrow a list to one index bucket).
   */
  requiresExactMatch(label: string): string | undefined {
    for (const r of this.reqs) {
      if (r.key !== label) continue;
      if ((r.operator === "=" || r.operator === "==" || r.operator === "in") && r.values.length === 1) return r.values[0];
      return undefined;
    }
    return undefined;
  }

  /** The canonical form: requirement strings joined by ",". */
  toString(): string {
    return this.reqs.map(requirementString).join(",");
  }
}

export function everything(): Selector {
  return Selector.create([]);
}

export function nothing(): Selector {
  return Selector.create([], true);
}

// ---- the string grammar -------------------------------------------------------------------

type Token = "error" | "eos" | ")" | "," | "!" | "==" | "=" | ">" | "identifier" | "in" | "<" | "!=" | "notin" | "(";

const string2token: Readonly<Record<string, Token>> = {
  ")": ")",
  ",": ",",
  "!": "!",
  "==": "==",
  "=": "=",
  ">": ">",
  in: "in",
  "<": "<",
  "!=": "!=",
  notin: "notin",
  "(": "(",
};

interface ScannedItem {
  tok: Token;
  literal: string;
}

const isWhitespace = (ch: string): boolean => ch === " " || ch === "\t" || ch === "\r" || ch === "\n";
const isSpecialSymbol = (ch: string): boolean => "=!(),><".includes(ch) && ch.length === 1;

class Lexer {
  private pos = 0;
  constructor(private readonly s: string) {}

  /** Upstream reads bytes and treats a NUL byte like the end of the input. */
  private read(): string {
    if (this.pos < this.s.length) {
      const ch = this.s[this.pos]!;
      this.pos++;
      return ch === "\0" ? "" : ch;
    }
    this.pos++;
    return "";
  }

  private unread(): void {
    this.pos--;
  }

  private scanIDOrKeyword(): ScannedItem {
    let buf = "";
    for (;;) {
      const ch = this.read();
      if (ch === "") break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        this.unread();
        break;
      }
      buf += ch;
    }
    const known = Object.prototype.hasOwnProperty.call(string2token, buf) ? string2token[buf] : undefined;
    return { tok: known ?? "identifier", literal: buf };
  }

  private scanSpecialSymbol(): ScannedItem {
    let last: ScannedItem | undefined;
    let buf = "";
    for (;;) {
      const ch = this.read();
      if (ch === "") break;
      if (isSpecialSymbol(ch)) {
        buf += ch;
        const t = string2token[buf];
        if (t !== undefined) last = { tok: t, literal: buf };
        else if (last) {
          this.unread();
          break;
        }
      } else {
        this.unread();
        break;
      }
    }
    return last ?? { tok: "error", literal: `error expected: keyword found '${buf}'` };
  }

  lex(): ScannedItem {
    let ch = this.read();
    while (ch !== "" && isWhitespace(ch)) ch = this.read();
    if (ch === "") return { tok: "eos", literal: "" };
    this.unread();
    return isSpecialSymbol(ch) ? this.scanSpecialSymbol() : this.scanIDOrKeyword();
  }
}

class ParseFailure extends Error {}

class Parser {
  private readonly items: ScannedItem[] = [];
  private position = 0;

  constructor(
    input: string,
    private readonly path: PathOrNil,
  ) {
    const l = new Lexer(input);
    for (;;) {
      const item = l.lex();
      this.items.push(item);
      if (item.tok === "eos") break;
    }
  }

  /** In value context, `in` and `notin` are plain identifiers. */
  private static inContext(item: ScannedItem, values: boolean): ScannedItem {
    if (values && (item.tok === "in" || item.tok === "notin")) return { tok: "identifier", literal: item.literal };
    return item;
  }

  private lookahead(values: boolean): ScannedItem {
    return Parser.inContext(this.items[this.position]!, values);
  }

  private consume(values: boolean): ScannedItem {
    const item = this.items[this.position]!;
    this.position++;
    return Parser.inContext(item, values);
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const { tok, literal } = this.lookahead(true);
      switch (tok) {
        case "identifier":
        case "!": {
          let r: Requirement;
          try {
            r = this.parseRequirement();
          } catch (err) {
            if (err instanceof ParseFailure || err instanceof LabelSelectorError) {
              throw new LabelSelectorError(`unable to parse requirement: ${err.message}`, err instanceof LabelSelectorError ? err.fieldErrors : []);
            }
            throw err;
          }
          reqs.push(r);
          const t = this.consume(true);
          if (t.tok === "eos") return reqs;
          if (t.tok === ",") {
            const t2 = this.lookahead(true);
            if (t2.tok !== "identifier" && t2.tok !== "!") throw new LabelSelectorError(`found '${t2.literal}', expected: identifier after ','`);
            break;
          }
          throw new LabelSelectorError(`found '${t.literal}', expected: ',' or 'end of string'`);
        }
        case "eos":
          return reqs;
        default:
          throw new LabelSelectorError(`found '${literal}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): Requirement {
    const { key, operator } = this.parseKeyAndInferOperator();
    if (operator === "exists" || operator === "!") return newRequirement(key, operator, [], this.path);
    const op = this.parseOperator();
    const values = op === "in" || op === "notin" ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, op, [...values].sort(compareGoStrings), this.path);
  }

  private parseKeyAndInferOperator(): { key: string; operator: Operator | undefined } {
    let operator: Operator | undefined;
    let item = this.consume(true);
    if (item.tok === "!") {
      operator = "!";
      item = this.consume(true);
    }
    if (item.tok !== "identifier") throw new ParseFailure(`found '${item.literal}', expected: identifier`);
    const keyErr = validateLabelKey(item.literal, this.path);
    if (keyErr) throw new LabelSelectorError(keyErr.toString(), [keyErr]);
    const next = this.lookahead(true).tok;
    if ((next === "eos" || next === ",") && operator !== "!") operator = "exists";
    return { key: item.literal, operator };
  }

  private parseOperator(): Operator {
    const { tok, literal } = this.consume(false);
    switch (tok) {
      case "in":
        return "in";
      case "=":
        return "=";
      case "==":
        return "==";
      case ">":
        return "gt";
      case "<":
        return "lt";
      case "notin":
        return "notin";
      case "!=":
        return "!=";
      default:
        throw new ParseFailure(`found '${literal}', expected: ${binaryOperators.join(", ")}`);
    }
  }

  private parseValues(): Set<string> {
    const open = this.consume(true);
    if (open.tok !== "(") throw new ParseFailure(`found '${open.literal}' expected: '('`);
    const { tok, literal } = this.lookahead(true);
    switch (tok) {
      case "identifier":
      case ",": {
        const s = this.parseIdentifiersList();
        if (this.consume(true).tok !== ")") throw new ParseFailure(`found '${literal}', expected: ')'`);
        return s;
      }
      case ")":
        this.consume(true);
        return new Set([""]);
      default:
        throw new ParseFailure(`found '${literal}', expected: ',', ')' or identifier`);
    }
  }

  /** A comma-separated, possibly empty list of possibly empty identifiers: `(a,,b)`, `(,)`. */
  private parseIdentifiersList(): Set<string> {
    const s = new Set<string>();
    for (;;) {
      const { tok, literal } = this.consume(true);
      switch (tok) {
        case "identifier": {
          s.add(literal);
          const next = this.lookahead(true);
          if (next.tok === ",") continue;
          if (next.tok === ")") return s;
          throw new ParseFailure(`found '${next.literal}', expected: ',' or ')'`);
        }
        case ",": {
          if (s.size === 0) s.add("");
          const next = this.lookahead(true).tok;
          if (next === ")") {
            s.add("");
            return s;
          }
          if (next === ",") {
            this.consume(true);
            s.add("");
          }
          continue;
        }
        default:
          throw new ParseFailure(`found '${literal}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.lookahead(true).tok;
    if (next === "eos" || next === ",") return new Set([""]);
    const { tok, literal } = this.consume(true);
    if (tok === "identifier") return new Set([literal]);
    throw new ParseFailure(`found '${literal}', expected: identifier`);
  }
}

/**
 * Parses the label selector string grammar:
 *   selector    ::= requirement | requirement "," selector
 *   requirement ::= [!] KEY [ ("in"|"notin") "(" values ")" | ("="|"=="|"!="|">"|"<") VALUE ]
 * Throws LabelSelectorError with upstream's message. `path` prefixes field error paths.
 */
export function parseSelector(selector: string, path: PathOrNil = null): Selector {
  return Selector.create(parseToRequirements(selector, path));
}

export function parseToRequirements(selector: string, path: PathOrNil = null): Requirement[] {
  return sortByKey(new Parser(selector, path).parse());
}

// ---- other constructors -------------------------------------------------------------------

/** Every key must equal its value; no validation (the server rejects invalid sets). */
export function selectorFromSet(set: Labels | undefined): Selector {
  if (!set) return everything();
  return Selector.create(Object.entries(set).map(([key, v]) => ({ key, operator: "=" as const, values: [v] })));
}

/** Like selectorFromSet, but validates keys and values first (throws LabelSelectorError). */
export function validatedSelectorFromSet(set: Labels | undefined): Selector {
  if (!set) return everything();
  return Selector.create(Object.entries(set).map(([key, v]) => newRequirement(key, "=", [v])));
}

const selectorOps: Readonly<Record<string, Operator>> = { In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" };

/**
 * Converts a metav1.LabelSelector as upstream's LabelSelectorAsSelector: null/undefined selects
 * nothing, an empty selector selects everything. Throws LabelSelectorError on an unknown
 * operator (`"Foo" is not a valid label selector operator`) or an invalid requirement.
 * API validation (validateLabelSelector) reports these with field paths; this is the
 * conversion controllers use on already-validated objects.
 */
export function labelSelectorAsSelector(ps: LabelSelectorSpec | null | undefined): Selector {
  if (!ps) return nothing();
  const matchLabels = Object.entries(ps.matchLabels ?? {});
  const exprs = ps.matchExpressions ?? [];
  if (matchLabels.length + exprs.length === 0) return everything();
  const reqs: Requirement[] = matchLabels.map(([k, v]) => newRequirement(k, "=", [v]));
  for (const expr of exprs) {
    const op = Object.prototype.hasOwnProperty.call(selectorOps, expr.operator) ? selectorOps[expr.operator] : undefined;
    if (!op) throw new LabelSelectorError(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    reqs.push(newRequirement(expr.key, op, [...(expr.values ?? [])]));
  }
  return Selector.create(reqs);
}

/**
 * The canonical string of a metav1.LabelSelector (what `status.selector` of a scale
 * subresource carries): metav1.FormatLabelSelector prints "<none>" for an empty selector.
 */
export function formatLabelSelector(ps: LabelSelectorSpec | null | undefined): string {
  let s: string;
  try {
    s = labelSelectorAsSelector(ps).toString();
  } catch {
    return "<error>";
  }
  return s.length === 0 ? "<none>" : s;
}

/** `k1=v1,k2=v2` sorted, or "<none>" when empty (labels.FormatLabels, used by printers). */
export function formatLabels(set: Labels | undefined): string {
  const s = labelSetString(set);
  return s === "" ? "<none>" : s;
}

/** labels.Set.String(): `key=value` pairs sorted as strings and joined by ",". */
export function labelSetString(set: Labels | undefined): string {
  return Object.entries(set ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .sort(compareGoStrings)
    .join(",");
}

/** The label an EndpointSlice names its Service with (discovery.k8s.io/v1 LabelServiceName). */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/** Simulated nodes (k8ts sim-nodes, as kwok's) carry this annotation ("fake"): no kubelet runs behind them. */
export const SIMULATED_NODE_ANNOTATION = "kwok.x-k8s.io/node";
