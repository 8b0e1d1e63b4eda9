// Bad input over every route the app serves (read from the app, so a new route without a request
// template fails): malformed JSON, wrong content types, non-object bodies, unknown fields, wrong JSON
// types for each body field, missing required fields, oversized bodies, bad base64, unknown
// algorithms, bad path and query parameters, bad credentials and wrong methods, then requests that
// are well-formed but wrong (key usage, altered ciphertexts, unknown keys). Each answer must be a
// 4xx with a catalogue code and exactly {"error":{"code","message"}}, without stack traces or paths;
// never a 5xx. Afterwards the node still serves normal requests and nothing has changed.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { constants, createHash, generateKeyPairSync, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import { buildTimeStampQuery } from '../src/client/index.ts';
import { CATALOGUE, type ErrorCode } from '../src/core/errors.ts';
import { BASE64_PATTERN } from '../src/server/base64-field.ts';
import { CONFIG_DEFAULTS } from '../src/server/config.ts';
import { MAX_INLINE_BACKUP_BYTES, restoreBackupBodyBytes } from '../src/server/vssm/index.ts';
import { createPrincipal, openTestServer, PASSWORD, unsealWith, type TestServer } from '../src/server/server-test-kit.ts';
import { explicitRoutes, routeKey, type ServedRoute } from './route-inventory.ts';

type Json = Record<string, unknown>;
type Who = 'ursula' | 'olivia' | 'spare' | 'none';

/** A request that would be valid (it is never sent as is): the suite sends only its mutations. */
interface Template {
  readonly as: Who;
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: Json;
  /** proto3 JSON (VSSM): every field optional, null and '' mean the default. */
  readonly proto?: boolean;
}

interface Fixture {
  readonly keys: Readonly<Record<'aes' | 'rsa' | 'ec' | 'mac' | 'wrap' | 'ed' | 'victim', { readonly id: string; readonly name: string }>>;
  readonly aesCiphertext: string;
  readonly rsaCiphertext: string;
  readonly signature: string;
  readonly mac: string;
  readonly wrappedMaterial: string;
  /** A CA on the ed key, a certificate it issued, a CSR of the ec key, the ec key's attached certificate. */
  readonly pki: { readonly caId: string; readonly serialNumber: string; readonly csr: string; readonly certificateId: string; readonly certificatePem: string };
}

const MESSAGE = Buffer.from('release 1.2.3').toString('base64');
/** A valid public key for import-public's template (only its mutations are sent). */
const BAD_INPUT_EC_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const CONTEXT = { purpose: 'bad-input' };
const ADMIN = { adminPassword: PASSWORD };

// ---------------------------------------------------------------------------------------------
// One template per route. A template targets resources whose change would show in the final state
// check (the victim key and principal, an empty project), never the keys the later cases need.
// ---------------------------------------------------------------------------------------------
const single: Readonly<Record<string, (f: Fixture) => Json>> = {
  encrypt: (f) => ({ keyId: f.keys.aes.id, plaintext: MESSAGE, context: CONTEXT, algorithm: 'AES_256_GCM' }),
  decrypt: (f) => ({ ciphertext: f.aesCiphertext, context: CONTEXT, keyId: f.keys.aes.id }),
  're-encrypt': (f) => ({ ciphertext: f.aesCiphertext, sourceContext: CONTEXT, sourceKeyId: f.keys.aes.id, keyId: f.keys.aes.id, context: CONTEXT, algorithm: 'AES_256_GCM' }),
  'data-key': (f) => ({ keyId: f.keys.aes.id, bytes: 32, context: CONTEXT, withoutPlaintext: false }),
  sign: (f) => ({ keyId: f.keys.ec.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE, format: 'DER' }),
  verify: (f) => ({ keyId: f.keys.ec.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE, format: 'DER', signature: f.signature, keyVersion: 1 }),
  mac: (f) => ({ keyId: f.keys.mac.id, message: MESSAGE, algorithm: 'HMAC_SHA_256' }),
  'verify-mac': (f) => ({ keyId: f.keys.mac.id, message: MESSAGE, mac: f.mac, algorithm: 'HMAC_SHA_256' }),
};

const vssm: Readonly<Record<string, (f: Fixture) => Json>> = {
  'symmetric/encrypt': (f) => ({ input: MESSAGE, keyName: f.keys.aes.name, algorithm: 'AES/GCM/NoPadding' }),
  'symmetric/decrypt': (f) => ({ input: f.aesCiphertext, keyName: f.keys.aes.name, algorithm: 'AES/GCM/NoPadding' }),
  'asymmetric/encrypt': (f) => ({ input: MESSAGE, keyName: f.keys.rsa.name, algorithm: 'RSA-OAEP/SHA256' }),
  'asymmetric/decrypt': (f) => ({ input: f.rsaCiphertext, keyName: f.keys.rsa.name, algorithm: 'RSA-OAEP/SHA256' }),
  'asymmetric/sign': (f) => ({ input: MESSAGE, hashed: '', keyName: f.keys.ec.name, algorithm: 'SHA256withECDSA' }),
  'asymmetric/verify': (f) => ({ input: MESSAGE, hashed: '', signature: f.signature, keyName: f.keys.ec.name, algorithm: 'SHA256withECDSA' }),
  'hmac/create': (f) => ({ input: MESSAGE, keyName: f.keys.mac.name, algorithm: 'SHA256' }),
  'hmac/verify': (f) => ({ input: MESSAGE, hmac: f.mac, keyName: f.keys.mac.name, algorithm: 'SHA256' }),
  'admin/generatekey': () => ({ ...ADMIN, keyName: 'vssm-new', keyType: 'ASYMMETRIC', keySpec: 'EC', keySize: 256 }),
  'admin/injectkey': () => ({ ...ADMIN, keyName: 'vssm-injected', keyType: 'SYMMETRIC', key: randomBytes(32).toString('base64') }),
  'admin/listkeys': (f) => ({ ...ADMIN, keyName: f.keys.ec.name, keyType: 'ASYMMETRIC' }),
  'admin/getlogs': () => ADMIN,
  'admin/generatebackup': () => ADMIN,
  'admin/restorebackup': () => ({ ...ADMIN, backup: { encryptionKey: '', version: '1', timestamp: '1', encryptedState: 'AAAA' } }),
};

const victim = (f: Fixture) => ({ keyId: f.keys.victim.id });

