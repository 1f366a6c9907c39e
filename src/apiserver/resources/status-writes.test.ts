// Every built-in kind with a status subresource, written over HTTPS as controllers write it: a
// PUT and both kinds of PATCH on /status, then a no-op PUT of the main resource. A /status
// patch builds its object sharing everything outside status with the watch cache's frozen copy
// of the stored object (rest/store.ts), then defaults, admits and validates it: any step that
// writes into a shared part throws, which the server answers with a 500. defaults.test.ts
// checks each defaulter alone; this checks the whole path, with the same bodies.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { apiServerForSuite } from "../../testing/apiserver.js";
import type { RawResponse } from "../../testing/client.js";
import { resourceCases } from "../../testing/resource-cases.js";
import type { KubeObject, ResourceDefinition } from "../registry/types.js";
import { builtinResources } from "./index.js";
import { isObj, type Json } from "./util.js";

const at = "2024-01-01T00:00:00Z";
const selector = { matchLabels: { app: "a" } };

/** Kinds with a status but no defaults, hence no body in testing/resource-cases.ts. */
const moreBodies: Record<string, readonly Json[]> = {
  "networking.k8s.io/v1/Ingress": [
    {
      spec: {
        ingressClassName: "nginx",
        tls: [{ hosts: ["a.example.com"], secretName: "a-tls" }],
        rules: [{ host: "a.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "a", port: { number: 80 } } } }] } }],
      },
    },
  ],
  // Only the attacher reports the status, through /status: a create starts unattached.
  "storage.k8s.io/v1/VolumeAttachment": [{ spec: { attacher: "csi.example.com", nodeName: "node-1", source: { persistentVolumeName: "pv-1" } }, status: { attached: true } }],
  // A P-256 request for CN=jane, O=dev (openssl req -new); the server records who asked.
  "certificates.k8s.io/v1/CertificateSigningRequest": [
    {
      spec: {
        request: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIWE1IOENBUUF3SFRFTk1Bc0dBMVVFQXd3RWFtRnVaVEVNTUFvR0ExVUVDZ3dEWkdWMk1Ga3dFd1lIS29aSQp6ajBDQVFZSUtvWkl6ajBEQVFjRFFnQUViQU50MUlUOVFuNER6ekhOKzNPVGtMMkZGYkh6Q2JhR25iZFBLWUFuCnpUVVN6cGRqREpPUlJOSm0vbENjUTNsM3ZieXI0bm1lTDBqNEViM0g2a3NCVGFBQU1Bb0dDQ3FHU000OUJBTUMKQTBnQU1FVUNJUURUYzJMWFAvVjN2VExwS2t4YkprVmg4UTRpMk4xVVRqWGRHZjRPbXEyTnh3SWdMb1ZLNE90VwplYkUzaXZyZWtOQ2dUNWoyL3QxZVJVVjNUMW8wRldhNmhTMD0KLS0tLS1FTkQgQ0VSVElGSUNBVEUgUkVRVUVTVC0tLS0tCg==",
        signerName: "example.com/signer",
        usages: ["digital signature", "client auth"],
        expirationSeconds: 3600,
      },
    },
  ],
  "policy/v1/PodDisruptionBudget": [{ spec: { minAvailable: 1, selector } }, { spec: { maxUnavailable: "25%", selector, unhealthyPodEvictionPolicy: "AlwaysAllow" } }],
};

/** A metav1.Condition, as Service and PodDisruptionBudget status carry them. */
const condition = (type: string, status: string, reason: string, message: string): Json => ({ type, status, reason, message, lastTransitionTime: at });

/**
 * A small valid change of each kind's status, the `i`th of several (each differs): the fields
 * the kind's controller (or kubelet) writes.
 */
const statusChanges: Record<string, (i: number) => Json> = {
  "v1/Namespace": (i) => ({ conditions: [{ type: "NamespaceDeletionDiscoveryFailure", status: "False", reason: "ResourcesDiscovered", message: `All resources successfully discovered (${i})`, lastTransitionTime: at }] }),
  "v1/Node": (i) => ({
    conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: `kubelet is posting ready status (${i})`, lastHeartbeatTime: at, lastTransitionTime: at }],
    addresses: [{ type: "InternalIP", address: `10.0.0.${i}` }],
  }),
  "v1/PersistentVolumeClaim": (i) => ({ phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: `${i}Gi` } }),
  "v1/PersistentVolume": (i) => ({ phase: "Available", message: `released by claim ${i}` }),
  "v1/Pod": (i) => ({ conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: `0/${i} nodes are available`, lastTransitionTime: at }] }),
  "v1/ReplicationController": (i) => ({ observedGeneration: 1, conditions: [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: `pods "a-${i}" is forbidden`, lastTransitionTime: at }] }),
  "v1/ResourceQuota": (i) => ({ hard: { cpu: "4", "requests.memory": "8Gi", pods: "10" }, used: { cpu: `${i * 100}m`, "requests.memory": "0", pods: "0" } }),
  "v1/Service": (i) => ({ conditions: [condition("Synced", "True", "Synced", `synced ${i}`)] }),
  "apps/v1/Deployment": (i) => ({
    observedGeneration: 1,
    conditions: [{ type: "Progressing", status: "True", reason: "NewReplicaSetCreated", message: `ReplicaSet "a-${i}" is progressing.`, lastUpdateTime: at, lastTransitionTime: at }],
  }),
  "apps/v1/ReplicaSet": (i) => ({ observedGeneration: 1, conditions: [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: `pods "a-${i}" is forbidden`, lastTransitionTime: at }] }),
  "apps/v1/StatefulSet": (i) => ({ observedGeneration: 1, currentRevision: `s-${i}`, updateRevision: `s-${i}` }),
  "apps/v1/DaemonSet": (i) => ({ observedGeneration: 1, currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: i, numberReady: 0, numberUnavailable: i }),
  "autoscaling/v2/HorizontalPodAutoscaler": (i) => ({
    currentReplicas: i,
    desiredReplicas: i,
    conditions: [{ type: "AbleToScale", status: "True", reason: "SucceededGetScale", message: `the HPA controller was able to get the target's current scale (${i})`, lastTransitionTime: at }],
  }),
  "autoscaling/v1/HorizontalPodAutoscaler": (i) => ({ currentReplicas: i, desiredReplicas: i, lastScaleTime: at }),
  "storage.k8s.io/v1/VolumeAttachment": (i) => ({ attached: true, attachmentMetadata: { devicePath: `/dev/sd${"abcdefgh"[i]}` } }),
  "batch/v1/CronJob": (i) => ({ lastScheduleTime: `2024-01-0${i}T00:00:00Z` }),
  "batch/v1/Job": (i) => ({ startTime: at, active: i, ready: 0 }),
  "networking.k8s.io/v1/Ingress": (i) => ({ loadBalancer: { ingress: [{ ip: `192.0.2.${i}`, ports: [{ port: 443, protocol: "TCP" }] }] } }),
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy": (i) => ({
    observedGeneration: 1,
    typeChecking: { expressionWarnings: [{ fieldRef: "spec.validations[0].expression", warning: `no type information (${i})` }] },
    conditions: [condition("TypeChecked", "True", "TypeChecked", `checked (${i})`)],
  }),
  // What a signer that gives up writes; Approved and Denied belong to /approval.
  "certificates.k8s.io/v1/CertificateSigningRequest": (i) => ({ conditions: [{ type: "Failed", status: "True", reason: "SignerValidationFailure", message: `attempt ${i}` }] }),
  "policy/v1/PodDisruptionBudget": (i) => ({
    observedGeneration: 1,
    disruptionsAllowed: 0,
    currentHealthy: i,
    desiredHealthy: 1,
    expectedPods: i,
    conditions: [{ ...condition("DisruptionAllowed", "False", "InsufficientPods", `${i} healthy`), observedGeneration: 1 }],
  }),
};

