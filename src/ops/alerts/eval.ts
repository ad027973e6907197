import { bucketQuantile, upperBoundOf } from '../../platform/metrics/quantile.js';
import type { Condition, Expr, Labels, Matcher, Selector } from './expr.js';

export interface Sample {
  /** ms since the epoch */
  t: number;
  v: number;
}

export interface InstantSeries {
  labels: Labels;
  value: number;
}

export interface RangeSeries {
  labels: Labels;
  /** Oldest first. */
  samples: readonly Sample[];
}

/** What an expression reads: the registry now, and the samples kept from earlier ticks. */
export interface MetricSource {
  instant(metric: string): readonly InstantSeries[];
  range(metric: string): readonly RangeSeries[];
}

/** One element of a result: a labelled value (the labels make it its own alert instance). */
export interface Element {
  labels: Labels;
  value: number;
}

type Value = { kind: 'scalar'; value: number | null } | { kind: 'vector'; items: Element[] };

/**
 * Evaluates a rule's condition at `now`: every element of the expression's value, and whether it meets the
 * threshold. An element missing from the result (no series matched; a division by zero, such as an error rate
 * with no traffic; a rate with fewer than two samples in its window) has no value and so is not firing.
 */
export function evaluateCondition(
  c: Condition,
  source: MetricSource,
  now: number,
): { labels: Labels; value: number; met: boolean }[] {
  const v = evaluate(c.expr, source, now);
  const items = v.kind === 'vector' ? v.items : [];
  return items.map((e) => ({ labels: e.labels, value: e.value, met: compare(e.value, c.op, c.threshold) }));
}

function compare(v: number, op: Condition['op'], threshold: number): boolean {
  switch (op) {
    case '>':
      return v > threshold;
    case '<':
      return v < threshold;
    case '>=':
      return v >= threshold;
    case '<=':
      return v <= threshold;
  }
}

export function evaluate(e: Expr, source: MetricSource, now: number): Value {
  switch (e.kind) {
    case 'number':
      return { kind: 'scalar', value: e.value };
    case 'time':
      return { kind: 'scalar', value: now / 1000 };
    case 'selector':
      return {
        kind: 'vector',
        items: source
          .instant(e.metric)
          .filter((s) => matches(e, s.labels))
          .map((s) => ({ labels: s.labels, value: s.value })),
      };
    case 'range': {
      const items: Element[] = [];
      for (const s of source.range(e.selector.metric)) {
        if (!matches(e.selector, s.labels)) continue;
        const growth = counterGrowth(s.samples, now - e.windowMs, now);
        if (!growth) continue;
        items.push({ labels: s.labels, value: e.fn === 'increase' ? growth.increase : growth.perSecond });
      }
      return { kind: 'vector', items };
    }
    case 'aggregate':
      return { kind: 'vector', items: aggregate(e.op, e.by, vectorOf(evaluate(e.arg, source, now))) };
    case 'quantile':
      return { kind: 'vector', items: histogramQuantile(e.q, vectorOf(evaluate(e.arg, source, now))) };
    case 'binary':
      return binary(e.op, evaluate(e.left, source, now), evaluate(e.right, source, now));
  }
}

function vectorOf(v: Value): Element[] {
  return v.kind === 'vector' ? v.items : [];
}

function matches(s: Selector, labels: Labels): boolean {
  return s.matchers.every((m) => matchOne(m, labels[m.label] ?? ''));
}

function matchOne(m: Matcher, v: string): boolean {
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return m.re!.test(v);
    case '!~':
      return !m.re!.test(v);
  }
}

/**
 * How much a counter grew between the first and the last sample in [from, to], and that growth per second. A value
 * lower than the one before it is a reset (the process restarted, or the counter was reset): the counter started
 * again from zero, so the growth across it is the new value. Unlike Prometheus there is no extrapolation to the
 * window's edges: the samples are ours, taken every tick, so the window is covered to within one tick.
 */
