// Configuration: defaults, environment overrides, and refusals that name the bad key, all before
// anything listens.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsSigner } from '../cluster/attestation/attestation-test-kit.ts';
import { CONFIG_DEFAULTS, loadConfig, parseConfig } from './config.ts';
import { tempDir } from './server-test-kit.ts';

function tlsFiles(dir: string): { certFile: string; keyFile: string; clientCaFile: string } {
  for (const name of ['server.pem', 'server.key', 'ca.pem']) writeFileSync(join(dir, name), 'placeholder');
  return { certFile: 'server.pem', keyFile: 'server.key', clientCaFile: 'ca.pem' };
}

describe('server configuration', () => {
  it('fills defaults, resolves paths against the file, and freezes the result', (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'coffer.json');
    writeFileSync(path, JSON.stringify({ dataDir: 'data', nodeId: 'n1', api: { tls: tlsFiles(dir) } }));
    const config = loadConfig(path, {});
    assert.equal(config.dataDir, join(dir, 'data'));
    assert.equal(config.api.host, '127.0.0.1');
    assert.equal(config.api.port, 8443);
    assert.equal(config.api.tls.certFile, join(dir, 'server.pem'));
    assert.equal(config.api.tls.minVersion, 'TLSv1.2');
    assert.deepEqual(config.health, { host: '127.0.0.1', port: 8081 });
    assert.equal(config.limits.bodyBytes, CONFIG_DEFAULTS.bodyBytes);
    assert.equal(config.limits.batchBodyBytes, 4 * 1024 * 1024);
    assert.deepEqual(config.auth, { tokenTtlSeconds: 900, loginFailuresPerMinute: 5 });
    assert.equal(config.log.level, 'info');
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.api.tls));
    assert.throws(() => {
      (config.api as { port: number }).port = 1;
    }, TypeError);
  });

  it('lets COFFER_* variables override the file', (t) => {
    const dir = tempDir(t);
    const tls = tlsFiles(dir);
    const config = parseConfig({ dataDir: 'data', api: { port: 1, tls } }, {
      baseDir: dir,
      env: { COFFER_API_PORT: '9443', COFFER_HEALTH_PORT: '0', COFFER_NODE_ID: 'from-env', COFFER_LOG_LEVEL: 'warn', COFFER_DATA_DIR: dir, COFFER_TLS_CA: undefined },
    });
    assert.equal(config.api.port, 9443);
    assert.equal(config.health.port, 0);
    assert.equal(config.nodeId, 'from-env');
    assert.equal(config.log.level, 'warn');
    assert.equal(config.dataDir, dir);
    const onlyEnv = parseConfig({}, { env: { COFFER_DATA_DIR: dir, COFFER_TLS_CERT: join(dir, 'server.pem'), COFFER_TLS_KEY: join(dir, 'server.key'), COFFER_TLS_CLIENT_CA: join(dir, 'ca.pem') } });
    assert.equal(onlyEnv.api.tls.clientCaFile, join(dir, 'ca.pem'));
  });

  it('refuses unknown keys, bad values and unreadable TLS files with INVALID_ARGUMENT naming the key', (t) => {
    const dir = tempDir(t);
    const tls = tlsFiles(dir);
    const base = { dataDir: 'data', api: { tls } };
    const refuses = (raw: unknown, pattern: RegExp, env: Record<string, string> = {}) => {
      assert.throws(() => parseConfig(raw, { baseDir: dir, env }), (error: unknown) => {
        assert.equal((error as { code?: unknown }).code, 'INVALID_ARGUMENT');
        assert.match((error as Error).message, pattern);
        return true;
      });
    };
    refuses({ ...base, listen: 1 }, /config listen: unknown key/);
    refuses({ ...base, api: { ...base.api, tls: { ...tls, ciphers: 'RC4' } } }, /config api\.tls\.ciphers: unknown key/);
    refuses({ ...base, limits: { bodyByte: 1 } }, /config limits\.bodyByte: unknown key/);
    refuses({ ...base, api: { ...base.api, port: 70000 } }, /config api\.port: must be an integer/);
    refuses({ ...base, log: { level: 'loud' } }, /config log\.level: must be one of/);
    refuses({ ...base, api: { ...base.api, tls: { ...tls, minVersion: 'TLSv1.1' } } }, /api\.tls\.minVersion/);
    refuses({ api: { tls } }, /config dataDir: is required/);
    refuses({ ...base, api: { tls: { ...tls, keyFile: 'missing.key' } } }, /config api\.tls\.keyFile: cannot read .*missing\.key/);
    refuses({ ...base, api: { tls: { certFile: tls.certFile, keyFile: tls.keyFile } } }, /config api\.tls\.clientCaFile: is required/);
    refuses({ ...base, nodeId: 'has space' }, /config nodeId/);
    refuses([], /must be a JSON object/);
    refuses(base, /environment COFFER_API_PORT must be an integer/, { COFFER_API_PORT: '84x3' });
    assert.throws(() => loadConfig(join(dir, 'absent.json'), {}), { code: 'INVALID_ARGUMENT' });
  });

  it('defaults to the SQLite store and a 5 s / 15 s heartbeat; COFFER_STORE_URL selects postgres', (t) => {
    const dir = tempDir(t);
    const base = { dataDir: 'data', api: { tls: tlsFiles(dir) } };
    const plain = parseConfig(base, { baseDir: dir });
    assert.deepEqual(plain.store, { backend: 'sqlite' });
    assert.deepEqual(plain.cluster, { heartbeatSeconds: 5, deadAfterSeconds: 15, join: { provider: 'join-token' } });
    assert.ok(Object.isFrozen(plain.store) && Object.isFrozen(plain.cluster));

    const pg = parseConfig({ ...base, store: { backend: 'postgres', url: 'postgres://coffer@db:5432/coffer', poolSize: 4 },
      cluster: { advertiseUrl: 'https://node-1.example:8443/', heartbeatSeconds: 2, deadAfterSeconds: 6 } }, { baseDir: dir });
    assert.deepEqual(pg.store, { backend: 'postgres', url: 'postgres://coffer@db:5432/coffer', poolSize: 4 });
    assert.deepEqual(pg.cluster, { advertiseUrl: 'https://node-1.example:8443', heartbeatSeconds: 2, deadAfterSeconds: 6, join: { provider: 'join-token' } });

    const env = parseConfig(base, { baseDir: dir, env: { COFFER_STORE_URL: 'postgresql://u:secret@127.0.0.1:5433/c', COFFER_ADVERTISE_URL: 'https://10.0.0.5:8443' } });
    assert.deepEqual(env.store, { backend: 'postgres', url: 'postgresql://u:secret@127.0.0.1:5433/c' });
    assert.equal(env.cluster.advertiseUrl, 'https://10.0.0.5:8443');
  });

  it('refuses bad store and cluster sections with INVALID_ARGUMENT naming the key, never echoing a URL', (t) => {
    const dir = tempDir(t);
    const base = { dataDir: 'data', api: { tls: tlsFiles(dir) } };
    const refuses = (raw: Record<string, unknown>, pattern: RegExp) => {
      assert.throws(() => parseConfig({ ...base, ...raw }, { baseDir: dir }), (error: unknown) => {
        assert.equal((error as { code?: unknown }).code, 'INVALID_ARGUMENT');
        assert.match((error as Error).message, pattern);
        assert.doesNotMatch((error as Error).message, /hunter2/);
        return true;
      });
    };
    refuses({ store: { backend: 'mysql' } }, /config store\.backend: must be one of sqlite, postgres/);
    refuses({ store: { backend: 'postgres' } }, /config store\.url: is required/);
    refuses({ store: { backend: 'postgres', url: 'mysql://u:hunter2@db/x' } }, /config store\.url: must be a postgres/);
    refuses({ store: { backend: 'postgres', url: 'postgres://db/x', pool: 3 } }, /config store\.pool: unknown key/);
    refuses({ store: { backend: 'postgres', url: 'postgres://db/x', poolSize: 0 } }, /config store\.poolSize: must be an integer/);
    refuses({ store: { url: 'postgres://u:hunter2@db/x' } }, /config store\.url: applies to the postgres backend only/);
    refuses({ cluster: { heartbeat: 1 } }, /config cluster\.heartbeat: unknown key/);
    refuses({ cluster: { heartbeatSeconds: 0 } }, /config cluster\.heartbeatSeconds: must be an integer/);
    refuses({ cluster: { heartbeatSeconds: 5, deadAfterSeconds: 5 } }, /config cluster\.deadAfterSeconds: must be greater than heartbeatSeconds/);
    refuses({ cluster: { advertiseUrl: 'http://node:8443' } }, /config cluster\.advertiseUrl: must be an https/);
    refuses({ cluster: { advertiseUrl: 'https://u:hunter2@node:8443' } }, /config cluster\.advertiseUrl: must be an https/);
    refuses({ cluster: { join: true } }, /config cluster\.join: must be an object/);
    refuses({ cluster: { join: null } }, /config cluster\.join: must be an object/);
    refuses({ cluster: { join: { provider: 'tpm' } } }, /config cluster\.join\.provider: must be one of join-token, aws-ec2/);
    refuses({ cluster: { join: { provider: 'join-token', ttl: 5 } } }, /config cluster\.join\.ttl: unknown key/);
    refuses({ cluster: { join: { provider: 'aws-ec2', certificatesFile: 'missing.pem', accountIds: ['123456789012'], regions: ['eu-west-1'] } } },
      /config cluster\.join\.certificatesFile: cannot read .*missing\.pem/);
  });

  it('admits joiners with join tokens by default, with AWS EC2 documents when configured, and not at all with join: false', async (t) => {
    const dir = tempDir(t);
    const base = { dataDir: 'data', api: { tls: tlsFiles(dir) } };
    assert.deepEqual(parseConfig(base, { baseDir: dir }).cluster.join, { provider: 'join-token' });
    assert.deepEqual(parseConfig({ ...base, cluster: { join: { provider: 'join-token' } } }, { baseDir: dir }).cluster.join, { provider: 'join-token' });
    const off = parseConfig({ ...base, cluster: { join: false } }, { baseDir: dir }).cluster;
    assert.equal(off.join, undefined);
    assert.ok(!('join' in off));

    // The certificates file resolves against the config file's directory, like the TLS files.
    const pem = (await awsSigner()).certificatePem;
    writeFileSync(join(dir, 'aws-rsa.pem'), pem);
    const path = join(dir, 'coffer.json');
    writeFileSync(path, JSON.stringify({ ...base, cluster: { join: {
      provider: 'aws-ec2', certificatesFile: 'aws-rsa.pem', accountIds: ['123456789012'], regions: ['eu-west-1'], imageIds: ['ami-0123456789abcdef0'], launchWindowMinutes: 5,
    } } }));
    const aws = loadConfig(path, {}).cluster.join;
    assert.ok(aws?.provider === 'aws-ec2');
    assert.equal(aws.certificatesFile, join(dir, 'aws-rsa.pem'));
    assert.equal(aws.certificatesPem, pem);
    assert.deepEqual([aws.accountIds, aws.regions, aws.imageIds, aws.launchWindowMinutes], [['123456789012'], ['eu-west-1'], ['ami-0123456789abcdef0'], 5]);
    assert.ok(Object.isFrozen(aws) && Object.isFrozen(aws.accountIds));
  });

  it('reads cluster.nodeCertificates (validity 30 days unless given) and refuses a bad one naming the key', (t) => {
    const dir = tempDir(t);
    const base = { dataDir: 'data', api: { tls: tlsFiles(dir) } };
    const read = (nodeCertificates: unknown) => parseConfig({ ...base, cluster: { nodeCertificates } }, { baseDir: dir }).cluster.nodeCertificates;
    assert.equal(parseConfig(base, { baseDir: dir }).cluster.nodeCertificates, undefined);
    assert.deepEqual(read({ ca: 'alpha/node-ca', issuer: 'node-issuer' }), { ca: 'alpha/node-ca', issuer: 'node-issuer', validityDays: 30 });
    const byId = read({ ca: '0f8e9d1c-2b3a-4c5d-8e7f-6a5b4c3d2e1f', issuer: 'svc.issuer', validityDays: 397 });
    assert.deepEqual(byId, { ca: '0f8e9d1c-2b3a-4c5d-8e7f-6a5b4c3d2e1f', issuer: 'svc.issuer', validityDays: 397 });
    assert.ok(Object.isFrozen(byId));
    const refuses = (nodeCertificates: unknown, key: string) => {
      assert.throws(() => read(nodeCertificates), (error: unknown) => {
        assert.equal((error as { code?: unknown }).code, 'INVALID_ARGUMENT');
        assert.match((error as Error).message, new RegExp(`^config cluster\\.nodeCertificates${key.replace(/\./g, '\\.')}:`));
        return true;
      });
    };
    refuses('alpha/node-ca', '');
    refuses({ issuer: 'node-issuer' }, '.ca');
    refuses({ ca: 'node-ca', issuer: 'node-issuer' }, '.ca');
    refuses({ ca: 'alpha/node-ca/x', issuer: 'node-issuer' }, '.ca');
    refuses({ ca: 'Alpha/node-ca', issuer: 'node-issuer' }, '.ca');
    refuses({ ca: 'alpha/node-ca' }, '.issuer');
    refuses({ ca: 'alpha/node-ca', issuer: 'Node Issuer' }, '.issuer');
    refuses({ ca: 'alpha/node-ca', issuer: 'node-issuer', validityDays: 0 }, '.validityDays');
    refuses({ ca: 'alpha/node-ca', issuer: 'node-issuer', validityDays: 398 }, '.validityDays');
    refuses({ ca: 'alpha/node-ca', issuer: 'node-issuer', days: 30 }, '.days');
  });
});
