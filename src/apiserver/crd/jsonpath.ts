// The JSONPath subset additionalPrinterColumns use (upstream parses them with client-go's
// jsonpath, wrapped in braces): `.a.b`, `.a[0]`, `.a[*]`, `.a['b.c']`, and filters
// `[?(@.type=="Ready")]`. A column shows the first result.

export type Step =
  | { readonly kind: "field"; readonly name: string }
  | { readonly kind: "index"; readonly index: number }
  | { readonly kind: "all" }
  | { readonly kind: "filter"; readonly path: readonly string[]; readonly op: "==" | "!="; readonly value: string | number | boolean };

export interface ParsedPath {
  readonly steps: readonly Step[];
  readonly error?: string;
}

const FIELD = /^[A-Za-z0-9_-]+/;

/** Parses a printer column's jsonPath; `error` says why it is not one this server evaluates. */
export function parseJSONPath(text: string): ParsedPath {
  let s = text.trim();
  if (s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1).trim();
  if (s.startsWith("$")) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  const fail = (why: string): ParsedPath => ({ steps: [], error: why });
  if (s === "") return fail("empty path");
  while (i < s.length) {
    const c = s[i];
    if (c === ".") {
      const m = FIELD.exec(s.slice(i + 1));
      if (!m) return fail(`unexpected character after '.' at ${i + 1}`);
      steps.push({ kind: "field", name: m[0] });
      i += 1 + m[0].length;
    } else if (c === "[") {
      const end = s.indexOf("]", i);
      if (end === -1) return fail("unterminated [");
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === "*") steps.push({ kind: "all" });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: "index", index: Number(inner) });
      else if (/^'[^']*'$|^"[^"]*"$/.test(inner)) steps.push({ kind: "field", name: inner.slice(1, -1) });
      else {
        const m = /^\?\(@((?:\.[A-Za-z0-9_-]+)+)\s*(==|!=)\s*(.+)\)$/.exec(inner);
        if (!m) return fail(`unsupported expression [${inner}]`);
        const raw = m[3]!.trim();
        let value: string | number | boolean;
        if (/^'.*'$|^".*"$/.test(raw)) value = raw.slice(1, -1);
        else if (raw === "true" || raw === "false") value = raw === "true";
        else if (!Number.isNaN(Number(raw))) value = Number(raw);
        else return fail(`unsupported value ${raw}`);
        steps.push({ kind: "filter", path: m[1]!.slice(1).split("."), op: m[2] as "==" | "!=", value });
      }
    } else return fail(`unexpected character '${c}' at ${i}`);
  }
  return { steps };
}

function get(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** Every value the path reaches in `obj`, in document order. */
export function evaluate(path: ParsedPath, obj: unknown): unknown[] {
  let cur: unknown[] = [obj];
  for (const step of path.steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (step.kind === "field") {
        if (typeof v === "object" && v !== null && !Array.isArray(v) && step.name in v) next.push((v as Record<string, unknown>)[step.name]);
      } else if (step.kind === "index") {
        if (Array.isArray(v)) {
          const i = step.index < 0 ? v.length + step.index : step.index;
          if (i >= 0 && i < v.length) next.push(v[i]);
        }
      } else if (step.kind === "all") {
        if (Array.isArray(v)) next.push(...(v as unknown[]));
        else if (typeof v === "object" && v !== null) next.push(...Object.values(v));
      } else if (Array.isArray(v)) {
        for (const item of v as unknown[]) {
          const x = get(item, step.path);
          if (x === undefined) continue;
          if ((x === step.value) === (step.op === "==")) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}
