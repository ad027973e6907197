import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  reviewableReport,
  staffMember,
  type TestApp,
} from '../../test/helpers/app.js';

let t: TestApp;
let inspector: { token: string; id: string };
let other: { token: string; id: string };
let supervisor: { token: string; id: string };
beforeAll(async () => {
  t = await createTestApp({}, { workers: true });
  [inspector, other, supervisor] = await Promise.all([
    staffMember(t, 'inspector'),
    staffMember(t, 'inspector'),
    staffMember(t, 'supervisor'),
  ]);
});

const get = (url: string, token: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url, headers: { ...bearer(token), ...headers } });
const post = (url: string, token: string, payload?: object) =>
  t.app.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });

/** Takes every report out of anyone's hands and out of the queue, so a test starts from an empty queue. */
async function emptyQueue() {
  await t.deps.pool.query(
    `update reports set status = 'rejected', lease_owner = null, lease_expires_at = null
      where status in ('awaiting_review', 'in_review')`,
  );
}

describe('queue and claiming', () => {
  it('orders by priority then deadline, filters, and pages with a cursor without repeats', async () => {
    await emptyQueue();
    const light = await reviewableReport(t, { violationCode: '128.1' }); // 1 BHM
    const heavy = await reviewableReport(t, { violationCode: '128-10.1' }); // 25 BHM
    const middle = await reviewableReport(t);
    const res = await get('/v1/review/queue', inspector.token);
    expect(res.statusCode).toBe(200);
    const ids = res.json().items.map((i: { id: string }) => i.id);
    expect(ids[0]).toBe(heavy.id);
    expect(ids.at(-1)).toBe(light.id);
    expect(ids).toContain(middle.id);
    const first = res.json().items[0];
    expect(first).toMatchObject({ status: 'awaiting_review', lease: null, overdue: false });
    expect(first.thumbnailUrl).toMatch(/variant=thumbnail$/);

    const only = await get('/v1/review/queue?violation=128.1', inspector.token);
    expect(only.json().items.map((i: { id: string }) => i.id)).toEqual([light.id]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`/v1/review/queue?limit=1${cursor ? `&cursor=${cursor}` : ''}`, inspector.token);
      seen.push(...page.json().items.map((i: { id: string }) => i.id));
      cursor = page.json().nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);

    const bad = await get('/v1/review/queue?cursor=bm90LWEtY3Vyc29y', inspector.token);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'cursor' });
  });

  it('gives two inspectors asking at once two different reports, and the same inspector the same one again', async () => {
    await emptyQueue();
    const a = await reviewableReport(t);
    const b = await reviewableReport(t);
    const [x, y] = await Promise.all([
      post('/v1/review/next', inspector.token),
      post('/v1/review/next', other.token),
    ]);
    expect([x.statusCode, y.statusCode]).toEqual([200, 200]);
    expect(new Set([x.json().report.id, y.json().report.id])).toEqual(new Set([a.id, b.id]));
    expect(x.json().lease).toMatchObject({ inspectorId: inspector.id, mine: true });
    expect(x.json().report.status).toBe('in_review');

    const again = await post('/v1/review/next', inspector.token);
    expect(again.json().report.id).toBe(x.json().report.id);
    const none = await post('/v1/review/next', supervisor.token);
    expect(none.statusCode).toBe(204);
    // The queue shows who holds what.
    const held = await get('/v1/review/queue?status=in_review', other.token);
    const mine = held.json().items.find((i: { id: string }) => i.id === y.json().report.id);
    expect(mine.lease).toMatchObject({ inspectorId: other.id, mine: true });
  });

  it('returns a report whose lease ran out to the queue; its old holder can no longer decide it', async () => {
    await emptyQueue();
    const r = await reviewableReport(t);
    expect((await post('/v1/review/next', inspector.token)).json().report.id).toBe(r.id);
    await t.deps.pool.query(
      `update reports set lease_expires_at = now() - interval '1 second' where id = $1`,
      [r.id],
    );

    const queue = await get('/v1/review/queue?status=awaiting_review', other.token);
    expect(queue.json().items.map((i: { id: string }) => i.id)).toContain(r.id);
    const { rows } = await t.deps.pool.query('select status from reports where id = $1', [r.id]);
    expect(rows[0].status).toBe('awaiting_review');

    expect((await post('/v1/review/next', other.token)).json().report.id).toBe(r.id);
    const late = await post(`/v1/review/${r.id}/decision`, inspector.token, { decision: 'approve' });
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('LEASE_NOT_HELD');
    const events = await get(`/v1/reports/${r.id}/events`, supervisor.token);
    expect(events.json().events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['claimed', 'lease_expired']),
    );
  });
});

