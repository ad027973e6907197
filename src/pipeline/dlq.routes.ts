import { Type as T } from '@sinclair/typebox';
import { auditContext } from '../audit/audit.js';
import { principalOf, requireRole } from '../auth/guard.js';
import type { Pool } from '../platform/db/pool.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { discardDeadLetter, listDeadLetters, retryDeadLetter } from './dlq.js';
import { DeadLetterParams, DeadLetters, DeadLettersQuery } from './dlq.schema.js';

export interface DlqRoutesOptions {
  db: Pool;
}

/** The operator's dead-letter view: list, send back, give up. Admins only. */
export async function dlqRoutes(app: App, opts: DlqRoutesOptions): Promise<void> {
  const { db } = opts;
  const admin = { preHandler: requireRole('admin') };
  app.get(
    '/v1/admin/dlq',
    {
      ...admin,
      schema: {
        tags: ['ops'],
        summary: 'Jobs that used up their attempts and reports a stage could not handle',
        security: [{ bearer: [] }],
        querystring: DeadLettersQuery,
        response: { 200: DeadLetters, ...errorResponses(401, 403) },
      },
    },
    async (request): Promise<DeadLetters> => ({ items: await listDeadLetters(db, request.query.limit) }),
  );
  for (const action of ['retry', 'discard'] as const) {
    app.post(
      `/v1/admin/dlq/:id/${action}`,
      {
        ...admin,
        schema: {
          tags: ['ops'],
          summary:
            action === 'retry'
              ? 'Run a dead job again, or send a failed report back to the stage that failed it'
              : 'Delete a dead job, or reject a failed report for good',
          security: [{ bearer: [] }],
          params: DeadLetterParams,
          response: { 204: T.Null(), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const actor = `admin:${principalOf(request).id}`;
        const who = auditContext(request);
        if (action === 'retry') await retryDeadLetter(db, request.params.id, actor, who);
        else await discardDeadLetter(db, request.params.id, actor, who);
        return reply.status(204).send(null);
      },
    );
  }
}
