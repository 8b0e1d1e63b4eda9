export { SealedKeyRepository } from './sealed-key-repository.ts';
export { decodeKeyRecord, encodeKeyRecord } from './key-record-codec.ts';
