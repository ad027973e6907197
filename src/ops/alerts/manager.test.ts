import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { AlertManager } from './manager.js';
import { parseAlertRules } from './rules.js';
import type { AlertEvent, AlertSink } from './sinks.js';

const MIN = 60_000;
const T0 = Date.parse('2025-03-01T10:00:00Z');

class RecordingSink implements AlertSink {
  readonly events: AlertEvent[] = [];
  constructor(readonly name: 'log' | 'webhook' | 'email' = 'log') {}
  async send(e: AlertEvent): Promise<void> {
    this.events.push(e);
  }
}

const logger = () => ({ info: vi.fn(), warn: vi.fn(), error: vi.fn() });

function setup(rules: Record<string, unknown>[], repeatIntervalMs?: number) {
  const registry = new Registry();
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
  const sink = new RecordingSink();
  const log = logger();
  const config = parseAlertRules({
    rules: rules.map((r) => ({ severity: 'warning', summary: 'x', sinks: ['log'], ...r })),
  });
  const manager = new AlertManager({
    registry,
    rules: config.rules,
    sinks: [sink],
    logger: log,
    pool: null,
    ...(repeatIntervalMs === undefined ? {} : { repeatIntervalMs }),
  });
  /** Evaluates at T0 + minutes and waits for the notices. */
  const at = async (minutes: number) => {
    await manager.evaluate(T0 + minutes * MIN);
    await manager.flush();
  };
  return { registry, breaker, requests, sink, log, manager, at };
}

const BREAKER = {
  name: 'CircuitBreakerOpen',
  expr: 'max by (system) (jarima_circuit_breaker_open) > 0',
  for: '2m',
  summary: 'breaker to {{system}} open ({{value}})',
};

