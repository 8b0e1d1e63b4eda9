// How the node builds its key-use approval service: the requester's Caller and the approvers'
// liveness come from the principal directory of the current unsealed period.
import { KeyUseService } from '../approvals/key-use/index.ts';
import type { AuditSink } from '../core/ports.ts';
import type { Caller } from '../core/engine/index.ts';
import { CofferError } from '../core/errors.ts';
import type { CofferNode } from './coffer-node.ts';
import { callerOf } from './identity/identity-types.ts';
import type { PrincipalDirectory } from './identity/index.ts';

/**
 * The Caller a use runs as: the requester as the directory has it now (roles, projects), as
 * authentication would build it. A requester since deleted or disabled is PRINCIPAL_NOT_FOUND.
 */
export async function resolveRequester(directory: PrincipalDirectory, name: string, requestId: string): Promise<Caller> {
  // Looked up as itself: every principal may read its own record, so this needs no other authority.
  const principal = await directory.getPrincipal({ principal: name, roles: [], projects: [], requestId }, name);
  if (principal.status !== 'ACTIVE') throw new CofferError('PRINCIPAL_NOT_FOUND', 'the requester is no longer an active principal');
  return callerOf(principal, requestId);
}

export function createKeyUseService(node: CofferNode, audit: AuditSink, directory: () => Promise<PrincipalDirectory>): KeyUseService {
  return new KeyUseService({
    store: node.store, barrier: node.barrier, audit, engine: node.engine,
    resolveCaller: async (name, requestId) => resolveRequester(await directory(), name, requestId),
    requirePrincipal: async (name) => (await directory()).requireActivePrincipal(name),
  });
}
