// /v1/domain: status, descriptor, init, unseal sessions and shares, seal; and the custodian's side
// of an unseal (open one's share, re-encrypt it to the node's session, submit it) in one call.
import { CofferError } from '../core/errors.ts';
import type { CustodianKey, DomainDescriptor, DomainStatus, InitDomainRequest, UnsealProgress, UnsealSession, UnsealShareEnvelope } from './api-types.ts';
import type { Transport } from './transport.ts';

export class DomainApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  async status(): Promise<DomainStatus> {
    return (await this.#http.send('GET', '/v1/domain')) as DomainStatus;
  }

  async descriptor(): Promise<DomainDescriptor> {
    return (await this.#http.send('GET', '/v1/domain/descriptor')) as DomainDescriptor;
  }

  /** Creates the domain (only while UNINITIALIZED); the node stays SEALED. */
  async init(request: InitDomainRequest): Promise<DomainDescriptor> {
    return (await this.#http.send('POST', '/v1/domain/init', { body: request })) as DomainDescriptor;
  }

  /** Starts (or returns) the session custodians encrypt their shares to. */
  async unsealSession(): Promise<UnsealSession> {
    return (await this.#http.send('POST', '/v1/domain/unseal-session')) as UnsealSession;
  }

  /** Submits one custodian's envelope (prepareUnsealShare's output). */
  async unseal(envelope: UnsealShareEnvelope): Promise<UnsealProgress> {
    return (await this.#http.send('POST', '/v1/domain/unseal', { body: envelope })) as UnsealProgress;
  }

  /** Officers: wipes the domain key from the node. */
  async seal(): Promise<DomainStatus> {
    return (await this.#http.send('POST', '/v1/domain/seal')) as DomainStatus;
  }

  /**
   * A custodian's whole part of an unseal: reads the public descriptor, opens this custodian's share
   * locally (the private key never leaves this process), re-encrypts it to the node's unseal
   * session and submits it. UNSEAL_SHARE_INVALID when the key does not open the share.
   */
  async unsealAsCustodian(key: CustodianKey): Promise<UnsealProgress> {
    const descriptor = await this.descriptor();
    const entry = descriptor.custodians.find((c) => (key.custodianId !== undefined ? c.id === key.custodianId : c.publicKey === key.publicKey));
    if (entry === undefined) {
      throw new CofferError('INVALID_ARGUMENT', key.custodianId === undefined && key.publicKey === undefined
        ? 'name the custodian by its public key or custodian id'
        : 'this key is not a custodian of the domain');
    }
    const session = await this.unsealSession();
    // Loaded on use: the HPKE and Shamir code is needed by custodians only.
    const { prepareUnsealShare } = await import('../barrier/index.ts');
    const envelope = await prepareUnsealShare({ privateKey: key.privateKey, descriptor, custodianId: entry.id, session });
    return this.unseal(envelope);
  }
}
