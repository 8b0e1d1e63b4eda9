// The audit subsystem: hash-chained node-local journal, signed checkpoints, verifier, forwarders.

export { AuditJournal, type JournalStats } from './journal.ts';
export { DEFAULT_CHECKPOINT_EVERY, type AuditJournalOptions } from './journal-options.ts';
export { GENESIS_HASH, type AuditEntry, type ChainHead } from './audit-entry.ts';
export { checkpointPayload, type Checkpoint, type CheckpointSigner } from './checkpoint.ts';
export { CompactRange, EMPTY_TREE_HASH, entryLeafHash, leafHash, merkleRoot, nodeHash } from './merkle.ts';
export { assertJournalValid, verifyJournal, type VerifyJournalOptions, type VerifyJournalResult } from './verify.ts';
export { FileForwarder, StdoutForwarder, type AuditForwarder } from './forwarders.ts';
