// Every key spec through every operation its usages allow, with every algorithm its table row lists.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { KEY_SPECS, type KeySpec, type KeyUsage } from '../key-record.ts';
import { SIGNING_PARAMETERS } from './algorithm-parameters.ts';
import { checkOperation } from './check-operation.ts';
import { decrypt, encrypt } from './encryption.ts';
import { generateKeyMaterialAsync, importKeyMaterial, type KeyMaterial } from './key-material.ts';
import { computeMac, verifyMac } from './mac.ts';
import { prepareKey, publicKeySpki, type PreparedKey } from './prepared-key.ts';
import { sign, verify } from './signing.ts';
import { specInfo } from './spec-table.ts';
import { unwrap, wrap } from './wrapping.ts';

const generated = new Map<KeySpec, KeyMaterial>();
const prepared = new Map<KeySpec, PreparedKey>();
const message = Buffer.from('round trip');
const secret = Buffer.alloc(32, 0x5a);

// Generated on the thread pool in parallel: RSA-4096 dominates and is made once for the file.
before(async () => {
  const all = await Promise.all(KEY_SPECS.map(async (spec) => [spec, await generateKeyMaterialAsync(spec)] as const));
  for (const [spec, material] of all) {
    generated.set(spec, material);
    prepared.set(spec, prepareKey(spec, material.material));
  }
});

const keyOf = (spec: KeySpec): PreparedKey => prepared.get(spec) ?? assert.fail(spec);

const RUNS: Record<Exclude<KeyUsage, 'DERIVE'>, (spec: KeySpec) => number> = {
  ENCRYPT_DECRYPT(spec) {
    const algorithms = specInfo(spec).encryptionAlgorithms;
    for (const algorithm of algorithms) {
      checkOperation(spec, 'ENCRYPT_DECRYPT', 'ENCRYPT', algorithm);
      checkOperation(spec, 'ENCRYPT_DECRYPT', 'DECRYPT', algorithm);
      assert.deepEqual(decrypt(keyOf(spec), algorithm, encrypt(keyOf(spec), algorithm, secret)), secret, `${spec} ${algorithm}`);
    }
    return algorithms.length;
  },
  SIGN_VERIFY(spec) {
    let count = 0;
    for (const algorithm of specInfo(spec).signingAlgorithms) {
      checkOperation(spec, 'SIGN_VERIFY', 'SIGN', algorithm);
      checkOperation(spec, 'SIGN_VERIFY', 'VERIFY', algorithm);
      const { scheme, hash } = SIGNING_PARAMETERS[algorithm];
      const inputs = hash === undefined
        ? [{ type: 'MESSAGE', message } as const]
        : [{ type: 'MESSAGE', message } as const, { type: 'DIGEST', digest: createHash(hash).update(message).digest() } as const];
      for (const format of scheme === 'ECDSA' ? ['DER', 'RAW'] as const : ['DER'] as const) {
        for (const signed of inputs) {
          const signature = sign(keyOf(spec), algorithm, signed, format);
          for (const checked of inputs) assert.ok(verify(keyOf(spec), algorithm, checked, signature, format), `${spec} ${algorithm} ${format} ${signed.type}→${checked.type}`);
          count++;
        }
      }
    }
    return count;
  },
  WRAP_UNWRAP(spec) {
    const algorithms = specInfo(spec).wrappingAlgorithms;
    for (const algorithm of algorithms) {
      checkOperation(spec, 'WRAP_UNWRAP', 'WRAP', algorithm);
      checkOperation(spec, 'WRAP_UNWRAP', 'UNWRAP', algorithm);
      assert.deepEqual(unwrap(keyOf(spec), algorithm, wrap(keyOf(spec), algorithm, secret)), secret, `${spec} ${algorithm}`);
    }
    return algorithms.length;
  },
  GENERATE_VERIFY_MAC(spec) {
    const algorithm = specInfo(spec).macAlgorithm ?? assert.fail(spec);
    checkOperation(spec, 'GENERATE_VERIFY_MAC', 'GENERATE_MAC', algorithm);
    checkOperation(spec, 'GENERATE_VERIFY_MAC', 'VERIFY_MAC', algorithm);
    assert.ok(verifyMac(keyOf(spec), algorithm, message, computeMac(keyOf(spec), algorithm, message)), spec);
    return 1;
  },
};

describe('every spec through every allowed operation', () => {
  for (const spec of KEY_SPECS) {
    it(spec, () => {
      let operations = 0;
      for (const usage of specInfo(spec).usages) {
        if (usage !== 'DERIVE') operations += RUNS[usage](spec);
      }
      assert.ok(operations > 0, `${spec} ran no operation`);
      const material = generated.get(spec) ?? assert.fail(spec);
      if (!specInfo(spec).symmetric) {
        checkOperation(spec, 'SIGN_VERIFY', 'GET_PUBLIC_KEY');
        assert.deepEqual(publicKeySpki(keyOf(spec)), material.publicKey, spec);
      }
      // Generated material passes import unchanged (the pairwise test included).
      assert.deepEqual(importKeyMaterial(spec, material.material), material, spec);
    });
  }
});
