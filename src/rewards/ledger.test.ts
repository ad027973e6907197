import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, reviewableReport, type TestApp } from '../../test/helpers/app.js';
import { PayoutSimulator } from '../integrations/payments/simulator.js';
import { withTransaction } from '../platform/db/pool.js';
import { newId } from '../platform/ids.js';
import { citizenAccount, PAYOUTS, postLedger, REWARDS_EXPENSE, rewardFor } from './ledger.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({}, { workers: true });
});

describe('reward policy', () => {
  it('pays a share of the BHM, or a percentage of the fine', () => {
    const bhm = { REWARD_POLICY: 'bhm_share' as const, REWARD_BHM_SHARE: 0.1, REWARD_FINE_PERCENT: 10 };
    expect(rewardFor(bhm, 1_236_000, 375_000)).toBe(37_500);
    expect(rewardFor({ ...bhm, REWARD_POLICY: 'fine_percent' }, 1_236_000, 375_000)).toBe(123_600);
    expect(rewardFor(bhm, 1_236_000, null)).toBe(0);
  });
});

describe('ledger', () => {
  it('accrues and pays out once per report, by construction, and always balances', async () => {
    const r = await reviewableReport(t);
    const accrue = () =>
      postLedger(t.deps.pool, {
        kind: 'reward_accrual',
        reportId: r.id,
        citizenId: r.citizen.id,
        amountSum: 37_500,
        debit: REWARDS_EXPENSE,
        credit: citizenAccount(r.citizen.id),
      });
    expect(await accrue()).toBe(true);
    expect(await accrue()).toBe(false);
    // Two at once: the unique key lets exactly one through.
    const payout = () =>
      postLedger(t.deps.pool, {
        kind: 'payout',
        reportId: r.id,
        citizenId: r.citizen.id,
        amountSum: 37_500,
        debit: citizenAccount(r.citizen.id),
        credit: PAYOUTS,
      });
    const both = await Promise.all([payout(), payout()]);
    expect(both.filter(Boolean)).toHaveLength(1);
    const { rows } = await t.deps.pool.query(
      `select e.account, sum(e.amount_sum)::bigint as sum from ledger_entries e
         join ledger_transactions x on x.id = e.transaction_id where x.report_id = $1 group by e.account order by 1`,
      [r.id],
    );
    expect(rows).toEqual([
      { account: PAYOUTS, sum: -37_500 },
      { account: REWARDS_EXPENSE, sum: 37_500 },
      { account: citizenAccount(r.citizen.id), sum: 0 },
    ]);
  });

  it('refuses an unbalanced transaction, and any edit of a posted one', async () => {
    const r = await reviewableReport(t);
    const unbalanced = withTransaction(t.deps.pool, async (trx) => {
      const id = newId();
      await trx.query(
        `insert into ledger_transactions (id, kind, report_id, citizen_id, amount_sum) values ($1, 'payout', $2, $3, 10)`,
        [id, r.id, r.citizen.id],
      );
      await trx.query(
        `insert into ledger_entries (transaction_id, account, amount_sum) values ($1, $2, 10)`,
        [id, PAYOUTS],
      );
    });
    await expect(unbalanced).rejects.toThrow(/does not balance/);
    await expect(t.deps.pool.query('update ledger_entries set amount_sum = 1')).rejects.toThrow(
      /append-only/,
    );
    await expect(t.deps.pool.query('delete from ledger_transactions')).rejects.toThrow(/append-only/);
  });

  it('the payout simulator pays a key once', async () => {
    const p = new PayoutSimulator(t.deps.pool);
    const a = await p.pay({ idempotencyKey: 'reward:x', citizenId: 'c', amountSum: 5 });
    const b = await p.pay({ idempotencyKey: 'reward:x', citizenId: 'c', amountSum: 5 });
    expect(a.reference).toBe(b.reference);
    expect(await p.payouts()).toHaveLength(1);
  });
});