export function counterGrowth(
  samples: readonly Sample[],
  from: number,
  to: number,
): { increase: number; perSecond: number } | null {
  let first = -1;
  let last = -1;
  let increase = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (s.t < from || s.t > to) continue;
    if (first === -1) first = i;
    else {
      const prev = samples[last]!.v;
      increase += s.v >= prev ? s.v - prev : s.v;
    }
    last = i;
  }
  if (first === -1 || last === first) return null;
  const seconds = (samples[last]!.t - samples[first]!.t) / 1000;
  return { increase, perSecond: increase / seconds };
}

export function labelKey(labels: Labels): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
}

function aggregate(op: 'sum' | 'max' | 'min' | 'avg', by: string[], items: Element[]): Element[] {
  const groups = new Map<string, { labels: Labels; values: number[] }>();
  for (const item of items) {
    if (Number.isNaN(item.value)) continue;
    const labels: Labels = {};
    for (const l of by) if (item.labels[l] !== undefined) labels[l] = item.labels[l];
    const key = labelKey(labels);
    const g = groups.get(key) ?? { labels, values: [] };
    g.values.push(item.value);
    groups.set(key, g);
  }
  return [...groups.values()].map(({ labels, values }) => {
    const sum = values.reduce((a, b) => a + b, 0);
    const value =
      op === 'sum'
        ? sum
        : op === 'avg'
          ? sum / values.length
          : op === 'max'
            ? Math.max(...values)
            : Math.min(...values);
    return { labels, value };
  });
}

function arithmetic(op: '+' | '-' | '*' | '/', a: number, b: number): number | null {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      // No traffic makes a ratio 0/0: no value, not firing (PromQL would give NaN, and NaN > x is false there too).
      return b === 0 ? null : a / b;
  }
}

/**
 * Vector with scalar applies to each element; vector with vector pairs elements with identical labels (after an
 * aggregation without `by` both sides hold one element with no labels) and drops the unpaired.
 */
function binary(op: '+' | '-' | '*' | '/', l: Value, r: Value): Value {
  if (l.kind === 'scalar' && r.kind === 'scalar') {
    return {
      kind: 'scalar',
      value: l.value === null || r.value === null ? null : arithmetic(op, l.value, r.value),
    };
  }
  const out: Element[] = [];
  const push = (labels: Labels, v: number | null) => {
    if (v !== null && !Number.isNaN(v)) out.push({ labels, value: v });
  };
  if (l.kind === 'vector' && r.kind === 'scalar') {
    if (r.value !== null) for (const e of l.items) push(e.labels, arithmetic(op, e.value, r.value));
  } else if (l.kind === 'scalar' && r.kind === 'vector') {
    if (l.value !== null) for (const e of r.items) push(e.labels, arithmetic(op, l.value, e.value));
  } else if (l.kind === 'vector' && r.kind === 'vector') {
    const right = new Map(r.items.map((e) => [labelKey(e.labels), e.value]));
    for (const e of l.items) {
      const rv = right.get(labelKey(e.labels));
      if (rv !== undefined) push(e.labels, arithmetic(op, e.value, rv));
    }
  }
  return { kind: 'vector', items: out };
}

/** Prometheus's histogram_quantile per label set (without `le`): see bucketQuantile for the interpolation. */
function histogramQuantile(q: number, items: Element[]): Element[] {
  const groups = new Map<string, { labels: Labels; buckets: Map<number, number> }>();
  for (const item of items) {
    const upper = upperBoundOf(item.labels);
    if (Number.isNaN(upper)) continue;
    const { le: _, ...labels } = item.labels;
    const key = labelKey(labels);
    const g = groups.get(key) ?? { labels, buckets: new Map<number, number>() };
    g.buckets.set(upper, (g.buckets.get(upper) ?? 0) + item.value);
    groups.set(key, g);
  }
  const out: Element[] = [];
  for (const { labels, buckets } of groups.values()) {
    const value = bucketQuantile(
      q,
      [...buckets].map(([upper, count]) => ({ upper, count })).sort((a, b) => a.upper - b.upper),
    );
    if (value !== null) out.push({ labels, value });
  }
  return out;
}
