// An RFC 3161 time-stamper for CMS signatures over the SDK: Coffer's TSA key stamps the signature
// value (RFC 3161 Appendix A) and the token is what the SignerInfo carries as an unsigned attribute.
import { CofferError } from '../core/errors.ts';
import { timeStampTokenOf, type CofferClient, type KeyRef } from '../client/index.ts';

export function cofferTimeStamper(client: CofferClient, tsaKey: KeyRef): (signature: Buffer) => Promise<Buffer> {
  return async (signature: Buffer) => {
    const answer = await client.tsa.stamp(tsaKey, client.tsa.buildQuery({ data: signature }, { hash: 'SHA-256' }));
    if (!answer.granted) throw new CofferError('INVALID_ARGUMENT', `the TSA refused the time-stamp query (${answer.failure ?? 'rejection'})`);
    return timeStampTokenOf(answer.reply);
  };
}