const TEMPLATES: Readonly<Record<string, (f: Fixture) => Template>> = {
  'GET /v1/domain': () => ({ as: 'none' }),
  'GET /v1/domain/descriptor': () => ({ as: 'none' }),
  'POST /v1/domain/init': () => ({
    as: 'none',
    body: { custodians: [{ name: 'late', publicKey: randomBytes(32).toString('base64url') }], threshold: 1, initialOfficer: { name: 'mallory', certificateFingerprint: 'ab'.repeat(32) } },
  }),
  'POST /v1/domain/unseal-session': () => ({ as: 'none' }),
  'POST /v1/domain/unseal': () => ({ as: 'none', body: { formatVersion: 1, domainId: randomUUID(), custodianId: randomUUID(), sessionId: randomUUID(), enc: 'AAAA', ciphertext: 'AAAA' } }),
  'POST /v1/domain/seal': () => ({ as: 'olivia' }),
  'POST /v1/auth/login': () => ({ as: 'none', body: { name: 'ursula', password: PASSWORD } }),
  'POST /v1/auth/logout': () => ({ as: 'spare' }),
  'GET /v1/auth/whoami': () => ({ as: 'ursula' }),
  'POST /v1/auth/identify': () => ({ as: 'ursula', body: { certificate: randomBytes(300).toString('base64') } }),
  'GET /v1/cluster/nodes': () => ({ as: 'ursula' }),
  'POST /v1/cluster/join-tokens': () => ({ as: 'olivia', body: { nodeName: 'node-new', expiresInSeconds: 600 } }),
  'POST /v1/backups': () => ({ as: 'olivia' }),
  'GET /v1/backups': () => ({ as: 'olivia' }),
  'POST /v1/backups/:name/verify': () => ({ as: 'olivia', params: { name: 'coffer-backup-none.cbk' } }),
  'POST /v1/backups/:name/restore': () => ({ as: 'olivia', params: { name: 'coffer-backup-none.cbk' }, body: { mode: 'merge' } }),
  'POST /v1/principals': () => ({ as: 'olivia', body: { name: 'newcomer', role: 'user', projects: ['alpha'], defaultProject: 'alpha', certificates: [{ fingerprint: 'cd'.repeat(32), subject: 'CN=newcomer' }], password: PASSWORD } }),
  'GET /v1/principals': () => ({ as: 'olivia', query: { after: 'a', limit: '10' } }),
  'GET /v1/principals/:name': () => ({ as: 'olivia', params: { name: 'ursula' } }),
  'PATCH /v1/principals/:name': () => ({ as: 'olivia', params: { name: 'victim' }, body: { projects: ['alpha'], defaultProject: 'alpha', status: 'ACTIVE', certificates: [] } }),
  'PUT /v1/principals/:name/password': () => ({ as: 'olivia', params: { name: 'victim' }, body: { password: PASSWORD } }),
  'DELETE /v1/principals/:name': () => ({ as: 'olivia', params: { name: 'victim' } }),
  'POST /v1/projects': () => ({ as: 'olivia', body: { name: 'newproject', description: 'made by a refused request' } }),
  'GET /v1/projects': () => ({ as: 'olivia', query: { after: 'a', limit: '10' } }),
  'GET /v1/projects/:project': () => ({ as: 'olivia', params: { project: 'alpha' } }),
  'DELETE /v1/projects/:project': () => ({ as: 'olivia', params: { project: 'empty' } }),
  'GET /v1/projects/:project/keys/:name': (f) => ({ as: 'ursula', params: { project: 'alpha', name: f.keys.aes.name } }),
  'POST /v1/keys': () => ({ as: 'ursula', body: { project: 'alpha', name: 'new-key', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', description: 'd', tags: { team: 'x' }, exportable: false } }),
  'GET /v1/keys': () => ({ as: 'ursula', query: { project: 'alpha', state: 'ENABLED', spec: 'AES_256', after: 'a', limit: '10' } }),
  'GET /v1/keys/:keyId': (f) => ({ as: 'ursula', params: { keyId: f.keys.aes.id } }),
  'PATCH /v1/keys/:keyId': (f) => ({ as: 'ursula', params: victim(f), body: { description: 'changed', tags: { team: 'y' }, exportable: false } }),
  'POST /v1/keys/:keyId/rotate': (f) => ({ as: 'ursula', params: victim(f) }),
  'POST /v1/keys/:keyId/enable': (f) => ({ as: 'ursula', params: victim(f) }),
  'POST /v1/keys/:keyId/disable': (f) => ({ as: 'ursula', params: victim(f) }),
  'POST /v1/keys/:keyId/cancel-deletion': (f) => ({ as: 'ursula', params: victim(f) }),
  'POST /v1/keys/:keyId/schedule-deletion': (f) => ({ as: 'ursula', params: victim(f), body: { waitingDays: 7 } }),
  'POST /v1/keys/:keyId/min-decrypt-version': (f) => ({ as: 'ursula', params: victim(f), body: { version: 1 } }),
  'POST /v1/keys/:keyId/shares': (f) => ({ as: 'ursula', params: victim(f), body: { principal: 'olivia' } }),
  'DELETE /v1/keys/:keyId/shares/:principal': (f) => ({ as: 'ursula', params: { ...victim(f), principal: 'olivia' } }),
  'GET /v1/keys/:keyId/public-key': (f) => ({ as: 'ursula', params: { keyId: f.keys.ec.id }, query: { version: '1' } }),
  'POST /v1/keys/:keyId/export': (f) => ({ as: 'ursula', params: victim(f), body: { wrappingKeyId: f.keys.wrap.id, algorithm: 'RSA_AES_KEY_WRAP_SHA_256', version: 1 } }),
  'POST /v1/keys/import-tokens': () => ({ as: 'ursula', body: { project: 'alpha', spec: 'AES_256', wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', wrappingKeyBits: 3072, preserveId: false } }),
  'POST /v1/keys/import': (f) => ({ as: 'ursula', body: { importToken: randomUUID(), project: 'alpha', name: 'byok', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', description: 'd', tags: { team: 'x' }, wrappedMaterial: f.wrappedMaterial } }),
  'POST /v1/keys/import-public': () => ({ as: 'ursula', body: { project: 'alpha', name: 'verifier', spec: 'EC_P256', usage: 'SIGN_VERIFY', description: 'd', tags: { team: 'x' }, publicKey: BAD_INPUT_EC_PEM } }),
  'POST /v1/keys/:keyId/csr': (f) => ({ as: 'ursula', params: { keyId: f.keys.ec.id }, body: { subject: 'CN=bad input, O=Acme', dnsNames: ['a.example.com'], ipAddresses: ['10.0.0.1'], emails: ['a@example.com'], uris: ['https://example.com/x'], keyUsage: ['digitalSignature'], extendedKeyUsage: ['codeSigning'] } }),
  'POST /v1/keys/:keyId/certificates': (f) => ({ as: 'ursula', params: { keyId: f.keys.ec.id }, body: { certificate: f.pki.certificatePem } }),
  'GET /v1/keys/:keyId/certificates': (f) => ({ as: 'ursula', params: { keyId: f.keys.ec.id } }),
  'GET /v1/keys/:keyId/certificates/:certificateId': (f) => ({ as: 'ursula', params: { keyId: f.keys.ec.id, certificateId: f.pki.certificateId } }),
  'DELETE /v1/keys/:keyId/certificates/:certificateId': (f) => ({ as: 'ursula', params: { keyId: f.keys.victim.id, certificateId: f.pki.certificateId } }),
  'POST /v1/pki/cas': (f) => ({ as: 'ursula', body: { name: 'new-ca', key: f.keys.ec.id, subject: 'CN=New CA', parent: f.pki.caId, validityDays: 30, pathLength: 0, profile: { defaultValidityDays: 10, maxValidityDays: 20, keyUsage: ['digitalSignature'], extendedKeyUsage: ['codeSigning'], permittedDnsDomains: ['example.com'], excludedDnsDomains: ['bad.example.com'], permittedEmailDomains: ['example.com'], excludedEmailDomains: ['bad.example.com'], crlValidityHours: 24, crlDistributionUrl: 'https://example.com/ca.crl' } } }),
  'GET /v1/pki/cas': () => ({ as: 'ursula', query: { project: 'alpha', name: 'fixture-ca' } }),
  'GET /v1/pki/cas/:caId': (f) => ({ as: 'ursula', params: { caId: f.pki.caId } }),
  'POST /v1/pki/cas/:caId/issue': (f) => ({ as: 'ursula', params: { caId: f.pki.caId }, body: { csr: f.pki.csr, validityDays: 10, dnsNames: ['a.example.com'], ipAddresses: ['10.0.0.1'], emails: ['a@example.com'], uris: ['https://example.com/x'], keyUsage: ['digitalSignature'], extendedKeyUsage: ['codeSigning'] } }),
  'GET /v1/pki/cas/:caId/certificates': (f) => ({ as: 'ursula', params: { caId: f.pki.caId } }),
  'GET /v1/pki/cas/:caId/certificates/:serialNumber': (f) => ({ as: 'ursula', params: { caId: f.pki.caId, serialNumber: f.pki.serialNumber } }),
  'POST /v1/pki/cas/:caId/revoke': (f) => ({ as: 'ursula', params: { caId: f.pki.caId }, body: { serialNumber: 'abcdef', reason: 'keyCompromise' } }),
  'GET /v1/pki/cas/:caId/crl': (f) => ({ as: 'ursula', params: { caId: f.pki.caId } }),
  'POST /v1/pki/cas/:caId/crl': () => ({ as: 'ursula', params: { caId: randomUUID() } }),
  'POST /v1/tsa': (f) => ({ as: 'ursula', query: { key: f.keys.ed.id } }),
  'POST /v1/tsa/stamp': (f) => ({ as: 'ursula', body: { key: f.keys.ed.id, query: TIME_STAMP_QUERY.toString('base64') } }),
  'PUT /v1/keys/:keyId/approval': (f) => ({ as: 'ursula', params: victim(f), body: { approval: { threshold: 1, approvers: ['olivia'], rejectionEnds: true, sealed: false } } }),
  'PUT /v1/key-use/approver-keys': () => ({ as: 'ursula', body: { signingKey: generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString(), shareKey: randomBytes(32).toString('base64url') } }),
  'GET /v1/key-use/approver-keys/:principal': () => ({ as: 'ursula', params: { principal: 'olivia' } }),
  'POST /v1/key-use/requests': (f) => ({ as: 'ursula', body: { use: 'sign', key: f.keys.ec.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE, format: 'DER', expiresInSeconds: 3600, metadata: { build: '1' } } }),
  'GET /v1/key-use/requests': () => ({ as: 'ursula', query: { role: 'requester' } }),
  'GET /v1/key-use/requests/:requestId': () => ({ as: 'ursula', params: { requestId: randomUUID() } }),
  'GET /v1/key-use/requests/:requestId/share': () => ({ as: 'ursula', params: { requestId: randomUUID() } }),
  'POST /v1/key-use/requests/:requestId/approve': () => ({ as: 'ursula', params: { requestId: randomUUID() }, body: { signature: randomBytes(64).toString('base64'), releasedShare: { enc: randomBytes(32).toString('base64url'), ciphertext: randomBytes(49).toString('base64url') } } }),
  'POST /v1/key-use/requests/:requestId/reject': () => ({ as: 'ursula', params: { requestId: randomUUID() }, body: { signature: randomBytes(64).toString('base64'), reason: 'not this build' } }),
  'GET /v1/key-use/requests/:requestId/result': () => ({ as: 'ursula', params: { requestId: randomUUID() }, query: { waitSeconds: '0' } }),
  'POST /v1/crypto/random': () => ({ as: 'ursula', body: { bytes: 16 } }),
  'GET /v1/openapi.json': () => ({ as: 'none' }),
  'PUT /v1/quorum/approval-key': () => ({ as: 'olivia', body: { publicKey: generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString() } }),
  'GET /v1/quorum/policy': () => ({ as: 'olivia' }),
  'POST /v1/quorum/policy': () => ({ as: 'olivia', body: { rules: { 'principal.delete': { threshold: 1, approvers: ['olivia'] }, 'quorum.policy-change': { threshold: 1, approvers: ['olivia'] } } } }),
  'POST /v1/quorum/requests': () => ({ as: 'olivia', body: { operation: 'principal.delete', parameters: { name: 'victim' } } }),
  'GET /v1/quorum/requests': () => ({ as: 'olivia' }),
  'GET /v1/quorum/requests/:tokenId': () => ({ as: 'olivia', params: { tokenId: randomUUID() } }),
  'POST /v1/quorum/requests/:tokenId/approvals': () => ({ as: 'olivia', params: { tokenId: randomUUID() }, body: { signature: randomBytes(64).toString('base64') } }),
  'POST /v1/quorum/requests/:tokenId/apply': () => ({ as: 'olivia', params: { tokenId: randomUUID() }, body: { parameters: { name: 'victim' }, secret: { password: PASSWORD } } }),
  ...Object.fromEntries(Object.entries(single).flatMap(([op, body]): [string, (f: Fixture) => Template][] => [
    [`POST /v1/crypto/${op}`, (f) => ({ as: 'ursula', body: body(f) })],
    [`POST /v1/crypto/${op}/batch`, (f) => ({ as: 'ursula', body: { items: [body(f)] } })],
  ])),
  ...Object.fromEntries(Object.entries(vssm).map(([path, body]): [string, (f: Fixture) => Template] => [`POST /REST/v1/${path}`, (f) => ({ as: 'ursula', body: body(f), proto: true })])),
};

/** A second template where one route takes two shapes of body. */
const VARIANTS: Readonly<Record<string, (f: Fixture) => Template>> = {
  'POST /v1/keys': (f) => ({
    as: 'ursula',
    body: { project: 'alpha', name: 'imported', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', import: { wrappingKeyId: f.keys.wrap.id, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappedMaterial: f.wrappedMaterial } },
  }),
  'POST /v1/crypto/sign': (f) => ({ as: 'ursula', body: { keyId: f.keys.ec.id, algorithm: 'ECDSA_SHA_256', digest: createHash('sha256').update('x').digest('base64'), format: 'RAW' } }),
};

// ---------------------------------------------------------------------------------------------
// Mutations.
// ---------------------------------------------------------------------------------------------
interface Attempt {
  readonly category: string;
  readonly label: string;
  readonly method: string;
  readonly url: string;
  readonly as: Who;
  /** Raw payload; sent with `contentType` (none: no content-type header). */
  readonly payload?: string;
  readonly contentType?: string;
  readonly authorization?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Codes accepted; any 4xx catalogue code when absent. */
  readonly expect?: readonly ErrorCode[];
  /** 2xx is right for this one (a verification that answers valid:false). */
  readonly answersInvalid?: boolean;
}

const JSON_TYPE = 'application/json';
const SCHEMA_ERRORS: readonly ErrorCode[] = ['MALFORMED_REQUEST', 'INVALID_ARGUMENT'];

const MALFORMED_JSON = ['{', '{"a":', '{"a":1,}', "{'a':1}", '[1,2', 'nul', '{"a":1}}', '\u0000', '{"a":"\\x"}', '{"a" 1}', '['.repeat(50_000)];
const POISONED_JSON = ['{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}'];
const NOT_OBJECTS = ['null', '[]', '"text"', '42', 'true', `${'['.repeat(5_000)}${']'.repeat(5_000)}`];
const FORM = 'application/x-www-form-urlencoded';
const CONTENT_TYPES = ['text/plain', FORM, 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'application/octet-stream', undefined];
const WRONG_VALUES: readonly unknown[] = [7, -1, 1.5, 1e300, 2 ** 53 + 2, 'text', true, null, [], ['x'], {}, { a: 1 }];
const LONG_STRING = 'A'.repeat(100_001);
const BAD_BASE64 = ['not base64!', 'QR==', 'A', 'AAA', 'AA==AA==', '-_-_', 'AAAA\n', ' AAAA', 'AAAA====', '%%%%', 'A+-B'];
/** For proto3 bytes, which also take URL-safe and unpadded base64. */
const BAD_PROTO_BASE64 = ['not base64!', 'QR==', 'A', 'AA==AA==', 'A+-B', 'AAAA====', ' AAAA', '%%%%'];
const ALGORITHM_FIELDS = new Set(['algorithm', 'wrappingAlgorithm', 'spec', 'usage', 'keyType', 'keySpec', 'format']);
const BAD_ALGORITHMS = ['NOPE', 'DES_CBC', 'AES/ECB/PKCS5Padding', 'SHA1withRSA', 'RSAES_PKCS1_V1_5', 'a'.repeat(65), 'aes_256_gcm', 'AES_256_GCM ', ''];
const PROTO_BYTES = new Set(['input', 'hashed', 'signature', 'hmac', 'key', 'encryptionKey', 'encryptedState']);
const UUID_PARAMS = ['not-a-uuid', '00000000-0000-0000-0000-00000000000G', randomUUID().toUpperCase(), `${randomUUID()}0`, randomUUID().replaceAll('-', ''), '..', '%2e%2e', '%00', 'a'.repeat(300), '%E0%A4%A', '%2F', '%20', randomUUID()];
/** Names no principal, project or key can have (a well-formed unknown name is not bad input). */
const NAME_PARAMS = ['..', '.hidden', '-dash', 'a%20b', '%C3%A9', 'a'.repeat(129), 'a'.repeat(300), '%00', '%2F', '%E0%A4%A', 'semi;colon', '%3Cscript%3E', '%0A'];
const QUERY_VALUES: Readonly<Record<string, readonly string[]>> = {
  limit: ['0', '-1', '1.5', '1e3', 'abc', '1001', '', '01', '9'.repeat(30)],
  version: ['0', '-1', 'abc', '1.0', '', '9999999999', '99'],
  state: ['GONE', '', 'enabled'],
  spec: ['DES', '', 'aes_256'],
  after: ['', 'a b', '-x', 'x'.repeat(129)],
  project: ['', 'a b', '-x', 'x'.repeat(129), 'beta'],
};

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Sets `value` at `path` in a deep copy of `body` (undefined removes it). */
function withValue(body: Json, path: readonly (string | number)[], value: unknown): Json {
  const copy = structuredClone(body);
  let node: unknown = copy;
  for (const step of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[step];
  const last = path.at(-1);
  if (last === undefined) return copy;
  const parent = node as Record<string | number, unknown>;
  if (value !== undefined) {
    parent[last] = value;
    return copy;
  }
  // Removing: rebuild the parent without the property rather than deleting a computed key.
  if (Array.isArray(parent)) return withValue(body, path, null);
  const kept = Object.fromEntries(Object.entries(parent).filter(([name]) => name !== last));
  return path.length === 1 ? kept : withValue(body, path.slice(0, -1), kept);
}

/** Every path in a body: properties of objects, and the first item of arrays. */
function* leafPaths(value: unknown, path: (string | number)[] = []): Generator<{ path: (string | number)[]; value: unknown }> {
  if (path.length > 0) yield { path, value };
  if (isObject(value)) for (const [key, child] of Object.entries(value)) yield* leafPaths(child, [...path, key]);
  if (Array.isArray(value) && value.length > 0) yield* leafPaths(value[0], [...path, 0]);
}

interface OpenApi {
  readonly paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Json }> }; parameters?: { name: string; in: string }[] }>>;
}

interface RouteInfo {
  readonly route: ServedRoute;
  readonly template: Template;
  readonly bodySchema: Json | undefined;
  readonly queryNames: readonly string[];
  readonly limit: number;
}

function urlOf(pattern: string, params: Readonly<Record<string, string>> = {}, query: Readonly<Record<string, string>> = {}): string {
  const path = pattern.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => params[name] ?? `missing-${name}`);
  const search = new URLSearchParams(query).toString();
  return search === '' ? path : `${path}?${search}`;
}

/** The schema's properties and required names at `path` (object levels and array items). */
function schemaAt(schema: Json | undefined, path: readonly (string | number)[]): Json | undefined {
  let node: Json | undefined = schema;
  for (const step of path) {
    if (node === undefined) return undefined;
    if (typeof step === 'number') node = isObject(node['items']) ? node['items'] : undefined;
    else node = isObject(node['properties']) && isObject(node['properties'][step]) ? node['properties'][step] : undefined;
  }
  return node;
}

function bodyAttempts(info: RouteInfo): Attempt[] {
  const { route, template } = info;
  const url = urlOf(route.url, template.params, template.query);
  const base = { method: route.method, url, as: template.as };
  const attempts: Attempt[] = [];
  const send = (category: string, label: string, body: unknown, expect?: readonly ErrorCode[]): void => {
    attempts.push({ ...base, category, label, payload: JSON.stringify(body), contentType: JSON_TYPE, ...(expect === undefined ? {} : { expect }) });
  };
  for (const text of MALFORMED_JSON) attempts.push({ ...base, category: 'malformed JSON', label: text.slice(0, 20), payload: text, contentType: JSON_TYPE, expect: ['MALFORMED_REQUEST'] });
  for (const text of POISONED_JSON) attempts.push({ ...base, category: 'malformed JSON', label: text, payload: text, contentType: JSON_TYPE, expect: ['MALFORMED_REQUEST'] });
  const oversized = `{"pad":"${'A'.repeat(info.limit)}"}`;
  attempts.push({ ...base, category: 'oversized body', label: `${oversized.length} bytes > ${info.limit}`, payload: oversized, contentType: JSON_TYPE, expect: ['INPUT_TOO_LARGE'] });
  const body = template.body;
  if (body === undefined) {
    // Routes that declare no body: a JSON body is an unknown field, not something to ignore.
    send('body where none is declared', '{"unexpected":1}', { unexpected: 1 }, ['MALFORMED_REQUEST']);
    for (const type of CONTENT_TYPES.filter((c) => c !== undefined)) {
      attempts.push({ ...base, category: 'wrong content type', label: type, payload: 'unexpected=1', contentType: type, expect: ['UNSUPPORTED_MEDIA_TYPE'] });
    }
    return attempts;
  }
  for (const type of CONTENT_TYPES) {
    // VSSM's curl example labels its JSON as a form: accepted on /REST/v1 from non-browser clients only.
    if (template.proto === true && type === FORM) continue;
    attempts.push({ ...base, category: 'wrong content type', label: type ?? 'none', payload: JSON.stringify(body), ...(type === undefined ? {} : { contentType: type }), expect: ['UNSUPPORTED_MEDIA_TYPE'] });
  }
  if (template.proto === true) {
    for (const browser of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }]) {
      attempts.push({ ...base, category: 'wrong content type', label: `form from a browser (${Object.keys(browser).join()})`, payload: JSON.stringify(body), contentType: FORM, headers: browser, expect: ['UNSUPPORTED_MEDIA_TYPE'] });
    }
  }
  for (const text of NOT_OBJECTS) attempts.push({ ...base, category: 'not an object', label: text.slice(0, 12), payload: text, contentType: JSON_TYPE, expect: SCHEMA_ERRORS });

  const paths = [...leafPaths(body)];
  // Unknown fields at every object level (string maps such as context and tags, and a quorum request's free-form parameters, take any name).
  for (const level of [{ path: [] as (string | number)[], value: body as unknown }, ...paths]) {
    if (!isObject(level.value) || ['context', 'sourceContext', 'tags', 'parameters'].includes(String(level.path.at(-1)))) continue;
    send('unknown field', `${level.path.join('.') || 'body'}.unexpected`, withValue(body, [...level.path, 'unexpected'], 1), SCHEMA_ERRORS);
  }
  // Wrong JSON types, for each field of the template and each field the schema declares.
  const declared = Object.keys(isObject(info.bodySchema?.['properties']) ? info.bodySchema['properties'] : {}).filter((name) => !(name in body));
  const fields: { path: (string | number)[]; value: unknown }[] = [...paths, ...declared.map((name) => ({ path: [name], value: undefined }))];
  for (const { path, value } of fields) {
    const field = path.join('.');
    const inMap = path.length > 1 && ['context', 'sourceContext', 'tags'].includes(String(path.at(-2)));
    // An absent field's type comes from the schema.
    const declaredType = value === undefined ? schemaAt(info.bodySchema, path)?.['type'] : undefined;
    for (const wrong of WRONG_VALUES) {
      if (value !== undefined && jsonType(wrong) === jsonType(value) && !(jsonType(value) === 'integer' && typeof wrong === 'number')) continue;
      if (declaredType !== undefined && (declaredType === jsonType(wrong) || (declaredType === 'number' && typeof wrong === 'number'))) continue;
      // proto3 64-bit integers are digit strings or JSON integers: another in-range integer is no mistake.
      if (template.proto === true && typeof value === 'string' && /^-?[0-9]+$/.test(value) && (wrong === 7 || wrong === -1)) continue;
      // proto3: null is the field's default, so it is no mistake.
      if (template.proto === true && wrong === null) continue;
      // An integer field given another in-range integer is not a mistake; the out-of-range ones stay.
      if (typeof value === 'number' && wrong === 7) continue;
      if (inMap && typeof wrong === 'string') continue;
      send('wrong JSON type', `${field} = ${JSON.stringify(wrong)}`, withValue(body, path, wrong));
    }
    if (typeof value === 'string' && !inMap) send('wrong JSON type', `${field} = 100,001 characters`, withValue(body, path, LONG_STRING));
  }
  // Missing required fields (proto3 has none).
  if (template.proto !== true) {
    for (const { path } of [{ path: [] as (string | number)[] }, ...paths]) {
      const schema = schemaAt(info.bodySchema, path);
      const required = Array.isArray(schema?.['required']) ? (schema['required'] as string[]) : [];
      for (const name of required) send('missing field', [...path, name].join('.'), withValue(body, [...path, name], undefined), SCHEMA_ERRORS);
    }
  }
  // Bad base64 in every binary field.
  for (const { path, value } of paths) {
    const name = String(path.at(-1));
    const schema = schemaAt(info.bodySchema, path);
    const binary = template.proto === true ? PROTO_BYTES.has(name) : schema?.['pattern'] === BASE64_PATTERN;
    if (!binary || typeof value !== 'string') continue;
    for (const bad of template.proto === true ? BAD_PROTO_BASE64 : BAD_BASE64) send('bad base64', `${path.join('.')} = ${JSON.stringify(bad)}`, withValue(body, path, bad), SCHEMA_ERRORS);
  }
  // Unknown algorithm, spec, usage or key type names.
  for (const { path, value } of paths) {
    if (!ALGORITHM_FIELDS.has(String(path.at(-1))) || typeof value !== 'string') continue;
    for (const bad of BAD_ALGORITHMS) {
      if (template.proto === true && bad === '') continue;
      send('unknown algorithm', `${path.join('.')} = ${JSON.stringify(bad.slice(0, 24))}`, withValue(body, path, bad));
    }
  }
  return attempts;
}

function pathAttempts(info: RouteInfo): Attempt[] {
  const { route, template } = info;
  const attempts: Attempt[] = [];
  const payload = template.body === undefined ? {} : { payload: JSON.stringify(template.body), contentType: JSON_TYPE };
  for (const name of Object.keys(template.params ?? {})) {
    for (const bad of name === 'keyId' || name === 'tokenId' || name === 'requestId' ? UUID_PARAMS : NAME_PARAMS) {
      // Path values are inserted raw: the router decodes them, as it would a client's.
      const url = urlOf(route.url, { ...template.params, [name]: bad }, template.query);
      attempts.push({ category: 'bad path parameter', label: `${name} = ${bad.slice(0, 24)}`, method: route.method, url, as: template.as, ...payload });
    }
  }
  for (const name of info.queryNames) {
    for (const bad of QUERY_VALUES[name] ?? ['', 'x'.repeat(300)]) {
      attempts.push({ category: 'bad query parameter', label: `${name} = ${bad.slice(0, 24)}`, method: route.method, url: urlOf(route.url, template.params, { ...template.query, [name]: bad }), as: template.as, ...payload });
    }
  }
  if (info.queryNames.length > 0) {
    const url = urlOf(route.url, template.params, template.query);
    const extra = url.includes('?') ? '&' : '?';
    attempts.push({ category: 'bad query parameter', label: 'unknown parameter', method: route.method, url: `${url}${extra}unexpected=1`, as: template.as, ...payload, expect: ['MALFORMED_REQUEST'] });
    const first = info.queryNames[0] ?? 'limit';
    attempts.push({ category: 'bad query parameter', label: `${first} twice`, method: route.method, url: `${url}${extra}${first}=1&${first}=2`, as: template.as, ...payload, expect: ['MALFORMED_REQUEST'] });
  }
  return attempts;
}

function credentialAttempts(info: RouteInfo, token: string): Attempt[] {
  const { route, template } = info;
  if (template.as === 'none') return [];
  const payload = template.body === undefined ? {} : { payload: JSON.stringify(template.body), contentType: JSON_TYPE };
  const url = urlOf(route.url, template.params, template.query);
  const headers = ['Bearer', 'Bearer ', 'Basic dXJzdWxhOnBhc3N3b3Jk', 'Bearer a b', `bearer ${token}`, `Bearer ${token}x`, `Bearer ${'A'.repeat(8000)}`, `Bearer ${randomBytes(32).toString('base64url')}`, `Bearer ${token}, Bearer ${token}`];
  return headers.map((authorization) => ({
    category: 'bad credentials', label: authorization.slice(0, 16), method: route.method, url, as: 'none' as const, authorization, ...payload, expect: ['AUTH_FAILED', 'AUTH_REQUIRED'] as const,
  }));
}

/** A valid write with a malformed Idempotency-Key (too long, not printable ASCII) is refused before it runs. */
function idempotencyKeyAttempts(info: RouteInfo): Attempt[] {
  const { route, template } = info;
  const payload = template.body === undefined ? {} : { payload: JSON.stringify(template.body), contentType: JSON_TYPE };
  const url = urlOf(route.url, template.params, template.query);
  return ['k'.repeat(129), 'cl\u00e9', 'tab\tkey'].map((key) => ({
    category: 'bad idempotency key', label: key.slice(0, 16), method: route.method, url, as: template.as, headers: { 'idempotency-key': key }, ...payload, expect: ['MALFORMED_REQUEST'] as const,
  }));
}

// ---------------------------------------------------------------------------------------------
// Well-formed requests that are wrong: key usage, algorithms, altered inputs, unknown keys.
// ---------------------------------------------------------------------------------------------
function alter(base64: string, index: number): string {
  const bytes = Buffer.from(base64, 'base64');
  const at = index < 0 ? bytes.length + index : index;
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return bytes.toString('base64');
}

function truncate(base64: string, length: number): string {
  return Buffer.from(base64, 'base64').subarray(0, length).toString('base64');
}

function semanticAttempts(f: Fixture): Attempt[] {
  const attempts: Attempt[] = [];
  const post = (category: string, label: string, url: string, body: Json, expect: readonly ErrorCode[] | 'invalid'): void => {
    attempts.push({
      category, label, method: 'POST', url, as: 'ursula', payload: JSON.stringify(body), contentType: JSON_TYPE,
      ...(expect === 'invalid' ? { answersInvalid: true } : { expect }),
    });
  };
  const usage: readonly ErrorCode[] = ['KEY_USAGE_NOT_ALLOWED', 'INCOMPATIBLE_ALGORITHM'];
  const k = f.keys;
  // Wrong key usage or algorithm for the key.
  post('wrong key usage', 'encrypt under a signing key', '/v1/crypto/encrypt', { keyId: k.ec.id, plaintext: MESSAGE }, usage);
  post('wrong key usage', 'encrypt under a wrapping key', '/v1/crypto/encrypt', { keyId: k.wrap.id, plaintext: MESSAGE }, usage);
  post('wrong key usage', 'encrypt under a MAC key', '/v1/crypto/encrypt/batch', { items: [{ keyId: k.mac.id, plaintext: MESSAGE }] }, usage);
  post('wrong key usage', 'data key under an RSA key', '/v1/crypto/data-key', { keyId: k.rsa.id }, usage);
  post('wrong key usage', 'data key under a signing key', '/v1/crypto/data-key', { keyId: k.ec.id }, usage);
  post('wrong key usage', 'sign with an AES key', '/v1/crypto/sign', { keyId: k.aes.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE }, usage);
  post('wrong key usage', 'sign with a MAC key', '/v1/crypto/sign', { keyId: k.mac.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE }, usage);
  post('unknown algorithm', 'sign with a MAC algorithm', '/v1/crypto/sign', { keyId: k.ec.id, algorithm: 'HMAC_SHA_256', message: MESSAGE }, ['UNSUPPORTED_ALGORITHM']);
  post('wrong key usage', 'sign EC with an RSA algorithm', '/v1/crypto/sign', { keyId: k.ec.id, algorithm: 'RSASSA_PSS_SHA_256', message: MESSAGE }, usage);
  post('wrong key usage', 'verify with an AES key', '/v1/crypto/verify', { keyId: k.aes.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE, signature: f.signature }, usage);
  post('wrong key usage', 'MAC with a signing key', '/v1/crypto/mac', { keyId: k.ec.id, message: MESSAGE }, usage);
  post('wrong key usage', 'MAC with the wrong hash', '/v1/crypto/mac', { keyId: k.mac.id, message: MESSAGE, algorithm: 'HMAC_SHA_512' }, usage);
  post('wrong key usage', 'verify a MAC with an AES key', '/v1/crypto/verify-mac', { keyId: k.aes.id, message: MESSAGE, mac: f.mac }, usage);
  post('wrong key usage', 're-encrypt to a signing key', '/v1/crypto/re-encrypt', { ciphertext: f.aesCiphertext, sourceContext: CONTEXT, keyId: k.ec.id }, usage);
  post('wrong key usage', 'create EC for encryption', '/v1/keys', { project: 'alpha', name: 'odd', spec: 'EC_P256', usage: 'ENCRYPT_DECRYPT' }, usage);
  post('wrong key usage', 'create HMAC for signing', '/v1/keys', { project: 'alpha', name: 'odd', spec: 'HMAC_256', usage: 'SIGN_VERIFY' }, usage);
  post('wrong key usage', 'import under a non-wrapping key', '/v1/keys', { project: 'alpha', name: 'odd', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', import: { wrappingKeyId: k.rsa.id, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappedMaterial: f.wrappedMaterial } }, usage);
  post('wrong key usage', 'import an EC key as AES material', '/v1/keys', { project: 'alpha', name: 'odd', spec: 'EC_P256', usage: 'SIGN_VERIFY', import: { wrappingKeyId: k.wrap.id, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappedMaterial: f.wrappedMaterial } }, ['INVALID_KEY_MATERIAL']);
  post('wrong key usage', 'VSSM: symmetric encrypt with a signing key', '/REST/v1/symmetric/encrypt', { input: MESSAGE, keyName: k.ec.name, algorithm: 'AES/GCM/NoPadding' }, usage);
  post('wrong key usage', 'VSSM: RSA-OAEP with an AES key', '/REST/v1/asymmetric/encrypt', { input: MESSAGE, keyName: k.aes.name, algorithm: 'RSA-OAEP/SHA256' }, usage);
  post('wrong key usage', 'VSSM: sign with an AES key', '/REST/v1/asymmetric/sign', { input: MESSAGE, keyName: k.aes.name, algorithm: 'SHA256withECDSA' }, usage);
  post('wrong key usage', 'VSSM: HMAC with an AES key', '/REST/v1/hmac/create', { input: MESSAGE, keyName: k.aes.name, algorithm: 'SHA256' }, usage);
  post('wrong key usage', 'VSSM: decrypt under a signing key', '/REST/v1/symmetric/decrypt', { input: f.aesCiphertext, keyName: k.ec.name, algorithm: 'AES/GCM/NoPadding' }, usage);
  attempts.push({ category: 'wrong key usage', label: 'public key of an AES key', method: 'GET', url: `/v1/keys/${k.aes.id}/public-key`, as: 'ursula', expect: ['INCOMPATIBLE_ALGORITHM'] });
  // Digests and message/digest mix-ups.
  post('wrong digest', 'digest of the wrong length', '/v1/crypto/sign', { keyId: k.ec.id, algorithm: 'ECDSA_SHA_256', digest: randomBytes(20).toString('base64') }, ['INVALID_DIGEST']);
  post('wrong digest', 'digest with Ed25519', '/v1/crypto/sign', { keyId: k.ed.id, algorithm: 'ED25519', digest: randomBytes(32).toString('base64') }, ['DIGEST_NOT_SUPPORTED']);
  post('wrong digest', 'message and digest', '/v1/crypto/sign', { keyId: k.ec.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE, digest: randomBytes(32).toString('base64') }, ['INVALID_ARGUMENT']);
  post('wrong digest', 'neither message nor digest', '/v1/crypto/sign', { keyId: k.ec.id, algorithm: 'ECDSA_SHA_256' }, ['INVALID_ARGUMENT']);
  post('wrong digest', 'VSSM: hashed of the wrong length', '/REST/v1/asymmetric/sign', { hashed: randomBytes(20).toString('base64'), keyName: k.ec.name, algorithm: 'SHA256withECDSA' }, ['INVALID_DIGEST']);
  // Truncated and altered ciphertexts: one vague answer whatever was changed.
  const decryptFailed: readonly ErrorCode[] = ['CRYPTO_DECRYPT_FAILED'];
  const ct = f.aesCiphertext;
  const length = Buffer.from(ct, 'base64').length;
  for (const cut of [1, 2, 8, 20, 30, length - 17, length - 1]) {
    post('altered ciphertext', `AES truncated to ${cut}`, '/v1/crypto/decrypt', { ciphertext: truncate(ct, cut), context: CONTEXT }, decryptFailed);
  }
  for (const at of [0, 1, 2, 5, 12, 20, 30, -17, -1]) {
    post('altered ciphertext', `AES byte ${at} flipped`, '/v1/crypto/decrypt', { ciphertext: alter(ct, at), context: CONTEXT }, decryptFailed);
  }
  post('altered ciphertext', 'AES with a byte appended', '/v1/crypto/decrypt', { ciphertext: Buffer.concat([Buffer.from(ct, 'base64'), Buffer.from([0])]).toString('base64'), context: CONTEXT }, decryptFailed);
  post('altered ciphertext', 'AES with the wrong context', '/v1/crypto/decrypt', { ciphertext: ct, context: { purpose: 'other' } }, decryptFailed);
  post('altered ciphertext', 'AES without its context', '/v1/crypto/decrypt', { ciphertext: ct }, decryptFailed);
  post('altered ciphertext', 'AES pinned to another key', '/v1/crypto/decrypt', { ciphertext: ct, context: CONTEXT, keyId: k.rsa.id }, decryptFailed);
  post('altered ciphertext', 'random bytes', '/v1/crypto/decrypt', { ciphertext: randomBytes(64).toString('base64') }, decryptFailed);
  post('altered ciphertext', 'AES altered, in a batch', '/v1/crypto/decrypt/batch', { items: [{ ciphertext: alter(ct, -1), context: CONTEXT }] }, decryptFailed);
  post('altered ciphertext', 'AES altered, re-encrypt', '/v1/crypto/re-encrypt', { ciphertext: alter(ct, -1), sourceContext: CONTEXT, keyId: k.aes.id }, decryptFailed);
  post('altered ciphertext', 'AES altered, re-encrypt batch', '/v1/crypto/re-encrypt/batch', { items: [{ ciphertext: alter(ct, 10), sourceContext: CONTEXT, keyId: k.aes.id }] }, decryptFailed);
  const rsaLength = Buffer.from(f.rsaCiphertext, 'base64').length;
  for (const at of [0, 3, 30, -1]) post('altered ciphertext', `RSA byte ${at} flipped`, '/v1/crypto/decrypt', { ciphertext: alter(f.rsaCiphertext, at) }, decryptFailed);
  post('altered ciphertext', 'RSA truncated', '/v1/crypto/decrypt', { ciphertext: truncate(f.rsaCiphertext, rsaLength - 1) }, decryptFailed);
  post('altered ciphertext', 'VSSM: AES altered', '/REST/v1/symmetric/decrypt', { input: alter(ct, -1), keyName: k.aes.name, algorithm: 'AES/GCM/NoPadding' }, decryptFailed);
  post('altered ciphertext', 'VSSM: AES truncated', '/REST/v1/symmetric/decrypt', { input: truncate(ct, 10), keyName: k.aes.name, algorithm: 'AES/GCM/NoPadding' }, decryptFailed);
  post('altered ciphertext', 'VSSM: RSA altered', '/REST/v1/asymmetric/decrypt', { input: alter(f.rsaCiphertext, -1), keyName: k.rsa.name, algorithm: 'RSA-OAEP/SHA256' }, decryptFailed);
  post('altered ciphertext', 'VSSM: RSA truncated', '/REST/v1/asymmetric/decrypt', { input: truncate(f.rsaCiphertext, 100), keyName: k.rsa.name, algorithm: 'RSA-OAEP/SHA256' }, decryptFailed);
  post('altered ciphertext', 'VSSM: RSA, other hash', '/REST/v1/asymmetric/decrypt', { input: f.rsaCiphertext, keyName: k.rsa.name, algorithm: 'RSA-OAEP/SHA512' }, decryptFailed);
  post('altered ciphertext', 'import of altered wrapped material', '/v1/keys', { project: 'alpha', name: 'odd', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', import: { wrappingKeyId: k.wrap.id, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappedMaterial: alter(f.wrappedMaterial, -1) } }, decryptFailed);
  // Altered signatures and MACs are answered valid:false, never an error and never true.
  post('altered signature', 'signature flipped', '/v1/crypto/verify', { keyId: k.ec.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE, signature: alter(f.signature, -1) }, 'invalid');
  post('altered signature', 'signature truncated', '/v1/crypto/verify', { keyId: k.ec.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE, signature: truncate(f.signature, 10) }, 'invalid');
  post('altered signature', 'RAW format for a DER signature', '/v1/crypto/verify', { keyId: k.ec.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE, signature: f.signature, format: 'RAW' }, 'invalid');
  post('altered signature', 'MAC flipped', '/v1/crypto/verify-mac', { keyId: k.mac.id, message: MESSAGE, mac: alter(f.mac, 0) }, 'invalid');
  post('altered signature', 'MAC truncated', '/v1/crypto/verify-mac', { keyId: k.mac.id, message: MESSAGE, mac: truncate(f.mac, 16) }, 'invalid');
  post('altered signature', 'VSSM: signature flipped', '/REST/v1/asymmetric/verify', { input: MESSAGE, signature: alter(f.signature, -1), keyName: k.ec.name, algorithm: 'SHA256withECDSA' }, 'invalid');
  post('altered signature', 'VSSM: HMAC flipped', '/REST/v1/hmac/verify', { input: MESSAGE, hmac: alter(f.mac, 3), keyName: k.mac.name, algorithm: 'SHA256' }, 'invalid');
  // Unknown keys, versions and values out of range.
  post('unknown key', 'random key id', '/v1/crypto/encrypt', { keyId: randomUUID(), plaintext: MESSAGE }, ['KEY_NOT_FOUND']);
  post('unknown key', 'unknown name', '/v1/crypto/sign', { keyId: 'alpha/nothing', algorithm: 'ECDSA_SHA_256', message: MESSAGE }, ['KEY_NOT_FOUND']);
  post('unknown key', 'unknown project', '/v1/crypto/mac', { keyId: 'nowhere/nothing', message: MESSAGE }, ['KEY_NOT_FOUND']);
  post('unknown key', 'VSSM: unknown name', '/REST/v1/hmac/create', { input: MESSAGE, keyName: 'nothing', algorithm: 'SHA256' }, ['KEY_NOT_FOUND']);
  post('unknown key', 'VSSM: key name with a slash', '/REST/v1/hmac/create', { input: MESSAGE, keyName: `alpha/${k.mac.name}`, algorithm: 'SHA256' }, ['INVALID_ARGUMENT']);
  post('unknown key', 'VSSM: empty key name', '/REST/v1/symmetric/encrypt', { input: MESSAGE, algorithm: 'AES/GCM/NoPadding' }, ['INVALID_ARGUMENT']);
  post('unknown key', 'verify a version that does not exist', '/v1/crypto/verify', { keyId: k.ec.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE, signature: f.signature, keyVersion: 99 }, ['KEY_VERSION_NOT_FOUND']);
  attempts.push({ category: 'unknown key', label: 'public key of version 99', method: 'GET', url: `/v1/keys/${k.ec.id}/public-key?version=99`, as: 'ursula', expect: ['KEY_VERSION_NOT_FOUND'] });
  post('out of range', 'min decrypt version past current', `/v1/keys/${k.aes.id}/min-decrypt-version`, { version: 2 }, ['INVALID_ARGUMENT']);
  post('out of range', 'waiting 6 days', `/v1/keys/${k.aes.id}/schedule-deletion`, { waitingDays: 6 }, ['MALFORMED_REQUEST']);
  post('out of range', 'random 0 bytes', '/v1/crypto/random', { bytes: 0 }, ['MALFORMED_REQUEST']);
  post('out of range', 'random 1025 bytes', '/v1/crypto/random', { bytes: 1025 }, ['MALFORMED_REQUEST']);
  post('out of range', 'data key of 15 bytes', '/v1/crypto/data-key', { keyId: k.aes.id, bytes: 15 }, ['MALFORMED_REQUEST']);
  post('out of range', 'empty batch', '/v1/crypto/sign/batch', { items: [] }, ['MALFORMED_REQUEST']);
  post('out of range', '1001 items', '/v1/crypto/mac/batch', { items: Array.from({ length: 1001 }, () => ({ keyId: k.mac.id, message: MESSAGE })) }, ['MALFORMED_REQUEST']);
  post('out of range', '51 tags', '/v1/keys', { project: 'alpha', name: 'odd', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', tags: Object.fromEntries(Array.from({ length: 51 }, (_v, i) => [`t${i}`, 'x'])) }, SCHEMA_ERRORS);
  post('out of range', 'a tag value of 10,000 characters', '/v1/keys', { project: 'alpha', name: 'odd', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', tags: { t: 'x'.repeat(10_000) } }, SCHEMA_ERRORS);
  post('out of range', 'a context of 65 pairs', '/v1/crypto/encrypt', { keyId: k.aes.id, plaintext: MESSAGE, context: Object.fromEntries(Array.from({ length: 65 }, (_v, i) => [`k${i}`, 'v'])) }, ['INVALID_ARGUMENT']);
  post('out of range', 'a context key that is empty', '/v1/crypto/data-key', { keyId: k.aes.id, context: { '': 'v' } }, ['INVALID_ARGUMENT']);
  post('out of range', 'a context value of 100,000 characters', '/v1/crypto/re-encrypt', { ciphertext: f.aesCiphertext, sourceContext: CONTEXT, keyId: k.aes.id, context: { a: LONG_STRING } }, ['INVALID_ARGUMENT']);
  attempts.push({ category: 'out of range', label: 'exportable turned on', method: 'PATCH', url: `/v1/keys/${k.aes.id}`, as: 'ursula', payload: '{"exportable":true}', contentType: JSON_TYPE, expect: ['MALFORMED_REQUEST'] });
  post('out of range', 'key in a project of no one', '/v1/keys', { project: 'nowhere', name: 'odd', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }, ['ACCESS_DENIED']);
  post('out of range', 'key name taken', '/v1/keys', { project: 'alpha', name: k.aes.name, spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }, ['KEY_ALREADY_EXISTS']);
  post('out of range', 'VSSM: 64-bit key size past 2^53', '/REST/v1/admin/generatekey', { ...ADMIN, keyName: 'vssm-new', keyType: 'ASYMMETRIC', keySpec: 'EC', keySize: '99999999999999999999' }, ['INVALID_ARGUMENT']);
  post('out of range', 'VSSM: RSA 1024', '/REST/v1/admin/generatekey', { ...ADMIN, keyName: 'vssm-new', keyType: 'ASYMMETRIC', keySpec: 'RSA', keySize: 1024 }, ['UNSUPPORTED_ALGORITHM']);
  post('out of range', 'VSSM: inject 16 bytes as AES', '/REST/v1/admin/injectkey', { ...ADMIN, keyName: 'vssm-injected', keyType: 'SYMMETRIC', key: randomBytes(16).toString('base64') }, ['UNSUPPORTED_ALGORITHM']);
  post('out of range', 'VSSM: inject garbage as PKCS#8', '/REST/v1/admin/injectkey', { ...ADMIN, keyName: 'vssm-injected', keyType: 'ASYMMETRIC', key: randomBytes(100).toString('base64') }, ['INVALID_KEY_MATERIAL']);
  post('out of range', 'VSSM: inject under a taken name', '/REST/v1/admin/injectkey', { ...ADMIN, keyName: k.aes.name, keyType: 'SYMMETRIC', key: randomBytes(32).toString('base64') }, ['KEY_ALREADY_EXISTS']);
  post('out of range', 'VSSM: field given by both names', '/REST/v1/hmac/create', { input: MESSAGE, key_name: k.mac.name, keyName: k.mac.name, algorithm: 'SHA256' }, ['MALFORMED_REQUEST']);
  post('out of range', 'principal in a project that does not exist', '/v1/principals', { name: 'newcomer', role: 'user', projects: ['nowhere'] }, ['PROJECT_NOT_FOUND', 'INVALID_ARGUMENT']);
  post('out of range', 'principal with a short password', '/v1/principals', { name: 'newcomer', role: 'user', projects: ['alpha'], password: 'short' }, ['INVALID_ARGUMENT']);
  post('out of range', 'principal name taken', '/v1/principals', { name: 'ursula', role: 'user' }, ['PRINCIPAL_ALREADY_EXISTS']);
  post('out of range', 'role of no kind', '/v1/principals', { name: 'newcomer', role: 'root' }, ['MALFORMED_REQUEST']);
  return attempts.map((a) => (a.as === 'ursula' && (a.url.startsWith('/v1/principals') || a.url === '/v1/projects') ? { ...a, as: 'olivia' as const } : a));
}

// ---------------------------------------------------------------------------------------------
// Running and judging.
// ---------------------------------------------------------------------------------------------
/** A message that shows code or machine internals: a stack frame, a path, a file name, an error class. */
const LEAK = /\n\s+at |\bat [\w.<>]+ \(|\/(?:work|tmp|home|usr|var|etc|proc)\/|node_modules|file:\/\/|\.(?:ts|js|mjs|cjs)\b|\b(?:Type|Range|Syntax|Reference)Error\b|ENOENT|EACCES|sqlite|SQLITE|Unexpected token|prevHash/;

function problemWithError(error: unknown, status: number, expect: readonly ErrorCode[] | undefined): string | undefined {
  if (!isObject(error) || Object.keys(error).sort().join() !== 'code,message') return `error is not {code, message}: ${JSON.stringify(error)}`;
  const { code, message } = error;
  if (typeof code !== 'string' || !(code in CATALOGUE)) return `code ${String(code)} is not in the catalogue`;
  const catalogued = CATALOGUE[code as ErrorCode].status;
  if (status !== 0 && catalogued !== status) return `${code} answered with HTTP ${status}, the catalogue says ${catalogued}`;
  if (catalogued >= 500) return `${code}: a 5xx`;
  if (typeof message !== 'string' || message === '') return `${code} without a message`;
  if (LEAK.test(message)) return `${code}: the message shows internals: ${message.slice(0, 200)}`;
  if (expect !== undefined && !expect.includes(code as ErrorCode)) return `expected ${expect.join(' or ')}, got ${code} (${message.slice(0, 120)})`;
  return undefined;
}

/** undefined when the reply is the right refusal; otherwise what is wrong with it. */
function judge(attempt: Attempt, status: number, contentType: string, text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `HTTP ${status}, body is not JSON: ${text.slice(0, 120)}`;
  }
  if (!isObject(body)) return `HTTP ${status}, body is not an object`;
  const batch = attempt.url.split('?')[0]?.endsWith('/batch') === true;
  if (status >= 200 && status < 300) {
    if (attempt.answersInvalid === true) return body['valid'] === false ? undefined : `expected valid:false, got ${text.slice(0, 120)}`;
    const results = body['results'];
    if (!batch || !Array.isArray(results) || results.length === 0) return `accepted with HTTP ${status}: ${text.slice(0, 160)}`;
    for (const result of results) {
      if (!isObject(result) || result['ok'] !== false || Object.keys(result).sort().join() !== 'error,ok') return `batch item accepted: ${JSON.stringify(result).slice(0, 160)}`;
      const problem = problemWithError(result['error'], 0, attempt.expect);
      if (problem !== undefined) return `batch item: ${problem}`;
    }
    return undefined;
  }
  if (!contentType.startsWith('application/json')) return `HTTP ${status} with content-type ${contentType}`;
  if (Object.keys(body).join() !== 'error') return `HTTP ${status}, body has more than error: ${text.slice(0, 160)}`;
  if (status >= 500) return `HTTP ${status}: ${text.slice(0, 200)}`;
  return problemWithError(body['error'], status, attempt.expect);
}

/** What differs between two snapshots of a list of named records (or the whole value otherwise). */
function changes(before: unknown, after: unknown): string {
  if (!Array.isArray(before) || !Array.isArray(after)) return `${JSON.stringify(before)} became ${JSON.stringify(after)}`;
  const named = (list: unknown[]) => new Map(list.filter(isObject).map((item) => [String(item['name']), item]));
  const [was, now] = [named(before), named(after)];
  return [
    ...[...now.keys()].filter((n) => !was.has(n)).map((n) => `${n} created`),
    ...[...was.keys()].filter((n) => !now.has(n)).map((n) => `${n} removed`),
    ...[...now].filter(([n, item]) => was.has(n) && !isDeepStrictEqual(item, was.get(n))).map(([n, item]) => `${n} changed to ${JSON.stringify(item).slice(0, 300)}`),
  ].join('; ');
}

interface Snapshot {
  readonly pki: unknown;
  readonly keys: unknown;
  readonly counts: unknown;
  readonly principals: unknown;
  readonly projects: unknown;
}

/** A request left unanswered this long is a hang (the slowest legitimate one here is an RSA-3072 generation). */
const ANSWER_WITHIN_MS = 15_000;

class Node {
  readonly server: TestServer;
  readonly tokens = new Map<Who, string>();
  #keys = -1;

  constructor(server: TestServer) {
    this.server = server;
  }

  async inject(method: string, url: string, headers: Record<string, string>, payload?: string): Promise<{ status: number; contentType: string; text: string }> {
    const response = await this.server.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
    return { status: response.statusCode, contentType: response.headers['content-type'] ?? '', text: response.body };
  }

  async json(who: Who, method: string, url: string, body?: unknown): Promise<Json> {
    const token = this.tokens.get(who);
    const reply = await this.inject(method, url, {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': JSON_TYPE }),
    }, body === undefined ? undefined : JSON.stringify(body));
    if (reply.status >= 300) throw new Error(`${method} ${url}: ${reply.status} ${reply.text}`);
    return reply.text === '' ? {} : (JSON.parse(reply.text) as Json);
  }

  async login(who: Exclude<Who, 'none'>): Promise<void> {
    const name = who === 'spare' ? 'ursula' : who;
    const reply = await this.json('none', 'POST', '/v1/auth/login', { name, password: PASSWORD });
    this.tokens.set(who, String(reply['token']));
  }

  /** Sends one attempt; a node it sealed is unsealed again (the attempt is reported by its answer). */
  async run(attempt: Attempt): Promise<string | undefined> {
    const token = this.tokens.get(attempt.as);
    const headers: Record<string, string> = {
      ...attempt.headers,
      ...(attempt.authorization !== undefined ? { authorization: attempt.authorization } : token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(attempt.contentType === undefined ? {} : { 'content-type': attempt.contentType }),
    };
    let problem: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        resolve(undefined);
      }, ANSWER_WITHIN_MS);
    });
    try {
      const reply = await Promise.race([this.inject(attempt.method, attempt.url, headers, attempt.payload), hung]);
      problem = reply === undefined ? `no answer within ${ANSWER_WITHIN_MS} ms` : judge(attempt, reply.status, reply.contentType, reply.text);
    } catch (error) {
      problem = `the request threw: ${String(error)}`;
    } finally {
      clearTimeout(timer);
    }
    // Nothing a refused request does may create or destroy a key: checked after each one, to name it.
    const keys = await this.keyCount();
    if (keys !== this.#keys) problem = `${problem ?? 'answered correctly'}, but the node now holds ${keys} keys, not ${this.#keys}`;
    this.#keys = keys;
    // A logout that should have been refused ended the spare token: take another for what follows.
    if (attempt.as === 'spare' && problem !== undefined) await this.login('spare');
    if (this.server.node.state !== 'UNSEALED') {
      problem = `${problem ?? 'answered correctly'}, but the node is now ${this.server.node.state}`;
      await unsealWith(this.server.node, this.server.custodian);
      for (const who of ['olivia', 'ursula', 'spare'] as const) await this.login(who);
    }
    return problem;
  }

  /** Keys in the store, every state; read below the API, so unaudited. */
  async keyCount(): Promise<number> {
    const { byState } = await this.server.services.keys.countByState(100_000);
    return Object.values(byState).reduce((sum, n) => sum + n, 0);
  }

  async snapshot(): Promise<Snapshot> {
    this.#keys = await this.keyCount();
    // Every key is in alpha (the VSSM routes use the caller's default project, alpha, too).
    const keys = ((await this.json('ursula', 'GET', '/v1/keys?project=alpha&limit=1000'))['keys'] as Json[]).map(({ updatedAt: _u, ...rest }) => rest);
    const cas = (await this.json('ursula', 'GET', '/v1/pki/cas'))['cas'] as Json[];
    const pki = await Promise.all(cas.map(async (ca) => ({
      caId: ca['caId'], name: ca['name'],
      issued: (await this.json('ursula', 'GET', `/v1/pki/cas/${String(ca['caId'])}/certificates`))['certificates'],
      crlNumber: (await this.json('ursula', 'GET', `/v1/pki/cas/${String(ca['caId'])}/crl`))['crlNumber'],
      keyCertificates: ((await this.json('ursula', 'GET', `/v1/keys/${String(ca['keyId'])}/certificates`))['certificates'] as Json[]).map((c) => c['certificateId']),
    })));
    return {
      pki,
      keys,
      counts: await this.server.services.keys.countByState(100_000),
      principals: ((await this.json('olivia', 'GET', '/v1/principals?limit=1000'))['principals'] as Json[]).map(({ updatedAt: _u, ...rest }) => rest),
      projects: (await this.json('olivia', 'GET', '/v1/projects?limit=1000'))['projects'],
    };
  }
}

/** A CA on the ed key that issued the ec key's certificate (attached) and the ed key's own time-stamping certificate (attached). */
async function pkiFixture(node: Node, ecKey: string, edKey: string): Promise<Fixture['pki']> {
  const ca = await node.json('ursula', 'POST', '/v1/pki/cas', { name: 'fixture-ca', key: edKey, subject: 'CN=Fixture CA' });
  const caId = String(ca['caId']);
  const csr = String((await node.json('ursula', 'POST', `/v1/keys/${ecKey}/csr`, { subject: 'CN=fixture', extendedKeyUsage: ['codeSigning'] }))['csr']);
  const issued = await node.json('ursula', 'POST', `/v1/pki/cas/${caId}/issue`, { csr });
  const certificatePem = `${String(issued['certificate'])}${String(issued['chain'])}`;
  const attached = await node.json('ursula', 'POST', `/v1/keys/${ecKey}/certificates`, { certificate: certificatePem });
  // The ed key is also a TSA: its own CA issues it a time-stamping certificate.
  const tsaCsr = String((await node.json('ursula', 'POST', `/v1/keys/${edKey}/csr`, { subject: 'CN=fixture tsa', extendedKeyUsage: ['timeStamping'] }))['csr']);
  const tsa = await node.json('ursula', 'POST', `/v1/pki/cas/${caId}/issue`, { csr: tsaCsr });
  await node.json('ursula', 'POST', `/v1/keys/${edKey}/certificates`, { certificate: `${String(tsa['certificate'])}${String(tsa['chain'])}` });
  return { caId, serialNumber: String(issued['serialNumber']), csr, certificateId: String(attached['certificateId']), certificatePem };
}

/** A DER TimeStampReq for SHA-256 of "release 1.2.3" with certReq, as `openssl ts -query -no_nonce` makes. */
const TIME_STAMP_QUERY = buildTimeStampQuery({ data: Buffer.from('release 1.2.3') }, { nonce: false });

async function buildNode(t: TestContext): Promise<{ node: Node; fixture: Fixture }> {
  const server = await openTestServer(t);
  const node = new Node(server);
  node.tokens.set('olivia', await server.login('olivia'));
  node.tokens.set('ursula', await createPrincipal(server, 'ursula', 'user', ['alpha']));
  await node.login('spare');
  await node.json('olivia', 'POST', '/v1/projects', { name: 'empty' });
  await node.json('olivia', 'POST', '/v1/principals', { name: 'victim', role: 'user', projects: ['alpha'] });
  const create = async (name: string, spec: string, usage: string) => ({ id: String((await node.json('ursula', 'POST', '/v1/keys', { project: 'alpha', name, spec, usage }))['id']), name });
  const keys = {
    aes: await create('aes', 'AES_256', 'ENCRYPT_DECRYPT'),
    rsa: await create('rsa', 'RSA_2048', 'ENCRYPT_DECRYPT'),
    ec: await create('ec', 'EC_P256', 'SIGN_VERIFY'),
    mac: await create('mac', 'HMAC_256', 'GENERATE_VERIFY_MAC'),
    wrap: await create('wrap', 'RSA_2048', 'WRAP_UNWRAP'),
    ed: await create('ed', 'ED25519', 'SIGN_VERIFY'),
    victim: await create('victim', 'AES_256', 'ENCRYPT_DECRYPT'),
  };
  const pem = String((await node.json('ursula', 'GET', `/v1/keys/${keys.wrap.id}/public-key`))['pem']);
  const fixture: Fixture = {
    keys,
    aesCiphertext: String((await node.json('ursula', 'POST', '/v1/crypto/encrypt', { keyId: keys.aes.id, plaintext: MESSAGE, context: CONTEXT }))['ciphertext']),
    rsaCiphertext: String((await node.json('ursula', 'POST', '/v1/crypto/encrypt', { keyId: keys.rsa.id, plaintext: MESSAGE, algorithm: 'RSAES_OAEP_SHA_256' }))['ciphertext']),
    signature: String((await node.json('ursula', 'POST', '/v1/crypto/sign', { keyId: keys.ec.id, algorithm: 'ECDSA_SHA_256', message: MESSAGE }))['signature']),
    mac: String((await node.json('ursula', 'POST', '/v1/crypto/mac', { keyId: keys.mac.id, message: MESSAGE }))['mac']),
    wrappedMaterial: publicEncrypt({ key: pem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32)).toString('base64'),
    pki: await pkiFixture(node, keys.ec.id, keys.ed.id),
  };
  return { node, fixture };
}

async function routeInfos(node: Node, fixture: Fixture): Promise<{ infos: RouteInfo[]; missing: string[] }> {
  const openapi = (await node.json('none', 'GET', '/v1/openapi.json')) as unknown as OpenApi;
  const infos: RouteInfo[] = [];
  const missing: string[] = [];
  for (const route of explicitRoutes(node.server.app)) {
    const key = routeKey(route);
    const make = TEMPLATES[key];
    if (make === undefined) {
      missing.push(key);
      continue;
    }
    const operation = openapi.paths[route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[route.method.toLowerCase()];
    const bodySchema = operation?.requestBody?.content[JSON_TYPE]?.schema;
    const queryNames = (operation?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    const limit = route.url.endsWith('/batch') ? CONFIG_DEFAULTS.batchBodyBytes
      : route.url === '/REST/v1/admin/restorebackup' ? restoreBackupBodyBytes(MAX_INLINE_BACKUP_BYTES, CONFIG_DEFAULTS.bodyBytes) : CONFIG_DEFAULTS.bodyBytes;
    for (const variant of [make, VARIANTS[key]]) {
      if (variant !== undefined) infos.push({ route, template: variant(fixture), bodySchema, queryNames, limit });
    }
  }
  return { infos, missing };
}

/** Whether another route of `method` serves this concrete path (GET /v1/keys/import is GET /v1/keys/:keyId). */
function servedByPattern(node: Node, method: string, path: string): boolean {
  return explicitRoutes(node.server.app).some((route) => route.method === method
    && new RegExp(`^${route.url.split('/').map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`).test(path));
}

function wrongMethods(node: Node, info: RouteInfo): Attempt[] {
  const url = urlOf(info.route.url, info.template.params, info.template.query);
  const path = url.split('?')[0] ?? url;
  return ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
    .filter((method) => !node.server.app.hasRoute({ method, url: info.route.url }) && !servedByPattern(node, method, path))
    .map((method) => ({ category: 'wrong method', label: method, method, url, as: info.template.as, expect: ['METHOD_NOT_ALLOWED'] as const }));
}

describe('bad input', () => {
  it('gets a 4xx catalogue error on every route, never a 5xx or a leak, and changes nothing', { timeout: 600_000 }, async (t) => {
    const { node, fixture } = await buildNode(t);
    const { infos, missing } = await routeInfos(node, fixture);
    assert.deepEqual(missing, [], 'routes without a bad-input template');
    const before = await node.snapshot();

    const attempts: Attempt[] = [];
    for (const info of infos) {
      if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(info.route.method)) attempts.push(...bodyAttempts(info), ...idempotencyKeyAttempts(info));
      attempts.push(...pathAttempts(info), ...credentialAttempts(info, node.tokens.get('ursula') ?? ''), ...wrongMethods(node, info));
    }
    attempts.push(...semanticAttempts(fixture));

    const problems: string[] = [];
    const perCategory = new Map<string, number>();
    for (const attempt of attempts) {
      perCategory.set(attempt.category, (perCategory.get(attempt.category) ?? 0) + 1);
      if (process.env['BAD_INPUT_TRACE'] !== undefined) process.stderr.write(`${attempt.category} ${attempt.method} ${attempt.url.slice(0, 80)} ${attempt.label}\n`);
      const problem = await node.run(attempt);
      if (problem !== undefined) problems.push(`[${attempt.category}] ${attempt.method} ${attempt.url.slice(0, 90)} (${attempt.label}): ${problem}`);
    }
    t.diagnostic(`${attempts.length} bad requests over ${new Set(infos.map((i) => routeKey(i.route))).size} routes: ${[...perCategory].map(([c, n]) => `${c} ${n}`).join(', ')}`);

    // The node still serves, and nothing any refused request touched has changed.
    const after = await node.snapshot();
    const encrypted = await node.json('ursula', 'POST', '/v1/crypto/decrypt', { ciphertext: fixture.aesCiphertext, context: CONTEXT });
    assert.equal(encrypted['plaintext'], MESSAGE);
    for (const part of ['keys', 'counts', 'principals', 'projects', 'pki'] as const) {
      if (!isDeepStrictEqual(after[part], before[part])) problems.push(`[state changed] ${part}: ${changes(before[part], after[part])}`);
    }
    assert.equal(problems.length, 0, `${problems.length} problems:\n${problems.join('\n')}`);
  });

  it('while sealed or uninitialised, answers every route with a 4xx or DOMAIN_SEALED / DOMAIN_UNINITIALIZED, never another 5xx', { timeout: 120_000 }, async (t) => {
    const problems: string[] = [];
    for (const state of ['sealed', 'uninitialized'] as const) {
      const server = await openTestServer(t, { state });
      const node = new Node(server);
      const allowed: ErrorCode = state === 'sealed' ? 'DOMAIN_SEALED' : 'DOMAIN_UNINITIALIZED';
      for (const route of explicitRoutes(server.app)) {
        const url = urlOf(route.url, { keyId: randomUUID(), name: 'someone', project: 'alpha', principal: 'someone' });
        const hasBody = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method);
        for (const payload of hasBody ? ['{', '{"unexpected":1}', '[]'] : [undefined]) {
          const reply = await node.inject(route.method, url, { authorization: 'Bearer x', ...(payload === undefined ? {} : { 'content-type': JSON_TYPE }) }, payload);
          if (reply.status < 400) continue; // status, descriptor, unseal-session and the document answer while sealed
          const attempt: Attempt = { category: state, label: payload ?? '', method: route.method, url, as: 'none' };
          const error = (JSON.parse(reply.text) as { error?: { code?: string } }).error;
          const problem = reply.status === 503 && error?.code === allowed ? undefined : judge(attempt, reply.status, reply.contentType, reply.text);
          if (problem !== undefined) problems.push(`${state}: ${route.method} ${route.url} ${payload ?? ''}: ${problem}`);
        }
      }
    }
    assert.equal(problems.length, 0, `${problems.length} problems:\n${problems.join('\n')}`);
  });
});
