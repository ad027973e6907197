import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, until } from '../../test/helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.js';
import { HttpPayoutGateway } from '../integrations/payments/http-adapter.js';
import {
  type PayoutProviderSimulator,
  startPayoutProviderSimulator,
} from '../integrations/payments/http-simulator.js';
import { PayoutSimulator } from '../integrations/payments/simulator.js';
import { withTransaction } from '../platform/db/pool.js';
import { createLogger } from '../platform/logger.js';
import { payoutSweep } from './payout-sweep.js';
import { claimPayouts, openPayouts, payoutKey, recordAccepted } from './payouts.repository.js';

/**
 * The payout sweep against a payment provider over real HTTP, whose books (the simulator's table) live in a database
 * of its own: what the provider paid is counted on its side, not ours.
 */
let t: TestApp;
let providerDb: TestDatabase;
let provider: PayoutSimulator;
let server: PayoutProviderSimulator;
let gateway: HttpPayoutGateway;
const API_KEY = 'sweep-test-key';

beforeAll(async () => {
  t = await createTestApp();
  providerDb = await createTestDatabase();
  provider = new PayoutSimulator(providerDb.pool);
  server = await startPayoutProviderSimulator({ apiKey: API_KEY, store: provider });
  gateway = new HttpPayoutGateway({
    url: server.url,
    apiKey: API_KEY,
    timeoutMs: 1000,
    retries: 2,
    backoff: { initialDelayMs: 5, maxDelayMs: 20 },
    breaker: { consecutiveFailures: 5, halfOpenAfterMs: 100 },
  });
  server.control.retryAfterSeconds = 0;
});
afterAll(async () => {
  await gateway?.close();
  await server?.stop();
});

const sweepDeps = () => ({
  pool: t.deps.pool,
  payouts: gateway,
  logger: createLogger('silent', false),
  config: { PAYOUT_LEASE_SECONDS: 30 },
  retry: { initialDelayMs: 500, maxDelayMs: 1000 },
});

/** `n` reports paid by their violators, each with its reward still to pay out. */
async function paidReports(n: number): Promise<{ id: string; citizen_id: string; reward_sum: number }[]> {
  const { rows } = await t.deps.pool.query<{ id: string; citizen_id: string; reward_sum: number }>(
    `with c as (
       insert into citizens (id, phone_hash, phone_enc)
       select gen_random_uuid(), sha256(gen_random_uuid()::text::bytea), '\\x00' from generate_series(1, $1) returning id)
     insert into reports (id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, status,
                          last_event_hash, paid_at, reward_sum)
     select gen_random_uuid(), c.id, '128-6.1', '01A123BC', 'x', 41.3, 69.2, now() - interval '1 day', 'paid',
            '\\x00', now(), 10_000 + (row_number() over ())::int
       from c
     returning id, citizen_id, reward_sum`,
    [n],
  );
  return rows;
}

