// `coffer node join --config FILE (--join-token T | --aws-evidence-file F)`: starts the node sealed over
// the cluster's shared store, joins through attestation, then serves in the foreground until a signal,
// exactly as `coffer serve` does (same lines, same shutdown). A certificate the cluster's CA issued for
// the node's own TLS key is written under <dataDir>/node-tls/.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { CofferError } from '../core/errors.ts';
import { loadConfig, startNode } from '../server/index.ts';
import { joinNode, type JoinCredential, type JoinedNode, type NodeTlsMaterial } from '../server/join-wiring.ts';
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

/** Writes the key (0600, in a 0700 directory) and the chain; returns their paths. */
export function writeNodeTls(dataDir: string, tls: NodeTlsMaterial): { keyFile: string; certFile: string } {
  const dir = joinPath(dataDir, 'node-tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode does not change a directory that was already there.
  chmodSync(dir, 0o700);
  const keyFile = joinPath(dir, 'node.key');
  const certFile = joinPath(dir, 'node-chain.pem');
  // Created afresh, so the key is never written into a file that someone else could already read.
  rmSync(keyFile, { force: true });
  writeFileSync(keyFile, tls.privateKeyPem, { mode: 0o600, flag: 'wx' });
  writeFileSync(certFile, tls.chainPem);
  return { keyFile, certFile };
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
  let joined: JoinedNode;
  try {
    console.log(`coffer: node ${config.nodeId} (${running.node.state}) asking the cluster to admit it…`);
    joined = await joinNode(running.node, join, { apiUrl: config.cluster.advertiseUrl ?? running.apiUrl });
  } catch (error) {
    await running.close();
    throw error;
  }
  console.log(`coffer: node ${config.nodeId} joined the cluster`);
  if (joined.tls !== undefined) {
    try {
      const files = writeNodeTls(config.dataDir, joined.tls);
      console.log(`coffer: the cluster's CA certified this node's TLS key: key ${files.keyFile}, chain ${files.certFile}`);
      console.log('coffer: point api.tls.certFile and api.tls.keyFile at them to serve on that certificate at the next start');
    } catch (error) {
      // The node has joined and serves; only the certificate is lost (the key with it, by design).
      console.log(`coffer: warning: the node certificate could not be written: ${error instanceof Error ? error.message : String(error)}`);
    }
  } else if (joined.certificateRejected === true) {
    console.log('coffer: warning: the join answer carried a certificate that is not for this node\'s key; it was not kept');
  }
  announceServing(config.nodeId, running);
  await serveUntilSignal(running);
}