describe('decisions', () => {
  it('approves: the report is approved with a forwarding deadline, and the citizen sees "inspector", not who', async () => {
    await emptyQueue();
    const r = await reviewableReport(t);
    await post('/v1/review/next', inspector.token);
    const res = await post(`/v1/review/${r.id}/decision`, inspector.token, {
      decision: 'approve',
      note: 'clear',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: r.id, status: 'approved' });
    const { rows } = await t.deps.pool.query(
      'select status, approved_at, forward_due_at, reviewed_by, lease_owner from reports where id = $1',
      [r.id],
    );
    expect(rows[0]).toMatchObject({ status: 'approved', reviewed_by: inspector.id, lease_owner: null });
    expect(rows[0].forward_due_at.getTime() - rows[0].approved_at.getTime()).toBe(48 * 3600_000);
    const events = await get(`/v1/reports/${r.id}/events`, r.citizen.token);
    const reviewed = events.json().events.find((e: { type: string }) => e.type === 'reviewed');
    expect(reviewed.actor).toBe('inspector');
    expect(events.json().chainValid).toBe(true);
    expect(JSON.stringify(events.json())).not.toContain(inspector.id);
  });

  it('rejects only with a catalogued reason the citizen can read, and asks for more only with a note', async () => {
    await emptyQueue();
    const r = await reviewableReport(t);
    await post('/v1/review/next', inspector.token);
    const noReason = await post(`/v1/review/${r.id}/decision`, inspector.token, { decision: 'reject' });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'reasonCode' });
    const unknown = await post(`/v1/review/${r.id}/decision`, inspector.token, {
      decision: 'reject',
      reasonCode: 'BECAUSE',
    });
    expect(unknown.statusCode).toBe(400);
    const noNote = await post(`/v1/review/${r.id}/decision`, inspector.token, { decision: 'needs_info' });
    expect(noNote.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'note' });

    const ok = await post(`/v1/review/${r.id}/decision`, inspector.token, {
      decision: 'reject',
      reasonCode: 'PLATE_NOT_READABLE',
    });
    expect(ok.json().status).toBe('rejected');
    const seen = await get(`/v1/reports/${r.id}`, r.citizen.token);
    expect(seen.json().rejection).toMatchObject({ code: 'PLATE_NOT_READABLE' });
    expect(seen.json().rejection.reason.uz).toMatch(/raqam/);
    const twice = await post(`/v1/review/${r.id}/decision`, inspector.token, { decision: 'approve' });
    expect(twice.statusCode).toBe(409);

    const s = await reviewableReport(t);
    await post('/v1/review/next', inspector.token);
    const ask = await post(`/v1/review/${s.id}/decision`, inspector.token, {
      decision: 'needs_info',
      note: 'Film the plate closer, please.',
    });
    expect(ask.json().status).toBe('needs_info');
  });

  it('lets an inspector hand a report back unreviewed', async () => {
    await emptyQueue();
    const r = await reviewableReport(t);
    await post('/v1/review/next', inspector.token);
    expect((await post(`/v1/review/${r.id}/release`, inspector.token)).statusCode).toBe(204);
    expect((await post(`/v1/review/${r.id}/release`, inspector.token)).statusCode).toBe(409);
    expect((await post('/v1/review/next', other.token)).json().report.id).toBe(r.id);
  });
});

