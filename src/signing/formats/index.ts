// Every signature format by name: the one table the service and the CLI resolve a profile's format in.
import { CofferError } from '../../core/errors.ts';
import { authenticodeSigner } from './authenticode/index.ts';
import { cmsSigner } from './cms/index.ts';
import type { FormatSigner } from './format-signer.ts';
import { jarSigner } from './jar/index.ts';
import { jwsSigner } from './jws/index.ts';
import { openpgpSigner } from './openpgp/index.ts';
import { rawSigner } from './raw/index.ts';

export type { ArtifactDigest, FormatOptions, FormatSigner, HashPlan, KeySigner, SignedOutput, SignInput } from './format-signer.ts';
export type { CmsOptions } from './cms/index.ts';
export type { AuthenticodeOptions } from './authenticode/index.ts';
export type { JarOptions } from './jar/index.ts';
export { authenticodeSigner, cmsSigner, jarSigner, jwsSigner, openpgpSigner, rawSigner };
export { openpgpClearSign, openpgpPublicKey, type OpenPgpPublicKey } from './openpgp/index.ts';

const FORMATS: ReadonlyMap<string, FormatSigner> = new Map([rawSigner, cmsSigner, jwsSigner, openpgpSigner, authenticodeSigner, jarSigner].map((signer) => [signer.format, signer]));

export const FORMAT_NAMES: readonly string[] = [...FORMATS.keys()];

/** The format signer named `name`, else UNSUPPORTED_ALGORITHM listing the formats there are. */
export function formatSigner(name: string): FormatSigner {
  const found = FORMATS.get(name);
  if (found === undefined) throw new CofferError('UNSUPPORTED_ALGORITHM', `no signature format ${JSON.stringify(name.slice(0, 32))}; formats: ${FORMAT_NAMES.join(', ')}`);
  return found;
}
