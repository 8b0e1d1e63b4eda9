// /v1/cluster: the live nodes, and join tokens an officer issues for a node joining the cluster.
import type { ClusterNode, IssuedJoinToken, JoinTokenRequest } from './api-types.ts';
import type { Transport } from './transport.ts';

export class ClusterApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** The live nodes, as the answering node sees them in the shared store. */
  async nodes(): Promise<ClusterNode[]> {
    return ((await this.#http.send('GET', '/v1/cluster/nodes')) as { nodes: ClusterNode[] }).nodes;
  }

  /**
   * Officers: a single-use join token for `coffer node join --join-token`. The answer is the only copy
   * of the token (the cluster keeps a hash); a call retried after a lost answer issues another token
   * and the unseen one expires unused. QUORUM_REQUIRED where the quorum policy covers node.admit.
   */
  async issueJoinToken(request: JoinTokenRequest = {}): Promise<IssuedJoinToken> {
    const body = {
      ...(request.nodeName === undefined ? {} : { nodeName: request.nodeName }),
      ...(request.expiresInSeconds === undefined ? {} : { expiresInSeconds: request.expiresInSeconds }),
    };
    return (await this.#http.send('POST', '/v1/cluster/join-tokens', { body })) as IssuedJoinToken;
  }
}
