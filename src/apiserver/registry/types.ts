// One declaration per served resource: everything the generic REST handler, discovery, OpenAPI
// and the table printer need to know about a kind (model: the apiserver's generic registry
// Store + RESTCreateStrategy/RESTUpdateStrategy + printers).
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import type { FieldError } from "../../api/fielderrors.js";

/** kubernetes-types declares fields readonly; the server is the one place that writes them. */
export type ObjectMetaFields = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/** Any Kubernetes object as JSON. Typed views (kubernetes-types) are used inside strategies. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMetaFields;
  [field: string]: unknown;
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** What a strategy may know about the request it runs in. */
export interface StrategyContext {
  /** The request's namespace ("" for cluster-scoped). */
  readonly namespace: string;
  readonly now: Date;
  /** Who asks (the authenticated user; uid and extra when the authenticator has them). */
  readonly user: { readonly username: string; readonly groups: readonly string[]; readonly uid?: string; readonly extra?: Readonly<Record<string, readonly string[]>> };
  /** The response's Warning headers (upstream's WarningsOnCreate/WarningsOnUpdate and validation warnings). */
  readonly warnings?: string[];
}

export interface Strategy<T extends KubeObject = KubeObject> {
  /**
   * Upstream defaulting (SetDefaults_* of the kind); runs on every create and update body.
   * Writes only what it changes: a /status patch's body shares the stored object's frozen parts.
   */
  defaults?(obj: T): void;
  /** PrepareForCreate: reset what a client may not set on create (status, generated fields). */
  prepareForCreate?(obj: T, ctx: StrategyContext): void;
  /** PrepareForUpdate: carry over what a client may not change on the main resource. */
  prepareForUpdate?(obj: T, old: T, ctx: StrategyContext): void;
  validate?(obj: T, ctx: StrategyContext): FieldError[];
  validateUpdate?(obj: T, old: T, ctx: StrategyContext): FieldError[];
  /** Validation of a write to the status subresource (default: validateUpdate). */
  validateStatusUpdate?(obj: T, old: T, ctx: StrategyContext): FieldError[];
  /**
   * Writes through a subresource that changes part of the object's spec (pods'
   * ephemeralcontainers, upstream's podEphemeralContainersStrategy): `prepare` builds the
   * object to store from the stored one and the request's, `validate` checks the write.
   */
  readonly subresourceWrites?: Partial<Record<SubresourceName, SubresourceWrite<T>>>;
  /**
   * Top-level fields that make up status: ignored in writes to the main resource, the only
   * ones taken from writes to /status. Default ["status"]; empty for kinds without status.
   */
  readonly statusFields?: readonly string[];
  /**
   * Top-level fields whose change bumps metadata.generation. Default: every top-level field
   * except apiVersion, kind, metadata and the status fields. Empty: generation is not kept.
   */
  readonly specFields?: readonly string[];
  /** PUT to a missing object creates it (upstream AllowCreateOnUpdate). */
  readonly allowCreateOnUpdate?: boolean;
  /** Unconditional PUT (no resourceVersion in the body) is allowed (upstream AllowUnconditionalUpdate). */
  readonly allowUnconditionalUpdate?: boolean;
  /**
   * Graceful deletion (pods): the grace period in seconds to use for a delete, given the
   * period the client asked for; undefined = delete at once.
   */
  gracePeriodSeconds?(obj: T, requested: number | undefined): number | undefined;
  /**
   * Something besides metadata.finalizers holds deletion back (namespaces: spec.finalizers,
   * which the namespace controller clears through /finalize once the namespace is empty).
   */
  deletionBlocked?(obj: T): boolean;
  /** Runs when deletion starts and the object stays for now (namespaces: phase Terminating). */
  prepareForDeletion?(obj: T): void;
}

export interface SubresourceWrite<T extends KubeObject = KubeObject> {
  /** The object to store: `old` with what the subresource may change taken from `obj`. */
  prepare(obj: T, old: T): T;
  validate(obj: T, old: T, ctx: StrategyContext): FieldError[];
}

export type ColumnType = "string" | "integer" | "number" | "boolean" | "date";

/** metav1.TableColumnDefinition. */
export interface TableColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** "name" marks the column kubectl uses as the object's name. */
  readonly format?: string;
  readonly description: string;
  /** 0: always shown; >0: only with -o wide. */
  readonly priority: number;
}

export interface TableDefinition<T extends KubeObject = KubeObject> {
  readonly columns: readonly TableColumn[];
  /** One row's cells, in column order. `now` lets AGE columns be computed once per response. */
  row(obj: Readonly<T>, now: Date): unknown[];
}

export type SubresourceName = "status" | "scale" | "binding" | "eviction" | "log" | "exec" | "attach" | "portforward" | "proxy" | "ephemeralcontainers" | "approval" | "token" | "finalize";

/** The scale subresource: where replicas and the selector live in the parent object. */
export interface ScaleSpec {
  /** Path of spec replicas, e.g. ["spec","replicas"]. */
  readonly specReplicasPath: readonly string[];
  readonly statusReplicasPath: readonly string[];
  /** Label selector string for status.selector (autoscaling/v1 Scale wants a string). */
  selector(obj: KubeObject): string;
}

/** Conversion between a served version and the stored one (e.g. autoscaling/v1 ↔ v2). */
export interface Conversion {
  /** The served object → the stored form. */
  toStorage(obj: KubeObject): KubeObject;
  /** The stored form → the served object. */
  fromStorage(obj: KubeObject): KubeObject;
}

export interface ResourceDefinition<T extends KubeObject = KubeObject> {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Lower-case plural, the URL segment. */
  readonly plural: string;
  readonly singular: string;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly namespaced: boolean;
  /** OpenAPI definition name of the kind, e.g. io.k8s.api.apps.v1.Deployment. */
  readonly definition: string;
  /** Verbs served; default every verb (create, delete, deletecollection, get, list, patch, update, watch). */
  readonly verbs?: readonly string[];
  readonly subresources?: readonly SubresourceName[];
  readonly scale?: ScaleSpec;
  readonly strategy: Strategy<T>;
  readonly table?: TableDefinition<T>;
  /**
   * Field-selector fields beyond metadata.name and metadata.namespace (which every kind has),
   * as upstream's GetAttrs / field label conversion offers them. Called with `{ metadata: {} }`
   * to learn the supported field names, so it must return every key for any object.
   */
  selectableFields?(obj: Readonly<T>): Record<string, string>;
  /**
   * Storage sharing: a resource served in several versions or groups is stored once
   * (autoscaling/v1 HPAs in the v2 form, events.k8s.io Events as core Events).
   */
  readonly storage?: { readonly resource: string; readonly group: string; readonly conversion: Conversion };
  /** Objects expire this many seconds after their last write (events: 1 h as upstream). */
  readonly ttlSeconds?: number;
  /**
   * A delete that removes the object answers with the object, as upstream's stores with
   * ReturnDeletedObject (pods, services, service accounts, namespaces, volumes, claims,
   * storage classes); the others answer a Status that names what was deleted.
   */
  readonly returnsDeletedObject?: boolean;
}
