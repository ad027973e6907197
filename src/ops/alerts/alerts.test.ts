import { randomBytes, randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/db.js';
import { installAuthentication } from '../../auth/guard.js';
import { issueToken, type Role } from '../../auth/tokens.js';
import { EmailOutbox } from '../../integrations/email/outbox.js';
import type { Queryable } from '../../platform/db/pool.js';
import { installErrorHandler } from '../../platform/errors/http.js';
import { type App, ErrorBody } from '../../platform/http/types.js';
import { createLogger } from '../../platform/logger.js';
import { alertRoutes } from './alerts.routes.js';
import { listAlertHistory, pruneAlertHistory } from './history.js';
import { AlertManager } from './manager.js';
import { loadAlertRules } from './rules.js';
import { createAlertSinks } from './sinks.js';

const MIN = 60_000;
const T0 = Date.parse('2025-03-01T10:00:00Z');

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});

/**
 * The routes on a Fastify instance of their own, with the app's authentication and error handler, registered as
 * buildApp registers them in the real app.
 */
async function routesApp(manager: AlertManager, pool: Queryable) {
  const key = randomBytes(32);
  const app = Fastify({
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;
  installErrorHandler(app);
  app.addSchema(ErrorBody);
  // Signature and role only: these tests are about the alert routes, not sessions (src/auth/sessions.test.ts).
  installAuthentication(app, key, { check: async () => {} });
  await app.register(alertRoutes, { manager, db: pool });
  await app.ready();
  const as = (role: Role) => ({
    authorization: `Bearer ${issueToken(key, { id: randomUUID(), role, sid: randomUUID() }, 3600)}`,
  });
  return { app, as };
}

describe('alerting end to end', () => {
  it('fires and resolves the shipped rules over a real registry, with history and the admin routes', async () => {
    const registry = new Registry();
    const oldest = new Gauge({
      name: 'jarima_stage_oldest_job_age_seconds',
      help: 'age of the oldest waiting job',
      labelNames: ['stage'],
      registers: [registry],
    });
    const breaker = new Gauge({
      name: 'jarima_circuit_breaker_open',
      help: '1 = open',
      labelNames: ['system'],
      registers: [registry],
    });
    const requests = new Counter({
      name: 'jarima_http_requests_total',
      help: 'requests',
      labelNames: ['route', 'method', 'status_class'],
      registers: [registry],
    });
    const config = await loadAlertRules('config/alerts.json');
    const outbox = new EmailOutbox();
    const logger = createLogger('silent', false);
    let now = T0;
    const manager = new AlertManager({
      registry,
      rules: config.rules,
      sinks: createAlertSinks(config.sinks, { logger, email: outbox }),
      logger,
      pool: db.pool,
      clock: () => now,
      repeatIntervalMs: config.repeatIntervalMs,
    });
    const tick = async (minutes: number) => {
      now = T0 + minutes * MIN;
      await manager.evaluate();
      await manager.flush();
    };

    oldest.set({ stage: 'forward' }, 30);
    oldest.set({ stage: 'notify' }, 900);
    requests.inc({ route: '/v1/reports/:id', method: 'GET', status_class: '2xx' }, 10);
    await tick(0);
    // The forward queue gets stuck; notify's old job does not matter to this rule.
    oldest.set({ stage: 'forward' }, 700);
    breaker.set({ system: 'gov_registry' }, 1);
    await tick(1);
    await tick(2);

    const { app, as } = await routesApp(manager, db.pool);
    const current = await app.inject({ method: 'GET', url: '/v1/ops/alerts', headers: as('admin') });
    expect(current.statusCode).toBe(200);
    expect(current.json().alerts).toEqual([
      {
        rule: 'ForwardQueueStuck',
        labels: {},
        severity: 'critical',
        state: 'firing',
        value: 700,
        summary: 'The oldest job waiting to be forwarded to the fines registry is 700 s old (over 10 min)',
        activeAt: '2025-03-01T10:01:00.000Z',
        firedAt: '2025-03-01T10:01:00.000Z',
      },
      {
        rule: 'CircuitBreakerOpen',
        labels: { system: 'gov_registry' },
        severity: 'warning',
        state: 'pending',
        value: 1,
        summary: 'The circuit breaker to gov_registry has been open for over 2 minutes',
        activeAt: '2025-03-01T10:01:00.000Z',
        firedAt: null,
      },
    ]);
    const rules = current.json().rules as { name: string; values: unknown[]; forSeconds: number }[];
    expect(rules.find((r) => r.name === 'ForwardQueueStuck')).toMatchObject({
      forSeconds: 0,
      values: [{ labels: {}, value: 700 }],
    });
    // No request since the first tick: 0 errors / 0 requests has no value, so it is not firing.
    expect(rules.find((r) => r.name === 'HttpErrorRate')!.values).toEqual([]);
    expect(rules.find((r) => r.name === 'EventLoopLagHigh')!.values).toEqual([]);

    oldest.set({ stage: 'forward' }, 4);
    breaker.set({ system: 'gov_registry' }, 0);
    await tick(3);
    await tick(4);

    // One firing and one resolved mail: not one per tick; the breaker never got past pending.
    expect(
      outbox
        .outbox()
        .reverse()
        .map((m) => [m.to, m.subject]),
    ).toEqual([
      ['ops@example.org', '[FIRING critical] ForwardQueueStuck'],
      ['ops@example.org', '[RESOLVED critical] ForwardQueueStuck'],
    ]);

    const history = await app.inject({ method: 'GET', url: '/v1/ops/alerts/history', headers: as('admin') });
    expect(history.statusCode).toBe(200);
    const items = history.json().items;
    expect(items).toEqual([
      {
        id: expect.any(Number),
        rule: 'ForwardQueueStuck',
        labels: {},
        severity: 'critical',
        state: 'resolved',
        value: 4,
        summary: 'The oldest job waiting to be forwarded to the fines registry is 4 s old (over 10 min)',
        at: '2025-03-01T10:03:00.000Z',
      },
      expect.objectContaining({ state: 'firing', value: 700, at: '2025-03-01T10:01:00.000Z' }),
    ]);
    expect(history.json().nextBefore).toBeNull();

    const page1 = await app.inject({
      method: 'GET',
      url: '/v1/ops/alerts/history?limit=1&rule=ForwardQueueStuck',
      headers: as('admin'),
    });
    expect(page1.json()).toEqual({ items: [items[0]], nextBefore: items[0].id });
    const page2 = await app.inject({
      method: 'GET',
      url: `/v1/ops/alerts/history?limit=1&before=${items[0].id}`,
      headers: as('admin'),
    });
    expect(page2.json().items).toEqual([items[1]]);
    const other = await app.inject({
      method: 'GET',
      url: '/v1/ops/alerts/history?rule=CircuitBreakerOpen',
      headers: as('admin'),
    });
    expect(other.json()).toEqual({ items: [], nextBefore: null });

    expect((await app.inject({ method: 'GET', url: '/v1/ops/alerts' })).json().code).toBe('UNAUTHENTICATED');
    const inspector = await app.inject({
      method: 'GET',
      url: '/v1/ops/alerts/history',
      headers: as('inspector'),
    });
    expect([inspector.statusCode, inspector.json().code]).toEqual([403, 'FORBIDDEN']);
    const bad = await app.inject({
      method: 'GET',
      url: '/v1/ops/alerts/history?limit=0',
      headers: as('admin'),
    });
    expect([bad.statusCode, bad.json().code, bad.json().field]).toEqual([400, 'VALIDATION_FAILED', 'limit']);
    await app.close();
  });
});

describe('alert history queries use their indexes', () => {
  /** The index names a plan reads, from EXPLAIN (FORMAT JSON), for the SQL a repository function sends. */
  async function indexesOf(run: (db: Queryable) => Promise<unknown>): Promise<string[]> {
    let sent: { sql: string; params: unknown[] } | null = null;
    const spy = {
      query: async (sql: string, params: unknown[]) => {
        sent = { sql, params };
        return { rows: [], rowCount: 0 };
      },
    } as unknown as Queryable;
    await run(spy);
    const { sql, params } = sent!;
    const { rows } = await db.pool.query(`explain (format json) ${sql}`, params);
    const found: string[] = [];
    const walk = (node: Record<string, unknown>) => {
      if (typeof node['Index Name'] === 'string') found.push(node['Index Name']);
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    walk(rows[0]['QUERY PLAN'][0].Plan);
    return found;
  }

  beforeAll(async () => {
    // A year of history: 50,000 transitions, nearly all from five noisy rules, 50 from a quiet one.
    await db.pool.query(
      `insert into alert_events (rule, labels, severity, state, value, summary, at)
       select case when i % 1000 = 0 then 'Quiet' else 'Noisy' || (i % 5) end, '{}', 'warning',
              case when i % 2 = 0 then 'firing' else 'resolved' end, i, 's',
              now() - interval '365 days' + i * interval '10 minutes'
         from generate_series(1, 50000) i`,
    );
    await db.pool.query('analyze alert_events');
  });

  it('pages newest first by the primary key, a quiet rule on alert_events_rule, and prunes on alert_events_at', async () => {
    expect(await indexesOf((q) => listAlertHistory(q, { limit: 50 }))).toEqual(['alert_events_pkey']);
    expect(await indexesOf((q) => listAlertHistory(q, { limit: 50, before: 30_000 }))).toEqual([
      'alert_events_pkey',
    ]);
    expect(await indexesOf((q) => listAlertHistory(q, { limit: 50, rule: 'Quiet', before: 30_000 }))).toEqual(
      ['alert_events_rule'],
    );
    expect(await indexesOf((q) => pruneAlertHistory(q, new Date(Date.now() - 360 * 24 * 3_600_000)))).toEqual(
      ['alert_events_at'],
    );
    const cutoff = new Date(Date.now() - 364 * 24 * 3_600_000);
    const older = async () =>
      (await db.pool.query('select count(*)::int as n from alert_events where at < $1', [cutoff])).rows[0].n;
    const n = await older();
    expect(n).toBeGreaterThan(100);
    expect(await pruneAlertHistory(db.pool, cutoff)).toBe(n);
    expect(await older()).toBe(0);
  });
});