describe('the alert manager', () => {
  it('holds an alert pending for its `for`, fires it once however long it lasts, and resolves it once', async () => {
    const { breaker, sink, manager, at } = setup([BREAKER]);
    breaker.set({ system: 'sms' }, 0);
    await at(0);
    expect(manager.currentAlerts()).toEqual([]);

    breaker.set({ system: 'sms' }, 1);
    await at(1);
    expect(manager.currentAlerts()).toMatchObject([
      { rule: 'CircuitBreakerOpen', state: 'pending', value: 1 },
    ]);
    await at(2);
    expect(sink.events).toEqual([]);
    await at(3);
    expect(manager.currentAlerts()).toMatchObject([
      {
        state: 'firing',
        labels: { system: 'sms' },
        activeAt: new Date(T0 + MIN),
        firedAt: new Date(T0 + 3 * MIN),
      },
    ]);
    // Fifty more ticks of the same alert: still the one notice.
    for (let m = 4; m < 54; m++) await at(m);
    expect(sink.events).toEqual([
      {
        rule: 'CircuitBreakerOpen',
        labels: { system: 'sms' },
        severity: 'warning',
        state: 'firing',
        repeat: false,
        value: 1,
        summary: 'breaker to sms open (1)',
        activeAt: new Date(T0 + MIN),
        at: new Date(T0 + 3 * MIN),
      },
    ]);

    breaker.set({ system: 'sms' }, 0);
    await at(54);
    await at(55);
    expect(sink.events.map((e) => [e.state, e.value, e.at])).toEqual([
      ['firing', 1, new Date(T0 + 3 * MIN)],
      ['resolved', 0, new Date(T0 + 54 * MIN)],
    ]);
    expect(manager.currentAlerts()).toEqual([]);
    expect(manager.ruleStatuses()[0]).toMatchObject({ values: [{ labels: { system: 'sms' }, value: 0 }] });
  });

  it('says nothing of a condition that clears before its `for` is up', async () => {
    const { breaker, sink, manager, at } = setup([BREAKER]);
    breaker.set({ system: 'email' }, 1);
    await at(0);
    await at(1);
    breaker.set({ system: 'email' }, 0);
    await at(2);
    breaker.set({ system: 'email' }, 1);
    // Pending again from minute 3: the earlier spell does not count towards the two minutes.
    await at(3);
    await at(4);
    expect(sink.events).toEqual([]);
    expect(manager.currentAlerts()).toMatchObject([{ state: 'pending', activeAt: new Date(T0 + 3 * MIN) }]);
    await at(5);
    expect(sink.events.map((e) => e.state)).toEqual(['firing']);
  });

  it('treats each label set as its own alert', async () => {
    const { breaker, sink, at } = setup([{ ...BREAKER, for: '0s' }]);
    breaker.set({ system: 'sms' }, 1);
    breaker.set({ system: 'gov_registry' }, 1);
    breaker.set({ system: 'email' }, 0);
    await at(0);
    breaker.set({ system: 'sms' }, 0);
    await at(1);
    // A series that disappears resolves too, with no value.
    breaker.remove({ system: 'gov_registry' });
    await at(2);
    expect(sink.events.map((e) => [e.state, e.labels.system, e.value])).toEqual([
      ['firing', 'sms', 1],
      ['firing', 'gov_registry', 1],
      ['resolved', 'sms', 0],
      ['resolved', 'gov_registry', null],
    ]);
  });

  it('reminds of a still-firing alert once per repeat interval', async () => {
    const { breaker, sink, at } = setup([{ ...BREAKER, for: '0s' }], 60 * MIN);
    breaker.set({ system: 'sms' }, 1);
    for (let m = 0; m <= 150; m += 5) await at(m);
    expect(sink.events.map((e) => [e.repeat, (e.at.getTime() - T0) / MIN])).toEqual([
      [false, 0],
      [true, 60],
      [true, 120],
    ]);
  });

  it('fires on a 5xx rate from counters, and has nothing to say with no traffic', async () => {
    const { requests, sink, manager, at } = setup([
      {
        name: 'HttpErrorRate',
        expr: `sum(rate(jarima_http_requests_total{status_class="5xx"}[5m])) / sum(rate(jarima_http_requests_total[5m])) > 0.01`,
        for: '2m',
      },
    ]);
    const ok = { route: '/v1/reports/:id', method: 'GET', status_class: '2xx' };
    const failed = { ...ok, status_class: '5xx' };
    requests.inc(ok, 0);
    requests.inc(failed, 0);
    for (let m = 0; m <= 3; m++) await at(m);
    expect(manager.ruleStatuses()[0]!.values).toEqual([]);

    // 1,000 requests a minute, 5 % failing.
    for (let m = 4; m <= 10; m++) {
      requests.inc(ok, 950);
      requests.inc(failed, 50);
      await at(m);
    }
    expect(manager.ruleStatuses()[0]!.values).toEqual([{ labels: {}, value: expect.closeTo(0.05) }]);
    expect(sink.events.map((e) => [e.state, (e.at.getTime() - T0) / MIN])).toEqual([['firing', 6]]);

    // The failures stop. At minute 14 the window (9–14) holds the last 50 of them in 5,000: 1 %, not over it.
    for (let m = 11; m <= 17; m++) {
      requests.inc(ok, 1000);
      await at(m);
    }
    expect(sink.events.map((e) => [e.state, (e.at.getTime() - T0) / MIN, e.value])).toEqual([
      ['firing', 6, expect.closeTo(0.05)],
      ['resolved', 14, expect.closeTo(0.01)],
    ]);
  });

  it('reads a prom-client histogram for histogram_quantile', async () => {
    const registry = new Registry();
    const duration = new Histogram({
      name: 'jarima_http_request_duration_seconds',
      help: 'latency',
      labelNames: ['route', 'method', 'status_class'],
      buckets: [0.1, 0.5, 1, 2],
      registers: [registry],
    });
    const config = parseAlertRules({
      rules: [
        {
          name: 'StatusPollLatencyHigh',
          expr: "histogram_quantile(0.99, sum by (le) (rate(jarima_http_request_duration_seconds_bucket{route='/v1/reports/:id'}[5m]))) > 0.5",
          severity: 'warning',
          summary: 'p99 {{value}} s',
          sinks: ['log'],
        },
      ],
    });
    const sink = new RecordingSink();
    const manager = new AlertManager({
      registry,
      rules: config.rules,
      sinks: [sink],
      logger: logger(),
      pool: null,
    });
    const poll = { route: '/v1/reports/:id', method: 'GET', status_class: '2xx' };
    duration.observe(poll, 0.05);
    // A series needs two samples for a rate (as in Prometheus), so both exist before the minute measured.
    duration.observe({ ...poll, status_class: '5xx' }, 0.05);
    await manager.evaluate(T0);
    // A minute later: 90 fast polls, 10 taking 1.5 s; the 99th percentile lies in (1, 2].
    for (let i = 0; i < 90; i++) duration.observe(poll, 0.05);
    for (let i = 0; i < 10; i++) duration.observe({ ...poll, status_class: '5xx' }, 1.5);
    duration.observe({ ...poll, route: '/v1/stats/summary' }, 30);
    await manager.evaluate(T0 + MIN);
    await manager.flush();
    // Rank 99 of 100: 9 of the 10 in (1, 2] → 1 + 1 × 9/10.
    expect(sink.events.map((e) => [e.state, e.value])).toEqual([['firing', expect.closeTo(1.9)]]);
  });

  it('logs a failing sink and still notifies the others', async () => {
    const registry = new Registry();
    new Gauge({ name: 'g', help: 'g', registers: [registry] }).set(1);
    const good = new RecordingSink('log');
    const bad: AlertSink = {
      name: 'webhook',
      send: async () => {
        throw new Error('receiver down');
      },
    };
    const log = logger();
    const config = parseAlertRules({
      rules: [{ name: 'G', expr: 'max(g) > 0', severity: 'info', summary: 'g', sinks: ['webhook', 'log'] }],
      sinks: { webhook: { url: 'http://127.0.0.1:9/' } },
    });
    const manager = new AlertManager({
      registry,
      rules: config.rules,
      sinks: [bad, good],
      logger: log,
      pool: null,
    });
    await manager.evaluate(T0);
    await manager.flush();
    expect(good.events).toHaveLength(1);
    expect(log.error).toHaveBeenCalledWith(
      expect.objectContaining({
        sink: 'webhook',
        rule: 'G',
        err: expect.objectContaining({ message: 'receiver down' }),
      }),
      'alert notice failed',
    );

    expect(
      () => new AlertManager({ registry, rules: config.rules, sinks: [good], logger: log, pool: null }),
    ).toThrow('alert rule "G" sends to "webhook", which is not configured');
  });

  it('evaluates on its own schedule until stopped', async () => {
    const { breaker, sink, manager } = setup([{ ...BREAKER, for: '0s' }]);
    breaker.set({ system: 'sms' }, 1);
    manager.start(10);
    await vi.waitFor(() => expect(sink.events).toHaveLength(1), { timeout: 2000 });
    await manager.stop();
    const evaluatedAt = manager.ruleStatuses()[0]!.lastEvaluatedAt;
    await new Promise((r) => setTimeout(r, 50));
    expect(manager.ruleStatuses()[0]!.lastEvaluatedAt).toEqual(evaluatedAt);
  });
});
