// What a webhook is shown of a request, and how its patch goes back: the object itself, or for
// the scale subresource an autoscaling/v1 Scale made from it (upstream admits /scale writes on
// the Scale object, and webhooks registered for `*/scale` expect one).
import type { KubeObject } from "../../registry/types.js";
import type { AdmissionAttributes } from "../types.js";

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface View {
  readonly kind: GroupVersionKind;
  readonly object: KubeObject | null;
  readonly oldObject: KubeObject | null;
  /** Makes the request's object what the patched view says. */
  apply(patched: KubeObject): void;
}

const SCALE_KIND: GroupVersionKind = { group: "autoscaling", version: "v1", kind: "Scale" };

export function viewOf(a: AdmissionAttributes): View {
  const r = a.resource;
  const scale = r.scale;
  if (a.subresource === "scale" && scale) {
    const scaleOf = (o: KubeObject | undefined): KubeObject | null => {
      if (!o) return null;
      const m = o.metadata ?? {};
      return {
        apiVersion: "autoscaling/v1",
        kind: "Scale",
        metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
        spec: { replicas: numberAt(o, scale.specReplicasPath) },
        status: { replicas: numberAt(o, scale.statusReplicasPath), selector: scale.selector(o) },
      };
    };
    return {
      kind: SCALE_KIND,
      object: scaleOf(a.object),
      oldObject: scaleOf(a.oldObject),
      apply: (patched) => {
        // Only spec.replicas of a Scale is written through to its parent, as the /scale handler does.
        const replicas = (patched["spec"] as { replicas?: unknown } | undefined)?.replicas;
        if (a.object) setAt(a.object, scale.specReplicasPath, replicas);
      },
    };
  }
  const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
  // The object as served, with its type even when the client left it out.
  const typed = (o: KubeObject | undefined): KubeObject | null => (o ? { ...o, apiVersion: o.apiVersion ?? apiVersion, kind: o.kind ?? r.kind } : null);
  return {
    kind: { group: r.group, version: r.version, kind: r.kind },
    object: typed(a.object),
    oldObject: typed(a.oldObject),
    apply: (patched) => {
      // The chain's object is changed where it lies: later plugins and the store hold it.
      const target = a.object as Record<string, unknown> | undefined;
      if (!target) return;
      for (const k of Object.keys(target)) delete target[k];
      Object.assign(target, patched);
    },
  };
}

function numberAt(o: KubeObject, path: readonly string[]): number {
  let v: unknown = o;
  for (const k of path) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === "number" ? v : 0;
}

function setAt(o: KubeObject, path: readonly string[], value: unknown): void {
  let at = o as Record<string, unknown>;
  for (const k of path.slice(0, -1)) {
    const next = at[k];
    if (typeof next !== "object" || next === null) at[k] = {};
    else at[k] = { ...(next as Record<string, unknown>) };
    at = at[k] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) at[last] = value;
}
