import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  reviewableReport,
  settledReport,
  signInCitizen,
  staffMember,
  type TestApp,
  uploadEvidence,
} from '../../test/helpers/app.js';
import { makeScene } from '../../test/helpers/media.js';
import { expireUnanswered } from './follow-up.expiry.js';

let t: TestApp;
let inspector: { token: string; id: string };
let stranger: { token: string; id: string };
beforeAll(async () => {
  t = await createTestApp({}, { workers: true });
  [inspector, stranger] = await Promise.all([staffMember(t, 'inspector'), signInCitizen(t)]);
}, 60_000);

const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });
const post = (url: string, token: string, payload?: object) =>
  t.app.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });
const patch = (url: string, token: string, payload: object) =>
  t.app.inject({ method: 'PATCH', url, headers: bearer(token), payload });
const row = async (id: string) =>
  (
    await t.deps.pool.query(
      'select status, priority, review_due_at, sla_due_at, reason_code, plate, description from reports where id = $1',
      [id],
    )
  ).rows[0];
const eventsOf = async (id: string, token: string) =>
  (await get(`/v1/reports/${id}/events`, token)).json().events as {
    type: string;
    actor: string;
    data: Record<string, unknown>;
  }[];

/** Only this report in the queue, so the inspector's next claim is it. */
async function onlyInQueue(id: string) {
  await t.deps.pool.query(
    `update reports set status = 'rejected', lease_owner = null, lease_expires_at = null
      where status in ('awaiting_review', 'in_review') and id <> $1`,
    [id],
  );
}

/** A report the inspector has asked a question on. */
async function askedReport(note = 'Please send a photo where the plate can be read') {
  const r = await reviewableReport(t);
  await onlyInQueue(r.id);
  expect((await post('/v1/review/next', inspector.token)).json().report.id).toBe(r.id);
  const d = await post(`/v1/review/${r.id}/decision`, inspector.token, { decision: 'needs_info', note });
  expect(d.json()).toMatchObject({ status: 'needs_info' });
  return r;
}

