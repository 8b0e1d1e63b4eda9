// `coffer sign <key> --direct [--as FORMAT]`: direct signing for high-volume builders. The file is
// hashed here, streamed (only its digest, or a small structure around it, reaches Coffer), the key
// signs under the builder's own grant, and the signature format is assembled here (for Authenticode
// and JAR: a signed copy of the file).
import { access } from 'node:fs/promises';
import { CofferError, toCofferError } from '../../core/errors.ts';
import type { CofferClient } from '../../client/index.ts';
import { cofferTimeStamper } from '../../signing/coffer-time-stamper.ts';
import { hashArtifact } from '../../signing/artifact-hash.ts';
import { formatSigner, type CmsOptions, type FormatOptions } from '../../signing/formats/index.ts';
import { TIME_STAMPED_FORMATS } from '../../signing/profiles/index.ts';
import { sdkKeySigner } from '../../signing/sdk-key-signer.ts';
import type { Args } from '../args.ts';
import { writeOutput } from '../byte-io.ts';
import { UsageError } from '../command.ts';
import { printJson } from '../output.ts';
import type { TelemetryEvent } from '../../signing/service/signer-api.ts';
import { signerFrom } from './signing-commands.ts';

export const DIRECT_DETAILS = `--direct: hash the file here (streamed, any size; --in is required and may be - for stdin) and
  assemble the signature here: --as raw (default: a detached signature over the digest; openssl dgst
  -verify), cms (detached CMS with the key's attached certificate chain; openssl cms -verify), jws
  (detached JWS with unencoded payload, RFC 7797), openpgp (detached armoured OpenPGP signature; gpg
  --verify after \`coffer openpgp key\`), authenticode (a signed copy of a Windows PE file; osslsigncode
  verify) or jar (a signed copy of a JAR; jarsigner -verify). --algorithm picks one of the key's
  algorithms (e.g. RSASSA_PSS_SHA_256); --time-stamp TSA_KEY adds an RFC 3161 token to cms, authenticode
  and jar signatures.
--profile NAME [--project P] [--signer URL]: afterwards send a telemetry event (project, profile, the file's
  digest and size, outcome, duration, node) to the signing service (COFFER_SIGNER_URL) for its statistics;
  --project defaults to the key's project. A telemetry failure is reported but does not fail the signature.
e.g.   coffer sign release/signer --direct --as cms --in app.tar.gz --out app.tar.gz.p7s --time-stamp release/tsa
       coffer sign release/signer --direct --in app.tar.gz --out app.tar.gz.sig --profile nightly`;

/** Where the telemetry goes, when --profile asks for it. */
interface TelemetryTarget {
  readonly project: string;
  readonly profile: string;
}

function telemetryTarget(args: Args, key: string): TelemetryTarget | undefined {
  const profile = args.string('profile');
  const project = args.string('project') ?? (key.includes('/') ? key.split('/')[0] : undefined);
  if (profile === undefined) {
    if (args.string('project') !== undefined) throw new UsageError('--project goes with --profile (the telemetry of a signing profile)');
    return undefined;
  }
  if (project === undefined || project === '') throw new UsageError('--profile needs --project when the key is given by id');
  return { project, profile };
}

/** The Coffer node this client talks to, as telemetry names it (host:port). */
function nodeOf(args: Args): string | undefined {
  const url = args.string('url') ?? process.env['COFFER_URL'];
  if (url === undefined || url === '') return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

async function sendTelemetry(args: Args, target: TelemetryTarget, event: Omit<TelemetryEvent, 'project' | 'profile'>): Promise<void> {
  const signer = signerFrom(args);
  try {
    await signer.sendTelemetry({ ...target, ...event });
  } catch (error) {
    const failure = toCofferError(error);
    process.stderr.write(`coffer: warning: the telemetry event was not accepted (${failure.code}: ${failure.message})\n`);
  } finally {
    signer.close();
  }
}

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
  if (tsa !== undefined && !TIME_STAMPED_FORMATS.includes(format.format)) throw new UsageError(`--time-stamp applies to --as ${TIME_STAMPED_FORMATS.join(', ')} only`);
  const target = telemetryTarget(args, key);
  if (target !== undefined) signerFrom(args).close(); // fail fast on a missing --signer, before any work
  const started = Date.now();
  const signer = await sdkKeySigner(client, key);
  // One time for hashPlan and sign: formats that hash it with the data (OpenPGP) need the same value in both.
  const options: FormatOptions & CmsOptions = {
    signingTime: new Date(),
    ...(algorithm === undefined ? {} : { algorithm }),
    ...(tsa === undefined ? {} : {
      timeStamp: cofferTimeStamper(client, tsa),
    }),
  };
  if (format.signFile !== undefined) {
    // An embedded format signs inside the file: it reads the file here, and the output is the signed file.
    if (input === '-') throw new UsageError(`--as ${format.format} signs inside the file: give --in FILE, not standard input`);
    if (target !== undefined) throw new UsageError(`--profile telemetry goes with detached formats; --as ${format.format} writes a signed copy of the file`);
    const signedFile = await format.signFile(input, signer, options);
    await writeOutput(args.string('out'), signedFile.bytes);
    if (json) printJson({ format: format.format, keyId: signer.keyId, keyVersion: signer.keyVersion, algorithm: signedFile.algorithm, mediaType: signedFile.mediaType, durationMs: Date.now() - started });
    return undefined;
  }
  const plan = format.hashPlan(signer, options);
  // Telemetry names the file by its own SHA-256: hashed alongside only when the plan's digest is not that already.
  const also = target !== undefined && (plan.hash !== 'SHA-256' || plan.prefix !== undefined) ? 'SHA-256' : undefined;
  const source = input === '-' ? process.stdin : input;
  const hashed = also === undefined ? { ...await hashArtifact(plan, source), also: undefined } : await hashArtifact(plan, source, also);
  const digest = { hash: hashed.hash, digest: hashed.digest, size: hashed.size };
  const fileDigest = { hash: 'SHA-256' as const, value: (hashed.also ?? hashed.digest).toString('hex') };
  const node = nodeOf(args);
  const report = (outcome: 'signed' | 'failed', errorCode?: string): Promise<void> => target === undefined ? Promise.resolve() : sendTelemetry(args, target, {
    digest: fileDigest, size: hashed.size, outcome, durationMs: Date.now() - started, keyId: signer.keyId,
    ...(node === undefined ? {} : { node }), ...(errorCode === undefined ? {} : { errorCode }),
  });
  let signed: Awaited<ReturnType<typeof format.sign>>;
  try {
    signed = await format.sign(digest, signer, options);
  } catch (error) {
    await report('failed', toCofferError(error).code);
    throw error;
  }
  await report('signed');
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
