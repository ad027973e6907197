import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/helpers/db.js';
import { StageArrivals } from '../pipeline/queues.js';
import { createPool, type Pool } from '../platform/db/pool.js';
import { Metrics } from '../platform/metrics/metrics.js';
import { CapacityRecorder } from './capacity-recorder.js';
import { OpsSampler } from './sampler.js';
import { SamplerHealth } from './sampler-health.js';

const db = await createTestDatabase();

/** A sampler and capacity recorder as deps.ts composes them, on a clock the test moves and a logger it reads. */
function sampler(pool: Pool) {
  const metrics = new Metrics({ defaultMetrics: false });
  const lines: {
    fields: { kind?: string; suppressedSinceLastLine?: number; err?: Error };
    message: string;
  }[] = [];
  const clock = { now: Date.now() };
  const health = new SamplerHealth({
    metrics,
    logger: { warn: (fields, message) => lines.push({ fields, message }) },
    now: () => clock.now,
  });
  const ops = new OpsSampler({
    pool,
    metrics,
    cache: { stats: () => ({}) },
    arrivals: new StageArrivals(),
    breakers: () => ({}),
    health,
    minuteListeners: [new CapacityRecorder({ pool, metrics, health })],
  });
  const errors = async (part: string) =>
    (await metrics.samplerErrors.get()).values.find((v) => v.labels.part === part)?.value ?? 0;
  const lastSuccess = async (part: string) =>
    (await metrics.samplerLastSuccess.get()).values.find((v) => v.labels.part === part)?.value;
  return { ops, metrics, lines, clock, errors, lastSuccess };
}

describe('the ops sampler’s failures', () => {
  it('counts a failing queue sample, logs it once a minute, marks the queues stale, and clears on the next good one', async () => {
    const s = sampler(db.pool);
    await s.ops.sampleQueues();
    const good = s.clock.now;
    expect((await s.ops.overview()).sampling.queues).toMatchObject({
      stale: false,
      ageSeconds: 0,
      failures: 0,
    });
    expect(await s.lastSuccess('queues')).toBe(good / 1000);

    // The sample reads the notifications' queue too: without the table, every sample fails.
    await db.pool.query('alter table notifications rename to notifications_away');
    for (let i = 0; i < 4; i++) {
      s.clock.now += 10_000;
      await s.ops.sampleQueues();
    }
    expect(await s.errors('queues')).toBe(4);
    expect(s.lines).toHaveLength(1);
    expect(s.lines[0]).toMatchObject({
      message: 'ops sampler: queues failed',
      fields: { kind: 'queues', suppressedSinceLastLine: 0 },
    });
    expect(s.lines[0]!.fields.err!.message).toContain('notifications');
    // Four intervals without a success: the depth gauges hold a reading 40 s old, and the overview says so.
    const stale = (await s.ops.overview()).sampling.queues!;
    expect(stale).toMatchObject({ stale: true, ageSeconds: 40, failures: 4 });
    expect(stale.lastError).toContain('notifications');
    expect(await s.lastSuccess('queues')).toBe(good / 1000);
    const exposed = await s.metrics.registry.metrics();
    expect(exposed).toContain('jarima_sampler_errors_total{part="queues"} 4');

    // A minute after the first line, the next failure is logged with the three it stood for.
    s.clock.now += 30_000;
    await s.ops.sampleQueues();
    expect(s.lines).toHaveLength(2);
    expect(s.lines[1]!.fields.suppressedSinceLastLine).toBe(3);

    await db.pool.query('alter table notifications_away rename to notifications');
    s.clock.now += 10_000;
    await s.ops.sampleQueues();
    expect((await s.ops.overview()).sampling.queues).toMatchObject({
      stale: false,
      ageSeconds: 0,
      failures: 5,
      lastError: null,
    });
    expect(await s.lastSuccess('queues')).toBe(s.clock.now / 1000);
    expect(await s.errors('queues')).toBe(5);
  });

  it('against a pool that is ended: counts what needs the database, keeps the dashboard’s points', async () => {
    const ended = createPool(db.url, 1);
    await ended.end();
    const s = sampler(ended);
    // As `jarima start` runs it, with the timers stopped: start() samples and closes a first minute itself.
    s.ops.start({ wholePath: true, sampleMs: 3_600_000, pointMs: 60_000 });
    await s.ops.stop();
    s.clock.now += 30_000;
    const point = await s.ops.minute(s.clock.now);
    // The points come from this process's own counters.
    expect(point).toMatchObject({ http: { requests: 0 } });
    expect(await s.errors('points')).toBe(0);
    expect(await s.errors('queues')).toBe(1);
    // PostgreSQL's CPU at both minutes; the measurements only at the second (the first is the interval's start).
    expect(await s.errors('installation_cpu')).toBe(2);
    expect(await s.errors('capacity')).toBe(1);
    // One line per part within the minute.
    expect(s.lines.map((l) => l.fields.kind).sort()).toEqual([
      'capacity',
      'deadlines',
      'installation_cpu',
      'queues',
    ]);

    s.clock.now += 160_000;
    const sampling = (await s.ops.overview()).sampling;
    expect(sampling.points).toMatchObject({ stale: false, failures: 0 });
    // Over three minutes since the last success (capacity: its first, reading-only minute) or the first attempt.
    expect(sampling.capacity).toMatchObject({ stale: true, ageSeconds: 190, failures: 1 });
    expect(sampling.installation_cpu).toMatchObject({ stale: true, ageSeconds: 190, lastSuccessAt: null });
    expect(sampling.installation_cpu!.lastError).toContain('end');
    // Its interval is an hour: not stale yet.
    expect(sampling.queues).toMatchObject({ stale: false, failures: 1 });
  });
});
