// The routes an app serves, read from the app itself (Fastify's route tree), so a suite that walks
// every route fails when a route is added without being covered. Used by the authorisation matrix
// and the bad-input suite.
import type { FastifyInstance } from 'fastify';

export interface ServedRoute {
  readonly method: string;
  /** The pattern as registered, e.g. /v1/keys/:keyId. */
  readonly url: string;
}

/** `├── /seg (GET, HEAD)`: tree prefix (4 characters a level), a segment appended to its parent's path, methods. */
const TREE_LINE = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([A-Z, ]+)\))?$/;

/**
 * Every (method, url) the app registered, HEAD routes included, in registration order of the tree.
 * Parsed from printRoutes({ commonPrefix: false }): each node's path is its parent's path plus the
 * printed segment (find-my-way splits at shared prefixes, e.g. /unseal then -session). Each result
 * is checked with hasRoute, so a parse that drifts from Fastify's output cannot pass silently.
 */
export function servedRoutes(app: FastifyInstance): ServedRoute[] {
  const routes: ServedRoute[] = [];
  const parents: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    if (line.trim() === '') continue;
    const match = TREE_LINE.exec(line);
    if (match === null) throw new Error(`unexpected route tree line: ${line}`);
    const depth = (match[1] ?? '').length / 4;
    const url = `${depth === 0 ? '' : (parents[depth - 1] ?? '')}${match[2] ?? ''}`;
    parents[depth] = url;
    parents.length = depth + 1;
    for (const method of (match[3] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '')) {
      if (!app.hasRoute({ method, url })) throw new Error(`route tree parse produced ${method} ${url}, which the app does not have`);
      routes.push({ method, url });
    }
  }
  return routes;
}

/** HEAD routes that Fastify derives from a GET route are left out: they behave as the GET. */
export function explicitRoutes(app: FastifyInstance): ServedRoute[] {
  const all = servedRoutes(app);
  const gets = new Set(all.filter((r) => r.method === 'GET').map((r) => r.url));
  return all.filter((r) => r.method !== 'HEAD' || !gets.has(r.url));
}

export const routeKey = (route: ServedRoute): string => `${route.method} ${route.url}`;
