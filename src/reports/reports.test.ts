import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  citizenWithEvidence,
  createTestApp,
  reportBody,
  staffToken,
  submitReport,
  type TestApp,
} from '../../test/helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ RATE_LIMIT_SUBMIT_PER_MINUTE: '10000' });
});

const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });

describe('POST /v1/reports — happy', () => {
  it('stores the report, its first event and its validate job in one go, and answers 202', async () => {
    const c = await citizenWithEvidence(t);
    const res = await submitReport(t, c.token, reportBody([c.evidenceId]));
    expect(res.statusCode).toBe(202);
    const { id, status, links } = res.json();
    expect(status).toBe('received');
    expect(links.self).toBe(`/v1/reports/${id}`);
    expect(res.headers.location).toBe(`/v1/reports/${id}`);
    // The validate sweep job was written by the same transaction as the report (same xmin).
    const { rows: jobs } = await t.deps.pool.query(
      `select count(*)::int as n from graphile_worker._private_jobs j
         join graphile_worker._private_tasks k on k.id = j.task_id
        where k.identifier = 'validate' and j.xmin = (select xmin from reports where id = $1)`,
      [id],
    );
    expect(jobs[0].n).toBe(1);
    const events = (await get(`/v1/reports/${id}/events`, c.token)).json();
    expect(events.chainValid).toBe(true);
    expect(events.events).toMatchObject([
      { seq: 1, type: 'submitted', toStatus: 'received', actor: 'citizen' },
    ]);
  });

  it('shows the report with its violation, normalised plate, evidence and fine at the incident-date BHM', async () => {
    const c = await citizenWithEvidence(t);
    const incidentAt = new Date(Date.now() - 7200_000).toISOString();
    const { id } = (
      await submitReport(t, c.token, reportBody([c.evidenceId], { plate: '01 а 123 вс', incidentAt }))
    ).json();
    const res = await get(`/v1/reports/${id}`, c.token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id,
      status: 'received',
      plate: '01A123BC',
      violation: { code: '128-6.1' },
      location: { lat: 41.3111, lon: 69.2797 },
      incidentAt,
      evidence: [{ id: c.evidenceId, kind: 'photo', mime: 'image/jpeg' }],
      fine: { bhmMin: 2, bhmRate: 412000, rateEffectiveFrom: '2025-08-01', sumMin: 824000 },
      rejection: null,
    });
  });

  it('uses the BHM rate in force on the incident date, not today', async () => {
    const fine = t.deps.reference.fineFor('128-6.1', new Date('2025-07-31T12:00:00Z'));
    expect(fine).toMatchObject({ bhmRate: 375000, sumMin: 750000, rateEffectiveFrom: '2024-10-01' });
  });

  it("lists the citizen's own reports newest first with keyset pagination", async () => {
    const c = await citizenWithEvidence(t);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await submitReport(t, c.token, reportBody([c.evidenceId]))).json().id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = (
        await get(`/v1/me/reports?limit=2${cursor ? `&cursor=${cursor}` : ''}`, c.token)
      ).json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it('lists the violation types with fines, and can show only the reportable ones', async () => {
    const all = (await t.app.inject({ method: 'GET', url: '/v1/violation-types' })).json().items;
    expect(all).toHaveLength(69);
    const active = (await t.app.inject({ method: 'GET', url: '/v1/violation-types?active=true' })).json()
      .items;
    expect(active.length).toBeGreaterThan(0);
    expect(
      active.every((v: { active: boolean; cameraRecordable: boolean }) => v.active && v.cameraRecordable),
    ).toBe(true);
    expect(all.find((v: { code: string }) => v.code === '128-6.1')).toMatchObject({
      bhmMin: 2,
      fineToday: { sumMin: 824000, bhmRate: 412000 },
    });
  });
});

