// The quorum policy: for each operation class, M of the N listed officers. Stored barrier-encrypted
// as one record whose store version is the policy version that tokens are bound to.
import { CofferError } from '../../core/errors.ts';
import type { Barrier } from '../../barrier/index.ts';
import type { Store, StoreWrite } from '../../store/index.ts';
import { isQuorumOperation, POLICY_CHANGE, type QuorumOperation } from './operation-classes.ts';
import { isOfficerName } from './officer-names.ts';
import { SealedJsonStore } from './sealed-json-store.ts';

const KIND = 'quorum-policy';
const PATH = 'quorum/policy';
/** A quorum is a handful of people; the bound keeps records and approval loops small. */
export const MAX_APPROVERS = 32;

export interface QuorumRule {
  /** M: valid approvals needed, never counting the requester. */
  readonly threshold: number;
  /** The N officers who may approve, by principal name. */
  readonly approvers: readonly string[];
}

export type QuorumRules = Readonly<Partial<Record<QuorumOperation, QuorumRule>>>;

export interface QuorumPolicy {
  /** Increases with every change; a token is only good under the version it was issued for. */
  readonly version: number;
  readonly rules: QuorumRules;
}

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', message);
}

function parseRule(operation: string, value: unknown): QuorumRule {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`the rule for ${operation} must be an object`);
  const { threshold, approvers, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw invalid(`the rule for ${operation} has unknown fields`);
  if (!Array.isArray(approvers) || approvers.length === 0 || approvers.length > MAX_APPROVERS) {
    throw invalid(`the rule for ${operation} must list 1 to ${MAX_APPROVERS} approvers`);
  }
  const names: string[] = [];
  for (const name of approvers) {
    if (!isOfficerName(name)) throw invalid(`the rule for ${operation} lists a malformed principal name`);
    if (names.includes(name)) throw invalid(`the rule for ${operation} lists an approver twice`);
    names.push(name);
  }
  if (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) || threshold < 1 || threshold > names.length) {
    throw invalid(`the threshold for ${operation} must be an integer from 1 to the number of approvers`);
  }
  return { threshold, approvers: names.sort() };
}

/**
 * Validates a proposed rule set. It must cover quorum.policy-change, or the policy could never be
 * changed again; unknown operation classes and fields are refused rather than ignored.
 */
export function parseQuorumRules(value: unknown): QuorumRules {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('quorum rules must be an object');
  const rules: Partial<Record<QuorumOperation, QuorumRule>> = {};
  for (const [operation, rule] of Object.entries(value as Record<string, unknown>)) {
    if (!isQuorumOperation(operation)) throw invalid('quorum rules name an unknown operation class');
    rules[operation] = parseRule(operation, rule);
  }
  if (rules[POLICY_CHANGE] === undefined) throw invalid(`quorum rules must include ${POLICY_CHANGE}`);
  return rules;
}

export class QuorumPolicyRepository {
  readonly #records: SealedJsonStore;

  constructor(store: Store, barrier: Barrier) {
    this.#records = new SealedJsonStore(store, barrier, KIND);
  }

  async get(): Promise<QuorumPolicy | undefined> {
    const sealed = await this.#records.get(PATH);
    if (sealed === undefined) return undefined;
    let rules: QuorumRules;
    try {
      rules = parseQuorumRules((sealed.value as { rules?: unknown } | null)?.rules);
    } catch (error) {
      throw new CofferError('STORE_CORRUPT', 'the stored quorum policy is malformed', { cause: error });
    }
    return { version: sealed.version, rules };
  }

  /** A conditional write replacing policy `currentVersion` (0: none yet), to commit with other writes. */
  write(rules: QuorumRules, currentVersion: number): StoreWrite {
    return this.#records.write(PATH, { rules }, currentVersion);
  }

  noteCommitted(currentVersion: number): void {
    this.#records.noteCommitted(PATH, currentVersion);
  }
}
