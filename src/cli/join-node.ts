// `coffer node join --config FILE (--join-token T | --aws-evidence-file F)`: starts the node sealed over
// the cluster's shared store, joins through attestation, then serves in the foreground until a signal,
// exactly as `coffer serve` does (same lines, same shutdown).
import { readFileSync } from 'node:fs';
import { CofferError } from '../core/errors.ts';
import { loadConfig, startNode } from '../server/index.ts';
import { joinNode, type JoinCredential } from '../server/join-wiring.ts';
import { listenError } from './run-until-signal.ts';
import { announceServing, serveUntilSignal } from './serve-node.ts';

/** The AWS evidence file: {"document": "<IMDS document text>", "signature": "<IMDS signature>", "role"?: "name"}. */
function readAwsEvidence(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `the AWS evidence file ${file} cannot be read as JSON`, { cause: error });
  }
}

export async function joinAndServe(configPath: string, credential: { token?: string; awsEvidenceFile?: string }, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  if ((credential.token === undefined) === (credential.awsEvidenceFile === undefined)) {
    throw new CofferError('INVALID_ARGUMENT', 'give exactly one of --join-token and --aws-evidence-file');
  }
  const join: JoinCredential = credential.token !== undefined ? { token: credential.token } : { awsEvidence: readAwsEvidence(credential.awsEvidenceFile ?? '') };
  const config = loadConfig(configPath, env);
  if (config.store.backend !== 'postgres') {
    throw new CofferError('INVALID_ARGUMENT', 'a joining node needs the cluster\'s shared store: set store.backend "postgres" and store.url (or COFFER_STORE_URL)');
  }
  const running = await startNode(config).catch((error: unknown) => {
    throw listenError(error);
  });
  try {
    console.log(`coffer: node ${config.nodeId} (${running.node.state}) asking the cluster to admit it…`);
    await joinNode(running.node, join);
  } catch (error) {
    await running.close();
    throw error;
  }
  console.log(`coffer: node ${config.nodeId} joined the cluster`);
  announceServing(config.nodeId, running);
  await serveUntilSignal(running);
}
