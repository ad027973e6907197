import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  reviewableReport,
  staffMember,
  type TestApp,
} from '../../test/helpers/app.js';
import { EmailOutbox } from '../integrations/email/outbox.js';
import { AlertManager } from '../ops/alerts/manager.js';
import { loadAlertRules } from '../ops/alerts/rules.js';
import { createAlertSinks } from '../ops/alerts/sinks.js';
import { OpsSampler } from '../ops/sampler.js';
import { SamplerHealth } from '../ops/sampler-health.js';
import { StageArrivals } from '../pipeline/queues.js';
import { Metrics } from '../platform/metrics/metrics.js';
import { escalateDeadlines } from './deadlines.repository.js';

let t: TestApp;
let inspector: { token: string; id: string };
let supervisor: { token: string; id: string };
beforeAll(async () => {
  t = await createTestApp({ REVIEW_SLA_HOURS: '5' }, { workers: true });
  [inspector, supervisor] = await Promise.all([staffMember(t, 'inspector'), staffMember(t, 'supervisor')]);
});

const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });
const post = (url: string, token: string, payload?: object) =>
  t.app.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });

async function row(id: string) {
  const { rows } = await t.deps.pool.query<{
    reviewable_at: Date | null;
    review_due_at: Date | null;
    priority: number | null;
  }>('select reviewable_at, review_due_at, priority from reports where id = $1', [id]);
  return rows[0]!;
}

async function emptyQueue() {
  await t.deps.pool.query(
    `update reports set status = 'rejected', lease_owner = null, lease_expires_at = null
      where status in ('awaiting_review', 'in_review', 'failed')`,
  );
}

