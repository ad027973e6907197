import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/integrations/gov-registry/testing.js';
import { bearer, createTestApp, reviewableReport, staffMember, type TestApp } from '../helpers/app.js';

/**
 * The registry goes away while approved reports wait to be forwarded: first down, then answering slower than our
 * timeout, then losing some answers after storing the case. The breaker opens, the forward sweep reschedules itself
 * instead of dropping anything, and once the registry is healthy every report is forwarded — one case each, one
 * `forwarded` event each.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp(
    {
      GOV_REGISTRY_TIMEOUT_MS: '300',
      GOV_REGISTRY_RETRIES: '1',
      GOV_REGISTRY_BREAKER_FAILURES: '2',
      GOV_REGISTRY_BREAKER_HALF_OPEN_MS: '500',
    },
    {
      workers: 'validate:1,dedupe:1,enrich:1,analyze:1,forward:1',
      // Seeded, so the lost answers below happen on every run.
      gov: { fineAfterMs: null, payAfterMs: null, random: seededRandom(7) },
    },
  );
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('forwarding through a registry outage', () => {
  it('opens the breaker, loses nothing, sends nothing twice, and forwards everything after recovery', async () => {
    const N = 6;
    const reports: Awaited<ReturnType<typeof reviewableReport>>[] = [];
    for (let i = 0; i < N; i++) reports.push(await reviewableReport(t));
    const inspector = await staffMember(t, 'inspector');
    const breakerStates = new Set<string>();
    const watch = setInterval(() => breakerStates.add(t.deps.govRegistry.breakerState()), 20);

    t.gov!.control.down();
    for (const _ of reports) {
      const claimed = await t.app.inject({
        method: 'POST',
        url: '/v1/review/next',
        headers: bearer(inspector.token),
      });
      const id = claimed.json().report.id;
      const res = await t.app.inject({
        method: 'POST',
        url: `/v1/review/${id}/decision`,
        headers: bearer(inspector.token),
        payload: { decision: 'approve' },
      });
      expect(res.json().status).toBe('approved');
    }
    const approved = async () =>
      Number(
        (
          await t.deps.pool.query(
            `select count(*) from reports where status = 'approved' and id = any($1::uuid[])`,
            [reports.map((r) => r.id)],
          )
        ).rows[0].count,
      );

    // Down: nothing reaches the registry, nothing is dropped.
    await sleep(1500);
    expect(await approved()).toBe(N);
    expect(breakerStates.has('open')).toBe(true);
    expect(t.gov!.control.stats().casesCreated).toBe(0);

    // Up, but slower than our timeout: still nothing forwarded, still nothing lost.
    t.gov!.control.up();
    t.gov!.control.set({ latencyMs: 600 });
    await sleep(1500);
    expect(await approved()).toBe(N);

    // Healthy again, except that half the answers are lost after the case is stored.
    t.gov!.control.set({ latencyMs: 0, lostResponseRate: 0.5 });
    const end = Date.now() + 25_000;
    while ((await approved()) > 0 && Date.now() < end) await sleep(100);
    clearInterval(watch);
    expect(await approved()).toBe(0);

    const stats = t.gov!.control.stats();
    expect(stats.casesCreated).toBe(N);
    // Some answers were lost after the case was stored: the retries found the same cases.
    expect(stats.duplicatesAnswered).toBeGreaterThan(0);
    const { rows } = await t.deps.pool.query<{ report_id: string; n: number; status: string }>(
      `select e.report_id, count(*)::int as n, max(r.status) as status
         from report_events e join reports r on r.id = e.report_id
        where e.type = 'forwarded' and e.report_id = any($1::uuid[]) group by e.report_id`,
      [reports.map((r) => r.id)],
    );
    expect(rows).toHaveLength(N);
    expect(rows.every((r) => r.n === 1 && r.status === 'forwarded')).toBe(true);
    const cases = await t.deps.pool.query(
      'select count(distinct case_number)::int as n from reports where id = any($1::uuid[])',
      [reports.map((r) => r.id)],
    );
    expect(cases.rows[0].n).toBe(N);
  });
});
