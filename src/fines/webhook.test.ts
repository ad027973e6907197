import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  reviewableReport,
  staffMember,
  type TestApp,
  until,
} from '../../test/helpers/app.js';
import { signWebhook } from '../integrations/gov-registry/webhook-signature.js';

let t: TestApp;
let inspector: { token: string; id: string };
beforeAll(async () => {
  // The simulator opens cases but never fines by itself: the test plays the registry's callbacks.
  t = await createTestApp(
    {},
    {
      workers: 'validate:1,dedupe:1,enrich:1,analyze:1,forward:1',
      gov: { fineAfterMs: null, payAfterMs: null },
    },
  );
  inspector = await staffMember(t, 'inspector');
});

async function forwardedReport(): Promise<{ id: string; caseNumber: string; citizen: { token: string } }> {
  const r = await reviewableReport(t);
  await t.app.inject({ method: 'POST', url: '/v1/review/next', headers: bearer(inspector.token) });
  await t.app.inject({
    method: 'POST',
    url: `/v1/review/${r.id}/decision`,
    headers: bearer(inspector.token),
    payload: { decision: 'approve' },
  });
  return until(
    'the report to be forwarded',
    async () => {
      const { rows } = await t.deps.pool.query('select status, case_number from reports where id = $1', [
        r.id,
      ]);
      return (
        rows[0].status === 'forwarded' && { id: r.id, caseNumber: rows[0].case_number, citizen: r.citizen }
      );
    },
    10_000,
  );
}

function event(
  reportId: string,
  caseNumber: string,
  type: 'fine.issued' | 'fine.paid',
  amountSum = 1_236_000,
) {
  return { id: randomUUID(), type, reportId, caseNumber, amountSum, occurredAt: new Date().toISOString() };
}

function post(body: unknown, opts: { secret?: string; ts?: number; tamper?: (raw: string) => string } = {}) {
  const raw = JSON.stringify(body);
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  return t.app.inject({
    method: 'POST',
    url: '/v1/integrations/gov/events',
    headers: {
      'content-type': 'application/json',
      'x-jarima-timestamp': String(ts),
      'x-jarima-signature': signWebhook(opts.secret ?? t.deps.govWebhookSecrets[0]!, ts, raw),
    },
    payload: opts.tamper ? opts.tamper(raw) : raw,
  });
}

const statusOf = async (id: string) =>
  (await t.deps.pool.query('select status from reports where id = $1', [id])).rows[0].status;

describe('registry callbacks', () => {
  it('applies a signed fine, and a redelivery of the same event changes nothing', async () => {
    const r = await forwardedReport();
    const fined = event(r.id, r.caseNumber, 'fine.issued');
    const first = await post(fined);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ eventId: fined.id, outcome: 'applied' });
    expect(await statusOf(r.id)).toBe('fined');
    const again = await post(fined);
    expect(again.json().outcome).toBe('duplicate');
    const events = await t.deps.pool.query(
      `select count(*)::int as n from report_events where report_id = $1 and type = 'fined'`,
      [r.id],
    );
    expect(events.rows[0].n).toBe(1);
    const seen = await t.app.inject({
      method: 'GET',
      url: `/v1/reports/${r.id}`,
      headers: bearer(r.citizen.token),
    });
    expect(seen.json().status).toBe('fined');
  });

  it('refuses forged, tampered, unsigned and stale callbacks without touching the report', async () => {
    const r = await forwardedReport();
    const e = event(r.id, r.caseNumber, 'fine.issued');
    const forged = await post(e, { secret: 'not-our-secret-not-our-secret-not-our' });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().code).toBe('WEBHOOK_SIGNATURE_INVALID');
    const tampered = await post(e, { tamper: (raw) => raw.replace('1236000', '1') });
    expect(tampered.statusCode).toBe(401);
    const stale = await post(e, { ts: Math.floor(Date.now() / 1000) - 3600 });
    expect(stale.statusCode).toBe(401);
    expect(stale.json().details.reason).toBe('stale');
    const unsigned = await t.app.inject({
      method: 'POST',
      url: '/v1/integrations/gov/events',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(e),
    });
    expect(unsigned.statusCode).toBe(401);
    expect(await statusOf(r.id)).toBe('forwarded');
    const rows = await t.deps.pool.query('select count(*)::int as n from gov_events where report_id = $1', [
      r.id,
    ]);
    expect(rows.rows[0].n).toBe(0);
  });

  it('validates a signed body, and answers an unknown report with 404', async () => {
    const bad = await post({ id: randomUUID(), type: 'fine.refunded' });
    expect(bad.statusCode).toBe(400);
    const unknown = await post(event(randomUUID(), 'UZ-1', 'fine.issued'));
    expect(unknown.statusCode).toBe(404);
  });

  it('refuses a callback that outruns the forward, and applies its redelivery once forwarded', async () => {
    const r = await forwardedReport();
    // As between the registry's answer to the forward and the sweep's commit of it.
    await t.deps.pool.query("update reports set status = 'approved' where id = $1", [r.id]);
    const fined = event(r.id, r.caseNumber, 'fine.issued');
    const early = await post(fined);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ code: 'REPORT_NOT_FORWARDED_YET', field: 'reportId' });
    const rows = await t.deps.pool.query('select count(*)::int as n from gov_events where report_id = $1', [
      r.id,
    ]);
    expect(rows.rows[0].n).toBe(0);
    await t.deps.pool.query("update reports set status = 'forwarded' where id = $1", [r.id]);
    expect((await post(fined)).json()).toEqual({ eventId: fined.id, outcome: 'applied' });
    expect(await statusOf(r.id)).toBe('fined');
  });

  it('takes a payment that overtakes its fine, and never moves a report backwards', async () => {
    const r = await forwardedReport();
    const paid = await post(event(r.id, r.caseNumber, 'fine.paid'));
    expect(paid.json().outcome).toBe('applied');
    expect(await statusOf(r.id)).toBe('paid');
    const late = await post(event(r.id, r.caseNumber, 'fine.issued'));
    expect(late.json().outcome).toBe('recorded');
    expect(await statusOf(r.id)).toBe('paid');
    const ledger = await t.deps.pool.query(
      `select kind, amount_sum from ledger_transactions where report_id = $1`,
      [r.id],
    );
    expect(ledger.rows).toEqual([
      { kind: 'reward_accrual', amount_sum: Math.round(t.deps.reference.bhmOn(new Date())! * 0.1) },
    ]);
  });
});
