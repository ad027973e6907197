import { Type as T } from '@sinclair/typebox';
import { audit, auditContext } from '../audit/audit.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { TokenResponse } from './auth.schema.js';
import { principalOf, requireRole } from './guard.js';
import { ROLES } from './roles.js';
import {
  refreshSession,
  revokeOwnSession,
  revokeSession,
  type SessionDeps,
  type SessionGuard,
} from './sessions.js';
import { liveSessions } from './sessions.repository.js';
import { RefreshBody, SessionIdParams, SessionsResponse } from './sessions.schema.js';

export interface SessionRoutesOptions extends SessionDeps {
  db: Pool;
  guard: Pick<SessionGuard, 'forget'>;
  rateLimitPerMinute: number;
}

const staff = (role: string) => role !== 'citizen';

/** Refreshing tokens, signing out, and each person's list of their own sessions. */
export async function sessionRoutes(app: App, opts: SessionRoutesOptions): Promise<void> {
  const { db, guard } = opts;
  const deps: SessionDeps = { keys: opts.keys, config: opts.config };
  const signedIn = { preHandler: requireRole(...ROLES) };

  app.post(
    '/v1/auth/refresh',
    {
      config: { rateLimit: { max: opts.rateLimitPerMinute, timeWindow: 60_000 } },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token (single use) for a new access token and refresh token',
        body: RefreshBody,
        response: { 200: TokenResponse, ...errorResponses(400, 401, 429) },
      },
    },
    async (request) => {
      const ctx = auditContext(request);
      const out = await refreshSession(db, deps, request.body.refreshToken, ctx);
      if (out.ok) return out.tokens;
      if (out.code === 'REFRESH_REUSED') {
        guard.forget(out.session.id);
        if (staff(out.session.role))
          await audit(db, {
            ...ctx,
            actorId: out.session.subjectId,
            action: 'refresh_reused',
            outcome: 'denied',
            targetKind: 'session',
            targetId: out.session.id,
          });
      }
      throw new AppError(out.code);
    },
  );

  app.post(
    '/v1/auth/sign-out',
    {
      ...signedIn,
      schema: {
        tags: ['auth'],
        summary: 'End the session of this token (its refresh token stops working too)',
        security: [{ bearer: [] }],
        response: { 204: T.Null(), ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      const me = principalOf(request);
      await withTransaction(db, async (trx) => {
        await revokeSession(trx, me.sid, 'signed_out');
        if (staff(me.role))
          await audit(trx, {
            ...auditContext(request),
            action: 'sign_out',
            targetKind: 'session',
            targetId: me.sid,
          });
      });
      guard.forget(me.sid);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/me/sessions',
    {
      ...signedIn,
      schema: {
        tags: ['auth'],
        summary: 'Your live sessions (devices signed in), newest first',
        security: [{ bearer: [] }],
        response: { 200: SessionsResponse, ...errorResponses(401) },
      },
    },
    async (request) => {
      const me = principalOf(request);
      const rows = await liveSessions(db, me.id);
      return {
        items: rows.map((s) => ({
          id: s.id,
          createdAt: s.created_at.toISOString(),
          lastUsedAt: s.last_used_at.toISOString(),
          expiresAt: s.expires_at.toISOString(),
          ip: s.ip,
          userAgent: s.user_agent,
          current: s.id === me.sid,
        })),
      };
    },
  );

  app.delete(
    '/v1/me/sessions/:id',
    {
      ...signedIn,
      schema: {
        tags: ['auth'],
        summary: 'End one of your sessions (another device); 404 for one that is not yours or already over',
        security: [{ bearer: [] }],
        params: SessionIdParams,
        response: { 204: T.Null(), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const me = principalOf(request);
      await withTransaction(db, async (trx) => {
        await revokeOwnSession(trx, me.id, request.params.id, 'revoked_by_owner');
        if (staff(me.role))
          await audit(trx, {
            ...auditContext(request),
            action: 'session_revoked',
            targetKind: 'session',
            targetId: request.params.id,
          });
      });
      guard.forget(request.params.id);
      return reply.status(204).send(null);
    },
  );
}
