import type { Queryable } from '../../platform/db/pool.js';
import { toError } from '../../platform/errors/catalog.js';
import { evaluateCondition, labelKey } from './eval.js';
import { type Labels, selectorsOf } from './expr.js';
import { recordAlertEvent } from './history.js';
import type { AlertRule, Severity } from './rules.js';
import { type MetricsRegistry, SampleStore } from './samples.js';
import type { AlertEvent, AlertLogger, AlertSink } from './sinks.js';

export interface AlertManagerOptions {
  /** The prom-client Registry the process exposes at /metrics. */
  registry: MetricsRegistry;
  rules: AlertRule[];
  /** Every sink a rule names must be here (createAlertSinks builds them from the rules file). */
  sinks: AlertSink[];
  logger: AlertLogger;
  /** Where firing/resolved transitions are written (alert_events); null keeps no history. */
  pool: Queryable | null;
  /** ms since the epoch; tests step it. */
  clock?: () => number;
  /** A still-firing alert is notified again after this long; 0 = never. Default 4 h. */
  repeatIntervalMs?: number;
  /**
   * Whether this process evaluates at this tick (one process of a cluster does: EvaluatorLease); default always.
   * A process that is not the evaluator forgets its instances, so it starts afresh if it becomes one again.
   */
  leader?: () => Promise<boolean>;
  /** Called after each evaluation this process made (to share its view with the other processes). */
  evaluated?: () => Promise<void>;
}

/** An alert instance: one rule and one label set of its expression's value. */
export interface ActiveAlert {
  rule: string;
  labels: Labels;
  severity: Severity;
  state: 'pending' | 'firing';
  value: number | null;
  summary: string;
  activeAt: Date;
  firedAt: Date | null;
}

export interface RuleStatus {
  name: string;
  expr: string;
  forMs: number;
  severity: Severity;
  sinks: string[];
  lastEvaluatedAt: Date | null;
  /** The expression's value per label set at the last evaluation (empty: no value). */
  values: { labels: Labels; value: number }[];
}

interface Instance {
  labels: Labels;
  state: 'pending' | 'firing';
  value: number | null;
  activeAt: number;
  firedAt: number | null;
  lastNotifiedAt: number;
}

/**
 * Evaluates alert rules over this process's metrics on a schedule. Each label set of a rule's value is an alert
 * instance: inactive → pending (condition holds, waiting out `for`) → firing → resolved (inactive again). A
 * pending instance whose condition stops holding goes back to inactive without a word. Sinks hear of an instance
 * when it starts firing, when it resolves, and every `repeatIntervalMs` while it keeps firing — never on every tick.
 *
 * With REDIS_URL the registry is the cluster's (ClusterMetrics: every process's series, labelled `instance`) and one
 * process evaluates (`leader`: EvaluatorLease); without it, each process its own registry.
 */
export class AlertManager {
  private readonly rules: AlertRule[];
  private readonly sinks: Map<string, AlertSink>;
  private readonly logger: AlertLogger;
  private readonly pool: Queryable | null;
  private readonly clock: () => number;
  private readonly repeatIntervalMs: number;
  private readonly registry: MetricsRegistry;
  private readonly leader: (() => Promise<boolean>) | null;
  private readonly evaluated: (() => Promise<void>) | null;
  private readonly store: SampleStore;
  /** Per rule: its pending and firing instances by label key. */
  private readonly instances = new Map<AlertRule, Map<string, Instance>>();
  private readonly lastValues = new Map<string, { labels: Labels; value: number }[]>();
  private lastEvaluatedAt: number | null = null;
  private readonly deliveries = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;

  constructor(opts: AlertManagerOptions) {
    this.registry = opts.registry;
    this.rules = opts.rules;
    this.sinks = new Map(opts.sinks.map((s) => [s.name, s]));
    this.logger = opts.logger;
    this.pool = opts.pool;
    this.clock = opts.clock ?? Date.now;
    this.repeatIntervalMs = opts.repeatIntervalMs ?? 4 * 3_600_000;
    this.leader = opts.leader ?? null;
    this.evaluated = opts.evaluated ?? null;
    const instant = new Set<string>();
    const windows = new Map<string, number>();
    for (const rule of this.rules) {
      this.instances.set(rule, new Map());
      for (const s of rule.sinks) {
        if (!this.sinks.has(s))
          throw new Error(`alert rule "${rule.name}" sends to "${s}", which is not configured`);
      }
      for (const { metric, windowMs } of selectorsOf(rule.condition.expr)) {
        if (windowMs === 0) instant.add(metric);
        else windows.set(metric, Math.max(windowMs, windows.get(metric) ?? 0));
      }
    }
    this.store = new SampleStore(instant, windows);
  }

