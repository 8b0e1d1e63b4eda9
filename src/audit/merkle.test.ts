import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CompactRange, EMPTY_TREE_HASH, entryLeafHash, leafHash, merkleRoot, nodeHash } from './merkle.ts';

// Certificate Transparency's reference leaves and tree heads for sizes 0..8 (RFC 6962 test data,
// as used by the CT and Trillian test suites).
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

const leaves = CT_LEAVES.map((hex) => leafHash(Buffer.from(hex, 'hex')));

describe('merkle (RFC 6962 / 9162)', () => {
  it('matches the reference tree heads for sizes 0..8, recursively and incrementally', () => {
    assert.equal(EMPTY_TREE_HASH, createHash('sha256').digest('hex'));
    const range = new CompactRange();
    assert.equal(range.root(), CT_ROOTS[0]);
    for (let n = 1; n <= leaves.length; n++) {
      assert.equal(merkleRoot(leaves.slice(0, n)), CT_ROOTS[n], `recursive, size ${n}`);
      range.push(leaves[n - 1] as string);
      assert.equal(range.root(), CT_ROOTS[n], `compact range, size ${n}`);
    }
  });

  it('hashes an entry leaf as SHA-256(0x00 ‖ entry hash bytes) and a node as SHA-256(0x01 ‖ l ‖ r)', () => {
    const entryHash = randomBytes(32);
    assert.equal(entryLeafHash(entryHash.toString('hex')), leafHash(entryHash));
    assert.equal(entryLeafHash(entryHash.toString('hex')), createHash('sha256').update(Buffer.of(0)).update(entryHash).digest('hex'));
    const [left, right] = [randomBytes(32), randomBytes(32)];
    const expected = createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest('hex');
    assert.equal(nodeHash(left.toString('hex'), right.toString('hex')), expected);
  });

  it('keeps one root per set bit of the size and agrees with the recursive definition up to 130 leaves', () => {
    const hashes = Array.from({ length: 130 }, () => entryLeafHash(randomBytes(32).toString('hex')));
    const range = new CompactRange();
    for (let n = 1; n <= hashes.length; n++) {
      range.push(hashes[n - 1] as string);
      assert.equal(range.size, n);
      assert.equal(range.roots().length, n.toString(2).replaceAll('0', '').length);
      assert.equal(range.root(), merkleRoot(hashes.slice(0, n)), `size ${n}`);
    }
  });

  it('resumes from stored roots exactly where it left off', () => {
    const hashes = Array.from({ length: 40 }, () => entryLeafHash(randomBytes(32).toString('hex')));
    const first = new CompactRange();
    for (const hash of hashes.slice(0, 23)) first.push(hash);
    const resumed = new CompactRange(first.size, first.roots());
    for (const hash of hashes.slice(23)) resumed.push(hash);
    assert.equal(resumed.root(), merkleRoot(hashes));
  });

  it('refuses roots that do not fit the size', () => {
    const root = 'ab'.repeat(32);
    assert.throws(() => new CompactRange(3, [root]), { code: 'AUDIT_CHAIN_INVALID' });
    assert.throws(() => new CompactRange(1, ['not hex']), { code: 'AUDIT_CHAIN_INVALID' });
    assert.throws(() => new CompactRange(-1, []), { code: 'AUDIT_CHAIN_INVALID' });
  });
});
