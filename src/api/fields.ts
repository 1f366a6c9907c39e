// Field selectors as Kubernetes apimachinery pkg/fields implements them: `a=b,c!=d,e==f`,
// values escaped with `\,` `\=` `\\`, an AND of terms. A missing field reads as "", so
// `spec.nodeName=` selects unscheduled pods. Which field labels a kind supports is the
// server's choice; this module offers the transform hook upstream uses for that and the two
// error messages upstream gives for an unsupported label.
import { compareGoStrings, goQuote } from "./fielderrors.js";

/** A field selector was malformed or names an unsupported field. Callers switch on `code`. */
export class FieldSelectorError extends Error {
  override readonly name = "FieldSelectorError";
  constructor(
    readonly code: "InvalidFieldSelector" | "FieldLabelNotSupported",
    message: string,
    /** For FieldLabelNotSupported: the offending label. */
    readonly label?: string,
  ) {
    super(message);
  }
}

/** The operator of one term; `==` parses to `=` as upstream (selection.Equals / NotEquals). */
export type FieldOperator = "=" | "!=";

export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  readonly value: string;
}

/** The object's selectable fields: field label → value (a missing field is ""). */
export type Fields = Readonly<Record<string, string>>;

function getField(fields: Fields, name: string): string {
  return Object.prototype.hasOwnProperty.call(fields, name) ? (fields[name] ?? "") : "";
}

/** Rewrites one term (field, value); returning ["", ""] drops the term. Throws to reject. */
export type FieldTransform = (field: string, value: string) => readonly [string, string];

/**
 * An AND of `field=value` / `field!=value` terms, in the order upstream keeps (terms sorted as
 * raw strings at parse time). No terms: matches everything. The "nothing" selector matches none.
 */
export class FieldSelector {
  private constructor(
    private readonly terms: readonly FieldRequirement[],
    private readonly nothing: boolean,
  ) {}

  /** @internal used by the constructors below */
  static create(terms: readonly FieldRequirement[], nothing = false): FieldSelector {
    return new FieldSelector(terms, nothing);
  }

  matches(fields: Fields): boolean {
    if (this.nothing) return false;
    return this.terms.every((t) => (t.operator === "=" ? getField(fields, t.field) === t.value : getField(fields, t.field) !== t.value));
  }

  isEmpty(): boolean {
    return !this.nothing && this.terms.length === 0;
  }

  isNothing(): boolean {
    return this.nothing;
  }

  requirements(): readonly FieldRequirement[] {
    return this.terms;
  }

  /** The field labels the selector uses, each once, in term order. */
  fieldNames(): string[] {
    return [...new Set(this.terms.map((t) => t.field))];
  }

  /**
   * The value an `=` term requires for `field`, so a server can turn `metadata.name=foo` into
   * a single-key read. `!=` terms never count.
   */
  requiresExactMatch(field: string): string | undefined {
    for (const t of this.terms) if (t.field === field && t.operator === "=") return t.value;
    return undefined;
  }

  /**
   * Applies `fn` to every term, as upstream's Selector.Transform: the server passes the kind's
   * field label conversion, which renames labels or throws for unsupported ones.
   */
  transform(fn: FieldTransform): FieldSelector {
    if (this.nothing) return this;
    const out: FieldRequirement[] = [];
    for (const t of this.terms) {
      const [field, value] = fn(t.field, t.value);
      if (field.length === 0 && value.length === 0) continue;
      out.push({ field, operator: t.operator, value });
    }
    return new FieldSelector(out, false);
  }

  /** Adds terms (AND). */
  and(...others: FieldSelector[]): FieldSelector {
    if (this.nothing || others.some((o) => o.nothing)) return nothingFields();
    return new FieldSelector([...this.terms, ...others.flatMap((o) => o.terms)], false);
  }

  /** Upstream's String(): `field=escaped` / `field!=escaped` joined by ",". */
  toString(): string {
    return this.terms.map((t) => `${t.field}${t.operator}${escapeValue(t.value)}`).join(",");
  }
}

export function everythingFields(): FieldSelector {
  return FieldSelector.create([]);
}

