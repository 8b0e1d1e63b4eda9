// coffer openpgp: the OpenPGP side of a Coffer signing key — its certificate (public key, user ID and
// self-signature, made by Coffer) for gpg --import, and clear-signed text for release manifests.
// Detached OpenPGP signatures of files are `coffer sign KEY --direct --as openpgp`.
import { createHash } from 'node:crypto';
import type { CofferClient, KeyRef } from '../../client/index.ts';
import { approvedKeySigner } from '../../signing/approved-key-signer.ts';
import { openpgpClearSign, openpgpPublicKey, type KeySigner } from '../../signing/formats/index.ts';
import { sdkKeySigner } from '../../signing/sdk-key-signer.ts';
import { readInput, writeOutput } from '../byte-io.ts';
import type { Command } from '../command.ts';
import { printJson } from '../output.ts';
import { keyRefOf } from './key-commands.ts';

/**
 * The key's signer: plain, or, for a key whose policy names approvers, one that asks them through a
 * key-use request (shown with `metadata`) and waits until they approved, saying so on stderr.
 */
async function keySignerFor(client: CofferClient, key: KeyRef, metadata: Readonly<Record<string, string>>): Promise<KeySigner> {
  if ((await client.keys.get(key)).approval === undefined) return sdkKeySigner(client, key);
  return approvedKeySigner(client, key, {
    metadata,
    progress: {
      requested: (requestId) => {
        process.stderr.write(`coffer: the key needs approval: waiting for its approvers on key-use request ${requestId} (coffer approve yes ${requestId})\n`);
        return Promise.resolve();
      },
      approved: () => Promise.resolve(),
    },
  });
}

export const OPENPGP_COMMANDS: readonly Command[] = [
  {
    name: 'openpgp key', synopsis: '<key> --user-id "Name <email>" [--out FILE]',
    summary: "the key's OpenPGP certificate (armoured public key with a self-signature made in Coffer), for gpg --import",
    details: 'The key version\'s creation time dates the OpenPGP key, so its fingerprint is stable; a rotated key is a new\n'
      + 'OpenPGP key to publish. --json prints the fingerprint and key id with the armoured block. A key whose policy names\n'
      + 'approvers signs its self-certification only once they approved the key-use request this prints.\n'
      + 'e.g.   coffer openpgp key release/signer --user-id "Acme Releases <release@acme.example>" --out release.asc && gpg --import release.asc',
    options: { 'user-id': { type: 'string' }, out: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const userId = args.required('user-id');
      const signer = await keySignerFor(client(), keyRefOf(args), { purpose: 'OpenPGP certificate', userId: userId.slice(0, 1024) });
      const certificate = await openpgpPublicKey(signer, userId);
      if (json) printJson(certificate);
      else await writeOutput(args.string('out'), Buffer.from(certificate.armored));
      return undefined;
    },
  },
  {
    name: 'openpgp clearsign', synopsis: '<key> --in FILE|- [--out FILE]',
    summary: 'clear-signed text (a release manifest, say) that gpg --verify checks',
    options: { in: { type: 'string' }, out: { type: 'string' } },
    run: async ({ args, client }) => {
      const text = await readInput(args.required('in'));
      const signer = await keySignerFor(client(), keyRefOf(args), { purpose: 'OpenPGP clear-signed text', sha256: createHash('sha256').update(text).digest('hex') });
      const signed = await openpgpClearSign(text, signer, { signingTime: new Date() });
      await writeOutput(args.string('out'), signed.bytes);
      return undefined;
    },
  },
];
