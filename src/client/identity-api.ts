// /v1/auth, /v1/principals and /v1/projects: login for a bearer token, principals and projects.
import type { CreatePrincipalRequest, IssuedToken, ListQuery, Page, Principal, Project, UpdatePrincipalRequest } from './api-types.ts';
import type { Transport } from './transport.ts';
import { pageOf, paginate } from './pagination.ts';

const segment = (value: string): string => encodeURIComponent(value);

export class AuthApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Password login. The client then sends the token on every request (until logout or setToken). */
  async login(name: string, password: string): Promise<IssuedToken> {
    const { body, node } = await this.#http.exchange('POST', '/v1/auth/login', { body: { name, password } });
    const issued = body as IssuedToken;
    // The token lives in the memory of the node that issued it: later requests go there.
    this.#http.useToken(issued.token, node);
    return issued;
  }

  /** Revokes the client's token on the node and forgets it here. */
  async logout(): Promise<void> {
    await this.#http.send('POST', '/v1/auth/logout');
    this.#http.useToken(undefined);
  }

  /**
   * For service principals that accept client certificates themselves (the signing service): the
   * active principal the certificate (DER) is bound to. AUTH_CERTIFICATE_UNTRUSTED when none is.
   */
  async identify(certificateDer: Uint8Array): Promise<{ name: string; role: string }> {
    return (await this.#http.send('POST', '/v1/auth/identify', { body: { certificate: Buffer.from(certificateDer).toString('base64') }, idempotent: true })) as { name: string; role: string };
  }

  async whoami(): Promise<Principal> {
    return (await this.#http.send('GET', '/v1/auth/whoami')) as Principal;
  }
}

export class PrincipalApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  async create(request: CreatePrincipalRequest): Promise<Principal> {
    return (await this.#http.send('POST', '/v1/principals', { body: request })) as Principal;
  }

  async list(query: ListQuery = {}): Promise<Page<Principal>> {
    return pageOf<Principal>(await this.#http.send('GET', '/v1/principals', { query: { ...query } }), 'principals');
  }

  /** Every principal, page by page. */
  listAll(query: Omit<ListQuery, 'after'> = {}): AsyncGenerator<Principal, void, undefined> {
    return paginate((after) => this.list({ ...query, ...(after === undefined ? {} : { after }) }));
  }

  async get(name: string): Promise<Principal> {
    return (await this.#http.send('GET', `/v1/principals/${segment(name)}`)) as Principal;
  }

  async update(name: string, request: UpdatePrincipalRequest): Promise<Principal> {
    return (await this.#http.send('PATCH', `/v1/principals/${segment(name)}`, { body: request })) as Principal;
  }

  async delete(name: string): Promise<void> {
    await this.#http.send('DELETE', `/v1/principals/${segment(name)}`);
  }

  /** Officers for anyone, anyone for itself; ends the principal's tokens. */
  async setPassword(name: string, password: string): Promise<void> {
    await this.#http.send('PUT', `/v1/principals/${segment(name)}/password`, { body: { password } });
  }
}

export class ProjectApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  async create(request: { readonly name: string; readonly description?: string }): Promise<Project> {
    return (await this.#http.send('POST', '/v1/projects', { body: request })) as Project;
  }

  async list(query: ListQuery = {}): Promise<Page<Project>> {
    return pageOf<Project>(await this.#http.send('GET', '/v1/projects', { query: { ...query } }), 'projects');
  }

  listAll(query: Omit<ListQuery, 'after'> = {}): AsyncGenerator<Project, void, undefined> {
    return paginate((after) => this.list({ ...query, ...(after === undefined ? {} : { after }) }));
  }

  async get(name: string): Promise<Project> {
    return (await this.#http.send('GET', `/v1/projects/${segment(name)}`)) as Project;
  }

  /** PROJECT_NOT_EMPTY while it holds keys or members. */
  async delete(name: string): Promise<void> {
    await this.#http.send('DELETE', `/v1/projects/${segment(name)}`);
  }
}
