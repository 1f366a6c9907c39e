import { execFile } from "node:child_process";
import { X509Certificate as NodeX509 } from "node:crypto";
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { hostname, networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as x509 from "./x509.js";
import {
  ADMIN_GROUP,
  ADMIN_USER,
  certificateFromPem,
  certificateSANs,
  checkSigningPair,
  createCA,
  createCertificateRequest,
  decodePem,
  encodePem,
  ensureClusterPKI,
  isIssuedBy,
  issueCertificate,
  parseCertificateRequest,
  PkiError,
  servingSANs,
  signCertificateRequest,
  type ClusterPKI,
} from "./pki.js";
import { buildKubeconfig, writeKubeconfig } from "./kubeconfig.js";

const run = promisify(execFile);
const KUBECTL = "/usr/bin/kubectl";

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "k8ts-pki-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void describe("PEM", () => {
  void test("encode then decode returns the same bytes, in 64-column lines", () => {
    const der = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    const pem = encodePem("CERTIFICATE", der);
    assert.ok(pem.split("\n").every((l) => l.length <= 64));
    const blocks = decodePem(`junk before\n${pem}junk between\n${encodePem("PRIVATE KEY", Buffer.from("k"))}`);
    assert.deepEqual(blocks.map((b) => b.label), ["CERTIFICATE", "PRIVATE KEY"]);
    assert.deepEqual(blocks[0]?.der, der);
  });

  void test("mismatched labels and bad base64 are InvalidPEM", () => {
    assert.throws(() => decodePem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----"), (e) => e instanceof PkiError && e.code === "InvalidPEM");
    assert.throws(() => decodePem("-----BEGIN CERTIFICATE-----\nA*AA\n-----END CERTIFICATE-----"), (e) => e instanceof PkiError && e.code === "InvalidPEM");
    assert.throws(() => certificateFromPem("no pem here"), (e) => e instanceof PkiError && e.code === "InvalidPEM");
  });
});

