import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from './canonical-json.ts';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [true, null, 'x'], c: -0 } }), '{"a":{"c":0,"d":[true,null,"x"]},"b":1}');
  });

  it('orders keys by UTF-16 code units (RFC 8785 §3.2.3 example)', () => {
    const input = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    // Read the order off the text: JSON.parse would move the integer-like key "1" first again.
    const serialisedOrder = [...canonicalJson(input).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1] ?? ''}"`) as string);
    assert.deepEqual(serialisedOrder, ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
  });

  it('skips undefined members and refuses values JSON cannot hold', () => {
    assert.equal(canonicalJson({ a: undefined, b: 'x' }), '{"b":"x"}');
    assert.throws(() => canonicalJson({ n: Number.NaN }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => canonicalJson({ n: Infinity }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => canonicalJson({ f: () => 1 }), { code: 'INVALID_ARGUMENT' });
  });
});