describe('answering the inspector', () => {
  it('shows the question, takes text and a new photo, and returns to the queue with its priority and the wait added to its deadlines', async () => {
    const r = await askedReport();
    const asked = await get(`/v1/reports/${r.id}`, r.citizen.token);
    expect(asked.json()).toMatchObject({
      status: 'needs_info',
      question: 'Please send a photo where the plate can be read',
      changeable: false,
    });
    // The question has waited two hours.
    await t.deps.pool.query(`update reports set decided_at = decided_at - interval '2 hours' where id = $1`, [
      r.id,
    ]);
    const before = await row(r.id);
    const photo = (await uploadEvidence(t, r.citizen.token, await makeScene(1280, 720))).json().id;

    expect((await post(`/v1/reports/${r.id}/answer`, stranger.token, { text: 'x' })).statusCode).toBe(404);
    const empty = await post(`/v1/reports/${r.id}/answer`, r.citizen.token, { text: '   ' });
    expect(empty.statusCode).toBe(400);
    const notMine = await post(`/v1/reports/${r.id}/answer`, stranger.token, { evidenceIds: [photo] });
    expect(notMine.statusCode).toBe(404);
    const strangersPhoto = (await uploadEvidence(t, stranger.token, await makeScene(1280, 720))).json().id;
    const foreign = await post(`/v1/reports/${r.id}/answer`, r.citizen.token, {
      evidenceIds: [strangersPhoto],
    });
    expect(foreign.json()).toMatchObject({ code: 'EVIDENCE_NOT_FOUND', field: 'evidenceIds.0' });
    expect((await row(r.id)).status).toBe('needs_info');

    const res = await post(`/v1/reports/${r.id}/answer`, r.citizen.token, {
      text: ' The plate is 01 A 123 BC ',
      evidenceIds: [photo],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'awaiting_review', question: null });
    expect(res.json().evidence.map((e: { id: string }) => e.id)).toEqual([r.evidenceId, photo]);

    const after = await row(r.id);
    expect(after.priority).toBe(before.priority);
    const shift = (a: Date, b: Date) => (a.getTime() - b.getTime()) / 3_600_000;
    expect(shift(after.review_due_at, before.review_due_at)).toBeCloseTo(2, 2);
    // The legal deadline is the law's: it does not wait for the citizen.
    expect(shift(after.sla_due_at, before.sla_due_at)).toBe(0);

    const events = await eventsOf(r.id, r.citizen.token);
    expect(events.find((e) => e.type === 'reviewed')?.data).toMatchObject({
      decision: 'needs_info',
      note: 'Please send a photo where the plate can be read',
    });
    expect(events.at(-1)).toMatchObject({
      type: 'answered',
      actor: 'citizen',
      data: { text: 'The plate is 01 A 123 BC', evidenceCount: 1 },
    });
    // Back in the queue: the inspector can claim it again and sees the new file.
    const claimed = await post('/v1/review/next', inspector.token);
    expect(claimed.json().report.id).toBe(r.id);
    expect(claimed.json().report.evidence).toHaveLength(2);

    const again = await post(`/v1/reports/${r.id}/answer`, r.citizen.token, { text: 'again' });
    expect(again.json()).toMatchObject({ code: 'REPORT_NOT_AWAITING_INFO' });
    expect(again.statusCode).toBe(409);
  }, 60_000);

  it('rejects an unanswered question after NEEDS_INFO_EXPIRE_HOURS with INFO_NOT_PROVIDED, and tells the citizen', async () => {
    const old = await askedReport();
    const fresh = await askedReport();
    await t.deps.pool.query(`update reports set decided_at = now() - interval '73 hours' where id = $1`, [
      old.id,
    ]);
    expect(await expireUnanswered(t.deps.pool, 72)).toBe(1);
    expect(await row(old.id)).toMatchObject({ status: 'rejected', reason_code: 'INFO_NOT_PROVIDED' });
    expect((await row(fresh.id)).status).toBe('needs_info');
    const view = (await get(`/v1/reports/${old.id}`, old.citizen.token)).json();
    expect(view.rejection.code).toBe('INFO_NOT_PROVIDED');
    expect(view.rejection.reason.uz).toMatch(/javob/);
    expect((await eventsOf(old.id, old.citizen.token)).at(-1)).toMatchObject({
      type: 'info_expired',
      actor: 'system',
      data: { reasonCode: 'INFO_NOT_PROVIDED', waitedHours: 73 },
    });
    const told = await t.deps.pool.query(`select event from notifications where report_id = $1`, [old.id]);
    expect(told.rows.map((n) => n.event)).toContain('rejected');
    // Nothing left to expire: a second run closes nothing.
    expect(await expireUnanswered(t.deps.pool, 72)).toBe(0);
  }, 60_000);
});

describe('withdrawing', () => {
  it('is allowed while waiting unclaimed, final, and hidden from other citizens', async () => {
    const r = await reviewableReport(t);
    expect((await post(`/v1/reports/${r.id}/withdraw`, stranger.token)).statusCode).toBe(404);
    const res = await post(`/v1/reports/${r.id}/withdraw`, r.citizen.token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'withdrawn', changeable: false });
    expect((await eventsOf(r.id, r.citizen.token)).at(-1)).toMatchObject({
      type: 'withdrawn',
      actor: 'citizen',
    });
    const again = await post(`/v1/reports/${r.id}/withdraw`, r.citizen.token);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('REPORT_REVIEW_STARTED');
  }, 60_000);

  it('is refused with 409 once an inspector has claimed the report', async () => {
    const r = await reviewableReport(t);
    await onlyInQueue(r.id);
    expect((await post('/v1/review/next', inspector.token)).json().report.id).toBe(r.id);
    const res = await post(`/v1/reports/${r.id}/withdraw`, r.citizen.token);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('REPORT_REVIEW_STARTED');
    expect((await row(r.id)).status).toBe('in_review');
    await post(`/v1/review/${r.id}/release`, inspector.token);
  }, 60_000);
});

