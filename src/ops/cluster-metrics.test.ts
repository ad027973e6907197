import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Gauge, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testRedisUrl } from '../../test/helpers/redis.js';
import { AlertManager } from './alerts/manager.js';
import { parseAlertRules } from './alerts/rules.js';
import type { AlertEvent, AlertSink } from './alerts/sinks.js';
import { ClusterMetrics, ClusterSeries, EvaluatorLease, mergePoints } from './cluster-metrics.js';
import type { OpsPoint } from './overview.schema.js';

const redisUrl = await testRedisUrl();

/** One process's registry with the queue depth it sees. */
function process_(depth: number) {
  const registry = new Registry();
  new Gauge({ name: 'jarima_test_depth', help: 'depth', registers: [registry] }).set(depth);
  return registry;
}

class RecordingSink implements AlertSink {
  readonly name = 'log' as const;
  readonly events: AlertEvent[] = [];
  async send(e: AlertEvent): Promise<void> {
    this.events.push(e);
  }
}

describe.skipIf(!redisUrl)('alerts across processes', () => {
  let redis: Redis;
  let prefix: string;
  beforeAll(() => {
    redis = new Redis(redisUrl!);
    prefix = `cm${randomBytes(4).toString('hex')}:`;
  });
  afterAll(() => redis.disconnect());

  it('merges every live process’s series, labelled by instance, and drops a process gone silent', async () => {
    const a = new ClusterMetrics(redis, prefix, process_(3), 1000, 'host-a');
    const b = new ClusterMetrics(redis, prefix, process_(4), 1000, 'host-b');
    const gone = new ClusterMetrics(redis, prefix, process_(100), 1000, 'host-gone');
    await Promise.all([a.publish(), b.publish(), gone.publish(Date.now() - 10_000)]);
    const merged = await a.registry().getMetricsAsJSON();
    const depth = merged.find((m) => m.name === 'jarima_test_depth')!;
    expect(depth.values.map((v) => [v.labels.instance, v.value]).sort()).toEqual([
      ['host-a', 3],
      ['host-b', 4],
    ]);
    expect(await redis.hkeys(`${prefix}ops:metrics`)).not.toContain('host-gone');
    await b.stop();
    expect(await redis.hkeys(`${prefix}ops:metrics`)).toEqual(['host-a']);
  });

  it('elects one evaluator, and another takes over when it leaves', async () => {
    const p = `${prefix}lease:`;
    const one = new EvaluatorLease(redis, p, 5000, 'one');
    const two = new EvaluatorLease(redis, p, 5000, 'two');
    expect(await one.held()).toBe(true);
    expect(await two.held()).toBe(false);
    expect(await one.held()).toBe(true);
    await one.release();
    expect(await two.held()).toBe(true);
    expect(await one.held()).toBe(false);
  });

  it('fires a rule on the cluster’s sum, from one process only', async () => {
    const p = `${prefix}fire:`;
    const config = parseAlertRules({
      rules: [
        {
          name: 'DeepQueues',
          expr: 'sum(jarima_test_depth) > 5',
          for: '0s',
          severity: 'warning',
          summary: '{{value}} waiting across the cluster',
          sinks: ['log'],
        },
      ],
    });
    // Neither process alone passes 5; together they do.
    const hosts = [3, 4].map((depth, i) => {
      const cluster = new ClusterMetrics(redis, p, process_(depth), 1000, `host-${i}`);
      const lease = new EvaluatorLease(redis, p, 3000, `host-${i}`);
      const sink = new RecordingSink();
      const manager = new AlertManager({
        registry: cluster.registry(),
        leader: () => lease.held(),
        rules: config.rules,
        sinks: [sink],
        logger: { info: vi.fn(), warn: vi.fn(), error: vi.fn() },
        pool: null,
      });
      return { cluster, manager, sink };
    });
    await Promise.all(hosts.map((h) => h.cluster.publish()));
    for (const h of hosts) h.manager.start(50);
    await new Promise((r) => setTimeout(r, 400));
    await Promise.all(hosts.map((h) => h.manager.stop()));
    const notices = hosts.flatMap((h) => h.sink.events);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ rule: 'DeepQueues', state: 'firing', value: 7 });
  });
});

const point = (over: Partial<OpsPoint> & { rps?: number }): OpsPoint => ({
  at: '2026-12-07T10:00:00.000Z',
  submissions: 50,
  http: { requests: over.rps ?? 100, errors: 1, p50Ms: 5, p95Ms: 20, p99Ms: 40 },
  stages: {
    validate: {
      depth: 7,
      oldestAgeSeconds: 2,
      workers: 1,
      desiredWorkers: 2,
      batching: false,
      completed: 10,
    },
  },
  cacheHitRate: { status: 0.9 },
  breakers: { gov_registry: 0 },
  eventLoopLagP99Ms: 3,
  cpuSeconds: 30,
  rssBytes: 200,
  ...over,
});

describe('the cluster’s minutes', () => {
  it('sum what each process counts, take once what they read from the database, keep the worst latency', () => {
    const merged = mergePoints([
      { process: 'host-a:1:x', point: point({}) },
      {
        process: 'host-a:2:y',
        point: point({
          rps: 300,
          http: { requests: 300, errors: 4, p50Ms: 9, p95Ms: 90, p99Ms: 400 },
          cpuSeconds: 31,
        }),
      },
      {
        process: 'host-b:1:z',
        point: point({ cacheHitRate: { status: 0.5 }, breakers: { gov_registry: 1 } }),
      },
    ]);
    expect(merged.http).toEqual({ requests: 500, errors: 6, p50Ms: 9, p95Ms: 90, p99Ms: 400 });
    expect(merged.submissions).toBe(50);
    expect(merged.stages.validate).toEqual({
      depth: 7,
      oldestAgeSeconds: 2,
      workers: 3,
      desiredWorkers: 6,
      batching: false,
      completed: 30,
    });
    expect(merged.cacheHitRate.status).toBeCloseTo(0.7667, 3);
    expect(merged.breakers.gov_registry).toBe(1);
    // Two processes on host-a read one machine's CPU: it counts once beside host-b's.
    expect(merged.cpuSeconds).toBe(61);
    expect(merged.rssBytes).toBe(600);
  });

  it.skipIf(!redisUrl)('merge each minute of every process through Redis', async () => {
    const redis = new Redis(redisUrl!);
    const prefix = `cs${randomBytes(4).toString('hex')}:`;
    try {
      const a = new ClusterSeries(redis, prefix, 'host-a:1:x');
      const b = new ClusterSeries(redis, prefix, 'host-b:1:y');
      await a.push(point({ at: '2026-12-07T10:00:00.000Z' }));
      await b.push(point({ at: '2026-12-07T10:00:00.250Z' }));
      await a.push(point({ at: '2026-12-07T10:01:00.000Z' }));
      const series = await a.series();
      expect(series.map((p) => [p.at, p.http.requests])).toEqual([
        ['2026-12-07T10:00:00.000Z', 200],
        ['2026-12-07T10:01:00.000Z', 100],
      ]);
    } finally {
      redis.disconnect();
    }
  });
});
