import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bucketQuantile } from '../../platform/metrics/quantile.js';
import { counterGrowth, evaluateCondition, type MetricSource } from './eval.js';
import { ExprError, parseCondition, parseExpr } from './expr.js';
import { AlertRulesError, loadAlertRules, parseAlertRules } from './rules.js';

describe('the expression parser', () => {
  it('reads the four example rules into their trees', () => {
    expect(parseCondition(`max(jarima_stage_oldest_job_age_seconds{stage="forward"}) > 600`)).toEqual({
      op: '>',
      threshold: 600,
      expr: {
        kind: 'aggregate',
        op: 'max',
        by: [],
        arg: {
          kind: 'selector',
          metric: 'jarima_stage_oldest_job_age_seconds',
          matchers: [{ label: 'stage', op: '=', value: 'forward', re: null }],
        },
      },
    });

    const ratio = parseCondition(
      `sum(rate(jarima_http_requests_total{status_class="5xx"}[5m])) / sum(rate(jarima_http_requests_total[5m])) > 0.01`,
    );
    expect(ratio).toMatchObject({
      op: '>',
      threshold: 0.01,
      expr: {
        kind: 'binary',
        op: '/',
        left: { kind: 'aggregate', op: 'sum', arg: { kind: 'range', fn: 'rate', windowMs: 300_000 } },
        right: { kind: 'aggregate', op: 'sum', arg: { kind: 'range', fn: 'rate', windowMs: 300_000 } },
      },
    });

    expect(parseCondition('max(jarima_circuit_breaker_open) > 0').expr).toMatchObject({ kind: 'aggregate' });
    const cache = parseCondition(
      `sum(rate(jarima_cache_requests_total{result=~'hit|stale'}[5m])) / sum(rate(jarima_cache_requests_total[5m])) < 0.95`,
    );
    expect(cache.op).toBe('<');
    const matcher = (cache.expr as { left: { arg: { selector: { matchers: { re: RegExp }[] } } } }).left.arg
      .selector.matchers[0]!;
    // PromQL anchors regular expressions at both ends.
    expect(['hit', 'stale', 'hits', 'miss'].map((v) => matcher.re.test(v))).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it('binds * and / tighter than + and -, left to right, and reads by, !=, !~, unary minus and exponents', () => {
    expect(parseExpr('1 - 2 * 3 / 4 + x')).toMatchObject({
      kind: 'binary',
      op: '+',
      left: {
        op: '-',
        left: { kind: 'number', value: 1 },
        right: { op: '/', left: { op: '*' }, right: { value: 4 } },
      },
      right: { kind: 'selector', metric: 'x' },
    });
    expect(parseExpr('sum by (stage, le) (increase(a{b!="c", d!~"e.*",}[90s]))')).toMatchObject({
      kind: 'aggregate',
      by: ['stage', 'le'],
      arg: { fn: 'increase', windowMs: 90_000, selector: { matchers: [{ op: '!=' }, { op: '!~' }] } },
    });
    expect(parseExpr('avg(x) by (system)')).toMatchObject({ by: ['system'] });
    expect(parseCondition('min(x) >= -1.5e-3').threshold).toBe(-0.0015);
  });

  it.each([
    ['max(x) >', 'expected number but found end of expression at position 8'],
    ['max(x > 1', 'expected ) but found ">" at position 6'],
    ['rate(x) > 1', 'rate() needs a range, like rate(x[5m]) at position 6'],
    ['x[5m] > 1', 'a range like x[5m] is only allowed inside rate() or increase() at position 1'],
    ['rate(x[5]) > 1', 'expected a duration like 5m but found "5" at position 7'],
    ['quantile(0.9, x) > 1', 'unknown function "quantile"'],
    ['x{a=b} > 1', 'expected a quoted string but found "b" at position 4'],
    ['x{a=="b"} > 1', 'expected a quoted string but found "=" at position 4'],
    ['x{a="b} > 1', 'unterminated string at position 4'],
    ['x{a=~"("} > 1', 'invalid regular expression'],
    ['max(x)', 'expected a comparison (>, <, >=, <=) with a number at position 6'],
    ['max(x) == 1', 'expected a comparison'],
    ['1 + 2 > 1', 'the expression must select a metric at position 0'],
    ['sum(1) > 1', 'sum() needs a metric to aggregate at position 4'],
    ['x > 1 > 2', 'expected end of expression but found ">" at position 6'],
    ['x # y > 1', 'unexpected character "#" at position 2'],
    ['histogram_quantile(1.5, x) > 1', 'the quantile must be between 0 and 1 at position 19'],
    ['time(x) - x > 1', 'expected ) but found "x" at position 5'],
  ])('rejects %s', (src, message) => {
    let err: unknown;
    try {
      parseCondition(src);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExprError);
    expect((err as Error).message).toContain(message);
  });

  it('points at the place in the message', () => {
    expect(() => parseCondition('max(x > 1')).toThrow('max(x ⟨here⟩> 1');
  });
});

/** A source with fixed readings, for evaluating expressions by hand. */
function source(
  instant: Record<string, { labels: Record<string, string>; value: number }[]>,
  range: Record<string, { labels: Record<string, string>; samples: { t: number; v: number }[] }[]> = {},
): MetricSource {
  return { instant: (m) => instant[m] ?? [], range: (m) => range[m] ?? [] };
}

describe('evaluation', () => {
  it('rate and increase count across a counter reset', () => {
    // 0 → 30 → 60, the process restarts (back to 10), → 40: it grew by 30 + 30 + 10 + 30 = 100 over 40 s.
    const samples = [0, 30, 60, 10, 40].map((v, i) => ({ t: i * 10_000, v }));
    expect(counterGrowth(samples, 0, 40_000)).toEqual({ increase: 100, perSecond: 2.5 });
    // Only what lies in the window counts (60 → 10 → 40 over 20 s); one sample is no growth at all.
    expect(counterGrowth(samples, 15_000, 40_000)).toEqual({ increase: 40, perSecond: 2 });
    expect(counterGrowth(samples, 35_000, 40_000)).toBeNull();

    const src = source({}, { c: [{ labels: { k: 'a' }, samples }] });
    expect(evaluateCondition(parseCondition('rate(c[40s]) > 2'), src, 40_000)).toEqual([
      { labels: { k: 'a' }, value: 2.5, met: true },
    ]);
    expect(evaluateCondition(parseCondition('increase(c[25s]) > 50'), src, 40_000)).toEqual([
      { labels: { k: 'a' }, value: 40, met: false },
    ]);
  });

  it('aggregates over all series or by label, and pairs vectors by their labels', () => {
    const src = source({
      q: [
        { labels: { stage: 'forward', pod: '1' }, value: 5 },
        { labels: { stage: 'forward', pod: '2' }, value: 7 },
        { labels: { stage: 'notify', pod: '1' }, value: 1 },
      ],
      cap: [
        { labels: { stage: 'forward' }, value: 10 },
        { labels: { stage: 'validate' }, value: 10 },
      ],
    });
    const run = (e: string) => evaluateCondition(parseCondition(e), src, 0);
    expect(run('sum(q) > 0')).toEqual([{ labels: {}, value: 13, met: true }]);
    expect(run('avg(q{stage!="notify"}) >= 6')).toEqual([{ labels: {}, value: 6, met: true }]);
    expect(run('max by (stage) (q) > 2')).toEqual([
      { labels: { stage: 'forward' }, value: 7, met: true },
      { labels: { stage: 'notify' }, value: 1, met: false },
    ]);
    // Only "forward" is on both sides.
    expect(run('sum by (stage) (q) / sum by (stage) (cap) > 1')).toEqual([
      { labels: { stage: 'forward' }, value: 1.2, met: true },
    ]);
    expect(run('min(q) * 2 + 1 > 2')).toEqual([{ labels: {}, value: 3, met: true }]);
  });

  it('time() is the evaluation’s moment in seconds: a timestamp gauge becomes an age, per series', () => {
    expect(parseExpr('time() - x')).toEqual({
      kind: 'binary',
      op: '-',
      left: { kind: 'time' },
      right: { kind: 'selector', metric: 'x', matchers: [] },
    });
    const src = source({
      last: [
        { labels: { part: 'queues' }, value: 1000 },
        { labels: { part: 'points' }, value: 1000 },
      ],
      every: [
        { labels: { part: 'queues' }, value: 10 },
        { labels: { part: 'points' }, value: 60 },
      ],
    });
    // 45 s after the stamp: 4.5 intervals of 10 s, 0.75 of 60 s.
    expect(evaluateCondition(parseCondition('(time() - last) / every > 3'), src, 1_045_000)).toEqual([
      { labels: { part: 'queues' }, value: 4.5, met: true },
      { labels: { part: 'points' }, value: 0.75, met: false },
    ]);
    expect(() => parseCondition('time() > 1')).toThrow('the expression must select a metric');
  });

  it('has no value, so never fires, when a ratio divides by zero or nothing matches', () => {
    const quiet = source(
      {},
      {
        r: [
          {
            labels: { status_class: '2xx' },
            samples: [
              { t: 0, v: 5 },
              { t: 60_000, v: 5 },
            ],
          },
        ],
      },
    );
    expect(
      evaluateCondition(
        parseCondition('sum(rate(r{status_class="5xx"}[5m])) / sum(rate(r[5m])) > 0.01'),
        quiet,
        60_000,
      ),
    ).toEqual([]);
    expect(evaluateCondition(parseCondition('max(nothing) > 0'), quiet, 0)).toEqual([]);
  });

  it('histogram_quantile interpolates within the bucket as Prometheus does', () => {
    const b = (upper: number, count: number) => ({ upper, count });
    // 100 observations: 50 ≤ 0.1, 90 ≤ 0.5, 99 ≤ 1, all ≤ +Inf. The 90th percentile is 0.5 (the bucket's top).
    const buckets = () => [b(0.1, 50), b(0.5, 90), b(1, 99), b(Number.POSITIVE_INFINITY, 100)];
    expect(bucketQuantile(0.9, buckets())).toBe(0.5);
    // Rank 70 is half-way through (0.1, 0.5]: 0.1 + 0.4 × (20 / 40).
    expect(bucketQuantile(0.7, buckets())).toBeCloseTo(0.3);
    // Rank 99.5 falls into +Inf: the highest finite bound.
    expect(bucketQuantile(0.995, buckets())).toBe(1);
    expect(bucketQuantile(0.5, [b(1, 0), b(Number.POSITIVE_INFINITY, 0)])).toBeNull();
    expect(bucketQuantile(0.5, [b(1, 3), b(2, 4)])).toBeNull();

    const bucket = (le: string, v: number, route = '/v1/reports/:id') => ({
      labels: { le, route },
      value: v,
    });
    const src = source({
      h_bucket: [
        bucket('0.1', 50),
        bucket('0.5', 90),
        bucket('1', 99),
        bucket('+Inf', 100),
        bucket('+Inf', 3, '/x'),
      ],
    });
    expect(
      evaluateCondition(
        parseCondition('histogram_quantile(0.7, h_bucket{route="/v1/reports/:id"}) > 0.25'),
        src,
        0,
      ),
    ).toEqual([{ labels: { route: '/v1/reports/:id' }, value: expect.closeTo(0.3), met: true }]);
  });
});

describe('the rules file', () => {
  const rule = (overrides: Record<string, unknown> = {}) => ({
    name: 'ForwardQueueStuck',
    expr: 'max(jarima_stage_oldest_job_age_seconds{stage="forward"}) > 600',
    for: '10m',
    severity: 'critical',
    summary: 'stuck',
    sinks: ['log'],
    ...overrides,
  });
  const problemsOf = (raw: unknown): string[] => {
    try {
      parseAlertRules(raw, 'test.json');
    } catch (err) {
      expect(err).toBeInstanceOf(AlertRulesError);
      return (err as AlertRulesError).problems;
    }
    throw new Error('no error');
  };

  it('fills in the defaults and parses each rule', () => {
    const config = parseAlertRules({ rules: [rule({ for: undefined })] });
    expect(config).toMatchObject({
      evaluationIntervalMs: 15_000,
      repeatIntervalMs: 4 * 3_600_000,
      sinks: {},
    });
    expect(config.rules[0]).toMatchObject({
      name: 'ForwardQueueStuck',
      forMs: 0,
      condition: { threshold: 600 },
    });
  });

  it('names the rule and the field that is wrong', () => {
    expect(problemsOf({ rules: [rule(), rule({ name: 'Other', for: '10 minutes' })] })).toEqual([
      expect.stringMatching(/^rule "Other" field "for": /),
    ]);
    expect(problemsOf({ rules: [rule({ severity: 'page' })] })[0]).toMatch(
      /^rule "ForwardQueueStuck" field "severity"/,
    );
    expect(problemsOf({ rules: [rule({ name: undefined })] })[0]).toMatch(/^rule #1/);
    expect(problemsOf({ rules: [rule({ extra: 1 })] })[0]).toMatch(/^rule "ForwardQueueStuck" field "extra"/);
    expect(problemsOf({ rules: [rule({ expr: 'max(x >' })] })).toEqual([
      expect.stringMatching(
        /^rule "ForwardQueueStuck" field "expr": expected \) but found ">" at position 6/,
      ),
    ]);
    expect(problemsOf({ rules: [rule(), rule()] })).toEqual([
      'rule "ForwardQueueStuck" field "name": another rule has this name',
    ]);
    expect(problemsOf({ rules: [rule({ sinks: ['log', 'webhook'] })] })).toEqual([
      'rule "ForwardQueueStuck" field "sinks": "webhook" needs a sinks.webhook section',
    ]);
    expect(problemsOf({ rules: [], sinks: { webhook: { url: 'ftp://x' } } })[0]).toMatch(
      /^field "sinks.webhook.url"/,
    );
  });

  it('ships config/alerts.json, and it loads', async () => {
    const config = await loadAlertRules(path.resolve('config/alerts.json'));
    expect(config.rules.map((r) => r.name)).toEqual([
      'ForwardQueueStuck',
      'HttpErrorRate',
      'CircuitBreakerOpen',
      'CacheHitRateLow',
      'StatusPollLatencyHigh',
      'EventLoopLagHigh',
      'DbPoolWaiting',
      'SamplerStale',
      'ReviewDeadlineBreached',
      'DeadLetterReports',
    ]);
    await expect(loadAlertRules('config/none.json')).rejects.toThrow(
      /invalid alert rules in config\/none.json/,
    );
  });
});
