// Kubernetes' format library (apiserver/pkg/cel/library/format.go): named string validations for
// rules and messageExpressions. `format.dns1123Label()` (and the other names) or
// `format.named(name)` give a format; `<format>.validate(s)` is optional.none() when s is valid,
// else optional.of(the list of upstream's error messages).
import { Optional, type Environment } from "@marcbachmann/cel-js";
import { formatChecker } from "../crd/formats.js";
import { isQualifiedName, isValidLabelValue, nameIsDNS1035Label, nameIsDNSLabel, nameIsDNSSubdomain } from "../validation.js";
import { requestURIError } from "./urls.js";

/** A named format (kubernetes.NamedFormat in CEL). */
export class NamedFormat {
  constructor(
    readonly name: string,
    readonly validate: (s: string) => string[],
  ) {}
}

function strfmt(format: string, message: string): (s: string) => string[] {
  const check = formatChecker(format);
  if (!check) throw new Error(`format ${format} is not in the format registry`);
  return (s) => (check(s) ? [] : [message]);
}

const FORMATS = new Map<string, NamedFormat>([
  ["dns1123Label", new NamedFormat("DNS1123Label", (s) => nameIsDNSLabel(s, false))],
  ["dns1123Subdomain", new NamedFormat("DNS1123Subdomain", (s) => nameIsDNSSubdomain(s, false))],
  ["dns1035Label", new NamedFormat("DNS1035Label", (s) => nameIsDNS1035Label(s, false))],
  ["qualifiedName", new NamedFormat("QualifiedName", isQualifiedName)],
  ["dns1123LabelPrefix", new NamedFormat("DNS1123LabelPrefix", (s) => nameIsDNSLabel(s, true))],
  ["dns1123SubdomainPrefix", new NamedFormat("DNS1123SubdomainPrefix", (s) => nameIsDNSSubdomain(s, true))],
  ["dns1035LabelPrefix", new NamedFormat("DNS1035LabelPrefix", (s) => nameIsDNS1035Label(s, true))],
  ["labelValue", new NamedFormat("LabelValue", isValidLabelValue)],
  [
    "uri",
    new NamedFormat("URI", (s) => {
      const err = requestURIError(s);
      return err === undefined ? [] : [err];
    }),
  ],
  ["uuid", new NamedFormat("uuid", strfmt("uuid", "does not match the UUID format"))],
  ["byte", new NamedFormat("byte", strfmt("byte", "invalid base64"))],
  ["date", new NamedFormat("date", strfmt("date", "invalid date"))],
  ["datetime", new NamedFormat("datetime", strfmt("datetime", "invalid datetime"))],
]);

/** The `format` namespace: `format.dns1123Label()` is a method call on the constant `format`. */
class FormatNamespace {}

const F = "kubernetes.NamedFormat";

export function registerFormatLibrary(env: Environment): void {
  env.registerType(F, { ctor: NamedFormat, fields: {} });
  env.registerType("k8ts.FormatNamespace", FormatNamespace);
  env.registerConstant("format", "k8ts.FormatNamespace", new FormatNamespace());
  for (const [name, f] of FORMATS) env.registerFunction(`k8ts.FormatNamespace.${name}(): ${F}`, () => f);
  env.registerFunction(`k8ts.FormatNamespace.named(string): optional<${F}>`, (_: unknown, name: string) => {
    const f = FORMATS.get(name);
    return f ? Optional.of(f) : Optional.none();
  });
  env.registerFunction(`${F}.validate(string): optional<list<string>>`, (f: NamedFormat, s: string) => {
    const errs = f.validate(s);
    return errs.length === 0 ? Optional.none() : Optional.of(errs);
  });
}
