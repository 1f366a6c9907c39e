// Addons the server installs into its cluster at start (as k3s deploys its manifests): created
// when missing, left alone when present, so that a user's edits (e.g. scaling CoreDNS) stay.
import { createClientFromKubeconfig } from "../client/rest.js";
import { isAlreadyExists } from "../client/errors.js";
import type { KubeObject } from "../client/objects.js";
import { dnsAddonObjects } from "../dns/addon.js";
import { DNS_IMAGE } from "../kubelet/images/dns.js";
import type { Logger } from "../util/log.js";

export function builtinAddons(o: { clusterDNSIP: string; clusterDomain: string }): KubeObject[] {
  return dnsAddonObjects({ clusterDNSIP: o.clusterDNSIP, image: DNS_IMAGE, clusterDomain: o.clusterDomain });
}

export async function ensureAddons(kubeconfig: string, objects: readonly KubeObject[], log: Logger): Promise<void> {
  const client = await createClientFromKubeconfig(kubeconfig, { name: "addons" });
  for (const obj of objects) {
    const rc = client.forKind(obj.apiVersion ?? "", obj.kind ?? "");
    const ns = obj.metadata?.namespace;
    try {
      await (ns ? rc.namespace(ns) : rc).create(obj);
      log.info({ kind: obj.kind, name: obj.metadata?.name, namespace: ns }, "addon object created");
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}
