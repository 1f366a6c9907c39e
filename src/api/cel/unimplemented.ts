// Functions of Kubernetes' CEL environment (apiserver/pkg/cel/environment/base.go and the
// libraries it enables) that kubernetesCelEnvironment() does not provide. A rule that calls one
// of these names is valid upstream, so a caller that fails to compile it can say that k8ts lacks
// the function rather than that the rule is wrong.

/** Upstream function names k8ts's environment lacks, with the library each belongs to. */
export const UNIMPLEMENTED_CEL_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  // Kubernetes' quantity library: division (added after the rest of the library).
  ["div", "kubernetes.quantity"],
  ["divInt", "kubernetes.quantity"],
  // Kubernetes' authz library: only admission policies declare `authorizer`, CRD rules never do.
  ["path", "kubernetes.authz"],
  ["group", "kubernetes.authz"],
  ["serviceAccount", "kubernetes.authz"],
  ["resource", "kubernetes.authz"],
  ["subresource", "kubernetes.authz"],
  ["namespace", "kubernetes.authz"],
  ["name", "kubernetes.authz"],
  ["check", "kubernetes.authz"],
  ["allowed", "kubernetes.authz"],
  ["reason", "kubernetes.authz"],
  ["errored", "kubernetes.authz"],
  ["error", "kubernetes.authz"],
  ["fieldSelector", "kubernetes.authz"],
  ["labelSelector", "kubernetes.authz"],
]);

/** Whether `name` is a function of Kubernetes' CEL environment that k8ts does not implement. */
export function isUnimplementedCelFunction(name: string): boolean {
  return UNIMPLEMENTED_CEL_FUNCTIONS.has(name);
}
