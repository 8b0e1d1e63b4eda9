// Starting a node as a server: open the node, build its services, serve the API over mutual TLS and
// the health port over plain HTTP. `coffer serve --config file.json` calls startNode.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createApp, type AppOptions } from './app.ts';
import { CofferNode } from './coffer-node.ts';
import type { ServerConfig } from './config.ts';
import { createHealthApp } from './health-app.ts';
import type { PrincipalDirectory } from './identity/index.ts';
import { NodeServices, principalDirectoryFactory } from './node-services.ts';
import { loadTlsOptions } from './tls-material.ts';

export interface RunningNode {
  /** e.g. https://127.0.0.1:8443 (the bound port when the config asked for 0). */
  readonly apiUrl: string;
  readonly healthUrl: string;
  readonly node: CofferNode;
  readonly services: NodeServices;
  /** The directory of the current unsealed period (DOMAIN_SEALED while sealed). */
  directory(): Promise<PrincipalDirectory>;
  /** Stops both listeners (in-flight requests finish), then seals and closes the node. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Override the config's logging (tests pass false or a stream). */
  readonly logger?: AppOptions['logger'];
}

function packageVersion(): string {
  try {
    const parsed: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const version = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['version'] : undefined;
    return typeof version === 'string' ? version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function urlOf(app: FastifyInstance, scheme: 'http' | 'https'): string {
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}

export async function startNode(config: ServerConfig, options: StartOptions = {}): Promise<RunningNode> {
  // TLS material is checked before the node opens, so a bad file changes nothing and listens nowhere.
  const https = loadTlsOptions(config.api.tls);
  const node = await CofferNode.open({ dataDir: config.dataDir, nodeId: config.nodeId });
  const services = new NodeServices(node, {
    createDirectory: principalDirectoryFactory({ tokenTtlSeconds: config.auth.tokenTtlSeconds, loginFailuresPerMinute: config.auth.loginFailuresPerMinute }),
    version: packageVersion(),
  });
  const api = createApp(services, { https, limits: config.limits, logger: options.logger ?? { level: config.log.level } });
  const health = createHealthApp(services);
  try {
    await api.listen({ host: config.api.host, port: config.api.port });
    await health.listen({ host: config.health.host, port: config.health.port });
  } catch (error) {
    await Promise.allSettled([api.close(), health.close()]);
    await node.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    apiUrl: urlOf(api, 'https'),
    healthUrl: urlOf(health, 'http'),
    node,
    services,
    directory: () => services.directory(),
    close: () => (closing ??= (async () => {
      await Promise.allSettled([api.close(), health.close()]);
      await node.close();
    })()),
  };
}
