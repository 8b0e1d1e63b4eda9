// Helpers shared by the attestation and join tests: an unsealed barrier over a temporary SQLite
// store, a collecting audit sink, and an "AWS" certificate of our own that signs identity documents.
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Barrier } from '../../barrier/index.ts';
import { makeDomain, TestClock, unsealedBarrier } from '../../barrier/barrier-test-kit.ts';
import type { Caller } from '../../core/engine/index.ts';
import type { AuditEvent, AuditSink } from '../../core/ports.ts';
import { openSqliteStore, type SqliteStore } from '../../store/index.ts';

export { TestClock };

export class CollectingAudit implements AuditSink {
  readonly events: AuditEvent[] = [];

  append(event: AuditEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }
}

export interface Fixture {
  readonly store: SqliteStore;
  readonly barrier: Barrier;
  readonly clock: TestClock;
  readonly audit: CollectingAudit;
  readonly domainId: string;
  close(): Promise<void>;
}

export async function fixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-attest-'));
  const store = await openSqliteStore(join(dir, 'coffer.db'));
  const clock = new TestClock();
  const domain = await makeDomain(1, 1);
  const barrier = await unsealedBarrier(domain, [0], clock);
  return {
    store, barrier, clock, audit: new CollectingAudit(), domainId: domain.descriptor.domainId,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function officer(principal = 'alice'): Caller {
  return { principal, roles: ['officer'], projects: [], requestId: 'req-1' };
}

export interface AwsSigner {
  readonly certificatePem: string;
  /** The base64 signature IMDS would serve for `document` (line-broken at 64 like IMDS). */
  sign(document: string): string;
}

/** A self-made RSA-2048 certificate standing in for AWS's regional RSA certificate. */
export async function awsSigner(): Promise<AwsSigner> {
  x509.cryptoProvider.set(globalThis.crypto);
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=Test AWS instance identity', notBefore: new Date('2020-01-01'), notAfter: new Date('2040-01-01'),
    signingAlgorithm: algorithm, keys,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certificatePem: certificate.toString('pem'),
    sign: (document) => {
      const signature = sign('sha256', Buffer.from(document, 'utf8'), { key: pkcs8, format: 'der', type: 'pkcs8' }).toString('base64');
      return signature.replace(/(.{64})/g, '$1\n');
    },
  };
}

export function identityDocument(fields: Partial<Record<string, string>> = {}): string {
  return JSON.stringify({
    accountId: '123456789012', architecture: 'x86_64', availabilityZone: 'eu-west-1a', billingProducts: null, devpayProductCodes: null,
    marketplaceProductCodes: null, imageId: 'ami-0123456789abcdef0', instanceId: 'i-0123456789abcdef0', instanceType: 't3.micro',
    kernelId: null, pendingTime: '2025-01-01T00:00:00Z', privateIp: '10.0.0.5', ramdiskId: null, region: 'eu-west-1', version: '2017-09-30',
    ...fields,
  }, null, 2);
}
