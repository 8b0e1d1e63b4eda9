// PKI benchmark (npm run bench:pki): RFC 3161 time-stamps and certificate issuance through a real
// Coffer node (SQLite store, sealed records, durable audit journal), each beside two references
// measured in the same run: (1) the very same PKI code (src/pki/tsa, src/pki/ca) signing with a
// node:crypto key in process, so the ratio is what key custody, rights checks, record reads and the
// audit cost; (2) the raw ECDSA signature alone. Rounds rotate the three sides; the table shows
// medians of per-round ratios. A report: it exits 0 whatever the figures.
//
// Environment: BENCH_ROUNDS (default 3), BENCH_MS per measurement (default 1500), BENCH_CONCURRENCY
// (default 32).
import { randomBytes, sign as nodeSign } from 'node:crypto';
import { buildTimeStampQuery } from '../src/client/index.ts';
import type { Caller } from '../src/core/engine/caller.ts';
import { planLeaf, signLeafCertificate, signRootCertificate, subjectNameOf } from '../src/pki/ca/certificate-authority.ts';
import { checkCaProfile } from '../src/pki/ca/ca-profile.ts';
import { PkiService } from '../src/pki/pki-service.ts';
import { timeStamp } from '../src/pki/tsa/index.ts';
import { buildCsr, parseCsr } from '../src/pki/x509/csr.ts';
import { parseDistinguishedName } from '../src/pki/x509/distinguished-names.ts';
import { keyIdentifierOf } from '../src/pki/x509/extensions.ts';
import { localSigner } from '../src/pki/x509/local-signer-test-kit.ts';
import { openBenchNode } from './bench-node.ts';
import { envInteger, formatRate, measureAsync, median, type Rate } from './measure.ts';
import { loadAverage, printHeader, table } from './report.ts';

const ROUNDS = envInteger('BENCH_ROUNDS', 3);
const MEASURE_MS = envInteger('BENCH_MS', 1500);
const CONCURRENCY = envInteger('BENCH_CONCURRENCY', 32);
const PROJECT = 'bench';


interface Row {
  readonly name: string;
  readonly coffer: () => Promise<unknown>;
  readonly inProcess: () => Promise<unknown>;
  readonly rawSign: () => Promise<unknown>;
}