export function nothingFields(): FieldSelector {
  return FieldSelector.create([], true);
}

export function oneTermEqualSelector(field: string, value: string): FieldSelector {
  return FieldSelector.create([{ field, operator: "=", value }]);
}

export function oneTermNotEqualSelector(field: string, value: string): FieldSelector {
  return FieldSelector.create([{ field, operator: "!=", value }]);
}

/** Every field must equal its value (object key order, as given). */
export function fieldSelectorFromSet(set: Fields | undefined): FieldSelector {
  if (!set) return everythingFields();
  return FieldSelector.create(Object.entries(set).map(([field, value]) => ({ field, operator: "=" as const, value })));
}

/** Escapes `\`, `,` and `=` so a literal value survives inside a selector. */
export function escapeValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => "\\" + c);
}

/** The reverse of escapeValue; rejects unknown escapes and unescaped `,` / `=`. */
export function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = "";
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === "\\" || c === "," || c === "=") out += c;
      else throw new FieldSelectorError("InvalidFieldSelector", `invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === "\\") inSlash = true;
    else if (c === "," || c === "=") {
      // Upstream prints the rune with %v, i.e. as its code point number.
      throw new FieldSelectorError("InvalidFieldSelector", `invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else out += c;
  }
  if (inSlash) throw new FieldSelectorError("InvalidFieldSelector", "invalid field selector: invalid escape sequence: \\");
  return out;
}

/** Splits on commas that are not escaped; escapes stay in the terms. */
function splitTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === "\\") inSlash = true;
    else if (c === ",") {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

const termOperators = ["!=", "==", "="] as const;

/** The first operator occurrence splits the term: the field label itself has no escaping. */
function splitTerm(term: string): { lhs: string; op: (typeof termOperators)[number]; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of termOperators) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

/**
 * Parses `a=b,c!=d,e==f`; throws FieldSelectorError with upstream's message
 * (`invalid selector: 'S'; can't understand 'T'`, escape errors). `fn`, when given, is applied
 * to every term as by transform().
 */
export function parseFieldSelector(selector: string, fn?: FieldTransform): FieldSelector {
  const parts = splitTerms(selector).sort(compareGoStrings);
  const terms: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === "") continue;
    const t = splitTerm(part);
    if (!t) throw new FieldSelectorError("InvalidFieldSelector", `invalid selector: '${selector}'; can't understand '${part}'`);
    terms.push({ field: t.lhs, operator: t.op === "!=" ? "!=" : "=", value: unescapeValue(t.rhs) });
  }
  const sel = FieldSelector.create(terms);
  return fn ? sel.transform(fn) : sel;
}

/** The message kinds with their own field label conversion give (e.g. pods, events). */
export function fieldLabelNotSupported(label: string): FieldSelectorError {
  return new FieldSelectorError("FieldLabelNotSupported", `field label not supported: ${label}`, label);
}

/** The message kinds without their own conversion give (upstream's default metav1 conversion). */
export function notAKnownFieldSelector(label: string): FieldSelectorError {
  return new FieldSelectorError(
    "FieldLabelNotSupported",
    `${goQuote(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
    label,
  );
}

/**
 * A field label conversion: accepts `supported` labels, renames `aliases` (e.g. pods' legacy
 * `spec.host` → `spec.nodeName`), and rejects anything else. Without a list it is upstream's
 * default conversion (only metadata.name and metadata.namespace, with its own message).
 */
export function fieldLabelConversion(supported?: readonly string[], aliases: Readonly<Record<string, string>> = {}): FieldTransform {
  if (!supported) {
    return (field, value) => {
      if (field === "metadata.name" || field === "metadata.namespace") return [field, value];
      throw notAKnownFieldSelector(field);
    };
  }
  const ok = new Set(supported);
  return (field, value) => {
    if (ok.has(field)) return [field, value];
    const alias = Object.prototype.hasOwnProperty.call(aliases, field) ? aliases[field] : undefined;
    if (alias !== undefined) return [alias, value];
    throw fieldLabelNotSupported(field);
  };
}
