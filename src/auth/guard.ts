import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors/catalog.js';
import type { App } from '../platform/http/types.js';
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

/** Reads the bearer token on every request (one HMAC, no I/O); routes decide what they require. */
export function installAuthentication(app: App, tokenKey: Buffer): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    // A route that checks its own bearer (GET /metrics and its METRICS_TOKEN) is not a signed-in principal's.
    if (!header || request.routeOptions.config.ownBearer) return;
    const [scheme, token] = header.split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw new AppError('TOKEN_INVALID');
    request.principal = verifyToken(tokenKey, token);
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
