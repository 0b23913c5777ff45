import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/**
 * The one way Trapeze serves HTTP (the order API, the codec server, every worker's health face):
 * Fastify with zod schemas for validation, one error type and one error shape
 * (`{ "error": "<code>", …details }`), JSON bodies read under a limit with the raw text kept
 * (a signed webhook is verified over its exact bytes). Fastify's own logger is off: each server
 * logs through the project's pino logger with its redaction, never a body.
 */

/** An answer that ends a request early: its status and its JSON body (`error` names what went wrong). */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly body: { error: string } & Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error);
  }
}

export type FieldIssues = Array<{ path: string; message: string }>;

export interface HttpAppOptions {
  log: Logger;
  /** The largest body any route takes unless the route says less (bytes). */
  bodyLimit: number;
  /** Errors that are not HttpErrors (e.g. a backend's) may be answered here; undefined: 500. */
  mapError?: (err: unknown) => HttpError | undefined;
  /** The `error` code of a body that fails its route's schema; a route may name its own (config.invalidError). */
  invalidError?: string;
  /** The content types read as JSON: application/json (default) or any ('*', for protocols that take JSON whatever the header says). */
  jsonContentTypes?: 'application/json' | '*';
  /** Close keep-alive connections at once on close (true), or only idle ones and let requests in hand finish ('idle'). */
  forceCloseConnections?: boolean | 'idle';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The `error` code of a request that fails this route's schema (default invalid_request). */
    invalidError?: string;
  }
}

const rawBodies = new WeakMap<FastifyRequest, string>();
/** The exact text of a JSON request's body, as it arrived (for signatures). */
export const rawBodyOf = (req: FastifyRequest): string | undefined => rawBodies.get(req);

const fieldsOf = (validation: Array<{ instancePath: string; message?: string }>): FieldIssues =>
  validation.map((v) => ({ path: v.instancePath.replace(/^\//, '').replaceAll('/', '.'), message: v.message ?? 'invalid' }));

export function createHttpApp({
  log,
  bodyLimit,
  mapError = () => undefined,
  invalidError = 'invalid_request',
  forceCloseConnections = 'idle',
  jsonContentTypes = 'application/json',
}: HttpAppOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit, forceCloseConnections, return503OnClosing: true });
  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the answers (OpenAPI); the handlers' objects are sent as they are.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  // JSON only; an empty body is an empty object (a cancel or a probe may send none). The raw text
  // is kept for the routes that verify a signature over it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(jsonContentTypes, { parseAs: 'string' }, (req, text, done) => {
    const body = String(text);
    rawBodies.set(req, body);
    if (!body.trim()) return done(null, {});
    try {
      done(null, JSON.parse(body));
    } catch {
      done(new HttpError(400, { error: 'invalid_json' }), undefined);
    }
  });
  // A POST without any body still meets its schema as {}: "missing reason", not "expected object".
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && req.method !== 'GET') req.body = {};
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const answer = ((): HttpError => {
      if (err instanceof HttpError) return err;
      if (hasZodFastifySchemaValidationErrors(err)) {
        const code = req.routeOptions.config.invalidError ?? invalidError;
        return new HttpError(400, { error: code, fields: fieldsOf(err.validation) });
      }
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
        return new HttpError(413, { error: 'body_too_large', limitBytes: req.routeOptions.bodyLimit ?? bodyLimit });
      if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
        return new HttpError(415, { error: 'unsupported_media_type', expected: 'application/json' });
      // A malformed URL (bad percent-encoding) names no route.
      if (err.code === 'FST_ERR_BAD_URL') return new HttpError(404, { error: 'no_such_route' });
      if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
        return new HttpError(400, { error: 'invalid_json' });
      const mapped = mapError(err);
      if (mapped) return mapped;
      // Errors name what broke (an RPC, a workflow id), never a body.
      log.error({ route: req.routeOptions.url, err: `${err.name}: ${err.message}` }, 'request failed');
      return new HttpError(500, { error: 'internal_error' });
    })();
    void reply.code(answer.status).headers(answer.headers).send(answer.body);
  });

  // An unknown path is 404; a known path with another method is 405 naming the methods it takes.
  const routes: Array<{ method: string; pattern: RegExp }> = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}$`);
    for (const method of [route.method].flat()) routes.push({ method, pattern });
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    const allow = [
      ...new Set(
        routes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && r.pattern.test(path)).map((r) => r.method),
      ),
    ];
    if (allow.length) void reply.code(405).header('allow', allow.join(', ')).send({ error: 'method_not_allowed', allow });
    else void reply.code(404).send({ error: 'no_such_route' });
  });
  return app;
}

/** The app with zod schemas typing each route's params, body and answers. */
export const typed = (app: FastifyInstance) => app.withTypeProvider<ZodTypeProvider>();

export interface Listening {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Listens on host:port (0 picks a free port) and returns the bound port and a URL for local callers. */
export async function listen(app: FastifyInstance, { port, host }: { port: number; host: string }): Promise<Listening> {
  await app.listen({ port, host });
  const bound = (app.server.address() as AddressInfo).port;
  return { port: bound, url: `http://127.0.0.1:${bound}`, close: () => app.close() };
}