describe('POST /v1/reports — idempotency', () => {
  it('returns the same report for the same key and body, and 409 for the same key with another body', async () => {
    const c = await citizenWithEvidence(t);
    const body = reportBody([c.evidenceId]);
    const key = { 'idempotency-key': 'submit-0001-abcdef' };
    const first = await submitReport(t, c.token, body, key);
    const again = await submitReport(t, c.token, body, key);
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(202);
    expect(again.json().id).toBe(first.json().id);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const other = await submitReport(t, c.token, { ...body, plate: '10 B 777 CC' }, key);
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key' });
    const { rows } = await t.deps.pool.query('select count(*)::int as n from reports where citizen_id = $1', [
      c.id,
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('creates exactly one report when the same keyed request arrives many times at once', async () => {
    const c = await citizenWithEvidence(t);
    const body = reportBody([c.evidenceId]);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        submitReport(t, c.token, body, { 'idempotency-key': 'burst-key-0001' }),
      ),
    );
    expect(results.every((r) => r.statusCode === 202)).toBe(true);
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
    const { rows } = await t.deps.pool.query('select count(*)::int as n from reports where citizen_id = $1', [
      c.id,
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('keys are per citizen: two citizens may use the same key', async () => {
    const a = await citizenWithEvidence(t);
    const b = await citizenWithEvidence(t);
    const key = { 'idempotency-key': 'shared-key-0001' };
    const ra = await submitReport(t, a.token, reportBody([a.evidenceId]), key);
    const rb = await submitReport(t, b.token, reportBody([b.evidenceId]), key);
    expect(ra.json().id).not.toBe(rb.json().id);
  });
});

describe('POST /v1/reports — errors', () => {
  it.each([
    [{ lat: 91 }, 'lat'],
    [{ lon: 'east' }, 'lon'],
    [{ incidentAt: 'yesterday' }, 'incidentAt'],
    [{ violationCode: 'DROP TABLE' }, 'violationCode'],
    [{ evidenceIds: [] }, 'evidenceIds'],
    [{ evidenceIds: ['not-a-uuid'] }, 'evidenceIds.0'],
    [{ plate: '' }, 'plate'],
    [{ description: 'long'.repeat(501) }, 'description'],
    [{ speed: 90 }, 'speed'],
  ])('rejects %j with VALIDATION_FAILED naming %s', async (override, field) => {
    const c = await citizenWithEvidence(t);
    const res = await submitReport(t, c.token, reportBody([c.evidenceId], override));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });

  it('rejects a missing field by name', async () => {
    const c = await citizenWithEvidence(t);
    const { plate: _omit, ...body } = reportBody([c.evidenceId]);
    expect((await submitReport(t, c.token, body)).json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'plate',
    });
  });

  it('rejects an unknown violation code and unknown evidence with 422', async () => {
    const c = await citizenWithEvidence(t);
    const unknownType = await submitReport(
      t,
      c.token,
      reportBody([c.evidenceId], { violationCode: '999.9' }),
    );
    expect(unknownType.statusCode).toBe(422);
    expect(unknownType.json()).toMatchObject({ code: 'VIOLATION_TYPE_UNKNOWN', field: 'violationCode' });
    const unknownEvidence = await submitReport(
      t,
      c.token,
      reportBody([c.evidenceId, '01900000-0000-7000-8000-000000000000']),
    );
    expect(unknownEvidence.statusCode).toBe(422);
    expect(unknownEvidence.json()).toMatchObject({ code: 'EVIDENCE_NOT_FOUND', field: 'evidenceIds.1' });
  });

  it('rejects a malformed idempotency key', async () => {
    const c = await citizenWithEvidence(t);
    const res = await submitReport(t, c.token, reportBody([c.evidenceId]), {
      'idempotency-key': 'no spaces allowed',
    });
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'idempotency-key' });
  });

  it('answers an unknown report id with 404 and a malformed one with 400', async () => {
    const c = await citizenWithEvidence(t);
    expect((await get('/v1/reports/01900000-0000-7000-8000-000000000000', c.token)).json().code).toBe(
      'REPORT_NOT_FOUND',
    );
    expect((await get('/v1/reports/42', c.token)).json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'id',
    });
    expect((await get('/v1/me/reports?limit=1000', c.token)).json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'limit',
    });
  });
});

describe('reports — security', () => {
  it("hides another citizen's report as not found, including its timeline", async () => {
    const owner = await citizenWithEvidence(t);
    const stranger = await citizenWithEvidence(t);
    const { id } = (await submitReport(t, owner.token, reportBody([owner.evidenceId]))).json();
    for (const url of [`/v1/reports/${id}`, `/v1/reports/${id}/events`]) {
      const res = await get(url, stranger.token);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('REPORT_NOT_FOUND');
    }
    expect(
      (await get('/v1/me/reports', stranger.token)).json().items.map((r: { id: string }) => r.id),
    ).not.toContain(id);
  });

  it('lets staff read any report, and shows no reporter identity to them', async () => {
    const owner = await citizenWithEvidence(t);
    const { id } = (await submitReport(t, owner.token, reportBody([owner.evidenceId]))).json();
    const res = await get(`/v1/reports/${id}`, await staffToken(t, 'inspector'));
    expect(res.statusCode).toBe(200);
    expect(res.json().review).toMatchObject({ findings: [], duplicateOf: null });
    expect((await get(`/v1/reports/${id}`, owner.token)).json().review).toBeUndefined();
    expect(res.body).not.toContain(owner.id);
    expect(res.body).not.toMatch(/phone|citizen/i);
  });

  it('cannot attach evidence uploaded by someone else', async () => {
    const a = await citizenWithEvidence(t);
    const b = await citizenWithEvidence(t);
    const res = await submitReport(t, b.token, reportBody([a.evidenceId]));
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('EVIDENCE_NOT_FOUND');
  });

  it('requires a citizen to submit and to list; staff cannot submit', async () => {
    const c = await citizenWithEvidence(t);
    expect(
      (await t.app.inject({ method: 'POST', url: '/v1/reports', payload: reportBody([c.evidenceId]) }))
        .statusCode,
    ).toBe(401);
    expect((await submitReport(t, await staffToken(t, 'admin'), reportBody([c.evidenceId]))).statusCode).toBe(
      403,
    );
    expect((await t.app.inject({ method: 'GET', url: '/v1/me/reports' })).statusCode).toBe(401);
  });

  it('rate-limits submissions per citizen', async () => {
    const limited = await createTestApp({ RATE_LIMIT_SUBMIT_PER_MINUTE: '3' });
    const c = await citizenWithEvidence(limited);
    const codes = [];
    for (let i = 0; i < 2; i++)
      codes.push((await submitReport(limited, c.token, reportBody([c.evidenceId]))).statusCode);
    // The upload in citizenWithEvidence used the evidence limit, a separate budget.
    codes.push((await submitReport(limited, c.token, reportBody([c.evidenceId]))).statusCode);
    codes.push((await submitReport(limited, c.token, reportBody([c.evidenceId]))).statusCode);
    expect(codes).toEqual([202, 202, 202, 429]);
  });
});
