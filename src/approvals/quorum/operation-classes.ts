// The officer operations that a quorum guards: the one list of operation class names.

export const QUORUM_OPERATIONS = [
  'principal.create', 'principal.delete', 'principal.password-reset', 'principal.role-change',
  'project.delete', 'policy.change', 'key.delete', 'key.export', 'backup.restore', 'custodian.change',
  'node.admit', 'quorum.policy-change', 'key.import-foreign',
] as const;

export type QuorumOperation = (typeof QUORUM_OPERATIONS)[number];

/** The class whose quorum guards the policy itself, so the policy can never be changed unilaterally. */
export const POLICY_CHANGE = 'quorum.policy-change' satisfies QuorumOperation;

const KNOWN: ReadonlySet<string> = new Set(QUORUM_OPERATIONS);

export function isQuorumOperation(value: unknown): value is QuorumOperation {
  return typeof value === 'string' && KNOWN.has(value);
}
