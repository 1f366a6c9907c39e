// What plugins may read besides the pod at hand (upstream framework.Handle, narrowed): the
// snapshot of nodes and pods, and namespace labels for affinity terms with a namespaceSelector.
import type { Snapshot } from "./cache.js";
import type { Labels } from "./helpers.js";

export interface NamespaceView {
  readonly name: string;
  readonly labels: Labels;
}

export interface Handle {
  readonly snapshot: Snapshot;
  /** The labels of a namespace; undefined when it is not known. */
  namespaceLabels(namespace: string): Labels | undefined;
  /** Every known namespace. */
  namespaces(): Iterable<NamespaceView>;
}

/** A handle over a snapshot and a fixed namespace list (tests, `k8ts why`). */
export function staticHandle(snapshot: Snapshot, namespaces: readonly NamespaceView[] = []): Handle {
  const byName = new Map(namespaces.map((n) => [n.name, n.labels]));
  return {
    snapshot,
    namespaceLabels: (ns) => byName.get(ns),
    namespaces: () => namespaces,
  };
}
