// Kubernetes' image library (apiserver/pkg/cel/library/image.go, 1.33): image(), isImage,
// containsDigest, registry, repository, tag, digest, identifier. References are parsed as
// go-containerregistry's name.ParseReference does by default (not strict): a tag reference
// first, else a digest reference; Docker Hub is the default registry and its one-component
// repositories get the "library/" namespace.
import { EvaluationError, type Environment } from "@marcbachmann/cel-js";
import { urlHost } from "./urls.js";
import { parses } from "./values.js";

const DEFAULT_REGISTRY = "index.docker.io";
const REPOSITORY_CHARS = /^[a-z0-9_\-./]*$/;
const TAG_CHARS = /^[A-Za-z0-9_\-.]*$/;
const DIGEST_CHARS = /^[sh:0-9a-f]*$/;

/** An image reference (kubernetes.Image in CEL). */
export class ImageReference {
  constructor(
    readonly registry: string,
    readonly repository: string,
    readonly tag: string,
    readonly digest: string,
  ) {}
  get identifier(): string {
    return this.digest !== "" ? this.digest : this.tag;
  }
}

class BadName extends Error {}

function checkElement(what: string, s: string, chars: RegExp, min: number, max: number): void {
  const n = [...s].length;
  if (n < min || n > max) throw new BadName(`${what} must be between ${min} and ${max} characters in length: ${s}`);
  if (!chars.test(s)) throw new BadName(`${what} contains invalid characters: ${s}`);
}

/** name.NewRepository: [registry/]repository; the registry part needs a '.' or ':'. */
function repository(name: string): { registry: string; repository: string } {
  if (name === "") throw new BadName("a repository name must be specified");
  let registry = "";
  let repo = name;
  const slash = name.indexOf("/");
  if (slash >= 0 && /[.:]/.test(name.slice(0, slash))) {
    registry = name.slice(0, slash);
    repo = name.slice(slash + 1);
  }
  checkElement("repository", repo, REPOSITORY_CHARS, 2, 255);
  // An empty path component ("a//b") is no repository name (the documented `registry.k8s.io//x` error).
  if (repo.split("/").some((c) => c === "")) throw new BadName(`repository has an empty path component: ${repo}`);
  if (urlHost(`//${registry}`) !== registry) throw new BadName(`registries must be valid RFC 3986 URI authorities: ${registry}`);
  if (registry === "" || registry === "docker.io") registry = DEFAULT_REGISTRY;
  if (!repo.includes("/") && registry === DEFAULT_REGISTRY) repo = `library/${repo}`;
  return { registry, repository: repo };
}

function tagReference(name: string): ImageReference {
  let base = name;
  let tag = "";
  const parts = name.split(":");
  const last = parts[parts.length - 1] ?? "";
  if (parts.length > 1 && !last.includes("/")) {
    base = parts.slice(0, -1).join(":");
    tag = last;
  }
  if (tag !== "") checkElement("tag", tag, TAG_CHARS, 1, 127);
  const r = repository(base);
  return new ImageReference(r.registry, r.repository, tag === "" ? "latest" : tag, "");
}

function digestReference(name: string): ImageReference {
  const parts = name.split("@");
  if (parts.length !== 2) throw new BadName(`a digest must contain exactly one '@' separator (e.g. registry/repository@digest) saw: ${name}`);
  const [base = "", digest = ""] = parts;
  checkElement("digest", digest, DIGEST_CHARS, 71, 71);
  let repoName = base;
  try {
    const t = tagReference(base);
    repoName = `${t.registry}/${t.repository}`;
  } catch (e) {
    if (!(e instanceof BadName)) throw e;
  }
  const r = repository(repoName);
  return new ImageReference(r.registry, r.repository, "", digest);
}

/** name.ParseReference, with upstream's error when neither form parses. */
export function parseImage(s: string): ImageReference {
  if (s.startsWith("http://") || s.startsWith("https://")) {
    throw new EvaluationError(
      `image reference must not contain a URL scheme (http:// or https://): ${s}; to connect to a registry over plain HTTP, use name.Insecure`,
    );
  }
  for (const parse of [tagReference, digestReference]) {
    try {
      return parse(s);
    } catch (e) {
      if (!(e instanceof BadName)) throw e;
    }
  }
  throw new EvaluationError(`could not parse reference: ${s}`);
}

function isImage(s: string): boolean {
  return parses(() => parseImage(s));
}

const I = "kubernetes.Image";

export function registerImageLibrary(env: Environment): void {
  env.registerType(I, { ctor: ImageReference, fields: {} });
  env.registerFunction(`image(string): ${I}`, parseImage);
  env.registerFunction("isImage(string): bool", isImage);
  env.registerFunction(`${I}.containsDigest(): bool`, (i: ImageReference) => i.digest !== "");
  env.registerFunction(`${I}.registry(): string`, (i: ImageReference) => i.registry);
  env.registerFunction(`${I}.repository(): string`, (i: ImageReference) => i.repository);
  env.registerFunction(`${I}.tag(): string`, (i: ImageReference) => i.tag);
  env.registerFunction(`${I}.digest(): string`, (i: ImageReference) => i.digest);
  env.registerFunction(`${I}.identifier(): string`, (i: ImageReference) => i.identifier);
}
