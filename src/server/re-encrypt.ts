// Re-encryption under another key (or the newest version of the same key) without the plaintext
// leaving the node: decrypt then encrypt with the same caller, each step authorised and audited by
// the engine on its own, so the journal shows both the source and the destination key.
import type { Caller, EncryptResult, KeyEngine, KeyRef } from '../core/engine/index.ts';

export interface ReEncryptInput {
  readonly ciphertext: Uint8Array;
  readonly sourceContext?: Readonly<Record<string, string>>;
  /** When given, the ciphertext must belong to this key (CRYPTO_DECRYPT_FAILED otherwise). */
  readonly sourceKeyId?: string;
  readonly destination: KeyRef;
  readonly destinationContext?: Readonly<Record<string, string>>;
  readonly algorithm?: string;
}

export interface ReEncryptResult extends EncryptResult {
  readonly sourceKeyId: string;
  readonly sourceKeyVersion: number;
}

export async function reEncrypt(engine: KeyEngine, caller: Caller, input: ReEncryptInput): Promise<ReEncryptResult> {
  const opened = await engine.crypto.decrypt(caller, input.ciphertext, {
    ...(input.sourceContext === undefined ? {} : { context: input.sourceContext }),
    ...(input.sourceKeyId === undefined ? {} : { keyId: input.sourceKeyId }),
  });
  try {
    const sealed = await engine.crypto.encrypt(caller, input.destination, opened.plaintext, {
      ...(input.destinationContext === undefined ? {} : { context: input.destinationContext }),
      ...(input.algorithm === undefined ? {} : { algorithm: input.algorithm }),
    });
    return { ...sealed, sourceKeyId: opened.keyId, sourceKeyVersion: opened.keyVersion };
  } finally {
    opened.plaintext.fill(0);
  }
}
