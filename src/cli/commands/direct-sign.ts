// `coffer sign <key> --direct [--as raw|cms|jws]`: direct signing for high-volume builders. The file
// is hashed here, streamed (only its digest, or a small structure around it, reaches Coffer), the key
// signs under the builder's own grant, and the signature format is assembled here.
import { access } from 'node:fs/promises';
import { CofferError } from '../../core/errors.ts';
import type { CofferClient } from '../../client/index.ts';
import { cofferTimeStamper } from '../../signing/coffer-time-stamper.ts';
import { hashArtifact } from '../../signing/artifact-hash.ts';
import { formatSigner, type CmsOptions, type FormatOptions } from '../../signing/formats/index.ts';
import { sdkKeySigner } from '../../signing/sdk-key-signer.ts';
import type { Args } from '../args.ts';
import { writeOutput } from '../byte-io.ts';
import { UsageError } from '../command.ts';
import { printJson } from '../output.ts';

export const DIRECT_DETAILS = `--direct: hash the file here (streamed, any size; --in is required and may be - for stdin) and
  assemble the signature here: --as raw (default: a detached signature over the digest; openssl dgst
  -verify), cms (detached CMS with the key's attached certificate chain; openssl cms -verify), jws
  (detached JWS with unencoded payload, RFC 7797). --algorithm picks one of the key's algorithms
  (e.g. RSASSA_PSS_SHA_256); --time-stamp TSA_KEY adds an RFC 3161 token over a CMS signature.
e.g.   coffer sign release/signer --direct --as cms --in app.tar.gz --out app.tar.gz.p7s --time-stamp release/tsa`;

export async function directSign(args: Args, json: boolean, client: CofferClient, key: string): Promise<undefined> {
  const input = args.string('in');
  if (input === undefined) throw new UsageError('--direct needs --in FILE (or - for standard input)');
  if (args.flag('digest') || args.string('format') !== undefined) throw new UsageError('--direct assembles the format itself: --digest and --format do not apply (use --as)');
  if (input !== '-') {
    await access(input).catch((error: unknown) => {
      throw new CofferError('INVALID_ARGUMENT', `cannot read ${input}`, { cause: error });
    });
  }
  const format = formatSigner(args.string('as') ?? 'raw');
  const algorithm = args.string('algorithm');
  const tsa = args.string('time-stamp');
  if (tsa !== undefined && format.format !== 'cms') throw new UsageError('--time-stamp applies to --as cms only');
  const started = Date.now();
  const signer = await sdkKeySigner(client, key);
  const options: FormatOptions & CmsOptions = {
    ...(algorithm === undefined ? {} : { algorithm }),
    ...(tsa === undefined ? {} : {
      timeStamp: cofferTimeStamper(client, tsa),
    }),
  };
  const digest = await hashArtifact(format.hashPlan(signer, options), input === '-' ? process.stdin : input);
  const signed = await format.sign(digest, signer, options);
  const out = args.string('out');
  if (json) {
    printJson({
      format: format.format, keyId: signer.keyId, keyVersion: signer.keyVersion, algorithm: signed.algorithm, hash: digest.hash,
      digest: digest.digest.toString('hex'), size: digest.size, mediaType: signed.mediaType, durationMs: Date.now() - started,
      ...(out === undefined || out === '-' ? { signature: signed.bytes.toString('base64') } : { out }),
    });
    if (out !== undefined && out !== '-') await writeOutput(out, signed.bytes);
    return undefined;
  }
  await writeOutput(out, signed.bytes);
  return undefined;
}
