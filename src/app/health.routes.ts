import { Type as T } from '@sinclair/typebox';
import { migrationsCurrent } from '../platform/db/migrate.js';
import type { App } from '../platform/http/types.js';
import type { Deps } from './deps.js';

const Check = T.Object({ ok: T.Boolean(), detail: T.Optional(T.String()) });

export function healthRoutes(app: App, deps: Deps, workersRunning: () => boolean): void {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'The process is up',
        response: { 200: T.Object({ ok: T.Boolean() }) },
      },
    },
    async () => ({ ok: true }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary:
          'Ready for traffic: database reachable, migrations current, workers running (Redis reported, not required)',
        response: {
          200: T.Object({ ok: T.Boolean(), checks: T.Record(T.String(), Check) }),
          503: T.Object({ ok: T.Boolean(), checks: T.Record(T.String(), Check) }),
        },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, { ok: boolean; detail?: string }> = {};
      try {
        checks.database = { ok: true };
        checks.migrations = (await migrationsCurrent(deps.pool))
          ? { ok: true }
          : { ok: false, detail: 'pending migrations' };
      } catch (err) {
        checks.database = { ok: false, detail: (err as Error).message };
      }
      checks.workers =
        deps.config.JARIMA_WORKERS.trim() === 'none' || deps.config.JARIMA_WORKERS.trim() === ''
          ? { ok: true, detail: 'disabled in this process' }
          : workersRunning()
            ? { ok: true }
            : { ok: false, detail: 'not running' };
      const ok = Object.values(checks).every((c) => c.ok);
      // Reported, not required: without Redis the process serves from its memory tier and the database, and the
      // rate limiter lets requests through — taking every API process out of rotation would be the bigger outage.
      if (deps.redis) {
        const redis = deps.redis;
        checks.redis = await Promise.race([
          redis.ping().then(
            () => ({ ok: true }),
            (err: Error) => ({ ok: false, detail: `${err.message} (serving without it)` }),
          ),
          new Promise<{ ok: boolean; detail: string }>((r) =>
            setTimeout(
              () => r({ ok: false, detail: 'no answer in 500 ms (serving without it)' }),
              500,
            ).unref(),
          ),
        ]);
      }
      return reply.status(ok ? 200 : 503).send({ ok, checks });
    },
  );
}
