// Domain life cycle as the API offers it: init with the first officer, unseal by custodian envelopes
// (the encrypted share is the custodian's credential), seal by an officer.
import { CofferError } from '../core/errors.ts';
import type { DomainDescriptor, UnsealProgress, UnsealShareEnvelope } from '../barrier/index.ts';
import { normaliseFingerprint, pendingOfficerWrite } from './bootstrap-officer.ts';
import type { NodeStatus } from './coffer-node.ts';
import type { Principal } from './identity/identity-types.ts';
import type { NodeServices } from './node-services.ts';

export interface InitDomainInput {
  readonly custodians: readonly { readonly name: string; readonly publicKey: string }[];
  readonly threshold: number;
  readonly initialOfficer: { readonly name: string; readonly certificateFingerprint: string };
}

/** Creates the domain and records the first officer in the same store commit. */
export function initDomainWithOfficer(services: NodeServices, input: InitDomainInput): Promise<DomainDescriptor> {
  const officer = { name: input.initialOfficer.name, fingerprint: normaliseFingerprint(input.initialOfficer.certificateFingerprint) };
  return services.node.initDomain({ custodians: input.custodians, threshold: input.threshold }, { alsoWrite: [pendingOfficerWrite(officer)] });
}

/** One custodian's envelope; on the last one the directory is opened (creating the first officer). */
export async function submitUnsealShare(services: NodeServices, envelope: UnsealShareEnvelope): Promise<UnsealProgress> {
  const progress = await services.node.submitUnsealShare(envelope, `custodian:${envelope.custodianId}`);
  // Opening the directory now creates the first officer at once. The node is unsealed either way;
  // if this fails (store trouble) the next request retries it and reports the error itself.
  if (progress.state === 'UNSEALED') await services.directory().catch(() => undefined);
  return progress;
}

export function domainDescriptor(services: NodeServices): DomainDescriptor {
  const descriptor = services.node.barrier.descriptor;
  if (descriptor === undefined) throw new CofferError('DOMAIN_UNINITIALIZED', 'the security domain has not been initialised');
  return descriptor;
}

/** Sealing wipes the domain key from this node: officers only. */
export async function sealDomain(services: NodeServices, principal: Principal, requestId: string): Promise<NodeStatus> {
  if (principal.role !== 'officer') {
    // Refusals are journaled like the engine's: a user probing the seal is worth seeing.
    await services.node.audit.append({
      time: new Date().toISOString(), principal: principal.name, operation: 'domain.seal', outcome: 'DENIED', requestId, errorCode: 'ACCESS_DENIED',
    });
    throw new CofferError('ACCESS_DENIED', 'only officers may seal the node');
  }
  await services.node.seal(principal.name, requestId);
  return services.node.status();
}
