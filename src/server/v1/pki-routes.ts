// /v1/keys/:keyId/csr and /v1/keys/:keyId/certificates (CSRs and certificates of Coffer keys) and
// /v1/pki/cas (built-in CAs: create, issue, revoke, CRLs). Routes parse and format; src/pki decides.
import type { FastifyInstance } from 'fastify';
import type { CaProfileInput } from '../../pki/ca/ca-profile.ts';
import { parseKeyRef } from '../key-ref.ts';
import { callerOfRequest } from '../request-context.ts';
import type { RouteContext } from './route-context.ts';
import { EMPTY_RESPONSE, KEY_REF_PATTERN, keyIdParams, nameSchema, TIMESTAMP, UUID_PATTERN, withErrors } from './schemas.ts';

const TAGS = ['pki'];
const PEM_TEXT = { type: 'string', minLength: 1, maxLength: 262_144 } as const;
const SUBJECT = { type: 'string', minLength: 1, maxLength: 1024, description: 'RFC 4514 name, e.g. "CN=Release signing, O=Acme, C=US"' } as const;
const NAMES = (description: string) => ({ type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 2048 }, description }) as const;
const WORDS = (description: string) => ({ type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 64 }, description }) as const;
const DAYS = { type: 'integer', minimum: 1, maximum: 10_950 } as const;
const SERIAL = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[0-9A-Fa-f:]+$', description: 'Serial number, hex' } as const;

const altNameFields = {
  dnsNames: NAMES('DNS names (a leading *. allowed)'),
  ipAddresses: NAMES('IPv4 or IPv6 addresses'),
  emails: NAMES('Email addresses'),
  uris: NAMES('URIs, e.g. spiffe://example.org/builder'),
} as const;

const usageFields = {
  keyUsage: WORDS('digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement (keyCertSign, cRLSign in CSRs only)'),
  extendedKeyUsage: WORDS('serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning or dotted OIDs'),
} as const;

const stringArray = { type: 'array', items: { type: 'string' } } as const;

const keyCertificateSchema = {
  type: 'object', additionalProperties: false,
  required: ['certificateId', 'keyId', 'keyVersion', 'subject', 'issuer', 'serialNumber', 'notBefore', 'notAfter', 'fingerprint', 'extendedKeyUsage', 'chainLength', 'attachedAt', 'attachedBy', 'pem'],
  properties: {
    certificateId: { type: 'string' }, keyId: { type: 'string' }, keyVersion: { type: 'integer' }, subject: { type: 'string' }, issuer: { type: 'string' },
    serialNumber: { type: 'string' }, notBefore: TIMESTAMP, notAfter: TIMESTAMP, fingerprint: { type: 'string', description: 'SHA-256 of the leaf DER, hex' },
    extendedKeyUsage: stringArray, chainLength: { type: 'integer' }, attachedAt: TIMESTAMP, attachedBy: { type: 'string' },
    pem: { type: 'string', description: 'The certificate then its chain, PEM' },
  },
} as const;

const profileSchema = {
  type: 'object', additionalProperties: false,
  properties: {
    defaultValidityDays: DAYS, maxValidityDays: DAYS,
    keyUsage: WORDS('Key usages end-entity certificates may have (default all but keyCertSign and cRLSign)'),
    extendedKeyUsage: WORDS('Purposes end-entity certificates may have (default serverAuth, clientAuth, codeSigning, emailProtection, timeStamping)'),
    permittedDnsDomains: NAMES('Name constraints: DNS subtrees allowed'), excludedDnsDomains: NAMES('DNS subtrees refused'),
    permittedEmailDomains: NAMES('Email domains allowed'), excludedEmailDomains: NAMES('Email domains refused'),
    crlValidityHours: { type: 'integer', minimum: 1, maximum: 8784, description: 'How long each CRL stands (default 168)' },
    crlDistributionUrl: { type: 'string', maxLength: 2048, description: 'Put in issued certificates as their CRL distribution point' },
  },
} as const;

const profileResponse = {
  type: 'object', additionalProperties: false,
  required: ['defaultValidityDays', 'maxValidityDays', 'keyUsage', 'extendedKeyUsage', 'permittedDnsDomains', 'excludedDnsDomains', 'permittedEmailDomains', 'excludedEmailDomains', 'crlValidityHours'],
  properties: {
    defaultValidityDays: { type: 'integer' }, maxValidityDays: { type: 'integer' }, keyUsage: stringArray, extendedKeyUsage: stringArray,
    permittedDnsDomains: stringArray, excludedDnsDomains: stringArray, permittedEmailDomains: stringArray, excludedEmailDomains: stringArray,
    crlValidityHours: { type: 'integer' }, crlDistributionUrl: { type: 'string' },
  },
} as const;

