import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { deepFreeze } from "../../client/objects.js";
import { claimOwnerRefs, isClaimOwnerUpToDate } from "./retention.js";
import { claims, pod, SET_UID, statefulSet } from "./testutil.js";
import { identityMatches, parentAndOrdinal, storageMatches } from "./util.js";

void describe("pod identity", () => {
  void it("parses `<set>-<ordinal>` names, the set name itself possibly with dashes and digits", () => {
    assert.deepEqual(parentAndOrdinal("web-0"), { parent: "web", ordinal: 0 });
    assert.deepEqual(parentAndOrdinal("my-db-2-12"), { parent: "my-db-2", ordinal: 12 });
    assert.deepEqual(parentAndOrdinal("web"), { parent: "", ordinal: -1 });
    assert.deepEqual(parentAndOrdinal("web-99999999999"), { parent: "web", ordinal: -1 });
  });

  void it("identity needs the pod-name label and the namespace; storage needs each template's claim", () => {
    const set = deepFreeze(structuredClone(statefulSet()));
    const p = pod(statefulSet(), 1);
    assert.ok(identityMatches(set, p) && storageMatches(set, p));
    assert.ok(!identityMatches(set, { ...p, metadata: { ...p.metadata, namespace: "other" } }));
    assert.ok(!identityMatches(set, { ...p, metadata: { ...p.metadata, labels: { app: "web" } } }));
    assert.ok(!storageMatches(set, { ...p, spec: { ...p.spec!, volumes: [{ name: "www", persistentVolumeClaim: { claimName: "www-web-0" } }] } }));
  });
});

void describe("claim retention ownerReferences", () => {
  const setRef: OwnerReference = { apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: SET_UID, controller: true, blockOwnerDeletion: true };
  const podRef = (i: number): OwnerReference => ({ apiVersion: "v1", kind: "Pod", name: `web-${i}`, uid: `web-${i}-uid`, controller: true, blockOwnerDeletion: true });
  const cases: [string, string, number, OwnerReference[]][] = [
    ["Retain", "Retain", 0, []],
    ["Delete", "Retain", 0, [setRef]],
    ["Delete", "Retain", 5, [setRef]],
    ["Retain", "Delete", 0, []],
    ["Retain", "Delete", 5, [podRef(5)]],
    ["Delete", "Delete", 0, [setRef]],
    ["Delete", "Delete", 5, [podRef(5)]],
  ];
  for (const [whenDeleted, whenScaled, ordinal, want] of cases) {
    void it(`whenDeleted ${whenDeleted}, whenScaled ${whenScaled}, ordinal ${ordinal} of 3: ${want.map((r) => r.kind).join("+") || "no owner"}`, () => {
      const set = deepFreeze(structuredClone(statefulSet({ persistentVolumeClaimRetentionPolicy: { whenDeleted, whenScaled } })));
      const p = pod(statefulSet(), ordinal);
      const bare = deepFreeze(claims(statefulSet(), ordinal)[0]!);
      const other: OwnerReference = { apiVersion: "v1", kind: "ConfigMap", name: "keep", uid: "cm" };
      const refs = claimOwnerRefs(deepFreeze({ ...bare, metadata: { ...bare.metadata, ownerReferences: [other, setRef, podRef(ordinal)] } }), set, p);
      assert.deepEqual(refs, [other, ...want], "refs to others are kept");
      assert.ok(isClaimOwnerUpToDate(deepFreeze({ ...bare, metadata: { ...bare.metadata, ownerReferences: want } }), set, p));
      if (want.length > 0) assert.ok(!isClaimOwnerUpToDate(bare, set, p));
    });
  }

  void it("leaves a claim alone that another controller, or an earlier set of the same name, owns", () => {
    const set = deepFreeze(structuredClone(statefulSet({ persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" } })));
    const p = pod(statefulSet(), 0);
    const bare = claims(statefulSet(), 0)[0]!;
    const foreign = deepFreeze({ ...bare, metadata: { ...bare.metadata, ownerReferences: [{ apiVersion: "x/v1", kind: "Other", name: "o", uid: "o", controller: true }] } });
    assert.ok(isClaimOwnerUpToDate(foreign, set, p));
    const stale = deepFreeze({ ...bare, metadata: { ...bare.metadata, ownerReferences: [{ ...setRef, uid: "old-set" }] } });
    assert.ok(isClaimOwnerUpToDate(stale, set, p));
  });
});
