// Formatting shared by the server-side table printers. The output of these functions is what
// `kubectl get` shows, so each follows the upstream printer it stands for to the character
// (apimachinery duration.HumanDuration, labels.FormatLabels, metav1.FormatLabelSelector,
// the printers' layoutContainerCells and "+ N more..." lists).
import type { LabelSelector } from "kubernetes-types/meta/v1.js";
import { formatLabels as apiFormatLabels, formatLabelSelector as apiFormatLabelSelector, labelSelectorAsSelector } from "../../api/labels.js";
import type { TableColumn, TableDefinition, KubeObject } from "../registry/types.js";
import { selectorView } from "./common.js";
import { D } from "./descriptions.js";
import { rfc3339 } from "../../util/time.js";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * A duration in milliseconds as upstream's HumanDuration prints it: ~2–3 significant figures,
 * "0s" for up to 2 s in the future (clock skew), "<invalid>" beyond that.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    const d = Math.trunc(hours / 24);
    return h === 0 ? `${d}d` : `${d}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const years = Math.trunc(hours / 24 / 365);
    const dy = Math.trunc(hours / 24) % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Parses an RFC 3339 timestamp (metav1.Time or MicroTime); undefined when absent or unparsable. */
export function parseTime(ts: string | undefined | null): number | undefined {
  if (ts === undefined || ts === null || ts === "") return undefined;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? undefined : t;
}

/** Upstream translateTimestampSince: the age of a timestamp, "<unknown>" when it is unset. */
export function since(ts: string | undefined | null, now: Date): string {
  const t = parseTime(ts);
  if (t === undefined) return "<unknown>";
  return humanDuration(now.getTime() - t);
}

/** labels.FormatLabels: sorted `k=v` pairs joined by ",", "<none>" when empty. */
export function formatLabels(labels: Readonly<Record<string, string>> | undefined | null): string {
  return apiFormatLabels(labels ?? undefined);
}

/**
 * The string form of a metav1.LabelSelector as LabelSelectorAsSelector(...).String() gives it
 * ("" for a missing or empty selector); undefined when the selector is invalid.
 */
export function labelSelectorString(sel: Readonly<LabelSelector> | undefined | null): string | undefined {
  try {
    return labelSelectorAsSelector(selectorView(sel)).toString();
  } catch {
    return undefined;
  }
}

/** metav1.FormatLabelSelector: "<none>" for an empty selector, "<error>" for an invalid one. */
export function formatLabelSelector(sel: Readonly<LabelSelector> | undefined | null): string {
  return apiFormatLabelSelector(sel === undefined || sel === null ? sel : (selectorView(sel) ?? null));
}

/** Container names and images of a template, each joined by "," (printers' layoutContainerCells). */
export function containerCells(containers: readonly { name?: string; image?: string }[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name ?? "").join(","), list.map((c) => c.image ?? "").join(",")];
}

/** Joins at most `max` items and appends " + N more..." as the printers do; "<unset>" when empty. */
export function listWithMore(items: readonly string[], max: number, total = items.length, empty = "<unset>"): string {
  const shown = items.slice(0, max);
  const ret = shown.join(",");
  if (total > max) return `${ret} + ${total - max} more...`;
  return ret === "" ? empty : ret;
}

export function nameColumn(priority = 0): TableColumn {
  return { name: "Name", type: "string", format: "name", description: D.metaName, priority };
}

export const ageColumn: TableColumn = { name: "Age", type: "string", description: D.metaCreationTimestamp, priority: 0 };

export function column(name: string, type: TableColumn["type"], description: string, priority = 0): TableColumn {
  return { name, type, description, priority };
}

/** The columns of the templates' wide output: CONTAINERS, IMAGES (and often SELECTOR). */
export const containersColumn: TableColumn = column("Containers", "string", "Names of each container in the template.", 1);
export const imagesColumn: TableColumn = column("Images", "string", "Images referenced by each container in the template.", 1);

/** The scale subresource's table (upstream's printScale): NAME DESIRED AVAILABLE AGE. */
export const scaleTable: TableDefinition<KubeObject> = {
  columns: [nameColumn(), column("Desired", "integer", D.scaleSpecReplicas), column("Available", "integer", D.scaleStatusReplicas), ageColumn],
  row: (s, now) => {
    const o = s as { spec?: { replicas?: number }; status?: { replicas?: number } };
    return [s.metadata?.name ?? "", o.spec?.replicas ?? 0, o.status?.replicas ?? 0, since(s.metadata?.creationTimestamp, now)];
  },
};

/**
 * The table of kinds without a printer of their own (roles, limit ranges, ...): upstream's
 * default table convertor, NAME and CREATED AT (RFC 3339, UTC, second precision).
 */
export function defaultTable<T extends KubeObject>(): TableDefinition<T> {
  return {
    columns: [nameColumn(), { name: "Created At", type: "date", description: D.metaCreationTimestamp, priority: 0 }],
    row: (obj) => {
      const t = parseTime(obj.metadata?.creationTimestamp);
      // A zero metav1.Time formats as year 1, as upstream's Format(time.RFC3339) does.
      return [obj.metadata?.name ?? "", t === undefined ? "0001-01-01T00:00:00Z" : rfc3339(t)];
    },
  };
}
