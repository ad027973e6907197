import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, staffMember, type TestApp, until } from '../../test/helpers/app.js';
import { createSimulatorStore } from '../integrations/gov-registry/simulator.js';
import { withTransaction } from '../platform/db/pool.js';
import { citizenAccount, PAYOUTS, postLedger, REWARDS_EXPENSE } from '../rewards/ledger.js';
import { applyDecisionEffects } from './appeal-effects.js';
import { fileAppealOf, finedCase } from './testing.js';

/** What a supervisor's decision does once the registry has it, and who may take an appeal. */
let t: TestApp;
type Member = { token: string; id: string };
let inspector: Member;
let supervisor: Member;
const registry = createSimulatorStore();
beforeAll(async () => {
  t = await createTestApp(
    {},
    {
      workers: 'validate:1,dedupe:1,enrich:1,analyze:1,forward:1',
      gov: { fineAfterMs: 0, payAfterMs: null, store: registry },
    },
  );
  inspector = await staffMember(t, 'inspector');
  supervisor = await staffMember(t, 'supervisor');
});

let phones = 0;
const nextPhone = () => `+99890222${String(phones++).padStart(4, '0')}`;
const call = (method: 'GET' | 'POST', url: string, who: Member, payload?: object) =>
  t.app.inject({ method, url, headers: bearer(who.token), ...(payload ? { payload } : {}) });

/** A fined case with a filed appeal. */
async function appealedCase(lang: 'uz' | 'ru' | 'en' = 'en') {
  const c = await finedCase(t, inspector.token);
  const phone = nextPhone();
  const appealId = await fileAppealOf(t, c, phone, lang);
  return { ...c, phone, appealId };
}

/** The supervisor takes the appeal, decides it, and the forward sweep delivers it to the registry. */
async function decideAndDeliver(appealId: string, payload: object) {
  const next = await call('POST', '/v1/appeals/next', supervisor);
  expect(next.json().id).toBe(appealId);
  const decided = await call('POST', `/v1/appeals/${appealId}/decision`, supervisor, payload);
  expect(decided.statusCode, decided.body).toBe(200);
  await until('the decision delivered', async () => {
    const { rows } = await t.deps.pool.query('select registry_sent_at from appeals where id = $1', [
      appealId,
    ]);
    return rows[0].registry_sent_at;
  });
}

const ledgerOf = async (reportId: string) =>
  (
    await t.deps.pool.query<{ kind: string; amount_sum: string; reference: string | null; legs: unknown }>(
      `select x.kind, x.amount_sum, x.reference,
              (select json_agg(json_build_object('account', e.account, 'amount', e.amount_sum::int)
                                order by e.amount_sum) from ledger_entries e where e.transaction_id = x.id) as legs
         from ledger_transactions x where x.report_id = $1 order by x.created_at, x.kind`,
      [reportId],
    )
  ).rows;
const eventsOf = async (reportId: string, type: string) =>
  (
    await t.deps.pool.query<{ to_status: string; data: Record<string, unknown> }>(
      'select to_status, data from report_events where report_id = $1 and type = $2 order by seq',
      [reportId, type],
    )
  ).rows;
const statusOf = async (reportId: string) =>
  (await t.deps.pool.query('select status from reports where id = $1', [reportId])).rows[0].status as string;
const overturnNotices = async (reportId: string) =>
  (
    await t.deps.pool.query(
      "select channel from notifications where report_id = $1 and event = 'overturned' order by channel",
      [reportId],
    )
  ).rows.length;

/** The reward of a paid fine, as the registry's fine.paid callback accrues it (src/fines/registry-events.ts). */
async function accrue(c: { id: string; citizen: { id: string } }, amountSum: number) {
  await postLedger(t.deps.pool, {
    kind: 'reward_accrual',
    reportId: c.id,
    citizenId: c.citizen.id,
    amountSum,
    debit: REWARDS_EXPENSE,
    credit: citizenAccount(c.citizen.id),
  });
}

