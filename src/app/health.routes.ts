import type { Redis } from 'ioredis';
import { describeMediaTools, type MediaTools } from '../evidence/media-tools.js';
import type { Simulator } from '../platform/config/config.js';
import { migrationsCurrent } from '../platform/db/migrate.js';
import type { Pool } from '../platform/db/pool.js';
import type { App } from '../platform/http/types.js';
import { type Check, Liveness, Readiness } from './health.schema.js';

export interface HealthRoutesOptions {
  db: Pool;
  /** Reported when configured (REDIS_URL), never required. */
  redis: Pick<Redis, 'ping'> | null;
  /** Whether this process's pipeline workers run; null when it runs none (`jarima api`, JARIMA_WORKERS=none). */
  workersRunning: (() => boolean) | null;
  /** The ports a local simulator stands in for (runningSimulators). */
  simulators: readonly Simulator[];
  /** ffmpeg/ffprobe this process decodes evidence with. */
  mediaTools: MediaTools;
}

export async function healthRoutes(app: App, opts: HealthRoutesOptions): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'The process is up',
        response: { 200: Liveness },
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
          'Ready for traffic: database reachable, migrations current, workers running (Redis reported, not required); which simulators run',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, Check> = {};
      try {
        checks.database = { ok: true };
        checks.migrations = (await migrationsCurrent(opts.db))
          ? { ok: true }
          : { ok: false, detail: 'pending migrations' };
      } catch (err) {
        checks.database = { ok: false, detail: (err as Error).message };
      }
      checks.workers =
        opts.workersRunning === null
          ? { ok: true, detail: 'disabled in this process' }
          : opts.workersRunning()
            ? { ok: true }
            : { ok: false, detail: 'not running' };
      const ok = Object.values(checks).every((c) => c.ok);
      // Reported, not failed on: the bundled build works, but is not the one to decode untrusted video with.
      checks.media = { ok: opts.mediaTools.source === 'system', detail: describeMediaTools(opts.mediaTools) };
      // Reported, not required: without Redis the process serves from its memory tier and the database, and the
      // rate limiter lets requests through — taking every API process out of rotation would be the bigger outage.
      if (opts.redis) {
        const redis = opts.redis;
        checks.redis = await Promise.race([
          redis.ping().then(
            () => ({ ok: true }),
            (err: Error) => ({ ok: false, detail: `${err.message} (serving without it)` }),
          ),
          new Promise<Check>((r) =>
            setTimeout(
              () => r({ ok: false, detail: 'no answer in 500 ms (serving without it)' }),
              500,
            ).unref(),
          ),
        ]);
      }
      return reply.status(ok ? 200 : 503).send({ ok, checks, simulators: [...opts.simulators] });
    },
  );
}
