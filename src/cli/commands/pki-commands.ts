// coffer pki …: CSRs and certificates of Coffer keys, Coffer's CAs, issuance, revocation and CRLs.
import { unlink, writeFile } from 'node:fs/promises';
import { CofferError } from '../../core/errors.ts';
import { joinPem, newLocalKeyWithCsr, type CaView, type IssuedView, type KeyCertificateView } from '../../client/index.ts';
import { readInput, writeOutput } from '../byte-io.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';
import { printFields, printJson, printTable, show } from '../output.ts';
import { keyRefOf } from './key-commands.ts';
import {
  CA_CREATE_OPTIONS, NAME_OPTIONS, REVOCATION_REASONS, altNamesOf, createCaRequestOf, csrRequestOf, issueSourceOf, refuseOptions, revocationReasonOf, serialOf,
  usagesOf,
} from './pki-arguments.ts';

const KEY_CERT_FIELDS = ['certificateId', 'keyId', 'keyVersion', 'subject', 'issuer', 'serialNumber', 'notBefore', 'notAfter', 'fingerprint', 'extendedKeyUsage', 'chainLength', 'attachedAt', 'attachedBy'];
const CA_FIELDS = ['caId', 'name', 'project', 'keyId', 'keyVersion', 'subject', 'serialNumber', 'notBefore', 'notAfter', 'pathLength', 'parentCaId', 'createdAt', 'createdBy'];
const ISSUED_FIELDS = ['caId', 'serialNumber', 'subject', 'notBefore', 'notAfter', 'fingerprint', 'extendedKeyUsage', 'issuedAt', 'issuedBy', 'revokedAt', 'revocationReason', 'childCaId'];
const CRL_FIELDS = ['caId', 'crlNumber', 'thisUpdate', 'nextUpdate', 'revokedCount'];
const KEY_HELP = 'The key is positional (project/name or id; --project P with a bare name), since --key is the connection\'s client key.';
const CA_HELP = 'A CA is named by its id or as project/name.';
const NAMES_HELP = '--dns, --ip, --email, --uri repeat; --key-usage and --eku take comma lists.\n'
  + '  key usages: digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement, keyCertSign, cRLSign\n'
  + '  purposes (--eku): serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning or dotted OIDs';
const OUT_HELP = 'Without --out (or with --out -) the PEM goes to standard output and nothing else is printed.';

/** --out FILE, or undefined for standard output. */
function outFile(context: CommandContext, option = 'out'): string | undefined {
  const out = context.args.string(option);
  return out === '-' ? undefined : out;
}

/** PEM to --out (then the fields are printed) or to standard output alone; --json prints the view. */
async function emitPem(context: CommandContext, pem: string, view: object, fields: readonly string[]): Promise<void> {
  const out = outFile(context);
  if (out !== undefined) await writeOutput(out, pem);
  if (context.json) printJson(view);
  else if (out === undefined) await writeOutput(undefined, pem);
  else printFields(view, fields);
}

async function readText(path: string): Promise<string> {
  return (await readInput(path)).toString('utf8');
}

/** `--new-key`: the key file is created first (never over an existing one) and removed if issuance fails. */
async function issueForNewKey(context: CommandContext, caRef: string, keyFile: string, validityDays: number | undefined): Promise<IssuedView> {
  const { args, client } = context;
  const { privateKeyPem, csr } = await newLocalKeyWithCsr(csrRequestOf(args));
  try {
    // wx: never overwrite a key that may be in use; 0600: the private key is for its owner alone.
    await writeFile(keyFile, privateKeyPem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `cannot create ${keyFile} (an existing file is never overwritten)`, { cause: error });
  }
  try {
    // The CSR already carries the names and usages asked for.
    return await client().pki.issue(caRef, { csr: csr.pem, ...(validityDays === undefined ? {} : { validityDays }) });
  } catch (error) {
    // A key without a certificate is of no use, and a second attempt must be able to use the name.
    await unlink(keyFile).catch(() => undefined);
    throw error;
  }
}

