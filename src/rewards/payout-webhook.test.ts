import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, until } from '../../test/helpers/app.js';
import { createTestDatabase } from '../../test/helpers/db.js';
import { HttpPayoutGateway } from '../integrations/payments/http-adapter.js';
import {
  type PayoutProviderSimulator,
  startPayoutProviderSimulator,
} from '../integrations/payments/http-simulator.js';
import { PayoutSimulator } from '../integrations/payments/simulator.js';
import { signPayoutWebhook } from '../integrations/payments/webhook-signature.js';
import { payoutSweep } from './payout-sweep.js';

/**
 * The whole app configured with a payment provider (the HTTP simulator on a database of its own): rewards are paid
 * through `HttpPayoutGateway`, and the provider's signed callbacks reach the app's real socket.
 */
const API_KEY = 'webhook-test-key';
const SECRET = `whsec_${Buffer.from('a-secret-of-thirty-two-bytes-ok!').toString('base64')}`;
let t: TestApp;
let server: PayoutProviderSimulator;
let url = '';

beforeAll(async () => {
  const providerDb = await createTestDatabase();
  server = await startPayoutProviderSimulator({
    apiKey: API_KEY,
    store: new PayoutSimulator(providerDb.pool),
    webhookUrl: () => `${url}/v1/integrations/payments/events`,
    webhookSecret: SECRET,
    settleAfterMs: 50,
  });
  t = await createTestApp({
    PAYOUT_PROVIDER_URL: server.url,
    PAYOUT_PROVIDER_API_KEY: API_KEY,
    PAYOUT_WEBHOOK_SECRET: SECRET,
  });
  url = await t.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => server?.stop());

async function paidReport(): Promise<string> {
  const { rows } = await t.deps.pool.query<{ id: string }>(
    `with c as (insert into citizens (id, phone_hash, phone_enc)
                values (gen_random_uuid(), sha256(gen_random_uuid()::text::bytea), '\\x00') returning id)
     insert into reports (id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, status,
                          last_event_hash, paid_at, reward_sum)
     select gen_random_uuid(), c.id, '128-6.1', '01A123BC', 'x', 41.3, 69.2, now() - interval '1 day', 'paid',
            '\\x00', now(), 41_200 from c returning id`,
  );
  return rows[0]!.id;
}

const payoutOf = async (id: string) =>
  (await t.deps.pool.query('select * from payouts where report_id = $1', [id])).rows[0];

function signed(body: object, secret = SECRET, timestamp = Math.floor(Date.now() / 1000)) {
  const raw = JSON.stringify(body);
  const id = `evt_${randomUUID()}`;
  return {
    method: 'POST' as const,
    url: '/v1/integrations/payments/events',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signPayoutWebhook(secret, id, timestamp, raw),
    },
    payload: raw,
  };
}

describe('payment provider callbacks', () => {
  it('pays through the provider and records its settled callback', async () => {
    expect(t.deps.payouts).toBeInstanceOf(HttpPayoutGateway);
    expect(t.deps.payoutSimulator).toBeNull();
    const id = await paidReport();
    expect(await payoutSweep(t.deps)).toBe(1);
    const settled = await until('the settled callback', async () => {
      const p = await payoutOf(id);
      return p.status === 'settled' ? p : null;
    });
    expect(settled.reference).toMatch(/^PAY-/);
    // The provider counts its callback once our answer is back, which can be after the row says settled.
    await until('the provider to count its callback', async () => server.stats().callbacks === 1);
    expect(server.stats()).toMatchObject({ paid: 1, callbacks: 1 });
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/jarima_circuit_breaker_open\{system="payments"\} 0/);
  });

  it('changes nothing on a repeated callback, and records a failed payment', async () => {
    const id = await paidReport();
    server.control.outcome = 'failed';
    try {
      await payoutSweep(t.deps);
      await until('the failed callback', async () => (await payoutOf(id)).status === 'failed');
    } finally {
      server.control.outcome = 'settled';
    }
    const p = await payoutOf(id);
    expect(p.last_error).toMatch(/closed/);
    const event = {
      id: 'evt_again',
      type: 'payout.settled',
      reference: p.reference,
      idempotencyKey: p.idempotency_key,
      amountSum: 41_200,
      occurredAt: new Date().toISOString(),
    };
    const again = await t.app.inject(signed(event));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ eventId: 'evt_again', outcome: 'duplicate' });
    expect((await payoutOf(id)).status).toBe('failed');
    const unknown = await t.app.inject(signed({ ...event, idempotencyKey: `reward:${randomUUID()}` }));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('PAYOUT_NOT_FOUND');
  });

  it('refuses an unsigned, wrongly signed or stale callback', async () => {
    const event = {
      id: 'evt_x',
      type: 'payout.settled',
      reference: 'PAY-x',
      idempotencyKey: 'reward:x',
      amountSum: 1,
      occurredAt: new Date().toISOString(),
    };
    const unsigned = await t.app.inject({
      method: 'POST',
      url: '/v1/integrations/payments/events',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(event),
    });
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json().code).toBe('WEBHOOK_SIGNATURE_INVALID');
    expect((await t.app.inject(signed(event, 'w'.repeat(32)))).statusCode).toBe(401);
    expect((await t.app.inject(signed(event, SECRET, Math.floor(Date.now() / 1000) - 3600))).statusCode).toBe(
      401,
    );
  });
});
