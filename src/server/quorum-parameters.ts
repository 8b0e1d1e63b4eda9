// Checks of a quorum request's free-form parameters, one class at a time: exactly the fields the
// class knows, each of the right type, so no token is ever made for an operation that cannot run.
import { isPasswordBinding, type PasswordBinding, type QuorumParameters, type QuorumSecret } from '../approvals/quorum/index.ts';
import { CofferError } from '../core/errors.ts';

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', message);
}

/** Refuses a field outside `known` and a missing one of `required`. */
export function requireFields(parameters: QuorumParameters, required: readonly string[], optional: readonly string[] = []): void {
  if ('password' in parameters) throw invalid('a password is never a parameter: bind it (passwordSalt, passwordDigest) and give it at apply');
  for (const field of Object.keys(parameters)) {
    if (!required.includes(field) && !optional.includes(field)) throw invalid(`unknown parameter ${field}`);
  }
  for (const field of required) if (parameters[field] === undefined) throw invalid(`missing parameter ${field}`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Key ids only (never project/name): a name could point at another key by the time the token is applied. */
export function keyIdParameter(parameters: QuorumParameters, field: string): string {
  const value = parameters[field];
  if (typeof value !== 'string' || !UUID.test(value)) throw invalid(`${field} must be a key id (uuid)`);
  return value;
}

export function stringParameter(parameters: QuorumParameters, field: string, maxLength: number): string {
  const value = parameters[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) throw invalid(`${field} must be a string of 1 to ${maxLength} characters`);
  return value;
}

export function optionalInteger(parameters: QuorumParameters, field: string, min: number, max: number): number | undefined {
  const value = parameters[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) throw invalid(`${field} must be an integer from ${min} to ${max}`);
  return value;
}

/** The password binding, when the parameters carry one (both fields or neither). */
export function passwordBindingOf(parameters: QuorumParameters): PasswordBinding | undefined {
  if (parameters['passwordSalt'] === undefined && parameters['passwordDigest'] === undefined) return undefined;
  const binding = { passwordSalt: parameters['passwordSalt'], passwordDigest: parameters['passwordDigest'] };
  if (!isPasswordBinding(binding)) throw invalid('passwordSalt and passwordDigest must come together, as bindQuorumPassword makes them');
  return binding;
}

/** The password from an apply's secret: exactly `{password}`. */
export function passwordOf(secret: QuorumSecret | undefined): string {
  const password = secret?.['password'];
  if (secret === undefined || password === undefined || Object.keys(secret).length !== 1) {
    throw new CofferError('APPROVAL_MISMATCH', 'this operation binds a password: give it at apply as secret.password');
  }
  return password;
}

/** For classes whose parameters may bind no password: a secret given anyway is a mistake. */
export function requireNoSecret(secret: QuorumSecret | undefined): void {
  if (secret !== undefined) throw invalid('this operation takes no secret');
}
