// ecdsaDerToRaw: DER Ecdsa-Sig-Value → fixed-width r‖s, checked against node:crypto's own two
// encodings and the engine's raw → DER encoder, and strict about malformed DER.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { encodeRawSignature, type EcCurveName } from '../../../core/crypto/ecdsa-digest.ts';
import { isCofferError } from '../../../core/errors.ts';
import { ecdsaDerToRaw } from './ecdsa-der-to-raw.ts';

const CURVES: readonly { curve: EcCurveName; width: number }[] = [
  { curve: 'prime256v1', width: 32 }, { curve: 'secp384r1', width: 48 }, { curve: 'secp521r1', width: 66 },
];

function isInternal(error: unknown): boolean {
  return isCofferError(error) && error.code === 'INTERNAL_ERROR';
}

/** DER of SEQUENCE { INTEGER r, INTEGER s } from the integers' content octets, as given (even if not minimal). */
function sequence(r: readonly number[], s: readonly number[]): Buffer {
  const body = [0x02, r.length, ...r, 0x02, s.length, ...s];
  return Buffer.from([0x30, body.length, ...body]);
}

describe('ecdsaDerToRaw', () => {
  for (const { curve, width } of CURVES) {
    it(`${curve}: matches node:crypto's ieee-p1363 form of the same signatures`, () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
      for (let i = 0; i < 20; i++) {
        const message = randomBytes(32);
        const der = sign(null, message, privateKey);
        const raw = ecdsaDerToRaw(der, width);
        assert.equal(raw.length, 2 * width);
        // The engine's raw → DER encoder takes it back to the very same bytes.
        assert.deepEqual(encodeRawSignature(curve, raw, 'der', false), der);
      }
    });

    it(`${curve}: short scalars are left-padded; a high top bit needs (and loses) its zero octet`, () => {
      const raw = Buffer.alloc(2 * width);
      raw[width - 1] = 0x01; // r = 1
      // s one octet short of the width with its top bit set: DER adds a zero octet (P-521's order keeps the full width's top bits clear).
      raw[width + 1] = 0x80;
      raw[2 * width - 1] = 0x07;
      const der = encodeRawSignature(curve, raw, 'der', false);
      assert.ok(der.includes(Buffer.from([0x02, 0x01, 0x01, 0x02, width, 0x00, 0x80])));
      assert.deepEqual(ecdsaDerToRaw(der, width), raw);
    });
  }

  it('refuses malformed DER with INTERNAL_ERROR (it came from the module)', () => {
    const ok = sequence([0x01], [0x02]);
    assert.deepEqual(ecdsaDerToRaw(ok, 32).subarray(31, 33), Buffer.from([0x01, 0x00]));
    const bad: readonly [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['not a SEQUENCE', Buffer.from([0x31, ...ok.subarray(1)])],
      ['trailing byte', Buffer.concat([ok, Buffer.from([0x00])])],
      ['truncated', ok.subarray(0, ok.length - 1)],
      ['non-minimal long length', Buffer.from([0x30, 0x81, 0x06, ...ok.subarray(2)])],
      ['negative r', sequence([0x80], [0x02])],
      ['zero s', sequence([0x01], [0x00])],
      ['empty INTEGER', sequence([], [0x02])],
      ['non-minimal INTEGER', sequence([0x00, 0x01], [0x02])],
      ['not an INTEGER', Buffer.from([0x30, 0x06, 0x04, 0x01, 0x01, 0x02, 0x01, 0x02])],
      ['scalar wider than the curve', sequence(Array.from({ length: 33 }, () => 0x01), [0x02])],
    ];
    for (const [name, der] of bad) assert.throws(() => ecdsaDerToRaw(der, 32), isInternal, name);
  });

  it('accepts the long length form where DER needs it (P-521)', () => {
    const r = [0x01, ...Array.from({ length: 65 }, () => 0xff)];
    const body = [0x02, 66, ...r, 0x02, 66, ...r];
    const der = Buffer.from([0x30, 0x81, body.length, ...body]);
    assert.deepEqual(ecdsaDerToRaw(der, 66), Buffer.from([...r, ...r]));
  });
});
