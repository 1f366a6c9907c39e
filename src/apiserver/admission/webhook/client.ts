// Calling one webhook: where it lives (a URL, or a Service resolved to one of its ready
// endpoints), TLS checked against its caBundle, a POST of the AdmissionReview bounded by its
// timeout (upstream: apiserver pkg/util/webhook ClientManager and the endpoint service
// resolver of pkg/util/proxy).
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import type { WebhookClientConfig } from "kubernetes-types/admissionregistration/v1.js";
import type { Service } from "kubernetes-types/core/v1.js";
import type { EndpointSlice } from "kubernetes-types/discovery/v1.js";

/** What a service reference needs from the cluster. */
export interface ServiceLookup {
  service(namespace: string, name: string): Readonly<Service> | undefined;
  /** The EndpointSlices labelled kubernetes.io/service-name=<name> in the namespace. */
  endpointSlices(namespace: string, name: string): readonly Readonly<EndpointSlice>[];
}

/** The webhook could not be called or answered nonsense: subject to its failurePolicy (upstream's ErrCallingWebhook). */
export class CallError extends Error {}

/** Upstream's response body limit for webhooks (3 MiB more than the 3 MiB request limit). */
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

interface Target {
  /** The URL the error messages name, as upstream prints it. */
  readonly url: URL;
  /** The URL as error messages print it, when Go would print it differently. */
  readonly shown?: string;
  /** Where to connect, when it differs from the URL's host (a service's endpoint). */
  readonly connectHost?: string;
  readonly connectPort?: number;
  /** The name the serving certificate must carry. */
  readonly serverName?: string;
}

