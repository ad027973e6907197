import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../platform/db/unavailable.js';
import { AppError } from '../platform/errors/catalog.js';
import type { App } from '../platform/http/types.js';
import type { SessionGuard } from './sessions.js';
import { type Principal, type Role, verifyToken } from './tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling, from the bearer token; null when no token was sent. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** The route reads the Authorization header itself; the sign-in token check leaves it alone. */
    ownBearer?: boolean;
  }
}

/**
 * Reads the bearer token on every request: its signature and expiry (one HMAC), then whether its session is still
 * live (SessionGuard). Routes decide what they require.
 */
export function installAuthentication(
  app: App,
  tokenKey: Buffer,
  sessions: Pick<SessionGuard, 'check'>,
): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    // A route that checks its own bearer (GET /metrics and its METRICS_TOKEN) is not a signed-in principal's.
    if (!header || request.routeOptions.config.ownBearer) return;
    const [scheme, token] = header.split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw new AppError('TOKEN_INVALID');
    const principal = verifyToken(tokenKey, token);
    try {
      await sessions.check(principal);
    } catch (e) {
      // A database that is down is a 503 (the error handler knows it). Any other failure to read the session is
      // logged here and answered 503 too: the client may retry; it is never a 500.
      if (e instanceof AppError || isDatabaseUnavailable(e)) throw e;
      request.log.error({ err: e }, 'session check failed');
      throw new AppError('SERVICE_UNAVAILABLE', { cause: e });
    }
    request.principal = principal;
  });
}

/** preHandler that admits only the given roles. */
export function requireRole(...roles: Role[]) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    if (!request.principal) throw new AppError('UNAUTHENTICATED');
    if (!roles.includes(request.principal.role)) throw new AppError('FORBIDDEN');
  };
}

export const STAFF_ROLES: Role[] = ['inspector', 'supervisor', 'admin'];

/** The principal of a route guarded by requireRole. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('UNAUTHENTICATED');
  return request.principal;
}

/**
 * Route config for a per-citizen rate limit of `max` requests a minute, counted after authentication (so it keys
 * on the citizen, falling back to the address) in a budget named `bucket`.
 */
export function perCitizenRateLimit(bucket: string, max: number) {
  return {
    rateLimit: {
      max,
      timeWindow: 60_000,
      hook: 'preHandler' as const,
      keyGenerator: (req: FastifyRequest) => `${bucket}:${req.principal?.id ?? req.ip}`,
    },
  };
}
