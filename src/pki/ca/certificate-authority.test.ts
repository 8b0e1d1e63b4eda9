// planLeaf refuses to certify nobody: a request with an empty subject and no alternative name; with
// names only, the leaf's subjectAltName is critical.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, Name } from '@peculiar/asn1-x509';
import { CofferError } from '../../core/errors.ts';
import { parseCsr } from '../x509/csr.ts';
import { localSigner } from '../x509/local-signer-test-kit.ts';
import { signCertificationRequest } from '../x509/signed-structures.ts';
import { checkCaProfile } from './ca-profile.ts';
import { planLeaf, signLeafCertificate } from './certificate-authority.ts';

describe('planLeaf', () => {
  it('refuses an empty subject without alternative names, and takes one with a DNS name', async () => {
    const csr = parseCsr(await signCertificationRequest(localSigner('EC_P256'), new Name([]), []));
    const profile = checkCaProfile(undefined);
    assert.throws(() => planLeaf(csr, {}, profile, 'ca', []), (error: unknown) => error instanceof CofferError && error.code === 'CSR_INVALID');
    const plan = planLeaf(csr, { altNames: { dnsNames: ['build.example.com'] } }, profile, 'ca', []);
    assert.deepEqual(plan.altNames.dnsNames, ['build.example.com']);
    // Issued with the names alone, the SAN is critical (RFC 5280 §4.2.1.6).
    const ca = localSigner('EC_P256');
    const issued = await signLeafCertificate({ signer: ca, name: new Name([]), keyIdentifier: Buffer.alloc(20, 1), notAfter: new Date(Date.now() + 86_400_000) }, csr, plan, new Date());
    assert.equal(new X509Certificate(issued.der).subjectAltName, 'DNS:build.example.com');
    const san = AsnConvert.parse(issued.der, Certificate).tbsCertificate.extensions?.find((e) => e.extnID === '2.5.29.17');
    assert.equal(san?.critical, true);
  });
});
