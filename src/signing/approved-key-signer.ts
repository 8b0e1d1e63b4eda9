// A KeySigner for keys whose Coffer policy names approvers: each signature is a Coffer key-use
// request bound to the exact to-be-signed digest, shown to the approvers with the job's artifact
// data, and signed by Coffer only once M of them approved. The signing service never holds a way
// around it: Coffer refuses a plain sign of such a key (APPROVAL_REQUIRED).
import { keyUseDigest } from '../core/engine/approved-use.ts';
import { CofferError, isErrorCode } from '../core/errors.ts';
import type { SigningAlgorithm } from '../core/algorithms/names.ts';
import type { CofferClient, KeyRef, KeyUseOutcome } from '../client/index.ts';
import type { KeySigner, SignInput } from './formats/format-signer.ts';
import type { ApprovalProgress } from './jobs/index.ts';
import { sdkKeySigner } from './sdk-key-signer.ts';

/** Each long-poll round asks Coffer for this long before looking at `signal` again. */
const POLL_SECONDS = 20;

export interface ApprovedKeySignerOptions {
  /** A request made earlier (the job's keyUseRequestId): waited on again instead of asking anew. */
  readonly existingRequestId?: string;
  /** Shown to the approvers and bound into the request's digest. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly progress: ApprovalProgress;
  /** How long approvers have: 60 to 86400 seconds (Coffer's default 3600). */
  readonly expiresInSeconds?: number;
  /** Aborted when the service stops: the wait ends with SIGNING_JOB_STATE so the job is resumed, not failed. */
  readonly signal?: AbortSignal;
}

function refusal(outcome: KeyUseOutcome, requestId: string): CofferError {
  if (outcome.status === 'rejected') return new CofferError('APPROVAL_REJECTED', `an approver rejected key-use request ${requestId}`);
  if (outcome.status === 'expired') return new CofferError('APPROVAL_EXPIRED', `key-use request ${requestId} expired before enough approvers approved`);
  const code = outcome.error?.code;
  return new CofferError(code !== undefined && isErrorCode(code) ? code : 'APPROVAL_REQUIRED', `key-use request ${requestId} failed: ${outcome.error?.message ?? outcome.status}`);
}

/** The poll's answer, or undefined as soon as `signal` aborts (the poll's own answer is then dropped). */
async function untilAborted<T>(poll: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (signal === undefined) return poll;
  if (signal.aborted) {
    poll.catch(() => undefined);
    return undefined;
  }
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => {
      resolve(undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([poll, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    poll.catch(() => undefined);
  }
}

/** The key's signer through approvals; `sign` resolves once Coffer ran the approved use. */
export async function approvedKeySigner(client: CofferClient, key: KeyRef, options: ApprovedKeySignerOptions): Promise<KeySigner> {
  const base = await sdkKeySigner(client, key);
  const { progress, signal } = options;
  let requestId = options.existingRequestId;

  async function request(algorithm: SigningAlgorithm, input: SignInput): Promise<string> {
    const inputDigest = keyUseDigest.sign('digest' in input ? { digest: input.digest } : { message: input.message });
    if (requestId !== undefined) {
      // Waiting again after a restart: the request must be for exactly what is about to be signed.
      const view = await client.keyUse.show(requestId);
      if (view.keyId !== base.keyId || view.keyVersion !== base.keyVersion || view.inputDigest !== inputDigest || view.use !== 'sign') {
        throw new CofferError('APPROVAL_MISMATCH', `key-use request ${requestId} was for other input or another key version; submit the artifact again`);
      }
      return requestId;
    }
    const view = await client.keyUse.request(
      { use: 'sign', key: base.keyId, algorithm, ...input },
      { metadata: options.metadata, ...(options.expiresInSeconds === undefined ? {} : { expiresInSeconds: options.expiresInSeconds }) },
    );
    requestId = view.requestId;
    await progress.requested(view.requestId);
    return view.requestId;
  }

  return {
    ...base,
    async sign(algorithm: SigningAlgorithm, input: SignInput): Promise<Buffer> {
      const id = await request(algorithm, input);
      for (;;) {
        if (signal?.aborted === true) throw new CofferError('SIGNING_JOB_STATE', `the signing service is stopping; the job waiting on key-use request ${id} resumes when it starts again`);
        const outcome = await untilAborted(client.keyUse.waitForResult(id, POLL_SECONDS), signal);
        if (outcome === undefined || outcome.status === 'pending' || outcome.status === 'running') continue;
        const result = outcome.result;
        // The wire form of a sign result carries the signature and the version that made it.
        if (outcome.status !== 'completed' || result === undefined || !('signature' in result)) throw refusal(outcome, id);
        if (result.keyVersion !== base.keyVersion) throw new CofferError('STORE_CONFLICT', 'the key was rotated while the approvers decided; submit again');
        await progress.approved();
        return Buffer.from(result.signature);
      }
    },
  };
}
