import { Type as T } from '@sinclair/typebox';
import type { Deps } from '../app/deps.js';
import { principalOf, requireRole } from '../auth/guard.js';
import { type App, errorResponses } from '../platform/http/types.js';
import { discardDeadLetter, listDeadLetters, retryDeadLetter } from './dlq.js';

const DeadLetter = T.Object({
  id: T.String({ description: 'job:<n> or report:<uuid>' }),
  kind: T.Union([T.Literal('job'), T.Literal('report')]),
  stage: T.String(),
  attempts: T.Union([T.Integer(), T.Null()]),
  error: T.Union([T.String(), T.Null()]),
  since: T.String({ format: 'date-time' }),
});
const IdParams = T.Object({ id: T.String({ pattern: '^(job:\\d{1,18}|report:[0-9a-fA-F-]{36})$' }) });

/** The operator's dead-letter view: list, send back, give up. Admins only. */
export function dlqRoutes(app: App, deps: Deps): void {
  const admin = { preHandler: requireRole('admin') };
  app.get(
    '/v1/admin/dlq',
    {
      ...admin,
      schema: {
        tags: ['ops'],
        summary: 'Jobs that used up their attempts and reports a stage could not handle',
        security: [{ bearer: [] }],
        querystring: T.Object({ limit: T.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
        response: { 200: T.Object({ items: T.Array(DeadLetter) }), ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ items: await listDeadLetters(deps.pool, request.query.limit) }),
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
          params: IdParams,
          response: { 204: T.Null(), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const actor = `admin:${principalOf(request).id}`;
        if (action === 'retry') await retryDeadLetter(deps.pool, request.params.id, actor);
        else await discardDeadLetter(deps.pool, request.params.id, actor);
        return reply.status(204).send(null);
      },
    );
  }
}