async function caAction(context: CommandContext): Promise<number> {
  const { args, json, client } = context;
  const action = args.positional(0, 'action (create, list or show)');
  const createOnly = Object.keys(CA_CREATE_OPTIONS);
  if (action === 'create') {
    refuseOptions(args, ['project'], 'pki ca create');
    const ca = await client().pki.createCa(createCaRequestOf(args));
    return showCa(context, ca);
  }
  if (action === 'list') {
    refuseOptions(args, [...createOnly, 'out'], 'pki ca list');
    const project = args.string('project');
    const cas = await client().pki.listCas(project === undefined ? {} : { project });
    if (json) printJson(cas);
    else printTable(cas, [['ID', (c) => c.caId], ['PROJECT', (c) => c.project], ['NAME', (c) => c.name], ['SUBJECT', (c) => c.subject], ['NOT AFTER', (c) => c.notAfter], ['PARENT', (c) => c.parentCaId]]);
    return 0;
  }
  if (action === 'show') {
    refuseOptions(args, [...createOnly, 'project'], 'pki ca show');
    return showCa(context, await client().pki.getCa(args.positional(1, 'CA (id or project/name)')));
  }
  throw new UsageError(`pki ca takes create, list or show, not ${JSON.stringify(action)}`);
}

async function showCa(context: CommandContext, ca: CaView): Promise<number> {
  const out = outFile(context);
  if (out !== undefined) await writeOutput(out, ca.chain);
  if (context.json) printJson(ca);
  else printFields({ ...ca, ...profileFields(ca) }, [...CA_FIELDS, 'maxValidityDays', 'defaultValidityDays', 'keyUsage', 'extendedKeyUsage', 'nameConstraints', 'crlValidityHours', 'crlDistributionUrl']);
  return 0;
}

function profileFields(ca: CaView): Record<string, unknown> {
  const { profile } = ca;
  const constraints = [
    ...profile.permittedDnsDomains.map((d) => `permit dns ${d}`), ...profile.excludedDnsDomains.map((d) => `exclude dns ${d}`),
    ...profile.permittedEmailDomains.map((d) => `permit email ${d}`), ...profile.excludedEmailDomains.map((d) => `exclude email ${d}`),
  ];
  return { ...profile, ...(constraints.length === 0 ? {} : { nameConstraints: constraints }) };
}

