import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../test/helpers/db.js';
import { EmailOutbox } from '../../integrations/email/outbox.js';
import { StageArrivals } from '../../pipeline/queues.js';
import { Metrics } from '../../platform/metrics/metrics.js';
import { OpsSampler } from '../sampler.js';
import { SamplerHealth } from '../sampler-health.js';
import { AlertManager } from './manager.js';
import { loadAlertRules } from './rules.js';
import { createAlertSinks } from './sinks.js';

const db = await createTestDatabase();

/**
 * The shipped rules over the sampler as deps.ts composes it, on a real database: the queue gauges a stuck forward
 * queue shows in come from the sampler, so a sampler that stops succeeding must raise an alert of its own.
 */
async function setup() {
  const metrics = new Metrics({ defaultMetrics: false });
  const clock = { now: Date.now() };
  const silent = { info: () => {}, warn: () => {}, error: () => {} };
  const health = new SamplerHealth({ metrics, logger: silent, now: () => clock.now });
  const ops = new OpsSampler({
    pool: db.pool,
    metrics,
    cache: { stats: () => ({}) },
    arrivals: new StageArrivals(),
    breakers: () => ({}),
    health,
  });
  const config = await loadAlertRules('config/alerts.json');
  const email = new EmailOutbox();
  const manager = new AlertManager({
    registry: metrics.registry,
    rules: config.rules,
    sinks: createAlertSinks(config.sinks, { logger: silent, email }),
    logger: silent,
    pool: null,
    clock: () => clock.now,
  });
  /** One sampling interval (10 s, the default) passes: the queues are read, then the rules evaluated. */
  const interval = async () => {
    clock.now += 10_000;
    await ops.sampleQueues();
    await manager.evaluate();
    await manager.flush();
  };
  const firing = () =>
    manager
      .currentAlerts()
      .filter((a) => a.state === 'firing')
      .map((a) => ({ rule: a.rule, labels: a.labels, value: a.value }));
  return { ops, manager, email, interval, firing };
}

describe('alerts on the sampler', () => {
  it('a failing queue sample raises SamplerStale after three intervals, and it resolves on the next success', async () => {
    const s = await setup();
    await s.interval();
    expect(s.firing()).toEqual([]);

    // The sample reads the notifications' queue too: without the table, every sample fails.
    await db.pool.query('alter table notifications rename to notifications_away');
    try {
      for (let i = 0; i < 3; i++) await s.interval();
      // Exactly three intervals old is not yet stale (as on the overview).
      expect(s.firing()).toEqual([]);
      expect((await s.ops.overview()).sampling.queues!.stale).toBe(false);
      await s.interval();
      expect((await s.ops.overview()).sampling.queues!.stale).toBe(true);
      expect(s.firing()).toEqual([{ rule: 'SamplerStale', labels: { part: 'queues' }, value: 4 }]);
      expect(s.email.outbox().map((m) => m.subject)).toEqual([expect.stringContaining('SamplerStale')]);
    } finally {
      await db.pool.query('alter table notifications_away rename to notifications');
    }
    await s.interval();
    expect(s.firing()).toEqual([]);
  });

  it('a sampler failing from its first try is stale too: it ages from that try', async () => {
    await db.pool.query('alter table notifications rename to notifications_away');
    try {
      const s = await setup();
      for (let i = 0; i < 4; i++) await s.interval();
      expect(s.firing()).toEqual([]);
      await s.interval();
      expect(s.firing()).toEqual([{ rule: 'SamplerStale', labels: { part: 'queues' }, value: 4 }]);
    } finally {
      await db.pool.query('alter table notifications_away rename to notifications');
    }
  });

  it('a forward queue stuck while the sampler fails: SamplerStale fires; once sampling works, ForwardQueueStuck', async () => {
    const s = await setup();
    await s.interval();
    await db.pool.query('alter table notifications rename to notifications_away');
    try {
      // An approved report nobody has forwarded for 20 minutes, while every queue sample fails.
      await db.pool.query(
        `with c as (insert into citizens (id, phone_hash, phone_enc)
                    values (gen_random_uuid(), sha256('stuck'::bytea), '\\x00') returning id)
         insert into reports (id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, status,
                              last_event_hash, priority, sla_due_at, forward_due_at, region_id, district_id, updated_at)
         select gen_random_uuid(), c.id, '128.1', '01A123BC', 'x', 41.3, 69.2, now() - interval '1 hour', 'approved',
                '\\x00', 50, now() + interval '1 day', now() - interval '20 minutes', 1, 1, now() - interval '20 minutes'
           from c`,
      );
      for (let i = 0; i < 4; i++) await s.interval();
      // The age gauge froze at its last good reading (0 s), so the stuck queue cannot show; the sampler's alert does.
      expect(s.firing()).toEqual([{ rule: 'SamplerStale', labels: { part: 'queues' }, value: 4 }]);
    } finally {
      await db.pool.query('alter table notifications_away rename to notifications');
    }
    await s.interval();
    expect(s.firing()).toEqual([{ rule: 'ForwardQueueStuck', labels: {}, value: expect.any(Number) }]);
    expect(s.firing()[0]!.value).toBeGreaterThan(1200);
  });
});
