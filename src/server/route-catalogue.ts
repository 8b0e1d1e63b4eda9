// Every route the app registers, recorded by an onRoute hook: the source of the OpenAPI document
// and of 405 answers (a path that exists under another method).
import type { FastifyInstance, RouteOptions } from 'fastify';

export interface RouteRecord {
  readonly method: string;
  /** The pattern as registered, e.g. /v1/keys/:keyId. */
  readonly url: string;
  readonly schema: Readonly<Record<string, unknown>>;
  readonly auth: 'none' | 'required';
  readonly whileSealed: boolean;
}

function patternRegExp(url: string): RegExp {
  const source = url.split('/').map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
  return new RegExp(`^${source}/?$`);
}

export class RouteCatalogue {
  readonly #routes: RouteRecord[] = [];
  readonly #patterns: { readonly method: string; readonly test: RegExp }[] = [];

  /** Installs the recording hook; call before registering routes. */
  attach(app: FastifyInstance): void {
    app.addHook('onRoute', (route: RouteOptions) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        const record: RouteRecord = {
          method,
          url: route.url,
          schema: (route.schema ?? {}) as Readonly<Record<string, unknown>>,
          auth: route.config?.auth ?? 'required',
          whileSealed: route.config?.whileSealed ?? false,
        };
        this.#routes.push(record);
        this.#patterns.push({ method, test: patternRegExp(route.url) });
      }
    });
  }

  get routes(): readonly RouteRecord[] {
    return this.#routes;
  }

  /** Methods registered for a concrete path (query string ignored). */
  methodsFor(path: string): string[] {
    const bare = path.split('?')[0] ?? path;
    return [...new Set(this.#patterns.filter((p) => p.test.test(bare)).map((p) => p.method))];
  }
}
