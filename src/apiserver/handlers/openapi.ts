// /openapi/v3 and its per-group-version documents, built once from the registry and the
// generated definitions; the same documents give strategic merge patch its merge keys and
// field validation its list of known fields.
import { buildGroupVersionDocument, buildOpenAPIv3Root, groupVersionPath, openAPIv2Protobuf, openAPIv2ProtobufContentType, openAPIv3ResponseHeaders, serializeOpenAPIDocument, type GroupVersion, type OpenAPIDocument, type OpenAPIResource } from "../../api/openapi/index.js";
import type { Registry } from "../registry/registry.js";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { schemaFromOpenAPI, type PatchSchema, type OpenAPIDocument as PatchDocument } from "../patch/schema.js";
import { SchemaWalker, type SchemaCheck, type SchemaObject } from "../fieldprune.js";
import { sendJSON, sendRaw, type HttpContext } from "../http.js";
import { notFoundResource } from "./rest.js";
import { virtualDefinition, type VirtualResource } from "./virtual.js";
import type { SchemaTarget } from "../decode.js";
import { customResourceInfo, pruneCustomResource } from "../crd/customresource.js";
import { buildCustomResourceDocument } from "../crd/openapi.js";

const defaultVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

interface Built {
  readonly doc: OpenAPIDocument;
  readonly body: Buffer;
  readonly hash: string;
  readonly walker: SchemaWalker;
}

export function openAPIResourceOf(def: ResourceDefinition): OpenAPIResource {
  return {
    kind: def.kind,
    plural: def.plural,
    namespaced: def.namespaced,
    definition: def.definition,
    listDefinition: `${def.definition}List`,
    verbs: def.verbs ?? defaultVerbs,
    subresources: (def.subresources ?? []).map((name) => ({ name })),
  };
}

export class OpenAPIService {
  private readonly built = new Map<string, Built>();
  private root: string | undefined;
  private readonly patchSchemas = new Map<ResourceDefinition, PatchSchema>();

  constructor(
    private readonly registry: Registry,
    private readonly virtual: readonly VirtualResource[] = [],
  ) {
    // Custom resources come and go: documents are built again, with new hashes (client-go keys
    // its cache of group-version documents by the root's serverRelativeURL).
    registry.onChange(() => this.invalidate());
  }

  /** Drops every built document (the served resources changed). */
  invalidate(): void {
    this.built.clear();
    this.root = undefined;
    this.patchSchemas.clear();
  }

  private groupVersions(): GroupVersion[] {
    const gvs = this.registry.groups().flatMap((g) => g.versions.map((version) => ({ group: g.name, version })));
    for (const v of this.virtual) if (!gvs.some((gv) => gv.group === v.group && gv.version === v.version)) gvs.push({ group: v.group, version: v.version });
    return gvs;
  }

  private resourcesOf(gv: GroupVersion): OpenAPIResource[] {
    const served = this.registry.resourcesOf(gv.group, gv.version).map(openAPIResourceOf);
    const virtual = this.virtual
      .filter((v) => v.group === gv.group && v.version === gv.version)
      .map((v) => ({ kind: v.kind, plural: v.plural, namespaced: v.namespaced, definition: virtualDefinition(v), listDefinition: v.definition && v.verbs.includes("list") ? `${v.definition}List` : "", verbs: v.verbs, subresources: [] }));
    return [...served, ...virtual];
  }

  private get(gv: GroupVersion): Built {
    const path = groupVersionPath(gv);
    let b = this.built.get(path);
    if (!b) {
      const defs = this.registry.resourcesOf(gv.group, gv.version);
      const custom = defs.flatMap((d) => {
        const info = customResourceInfo(d);
        return info ? [{ def: d, info, resource: openAPIResourceOf(d) }] : [];
      });
      const doc =
        custom.length > 0
          ? buildCustomResourceDocument(
              gv,
              custom,
              this.resourcesOf(gv).filter((r) => !custom.some((c) => c.def.plural === r.plural)),
            )
          : buildGroupVersionDocument(gv, this.resourcesOf(gv));
      const { body, hash } = serializeOpenAPIDocument(doc);
      b = { doc, body, hash, walker: new SchemaWalker(doc.components.schemas as Record<string, SchemaObject>) };
      this.built.set(path, b);
    }
    return b;
  }

  patchSchema(def: ResourceDefinition): PatchSchema | undefined {
    let s = this.patchSchemas.get(def);
    if (!s) {
      s = schemaFromOpenAPI(this.get(def).doc as unknown as PatchDocument, def.definition);
      this.patchSchemas.set(def, s);
    }
    return s;
  }

  checkSchema(def: SchemaTarget, obj: KubeObject): SchemaCheck {
    // A custom resource is pruned by its CRD's schema (upstream's structural pruning).
    const info = customResourceInfo(def as ResourceDefinition);
    if (info) {
      // Root metadata is ObjectMeta, decoded as for any kind: unknown fields go (and are reported) too.
      const meta = obj.metadata;
      const m = meta && typeof meta === "object" ? this.get(def).walker.check("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", meta as KubeObject) : { unknown: [] };
      const pruned = pruneCustomResource(info, obj);
      const unknown = [...m.unknown.map((u) => `metadata.${u}`), ...pruned.unknown];
      const typeError = m.typeError ?? pruned.error;
      return typeError ? { unknown, typeError } : { unknown };
    }
    return this.get(def).walker.check(def.definition, obj);
  }

  handle(ctx: HttpContext): boolean {
    const path = ctx.url.pathname;
    if (!path.startsWith("/openapi/")) return false;
    if (ctx.req.method !== "GET" && ctx.req.method !== "HEAD") return false;
    if (path === "/openapi/v3" || path === "/openapi/v3/") {
      if (!this.root) {
        const gvs = this.groupVersions();
        const hashes = new Map(gvs.map((gv) => [groupVersionPath(gv), this.get(gv).hash] as const));
        this.root = JSON.stringify(buildOpenAPIv3Root(gvs, hashes));
      }
      sendJSON(ctx, 200, this.root);
      return true;
    }
    if (path === "/openapi/v2" || path === "/openapi/v2/") {
      // kubectl 1.27/1.28 read v2 before validating writes; v3 answers their actual questions.
      sendRaw(ctx, 200, openAPIv2Protobuf(), openAPIv2ProtobufContentType);
      return true;
    }
    if (path.startsWith("/openapi/v3/")) {
      const rest = path.slice("/openapi/v3/".length).replace(/\/$/, "");
      const gv = this.groupVersions().find((x) => groupVersionPath(x) === rest);
      if (!gv) throw notFoundResource();
      const b = this.get(gv);
      const { status, headers } = openAPIv3ResponseHeaders(gv, b.hash, ctx.url.searchParams.get("hash") ?? undefined, new Date());
      if (status === 301) {
        ctx.code = 301;
        ctx.res.writeHead(301, headers).end();
        return true;
      }
      for (const [k, v] of Object.entries(headers)) if (k !== "Content-Type") ctx.res.setHeader(k, v);
      sendRaw(ctx, 200, b.body, "application/json");
      return true;
    }
    throw notFoundResource();
  }
}
