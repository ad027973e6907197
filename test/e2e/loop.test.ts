import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  reportBody,
  settledReport,
  signInCitizen,
  staffMember,
  submitReport,
  type TestApp,
  until,
  uploadEvidence,
} from '../helpers/app.js';
import { makeScene } from '../helpers/media.js';

/**
 * The whole loop on real parts: a citizen files a report with a real photo; the pipeline checks it; an inspector
 * approves it; the forward stage opens a case at the registry simulator through the HTTP adapter; the simulator
 * issues the fine and records the payment by signed webhooks to the app's real socket; the reward accrues in the
 * ledger and is paid out; and the citizen hears of every step by SMS, e-mail and the live stream.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp(
    {},
    {
      workers: 'validate:1,dedupe:1,enrich:1,analyze:1,forward:1,notify:1,payout:1',
      gov: { fineAfterMs: 300, payAfterMs: 700 },
    },
  );
});

/** Reads a Server-Sent Events stream over a real socket until aborted. */
function listen(token: string, lastEventId?: string) {
  const events: { id: string; event: string; data: { reportId: string; event: string } }[] = [];
  const stop = new AbortController();
  const done = (async () => {
    const res = await fetch(`${t.url}/v1/me/events`, {
      headers: { ...bearer(token), ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: stop.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += new TextDecoder().decode(value);
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const field = (name: string) => block.match(new RegExp(`^${name}: ?(.*)$`, 'm'))?.[1];
          if (field('event') === 'report') {
            events.push({ id: field('id')!, event: 'report', data: JSON.parse(field('data')!) });
          }
          cut = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, stop: () => stop.abort(), done };
}

describe('citizen → pipeline → inspector → registry → fine → payment → reward', () => {
  it('runs the whole loop and tells the citizen each step on every chosen channel, exactly once', async () => {
    const citizen = await signInCitizen(t);
    const settings = await t.app.inject({
      method: 'PUT',
      url: '/v1/me/notification-settings',
      headers: bearer(citizen.token),
      payload: { email: true, emailAddress: 'citizen@example.uz', language: 'en' },
    });
    expect(settings.statusCode).toBe(200);
    expect(settings.json()).toEqual({
      sms: true,
      email: true,
      emailAddress: 'citizen@example.uz',
      language: 'en',
    });
    const live = listen(citizen.token);

    const evidenceId = (await uploadEvidence(t, citizen.token, await makeScene(1280, 720))).json().id;
    const filed = await submitReport(t, citizen.token, reportBody([evidenceId]));
    expect(filed.statusCode).toBe(202);
    const id = filed.json().id as string;
    expect((await settledReport(t, id, citizen.token)).status).toBe('awaiting_review');

    const inspector = await staffMember(t, 'inspector');
    const claimed = await t.app.inject({
      method: 'POST',
      url: '/v1/review/next',
      headers: bearer(inspector.token),
    });
    expect(claimed.json().report.id).toBe(id);
    const approved = await t.app.inject({
      method: 'POST',
      url: `/v1/review/${id}/decision`,
      headers: bearer(inspector.token),
      payload: { decision: 'approve' },
    });
    expect(approved.json().status).toBe('approved');

    const status = async () =>
      (await t.app.inject({ method: 'GET', url: `/v1/reports/${id}`, headers: bearer(citizen.token) })).json()
        .status as string;
    await until('the reward to be paid', async () => (await status()) === 'rewarded');

    // The timeline, hash-chained, every step once.
    const timeline = await t.app.inject({
      method: 'GET',
      url: `/v1/reports/${id}/events`,
      headers: bearer(citizen.token),
    });
    expect(timeline.json().chainValid).toBe(true);
    expect(timeline.json().events.map((e: { type: string }) => e.type)).toEqual([
      'submitted',
      'validated',
      'deduplicated',
      'enriched',
      'analyzed',
      'claimed',
      'reviewed',
      'forwarded',
      'fined',
      'paid',
      'rewarded',
    ]);
    const row = (await t.deps.pool.query('select * from reports where id = $1', [id])).rows[0];
    expect(row.case_number).toMatch(/^UZ-/);
    expect(row.fine_amount_sum).toBeGreaterThan(0);
    expect(t.gov!.control.stats().casesCreated).toBe(1);

    // Reward: 0.1 BHM by default, in the ledger, paid out, balanced.
    const bhm = t.deps.reference.bhmOn(new Date())!;
    const rewards = await t.app.inject({
      method: 'GET',
      url: '/v1/me/rewards',
      headers: bearer(citizen.token),
    });
    expect(rewards.json()).toMatchObject({
      totalSum: Math.round(bhm * 0.1),
      paidOutSum: Math.round(bhm * 0.1),
      pendingSum: 0,
    });
    expect(rewards.json().items[0]).toMatchObject({
      reportId: id,
      reference: expect.stringMatching(/^PAY-/),
    });
    const balance = await t.deps.pool.query<{ account: string; sum: number }>(
      `select account, sum(amount_sum)::bigint as sum from ledger_entries group by account`,
    );
    expect(balance.rows.reduce((s, r) => s + r.sum, 0)).toBe(0);
    expect(balance.rows.find((r) => r.account === `liability:citizen:${citizen.id}`)?.sum).toBe(0);
    expect(await t.deps.payoutSimulator!.payouts()).toHaveLength(1);

    // Notifications: six citizen-visible steps × three channels, each sent once.
    const told = ['accepted', 'approved', 'forwarded', 'fined', 'paid', 'rewarded'];
    const sent = await until('every notification to be sent', async () => {
      const { rows } = await t.deps.pool.query<{ event: string; channel: string; status: string }>(
        'select event, channel, status from notifications where report_id = $1 order by id',
        [id],
      );
      return rows.length === 18 && rows.every((r) => r.status === 'sent') ? rows : null;
    });
    for (const channel of ['sms', 'email', 'inapp'])
      expect(
        sent
          .filter((r) => r.channel === channel)
          .map((r) => r.event)
          .sort(),
      ).toEqual([...told].sort());
    const sms = t.deps.smsSimulator!.outbox(citizen.phone).filter((m) => !/code/i.test(m.text));
    expect(sms).toHaveLength(6);
    expect(sms.map((m) => m.text).join('\n')).toMatch(/fine/i);
    const mails = t.deps.emailOutbox!.outbox('citizen@example.uz');
    expect(mails).toHaveLength(6);
    expect(mails.some((m) => m.text.includes(row.case_number))).toBe(true);

    // The live stream saw each step as it committed.
    await until('the live stream', async () => live.events.length >= 6);
    live.stop();
    expect(live.events.map((e) => e.data.event)).toEqual(told);
    expect(live.events.every((e) => e.data.reportId === id)).toBe(true);

    // A reconnect with Last-Event-ID replays what came after it, and nothing before.
    const again = listen(citizen.token, live.events[2]!.id);
    await until('the replay', async () => again.events.length >= 3);
    again.stop();
    expect(again.events.map((e) => e.data.event)).toEqual(told.slice(3));

    // The admin's payout export has the payout; a citizen may not read it.
    const admin = await staffMember(t, 'admin');
    const csv = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/payouts.csv',
      headers: bearer(admin.token),
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body.split('\r\n')[0]).toBe(
      'paid_at,payout_id,report_id,case_number,citizen_id,phone,amount_sum,reference',
    );
    expect(csv.body).toContain(id);
    expect(csv.body).not.toContain(citizen.phone);
    const denied = await t.app.inject({
      method: 'GET',
      url: '/v1/admin/payouts.csv',
      headers: bearer(citizen.token),
    });
    expect(denied.statusCode).toBe(403);
  });
});