const caSchema = {
  type: 'object', additionalProperties: false,
  required: ['caId', 'name', 'project', 'keyId', 'keyVersion', 'subject', 'serialNumber', 'notBefore', 'notAfter', 'profile', 'certificate', 'chain', 'createdAt', 'createdBy'],
  properties: {
    caId: { type: 'string' }, name: { type: 'string' }, project: { type: 'string' }, keyId: { type: 'string' }, keyVersion: { type: 'integer' },
    subject: { type: 'string' }, serialNumber: { type: 'string' }, notBefore: TIMESTAMP, notAfter: TIMESTAMP,
    pathLength: { type: 'integer' }, parentCaId: { type: 'string' }, profile: profileResponse,
    certificate: { type: 'string', description: 'The CA certificate, PEM' }, chain: { type: 'string', description: 'The CA certificate then its issuers up to the root, PEM' },
    createdAt: TIMESTAMP, createdBy: { type: 'string' },
  },
} as const;

const issuedSchema = {
  type: 'object', additionalProperties: false,
  required: ['caId', 'serialNumber', 'subject', 'notBefore', 'notAfter', 'fingerprint', 'extendedKeyUsage', 'issuedAt', 'issuedBy'],
  properties: {
    caId: { type: 'string' }, serialNumber: { type: 'string' }, subject: { type: 'string' }, notBefore: TIMESTAMP, notAfter: TIMESTAMP,
    fingerprint: { type: 'string' }, extendedKeyUsage: stringArray, issuedAt: TIMESTAMP, issuedBy: { type: 'string' },
    revokedAt: TIMESTAMP, revocationReason: { type: 'string' }, childCaId: { type: 'string', description: 'Set when the certificate is an intermediate CA’s' },
    certificate: { type: 'string', description: 'PEM' }, chain: { type: 'string', description: 'The issuing CA’s chain up to the root, PEM' },
  },
} as const;

const crlSchema = {
  type: 'object', additionalProperties: false, required: ['caId', 'crlNumber', 'thisUpdate', 'nextUpdate', 'revokedCount', 'crl'],
  properties: {
    caId: { type: 'string' }, crlNumber: { type: 'integer' }, thisUpdate: TIMESTAMP, nextUpdate: TIMESTAMP, revokedCount: { type: 'integer' },
    crl: { type: 'string', description: 'X509 CRL, PEM' },
  },
} as const;

const caParams = {
  type: 'object', additionalProperties: false, required: ['caId'],
  properties: { caId: { type: 'string', pattern: UUID_PATTERN, description: 'CA id (uuid)' } },
} as const;

interface AltNameBody { dnsNames?: string[]; ipAddresses?: string[]; emails?: string[]; uris?: string[] }
interface UsageBody { keyUsage?: string[]; extendedKeyUsage?: string[] }

function altNamesOf(body: AltNameBody): AltNameBody | undefined {
  const { dnsNames, ipAddresses, emails, uris } = body;
  if (dnsNames === undefined && ipAddresses === undefined && emails === undefined && uris === undefined) return undefined;
  return { ...(dnsNames === undefined ? {} : { dnsNames }), ...(ipAddresses === undefined ? {} : { ipAddresses }), ...(emails === undefined ? {} : { emails }), ...(uris === undefined ? {} : { uris }) };
}

function usagesOf(body: UsageBody): UsageBody {
  return { ...(body.keyUsage === undefined ? {} : { keyUsage: body.keyUsage }), ...(body.extendedKeyUsage === undefined ? {} : { extendedKeyUsage: body.extendedKeyUsage }) };
}

