// coffer openpgp: the OpenPGP side of a Coffer signing key — its certificate (public key, user ID and
// self-signature, made by Coffer) for gpg --import, and clear-signed text for release manifests.
// Detached OpenPGP signatures of files are `coffer sign KEY --direct --as openpgp`.
import { openpgpClearSign, openpgpPublicKey } from '../../signing/formats/index.ts';
import { sdkKeySigner } from '../../signing/sdk-key-signer.ts';
import { readInput, writeOutput } from '../byte-io.ts';
import type { Command } from '../command.ts';
import { printJson } from '../output.ts';
import { keyRefOf } from './key-commands.ts';

export const OPENPGP_COMMANDS: readonly Command[] = [
  {
    name: 'openpgp key', synopsis: '<key> --user-id "Name <email>" [--out FILE]',
    summary: "the key's OpenPGP certificate (armoured public key with a self-signature made in Coffer), for gpg --import",
    details: 'The key version\'s creation time dates the OpenPGP key, so its fingerprint is stable; a rotated key is a new\n'
      + 'OpenPGP key to publish. --json prints the fingerprint and key id with the armoured block.\n'
      + 'e.g.   coffer openpgp key release/signer --user-id "Acme Releases <release@acme.example>" --out release.asc && gpg --import release.asc',
    options: { 'user-id': { type: 'string' }, out: { type: 'string' } },
    run: async ({ args, json, client }) => {
      const signer = await sdkKeySigner(client(), keyRefOf(args));
      const certificate = await openpgpPublicKey(signer, args.required('user-id'));
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
      const signer = await sdkKeySigner(client(), keyRefOf(args));
      const text = await readInput(args.required('in'));
      const signed = await openpgpClearSign(text, signer, { signingTime: new Date() });
      await writeOutput(args.string('out'), signed.bytes);
      return undefined;
    },
  },
];
