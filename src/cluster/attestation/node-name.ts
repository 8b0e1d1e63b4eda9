// The one rule for a node's name (it equals a node's configured nodeId).
import { CofferError } from '../../core/errors.ts';

export const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isNodeName(value: unknown): value is string {
  return typeof value === 'string' && NODE_NAME.test(value);
}

export function checkNodeName(value: unknown, what = 'nodeName'): string {
  if (!isNodeName(value)) throw new CofferError('INVALID_ARGUMENT', `${what} must be 1-64 of letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return value;
}
