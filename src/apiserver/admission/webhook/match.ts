// Which webhooks a request meets (upstream: apiserver pkg/admission/plugin/webhook/predicates
// rules, namespace and object matchers, and generic.Webhook.ShouldCallHook).
import type { MutatingWebhook, RuleWithOperations, ValidatingWebhook } from "kubernetes-types/admissionregistration/v1.js";
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { labelSelectorAsSelector, type Labels } from "../../../api/labels.js";
import type { KubeObject, ResourceDefinition } from "../../registry/types.js";
import { internalError, notFound, type StatusError } from "../../status.js";
import type { AdmissionAttributes } from "../types.js";

export type Webhook = MutatingWebhook | ValidatingWebhook;

/** A webhook with the name of the configuration that holds it. */
export interface ConfiguredWebhook<W extends Webhook = Webhook> {
  readonly configuration: string;
  readonly webhook: Readonly<W>;
}

/** A rule as the API has it (kubernetes-types leaves out the fields inlined from v1.Rule). */
export type Rule = RuleWithOperations & { resources?: string[]; scope?: string };

export const ADMISSION_REGISTRATION_GROUP = "admissionregistration.k8s.io";

/**
 * Requests for admissionregistration objects never go to webhooks (upstream's
 * IsExemptAdmissionConfigurationResource): a broken webhook could otherwise lock out the
 * very writes that would remove it.
 */
export function exempt(a: AdmissionAttributes): boolean {
  return a.resource.group === ADMISSION_REGISTRATION_GROUP;
}

/** Webhooks of configurations in configuration-name order, each configuration's in its order (upstream's configuration manager). */
export function orderedWebhooks<W extends Webhook>(configurations: readonly Readonly<{ metadata?: { name?: string }; webhooks?: readonly W[] }>[]): ConfiguredWebhook<W>[] {
  const sorted = [...configurations].sort((a, b) => compare(a.metadata?.name ?? "", b.metadata?.name ?? ""));
  return sorted.flatMap((c) => (c.webhooks ?? []).map((webhook) => ({ configuration: c.metadata?.name ?? "", webhook })));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether one rule covers the request, taken as a request for `as` (default its own resource). */
export function ruleMatches(rule: Readonly<Rule>, a: AdmissionAttributes, as: ResourceDefinition = a.resource): boolean {
  const ops = rule.operations ?? [];
  if (!ops.some((op) => op === "*" || op === a.operation)) return false;
  if (!(rule.apiGroups ?? []).some((g) => g === "*" || g === as.group)) return false;
  if (!(rule.apiVersions ?? []).some((v) => v === "*" || v === as.version)) return false;
  if (!resourceMatches(rule.resources ?? [], as.plural, a.subresource)) return false;
  return scopeMatches(rule.scope, a);
}

/** Other served forms of a request's resource (upstream's equivalent resource mapper). */
export type Equivalents = (def: ResourceDefinition) => readonly ResourceDefinition[];

/**
 * The resource a webhook is to see the request as: its own when a rule names it; else, under
 * matchPolicy Equivalent (the default), the first other served form of the same stored
 * resource that a rule names (another version of a custom resource, autoscaling/v1 and v2
 * HPAs, core and events.k8s.io Events), the object converted for it.
 */
export function matchedResource(w: Readonly<Webhook>, a: AdmissionAttributes, equivalents: Equivalents): ResourceDefinition | undefined {
  const rules = (w.rules ?? []) as readonly Rule[];
  if (rules.some((r) => ruleMatches(r, a))) return a.resource;
  if (w.matchPolicy === "Exact") return undefined;
  for (const r of rules) {
    for (const eq of equivalents(a.resource)) if (eq !== a.resource && ruleMatches(r, a, eq)) return eq;
  }
  return undefined;
}

// `pods`, `pods/status`, `*` (every resource, no subresource), `*/scale`, `pods/*` (pods and
// every subresource of it) and `*/*`.
function resourceMatches(resources: readonly string[], resource: string, subresource: string): boolean {
  return resources.some((r) => {
    const slash = r.indexOf("/");
    const res = slash < 0 ? r : r.slice(0, slash);
    const sub = slash < 0 ? "" : r.slice(slash + 1);
    return (res === "*" || res === resource) && (sub === "*" || sub === subresource);
  });
}

/** Namespace objects are cluster-scoped though a request for one names its namespace (upstream's rule scope). */
function scopeMatches(scope: string | undefined, a: AdmissionAttributes): boolean {
  if (scope === undefined || scope === "*") return true;
  const isNamespace = a.resource.group === "" && a.resource.plural === "namespaces";
  if (scope === "Namespaced") return !isNamespace && a.namespace !== "";
  if (scope === "Cluster") return isNamespace || a.namespace === "";
  return false;
}

/** The labels namespaceSelector sees: a namespace written now by its own object, others from the cluster. */
export type NamespaceLabels = (name: string) => Promise<Labels | undefined>;

/**
 * Whether the webhook is to be called, and as which resource: a rule covers the request, and
 * the namespace and object selectors accept it. A selector that does not parse is upstream's
 * InternalError, a namespace that does not exist its NotFound.
 */
export async function shouldCall(w: Readonly<Webhook>, a: AdmissionAttributes, namespaceLabels: NamespaceLabels, equivalents: Equivalents = () => []): Promise<ResourceDefinition | undefined> {
  const as = matchedResource(w, a, equivalents);
  if (!as) return undefined;
  if (!(await namespaceSelectorMatches(w.namespaceSelector, a, namespaceLabels))) return undefined;
  return objectSelectorMatches(w.objectSelector, a) ? as : undefined;
}

export async function namespaceSelectorMatches(sel: Readonly<LabelSelector> | undefined, a: AdmissionAttributes, namespaceLabels: NamespaceLabels): Promise<boolean> {
  const isNamespace = a.resource.group === "" && a.resource.plural === "namespaces";
  // A cluster-scoped object other than a namespace is never exempted by a namespace selector.
  if (a.namespace === "" && !isNamespace) return true;
  const selector = parsed(sel);
  if (selector.isEmpty()) return true;
  let labels: Labels | undefined;
  if (isNamespace && a.subresource === "" && (a.operation === "CREATE" || a.operation === "UPDATE")) {
    // The namespace being written: its new labels, which no cache holds yet.
    labels = a.object?.metadata?.labels ?? {};
  } else {
    const name = isNamespace ? a.name || a.namespace : a.namespace;
    const found = await namespaceLabels(name);
    // Upstream keeps a 404 here for compatibility (MatchNamespaceSelector).
    if (found === undefined) throw notFound({ group: "", resource: "namespaces" }, name);
    labels = found;
  }
  return selector.matches(labels);
}

/** The object or the old object carries matching labels (upstream's object matcher). */
export function objectSelectorMatches(sel: Readonly<LabelSelector> | undefined, a: AdmissionAttributes): boolean {
  const selector = parsed(sel);
  if (selector.isEmpty()) return true;
  const matches = (o: Readonly<KubeObject> | undefined): boolean => o !== undefined && selector.matches(o.metadata?.labels ?? {});
  return matches(a.object) || matches(a.oldObject);
}

function parsed(sel: Readonly<LabelSelector> | undefined): ReturnType<typeof labelSelectorAsSelector> {
  try {
    // An absent selector is upstream's default {}: everything.
    return labelSelectorAsSelector(sel ?? {});
  } catch (err) {
    throw selectorError(err);
  }
}

function selectorError(err: unknown): StatusError {
  return internalError(err instanceof Error ? err.message : String(err));
}
