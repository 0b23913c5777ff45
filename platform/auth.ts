import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HttpError } from './http';

/**
 * Who may call Trapeze's HTTP servers: bearer tokens, each with one role, configured as their
 * SHA-256 (a leaked configuration grants nothing). Roles: `client` starts and reads orders,
 * `warehouse` confirms dispatches, `operator` may do everything (cancel included) and reads the
 * codec server. Tokens come from API_TOKENS (`role:sha256hex,…`) and/or API_TOKENS_FILE (JSON,
 * re-read when it changes, so tokens rotate without a restart); several per role.
 *
 * A client token acts for the customers it is bound to (`customers`, or `*` for all): it starts
 * orders for them and reads only their orders; a client token bound to none reads and starts none.
 */
export const Role = z.enum(['client', 'warehouse', 'operator']);
export type Role = z.infer<typeof Role>;
export const ROLES = Role.options;

const Sha256 = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[0-9a-f]{64}$/, 'a SHA-256 as 64 hex digits');

export const TokenEntry = z.object({
  role: Role,
  sha256: Sha256,
  /** Shown in logs instead of the token (e.g. `warehouse-berlin`); by default the hash's first 8 digits. */
  name: z.string().trim().min(1).max(100).optional(),
  /** The customer ids a client token acts for; `["*"]`: every customer (a customer-care desk). Other roles ignore it. */
  customers: z.array(z.string().trim().min(1).max(64)).min(1).optional(),
});
export type TokenEntry = z.infer<typeof TokenEntry>;

/** API_TOKENS_FILE: `{ "tokens": [{ "role": "client", "sha256": "…", "name": "shop", "customers": ["c-1"] }] }` or the bare array. */
export const TokenFile = z.union([
  z.object({ tokens: z.array(TokenEntry) }),
  z.array(TokenEntry).transform((tokens) => ({ tokens })),
]);

/**
 * API_TOKENS: `role:sha256hex` pairs, comma-separated; a client's customers after a third colon,
 * joined by `+` (`client:<sha256hex>:c-1+c-2`, or `client:<sha256hex>:*`). Ids with `,` `:` or `+`
 * need the file.
 */
export const TokenList = z.string().transform((text, ctx) =>
  text
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const [role, sha256, customers, ...rest] = pair.split(':');
      const parsed = TokenEntry.safeParse({
        role,
        sha256,
        ...(customers === undefined ? {} : { customers: customers.split('+') }),
      });
      if (!parsed.success || rest.length) {
        ctx.addIssue({
          code: 'custom',
          message: `expected role:sha256hex[:customer+customer…] with role one of ${ROLES.join(', ')}`,
        });
        return z.NEVER;
      }
      return parsed.data;
    }),
);

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export interface Caller {
  role: Role;
  /** How logs name the caller: the token's name or the first digits of its hash. */
  name: string;
  /** A client's customers (`*`: all); none: it acts for no customer. */
  customers?: readonly string[];
}

/** Whether the caller may start or read an order of this customer: clients only for their own. */
export const actsFor = (caller: Caller, customerId: string): boolean =>
  caller.role !== 'client' || (caller.customers ?? []).some((c) => c === '*' || c === customerId);

/** A client bound to some customers, not all: its reads must look up whose order it is. */
export const boundToSome = (caller: Caller): boolean => caller.role === 'client' && !caller.customers?.includes('*');

/** The tokens a server accepts; `callerOf` answers who a presented token belongs to. */
export interface Tokens {
  callerOf(token: string): Caller | undefined;
  /** How many tokens are configured per role (for the start-up log). */
  count(): Record<Role, number>;
}

export function tokensFrom(entries: TokenEntry[]): Tokens {
  const byHash = new Map<string, Caller>(
    entries.map((e) => [
      e.sha256,
      { role: e.role, name: e.name ?? e.sha256.slice(0, 8), ...(e.customers ? { customers: e.customers } : {}) },
    ]),
  );
  return {
    callerOf: (token) => byHash.get(hashToken(token)),
    count: () => Object.fromEntries(ROLES.map((r) => [r, entries.filter((e) => e.role === r).length])) as Record<Role, number>,
  };
}

/**
 * The configured tokens: the inline list plus the file's, the file re-read whenever its mtime or
 * size changes. A file that no longer parses keeps the last good tokens (and says so once).
 */
export function configuredTokens(
  { inline = [], file }: { inline?: TokenEntry[]; file?: string | undefined },
  onFileError: (message: string) => void = () => undefined,
): Tokens {
  if (!file) return tokensFrom(inline);
  let seen = '';
  let current = tokensFrom(inline);
  const refresh = () => {
    try {
      const s = statSync(file);
      const stamp = `${s.mtimeMs}:${s.size}`;
      if (stamp === seen) return;
      const parsed = TokenFile.parse(JSON.parse(readFileSync(file, 'utf8')));
      current = tokensFrom([...inline, ...parsed.tokens]);
      seen = stamp;
    } catch (err) {
      const message = `API_TOKENS_FILE ${file} unreadable, keeping the previous tokens: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
      if (seen !== `error:${message}`) onFileError(message);
      seen = `error:${message}`;
    }
  };
  refresh();
  return {
    callerOf: (token) => {
      refresh();
      return current.callerOf(token);
    },
    count: () => {
      refresh();
      return current.count();
    },
  };
}

/** One fresh token per role for a development stack, with the entries that accept them. */
export function developmentTokens(): { tokens: Record<Role, string>; entries: TokenEntry[] } {
  const tokens = Object.fromEntries(
    ROLES.map((role) => [role, `trp_${role}_${randomBytes(18).toString('base64url')}`]),
  ) as Record<Role, string>;
  // The development client acts for every customer: the demo and a user's first curl use any id.
  const entries: TokenEntry[] = ROLES.map((role) => ({
    role,
    sha256: hashToken(tokens[role]),
    name: `dev-${role}`,
    ...(role === 'client' ? { customers: ['*'] } : {}),
  }));
  return { tokens, entries };
}

/** `role:sha256hex[:customers],…` for API_TOKENS. */
export const tokenListOf = (entries: TokenEntry[]): string =>
  entries.map((e) => `${e.role}:${e.sha256}${e.customers ? `:${e.customers.join('+')}` : ''}`).join(',');

const callers = new WeakMap<FastifyRequest, Caller>();
/** The authenticated caller of a request (after `requireRole`). */
export const callerOf = (req: FastifyRequest): Caller | undefined => callers.get(req);

/**
 * A Fastify onRequest hook: 401 without a valid bearer token, 403 for a role not allowed here.
 * It runs before the body is read, so a refused request starts and changes nothing.
 */
export function requireRole(
  tokens: Tokens,
  allowed: readonly Role[],
  token: (req: FastifyRequest) => string | undefined = bearer,
) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const presented = token(req);
    const challenge = { 'www-authenticate': 'Bearer realm="trapeze"' };
    if (!presented)
      throw new HttpError(
        401,
        { error: 'unauthorized', reason: 'an Authorization: Bearer <token> header is required' },
        challenge,
      );
    const caller = tokens.callerOf(presented);
    if (!caller) throw new HttpError(401, { error: 'unauthorized', reason: 'the token is not valid' }, challenge);
    if (!allowed.includes(caller.role))
      throw new HttpError(403, { error: 'forbidden', role: caller.role, allowed: [...allowed] });
    callers.set(req, caller);
  };
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearer(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}
