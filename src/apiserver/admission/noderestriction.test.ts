// NodeRestriction: a node writes only its own objects, with upstream's messages; anyone else is
// not its business.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { StatusError } from "../status.js";
import type { AdmissionAttributes } from "./types.js";
import { nodeRestriction } from "./noderestriction.js";

const def = (group: string, plural: string): ResourceDefinition => ({ group, version: "v1", plural, namespaced: true }) as unknown as ResourceDefinition;
const PODS = def("", "pods");
const NODES = def("", "nodes");
const PVCS = def("", "persistentvolumeclaims");
const SAS = def("", "serviceaccounts");
const LEASES = def("coordination.k8s.io", "leases");
const CSINODES = def("storage.k8s.io", "csinodes");

const N1 = { username: "system:node:n1", groups: ["system:nodes", "system:authenticated"] };

const pods = new Map<string, KubeObject>();
const nodes = new Map<string, KubeObject>();
const plugin = nodeRestriction({ pod: (ns, name) => pods.get(`${ns}/${name}`), node: (name) => nodes.get(name) });

nodes.set("n1", { apiVersion: "v1", kind: "Node", metadata: { name: "n1", uid: "uid-n1" } });
pods.set("ns/mine", { apiVersion: "v1", kind: "Pod", metadata: { name: "mine", namespace: "ns", uid: "uid-mine" }, spec: { nodeName: "n1", containers: [] } } as KubeObject);
pods.set("ns/theirs", { apiVersion: "v1", kind: "Pod", metadata: { name: "theirs", namespace: "ns", uid: "uid-theirs" }, spec: { nodeName: "n2", containers: [] } } as KubeObject);

function attrs(resource: ResourceDefinition, o: Partial<AdmissionAttributes>): AdmissionAttributes {
  return { operation: "CREATE", resource, subresource: "", namespace: "ns", name: "", object: undefined, oldObject: undefined, user: N1, dryRun: false, ...o };
}

async function refused(a: AdmissionAttributes, message: string, code = 403): Promise<void> {
  await assert.rejects(
    async () => plugin.validate!(a),
    (err: unknown) => {
      assert.ok(err instanceof StatusError, String(err));
      assert.equal(err.status.message, message);
      assert.equal(err.code, code);
      return true;
    },
  );
}

const admitted = async (a: AdmissionAttributes): Promise<void> => {
  await plugin.validate!(a);
};

function mirrorPod(o: { spec?: Record<string, unknown>; owner?: Record<string, unknown> | null; annotations?: Record<string, string> } = {}): KubeObject {
  const owner = o.owner === undefined ? { apiVersion: "v1", kind: "Node", name: "n1", uid: "uid-n1", controller: true } : o.owner;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "static-n1", namespace: "ns", annotations: o.annotations ?? { "kubernetes.io/config.mirror": "hash" }, ...(owner ? { ownerReferences: [owner] } : {}) },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }], ...o.spec },
  } as KubeObject;
}

