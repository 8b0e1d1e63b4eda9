// Shared set-up for the engine's unit tests: an engine over in-memory ports and a few callers.
import { createHash } from 'node:crypto';
import type { Clock } from '../ports.ts';
import type { Caller } from './caller.ts';
import { KeyEngine } from './key-engine.ts';
import { MemoryAuditSink, MemoryKeyRepository } from './memory-key-repository.ts';

export class ManualClock implements Clock {
  #now: number;
  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.#now = start;
  }
  now(): Date {
    return new Date(this.#now);
  }
  advanceDays(days: number): void {
    this.#now += days * 86_400_000;
  }
}

export function caller(principal: string, roles: Caller['roles'] = ['user'], projects: readonly string[] = ['alpha']): Caller {
  return { principal, roles, projects, requestId: `req-${principal}` };
}

export const alice = caller('alice');
export const bob = caller('bob');
export const carol = caller('carol', ['user'], ['beta']);
export const officer = caller('olivia', ['officer'], ['alpha']);
export const auditor = caller('audrey', ['auditor'], ['alpha']);

export function newEngine(): { engine: KeyEngine; audit: MemoryAuditSink; clock: ManualClock; repository: MemoryKeyRepository } {
  const audit = new MemoryAuditSink();
  const clock = new ManualClock();
  const repository = new MemoryKeyRepository();
  return { engine: new KeyEngine({ repository, audit, clock }), audit, clock, repository };
}

export function sha(name: 'sha256' | 'sha384' | 'sha512', data: Uint8Array): Buffer {
  return createHash(name).update(data).digest();
}
