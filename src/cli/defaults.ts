// Where k8ts keeps its state unless told otherwise: /var/lib/k8ts for root (as k3s uses
// /var/lib/rancher), ~/.k8ts for everyone else.
import { homedir } from "node:os";
import { join } from "node:path";

export function defaultDataDir(): string {
  return process.getuid?.() === 0 ? "/var/lib/k8ts" : join(homedir(), ".k8ts");
}

export const DEFAULT_PORT = 6443;