async function main(): Promise<void> {
  const bench = await openBenchNode('coffer-bench-pki-');
  try {
    const running = bench.node;
    let requests = 0;
    const caller = (): Caller => ({ principal: 'bench-user', roles: ['user'], projects: [PROJECT], requestId: `bench-${++requests}` });
    const pki = new PkiService({ store: running.store, barrier: running.barrier, audit: running.audit, engine: () => running.engine });
    const create = async (name: string): Promise<string> => (await running.engine.keys.create(caller(), { project: PROJECT, name, spec: 'EC_P256', usage: 'SIGN_VERIFY' })).id;

    // Coffer: a root CA and a TSA key with a time-stamping certificate from it.
    const rootKey = await create('root');
    const tsaKey = await create('tsa');
    const root = await pki.createCa(caller(), { name: 'root', key: rootKey, subject: 'CN=Bench Root' });
    const tsaCsr = await pki.createCsr(caller(), tsaKey, { subject: 'CN=Bench TSA', extendedKeyUsage: ['timeStamping'] });
    const tsaCert = await pki.issue(caller(), root.caId, { csr: tsaCsr.csr });
    await pki.attachCertificate(caller(), tsaKey, `${tsaCert.certificate ?? ''}${tsaCert.chain ?? ''}`);
    const leafCsr = (await buildCsr(localSigner('EC_P256'), { subject: 'CN=bench leaf', extendedKeyUsage: ['codeSigning'] })).pem;

    // In process: the same PKI code with node:crypto keys.
    const localRoot = localSigner('EC_P256');
    const profile = checkCaProfile(undefined);
    const rootName = parseDistinguishedName('CN=Local Root').name;
    const localRootCert = await signRootCertificate(localRoot, { subject: rootName, publicKeyDer: localRoot.publicKeyDer, validityDays: 30, profile, now: new Date() });
    const issuer = { signer: localRoot, name: subjectNameOf(localRootCert.der), keyIdentifier: keyIdentifierOf(localRoot.publicKeyDer), notAfter: localRootCert.notAfter, profile };
    const localTsa = localSigner('EC_P256');
    const tsaCsrLocal = parseCsr((await buildCsr(localTsa, { subject: 'CN=Local TSA', extendedKeyUsage: ['timeStamping'] })).pem);
    const localTsaCert = await signLeafCertificate(issuer, tsaCsrLocal, planLeaf(tsaCsrLocal, {}, profile, 'local', []), new Date());
    const authority = { certificateDer: localTsaCert.der, chainDer: [localRootCert.der], policy: '1.2.3.4.1' };

    const queries = Array.from({ length: 64 }, () => buildTimeStampQuery({ data: randomBytes(64) }, { nonce: false }));
    let q = 0;
    const nextQuery = (): Buffer => queries[q++ % queries.length] ?? Buffer.alloc(0);
    const tbs = randomBytes(400);

    const rows: Row[] = [
      {
        name: 'RFC 3161 time-stamp, P-256 TSA',
        coffer: async () => {
          const outcome = await pki.timeStamp(caller(), tsaKey, nextQuery());
          if (!outcome.granted) throw new Error('the TSA refused a bench query');
        },
        inProcess: () => timeStamp(localTsa, authority, nextQuery(), new Date()),
        rawSign: () => Promise.resolve(nodeSign('sha256', tbs, localTsa.privateKey)),
      },
      {
        name: 'issue a leaf from a CSR, P-256 CA',
        coffer: () => pki.issue(caller(), root.caId, { csr: leafCsr }),
        inProcess: async () => {
          const csr = parseCsr(leafCsr);
          return signLeafCertificate(issuer, csr, planLeaf(csr, {}, profile, 'local', []), new Date());
        },
        rawSign: () => Promise.resolve(nodeSign('sha256', tbs, localRoot.privateKey)),
      },
    ];

    printHeader('Coffer PKI benchmark');
    console.log(`  rounds ${ROUNDS}, ${MEASURE_MS} ms per measurement, ${CONCURRENCY} in flight; load average at start ${loadAverage()}`);
    console.log('  coffer: PkiService on a CofferNode (engine signs under the caller\'s rights, SQLite records, durable audit)');
    console.log('  in-process: the same PKI code signing with a node:crypto key; raw: node:crypto ECDSA P-256 sign of 400 bytes');
    console.log('');
    const lines: string[][] = [];
    for (const row of rows) {
      const rates: Record<'coffer' | 'inProcess' | 'rawSign', Rate[]> = { coffer: [], inProcess: [], rawSign: [] };
      const ratios: { inProcess: number[]; rawSign: number[] } = { inProcess: [], rawSign: [] };
      for (const side of ['coffer', 'inProcess', 'rawSign'] as const) await measureAsync(row[side], Math.min(500, MEASURE_MS), CONCURRENCY);
      for (let round = 0; round < ROUNDS; round++) {
        const order = (['coffer', 'inProcess', 'rawSign'] as const).map((_, i, all) => all[(i + round) % all.length] ?? 'coffer');
        const got: Partial<Record<'coffer' | 'inProcess' | 'rawSign', Rate>> = {};
        for (const side of order) got[side] = await measureAsync(row[side], MEASURE_MS, CONCURRENCY);
        const coffer = got.coffer?.opsPerSecond ?? 0;
        for (const side of ['coffer', 'inProcess', 'rawSign'] as const) rates[side].push(got[side] ?? { opsPerSecond: 0, cpuMicrosPerOp: 0, loopUtilization: 0 });
        ratios.inProcess.push(coffer / (got.inProcess?.opsPerSecond ?? 1));
        ratios.rawSign.push(coffer / (got.rawSign?.opsPerSecond ?? 1));
      }
      const m = (side: 'coffer' | 'inProcess' | 'rawSign'): string => formatRate(median(rates[side].map((r) => r.opsPerSecond)));
      lines.push([row.name, m('coffer'), m('inProcess'), median(ratios.inProcess).toFixed(2), m('rawSign'), median(ratios.rawSign).toFixed(3)]);
    }
    table(['operation', 'coffer', 'in-process', 'coffer / in-process', 'raw sign', 'coffer / raw'], lines);
  } finally {
    await bench.close();
  }
}

await main();