void describe("certificates", () => {
  void test("a CA and its leaves carry the extensions Go's crypto/x509 checks", async () => {
    const ca = await createCA("test-ca");
    const leaf = await issueCertificate(ca, {
      commonName: "node-1",
      organizations: ["system:nodes", "extra"],
      dnsNames: ["node-1.example"],
      ipAddresses: ["10.0.0.7", "fd00::7"],
      usages: "both",
      validityDays: 2,
    });
    const caCert = certificateFromPem(ca.certPem);
    const caBc = caCert.getExtension(x509.BasicConstraintsExtension);
    assert.equal(caBc?.ca, true);
    assert.equal(caBc?.critical, true);
    assert.ok((caCert.getExtension(x509.KeyUsagesExtension)?.usages ?? 0) & x509.KeyUsageFlags.keyCertSign);

    const cert = certificateFromPem(leaf.certPem);
    assert.equal(cert.getExtension(x509.BasicConstraintsExtension)?.ca, false);
    assert.equal(cert.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    assert.deepEqual([...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    assert.equal(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
    assert.ok(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
    assert.ok(/^[0-7]/.test(cert.serialNumber), `serial ${cert.serialNumber} must be positive`);
    assert.notEqual(cert.serialNumber, (await issueCertificate(ca, { commonName: "x", usages: "client", validityDays: 1 }).then((c) => certificateFromPem(c.certPem))).serialNumber);
    assert.ok(cert.notBefore.getTime() < Date.now() - 60_000, "notBefore is back-dated for clock skew");
    assert.ok(Math.abs(cert.notAfter.getTime() - Date.now() - 2 * 86400_000) < 60_000);
    assert.equal(cert.subject, "O=system:nodes, O=extra, CN=node-1");
    assert.deepEqual(certificateSANs(leaf.certPem), { dnsNames: ["node-1.example"], ipAddresses: ["10.0.0.7", "fd00::7"] });
    assert.ok(isIssuedBy(leaf.certPem, ca.certPem));
    assert.ok(!isIssuedBy(leaf.certPem, (await createCA("other")).certPem));
    assert.ok(await cert.verify({ publicKey: caCert.publicKey }));
  });

  void test("bad arguments are rejected with InvalidArgument", async () => {
    const ca = await createCA("test-ca");
    await assert.rejects(issueCertificate(ca, { commonName: "x", ipAddresses: ["not-an-ip"], usages: "server", validityDays: 1 }), (e) => e instanceof PkiError && e.code === "InvalidArgument");
    await assert.rejects(issueCertificate(ca, { commonName: "x", usages: "server", validityDays: 0 }), (e) => e instanceof PkiError && e.code === "InvalidArgument");
  });

  void test("a CA made by OpenSSL with a PKCS#1 RSA key can issue, and OpenSSL accepts the result", () =>
    withTempDir(async (dir) => {
      const key = join(dir, "ca.key");
      const crt = join(dir, "ca.crt");
      await run("openssl", ["genrsa", "-traditional", "-out", key, "2048"]);
      await run("openssl", ["req", "-x509", "-new", "-key", key, "-subj", "/CN=openssl-ca", "-days", "1", "-out", crt]);
      const ca = { certPem: await readFile(crt, "utf8"), keyPem: await readFile(key, "utf8") };
      assert.match(ca.keyPem, /BEGIN RSA PRIVATE KEY/);
      const leaf = await issueCertificate(ca, { commonName: "srv", dnsNames: ["localhost"], usages: "server", validityDays: 1 });
      await writeFile(join(dir, "leaf.crt"), leaf.certPem);
      const { stdout } = await run("openssl", ["verify", "-CAfile", crt, "-purpose", "sslserver", join(dir, "leaf.crt")]);
      assert.match(stdout, /OK/);
      assert.equal(new NodeX509(leaf.certPem).issuer, "CN=openssl-ca");
    }));
});

void describe("signCertificateRequest", () => {
  const HOUR = 3600_000;

  void test("the certificate verifies against the CA and carries the request's subject, SANs, key, usages and lifetime", async () => {
    const ca = await createCA("signer-ca");
    const { csrPem } = await createCertificateRequest({ commonName: "system:node:n1", organizations: ["system:nodes"], dnsNames: ["n1.example"], ipAddresses: ["10.0.0.9"] });
    assert.deepEqual(parseCertificateRequest(csrPem), { commonName: "system:node:n1", organizations: ["system:nodes"], dnsNames: ["n1.example"], ipAddresses: ["10.0.0.9"], emailAddresses: [], uris: [] });
    const now = Date.now();
    const pem = await signCertificateRequest(ca, csrPem, { usages: ["server auth", "digital signature", "client auth", "key encipherment"], ttlMs: 24 * HOUR, backdateMs: 5 * 60_000, shortMs: 8 * HOUR, now });
    assert.ok(isIssuedBy(pem, ca.certPem));
    const cert = certificateFromPem(pem);
    assert.equal(cert.subject, "O=system:nodes, CN=system:node:n1");
    assert.deepEqual(certificateSANs(pem), { dnsNames: ["n1.example"], ipAddresses: ["10.0.0.9"] });
    assert.equal(cert.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    assert.equal(cert.getExtension(x509.KeyUsagesExtension)?.critical, true);
    // Go's ExtKeyUsage order, not the request's.
    assert.deepEqual([...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])], [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    assert.equal(cert.getExtension(x509.BasicConstraintsExtension)?.ca, false);
    assert.equal(Math.floor(cert.notBefore.getTime() / 1000), Math.floor((now - 5 * 60_000) / 1000));
    // A long lifetime ends backdate early; a short one (< 8h) ends exactly ttl from now.
    assert.equal(Math.floor(cert.notAfter.getTime() / 1000), Math.floor((now + 24 * HOUR - 5 * 60_000) / 1000));
    const short = certificateFromPem(await signCertificateRequest(ca, csrPem, { usages: ["client auth"], ttlMs: HOUR, backdateMs: 5 * 60_000, shortMs: 8 * HOUR, now }));
    assert.equal(Math.floor(short.notAfter.getTime() / 1000), Math.floor((now + HOUR) / 1000));
    assert.equal(short.getExtension(x509.KeyUsagesExtension), null, "no key usage bits: no KeyUsage extension, as Go");
    const requestKey = new x509.Pkcs10CertificateRequest(decodePem(csrPem)[0]!.der).publicKey;
    assert.deepEqual(Buffer.from(cert.publicKey.rawData), Buffer.from(requestKey.rawData));
    assert.notEqual(cert.serialNumber, short.serialNumber);
  });

  void test("the lifetime is cut to the CA's own expiry; an expired CA refuses", async () => {
    const ca = await createCA("short-ca", 1);
    const { csrPem } = await createCertificateRequest({ commonName: "u" });
    const cert = certificateFromPem(await signCertificateRequest(ca, csrPem, { usages: ["client auth"], ttlMs: 365 * 24 * HOUR }));
    assert.equal(cert.notAfter.getTime(), certificateFromPem(ca.certPem).notAfter.getTime());
    await assert.rejects(signCertificateRequest(ca, csrPem, { usages: ["client auth"], ttlMs: HOUR, now: Date.now() + 2 * 24 * HOUR }), /the signer has expired: NotAfter=/);
  });

  void test("unknown usages, a non-request PEM and a forged signature are refused with upstream's words", async () => {
    const ca = await createCA("ca");
    const { csrPem } = await createCertificateRequest({ commonName: "u" });
    await assert.rejects(signCertificateRequest(ca, csrPem, { usages: ["client auth", "teleport", "x"], ttlMs: HOUR }), /unrecognized usage values: \["teleport" "x"\]/);
    await assert.rejects(signCertificateRequest(ca, ca.certPem, { usages: [], ttlMs: HOUR }), /PEM block type must be CERTIFICATE REQUEST/);
    const der = Buffer.from(decodePem(csrPem)[0]!.der);
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff;
    await assert.rejects(signCertificateRequest(ca, encodePem("CERTIFICATE REQUEST", der), { usages: [], ttlMs: HOUR }), /unable to verify certificate request signature/);
  });

  void test("an OpenSSL RSA request with email and URI SANs is signed, and OpenSSL accepts the result", () =>
    withTempDir(async (dir) => {
      const ca = await createCA("ca");
      await writeFile(join(dir, "ca.crt"), ca.certPem);
      await run("openssl", ["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k.key"), "-subj", "/O=team-a/O=team-b/CN=alice", "-addext", "subjectAltName=email:a@example.com,URI:spiffe://c/alice", "-out", join(dir, "r.csr")]);
      const csrPem = await readFile(join(dir, "r.csr"), "utf8");
      assert.deepEqual(parseCertificateRequest(csrPem), { commonName: "alice", organizations: ["team-a", "team-b"], dnsNames: [], ipAddresses: [], emailAddresses: ["a@example.com"], uris: ["spiffe://c/alice"] });
      const pem = await signCertificateRequest(ca, csrPem, { usages: ["digital signature", "key encipherment", "client auth"], ttlMs: HOUR });
      await writeFile(join(dir, "c.crt"), pem);
      const { stdout } = await run("openssl", ["verify", "-CAfile", join(dir, "ca.crt"), "-purpose", "sslclient", join(dir, "c.crt")]);
      assert.match(stdout, /OK/);
      assert.match(new NodeX509(pem).subjectAltName ?? "", /email:a@example.com, URI:spiffe:\/\/c\/alice/);
    }));

  void test("checkSigningPair refuses a key of another pair", async () => {
    const a = await createCA("a");
    const b = await createCA("b");
    checkSigningPair(a);
    assert.throws(() => checkSigningPair({ certPem: a.certPem, keyPem: b.keyPem }), (e) => e instanceof PkiError && e.code === "InvalidArgument");
    assert.throws(() => checkSigningPair({ certPem: "x", keyPem: a.keyPem }), (e) => e instanceof PkiError && e.code === "InvalidPEM");
  });
});

void describe("ensureClusterPKI", () => {
  void test("creates everything once, loads it after, re-issues only the serving cert when SANs grow", () =>
    withTempDir(async (dir) => {
      const first = await ensureClusterPKI(dir);
      assert.equal(first.written.length, 8);
      for (const key of [first.paths.caKey, first.paths.serverKey, first.paths.adminKey, first.paths.serviceAccountKey]) {
        assert.equal((await stat(key)).mode & 0o777, 0o600, key);
      }
      assert.equal((await stat(first.paths.caCert)).mode & 0o777, 0o644);

      const sans = certificateSANs(first.server.certPem);
      for (const name of ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]) {
        assert.ok(sans.dnsNames.includes(name), name);
      }
      assert.ok(sans.dnsNames.includes(hostname().toLowerCase()));
      const hostAddrs = Object.values(networkInterfaces())
        .flatMap((a) => a ?? [])
        .filter((a) => !a.internal && !a.address.startsWith("fe80:") && !a.address.startsWith("169.254."))
        .map((a) => a.address);
      for (const ip of ["127.0.0.1", "::1", "10.43.0.1", ...hostAddrs]) assert.ok(sans.ipAddresses.includes(ip), ip);
      assert.ok(!sans.ipAddresses.some((ip) => ip.startsWith("fe80:")), "no link-local addresses");
      assert.deepEqual(servingSANs(), sans);
      const admin = new NodeX509(first.admin.certPem);
      assert.equal(admin.subject, `O=${ADMIN_GROUP}\nCN=${ADMIN_USER}`);

      const { stdout } = await run("openssl", ["verify", "-CAfile", first.paths.caCert, "-purpose", "sslserver", first.paths.serverCert]);
      assert.match(stdout, /OK/);
      await run("openssl", ["verify", "-CAfile", first.paths.caCert, "-purpose", "sslclient", first.paths.adminCert]);
      await assert.rejects(run("openssl", ["verify", "-CAfile", first.paths.caCert, "-purpose", "sslserver", first.paths.adminCert]));

      const second = await ensureClusterPKI(dir);
      assert.deepEqual(second.written, []);
      assert.deepEqual([second.ca, second.server, second.admin, second.serviceAccount], [first.ca, first.server, first.admin, first.serviceAccount]);

      const third = await ensureClusterPKI(dir, { sans: { dnsNames: ["api.example.com"], ipAddresses: ["203.0.113.9"] } });
      assert.deepEqual(third.written, [third.paths.serverKey, third.paths.serverCert]);
      assert.equal(third.ca.certPem, first.ca.certPem);
      assert.equal(third.admin.certPem, first.admin.certPem);
      const grown = certificateSANs(third.server.certPem);
      assert.ok(grown.dnsNames.includes("api.example.com") && grown.ipAddresses.includes("203.0.113.9"));
      assert.equal(await readFile(third.paths.serverCert, "utf8"), third.server.certPem);

      // A SAN that is already covered does not cause a re-issue.
      assert.deepEqual((await ensureClusterPKI(dir, { sans: { dnsNames: ["API.example.com"] } })).written, []);
    }));

  void test("a lone certificate without its key is reported, not silently replaced", () =>
    withTempDir(async (dir) => {
      const pki = await ensureClusterPKI(dir);
      await unlink(pki.paths.caKey);
      await assert.rejects(ensureClusterPKI(dir), (e) => e instanceof PkiError && e.code === "Incomplete" && e.path === pki.paths.caKey);
    }));

  void test("a new CA re-issues the leaves it did not sign", () =>
    withTempDir(async (dir) => {
      const pki = await ensureClusterPKI(dir);
      await unlink(pki.paths.caKey);
      await unlink(pki.paths.caCert);
      const again = await ensureClusterPKI(dir);
      assert.notEqual(again.ca.certPem, pki.ca.certPem);
      assert.ok(isIssuedBy(again.server.certPem, again.ca.certPem));
      assert.ok(isIssuedBy(again.admin.certPem, again.ca.certPem));
      assert.equal(again.serviceAccount.privateKeyPem, pki.serviceAccount.privateKeyPem);
    }));
});

void describe("TLS handshakes with real clients", () => {
  let dir = "";
  let pki: ClusterPKI;
  let server: Server;
  let port = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "k8ts-pki-tls-"));
    pki = await ensureClusterPKI(dir);
    // Go's TLS stack verifies client certs after the handshake; Node's equivalent is
    // requestCert without rejectUnauthorized, then a look at socket.authorized.
    server = createServer({ key: pki.server.keyPem, cert: pki.server.certPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ authorized: socket.authorized, cn: peer.subject?.CN ?? null, o: peer.subject?.O ?? null, path: req.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  void test("curl verifies the serving cert and presents the admin cert", async () => {
    const { stdout } = await run("curl", ["-sS", "--fail", "--cacert", pki.paths.caCert, "--cert", pki.paths.adminCert, "--key", pki.paths.adminKey, `https://127.0.0.1:${port}/hello`]);
    assert.deepEqual(JSON.parse(stdout), { authorized: true, cn: ADMIN_USER, o: ADMIN_GROUP, path: "/hello" });
  });

  void test("curl by the name localhost verifies too", async () => {
    const { stdout } = await run("curl", ["-sS", "--fail", "--cacert", pki.paths.caCert, "--resolve", `localhost:${port}:127.0.0.1`, `https://localhost:${port}/`]);
    assert.equal(JSON.parse(stdout).authorized, false, "no client cert: the handshake still succeeds, unauthenticated");
  });

  void test("the official kubectl accepts the serving cert and sends the admin cert from a generated kubeconfig", async () => {
    const kubeconfig = join(dir, "admin.kubeconfig");
    await writeKubeconfig(
      kubeconfig,
      buildKubeconfig({
        clusterName: "k8ts",
        server: `https://127.0.0.1:${port}`,
        caPem: pki.ca.certPem,
        userName: "k8ts-admin",
        clientCertPem: pki.admin.certPem,
        clientKeyPem: pki.admin.keyPem,
        contextName: "k8ts",
      }),
    );
    const { stdout } = await run(KUBECTL, ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, "cache"), "get", "--raw", "/x"]);
    assert.deepEqual(JSON.parse(stdout), { authorized: true, cn: ADMIN_USER, o: ADMIN_GROUP, path: "/x" });
  });

  void test("kubectl refuses a server whose cert is not signed by the kubeconfig's CA", async () => {
    const other = await createCA("other-ca");
    const kubeconfig = join(dir, "wrong-ca.kubeconfig");
    await writeKubeconfig(
      kubeconfig,
      buildKubeconfig({ clusterName: "c", server: `https://127.0.0.1:${port}`, caPem: other.certPem, userName: "u", clientCertPem: pki.admin.certPem, clientKeyPem: pki.admin.keyPem, contextName: "c" }),
    );
    await assert.rejects(run(KUBECTL, ["--kubeconfig", kubeconfig, "--cache-dir", join(dir, "cache2"), "get", "--raw", "/x"]), (e: Error & { stderr?: string }) =>
      /certificate signed by unknown authority/.test(e.stderr ?? ""),
    );
  });
});
