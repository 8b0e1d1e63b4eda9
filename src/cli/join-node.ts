// `coffer node join --config FILE (--join-token T | --aws-evidence-file F)`: starts the node sealed over
// the cluster's shared store, joins through attestation, then serves in the foreground until a signal.
import { readFileSync } from 'node:fs';
import { CofferError } from '../core/errors.ts';
import { loadConfig, startNode } from '../server/index.ts';
import { joinNode, type JoinCredential } from '../server/join-wiring.ts';
import { listenError, untilSignal } from './run-until-signal.ts';

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
  console.log(`coffer: node ${config.nodeId} joined (${running.node.state}); serving the API at ${running.apiUrl}, health at ${running.healthUrl}`);
  console.log('coffer: ready');
  const signal = await untilSignal();
  console.log(`coffer: ${signal}: sealing and closing`);
  await running.close();
  console.log('coffer: stopped');
}
