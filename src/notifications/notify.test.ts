import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, reviewableReport, type TestApp } from '../../test/helpers/app.js';
import { HttpSmsGateway } from '../integrations/sms/http-adapter.js';
import { type SmsGatewaySimulator, startSmsGatewaySimulator } from '../integrations/sms/http-simulator.js';
import { encrypt } from '../platform/security/keys.js';
import { findReport } from '../reports/reports.repository.js';
import { applyTransitions } from '../reports/transition.js';
import { notifySweep } from './notify.js';

let t: TestApp;
let gateway: SmsGatewaySimulator;
let sms: HttpSmsGateway;
beforeAll(async () => {
  t = await createTestApp({}, { workers: true });
  gateway = await startSmsGatewaySimulator({ apiKey: 'test-key' });
  sms = new HttpSmsGateway({ url: gateway.url, apiKey: 'test-key', timeoutMs: 2000 });
});
afterAll(async () => {
  await sms.close();
  await gateway.stop();
});

/** The notify sweep sending SMS through the real HTTP adapter to the gateway simulator. */
const sweep = () => notifySweep({ ...t.deps, sms });
const rowsOf = async (reportId: string) =>
  (
    await t.deps.pool.query(
      'select event, channel, status, attempts, last_error from notifications where report_id = $1 order by channel',
      [reportId],
    )
  ).rows;

describe('notifications', () => {
  it('queues one row per channel the citizen chose, and refuses e-mail without an address', async () => {
    const noAddress = await reviewableReport(t);
    const bad = await t.app.inject({
      method: 'PUT',
      url: '/v1/me/notification-settings',
      headers: bearer(noAddress.citizen.token),
      payload: { email: true },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'emailAddress' });
    expect((await rowsOf(noAddress.id)).map((r) => r.channel)).toEqual(['inapp', 'sms']);

    const quiet = await reviewableReport(t);
    await t.app.inject({
      method: 'PUT',
      url: '/v1/me/notification-settings',
      headers: bearer(quiet.citizen.token),
      payload: { sms: false },
    });
    // Settings apply to what happens next: a rejection now is told in-app only.
    await t.deps.pool.query(`update notifications set status = 'sent' where report_id = $1`, [quiet.id]);
    await t.deps.pool.query(
      `update reports set status = 'in_review', lease_owner = null, lease_expires_at = now() + interval '1 hour' where id = $1`,
      [quiet.id],
    );
    const report = (await findReport(t.deps.pool, quiet.id))!;
    await applyTransitions(t.deps.pool, [
      {
        report,
        t: {
          toStatus: 'rejected',
          eventType: 'reviewed',
          actor: 'test',
          patch: { reasonCode: 'PLATE_NOT_READABLE' },
        },
      },
    ]);
    const rejected = (await rowsOf(quiet.id)).filter((r) => r.event === 'rejected');
    expect(rejected.map((r) => r.channel)).toEqual(['inapp']);
  });

  it('retries a gateway outage with backoff and sends each message once, in the citizen language', async () => {
    const r = await reviewableReport(t);
    await t.app.inject({
      method: 'PUT',
      url: '/v1/me/notification-settings',
      headers: bearer(r.citizen.token),
      payload: { language: 'ru' },
    });
    gateway.control.errorRate = 1;
    await sweep();
    const failed = (await rowsOf(r.id)).find((n) => n.channel === 'sms')!;
    expect(failed).toMatchObject({ status: 'pending', attempts: 1 });
    expect(failed.last_error).toBeTruthy();
    const { rows } = await t.deps.pool.query(
      `select next_attempt_at > now() as later from notifications where report_id = $1 and channel = 'sms'`,
      [r.id],
    );
    expect(rows[0].later).toBe(true);

    gateway.control.errorRate = 0;
    await t.deps.pool.query(`update notifications set next_attempt_at = now() where report_id = $1`, [r.id]);
    await sweep();
    expect((await rowsOf(r.id)).find((n) => n.channel === 'sms')).toMatchObject({
      status: 'sent',
      attempts: 2,
    });
    const phone = r.citizen.phone;
    const mine = () => gateway.messages().filter((m) => m.to === phone);
    expect(mine()).toHaveLength(1);
    expect(mine()[0]!.text).toMatch(/[а-яё]/i);

    // Sent but not marked (a crash in between): the retry carries the same key and the gateway sends nothing new.
    await t.deps.pool.query(
      `update notifications set status = 'pending', next_attempt_at = now() where report_id = $1 and channel = 'sms'`,
      [r.id],
    );
    await sweep();
    expect(mine()).toHaveLength(1);
  });

  it('gives up on a number the gateway refuses, without retrying', async () => {
    const r = await reviewableReport(t);
    await t.deps.pool.query('update citizens set phone_enc = $2 where id = $1', [
      r.citizen.id,
      encrypt(t.deps.keys.phoneEnc, 'not-a-number'),
    ]);
    await sweep();
    expect((await rowsOf(r.id)).find((n) => n.channel === 'sms')).toMatchObject({
      status: 'failed',
      attempts: 1,
    });
  });
});
