// Cluster join in the server: officers issue join tokens (directly, or through the node.admit quorum),
// an unsealed node runs the Admitter for the configured provider (certifying joiners' TLS keys with
// the built-in CA when configured), and a sealed node joins with a fresh TLS key and its CSR.
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import type { QuorumOperationHandler, QuorumParameters } from '../approvals/quorum/index.ts';
import type { Caller } from '../core/engine/index.ts';
import { CofferError } from '../core/errors.ts';
import {
  AWS_EC2_PROVIDER, checkNodeName, createAttestationProvider, JoinTokenProvider, type AdmittedIdentity, type IssuedJoinToken, type JoinConfig,
  type JoinTokenRequest,
} from '../cluster/attestation/index.ts';
import { Admitter, joinCluster, joinTokenEvidence, staticEvidence, type CertifyHook } from '../cluster/join/index.ts';
import { buildLocalCsr } from '../pki/local-key-csr.ts';
import { canonicalDnsName } from '../pki/subject-names.ts';
import { parseCsr } from '../pki/x509/csr.ts';
import type { AltNames } from '../pki/x509/extensions.ts';
import type { CofferNode } from './coffer-node.ts';
import type { NodeCertificatesConfig } from './config.ts';
import { resolveRequester } from './key-use-wiring.ts';
import type { NodeServices } from './node-services.ts';
import { requireFields } from './quorum-parameters.ts';

/** Issues a join token on this node (audited in its journal); the route checks the quorum first. */
export function issueJoinToken(node: CofferNode, caller: Caller, request: JoinTokenRequest): Promise<IssuedJoinToken> {
  return new JoinTokenProvider({ store: node.store, barrier: node.barrier }).issue(caller, node.audit, request);
}

function tokenRequestOf(parameters: QuorumParameters): JoinTokenRequest {
  const { nodeName, expiresInSeconds } = parameters;
  if (nodeName !== undefined && typeof nodeName !== 'string') throw new CofferError('INVALID_ARGUMENT', 'nodeName must be a string');
  if (expiresInSeconds !== undefined && typeof expiresInSeconds !== 'number') throw new CofferError('INVALID_ARGUMENT', 'expiresInSeconds must be a number');
  return { ...(nodeName === undefined ? {} : { nodeName }), ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }) };
}

/**
 * node.admit under a quorum: the approved token issues the join token at apply and returns it to the
 * applier (the requester) only; the token is never part of the quorum token's parameters.
 */
export function nodeAdmitOperation(context: { readonly node: CofferNode }): QuorumOperationHandler {
  return {
    requesterRoles: ['officer'],
    validate: (_caller, parameters) => {
      requireFields(parameters, [], ['nodeName', 'expiresInSeconds']);
      const request = tokenRequestOf(parameters);
      if (request.nodeName !== undefined) checkNodeName(request.nodeName);
      // The same checks issue() makes, so no token is approved that cannot run.
      const lifetime = request.expiresInSeconds;
      if (lifetime !== undefined && (!Number.isSafeInteger(lifetime) || lifetime < 60 || lifetime > 86_400)) {
        return Promise.reject(new CofferError('INVALID_ARGUMENT', 'expiresInSeconds must be an integer from 60 to 86400'));
      }
      return Promise.resolve();
    },
    run: (caller, parameters) => issueJoinToken(context.node, caller, tokenRequestOf(parameters)),
  };
}

/**
 * Runs an Admitter for `config` while the node is unsealed (a pass does nothing while sealed).
 * Returns it so the caller stops it at shutdown (`await admitter.stop()`).
 */
