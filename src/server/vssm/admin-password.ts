// VSSM's adminPassword: on top of the TLS or bearer authentication, an admin call must carry the
// calling principal's own password, checked by the directory exactly as a login is.
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../identity/identity-types.ts';
import type { NodeServices } from '../node-services.ts';

/**
 * Throws AUTH_FAILED for a wrong (or absent) password and RATE_LIMITED after too many failures.
 * The directory's login is the check: one scrypt run in constant time whatever the case, the login
 * rate limiter per name and address, and an audited outcome. The session it opens on success is
 * closed at once, so the check leaves no usable token behind.
 */
export async function verifyAdminPassword(services: NodeServices, request: FastifyRequest, principal: Principal, password: string): Promise<void> {
  const directory = await services.directory();
  const issued = await directory.login(principal.name, password, { remoteAddress: request.ip, requestId: request.id });
  await directory.logout(issued.token, request.id);
}
