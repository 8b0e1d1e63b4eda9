// AdminService through the API: adminPassword is the caller's own password (wrong → AUTH_FAILED,
// rate limited like login), generate/inject/list keys in the default project, getlogs, and backups
// (officers: generatebackup answers a Coffer backup inline, restorebackup merges one).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_DEFAULTS } from '../config.ts';
import { createPrincipal, type TestServer } from '../server-test-kit.ts';
import { restoreBackupBodyBytes } from './vssm-backup.ts';
import { b64, errorCode, openVssmServer, PASSWORD } from './vssm-test-kit.ts';

const ADMIN = { adminPassword: PASSWORD };

function journal(server: TestServer): Record<string, unknown>[] {
  return readFileSync(server.node.journalPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => 'operation' in e);
}

describe('VSSM admin endpoints', () => {
  it('need the caller’s own password on top of its token, audited and rate limited like a login', async (t) => {
    const { server, post } = await openVssmServer(t);
    const bob = await createPrincipal(server, 'bob', 'user', ['alpha']);
    const carol = await createPrincipal(server, 'carol', 'user', ['alpha']);
    // The login limiter counts failures per name and per address: each attempt comes from its own address.
    let address = 0;
    const postFrom = async (path: string, body: unknown, token: string) => {
      const response = await server.app.inject({
        method: 'POST', url: `/REST/v1/${path}`, remoteAddress: `10.0.0.${String(++address)}`, headers: { authorization: `Bearer ${token}` }, payload: body as Record<string, unknown>,
      });
      return { status: response.statusCode, code: (JSON.parse(response.body) as { error?: { code?: string } }).error?.code };
    };
    const bodies: [string, Record<string, unknown>, string][] = [
      ['admin/generatekey', { keyName: 'k', keyType: 'SYMMETRIC', adminPassword: 'not the password' }, bob],
      ['admin/injectkey', { keyName: 'k', keyType: 'SYMMETRIC', key: b64(randomBytes(32)) }, bob],
      ['admin/listkeys', { adminPassword: PASSWORD.toUpperCase() }, bob],
      ['admin/getlogs', { adminPassword: 'not the password' }, carol],
      ['admin/generatebackup', {}, carol],
      ['admin/restorebackup', { adminPassword: `${PASSWORD} `, backup: {} }, carol],
    ];
    for (const [path, body, token] of bodies) assert.deepEqual(await postFrom(path, body, token), { status: 401, code: 'AUTH_FAILED' }, path);
    // Five failures in a minute for bob: the next attempt is refused before any hashing, even with the right password.
    for (let i = 0; i < 2; i++) assert.equal((await postFrom('admin/listkeys', { adminPassword: 'wrong again' }, bob)).code, 'AUTH_FAILED');
    assert.deepEqual(await postFrom('admin/listkeys', { adminPassword: PASSWORD }, bob), { status: 429, code: 'RATE_LIMITED' });
    assert.equal((await postFrom('admin/listkeys', { adminPassword: PASSWORD }, carol)).status, 200);
    // Nothing was created by the refused calls.
    assert.equal(errorCode(await post('symmetric/encrypt', { input: 'AAAA', keyName: 'k', algorithm: 'AES/GCM/NoPadding' })), 'KEY_NOT_FOUND');
    // The check is a login whose session is closed at once.
    const log = (await post('admin/getlogs', ADMIN)).body['log'] as string[];
    assert.ok(log.some((line) => / alice auth\.logout ALLOWED /.test(line)));
  });

  it('generate keys in the caller’s default project, owned by the caller, with 64-bit sizes as numbers or strings', async (t) => {
    const { server, alice, post, generate } = await openVssmServer(t);
    await generate('ec-number', 'ASYMMETRIC', 'EC', 384);
    await generate('ec-string', 'ASYMMETRIC', 'EC', '384');
    await generate('aes', 'SYMMETRIC', undefined, '32');
    await generate('mac', 'MAC', undefined, 48);
    const described = await server.call('GET', '/v1/projects/alpha/keys/ec-string', { token: alice });
    assert.equal(described.body['spec'], 'EC_P384');
    assert.equal(described.body['owner'], 'alice');
    assert.equal(described.body['usage'], 'SIGN_VERIFY');
    assert.equal(described.body['exportable'], false);
    assert.equal((await server.call('GET', '/v1/projects/alpha/keys/mac', { token: alice })).body['spec'], 'HMAC_384');

    const generate2 = (body: Record<string, unknown>) => post('admin/generatekey', { ...ADMIN, ...body });
    assert.equal(errorCode(await generate2({ keyName: 'aes', keyType: 'SYMMETRIC' })), 'KEY_ALREADY_EXISTS');
    assert.equal(errorCode(await generate2({ keyName: 'r', keyType: 'ASYMMETRIC', keySpec: 'RSA', keySize: 1024 })), 'UNSUPPORTED_ALGORITHM');
    assert.equal(errorCode(await generate2({ keyName: 'r', keyType: 'ASYMMETRIC', keySpec: 'EC', keySize: '226' })), 'UNSUPPORTED_ALGORITHM');
    assert.equal(errorCode(await generate2({ keyName: 'r', keyType: 'SYMMETRIC', keySize: 8 })), 'UNSUPPORTED_ALGORITHM');
    assert.equal(errorCode(await generate2({ keyName: 'r', keyType: 'PUBLIC' })), 'INVALID_ARGUMENT');
    assert.equal(errorCode(await generate2({ keyType: 'SYMMETRIC' })), 'INVALID_ARGUMENT');
    for (const keySize of [-1, '-1', 1.5, '2e3', '0x20', true]) {
      assert.equal(errorCode(await generate2({ keyName: 'r', keyType: 'SYMMETRIC', keySize })), 'MALFORMED_REQUEST', String(keySize));
    }
    // Officers never use keys, so they cannot create them through VSSM either.
    const officer = await createPrincipal(server, 'oscar', 'officer', ['alpha']);
    assert.equal(errorCode(await post('admin/generatekey', { ...ADMIN, keyName: 'o', keyType: 'SYMMETRIC' }, officer)), 'ACCESS_DENIED');
  });

  it('inject raw symmetric and MAC keys and PKCS#8 private keys, which then compute what the material says', async (t) => {
    const { post } = await openVssmServer(t);
    const inject = (keyName: string, keyType: string, key: Uint8Array) => post('admin/injectkey', { ...ADMIN, keyName, keyType, key: b64(key) });

    const macKey = randomBytes(32);
    assert.equal((await inject('mac', 'MAC', macKey)).status, 200);
    const mac = await post('hmac/create', { input: b64('data'), keyName: 'mac', algorithm: 'SHA256' });
    assert.equal(mac.body['output'], createHmac('sha256', macKey).update('data').digest('base64'));

    assert.equal((await inject('aes', 'SYMMETRIC', randomBytes(32))).status, 200);
    const encrypted = await post('symmetric/encrypt', { input: 'AAAA', keyName: 'aes', algorithm: 'AES/GCM/NoPadding' });
    assert.deepEqual((await post('symmetric/decrypt', { input: encrypted.body['output'], keyName: 'aes', algorithm: 'AES/GCM/NoPadding' })).body, { output: 'AAAA' });

    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const injected = await inject('ec', 'ASYMMETRIC', pair.privateKey.export({ format: 'der', type: 'pkcs8' }));
    assert.equal(injected.status, 200, injected.text);
    const signed = await post('asymmetric/sign', { input: b64('hello'), keyName: 'ec', algorithm: 'SHA256withECDSA' });
    assert.equal(verify('sha256', Buffer.from('hello'), pair.publicKey, Buffer.from(String(signed.body['output']), 'base64')), true);

    assert.equal(errorCode(await inject('des', 'SYMMETRIC', randomBytes(8))), 'UNSUPPORTED_ALGORITHM');
    assert.equal(errorCode(await inject('short', 'MAC', randomBytes(20))), 'UNSUPPORTED_ALGORITHM');
    assert.equal(errorCode(await inject('junk', 'ASYMMETRIC', randomBytes(64))), 'INVALID_KEY_MATERIAL');
    const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'der', type: 'pkcs8' });
    assert.equal(errorCode(await inject('weak', 'ASYMMETRIC', weakRsa)), 'UNSUPPORTED_ALGORITHM');
    assert.equal(errorCode(await inject('mac', 'MAC', randomBytes(32))), 'KEY_ALREADY_EXISTS');
  });

  it('inject nothing, not even the transport key, when the injection is refused (audited as vssm.admin.injectkey)', async (t) => {
    const { server, alice, post, generate } = await openVssmServer(t);
    await generate('taken', 'SYMMETRIC');
    const keyNames = async (): Promise<string[]> =>
      ((await server.call('GET', '/v1/keys?project=alpha', { token: alice })).body['keys'] as { name: string }[]).map((k) => k.name);
    // An EC key whose public point is another key's: it parses as PKCS#8, yet the import's pairwise test refuses it.
    const [mine, other] = [generateKeyPairSync('ec', { namedCurve: 'P-256' }), generateKeyPairSync('ec', { namedCurve: 'P-256' })];
    const point = other.publicKey.export({ format: 'jwk' });
    const jwk = { ...mine.privateKey.export({ format: 'jwk' }), x: String(point.x), y: String(point.y) };
    const mismatched = createPrivateKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'pkcs8' });
    const refusals: [Record<string, unknown>, string][] = [
      [{ ...ADMIN, keyName: 'taken', keyType: 'SYMMETRIC', key: b64(randomBytes(32)) }, 'KEY_ALREADY_EXISTS'],
      [{ ...ADMIN, keyName: 'pair', keyType: 'ASYMMETRIC', key: b64(mismatched) }, 'INVALID_KEY_MATERIAL'],
      [{ ...ADMIN, keyName: 'junk', keyType: 'ASYMMETRIC', key: b64(randomBytes(64)) }, 'INVALID_KEY_MATERIAL'],
      [{ ...ADMIN, keyName: 'short', keyType: 'SYMMETRIC', key: b64(randomBytes(16)) }, 'UNSUPPORTED_ALGORITHM'],
      [{ adminPassword: 'not the password', keyName: 'fresh', keyType: 'SYMMETRIC', key: b64(randomBytes(32)) }, 'AUTH_FAILED'],
    ];
    for (const [body, code] of refusals) {
      assert.equal(errorCode(await post('admin/injectkey', body)), code, String(body['keyName']));
      assert.deepEqual(await keyNames(), ['taken'], String(body['keyName']));
    }
    const log = (await post('admin/getlogs', ADMIN)).body['log'] as string[];
    assert.ok(log.some((line) => / alice vssm\.admin\.injectkey FAILED error=KEY_ALREADY_EXISTS/.test(line)));
    assert.ok(log.some((line) => / alice vssm\.admin\.injectkey FAILED error=INVALID_KEY_MATERIAL/.test(line)));

    // Once the transport key exists, the engine's import refuses (and audits) on its own; still nothing new.
    assert.equal((await post('admin/injectkey', { ...ADMIN, keyName: 'fresh', keyType: 'SYMMETRIC', key: b64(randomBytes(32)) })).status, 200);
    assert.deepEqual(await keyNames(), ['fresh', 'taken', 'vssm-transport.alice']);
    for (const [body, code] of refusals.slice(0, 2)) assert.equal(errorCode(await post('admin/injectkey', body)), code);
    assert.deepEqual(await keyNames(), ['fresh', 'taken', 'vssm-transport.alice']);
  });

  it('list the default project’s keys in VSSM’s three lists, with SPKI public keys and 64-bit fields as strings', async (t) => {
    const { server, alice, post, generate } = await openVssmServer(t);
    await generate('aes', 'SYMMETRIC');
    await generate('ec', 'ASYMMETRIC', 'EC');
    await generate('mac', 'MAC', undefined, 64);
    // A key VSSM has no type for is left out (here: the transport key injectkey creates).
    assert.equal((await post('admin/injectkey', { ...ADMIN, keyName: 'aes2', keyType: 'SYMMETRIC', key: b64(randomBytes(32)) })).status, 200);

    const listed = await post('admin/listkeys', ADMIN);
    assert.equal(listed.status, 200, listed.text);
    const symmetric = listed.body['symmetricKey'] as Record<string, unknown>[];
    const asymmetric = listed.body['asymmetricKey'] as Record<string, unknown>[];
    const macs = listed.body['macKey'] as Record<string, unknown>[];
    assert.deepEqual(symmetric.map((k) => [k['name'], k['keyLength']]), [['aes', '32'], ['aes2', '32']]);
    assert.deepEqual(macs.map((k) => [k['name'], k['keyLength']]), [['mac', '64']]);
    assert.equal(asymmetric.length, 1);
    const ec = asymmetric[0] ?? {};
    assert.equal(ec['keySpec'], 'EC');
    assert.match(String(ec['createdAt']), /^[0-9]{13}$/);
    assert.ok(Math.abs(Number(ec['createdAt']) - Date.now()) < 60_000);
    const id = String((await server.call('GET', '/v1/projects/alpha/keys/ec', { token: alice })).body['id']);
    const native = await server.call('GET', `/v1/keys/${id}/public-key`, { token: alice });
    assert.equal(ec['publicKey'], native.body['der']);
    assert.equal(createPublicKey({ key: Buffer.from(String(ec['publicKey']), 'base64'), format: 'der', type: 'spki' }).asymmetricKeyType, 'ec');

    const one = await post('admin/listkeys', { ...ADMIN, keyName: 'mac', keyType: 'MAC' });
    assert.deepEqual(one.body, { symmetricKey: [], asymmetricKey: [], macKey: macs });
    assert.equal(errorCode(await post('admin/listkeys', { ...ADMIN, keyName: 'mac', keyType: 'SYMMETRIC' })), 'KEY_NOT_FOUND');
    assert.equal(errorCode(await post('admin/listkeys', { ...ADMIN, keyName: 'missing' })), 'KEY_NOT_FOUND');
    assert.equal(errorCode(await post('admin/listkeys', { ...ADMIN, keyType: 'OTHER' })), 'INVALID_ARGUMENT');
    const onlyMacs = await post('admin/listkeys', { ...ADMIN, keyType: 'MAC' });
    assert.deepEqual(onlyMacs.body, { symmetricKey: [], asymmetricKey: [], macKey: macs });
  });

  it('return the caller’s own audit entries as VSSM log lines, and every entry to auditors', async (t) => {
    const { server, post, generate } = await openVssmServer(t);
    const bob = await createPrincipal(server, 'bob', 'user', ['alpha']);
    const auditor = await createPrincipal(server, 'audrey', 'auditor', ['alpha']);
    await generate('foo', 'SYMMETRIC');
    await post('symmetric/encrypt', { input: 'AAAA', keyName: 'foo', algorithm: 'DES/CBC/PKCS5Padding' });
    await post('symmetric/encrypt', { input: 'AAAA', keyName: 'nothing', algorithm: 'AES/GCM/NoPadding' }, bob);

    const mine = (await post('admin/getlogs', ADMIN)).body['log'] as string[];
    assert.ok(mine.length > 0);
    for (const line of mine) assert.match(line, /^\[\d{4}-\d\d-\d\dT[^\]]+\] test-node, (INFO|WARN): alice [a-z.-]+ (ALLOWED|DENIED|FAILED)( [a-z]+=\S+)*$/);
    assert.ok(mine.some((line) => / alice key\.create ALLOWED project=alpha key=[0-9a-f-]{36} version=1 /.test(line)));
    // A weak algorithm refused at the edge is audited too.
    assert.ok(mine.some((line) => /WARN: alice vssm\.symmetric\.encrypt FAILED error=UNSUPPORTED_ALGORITHM /.test(line)));
    assert.equal(mine.some((line) => line.includes(' bob ')), false);

    const all = (await post('admin/getlogs', ADMIN, auditor)).body['log'] as string[];
    assert.ok(all.some((line) => / bob crypto\.encrypt FAILED project=alpha error=KEY_NOT_FOUND /.test(line)));
    assert.ok(all.some((line) => / alice vssm\.admin\.getlogs ALLOWED /.test(line)));
  });

  it('generate a Coffer backup inline and merge one back, without overwriting newer records (officers only)', async (t) => {
    const { server, alice, post, generate } = await openVssmServer(t);
    const olivia = await server.login('olivia');
    await generate('aes', 'SYMMETRIC');
    const sealed = String((await post('symmetric/encrypt', { input: 'AAAA', keyName: 'aes', algorithm: 'AES/GCM/NoPadding' })).body['output']);

    const generated = await post('admin/generatebackup', ADMIN, olivia);
    assert.equal(generated.status, 200, generated.text);
    const blob = generated.body['backup'] as Record<string, string>;
    assert.deepEqual(Object.keys(blob).sort(), ['encryptedState', 'encryptionKey', 'timestamp', 'version']);
    assert.equal(blob['encryptionKey'], '');
    assert.equal(blob['version'], '1');
    assert.ok(Math.abs(Number(blob['timestamp']) - Date.now() / 1000) < 60, blob['timestamp']);
    const bytes = Buffer.from(blob['encryptedState'] ?? '', 'base64');
    assert.equal(bytes.subarray(0, 8).toString('latin1'), 'CFRBAK01');
    // The backup is also in the backup directory, as /v1/backups would have written it.
    const listed = (await server.call('GET', '/v1/backups', { token: olivia })).body['backups'] as { name: string; manifest: { createdAt: string; records: { total: number } } }[];
    assert.equal(listed.length, 1);
    assert.equal(Math.floor(Date.parse(listed[0]?.manifest.createdAt ?? '') / 1000), Number(blob['timestamp']));
    assert.deepEqual(readFileSync(join(server.services.backups.dir, listed[0]?.name ?? '')), bytes);

    // After the backup: the key gets a second version, and a new key is made.
    const id = String((await server.call('GET', '/v1/projects/alpha/keys/aes', { token: alice })).body['id']);
    assert.equal((await server.call('POST', `/v1/keys/${id}/rotate`, { token: alice })).status, 200);
    await generate('later', 'MAC');

    const restored = await post('admin/restorebackup', { ...ADMIN, backup: blob }, olivia);
    assert.equal(restored.status, 200, restored.text);
    assert.deepEqual(restored.body, {});
    // The key keeps its newer record (two versions), the new key stays, old ciphertexts still decrypt.
    assert.equal((await post('admin/listkeys', { ...ADMIN, keyName: 'later' })).status, 200);
    assert.equal((await server.call('GET', `/v1/keys/${id}`, { token: alice })).body['currentVersion'], 2);
    assert.deepEqual((await post('symmetric/decrypt', { input: sealed, keyName: 'aes', algorithm: 'AES/GCM/NoPadding' })).body, { output: 'AAAA' });
    const restore = journal(server).find((e) => e['operation'] === 'backup.restore' && e['outcome'] === 'ALLOWED');
    const detail = (restore?.['detail'] ?? {}) as Record<string, unknown>;
    assert.equal(detail['backup'], 'inline');
    assert.equal(detail['mode'], 'merge');
    assert.ok(Number(detail['kept']) >= 1, JSON.stringify(detail));
    assert.equal(Number(detail['restored']) + Number(detail['kept']), listed[0]?.manifest.records.total);
    assert.ok(journal(server).some((e) => e['operation'] === 'vssm.admin.generatebackup' && e['outcome'] === 'ALLOWED' && e['principal'] === 'olivia'));

    // Only officers, as /v1/backups: refused and audited, and nothing written.
    const auditor = await createPrincipal(server, 'audrey', 'auditor', ['alpha']);
    for (const token of [alice, auditor]) {
      assert.equal(errorCode(await post('admin/generatebackup', ADMIN, token)), 'ACCESS_DENIED');
      assert.equal(errorCode(await post('admin/restorebackup', { ...ADMIN, backup: blob }, token)), 'ACCESS_DENIED');
    }
    const denied = journal(server).filter((e) => e['outcome'] === 'DENIED' && e['principal'] === 'alice').map((e) => e['operation']);
    assert.deepEqual(denied, ['backup.create', 'backup.restore']);

    // A flipped byte anywhere is refused before anything is written.
    for (const offset of [3, bytes.length >> 1, bytes.length - 1]) {
      const flipped = Buffer.from(bytes);
      flipped[offset] = (flipped[offset] ?? 0) ^ 0x01;
      assert.equal(errorCode(await post('admin/restorebackup', { ...ADMIN, backup: { ...blob, encryptedState: b64(flipped) } }, olivia)), 'BACKUP_INTEGRITY_FAILED', String(offset));
    }
    // The temporary files are gone: the directory holds the one backup.
    assert.deepEqual(readdirSync(server.services.backups.dir), [listed[0]?.name]);
  });

  it('check the blob before anything else: no key, this format version, some bytes', async (t) => {
    const { server, post } = await openVssmServer(t);
    const olivia = await server.login('olivia');
    const state = b64('CFRBAK01');
    const refusals: [unknown, string][] = [
      [{ encryptionKey: 'AAAA', version: 1, encryptedState: state }, 'INVALID_ARGUMENT'],
      [{ version: 2, encryptedState: state }, 'INVALID_ARGUMENT'],
      [{ encryptedState: state }, 'INVALID_ARGUMENT'],
      [{ version: '1' }, 'INVALID_ARGUMENT'],
      [undefined, 'INVALID_ARGUMENT'],
      [{ version: 'one' }, 'MALFORMED_REQUEST'],
      [{ version: 1, extra: true }, 'MALFORMED_REQUEST'],
    ];
    for (const [backup, code] of refusals) {
      assert.equal(errorCode(await post('admin/restorebackup', { ...ADMIN, ...(backup === undefined ? {} : { backup }) }, olivia)), code, JSON.stringify(backup));
    }
    assert.ok(journal(server).some((e) => e['operation'] === 'vssm.admin.restorebackup' && e['errorCode'] === 'INVALID_ARGUMENT'));
    // Version as a number or a string, as proto3 JSON allows: past the checks, the bytes are no backup.
    for (const version of [1, '1']) assert.equal(errorCode(await post('admin/restorebackup', { ...ADMIN, backup: { version, encryptedState: state } }, olivia)), 'BACKUP_INTEGRITY_FAILED');
  });

  it('refuse backups past the inline limit both ways, and restores the quorum policy covers', async (t) => {
    const INLINE = 1024;
    const { server, post } = await openVssmServer(t, { app: { logger: false, limits: { inlineBackupBytes: INLINE } } });
    const olivia = await server.login('olivia');
    const generated = await post('admin/generatebackup', ADMIN, olivia);
    assert.equal(generated.status, 413);
    assert.equal(errorCode(generated), 'BACKUP_TOO_LARGE_FOR_INLINE');
    // The backup was still made: it is in the directory, under the name the message gives.
    const listed = (await server.call('GET', '/v1/backups', { token: olivia })).body['backups'] as { name: string }[];
    assert.equal(listed.length, 1);
    assert.ok(String((generated.body['error'] as Record<string, unknown>)['message']).includes(listed[0]?.name ?? '?'));
    assert.ok(journal(server).some((e) => e['operation'] === 'vssm.admin.generatebackup' && e['errorCode'] === 'BACKUP_TOO_LARGE_FOR_INLINE'));

    const restore = (size: number) => post('admin/restorebackup', { ...ADMIN, backup: { version: 1, encryptedState: b64(randomBytes(size)) } }, olivia);
    assert.equal(errorCode(await restore(INLINE + 1)), 'BACKUP_TOO_LARGE_FOR_INLINE');
    // Past the route's body limit (the base64 of the inline limit plus the ordinary limit) Fastify refuses first.
    const tooLarge = await restore(3 * (restoreBackupBodyBytes(INLINE, CONFIG_DEFAULTS.bodyBytes) >> 2));
    assert.deepEqual([tooLarge.status, errorCode(tooLarge)], [413, 'INPUT_TOO_LARGE']);
    assert.equal(errorCode(await restore(INLINE)), 'BACKUP_INTEGRITY_FAILED');

    // Under a quorum policy for backup.restore, the inline restore is refused as the direct /v1 one is.
    const approval = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    assert.equal((await server.call('PUT', '/v1/quorum/approval-key', { token: olivia, body: { publicKey: approval } })).status, 200);
    const rule = { threshold: 1, approvers: ['olivia'] };
    const policy = await server.call('POST', '/v1/quorum/policy', { token: olivia, body: { rules: { 'backup.restore': rule, 'quorum.policy-change': rule } } });
    assert.ok(policy.status < 300, policy.text);
    assert.equal(errorCode(await restore(INLINE)), 'QUORUM_REQUIRED');
    assert.ok(journal(server).some((e) => e['operation'] === 'backup.restore' && e['outcome'] === 'DENIED' && e['errorCode'] === 'QUORUM_REQUIRED'));
  });
});
