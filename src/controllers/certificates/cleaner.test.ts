import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1.js";
import { FakeApi, seedLister } from "../testing/index.js";
import { createLogger } from "../../util/log.js";
import { createCA, createCertificateRequest, signCertificateRequest } from "../../util/pki.js";
import { rfc3339 } from "../../util/time.js";
import { CSRCleaner, cleanupDeadline } from "./cleaner.js";

const log = createLogger("silent");
const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Math.floor(Date.now() / 1000) * 1000;

function csr(name: string, o: { created?: number; conditions?: [type: string, at: number][]; certificate?: string } = {}): CertificateSigningRequest {
  return {
    metadata: { name, uid: `uid-${name}`, creationTimestamp: rfc3339(o.created ?? NOW - 2 * HOUR) },
    spec: { request: "", signerName: "kubernetes.io/kube-apiserver-client" },
    status: {
      conditions: (o.conditions ?? []).map(([type, at]) => ({ type, status: "True", lastUpdateTime: rfc3339(at) })),
      ...(o.certificate ? { certificate: o.certificate } : {}),
    },
  };
}

let expiredCert = "";
let validCert = "";
before(async () => {
  const ca = await createCA("ca");
  const { csrPem } = await createCertificateRequest({ commonName: "u" });
  // Issued "10 minutes" (the shortest lifetime) before an hour ago: expired by now.
  const b64 = (pem: string): string => Buffer.from(pem).toString("base64");
  expiredCert = b64(await signCertificateRequest(ca, csrPem, { usages: ["client auth"], ttlMs: 10 * MIN, now: NOW - HOUR }));
  validCert = b64(await signCertificateRequest(ca, csrPem, { usages: ["client auth"], ttlMs: 24 * HOUR, now: NOW }));
});

describe("CSR cleaner", () => {
  it("deletes what upstream deletes, with a UID precondition, and nothing else", async () => {
    const csrs = [
      csr("issued-old", { conditions: [["Approved", NOW - 61 * MIN]], certificate: validCert }),
      csr("issued-new", { conditions: [["Approved", NOW - 30 * MIN]], certificate: validCert }),
      csr("issued-expired", { conditions: [["Approved", NOW - 30 * MIN]], certificate: expiredCert }),
      csr("approved-unissued", { conditions: [["Approved", NOW - 48 * HOUR]] }),
      csr("denied-old", { conditions: [["Denied", NOW - 61 * MIN]] }),
      csr("failed-old", { conditions: [["Approved", NOW - 2 * HOUR], ["Failed", NOW - 61 * MIN]] }),
      csr("failed-new", { conditions: [["Approved", NOW - 2 * HOUR], ["Failed", NOW - 59 * MIN]] }),
      csr("pending-old", { created: NOW - 25 * HOUR }),
      csr("pending-new", { created: NOW - 23 * HOUR }),
    ];
    const api = new FakeApi();
    api.seed("certificates.k8s.io", "certificatesigningrequests", ...structuredClone(csrs));
    const c = new CSRCleaner({ api, csrs: seedLister(csrs), log, now: () => NOW });
    for (const x of csrs) await c.sync(x.metadata!.name!);
    await c.sync("gone");
    assert.deepEqual(api.verbs(), ["issued-old", "issued-expired", "denied-old", "failed-old", "pending-old"].map((n) => `delete certificatesigningrequests ${n}`));
    assert.deepEqual(api.writes()[0]?.deleteOptions?.preconditions, { uid: "uid-issued-old" });
    c.queue.shutDown();
  });

  it("a request's deadline is the earliest rule that will apply", () => {
    assert.equal(cleanupDeadline(csr("p", { created: NOW })), NOW + 24 * HOUR);
    assert.equal(cleanupDeadline(csr("d", { conditions: [["Denied", NOW]] })), NOW + HOUR);
    assert.equal(cleanupDeadline(csr("a", { conditions: [["Approved", NOW]] })), undefined, "approved but never issued: no rule applies");
  });
});
