// VSSM's request and response messages (vssm.proto, VssmService and AdminService), as proto3 JSON.
// Requests are shapes (schema and decoding come from them); responses are allowlist schemas.

export const SYMMETRIC_REQUEST = { input: 'bytes', keyName: 'string', algorithm: 'string' } as const;
export const ASYMMETRIC_REQUEST = SYMMETRIC_REQUEST;
export const SIGN_REQUEST = { input: 'bytes', hashed: 'bytes', keyName: 'string', algorithm: 'string' } as const;
export const VERIFY_REQUEST = { input: 'bytes', hashed: 'bytes', signature: 'bytes', keyName: 'string', algorithm: 'string' } as const;
export const HMAC_CREATE_REQUEST = SYMMETRIC_REQUEST;
export const HMAC_VERIFY_REQUEST = { input: 'bytes', hmac: 'bytes', keyName: 'string', algorithm: 'string' } as const;

export const GENERATE_KEY_REQUEST = { adminPassword: 'string', keyName: 'string', keyType: 'string', keySpec: 'string', keySize: 'uint64' } as const;
export const INJECT_KEY_REQUEST = { adminPassword: 'string', keyName: 'string', keyType: 'string', key: 'bytes' } as const;
export const BACKUP_BLOB = { encryptionKey: 'bytes', version: 'int64', timestamp: 'int64', encryptedState: 'bytes' } as const;
export const GENERATE_BACKUP_REQUEST = { adminPassword: 'string' } as const;
export const RESTORE_BACKUP_REQUEST = { adminPassword: 'string', backup: BACKUP_BLOB } as const;
export const LIST_KEYS_REQUEST = { adminPassword: 'string', keyName: 'string', keyType: 'string' } as const;
export const GET_LOGS_REQUEST = { adminPassword: 'string' } as const;

function responseSchema(properties: Record<string, unknown>, required: readonly string[] = Object.keys(properties)): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, required, properties };
}

const BYTES = { type: 'string', description: 'base64' } as const;
const INT64 = { type: 'string', pattern: '^-?[0-9]+$', description: '64-bit integer as a string (proto3 JSON)' } as const;

export const OUTPUT_RESPONSE = responseSchema({ output: BYTES });
export const VALID_RESPONSE = responseSchema({ valid: { type: 'boolean' } });
export const EMPTY_MESSAGE = responseSchema({});

const LIST_SYMMETRIC = responseSchema({ name: { type: 'string' }, createdAt: { ...INT64, description: 'Unix milliseconds' }, keyLength: { ...INT64, description: 'bytes' } });
const LIST_ASYMMETRIC = responseSchema({ name: { type: 'string' }, createdAt: { ...INT64, description: 'Unix milliseconds' }, keySpec: { type: 'string' }, publicKey: { ...BYTES, description: 'SPKI DER, base64' } });
const LIST_MAC = LIST_SYMMETRIC;

export const LIST_KEYS_RESPONSE = responseSchema({
  symmetricKey: { type: 'array', items: LIST_SYMMETRIC },
  asymmetricKey: { type: 'array', items: LIST_ASYMMETRIC },
  macKey: { type: 'array', items: LIST_MAC },
});

export const GET_LOGS_RESPONSE = responseSchema({ log: { type: 'array', items: { type: 'string' } } });

export const GENERATE_BACKUP_RESPONSE = responseSchema({
  backup: responseSchema({ encryptionKey: BYTES, version: INT64, timestamp: INT64, encryptedState: BYTES }),
});

export interface ListedSymmetricKey { readonly name: string; readonly createdAt: string; readonly keyLength: string }
export interface ListedAsymmetricKey { readonly name: string; readonly createdAt: string; readonly keySpec: string; readonly publicKey: string }

export interface ListKeysResponse {
  readonly symmetricKey: readonly ListedSymmetricKey[];
  readonly asymmetricKey: readonly ListedAsymmetricKey[];
  readonly macKey: readonly ListedSymmetricKey[];
}
