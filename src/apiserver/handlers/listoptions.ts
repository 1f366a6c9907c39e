// The options of a list or watch, defaulted and checked as upstream's SetListOptionsDefaults and
// ValidateListOptions do with the WatchList feature on (as kube-apiserver 1.32 has it): a
// request that breaks a rule gets 422 `ListOptions.meta.k8s.io "" is invalid` with one cause
// per rule.
import { queryBool } from "../query.js";
import { forbidden, newPath, notSupported, type FieldError } from "../../api/fielderrors.js";
import { invalidFromFieldErrors } from "../rest/invalid.js";

export interface ListOptionsQuery {
  readonly resourceVersion: string | undefined;
  readonly resourceVersionMatch: string | undefined;
  /** Undefined when the client did not send it. */
  readonly sendInitialEvents: boolean | undefined;
  readonly continue: string | undefined;
}

const NOT_OLDER_THAN = "NotOlderThan";
const MATCH = newPath("resourceVersionMatch");
const EXACT = "Exact";

export function listOptionsOf(q: URLSearchParams): ListOptionsQuery {
  const nonEmpty = (name: string): string | undefined => q.get(name) || undefined;
  return { resourceVersion: q.get("resourceVersion") ?? undefined, resourceVersionMatch: nonEmpty("resourceVersionMatch"), sendInitialEvents: queryBool(q, "sendInitialEvents"), continue: nonEmpty("continue") };
}

/** What is wrong with these options for a list (`watch` false) or a watch. */
export function listOptionsErrors(o: ListOptionsQuery, watch: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const match = o.resourceVersionMatch;
  if (watch) {
    if (o.sendInitialEvents !== undefined && match !== NOT_OLDER_THAN) errs.push(forbidden(MATCH, `sendInitialEvents requires setting resourceVersionMatch to ${NOT_OLDER_THAN}`));
    if (match !== undefined) {
      if (o.sendInitialEvents === undefined) errs.push(forbidden(MATCH, "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"));
      if (match !== NOT_OLDER_THAN) errs.push(notSupported(MATCH, match, [NOT_OLDER_THAN]));
      if (o.continue !== undefined) errs.push(forbidden(MATCH, "resourceVersionMatch is forbidden when continue is provided"));
    }
    return errs;
  }
  if (match !== undefined) {
    if (!o.resourceVersion) errs.push(forbidden(MATCH, "resourceVersionMatch is forbidden unless resourceVersion is provided"));
    if (o.continue !== undefined) errs.push(forbidden(MATCH, "resourceVersionMatch is forbidden when continue is provided"));
    if (match !== EXACT && match !== NOT_OLDER_THAN) errs.push(notSupported(MATCH, match, [EXACT, NOT_OLDER_THAN, ""]));
    if (match === EXACT && o.resourceVersion === "0") errs.push(forbidden(MATCH, 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
  }
  if (o.sendInitialEvents !== undefined) errs.push(forbidden(newPath("sendInitialEvents"), "sendInitialEvents is forbidden for list"));
  return errs;
}

/**
 * Upstream's SetListOptionsDefaults with the WatchList feature on (1.32): a watch from "" or "0"
 * that says nothing of initial events is a streaming list (the state, then, with bookmarks, the
 * bookmark marking its end).
 */
export function withListOptionsDefaults(o: ListOptionsQuery, watch: boolean): ListOptionsQuery {
  if (!watch || o.sendInitialEvents !== undefined || o.resourceVersionMatch !== undefined) return o;
  if (o.resourceVersion !== undefined && o.resourceVersion !== "" && o.resourceVersion !== "0") return o;
  return { ...o, sendInitialEvents: true, resourceVersionMatch: NOT_OLDER_THAN };
}

/** The options of a list or watch request, defaulted and refused with upstream's 422 when they do not go together. */
export function checkedListOptions(q: URLSearchParams, watch: boolean): ListOptionsQuery {
  const o = withListOptionsDefaults(listOptionsOf(q), watch);
  const errs = listOptionsErrors(o, watch);
  if (errs.length > 0) throw invalidFromFieldErrors({ group: "meta.k8s.io", kind: "ListOptions" }, "", errs);
  return o;
}