// CustomResourceDefinitions are left out: a CRD's name is fixed by its spec (plural.group) and
// the server writes its status itself (test/e2e/crd.test.ts covers both).
const withStatus = builtinResources().filter((def) => def.subresources?.includes("status") && def.group !== "apiextensions.k8s.io");
const keyOf = (def: ResourceDefinition): string => `${def.group ? `${def.group}/` : ""}${def.version}/${def.kind}`;

/** What a client may create: the bodies a status-only subresource writes are left out. */
function bodiesOf(key: string): readonly Json[] {
  return moreBodies[key] ?? (resourceCases[key] ?? []).filter((c) => c.writtenBy === undefined).map((c) => c.body);
}

/** `expected` is in `actual`: objects by the keys they name, arrays element by element in any order. */
function includes(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.every((e) => actual.some((a) => includes(a, e)));
  if (isObj(expected)) return isObj(actual) && Object.entries(expected).every(([k, v]) => includes(actual[k], v));
  return actual === expected;
}

describe("status writes of every kind with a status subresource", () => {
  const suite = apiServerForSuite({ defaultServiceAccount: true });

  /** The response, which must have the status `want`: never a 5xx, with the body to say why. */
  const call = async (want: number, what: string, method: string, path: string, body: unknown, contentType?: string): Promise<KubeObject> => {
    const r: RawResponse = await suite.client.request(method, path, body === undefined ? undefined : JSON.stringify(body), contentType ? { "Content-Type": contentType } : {});
    assert.equal(r.status, want, `${what}: ${method} ${path} answered ${r.status}: ${r.body}`);
    return JSON.parse(r.body) as KubeObject;
  };

  for (const def of withStatus) {
    const key = keyOf(def);
    const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    const base = `${def.group ? `/apis/${def.group}` : "/api"}/${def.version}${def.namespaced ? "/namespaces/default" : ""}/${def.plural}`;

    it(`${key} has bodies and a status change here`, () => {
      assert.ok(bodiesOf(key).length > 0, `${key} has a status but no body: add one to testing/resource-cases.ts (kinds with defaults) or moreBodies`);
      assert.ok(statusChanges[key], `${key} has a status but no status change in statusChanges`);
    });

    bodiesOf(key).forEach((body, n) => {
      it(`${key} #${n}: PUT and PATCH /status, then a no-op PUT`, async () => {
        const change = statusChanges[key];
        if (!change) return;
        // Distinct per version: both autoscaling versions store into one resource.
        const name = `status-${def.version}-${n}`;
        const path = `${base}/${name}`;
        // A write works on the watch cache's (frozen) copy once the cache has the object it
        // follows: a read at that object's resourceVersion waits for it.
        const cached = (o: KubeObject): Promise<KubeObject> => call(200, "read from the cache", "GET", `${path}?resourceVersion=${o.metadata?.resourceVersion ?? ""}`, undefined);
        const created = await call(201, "create", "POST", base, { apiVersion, kind: def.kind, ...structuredClone(body), metadata: { name } });

        await cached(created);
        const put = await call(200, "PUT /status", "PUT", `${path}/status`, { ...created, status: { ...(isObj(created["status"]) ? created["status"] : {}), ...change(1) } });
        assert.ok(includes(put["status"], change(1)), `PUT /status: ${JSON.stringify(put["status"])} does not have ${JSON.stringify(change(1))}`);
        assert.deepEqual(put["spec"], created["spec"], "PUT /status changed spec");
        assert.equal(put.metadata?.generation, created.metadata?.generation, "PUT /status changed metadata.generation");

        let last = put;
        // Only a strategic patch shares the stored object's parts on /status today (a merge
        // patch copies it whole); both are what controllers send.
        for (const [i, type] of [[2, "application/merge-patch+json"], [3, "application/strategic-merge-patch+json"]] as const) {
          await cached(last);
          last = await call(200, `PATCH /status (${type})`, "PATCH", `${path}/status`, { status: change(i) }, type);
          assert.ok(includes(last["status"], change(i)), `PATCH /status (${type}): ${JSON.stringify(last["status"])} does not have ${JSON.stringify(change(i))}`);
          assert.deepEqual(last["spec"], created["spec"], `PATCH /status (${type}) changed spec`);
        }

        await cached(last);
        const noop = await call(200, "no-op PUT", "PUT", path, last);
        assert.deepEqual(noop["spec"], last["spec"], "the no-op PUT changed spec");
      });
    });
  }
});