export const PKI_COMMANDS: readonly Command[] = [
  {
    name: 'pki csr', synopsis: '<key> --subject S [--dns N]… [--ip A]… [--email E]… [--uri U]… [--key-usage a,b] [--eku a,b] [--out FILE]',
    summary: 'a PKCS#10 request for a Coffer key, signed inside Coffer (PEM)',
    details: `${KEY_HELP}\n--subject is RFC 4514, e.g. "CN=Release signing, O=Acme, C=US". ${NAMES_HELP}\n${OUT_HELP}\n`
      + 'e.g.   coffer pki csr acme/release --subject "CN=Release signing, O=Acme, C=US" --eku codeSigning --out release.csr',
    options: { project: { type: 'string' }, subject: { type: 'string' }, ...NAME_OPTIONS, out: { type: 'string' } },
    run: async (context) => {
      const { args, client } = context;
      const request = csrRequestOf(args);
      const csr = await client().pki.createCsr(keyRefOf(args), request);
      await emitPem(context, csr.csr, csr, ['keyId', 'keyVersion', 'subject', 'signatureAlgorithm']);
      return 0;
    },
  },
  {
    name: 'pki attach', synopsis: '<key> --certificate FILE [--chain FILE]',
    summary: "attach a certificate for the key's public key (leaf, then its chain)",
    details: `${KEY_HELP}\n--certificate holds the leaf (and may hold its chain after it); --chain adds the issuers, leaf first then up to the root.\n`
      + 'The node checks that the certificate is for the key (CERTIFICATE_KEY_MISMATCH otherwise) and that the chain links up.',
    options: { project: { type: 'string' }, certificate: { type: 'string' }, chain: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const leaf = await readText(args.required('certificate'));
      const chainFile = args.string('chain');
      const pem = joinPem(leaf, chainFile === undefined ? '' : await readText(chainFile));
      const attached = await client().pki.attachCertificate(keyRefOf(args), pem);
      show(json, attached, KEY_CERT_FIELDS);
      return 0;
    },
  },
  {
    name: 'pki certs', synopsis: '<key>', summary: 'the certificates attached to a key',
    details: KEY_HELP, options: { project: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const list = await client().pki.listCertificates(keyRefOf(args));
      if (json) printJson(list);
      else printTable(list, [['ID', (c: KeyCertificateView) => c.certificateId], ['VERSION', (c) => c.keyVersion], ['SUBJECT', (c) => c.subject], ['ISSUER', (c) => c.issuer], ['SERIAL', (c) => c.serialNumber], ['NOT AFTER', (c) => c.notAfter], ['EKU', (c) => c.extendedKeyUsage]]);
      return 0;
    },
  },
  {
    name: 'pki cert', synopsis: '<key> --id ID [--out FILE]', summary: 'one attached certificate: leaf then chain (PEM)',
    details: `${KEY_HELP}\n${OUT_HELP}`,
    options: { project: { type: 'string' }, id: { type: 'string' }, out: { type: 'string' } },
    run: async (context) => {
      const certificate = await context.client().pki.getCertificate(keyRefOf(context.args), context.args.required('id'));
      await emitPem(context, certificate.pem, certificate, KEY_CERT_FIELDS);
      return 0;
    },
  },
  {
    name: 'pki detach', synopsis: '<key> --id ID', summary: 'remove a certificate from a key',
    details: KEY_HELP, options: { project: { type: 'string' }, id: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const id = args.required('id');
      await client().pki.detachCertificate(keyRefOf(args), id);
      if (json) printJson({ certificateId: id, detached: true });
      else process.stdout.write(`detached ${id}\n`);
      return 0;
    },
  },
  {
    name: 'pki ca',
    synopsis: 'create --name N --signing-key K --subject S [--parent CA] [--days N] [--path-length N] [--max-days N] [--default-days N] [--key-usage a,b] [--eku a,b] '
      + '[--permit-dns D]… [--exclude-dns D]… [--permit-email D]… [--exclude-email D]… [--crl-hours N] [--crl-url URL] [--out chain.pem]'
      + '  |  list [--project P]  |  show <ca> [--out chain.pem]',
    summary: 'create, list or show certificate authorities whose keys are Coffer keys',
    details: `create: a root CA, or with --parent an intermediate signed by that CA. --signing-key is the CA's Coffer key (project/name or id; the CA
  belongs to its project). --days: the CA certificate's validity; --path-length: how many CAs may follow it. The profile bounds what it
  issues: --default-days, --max-days, --key-usage and --eku (what leaves may carry), --permit-/--exclude-dns and -email (name
  constraints, repeatable; a domain covers its subdomains), --crl-hours (CRL lifetime), --crl-url (put in every certificate issued).
list: the CAs you can see (in one project with --project).   show: one CA (${CA_HELP}).
--out writes the CA's chain (its certificate, then each issuer up to the root).
e.g.   coffer pki ca create --name root --signing-key acme/root-key --subject "CN=Acme Root, O=Acme" --eku codeSigning,timeStamping
       coffer pki ca create --name tls --signing-key acme/tls-ca-key --subject "CN=Acme TLS" --parent acme/root --permit-dns acme.example --eku serverAuth,clientAuth`,
    options: { ...CA_CREATE_OPTIONS, project: { type: 'string' }, out: { type: 'string' } },
    run: caAction,
  },
  {
    name: 'pki issue',
    synopsis: '<ca> (--csr FILE | --for-key K | --new-key KEYFILE) [--subject S] [--dns N]… [--ip A]… [--email E]… [--uri U]… [--days N] [--key-usage a,b] [--eku a,b] [--out cert.pem] [--chain-out chain.pem]',
    summary: 'issue a certificate: for a CSR, for a Coffer key (attached to it), or for a key pair made here',
    details: `${CA_HELP} Exactly one source:
  --csr FILE          a PKCS#10 request (PEM or DER); its subject is kept, the other options override what it asks for
  --for-key K         a Coffer key (project/name or id): the CSR is made inside Coffer and the certificate attached to the key
  --new-key KEYFILE   a key that must live on this machine (a TLS client, a node): an EC P-256 key pair is made here, its private
                      key written to KEYFILE (PKCS#8 PEM, 0600, never over an existing file) and a CSR signed with it locally
--subject (RFC 4514) is required with --for-key and --new-key. ${NAMES_HELP}
--out gets the certificate, --chain-out the full chain (the certificate, then the CA's chain up to the root). Without either the
certificate goes to standard output; with --out the certificate's fields are printed.
e.g.   coffer pki issue acme/tls --new-key client.key --subject "CN=build-agent-7" --eku clientAuth --out client.pem --chain-out client-chain.pem`,
    options: {
      csr: { type: 'string' }, 'for-key': { type: 'string' }, 'new-key': { type: 'string' }, subject: { type: 'string' }, ...NAME_OPTIONS, days: { type: 'string' },
      out: { type: 'string' }, 'chain-out': { type: 'string' },
    },
    run: async (context) => {
      const { args, json, client } = context;
      const caRef = args.positional(0, 'CA (id or project/name)');
      const source = issueSourceOf(args);
      const validityDays = args.integer('days', 1, 36_500);
      let issued: IssuedView;
      let extra: Record<string, string> = {};
      let attached: KeyCertificateView | undefined;
      if (source.kind === 'csr') {
        const csr = await readInput(source.file);
        issued = await client().pki.issue(caRef, { csr, ...altNamesOf(args), ...usagesOf(args), ...(validityDays === undefined ? {} : { validityDays }) });
      } else if (source.kind === 'coffer-key') {
        ({ issued, attached } = await client().pki.issueForKey(caRef, source.key, { ...csrRequestOf(args), ...(validityDays === undefined ? {} : { validityDays }) }));
        extra = { certificateId: attached.certificateId, keyId: attached.keyId };
      } else {
        issued = await issueForNewKey(context, caRef, source.file, validityDays);
        extra = { keyFile: source.file };
      }
      const certificate = issued.certificate;
      if (certificate === undefined) throw new CofferError('CLIENT_PROTOCOL_ERROR', 'the issue answer holds no certificate');
      const chainOut = outFile(context, 'chain-out');
      if (chainOut !== undefined) await writeOutput(chainOut, joinPem(certificate, issued.chain ?? ''));
      const out = outFile(context);
      if (out !== undefined) await writeOutput(out, certificate);
      if (json) printJson({ issued, ...(attached === undefined ? {} : { attached }), ...extra });
      else if (out === undefined && chainOut === undefined) await writeOutput(undefined, certificate);
      else printFields({ ...issued, ...extra }, [...ISSUED_FIELDS, 'certificateId', 'keyId', 'keyFile']);
      return 0;
    },
  },
  {
    name: 'pki issued', synopsis: '<ca> [--serial HEX [--out FILE]]', summary: 'the certificates a CA issued, or one of them (PEM)',
    details: `${CA_HELP} With --serial, that certificate: ${OUT_HELP}`,
    options: { serial: { type: 'string' }, out: { type: 'string' } },
    run: async (context) => {
      const { args, json, client } = context;
      const caRef = args.positional(0, 'CA (id or project/name)');
      if (args.string('serial') !== undefined) {
        const issued = await client().pki.getIssued(caRef, serialOf(args));
        if (issued.certificate === undefined) throw new CofferError('CLIENT_PROTOCOL_ERROR', 'the answer holds no certificate');
        await emitPem(context, issued.certificate, issued, ISSUED_FIELDS);
        return 0;
      }
      if (args.string('out') !== undefined) throw new UsageError('--out needs --serial (one certificate)');
      const list = await client().pki.listIssued(caRef);
      if (json) printJson(list);
      else printTable(list, [['SERIAL', (c: IssuedView) => c.serialNumber], ['SUBJECT', (c) => c.subject], ['NOT AFTER', (c) => c.notAfter], ['EKU', (c) => c.extendedKeyUsage], ['REVOKED', (c) => c.revokedAt === undefined ? '' : `${c.revokedAt} ${c.revocationReason ?? ''}`.trim()]]);
      return 0;
    },
  },
  {
    name: 'pki revoke', synopsis: '<ca> --serial HEX [--reason R]', summary: 'revoke a certificate the CA issued (it is listed in the next CRL)',
    details: `${CA_HELP} R: ${REVOCATION_REASONS.join(', ')} (default unspecified).`,
    options: { serial: { type: 'string' }, reason: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const caRef = args.positional(0, 'CA (id or project/name)');
      const serial = serialOf(args);
      const revoked = await client().pki.revoke(caRef, serial, revocationReasonOf(args));
      show(json, revoked, ['serialNumber', 'revokedAt', 'reason', 'crlNumber']);
      return 0;
    },
  },
  {
    name: 'pki crl', synopsis: '<ca> [--publish] [--out FILE]', summary: "the CA's current CRL (PEM); --publish signs a new one first",
    details: `${CA_HELP} ${OUT_HELP}`,
    options: { publish: { type: 'boolean' }, out: { type: 'string' } },
    run: async (context) => {
      const { args, client } = context;
      const caRef = args.positional(0, 'CA (id or project/name)');
      const crl = args.flag('publish') ? await client().pki.publishCrl(caRef) : await client().pki.getCrl(caRef);
      await emitPem(context, crl.crl, crl, CRL_FIELDS);
      return 0;
    },
  },
];