async function statuses(ids: string[]): Promise<Record<string, number>> {
  const { rows } = await t.deps.pool.query<{ status: string; n: number }>(
    'select status, count(*)::int as n from reports where id = any($1) group by status',
    [ids],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function paidOnProviderSide(ids: string[]): Promise<number> {
  const keys = new Set(ids.map(payoutKey));
  return (await provider.payouts()).filter((p) => keys.has(p.idempotencyKey)).length;
}

describe('payout sweep', () => {
  it('pays every reward exactly once through a provider outage the length of 50 payouts', async () => {
    const reports = await paidReports(50);
    const ids = reports.map((r) => r.id);
    server.control.down = true;
    const before = server.stats().requests;
    expect(await payoutSweep(sweepDeps())).toBe(0);
    // Behind the breaker: after a few calls (each with its in-place retries) the rest fail fast.
    expect(gateway.breakerState()).toBe('open');
    expect(server.stats().requests - before).toBeLessThan(50);
    expect(await statuses(ids)).toEqual({ paid: 50 });
    const { rows: waiting } = await t.deps.pool.query(
      `select status, attempts, lease_token, next_attempt_at > now() as later, last_error from payouts
        where report_id = any($1)`,
      [ids],
    );
    expect(waiting).toHaveLength(50);
    expect(waiting.every((p) => p.status === 'pending' && p.attempts >= 1 && p.lease_token === null)).toBe(
      true,
    );
    expect(waiting.every((p) => p.later && /503|circuit/.test(p.last_error))).toBe(true);

    // Still down through further sweeps: each payout waits longer (backoff) and none is lost.
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 1100));
      await payoutSweep(sweepDeps());
    }
    const { rows: backedOff } = await t.deps.pool.query<{ attempts: number }>(
      'select attempts from payouts where report_id = any($1)',
      [ids],
    );
    expect(backedOff.every((p) => p.attempts >= 2)).toBe(true);
    expect(await paidOnProviderSide(ids)).toBe(0);

    server.control.down = false;
    await until(
      'every reward paid out',
      async () => {
        await payoutSweep(sweepDeps());
        return (await statuses(ids)).rewarded === 50;
      },
      30_000,
    );
    expect(await paidOnProviderSide(ids)).toBe(50);
    const { rows: ledger } = await t.deps.pool.query<{ n: number; refs: number }>(
      `select count(*)::int as n, count(distinct reference)::int as refs from ledger_transactions
        where kind = 'payout' and report_id = any($1)`,
      [ids],
    );
    expect(ledger[0]).toEqual({ n: 50, refs: 50 });
    // Another sweep finds nothing to pay.
    const requests = server.stats().requests;
    expect(await payoutSweep(sweepDeps())).toBe(0);
    expect(server.stats().requests).toBe(requests);
  }, 60_000);

  it('shares the work between two sweepers without asking the provider twice', async () => {
    const ids = (await paidReports(30)).map((r) => r.id);
    const requests = server.stats().requests;
    const [a, b] = await Promise.all([payoutSweep(sweepDeps()), payoutSweep(sweepDeps())]);
    expect(a + b).toBe(30);
    expect(server.stats().requests - requests).toBe(30);
    expect(await paidOnProviderSide(ids)).toBe(30);
    expect(await statuses(ids)).toEqual({ rewarded: 30 });
  });

  it('picks a lapsed lease up again and pays nothing twice', async () => {
    const [report] = await paidReports(1);
    await withTransaction(t.deps.pool, (trx) => openPayouts(trx, [report!]));
    // A sweeper claims the payout, the provider pays, and the sweeper dies before recording it.
    const [claimed] = await claimPayouts(t.deps.pool, {
      leaseToken: crypto.randomUUID(),
      leaseSeconds: 60,
      limit: 10,
    });
    expect(claimed?.report_id).toBe(report!.id);
    const first = await gateway.pay({
      idempotencyKey: claimed!.idempotency_key,
      citizenId: claimed!.citizen_id,
      amountSum: claimed!.amount_sum,
    });
    // While the lease holds, another sweeper leaves the payout alone.
    const requests = server.stats().requests;
    expect(await payoutSweep(sweepDeps())).toBe(0);
    expect(server.stats().requests).toBe(requests);

    await t.deps.pool.query(
      `update payouts set lease_expires_at = now() - interval '1 second' where report_id = $1`,
      [report!.id],
    );
    expect(await payoutSweep(sweepDeps())).toBe(1);
    expect(await paidOnProviderSide([report!.id])).toBe(1);
    const { rows } = await t.deps.pool.query(
      `select p.status, p.reference, l.reference as ledger_reference, r.status as report_status
         from payouts p join reports r on r.id = p.report_id
         join ledger_transactions l on l.report_id = p.report_id and l.kind = 'payout' where p.report_id = $1`,
      [report!.id],
    );
    expect(rows).toEqual([
      {
        status: 'accepted',
        reference: first.reference,
        ledger_reference: first.reference,
        report_status: 'rewarded',
      },
    ]);
    // The dead sweeper's late record finds its lease gone and changes nothing.
    expect(
      await recordAccepted(t.deps.pool, {
        reportId: report!.id,
        leaseToken: claimed!.lease_token,
        reference: 'late',
      }),
    ).toBe(false);
  });

  it('stops a payout the provider refuses, with its reason, and does not retry it', async () => {
    const [report] = await paidReports(1);
    server.control.failNext = 1;
    server.control.errorStatus = 400;
    try {
      expect(await payoutSweep(sweepDeps())).toBe(0);
    } finally {
      server.control.errorStatus = 503;
    }
    const { rows } = await t.deps.pool.query('select status, last_error from payouts where report_id = $1', [
      report!.id,
    ]);
    expect(rows[0]).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/400/) });
    expect(await payoutSweep(sweepDeps())).toBe(0);
    expect(await statuses([report!.id])).toEqual({ paid: 1 });
    expect(await paidOnProviderSide([report!.id])).toBe(0);
  });
});