describe('evidence, audit and identity', () => {
  it('serves the evidence (with ranges), its thumbnail, audits every view, and never shows who reported', async () => {
    await emptyQueue();
    const r = await reviewableReport(t);
    const detail = await post('/v1/review/next', inspector.token);
    const body = detail.json();
    const text = JSON.stringify(body);
    expect(text).not.toContain(r.citizen.id);
    const { rows } = await t.deps.pool.query('select phone_hash from citizens where id = $1', [r.citizen.id]);
    expect(text).not.toContain(rows[0].phone_hash.toString('hex'));
    expect(body.evidence[0]).toMatchObject({ id: r.evidenceId, kind: 'photo', width: 1280, height: 720 });
    expect(body.report.review.findings).toBeDefined();

    const original = await get(body.evidence[0].urls.original, inspector.token);
    expect(original.statusCode).toBe(200);
    expect(original.headers['content-type']).toBe('image/jpeg');
    expect(original.headers['cache-control']).toBe('private, no-store');
    expect(original.rawPayload.equals(r.photo)).toBe(true);

    const part = await get(body.evidence[0].urls.original, inspector.token, { range: 'bytes=10-19' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 10-19/${r.photo.length}`);
    expect(part.rawPayload.equals(r.photo.subarray(10, 20))).toBe(true);
    const outside = await get(body.evidence[0].urls.original, inspector.token, {
      range: `bytes=${r.photo.length + 5}-`,
    });
    expect(outside.statusCode).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${r.photo.length}`);

    const thumb = await get(body.evidence[0].urls.thumbnail, other.token);
    expect(thumb.statusCode).toBe(200);
    expect(thumb.rawPayload.subarray(0, 2).toString('hex')).toBe('ffd8');
    // A thumbnail an earlier version wrote to the blob store (before migration 0014) is still served from there.
    const sha = await t.deps.blobs.putBuffer(thumb.rawPayload);
    await t.deps.pool.query('delete from thumbnails where sha256 = $1', [sha]);
    const legacy = await get(body.evidence[0].urls.thumbnail, other.token);
    expect(legacy.statusCode).toBe(200);
    expect(legacy.rawPayload.equals(thumb.rawPayload)).toBe(true);

    const audit = await get(`/v1/review/${r.id}/audit`, supervisor.token);
    const views = audit.json().views as { staffId: string; variant: string }[];
    expect(views.filter((v) => v.staffId === inspector.id && v.variant === 'original')).toHaveLength(3);
    expect(views.some((v) => v.staffId === other.id && v.variant === 'thumbnail')).toBe(true);
    expect((await get(`/v1/review/${r.id}/audit`, inspector.token)).statusCode).toBe(403);

    const elsewhere = await reviewableReport(t);
    const wrong = await get(`/v1/review/${r.id}/evidence/${elsewhere.evidenceId}`, inspector.token);
    expect(wrong.statusCode).toBe(404);
    expect(wrong.json().code).toBe('EVIDENCE_FILE_NOT_FOUND');
  });

  it('keeps citizens out of every review endpoint', async () => {
    const r = await reviewableReport(t);
    const c = r.citizen.token;
    for (const res of [
      await get('/v1/review/queue', c),
      await post('/v1/review/next', c),
      await get(`/v1/review/${r.id}`, c),
      await get(`/v1/review/${r.id}/evidence/${r.evidenceId}`, c),
      await post(`/v1/review/${r.id}/decision`, c, { decision: 'approve' }),
      await get('/v1/review/workload', c),
    ]) {
      expect(res.statusCode).toBe(403);
    }
    expect((await get('/v1/review/workload', inspector.token)).statusCode).toBe(403);
  });
});

describe('supervision', () => {
  it('reassigns, shows workload, and flags reports approved but not forwarded in time', async () => {
    await emptyQueue();
    const r = await reviewableReport(t);
    await post('/v1/review/next', inspector.token);
    const moved = await post(`/v1/review/${r.id}/reassign`, supervisor.token, { inspectorId: other.id });
    expect(moved.statusCode).toBe(204);
    expect(
      (await post(`/v1/review/${r.id}/decision`, inspector.token, { decision: 'approve' })).statusCode,
    ).toBe(409);
    const nobody = await post(`/v1/review/${r.id}/reassign`, supervisor.token, { inspectorId: r.citizen.id });
    expect(nobody.json()).toMatchObject({ code: 'STAFF_NOT_FOUND', field: 'inspectorId' });

    const load = await get('/v1/review/workload', supervisor.token);
    expect(load.statusCode).toBe(200);
    const row = load.json().inspectors.find((i: { id: string }) => i.id === other.id);
    expect(row.holding).toBe(1);

    expect((await post(`/v1/review/${r.id}/decision`, other.token, { decision: 'approve' })).statusCode).toBe(
      200,
    );
    await t.deps.pool.query(`update reports set forward_due_at = now() - interval '1 hour' where id = $1`, [
      r.id,
    ]);
    const after = await get('/v1/review/workload', supervisor.token);
    expect(
      after.json().inspectors.find((i: { id: string }) => i.id === other.id).decided24h.approve,
    ).toBeGreaterThan(0);
    expect(after.json().slaBreaches).toContainEqual(
      expect.objectContaining({ reportId: r.id, kind: 'forward_overdue', status: 'approved' }),
    );
  });
});
