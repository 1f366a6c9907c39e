// Request info: what a request is about (verb, group, version, resource, subresource,
// namespace, name), parsed once from the path and query as the upstream RequestInfoFactory
// does, so every later stage (authorization, audit, metrics, REST) reads the same answer.
import { queryBool } from "./query.js";

export interface RequestInfo {
  readonly isResourceRequest: boolean;
  /** get, list, watch, create, update, patch, delete, deletecollection; lower-case method otherwise. */
  readonly verb: string;
  readonly path: string;
  /** "api" or "apis" for resource requests. */
  readonly apiPrefix: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  /** Path segments after the subresource (e.g. proxy paths). */
  readonly parts: readonly string[];
}

/** Namespace subresources: /api/v1/namespaces/NAME/status is the namespace's status, not a resource called status. */
const namespaceSubresources = new Set(["status", "finalize"]);

function nonResource(method: string, path: string): RequestInfo {
  return { isResourceRequest: false, verb: method.toLowerCase(), path, apiPrefix: "", apiGroup: "", apiVersion: "", namespace: "", resource: "", subresource: "", name: "", parts: [] };
}

const noParts: readonly string[] = Object.freeze([]);

export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  let segs = path.split("/").filter((s) => s !== "");
  const prefix = segs[0];
  if (prefix !== "api" && prefix !== "apis") return nonResource(method, path);
  segs = segs.slice(1);
  let apiGroup = "";
  if (prefix === "apis") {
    if (segs.length < 2) return nonResource(method, path); // /apis or /apis/GROUP: discovery
    apiGroup = segs[0]!;
    segs = segs.slice(1);
  }
  if (segs.length < 2) return nonResource(method, path); // /api, /api/v1: discovery
  const apiVersion = segs[0]!;
  segs = segs.slice(1);

  let verb: string;
  switch (method) {
    case "POST":
      verb = "create";
      break;
    case "GET":
    case "HEAD":
      verb = "get";
      break;
    case "PUT":
      verb = "update";
      break;
    case "PATCH":
      verb = "patch";
      break;
    case "DELETE":
      verb = "delete";
      break;
    default:
      verb = method.toLowerCase();
  }
  // The deprecated /watch/ path prefix.
  if (segs[0] === "watch") {
    if (verb === "get") verb = "watch";
    segs = segs.slice(1);
  }

  let namespace = "";
  if (segs[0] === "namespaces") {
    if (segs.length > 1) {
      namespace = decodeSegment(segs[1]!);
      if (segs.length > 2 && !namespaceSubresources.has(segs[2]!)) segs = segs.slice(2);
    }
  }
  const resource = segs[0] ? decodeSegment(segs[0]) : "";
  const name = segs[1] ? decodeSegment(segs[1]) : "";
  const subresource = segs[2] ? decodeSegment(segs[2]) : "";
  const parts = segs.length > 3 ? segs.slice(3).map(decodeSegment) : noParts;

  if (name === "") {
    if (verb === "get") verb = "list";
    else if (verb === "delete") verb = "deletecollection";
  }
  // A list with ?watch is a watch (a named GET stays a get, as upstream); the parameter is read
  // as upstream's codec reads booleans: anything but "0" and "false" is true.
  if (verb === "list" && queryBool(url.searchParams, "watch") === true) verb = "watch";

  return { isResourceRequest: true, verb, path, apiPrefix: prefix, apiGroup, apiVersion, namespace, resource, subresource, name, parts };
}

function decodeSegment(s: string): string {
  // Nearly every segment has nothing to decode: no exception frame, no new string.
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