/** POSTs `body` and returns the decoded JSON answer; throws CallError on any failure to do so. */
export async function callWebhook(config: Readonly<WebhookClientConfig>, body: unknown, timeoutSeconds: number, lookup: ServiceLookup): Promise<unknown> {
  const target = resolve(config, timeoutSeconds, lookup);
  const ca = config.caBundle ? Buffer.from(config.caBundle, "base64").toString("utf8") : undefined;
  const payload = Buffer.from(JSON.stringify(body));
  const post = `Post "${target.shown ?? target.url.href}"`;
  return new Promise<unknown>((resolvePromise, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(new CallError(`${post}: ${why}`));
    };
    const host = target.connectHost ?? target.url.hostname.replace(/^\[|\]$/g, "");
    const port = target.connectPort ?? (target.url.port ? Number(target.url.port) : 443);
    const serverName = target.serverName ?? (isIP(host) === 0 ? host : undefined);
    const req = httpsRequest({
      host,
      port,
      method: "POST",
      path: target.url.pathname + target.url.search,
      headers: { "content-type": "application/json", accept: "application/json", "content-length": payload.length },
      ...(ca !== undefined ? { ca } : {}),
      ...(serverName !== undefined ? { servername: serverName } : {}),
      agent: false,
    });
    const timer = setTimeout(() => fail("context deadline exceeded"), timeoutSeconds * 1000);
    req.on("error", (err: NodeJS.ErrnoException) => fail(describe(err, host, port)));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) fail("response body too large");
        else chunks.push(c);
      });
      res.on("error", (err) => fail(err.message));
      res.on("end", () => {
        if (settled) return;
        const text = Buffer.concat(chunks).toString("utf8");
        const code = res.statusCode ?? 0;
        if (code < 200 || code > 299) {
          fail(statusMessage(code, text));
          return;
        }
        let decoded: unknown;
        try {
          decoded = JSON.parse(text);
        } catch (err) {
          fail(`couldn't decode the response: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
        settled = true;
        clearTimeout(timer);
        resolvePromise(decoded);
      });
    });
    req.end(payload);
  });
}

/** What client-go says of a non-2xx answer: the Status' message when it sent one. */
function statusMessage(code: number, text: string): string {
  try {
    const s = JSON.parse(text) as { kind?: string; message?: string };
    if (s.kind === "Status" && s.message) return s.message;
  } catch {
    // not a Status
  }
  return `the server responded with the status code ${code} but did not return more information`;
}

/** Node's connection errors in the words of Go's net and crypto/tls packages, which webhook authors see upstream. */
function describe(err: NodeJS.ErrnoException, host: string, port: number): string {
  const addr = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  switch (err.code) {
    case "ECONNREFUSED":
      return `dial tcp ${addr}: connect: connection refused`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `dial tcp: lookup ${host}: no such host`;
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return "tls: failed to verify certificate: x509: certificate signed by unknown authority";
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return `tls: failed to verify certificate: x509: ${err.message}`;
    case "CERT_HAS_EXPIRED":
      return "tls: failed to verify certificate: x509: certificate has expired or is not yet valid";
    default:
      return err.message;
  }
}

/** The URL to call: clientConfig.url, or the service's in-cluster name routed to a ready endpoint. */
function resolve(config: Readonly<WebhookClientConfig>, timeoutSeconds: number, lookup: ServiceLookup): Target {
  // Upstream tells the webhook how long it has, in whole seconds.
  const timeout = `timeout=${Math.ceil(timeoutSeconds)}s`;
  if (config.url !== undefined) {
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new CallError(`invalid webhook URL ${JSON.stringify(config.url)}`);
    }
    if (url.protocol !== "https:") throw new CallError(`Post "${url.href}": unsupported protocol scheme "${url.protocol.replace(/:$/, "")}"`);
    url.search = url.search ? `${url.search}&${timeout}` : `?${timeout}`;
    return { url };
  }
  const ref = config.service;
  if (!ref) throw new CallError("there is no service or URL to call");
  const port = ref.port ?? 443;
  const serverName = `${ref.name}.${ref.namespace}.svc`;
  const url = new URL(`https://${serverName}:${port}`);
  url.pathname = ref.path ?? "/";
  url.search = `?${timeout}`;
  // Go prints the port even when it is https' own.
  const shown = `https://${serverName}:${port}${url.pathname}${url.search}`;
  // Upstream resolves the service in its dialer: a failure reads as one of the POST.
  let endpoint: { host: string; port: number };
  try {
    endpoint = serviceEndpoint(ref.namespace, ref.name, port, lookup);
  } catch (err) {
    throw new CallError(`Post "${shown}": ${err instanceof Error ? err.message : String(err)}`);
  }
  return { url, shown, connectHost: endpoint.host, connectPort: endpoint.port, serverName };
}

/**
 * A ready endpoint of the service's port (upstream's endpoint routing: the API server may not
 * reach cluster IPs, so it dials a backend itself). Endpoints are tried at random, as upstream
 * picks among them.
 */
function serviceEndpoint(namespace: string, name: string, port: number, lookup: ServiceLookup): { host: string; port: number } {
  const svc = lookup.service(namespace, name);
  if (!svc) throw new CallError(`service "${name}" not found`);
  const type = svc.spec?.type ?? "ClusterIP";
  if (type !== "ClusterIP" && type !== "NodePort" && type !== "LoadBalancer") throw new CallError(`unsupported service type "${type}"`);
  const svcPort = (svc.spec?.ports ?? []).find((p) => p.port === port);
  if (!svcPort) throw new CallError(`no service port ${port} found for service "${name}"`);
  const portName = svcPort.name ?? "";
  const candidates: { host: string; port: number }[] = [];
  for (const slice of lookup.endpointSlices(namespace, name)) {
    if (slice.addressType === "FQDN") continue;
    const epPort = (slice.ports ?? []).find((p) => (p.name ?? "") === portName);
    if (epPort?.port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      // A missing ready condition means ready (EndpointSlice API).
      if (ep.conditions?.ready === false) continue;
      const address = ep.addresses[0];
      if (address !== undefined) candidates.push({ host: address, port: epPort.port });
    }
  }
  const pick = candidates[Math.floor(Math.random() * candidates.length)];
  if (!pick) throw new CallError(`no endpoints available for service "${name}"`);
  return pick;
}
