// Cluster join in the server: officers issue join tokens (directly, or through the node.admit quorum),
// an unsealed node runs the Admitter for the configured provider, and a sealed node joins.
import type { QuorumOperationHandler, QuorumParameters } from '../approvals/quorum/index.ts';
import type { Caller } from '../core/engine/index.ts';
import { CofferError } from '../core/errors.ts';
import {
  AWS_EC2_PROVIDER, checkNodeName, createAttestationProvider, JoinTokenProvider, type IssuedJoinToken, type JoinConfig, type JoinTokenRequest,
} from '../cluster/attestation/index.ts';
import { Admitter, joinCluster, joinTokenEvidence, staticEvidence, type JoinOutcome } from '../cluster/join/index.ts';
import type { CofferNode } from './coffer-node.ts';
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
export function startJoinAdmitter(node: CofferNode, config: JoinConfig, options: { readonly onError?: (error: unknown) => void; readonly pollIntervalMs?: number } = {}): Admitter {
  const provider = createAttestationProvider(config, { store: node.store, barrier: node.barrier });
  const admitter = new Admitter({
    store: node.store, barrier: node.barrier, provider, audit: () => node.audit, nodeId: node.nodeId,
    ...(options.onError === undefined ? {} : { onError: options.onError }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
  });
  admitter.start();
  return admitter;
}

export type JoinCredential = { readonly token: string } | { readonly awsEvidence: unknown };

/** Joins a sealed node (its store shared with the cluster) and unseals it with the transferred key. */
export function joinNode(node: CofferNode, credential: JoinCredential, options: { readonly timeoutMs?: number } = {}): Promise<JoinOutcome> {
  const domainId = node.barrier.descriptor?.domainId;
  if (domainId === undefined) throw new CofferError('DOMAIN_UNINITIALIZED', 'the shared store holds no security domain to join');
  if (node.state !== 'SEALED') throw new CofferError('DOMAIN_ALREADY_UNSEALED', 'the node is already unsealed');
  const evidence = 'token' in credential ? joinTokenEvidence(credential.token) : staticEvidence(AWS_EC2_PROVIDER, credential.awsEvidence);
  return joinCluster({
    store: node.store, domainId, nodeName: node.nodeId, evidence,
    unseal: (transfer, binding, privateKey) => node.unsealWithTransferredKey(transfer, binding, privateKey),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}