describe('correcting', () => {
  it('records each change, runs the checks again on the new claim, and validates like filing', async () => {
    const r = await reviewableReport(t);
    const bad = await patch(`/v1/reports/${r.id}`, r.citizen.token, { lat: 91 });
    expect(bad.statusCode).toBe(400);
    const unknown = await patch(`/v1/reports/${r.id}`, r.citizen.token, { violationCode: '999.9' });
    expect(unknown.json()).toMatchObject({ code: 'VIOLATION_TYPE_UNKNOWN', field: 'violationCode' });
    expect((await patch(`/v1/reports/${r.id}`, r.citizen.token, {})).statusCode).toBe(400);
    expect((await patch(`/v1/reports/${r.id}`, stranger.token, { description: 'x' })).statusCode).toBe(404);

    const oldPlate = (await row(r.id)).plate;
    const res = await patch(`/v1/reports/${r.id}`, r.citizen.token, {
      plate: '01 z 777 zz',
      description: 'Parked across the crossing',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'received', plate: '01Z777ZZ' });
    const corrected = (await eventsOf(r.id, r.citizen.token)).find((e) => e.type === 'corrected');
    expect(corrected).toMatchObject({
      actor: 'citizen',
      data: {
        changes: {
          plate: { from: oldPlate, to: '01Z777ZZ' },
          description: { from: 'Parked on the pedestrian crossing', to: 'Parked across the crossing' },
        },
      },
    });
    const settled = await settledReport(t, r.id, r.citizen.token);
    expect(settled.status).toBe('awaiting_review');
    const types = (await eventsOf(r.id, r.citizen.token)).map((e) => e.type);
    // Each automated stage ran twice: before and after the correction.
    expect(types.filter((type) => type === 'validated')).toHaveLength(2);
    expect(types.filter((type) => type === 'analyzed')).toHaveLength(2);
  }, 60_000);

  it('a correction the checks refuse ends the report with their reason', async () => {
    const r = await reviewableReport(t);
    const res = await patch(`/v1/reports/${r.id}`, r.citizen.token, {
      incidentAt: new Date(Date.now() - 5 * 86_400_000).toISOString(),
    });
    expect(res.statusCode).toBe(200);
    const settled = await settledReport(t, r.id, r.citizen.token);
    expect(settled).toMatchObject({ status: 'rejected', rejection: { code: 'FILED_TOO_LATE' } });
  }, 60_000);

  it('is refused with 409 after a claim, and a correction racing a claim cannot both win', async () => {
    const held = await reviewableReport(t);
    await onlyInQueue(held.id);
    await post('/v1/review/next', inspector.token);
    const late = await patch(`/v1/reports/${held.id}`, held.citizen.token, { description: 'too late' });
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('REPORT_REVIEW_STARTED');
    expect((await row(held.id)).description).toBe('Parked on the pedestrian crossing');
    await post(`/v1/review/${held.id}/release`, inspector.token);

    const other = await staffMember(t, 'inspector');
    for (let i = 0; i < 3; i++) {
      const r = await reviewableReport(t);
      await onlyInQueue(r.id);
      const [claim, fix] = await Promise.all([
        post('/v1/review/next', other.token),
        patch(`/v1/reports/${r.id}`, r.citizen.token, { description: `race ${i}` }),
      ]);
      const claimed = claim.statusCode === 200 && claim.json().report?.id === r.id;
      expect(claimed !== (fix.statusCode === 200)).toBe(true);
      const now = await row(r.id);
      if (claimed)
        expect(now).toMatchObject({ status: 'in_review', description: 'Parked on the pedestrian crossing' });
      else expect(now.description).toBe(`race ${i}`);
      if (claimed) await post(`/v1/review/${r.id}/release`, other.token);
    }
  }, 120_000);
});
