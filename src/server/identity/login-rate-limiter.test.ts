// The login limiter: per name and per address, a sliding minute, refusals do not count, bounded memory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from './identity-test-kit.ts';
import { LoginRateLimiter } from './login-rate-limiter.ts';

describe('the login rate limiter', () => {
  it('limits a name after 5 failures in a sliding minute, from any address', () => {
    const clock = new ManualClock();
    const limiter = new LoginRateLimiter({ clock });
    for (let i = 0; i < 5; i++) {
      assert.equal(limiter.isLimited('bob', `10.0.0.${i}`), false);
      limiter.recordFailure('bob', `10.0.0.${i}`);
      clock.advance(10);
    }
    assert.equal(limiter.isLimited('bob', '10.0.0.99'), true);
    assert.equal(limiter.isLimited('alice', '10.0.0.99'), false);
    // The first failure was at t=0; at t=60 s it has left the window.
    clock.advance(10);
    assert.equal(limiter.isLimited('bob', '10.0.0.99'), false);
  });

  it('limits an address after 5 failures whatever names it tries', () => {
    const clock = new ManualClock();
    const limiter = new LoginRateLimiter({ clock, maxFailures: 5 });
    for (let i = 0; i < 5; i++) limiter.recordFailure(`user${i}`, '192.0.2.7');
    assert.equal(limiter.isLimited('somebody-new', '192.0.2.7'), true);
    assert.equal(limiter.isLimited('somebody-new', '192.0.2.8'), false);
  });

  it('keeps a name and an address of the same spelling apart', () => {
    const limiter = new LoginRateLimiter({ clock: new ManualClock(), maxFailures: 1 });
    limiter.recordFailure('x', 'y');
    assert.equal(limiter.isLimited('y', 'x'), false);
  });

  it('stays within maxTracked keys, dropping the least recently failed first', () => {
    const clock = new ManualClock();
    const limiter = new LoginRateLimiter({ clock, maxFailures: 1, maxTracked: 10 });
    limiter.recordFailure('first', 'a0');
    for (let i = 1; i < 50; i++) limiter.recordFailure(`n${i}`, `a${i}`);
    assert.ok(limiter.size <= 10, `tracked ${limiter.size}`);
    assert.equal(limiter.isLimited('first', 'elsewhere'), false);
    assert.equal(limiter.isLimited('n49', 'elsewhere'), true);
  });

  it('forgets keys whose failures aged out', () => {
    const clock = new ManualClock();
    const limiter = new LoginRateLimiter({ clock });
    limiter.recordFailure('old', 'addr-old');
    clock.advance(61);
    limiter.recordFailure('new', 'addr-new');
    assert.equal(limiter.size, 2);
  });

  it('rejects a non-positive limit', () => {
    assert.throws(() => new LoginRateLimiter({ maxFailures: 0 }), { code: 'INVALID_ARGUMENT' });
  });
});