export function startJoinAdmitter(node: CofferNode, config: JoinConfig, options: {
  readonly onError?: (error: unknown) => void; readonly pollIntervalMs?: number; readonly certify?: CertifyHook;
} = {}): Admitter {
  const provider = createAttestationProvider(config, { store: node.store, barrier: node.barrier });
  const admitter = new Admitter({
    store: node.store, barrier: node.barrier, provider, audit: () => node.audit, nodeId: node.nodeId,
    ...(options.onError === undefined ? {} : { onError: options.onError }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    ...(options.certify === undefined ? {} : { certify: options.certify }),
  });
  admitter.start();
  return admitter;
}

/** RFC 3986 unreserved characters; every other byte is percent-encoded, so a part never adds a ':' or breaks the URI. */
function uriPart(value: string): string {
  return Array.from(Buffer.from(value, 'utf8'), (byte) => {
    const char = String.fromCharCode(byte);
    return /^[A-Za-z0-9._~-]$/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

/**
 * The URIs a node certificate carries to say what was attested: `urn:coffer:node:<nodeName>`,
 * `urn:coffer:attested:<provider>:<subject>` and, for a cloud instance, `…:<provider>:instance:<id>`.
 */
export function attestedUris(nodeName: string, identity: AdmittedIdentity): string[] {
  const provider = uriPart(identity.provider);
  return [
    `urn:coffer:node:${uriPart(nodeName)}`,
    `urn:coffer:attested:${provider}:${uriPart(identity.subject)}`,
    ...(identity.instanceId === undefined ? [] : [`urn:coffer:attested:${provider}:instance:${uriPart(identity.instanceId)}`]),
  ];
}

/**
 * The admitter's certify hook over the built-in CA: issues as the configured principal (so the CA
 * key's own access rules and the pki.issue audit entry apply), for the joiner's key, with the
 * subject CN=<node name>, the CSR's DNS/IP names, the attested URIs, and server and client purposes.
 */
export function nodeCertificateIssuer(services: NodeServices, config: NodeCertificatesConfig): CertifyHook {
  return async ({ csr, nodeName, identity, requestId }) => {
    const parsed = parseCsr(csr);
    // The subject is the attested name, never one the joiner picked.
    if (parsed.subjectText !== `CN=${nodeName}`) throw new CofferError('CSR_INVALID', 'a node certificate request must have the subject CN=<node name>');
    const caller = await resolveRequester(await services.directory(), config.issuer, requestId);
    const issued = await services.pki().issue(caller, config.ca, {
      csr, validityDays: config.validityDays, keyUsage: ['digitalSignature'], extendedKeyUsage: ['serverAuth', 'clientAuth'],
      // The CSR's emails and URIs are dropped: only its host names, and the URIs the admitter vouches for.
      altNames: { dnsNames: parsed.altNames?.dnsNames ?? [], ipAddresses: parsed.altNames?.ipAddresses ?? [], uris: attestedUris(nodeName, identity) },
    });
    if (issued.certificate === undefined || issued.chain === undefined) throw new CofferError('INTERNAL_ERROR', 'the CA returned no certificate');
    return { chain: `${issued.certificate}${issued.chain}`, serialNumber: issued.serialNumber, caId: issued.caId, subject: issued.subject };
  };
}

export type JoinCredential = { readonly token: string } | { readonly awsEvidence: unknown };

/** A TLS key made on the joining node and the certificate chain the cluster's CA issued for it. */
export interface NodeTlsMaterial {
  readonly privateKeyPem: string;
  /** Leaf first, then the CA chain to the root. */
  readonly chainPem: string;
}

export interface JoinedNode {
  readonly requestId: string;
  /** Present when the admitting node issued a certificate for this node's key. */
  readonly tls?: NodeTlsMaterial;
  /** An answer carried a certificate that is not for this node's key: it was not kept. */
  readonly certificateRejected?: true;
}

/** The host of the node's advertised API URL as a certificate name, when it is a usable name or address. */
function hostAltNames(apiUrl: string | undefined): AltNames {
  if (apiUrl === undefined || !URL.canParse(apiUrl)) return {};
  const host = new URL(apiUrl).hostname.replace(/^\[(.*)\]$/, '$1');
  // A wildcard bind address names no host a client could call.
  if (isIP(host) !== 0) return host === '0.0.0.0' || host === '::' ? {} : { ipAddresses: [host] };
  try {
    return { dnsNames: [canonicalDnsName(host)] };
  } catch {
    return {};
  }
}

/**
 * The answer's certificate, if it is for `privateKey`: the chain crossed the store outside the HPKE
 * box, so a certificate for another key (altered, or someone else's) is dropped, not used.
 */
function keptCertificate(chainPem: string, privateKey: KeyObject): boolean {
  try {
    return new X509Certificate(chainPem).checkPrivateKey(privateKey);
  } catch {
    return false;
  }
}

/**
 * Joins a sealed node (its store shared with the cluster) and unseals it with the transferred key.
 * The request carries a CSR (CN=<nodeId>, the API URL's host) for a P-256 key made here, whose
 * private half never leaves this process; an admitter configured with nodeCertificates certifies it.
 */
export async function joinNode(node: CofferNode, credential: JoinCredential, options: { readonly timeoutMs?: number; readonly apiUrl?: string } = {}): Promise<JoinedNode> {
  const domainId = node.barrier.descriptor?.domainId;
  if (domainId === undefined) throw new CofferError('DOMAIN_UNINITIALIZED', 'the shared store holds no security domain to join');
  if (node.state !== 'SEALED') throw new CofferError('DOMAIN_ALREADY_UNSEALED', 'the node is already unsealed');
  const evidence = 'token' in credential ? joinTokenEvidence(credential.token) : staticEvidence(AWS_EC2_PROVIDER, credential.awsEvidence);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const csr = await buildLocalCsr(privateKey, { subject: `CN=${checkNodeName(node.nodeId)}`, altNames: hostAltNames(options.apiUrl) });
  const outcome = await joinCluster({
    store: node.store, domainId, nodeName: node.nodeId, evidence, csr: csr.pem,
    unseal: (transfer, binding, key) => node.unsealWithTransferredKey(transfer, binding, key),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  if (outcome.certificate === undefined) return { requestId: outcome.requestId };
  if (!keptCertificate(outcome.certificate, privateKey)) return { requestId: outcome.requestId, certificateRejected: true };
  return {
    requestId: outcome.requestId,
    tls: { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), chainPem: outcome.certificate },
  };
}
