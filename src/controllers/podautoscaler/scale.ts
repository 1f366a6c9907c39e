// The scale subresource of an HPA's target, found from scaleTargetRef through the client's
// built-in resource table (upstream maps the kind through its RESTMapper). Behind an
// interface so that unit tests record the reads and writes.
import type { CrossVersionObjectReference, Scale } from "kubernetes-types/autoscaling/v1.js";
import { builtinByKind, splitApiVersion } from "../../client/resources.js";
import type { RestClient } from "../../client/rest.js";
import type { DeepReadonly } from "../../client/objects.js";

export type ScaleTargetRef = DeepReadonly<CrossVersionObjectReference>;

export interface ScaleClient {
  get(namespace: string, ref: ScaleTargetRef): Promise<Scale>;
  update(namespace: string, ref: ScaleTargetRef, scale: Scale): Promise<Scale>;
}

/** The plural resource of a target kind, or upstream's RESTMapper error. */
export function targetResource(ref: ScaleTargetRef): { group: string; version: string; plural: string } {
  const info = builtinByKind(ref.apiVersion ?? "", ref.kind);
  if (!info) {
    const { group } = splitApiVersion(ref.apiVersion ?? "");
    throw new Error(`no matches for kind "${ref.kind}" in group "${group}"`);
  }
  return info;
}

export class RestScaleClient implements ScaleClient {
  constructor(private readonly client: RestClient) {}

  get(namespace: string, ref: ScaleTargetRef): Promise<Scale> {
    const r = targetResource(ref);
    return this.client.resource(r.group, r.version, r.plural).namespace(namespace).getScale(ref.name);
  }

  update(namespace: string, ref: ScaleTargetRef, scale: Scale): Promise<Scale> {
    const r = targetResource(ref);
    return this.client.resource(r.group, r.version, r.plural).namespace(namespace).updateScale(ref.name, scale);
  }
}