describe('a cancelled fine and its reward', () => {
  it('reverses a reward accrued and unpaid, once, and stops its pending payout', async () => {
    const c = await appealedCase();
    await accrue(c, 37_500);
    // Not due for an hour, so no payout sweep takes it meanwhile; not leased: nobody is paying it this minute.
    await t.deps.pool.query(
      `insert into payouts (report_id, citizen_id, amount_sum, idempotency_key, next_attempt_at)
       values ($1, $2, 37500, $3, now() + interval '1 hour')`,
      [c.id, c.citizen.id, `reward:${c.id}`],
    );
    await decideAndDeliver(c.appealId, { decision: 'cancel', reasonCode: 'NOT_THE_VEHICLE' });
    expect(await statusOf(c.id)).toBe('overturned');
    expect(registry.cases.get(c.id)?.status).toBe('cancelled');

    // Recorded a second time: the supervisor again (no lease any more), and the effects applied again.
    const again = await call('POST', `/v1/appeals/${c.appealId}/decision`, supervisor, {
      decision: 'cancel',
      reasonCode: 'NOT_THE_VEHICLE',
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('APPEAL_LEASE_NOT_HELD');
    await withTransaction(t.deps.pool, (trx) =>
      applyDecisionEffects(trx, {
        id: c.appealId,
        report_id: c.id,
        decision: 'cancel',
        corrected_violation_code: null,
      }),
    );

    const ledger = await ledgerOf(c.id);
    expect(ledger.map((l) => l.kind).sort()).toEqual(['reward_accrual', 'reward_reversal']);
    const reversal = ledger.find((l) => l.kind === 'reward_reversal')!;
    expect(Number(reversal.amount_sum)).toBe(37_500);
    expect(reversal.reference).toBe(`appeal:${c.appealId}`);
    expect(reversal.legs).toEqual([
      { account: REWARDS_EXPENSE, amount: -37_500 },
      { account: citizenAccount(c.citizen.id), amount: 37_500 },
    ]);
    const { rows: balance } = await t.deps.pool.query(
      'select coalesce(sum(amount_sum), 0)::int as n from ledger_entries where account = $1',
      [citizenAccount(c.citizen.id)],
    );
    expect(balance[0].n).toBe(0);
    const { rows: payout } = await t.deps.pool.query('select status from payouts where report_id = $1', [
      c.id,
    ]);
    expect(payout[0].status).toBe('failed');
    expect(await eventsOf(c.id, 'overturned')).toHaveLength(1);
    expect((await eventsOf(c.id, 'overturned'))[0]?.data).toMatchObject({
      appealId: c.appealId,
      reward: 'reversed',
    });
    await until('the citizen told', async () => (await overturnNotices(c.id)) > 0);
    // Once per channel, though the effects ran twice.
    const { rows: told } = await t.deps.pool.query(
      `select count(*)::int as n, count(distinct channel)::int as channels from notifications
        where report_id = $1 and event = 'overturned'`,
      [c.id],
    );
    expect(told[0].n).toBe(told[0].channels);
  }, 90_000);

  it('keeps a reward already paid out: no reversal, nothing clawed back', async () => {
    const c = await appealedCase();
    await accrue(c, 20_000);
    await postLedger(t.deps.pool, {
      kind: 'payout',
      reportId: c.id,
      citizenId: c.citizen.id,
      amountSum: 20_000,
      debit: citizenAccount(c.citizen.id),
      credit: PAYOUTS,
      reference: 'PAY-1',
    });
    await t.deps.pool.query(
      `insert into payouts (report_id, citizen_id, amount_sum, idempotency_key, status, reference, settled_at)
       values ($1, $2, 20000, $3, 'settled', 'PAY-1', now())`,
      [c.id, c.citizen.id, `reward:${c.id}`],
    );
    await decideAndDeliver(c.appealId, { decision: 'cancel', reasonCode: 'NO_VIOLATION_VISIBLE' });
    expect(await statusOf(c.id)).toBe('overturned');
    expect((await ledgerOf(c.id)).map((l) => l.kind).sort()).toEqual(['payout', 'reward_accrual']);
    const { rows: payout } = await t.deps.pool.query('select status from payouts where report_id = $1', [
      c.id,
    ]);
    expect(payout[0].status).toBe('settled');
    expect((await eventsOf(c.id, 'overturned'))[0]?.data).toMatchObject({ reward: 'kept_paid' });
  }, 90_000);
});

describe('uphold and correct', () => {
  it.each([
    { decision: 'uphold', event: 'appeal_upheld', lang: 'ru', sms: /жалоба по .* отклонена/ },
    { decision: 'correct', event: 'appeal_corrected', lang: 'en', sms: /ruling was corrected/ },
  ] as const)(
    '$decision: the registry records it, the fine stands, the driver is told in $lang',
    async (d) => {
      const c = await appealedCase(d.lang);
      const { rows } = await t.deps.pool.query<{ code: string }>(
        `select code from violation_types
        where code <> (select violation_code from reports where id = $1) order by code limit 1`,
        [c.id],
      );
      const violationCode = d.decision === 'correct' ? rows[0]!.code : undefined;
      await decideAndDeliver(c.appealId, {
        decision: d.decision,
        reasonCode: 'EVIDENCE_CONCLUSIVE',
        ...(violationCode ? { violationCode } : {}),
      });

      const recorded = registry.appealDecisions.get(c.appealId);
      expect(recorded?.receipt).toMatchObject({
        appealId: c.appealId,
        caseStatus: 'fined',
        duplicate: false,
      });
      expect(JSON.parse(recorded!.canonical)).toMatchObject({
        decision: d.decision,
        ...(violationCode ? { violationCode } : {}),
      });
      expect(registry.cases.get(c.id)?.status).toBe('fined');
      expect(await statusOf(c.id)).toBe('fined');
      const events = await eventsOf(c.id, d.event);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        to_status: 'fined',
        data: { appealId: c.appealId, ...(violationCode ? { violationCode } : {}) },
      });

      const read = await t.app.inject({ method: 'GET', url: '/v1/fines/case/appeal', headers: c.token });
      expect(read.json()).toMatchObject({
        status: 'decided',
        decision: d.decision,
        correctedViolationCode: violationCode ?? null,
        reasonCode: 'EVIDENCE_CONCLUSIVE',
      });
      await until('the driver told', async () =>
        t.deps.smsSimulator!.outbox(c.phone).some((m) => d.sms.test(m.text)),
      );
      expect(await overturnNotices(c.id)).toBe(0);
      expect(await eventsOf(c.id, 'overturned')).toHaveLength(0);
    },
    90_000,
  );
});

