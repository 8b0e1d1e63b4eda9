// RFC 3161 §2.4.2 PKIStatusInfo for rejections: the failure names, their bit numbers, and the reply.
import { AsnConvert, type BitString } from '@peculiar/asn1-schema';
import { PKIFailureInfo, PKIFreeText, PKIStatus, PKIStatusInfo, TimeStampResp } from '@peculiar/asn1-tsp';

/**
 * PKIFailureInfo bit numbers (RFC 3161 §2.4.2). @peculiar/asn1-tsp's PKIFailureInfoFlags encodes
 * badRequest as bit 1 and badDataFormat as bit 4 (off by one from the RFC), so the bits are set here.
 */
export const TSA_FAILURE_BITS = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;
export type TsaFailure = keyof typeof TSA_FAILURE_BITS;

/** A rejected query: what to put in failInfo, and a fixed text (never an echo of the client's bytes). */
export interface TsaRejection {
  readonly failure: TsaFailure;
  readonly reason: string;
}

/** A named BIT STRING with the one bit set, DER as X.690 §11.2.2 requires (no trailing zero bits). */
export function failureInfoBits(failure: TsaFailure): PKIFailureInfo {
  const bit = TSA_FAILURE_BITS[failure];
  const bytes = new Uint8Array(Math.floor(bit / 8) + 1);
  bytes[bytes.length - 1] = 0x80 >> (bit % 8);
  return new PKIFailureInfo(bytes, 7 - (bit % 8));
}

/** The failure names whose bits are set in a PKIFailureInfo (for clients and tests). */
export function failuresOf(failInfo: BitString): TsaFailure[] {
  const bytes = new Uint8Array(failInfo.value);
  const isSet = (bit: number): boolean => ((bytes[Math.floor(bit / 8)] ?? 0) & (0x80 >> (bit % 8))) !== 0;
  return (Object.keys(TSA_FAILURE_BITS) as TsaFailure[]).filter((name) => isSet(TSA_FAILURE_BITS[name]));
}

/** A TimeStampResp with status rejection (2), the failInfo bit and the status text; no token. */
export function rejectionReply(rejection: TsaRejection): Buffer {
  const status = new PKIStatusInfo({
    status: PKIStatus.rejection,
    statusString: new PKIFreeText([rejection.reason]),
    failInfo: failureInfoBits(rejection.failure),
  });
  return Buffer.from(AsnConvert.serialize(new TimeStampResp({ status })));
}
