// Helpers shared by the barrier's tests: domains with real custodian keys, and a settable clock.
import type { Clock } from '../core/ports.ts';
import { Barrier } from './barrier.ts';
import { createCustodianKeyPair, openShare, prepareUnsealShare, type CustodianKeyPair, type UnsealSessionTicket } from './custodian.ts';
import type { DomainDescriptor, UnsealShareEnvelope } from './domain-descriptor.ts';
import { initDomain } from './domain-init.ts';
import { combineDomainKey } from './shamir-shares.ts';

export interface TestDomain {
  readonly descriptor: DomainDescriptor;
  /** Custodian key pairs in descriptor order. */
  readonly keys: readonly CustodianKeyPair[];
}

export class TestClock implements Clock {
  #time = Date.parse('2025-01-01T00:00:00Z');

  now(): Date {
    return new Date(this.#time);
  }

  advance(ms: number): void {
    this.#time += ms;
  }
}

export async function makeDomain(custodians: number, threshold: number): Promise<TestDomain> {
  const keys = Array.from({ length: custodians }, () => createCustodianKeyPair());
  const descriptor = await initDomain({
    custodians: keys.map((key, index) => ({ name: `custodian ${index + 1}`, publicKey: key.publicKey })),
    threshold,
  });
  return { descriptor, keys };
}

export function custodianId(domain: TestDomain, index: number): string {
  const custodian = domain.descriptor.custodians[index];
  if (custodian === undefined) throw new RangeError(`no custodian ${index}`);
  return custodian.id;
}

function keyOf(domain: TestDomain, index: number): CustodianKeyPair {
  const key = domain.keys[index];
  if (key === undefined) throw new RangeError(`no custodian ${index}`);
  return key;
}

/** Custodian `index` opens its share and wraps it for `session`, as custodian tooling does. */
export function envelopeFor(domain: TestDomain, index: number, session: UnsealSessionTicket): Promise<UnsealShareEnvelope> {
  return prepareUnsealShare({ privateKey: keyOf(domain, index).privateKey, descriptor: domain.descriptor, custodianId: custodianId(domain, index), session });
}

export function plainShare(domain: TestDomain, index: number): Promise<Uint8Array> {
  return openShare(keyOf(domain, index).privateKey, domain.descriptor, custodianId(domain, index));
}

/** Test-only: rebuilds the domain key from the first `threshold` custodians' shares. */
export async function domainKeyOf(domain: TestDomain): Promise<Uint8Array> {
  const shares = await Promise.all(Array.from({ length: domain.descriptor.threshold }, (_, index) => plainShare(domain, index)));
  const key = await combineDomainKey(shares, domain.descriptor.threshold);
  if (key === undefined) throw new Error('shares did not combine');
  return key;
}

/** A barrier unsealed through the full envelope flow with custodians `indexes`. */
export async function unsealedBarrier(domain: TestDomain, indexes: readonly number[] = [0], clock: Clock = new TestClock()): Promise<Barrier> {
  const barrier = new Barrier(domain.descriptor, { clock });
  const session = barrier.beginUnseal();
  for (const index of indexes) await barrier.submitUnsealShare(await envelopeFor(domain, index, session));
  if (barrier.state !== 'UNSEALED') throw new Error('barrier did not unseal');
  return barrier;
}