describe('review deadlines', () => {
  it('raises a report near its deadline above a higher-priority one, and an overdue one to the top', async () => {
    await emptyQueue();
    const near = await reviewableReport(t);
    const high = await reviewableReport(t);
    const late = await reviewableReport(t);
    await t.deps.pool.query(
      `update reports set priority = case id when $1 then 30 when $2 then 80 else 20 end,
              sla_due_at = case id when $1 then now() + interval '2 hours' else now() + interval '40 hours' end,
              review_due_at = case id when $3 then now() - interval '1 minute' else now() + interval '20 hours' end
        where id in ($1, $2, $3)`,
      [near.id, high.id, late.id],
    );
    // The first queue read of this process runs the escalation (then at most every 30 s): this test comes first.
    const queue = await get('/v1/review/queue', inspector.token);
    const items = queue.json().items as { id: string; priority: number; overdue: boolean }[];
    expect(items.map((i) => i.id)).toEqual([late.id, near.id, high.id]);
    expect(items[0]).toMatchObject({ priority: 100, overdue: true });
    // Two hours of a six-hour window left: two thirds of the way from 90 to 99.
    expect(items[1]!.priority).toBeGreaterThanOrEqual(90);
    expect(items[1]!.priority).toBeLessThan(100);
    expect(items[2]).toMatchObject({ priority: 80, overdue: false });
    // Only ever raises: a second run changes nothing.
    expect(await escalateDeadlines(t.deps.pool, 6)).toBe(0);
    expect(await escalateDeadlines(t.deps.pool, 0)).toBe(0);
  });

  it('starts the review deadline when a report first becomes reviewable; a re-queue keeps it; actions are audited', async () => {
    await emptyQueue();
    const before = Date.now();
    const r = await reviewableReport(t);
    const first = await row(r.id);
    expect(first.reviewable_at!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(first.review_due_at!.getTime() - first.reviewable_at!.getTime()).toBe(5 * 3600_000);

    const claimed = await post('/v1/review/next', inspector.token);
    expect(claimed.json().report.id).toBe(r.id);
    expect((await post(`/v1/review/${r.id}/release`, inspector.token)).statusCode).toBe(204);
    const again = await row(r.id);
    expect(again.reviewable_at).toEqual(first.reviewable_at);
    expect(again.review_due_at).toEqual(first.review_due_at);

    const queue = await get('/v1/review/queue', inspector.token);
    expect(queue.json().items[0]).toMatchObject({
      id: r.id,
      reviewDueAt: first.review_due_at!.toISOString(),
      overdue: false,
    });

    await post('/v1/review/next', inspector.token);
    const file = await get(`/v1/review/${r.id}/evidence/${r.evidenceId}?variant=thumbnail`, inspector.token);
    expect(file.statusCode).toBe(200);
    expect(
      (
        await post(`/v1/review/${r.id}/decision`, inspector.token, {
          decision: 'reject',
          reasonCode: 'NO_VIOLATION_VISIBLE',
        })
      ).statusCode,
    ).toBe(200);
    const audit = await get(`/v1/review/${r.id}/audit`, supervisor.token);
    expect(audit.statusCode).toBe(200);
    expect(audit.json().views).toHaveLength(1);
    const entries = audit.json().entries;
    expect(entries.map((e: { action: string }) => e.action)).toEqual([
      'review_decision',
      'evidence_viewed',
      'review_claimed',
      'review_released',
      'review_claimed',
    ]);
    expect(entries[0]).toMatchObject({
      actorId: inspector.id,
      targetKind: 'report',
      targetId: r.id,
      detail: { decision: 'reject', reasonCode: 'NO_VIOLATION_VISIBLE' },
    });
    expect(entries[0].ip).toBeTruthy();
    // Nothing about the reporter.
    expect(JSON.stringify(entries)).not.toContain(r.citizen.id);
    expect(JSON.stringify(entries)).not.toContain(r.citizen.phone);
  });

  it('lists breaches of both deadlines on the workload, samples them into gauges, and the alerts fire', async () => {
    await emptyQueue();
    const review = await reviewableReport(t);
    const legal = await reviewableReport(t);
    const dead = await reviewableReport(t);
    await t.deps.pool.query(
      `update reports set review_due_at = now() - interval '10 minutes' where id = $1`,
      [review.id],
    );
    await t.deps.pool.query(`update reports set sla_due_at = now() - interval '5 minutes' where id = $1`, [
      legal.id,
    ]);
    await t.deps.pool.query(`update reports set status = 'failed' where id = $1`, [dead.id]);

    const load = await get('/v1/review/workload', supervisor.token);
    expect(load.statusCode).toBe(200);
    const breaches = load.json().slaBreaches as { reportId: string; kind: string }[];
    expect(breaches).toContainEqual(
      expect.objectContaining({ reportId: review.id, kind: 'review_overdue', status: 'awaiting_review' }),
    );
    expect(breaches).toContainEqual(
      expect.objectContaining({ reportId: legal.id, kind: 'legal_overdue', status: 'awaiting_review' }),
    );
    expect(breaches.filter((b) => b.reportId === review.id).map((b) => b.kind)).toEqual(['review_overdue']);
    expect(load.json().queue.overdue).toBe(2);

    const metrics = new Metrics({ defaultMetrics: false });
    const silent = { info: () => {}, warn: () => {}, error: () => {} };
    const ops = new OpsSampler({
      pool: t.deps.pool,
      metrics,
      cache: { stats: () => ({}) },
      arrivals: new StageArrivals(),
      breakers: () => ({}),
      health: new SamplerHealth({ metrics, logger: silent }),
    });
    await ops.sampleQueues();
    const breachGauge = (await metrics.reviewDeadlineBreaches.get()).values;
    expect(Object.fromEntries(breachGauge.map((v) => [v.labels.kind, v.value]))).toEqual({
      review: 1,
      legal: 1,
    });
    expect((await metrics.deadLetterReports.get()).values[0]!.value).toBe(1);

    const config = await loadAlertRules('config/alerts.json');
    const email = new EmailOutbox();
    const manager = new AlertManager({
      registry: metrics.registry,
      rules: config.rules,
      sinks: createAlertSinks(config.sinks, { logger: silent, email }),
      logger: silent,
      pool: null,
    });
    await manager.evaluate();
    await manager.flush();
    const firing = manager
      .currentAlerts()
      .filter((a) => a.state === 'firing')
      .map((a) => ({ rule: a.rule, labels: a.labels, value: a.value, severity: a.severity }));
    expect(firing).toEqual(
      expect.arrayContaining([
        { rule: 'ReviewDeadlineBreached', labels: { kind: 'review' }, value: 1, severity: 'warning' },
        { rule: 'ReviewDeadlineBreached', labels: { kind: 'legal' }, value: 1, severity: 'warning' },
        { rule: 'DeadLetterReports', labels: {}, value: 1, severity: 'warning' },
      ]),
    );
    expect(firing).toHaveLength(3);
    expect(email.outbox().map((m) => m.subject)).toEqual(
      expect.arrayContaining([expect.stringContaining('ReviewDeadlineBreached')]),
    );

    // Supervisors see the alerts too.
    expect((await get('/v1/ops/alerts/history', supervisor.token)).statusCode).not.toBe(403);
    expect((await get('/v1/ops/alerts/history', inspector.token)).statusCode).toBe(403);
  });
});