describe('unit scope and leases', () => {
  it("hides an appeal from another unit's supervisor, and lets a lapsed lease be taken", async () => {
    const units = (
      await t.deps.pool.query<{ id: number }>(
        "insert into units (name) values ('Appeals unit A'), ('Appeals unit B') returning id",
      )
    ).rows.map((u) => u.id);
    const [a1, a2, b] = await Promise.all([
      staffMember(t, 'supervisor'),
      staffMember(t, 'supervisor'),
      staffMember(t, 'supervisor'),
    ]);
    await t.deps.pool.query('update staff set unit_id = $2 where id = any($1::uuid[])', [
      [a1.id, a2.id],
      units[0],
    ]);
    await t.deps.pool.query('update staff set unit_id = $2 where id = $1', [b.id, units[1]]);
    const c = await appealedCase();
    // As if the report's district were unit A's when the appeal was filed (the unit is copied then).
    await t.deps.pool.query('update appeals set unit_id = $2 where id = $1', [c.appealId, units[0]]);

    const listB = await call('GET', '/v1/appeals', b);
    expect(listB.statusCode).toBe(200);
    expect(listB.json().items.map((i: { id: string }) => i.id)).not.toContain(c.appealId);
    expect((await call('POST', '/v1/appeals/next', b)).json().id).toBeNull();
    const readB = await call('GET', `/v1/appeals/${c.appealId}`, b);
    expect(readB.statusCode).toBe(403);
    expect(readB.json().code).toBe('OUTSIDE_UNIT');
    expect((await call('GET', '/v1/appeals', a1)).json().items.map((i: { id: string }) => i.id)).toContain(
      c.appealId,
    );

    expect((await call('POST', '/v1/appeals/next', a1)).json().id).toBe(c.appealId);
    expect((await call('POST', '/v1/appeals/next', a2)).json().id).toBeNull();
    const decideB = await call('POST', `/v1/appeals/${c.appealId}/decision`, b, {
      decision: 'uphold',
      reasonCode: 'APPEAL_UNFOUNDED',
    });
    expect(decideB.statusCode).toBe(403);

    await t.deps.pool.query(
      "update appeals set lease_expires_at = now() - interval '1 second' where id = $1",
      [c.appealId],
    );
    expect((await call('POST', '/v1/appeals/next', a2)).json().id).toBe(c.appealId);
    const late = await call('POST', `/v1/appeals/${c.appealId}/decision`, a1, {
      decision: 'cancel',
      reasonCode: 'NOT_THE_VEHICLE',
    });
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('APPEAL_LEASE_NOT_HELD');
    const decided = await call('POST', `/v1/appeals/${c.appealId}/decision`, a2, {
      decision: 'uphold',
      reasonCode: 'APPEAL_UNFOUNDED',
    });
    expect(decided.statusCode, decided.body).toBe(200);
    const { rows } = await t.deps.pool.query('select decision, decided_by from appeals where id = $1', [
      c.appealId,
    ]);
    expect(rows[0]).toEqual({ decision: 'uphold', decided_by: a2.id });
  }, 90_000);
});
