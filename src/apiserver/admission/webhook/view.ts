// What a webhook is shown of a request, and how its patch goes back: the object itself, or for
// the scale subresource an autoscaling/v1 Scale made from it (upstream admits /scale writes on
// the Scale object, and webhooks registered for `*/scale` expect one).
import type { KubeObject, ResourceDefinition } from "../../registry/types.js";
import type { AdmissionAttributes } from "../types.js";

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface View {
  readonly kind: GroupVersionKind;
  readonly resource: { readonly group: string; readonly version: string; readonly resource: string };
  readonly object: KubeObject | null;
  readonly oldObject: KubeObject | null;
  /** Makes the request's object what the patched view says. */
  apply(patched: KubeObject): void;
}

const SCALE_KIND: GroupVersionKind = { group: "autoscaling", version: "v1", kind: "Scale" };

/** The request as a webhook matched as `as` sees it (another served form of its resource under matchPolicy Equivalent). */
export function viewOf(a: AdmissionAttributes, as: ResourceDefinition = a.resource): View {
  const r = a.resource;
  const resource = { group: as.group, version: as.version, resource: as.plural };
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
      resource,
      object: scaleOf(a.object),
      oldObject: scaleOf(a.oldObject),
      apply: (patched) => {
        // Only spec.replicas of a Scale is written through to its parent, as the /scale handler does.
        const replicas = (patched["spec"] as { replicas?: unknown } | undefined)?.replicas;
        if (a.object) setAt(a.object, scale.specReplicasPath, replicas);
      },
    };
  }
  // The object as `as` serves it, with its type even when the client left it out.
  const shown = (o: KubeObject | undefined): KubeObject | null => (o ? convert(o, r, as) : null);
  return {
    kind: { group: as.group, version: as.version, kind: as.kind },
    resource,
    object: shown(a.object),
    oldObject: shown(a.oldObject),
    apply: (patched) => {
      // The chain's object is changed where it lies: later plugins and the store hold it.
      const target = a.object as Record<string, unknown> | undefined;
      if (!target) return;
      const back = convert(patched, as, r);
      for (const k of Object.keys(target)) delete target[k];
      Object.assign(target, back);
    },
  };
}

/**
 * An object of one served form of a resource in another, through the stored form (the
 * storage conversion of a form stored as another: HPAs, events.k8s.io Events); custom
 * resource versions differ only in apiVersion (k8ts converts them with strategy None).
 */
export function convert(o: KubeObject, from: ResourceDefinition, to: ResourceDefinition): KubeObject {
  const typed = { ...o, apiVersion: o.apiVersion ?? apiVersionOf(from), kind: o.kind ?? from.kind };
  if (from === to) return typed;
  const stored = from.storage ? from.storage.conversion.toStorage(structuredClone(typed)) : structuredClone(typed);
  const served = to.storage ? to.storage.conversion.fromStorage(stored) : stored;
  return { ...served, apiVersion: apiVersionOf(to), kind: to.kind };
}

/** The AdmissionReview v1 request (upstream's CreateV1AdmissionReview). */
export function admissionReview(uid: string, a: AdmissionAttributes, view: View): Record<string, unknown> {
  const r = a.resource;
  const requestKind = { group: r.group, version: r.version, kind: r.kind };
  const requestResource = { group: r.group, version: r.version, resource: r.plural };
  const kind = view.kind;
  const resource = view.resource;
  const options = { CREATE: "CreateOptions", UPDATE: "UpdateOptions", DELETE: "DeleteOptions", CONNECT: undefined }[a.operation];
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind,
      resource,
      ...(a.subresource ? { subResource: a.subresource } : {}),
      requestKind: a.subresource === "scale" ? kind : requestKind,
      requestResource,
      ...(a.subresource ? { requestSubResource: a.subresource } : {}),
      ...(a.name ? { name: a.name } : {}),
      ...(a.namespace ? { namespace: a.namespace } : {}),
      operation: a.operation,
      userInfo: { username: a.user.username, groups: [...a.user.groups] },
      object: view.object,
      oldObject: view.oldObject,
      dryRun: a.dryRun,
      options: options ? { kind: options, apiVersion: "meta.k8s.io/v1", ...(a.dryRun ? { dryRun: ["All"] } : {}) } : null,
    },
  };
}

function apiVersionOf(d: ResourceDefinition): string {
  return d.group ? `${d.group}/${d.version}` : d.version;
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