describe("NodeRestriction", () => {
  it("leaves users who are not nodes alone, and refuses a node it cannot name", async () => {
    await admitted(attrs(NODES, { name: "n2", object: { apiVersion: "v1", kind: "Node", metadata: { name: "n2" } }, user: { username: "admin", groups: ["system:masters"] } }));
    await refused(attrs(NODES, { name: "n2", user: { username: "system:node:", groups: ["system:nodes"] } }), 'nodes "n2" is forbidden: could not determine node from user "system:node:"');
  });

  it("lets a node create only mirror pods bound to and owned by itself, referring to nothing", async () => {
    const create = (object: KubeObject) => attrs(PODS, { name: "static-n1", object });
    await admitted(create(mirrorPod()));
    const why = (s: string) => `pods "static-n1" is forbidden: ${s}`;
    await refused(create(mirrorPod({ annotations: {} })), why('pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods'));
    await refused(create(mirrorPod({ spec: { nodeName: "n2" } })), why('node "n1" can only create pods with spec.nodeName set to itself'));
    await refused(create(mirrorPod({ owner: null })), why('node "n1" can only create pods with an owner reference set to itself'));
    await refused(create(mirrorPod({ owner: { apiVersion: "v1", kind: "Node", name: "n2", uid: "uid-n2", controller: true } })), why('node "n1" can only create pods with an owner reference set to itself'));
    await refused(create(mirrorPod({ owner: { apiVersion: "v1", kind: "Node", name: "n1", uid: "uid-n1" } })), why('node "n1" can only create pods with a controller owner reference set to itself'));
    await refused(create(mirrorPod({ owner: { apiVersion: "v1", kind: "Node", name: "n1", uid: "uid-n1", controller: true, blockOwnerDeletion: true } })), why('node "n1" must not set blockOwnerDeletion on an owner reference'));
    await refused(create(mirrorPod({ owner: { apiVersion: "v1", kind: "Node", name: "n1", uid: "stale", controller: true } })), why("node n1 UID mismatch: expected stale got uid-n1"));
    await refused(create(mirrorPod({ spec: { serviceAccountName: "default" } })), why('node "n1" can not create pods that reference a service account'));
    await refused(create(mirrorPod({ spec: { volumes: [{ name: "s", secret: { secretName: "s" } }] } })), why('node "n1" can not create pods that reference secrets'));
    await refused(create(mirrorPod({ spec: { containers: [{ name: "c", image: "i", envFrom: [{ configMapRef: { name: "cm" } }] }] } })), why('node "n1" can not create pods that reference configmaps'));
    await refused(create(mirrorPod({ spec: { volumes: [{ name: "t", projected: { sources: [{ clusterTrustBundle: { name: "b", path: "p" } }] } }] } })), why('node "n1" can not create pods that reference clustertrustbundles'));
    await refused(create(mirrorPod({ spec: { volumes: [{ name: "c", persistentVolumeClaim: { claimName: "c" } }] } })), why('node "n1" can not create pods that reference persistentvolumeclaims'));
  });

  it("lets a node delete, evict and update the status of only its own pods", async () => {
    await admitted(attrs(PODS, { operation: "DELETE", name: "mine", oldObject: pods.get("ns/mine") }));
    await refused(attrs(PODS, { operation: "DELETE", name: "theirs", oldObject: pods.get("ns/theirs") }), 'pods "theirs" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself');
    await refused(attrs(PODS, { operation: "UPDATE", name: "mine", object: pods.get("ns/mine"), oldObject: pods.get("ns/mine") }), 'pods "mine" is forbidden: unexpected operation "UPDATE", node "n1" can only create and delete mirror pods');

    const status = (name: string, labels?: Record<string, string>) => {
      const old = pods.get(`ns/${name}`)!;
      return attrs(PODS, { operation: "UPDATE", subresource: "status", name, oldObject: old, object: { ...old, metadata: { ...old.metadata, ...(labels ? { labels } : {}) }, status: { phase: "Running" } } as KubeObject });
    };
    await admitted(status("mine"));
    await refused(status("theirs"), 'pods "theirs" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself');
    await refused(status("mine", { app: "x" }), 'pods "mine" is forbidden: node "n1" cannot update labels through pod status');

    const evict = (name: string) => attrs(PODS, { subresource: "eviction", name, object: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: "ns" } } });
    await admitted(evict("mine"));
    await refused(evict("theirs"), 'pods "theirs" is forbidden: node n1 can only evict pods with spec.nodeName set to itself');
    await refused(evict("gone"), 'pods "gone" not found', 404);
    await refused(attrs(PODS, { subresource: "binding", name: "mine", object: {} as KubeObject }), `pods "mine" is forbidden: unexpected pod subresource "binding", only 'status' and 'eviction' are allowed`);
  });

  it("lets a node write only its own Node, without taints or labels it does not own", async () => {
    const node = (labels: Record<string, string> = {}, spec: Record<string, unknown> = {}) => ({ apiVersion: "v1", kind: "Node", metadata: { name: "n1", labels }, spec }) as KubeObject;
    await admitted(attrs(NODES, { name: "n1", object: node({ "kubernetes.io/hostname": "n1", "node.kubernetes.io/exclude-from-external-load-balancers": "", "kubelet.kubernetes.io/x": "y", "example.com/own": "1" }) }));
    await refused(attrs(NODES, { operation: "UPDATE", subresource: "status", name: "n2", object: node(), oldObject: node() }), 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
    await refused(
      attrs(NODES, { name: "n1", object: node({ "node-restriction.kubernetes.io/pool": "a", "node-role.kubernetes.io/control-plane": "", "kubernetes.io/os": "linux" }) }),
      'nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-restriction.kubernetes.io/pool, node-role.kubernetes.io/control-plane',
    );
    await refused(attrs(NODES, { name: "n1", object: node({}, { configSource: { configMap: { name: "c", namespace: "kube-system", kubeletConfigKey: "k" } } }) }), 'nodes "n1" is forbidden: node "n1" is not allowed to create pods with a non-nil configSource');
    const update = (object: KubeObject, oldObject: KubeObject) => attrs(NODES, { operation: "UPDATE", name: "n1", object, oldObject });
    await admitted(update(node({ "kubernetes.io/hostname": "n1" }, { taints: [] }), node({ "kubernetes.io/hostname": "n1" })));
    await refused(update(node({}, {}), node({}, { taints: [{ key: "k", effect: "NoSchedule" }] })), 'nodes "n1" is forbidden: node "n1" is not allowed to modify taints');
    await refused(update(node({}), node({ "node-role.kubernetes.io/worker": "" })), 'nodes "n1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/worker');
    await admitted(attrs(NODES, { operation: "DELETE", name: "n1", oldObject: node() }));
  });

  it("lets a node change only the resize fields of a claim's status", async () => {
    const pvc = (status: Record<string, unknown>, labels?: Record<string, string>) => ({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "c", namespace: "ns", resourceVersion: "1", ...(labels ? { labels } : {}) }, spec: {}, status }) as KubeObject;
    const old = pvc({ phase: "Bound", capacity: { storage: "1Gi" } });
    await admitted(attrs(PVCS, { operation: "UPDATE", subresource: "status", name: "c", oldObject: old, object: pvc({ phase: "Bound", capacity: { storage: "2Gi" }, conditions: [{ type: "Resizing", status: "True" }], allocatedResources: { storage: "2Gi" } }) }));
    await refused(attrs(PVCS, { operation: "UPDATE", subresource: "status", name: "c", oldObject: old, object: pvc({ phase: "Lost" }, { a: "b" }) }), 'persistentvolumeclaims "c" is forbidden: node "n1" is not allowed to update fields other than status.capacity and status.conditions: metadata.labels, status.phase');
    await refused(attrs(PVCS, { operation: "UPDATE", name: "c", oldObject: old, object: old }), 'persistentvolumeclaims "c" is forbidden: may only update PVC status');
  });

  it("lets a node ask only for tokens bound to its own pods", async () => {
    const token = (ref: Record<string, unknown> | undefined) => attrs(SAS, { subresource: "token", name: "default", object: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", metadata: { name: "default" }, spec: { audiences: [], ...(ref ? { boundObjectRef: ref } : {}) } } as KubeObject });
    await admitted(token({ apiVersion: "v1", kind: "Pod", name: "mine", uid: "uid-mine" }));
    const why = (s: string) => `serviceaccounts "default" is forbidden: ${s}`;
    await refused(token(undefined), why("node requested token not bound to a pod"));
    await refused(token({ apiVersion: "v1", kind: "Secret", name: "s", uid: "u" }), why("node requested token not bound to a pod"));
    await refused(token({ apiVersion: "v1", kind: "Pod", name: "mine" }), why("node requested token with a pod binding without a uid"));
    await refused(token({ apiVersion: "v1", kind: "Pod", name: "mine", uid: "old" }), why("the UID in the bound object reference (old) does not match the UID in record. The object might have been deleted and then recreated"));
    await refused(token({ apiVersion: "v1", kind: "Pod", name: "theirs", uid: "uid-theirs" }), why("node requested token bound to a pod scheduled on a different node"));
    await refused(token({ apiVersion: "v1", kind: "Pod", name: "gone", uid: "u" }), 'pods "gone" not found', 404);
  });

  it("lets a node keep only its own Lease and CSINode", async () => {
    const lease = (name: string, namespace = "kube-node-lease") => attrs(LEASES, { namespace, object: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name } } });
    await admitted(lease("n1"));
    await refused(lease("n2"), 'leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node');
    await refused(lease("n1", "kube-system"), 'leases.coordination.k8s.io "n1" is forbidden: can only access leases in the "kube-node-lease" system namespace');
    await refused(attrs(LEASES, { operation: "UPDATE", namespace: "kube-node-lease", name: "n2" }), 'leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node');
    await admitted(attrs(CSINODES, { namespace: "", object: { apiVersion: "storage.k8s.io/v1", kind: "CSINode", metadata: { name: "n1" } } }));
    await refused(attrs(CSINODES, { operation: "DELETE", namespace: "", name: "n2" }), 'csinodes.storage.k8s.io "n2" is forbidden: can only access CSINode with the same name as the requesting node');
  });
});
