// proto3 JSON at the edge: both base64 alphabets with or without padding but one canonical text per
// byte string, .proto and JSON field names (never both), null as default, 64-bit integers either way.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isCofferError } from '../../core/errors.ts';
import { decodeMessage, decodeProtoBytes, messageSchema, normaliseFieldNames } from './proto-json.ts';

const SHAPE = { keyName: 'string', keySize: 'uint64', input: 'bytes', hashed: 'bool', backup: { version: 'int64', encryptedState: 'bytes' } } as const;

function code(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isCofferError(error) ? error.code : 'not a CofferError';
  }
  return undefined;
}

describe('proto3 JSON', () => {
  it('decodes standard and URL-safe base64, padded or not, and refuses every other text', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0x41]);
    for (const text of ['+/+/QQ==', '+/+/QQ', '-_-_QQ==', '-_-_QQ']) assert.deepEqual(decodeProtoBytes(text, 'input'), bytes, text);
    assert.deepEqual(decodeProtoBytes('', 'input'), Buffer.alloc(0));
    // Mixed alphabets, a lone sixth-bit quantum, incomplete padding, stray bits in the last quantum.
    for (const text of ['+_QQ', 'QUJDR', 'QQ=', 'QUI==', 'QR==', 'QUJ=', 'AB==']) assert.equal(code(() => decodeProtoBytes(text, 'input')), 'INVALID_ARGUMENT', text);
  });

  it('takes .proto names as JSON names, drops nulls, and refuses a field given both ways', () => {
    assert.deepEqual(normaliseFieldNames(SHAPE, { key_name: 'foo', key_size: null, backup: { encrypted_state: 'QQ==' }, extra_field: 1 }),
      { keyName: 'foo', backup: { encryptedState: 'QQ==' }, extra_field: 1 });
    assert.equal(code(() => normaliseFieldNames(SHAPE, { key_name: 'a', keyName: 'b' })), 'MALFORMED_REQUEST');
    assert.equal(normaliseFieldNames(SHAPE, 'not an object'), 'not an object');
    const schema = messageSchema(SHAPE);
    assert.equal(schema['additionalProperties'], false);
  });

  it('fills proto3 defaults and reads 64-bit integers from numbers and strings', () => {
    const empty = decodeMessage(SHAPE, {});
    assert.deepEqual(empty, { keyName: '', keySize: 0, input: Buffer.alloc(0), hashed: false, backup: undefined });
    assert.equal(decodeMessage(SHAPE, { keySize: '2048' }).keySize, 2048);
    assert.equal(decodeMessage(SHAPE, { keySize: 2048 }).keySize, 2048);
    assert.equal(decodeMessage(SHAPE, { backup: { version: '-1' } }).backup?.version, -1);
    assert.equal(code(() => decodeMessage(SHAPE, { keySize: '18446744073709551615' })), 'INVALID_ARGUMENT');
    assert.equal(code(() => decodeMessage(SHAPE, { backup: { encryptedState: 'AB==' } })), 'INVALID_ARGUMENT');
  });
});