  /** Evaluates every `intervalMs` until stop(); a tick never overlaps the one before. */
  start(intervalMs: number): void {
    if (this.timer) return;
    const tick = () => {
      this.ticking = this.lead()
        .then(async (leading) => {
          if (!leading) return;
          await this.evaluate();
          await this.evaluated?.();
        })
        .catch((err: unknown) => this.logger.error({ err: toError(err) }, 'alert evaluation failed'))
        .finally(() => {
          this.ticking = null;
          if (this.timer) this.timer = setTimeout(tick, intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, intervalMs).unref();
  }

  /** Whether this process evaluates now; when not, what it knew of the instances is dropped (another judges). */
  private async lead(): Promise<boolean> {
    if (!this.leader || (await this.leader())) return true;
    for (const byKey of this.instances.values()) byKey.clear();
    this.lastValues.clear();
    return false;
  }

  /** Stops the schedule and waits for the tick in progress and the notices already on their way. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking;
    await this.flush();
  }

  /** Waits until every notice sent so far has been delivered or given up on. */
  async flush(): Promise<void> {
    while (this.deliveries.size) await Promise.all(this.deliveries);
  }

  /**
   * One evaluation: read the registry, move every instance along, hand the notices to the sinks (without waiting
   * for them: a slow webhook does not hold up the next tick) and write the transitions to the history.
   */
  async evaluate(now = this.clock()): Promise<void> {
    await this.store.scrape(this.registry, now);
    const events: { rule: AlertRule; event: AlertEvent }[] = [];
    for (const rule of this.rules) {
      const results = new Map(
        evaluateCondition(rule.condition, this.store, now).map((r) => [labelKey(r.labels), r]),
      );
      this.lastValues.set(
        rule.name,
        [...results.values()].map((r) => ({ labels: r.labels, value: r.value })),
      );
      const instances = this.instances.get(rule)!;
      for (const [key, r] of results) {
        if (!r.met) continue;
        let inst = instances.get(key);
        if (!inst) {
          inst = {
            labels: r.labels,
            state: 'pending',
            value: r.value,
            activeAt: now,
            firedAt: null,
            lastNotifiedAt: 0,
          };
          instances.set(key, inst);
        }
        inst.value = r.value;
        if (inst.state === 'pending' && now - inst.activeAt >= rule.forMs) {
          inst.state = 'firing';
          inst.firedAt = now;
          inst.lastNotifiedAt = now;
          events.push({ rule, event: this.event(rule, inst, 'firing', false, now) });
        } else if (
          inst.state === 'firing' &&
          this.repeatIntervalMs > 0 &&
          now - inst.lastNotifiedAt >= this.repeatIntervalMs
        ) {
          inst.lastNotifiedAt = now;
          events.push({ rule, event: this.event(rule, inst, 'firing', true, now) });
        }
      }
      for (const [key, inst] of instances) {
        const r = results.get(key);
        if (r?.met) continue;
        instances.delete(key);
        // The value it resolved at; null if it has none now (the series went away, or a ratio lost its traffic).
        inst.value = r?.value ?? null;
        if (inst.state === 'firing')
          events.push({ rule, event: this.event(rule, inst, 'resolved', false, now) });
      }
    }
    this.lastEvaluatedAt = now;
    // Notices first: when the database is what is failing, the alert about it must not wait on it.
    for (const { rule, event } of events) this.notify(rule, event);
    if (!this.pool) return;
    for (const { event } of events) {
      if (event.repeat) continue;
      await recordAlertEvent(this.pool, event).catch((err: unknown) =>
        this.logger.error({ err: toError(err), rule: event.rule }, 'alert history write failed'),
      );
    }
  }

  private event(
    rule: AlertRule,
    inst: Instance,
    state: 'firing' | 'resolved',
    repeat: boolean,
    now: number,
  ): AlertEvent {
    return {
      rule: rule.name,
      labels: inst.labels,
      severity: rule.severity,
      state,
      repeat,
      value: inst.value,
      summary: render(rule.summary, inst.labels, inst.value),
      activeAt: new Date(inst.activeAt),
      at: new Date(now),
    };
  }

  /** Each sink on its own: one failing (after its retries) is logged and does not hold up or stop the others. */
  private notify(rule: AlertRule, e: AlertEvent): void {
    for (const name of rule.sinks) {
      const sink = this.sinks.get(name)!;
      const delivery = sink
        .send(e)
        .catch((err: unknown) =>
          this.logger.error(
            { err: toError(err), sink: name, rule: e.rule, state: e.state },
            'alert notice failed',
          ),
        )
        .finally(() => this.deliveries.delete(delivery));
      this.deliveries.add(delivery);
    }
  }

  /** Pending and firing instances, most severe first. */
  currentAlerts(): ActiveAlert[] {
    const order: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
    return [...this.instances]
      .flatMap(([rule, instances]) => [...instances.values()].map((i) => ({ rule, i })))
      .map(({ rule, i }) => ({
        rule: rule.name,
        labels: i.labels,
        severity: rule.severity,
        state: i.state,
        value: i.value,
        summary: render(rule.summary, i.labels, i.value),
        activeAt: new Date(i.activeAt),
        firedAt: i.firedAt === null ? null : new Date(i.firedAt),
      }))
      .sort((a, b) => order[a.severity] - order[b.severity] || a.rule.localeCompare(b.rule));
  }

  ruleStatuses(): RuleStatus[] {
    return this.rules.map((r) => ({
      name: r.name,
      expr: r.expr,
      forMs: r.forMs,
      severity: r.severity,
      sinks: r.sinks,
      lastEvaluatedAt: this.lastEvaluatedAt === null ? null : new Date(this.lastEvaluatedAt),
      values: this.lastValues.get(r.name) ?? [],
    }));
  }
}

/** "Forward queue stuck for {{value}} s ({{stage}})" with the value (4 significant digits) and labels filled in. */
function render(template: string, labels: Labels, value: number | null): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => {
    if (name === 'value') return value === null ? 'no value' : String(Number(value.toPrecision(4)));
    return labels[name] ?? whole;
  });
}