export function pkiRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const pki = () => ctx.services.pki();

  app.post<{ Params: { keyId: string }; Body: { subject: string } & AltNameBody & UsageBody }>('/v1/keys/:keyId/csr', {
    schema: {
      summary: 'A PKCS#10 certificate request for the key’s current version, signed inside Coffer (key owner or shared user)', tags: TAGS,
      params: keyIdParams,
      body: { type: 'object', additionalProperties: false, required: ['subject'], properties: { subject: SUBJECT, ...altNameFields, ...usageFields } },
      response: withErrors({
        200: {
          type: 'object', additionalProperties: false, required: ['csr', 'keyId', 'keyVersion', 'subject', 'signatureAlgorithm'],
          properties: { csr: { type: 'string', description: 'PEM' }, keyId: { type: 'string' }, keyVersion: { type: 'integer' }, subject: { type: 'string' }, signatureAlgorithm: { type: 'string' } },
        },
      }),
    },
  }, async (request) => {
    const altNames = altNamesOf(request.body);
    return pki().createCsr(callerOfRequest(request), request.params.keyId, {
      subject: request.body.subject, ...usagesOf(request.body), ...(altNames === undefined ? {} : { altNames }),
    });
  });

  app.post<{ Params: { keyId: string }; Body: { certificate: string } }>('/v1/keys/:keyId/certificates', {
    schema: {
      summary: 'Attach a certificate (PEM, leaf first, then its chain) for the key’s public key (owner only)', tags: TAGS, params: keyIdParams,
      body: { type: 'object', additionalProperties: false, required: ['certificate'], properties: { certificate: PEM_TEXT } },
      response: withErrors({ 201: keyCertificateSchema }),
    },
  }, async (request, reply) => reply.code(201).send(await pki().attachCertificate(callerOfRequest(request), request.params.keyId, request.body.certificate)));

  app.get<{ Params: { keyId: string } }>('/v1/keys/:keyId/certificates', {
    schema: {
      summary: 'Certificates attached to the key, newest first', tags: TAGS, params: keyIdParams,
      response: withErrors({ 200: { type: 'object', additionalProperties: false, required: ['certificates'], properties: { certificates: { type: 'array', items: keyCertificateSchema } } } }),
    },
  }, async (request) => ({ certificates: await pki().listCertificates(callerOfRequest(request), request.params.keyId) }));

  const certificateParams = {
    type: 'object', additionalProperties: false, required: ['keyId', 'certificateId'],
    properties: { keyId: { type: 'string', pattern: UUID_PATTERN }, certificateId: { type: 'string', pattern: UUID_PATTERN } },
  } as const;

  app.get<{ Params: { keyId: string; certificateId: string } }>('/v1/keys/:keyId/certificates/:certificateId', {
    schema: { summary: 'One attached certificate with its chain', tags: TAGS, params: certificateParams, response: withErrors({ 200: keyCertificateSchema }) },
  }, (request) => pki().getCertificate(callerOfRequest(request), request.params.keyId, request.params.certificateId));

  app.delete<{ Params: { keyId: string; certificateId: string } }>('/v1/keys/:keyId/certificates/:certificateId', {
    schema: { summary: 'Detach a certificate from the key (owner only)', tags: TAGS, params: certificateParams, response: withErrors({ 204: EMPTY_RESPONSE }) },
  }, async (request, reply) => {
    await pki().detachCertificate(callerOfRequest(request), request.params.keyId, request.params.certificateId);
    return reply.code(204).send();
  });

  interface CreateCaBody { name: string; key: string; subject: string; parent?: string; validityDays?: number; pathLength?: number; profile?: CaProfileInput }
  app.post<{ Body: CreateCaBody }>('/v1/pki/cas', {
    schema: {
      summary: 'Create a CA on a Coffer signing key you own: a self-signed root, or with `parent` an intermediate signed by that CA', tags: TAGS,
      body: {
        type: 'object', additionalProperties: false, required: ['name', 'key', 'subject'],
        properties: {
          name: { ...nameSchema('CA name, unique in the key’s project'), maxLength: 64 },
          key: { type: 'string', pattern: KEY_REF_PATTERN, description: 'The CA key: id or project/name' },
          subject: SUBJECT,
          parent: { type: 'string', pattern: KEY_REF_PATTERN, description: 'Issuing CA: id or project/name' },
          validityDays: DAYS,
          pathLength: { type: 'integer', minimum: 0, maximum: 10, description: 'How many CAs may follow below this one' },
          profile: profileSchema,
        },
      },
      response: withErrors({ 201: caSchema }),
    },
  }, async (request, reply) => {
    const { key, ...rest } = request.body;
    return reply.code(201).send(await pki().createCa(callerOfRequest(request), { ...rest, key: parseKeyRef(key) }));
  });

  app.get<{ Querystring: { project?: string; name?: string } }>('/v1/pki/cas', {
    schema: {
      summary: 'CAs of your projects (or of one project; with name, that one CA)', tags: TAGS,
      querystring: { type: 'object', additionalProperties: false, properties: { project: nameSchema('Project'), name: nameSchema('CA name') } },
      response: withErrors({ 200: { type: 'object', additionalProperties: false, required: ['cas'], properties: { cas: { type: 'array', items: caSchema } } } }),
    },
  }, async (request) => {
    const cas = await pki().listCas(callerOfRequest(request), request.query.project);
    return { cas: request.query.name === undefined ? cas : cas.filter((ca) => ca.name === request.query.name) };
  });

  app.get<{ Params: { caId: string } }>('/v1/pki/cas/:caId', {
    schema: { summary: 'One CA with its certificate chain and profile', tags: TAGS, params: caParams, response: withErrors({ 200: caSchema }) },
  }, (request) => pki().getCa(callerOfRequest(request), request.params.caId));

  app.post<{ Params: { caId: string }; Body: { csr: string; validityDays?: number } & AltNameBody & UsageBody }>('/v1/pki/cas/:caId/issue', {
    schema: {
      summary: 'Issue an end-entity certificate for a CSR under the CA’s profile (you must be able to use the CA’s key)', tags: TAGS, params: caParams,
      body: {
        type: 'object', additionalProperties: false, required: ['csr'],
        properties: { csr: PEM_TEXT, validityDays: DAYS, ...altNameFields, ...usageFields },
      },
      response: withErrors({ 201: issuedSchema }),
    },
  }, async (request, reply) => {
    const { csr, validityDays } = request.body;
    const altNames = altNamesOf(request.body);
    return reply.code(201).send(await pki().issue(callerOfRequest(request), request.params.caId, {
      csr, ...(validityDays === undefined ? {} : { validityDays }), ...usagesOf(request.body), ...(altNames === undefined ? {} : { altNames }),
    }));
  });

  app.get<{ Params: { caId: string } }>('/v1/pki/cas/:caId/certificates', {
    schema: {
      summary: 'Certificates the CA issued, newest first, with their revocation state', tags: TAGS, params: caParams,
      response: withErrors({ 200: { type: 'object', additionalProperties: false, required: ['certificates'], properties: { certificates: { type: 'array', items: issuedSchema } } } }),
    },
  }, async (request) => ({ certificates: await pki().listIssued(callerOfRequest(request), request.params.caId) }));

  app.get<{ Params: { caId: string; serialNumber: string } }>('/v1/pki/cas/:caId/certificates/:serialNumber', {
    schema: {
      summary: 'One issued certificate, PEM, with the CA chain', tags: TAGS,
      params: { type: 'object', additionalProperties: false, required: ['caId', 'serialNumber'], properties: { caId: caParams.properties.caId, serialNumber: SERIAL } },
      response: withErrors({ 200: issuedSchema }),
    },
  }, (request) => pki().getIssued(callerOfRequest(request), request.params.caId, request.params.serialNumber));

  app.post<{ Params: { caId: string }; Body: { serialNumber: string; reason?: string } }>('/v1/pki/cas/:caId/revoke', {
    schema: {
      summary: 'Revoke a certificate the CA issued; a new CRL listing it is published at once', tags: TAGS, params: caParams,
      body: {
        type: 'object', additionalProperties: false, required: ['serialNumber'],
        properties: { serialNumber: SERIAL, reason: { type: 'string', maxLength: 64, description: 'unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn' } },
      },
      response: withErrors({
        200: {
          type: 'object', additionalProperties: false, required: ['serialNumber', 'revokedAt', 'reason', 'crlNumber'],
          properties: { serialNumber: { type: 'string' }, revokedAt: TIMESTAMP, reason: { type: 'string' }, crlNumber: { type: 'integer' } },
        },
      }),
    },
  }, (request) => pki().revoke(callerOfRequest(request), request.params.caId, request.body.serialNumber, request.body.reason));

  app.get<{ Params: { caId: string } }>('/v1/pki/cas/:caId/crl', {
    schema: { summary: 'The CA’s current CRL', tags: TAGS, params: caParams, response: withErrors({ 200: crlSchema }) },
  }, (request) => pki().getCrl(callerOfRequest(request), request.params.caId));

  app.post<{ Params: { caId: string } }>('/v1/pki/cas/:caId/crl', {
    schema: { summary: 'Publish a fresh CRL (the next number); do so before the current one’s nextUpdate', tags: TAGS, params: caParams, response: withErrors({ 200: crlSchema }) },
  }, (request) => pki().publishCrl(callerOfRequest(request), request.params.caId));
}
