import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  citizenWithEvidence,
  createTestApp,
  reportBody,
  settledReport,
  signInCitizen,
  submitReport,
  type TestApp,
  uploadEvidence,
} from '../../test/helpers/app.js';
import { makeJpeg, makeVideo } from '../../test/helpers/media.js';
import { firstBrokenLink, listEvents } from '../reports/events.js';
import { type EvidenceRef, findReport, type ReportRow } from '../reports/reports.repository.js';
import { applyTransitions } from '../reports/transition.js';
import { JOB_NAMES } from './jobs.js';
import { buildTaskList, type JobHandler } from './registry.js';
import { runBatchStage } from './runner.js';
import { checkReport, validateStage } from './stages/validate/validate.js';

const validateFor = (app: TestApp) =>
  validateStage({ reference: app.deps.reference, boundaries: app.deps.boundaries, config: app.deps.config });

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({}, { workers: true });
});

const FULL_CHAIN = ['submitted', 'validated', 'deduplicated', 'enriched', 'analyzed'];

const settled = (id: string, token: string) => settledReport(t, id, token);

async function fileAndSettle(override: Record<string, unknown> = {}) {
  const c = await citizenWithEvidence(t);
  const res = await submitReport(t, c.token, reportBody([c.evidenceId], override));
  expect(res.statusCode).toBe(202);
  return { report: await settled(res.json().id, c.token), token: c.token };
}

describe('validate stage', () => {
  it('moves a valid report through every stage to awaiting_review, enriched and prioritised', async () => {
    const { report, token } = await fileAndSettle();
    expect(report.status).toBe('awaiting_review');
    expect(report.rejection).toBeNull();
    const events = (
      await t.app.inject({ method: 'GET', url: `/v1/reports/${report.id}/events`, headers: bearer(token) })
    ).json();
    expect(events.chainValid).toBe(true);
    expect(events.events.map((e: { type: string }) => e.type)).toEqual(FULL_CHAIN);
    expect(events.events.map((e: { actor: string }) => e.actor)).toEqual([
      'citizen',
      'system:validate',
      'system:dedupe',
      'system:enrich',
      'system:analyze',
    ]);
    expect(events.events[1]).toMatchObject({ fromStatus: 'received', toStatus: 'validated' });
    expect(events.events[3].data).toMatchObject({
      region: expect.any(String),
      district: expect.any(String),
      plateRegion: expect.stringContaining('Toshkent'),
    });
    const { rows } = await t.deps.pool.query(
      'select region_id, district_id, plate_region_code, fine_sum_min, bhm_rate, sla_due_at, reporter_trust, priority, findings from reports where id = $1',
      [report.id],
    );
    expect(rows[0]).toMatchObject({
      plate_region_code: '01',
      fine_sum_min: 824000,
      bhm_rate: 412000,
      reporter_trust: 0.5,
    });
    expect(rows[0].region_id).not.toBeNull();
    expect(rows[0].district_id).not.toBeNull();
    expect(rows[0].priority).toBeGreaterThan(0);
    expect(rows[0].findings.map((f: { type: string }) => f.type)).toContain('no_camera_time');
  });

  it.each([
    ['INCIDENT_IN_FUTURE', { incidentAt: new Date(Date.now() + 3600_000).toISOString() }],
    ['FILED_TOO_LATE', { incidentAt: new Date(Date.now() - 4 * 24 * 3600_000).toISOString() }],
    ['OUTSIDE_COUNTRY', { lat: 43.2389, lon: 76.8897 }],
    ['PLATE_FORMAT_UNKNOWN', { plate: 'ABC 1234 XYZ' }],
    ['PLATE_FORMAT_UNKNOWN', { plate: '00 A 123 BC' }],
    ['VIOLATION_TYPE_INACTIVE', { violationCode: '131.1' }],
  ])('rejects with %s and says why in uz, ru and en', async (code, override) => {
    const { report, token } = await fileAndSettle(override);
    expect(report.status).toBe('rejected');
    expect(report.rejection.code).toBe(code);
    for (const lang of ['uz', 'ru', 'en']) expect(report.rejection.reason[lang].length).toBeGreaterThan(10);
    const events = (
      await t.app.inject({ method: 'GET', url: `/v1/reports/${report.id}/events`, headers: bearer(token) })
    ).json();
    expect(events.events[1]).toMatchObject({
      type: 'validation_failed',
      toStatus: 'rejected',
      data: { reasonCode: code },
    });
  });

  it('lists every failure in the event, the first one as the reason', async () => {
    const { report, token } = await fileAndSettle({ plate: 'XX', lat: 0, lon: 0 });
    expect(report.rejection.code).toBe('OUTSIDE_COUNTRY');
    const events = (
      await t.app.inject({ method: 'GET', url: `/v1/reports/${report.id}/events`, headers: bearer(token) })
    ).json();
    expect(events.events[1].data.failures.map((f: { code: string }) => f.code)).toEqual([
      'OUTSIDE_COUNTRY',
      'PLATE_FORMAT_UNKNOWN',
    ]);
  });

  it('treats a report filed just inside the window and a phone clock slightly ahead as valid', async () => {
    const { report: late } = await fileAndSettle({
      incidentAt: new Date(Date.now() - 71 * 3600_000).toISOString(),
    });
    expect(late.status).toBe('awaiting_review');
    const { report: skewed } = await fileAndSettle({
      incidentAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(skewed.status).toBe('awaiting_review');
  });

  it('running the stage again for a handled report changes nothing (idempotent)', async () => {
    const { report } = await fileAndSettle();
    await runBatchStage(t.deps.pool, 'validate', validateFor(t), 100);
    expect((await findReport(t.deps.pool, report.id))!.status).toBe('awaiting_review');
    const events = await listEvents(t.deps.pool, report.id);
    expect(events).toHaveLength(FULL_CHAIN.length);
  });

  it('two racing runs of the same stage apply exactly one transition', async () => {
    const c = await citizenWithEvidence(t);
    // Submit with the workers racing the two manual sweeps below; whichever wins, one validated event results.
    const { id } = (await submitReport(t, c.token, reportBody([c.evidenceId]))).json();
    const stage = validateFor(t);
    await Promise.all([
      runBatchStage(t.deps.pool, 'validate', stage, 100),
      runBatchStage(t.deps.pool, 'validate', stage, 100),
    ]);
    await settled(id, c.token);
    const events = await listEvents(t.deps.pool, id);
    expect(events.map((e) => e.type)).toEqual(FULL_CHAIN);
    expect(firstBrokenLink(events)).toBeNull();
  });
});

describe('validate stage on real media', () => {
  async function fileWith(content: Buffer) {
    const c = await signInCitizen(t);
    const up = await uploadEvidence(t, c.token, content);
    expect(up.statusCode).toBe(201);
    const res = await submitReport(t, c.token, reportBody([up.json().id]));
    return settled(res.json().id, c.token);
  }

  it('accepts a real 1280×720 video of a few seconds', async () => {
    expect((await fileWith(await makeVideo({ width: 1280, height: 720, seconds: 2 }))).status).toBe(
      'awaiting_review',
    );
  });

  it.each([
    ['VIDEO_TOO_SMALL', () => makeVideo({ width: 640, height: 360, seconds: 2 })],
    ['VIDEO_TOO_LONG', () => makeVideo({ width: 720, height: 480, seconds: 121, fps: 1 })],
    // (A file that is not readable media is refused at upload: src/evidence/evidence.test.ts.)
    ['PHOTO_TOO_SMALL', () => makeJpeg(320, 240)],
  ])('rejects with %s', async (code, make) => {
    const report = await fileWith(await make());
    expect(report.status).toBe('rejected');
    expect(report.rejection.code).toBe(code);
  });
});

describe('validation rules (pure)', () => {
  const base = () =>
    ({
      id: '01900000-0000-7000-8000-000000000001',
      violation_code: '128-6.1',
      plate: '01A123BC',
      lat: 41.3111,
      lon: 69.2797,
      incident_at: new Date(Date.now() - 3600_000),
      received_at: new Date(),
    }) as unknown as ReportRow;
  const photo: EvidenceRef = {
    id: 'e1',
    kind: 'photo',
    mime: 'image/jpeg',
    bytes: 10,
    readable: true,
    problem: null,
    width: 1280,
    height: 720,
    duration_ms: null,
  };
  const video: EvidenceRef = {
    ...photo,
    id: 'v1',
    kind: 'video',
    mime: 'video/mp4',
    width: 720,
    height: 480,
    duration_ms: 30_000,
  };
  const ctx = (kinds: ('photo' | 'video')[] = ['photo', 'video']) => ({
    reference: t.deps.reference,
    geo: t.deps.boundaries.current(),
    config: t.deps.config,
    allowedKinds: new Set(kinds),
  });

  it('passes a valid report', () => {
    expect(checkReport(base(), [photo], ctx())).toEqual([]);
  });

  it('requires evidence, of an accepted kind', () => {
    expect(checkReport(base(), [], ctx()).map((f) => f.code)).toEqual(['EVIDENCE_MISSING']);
    expect(checkReport(base(), [photo], ctx(['video']))).toEqual([
      { code: 'EVIDENCE_KIND_NOT_ALLOWED', detail: { kinds: ['photo'] } },
    ]);
  });

  it('checks media facts: readable, large enough, short enough, in either orientation', () => {
    const codes = (e: EvidenceRef[]) => checkReport(base(), e, ctx()).map((f) => f.code);
    expect(
      codes([photo, video, { ...photo, width: 480, height: 640 }, { ...video, width: 480, height: 720 }]),
    ).toEqual([]);
    expect(
      codes([{ ...photo, readable: false, problem: 'image decoder: bad', width: null, height: null }]),
    ).toEqual(['EVIDENCE_UNREADABLE']);
    expect(codes([{ ...photo, width: 639, height: 480 }])).toEqual(['PHOTO_TOO_SMALL']);
    expect(codes([{ ...video, width: 720, height: 479 }])).toEqual(['VIDEO_TOO_SMALL']);
    expect(codes([{ ...video, duration_ms: 120_001 }])).toEqual(['VIDEO_TOO_LONG']);
    expect(codes([{ ...video, duration_ms: 120_000 }])).toEqual([]);
  });

  it('rejects an unknown violation type', () => {
    expect(checkReport({ ...base(), violation_code: '999.9' }, [photo], ctx()).map((f) => f.code)).toEqual([
      'VIOLATION_TYPE_UNKNOWN',
    ]);
  });

  it('counts the filing window from receipt, not from when a worker gets to it', () => {
    const received = new Date(Date.now() - 10 * 24 * 3600_000);
    const r = { ...base(), received_at: received, incident_at: new Date(received.getTime() - 3600_000) };
    expect(checkReport(r, [photo], ctx())).toEqual([]);
  });
});

describe('batch sweeps', () => {
  it('parallel sweeps move every waiting report exactly once', async () => {
    // A second app whose workers are off, so only the sweeps below touch its reports.
    const quiet = await createTestApp();
    const c = await citizenWithEvidence(quiet);
    const ids: string[] = [];
    for (let i = 0; i < 60; i++)
      ids.push((await submitReport(quiet, c.token, reportBody([c.evidenceId]))).json().id);
    const stage = validateFor(quiet);
    const counts = await Promise.all(
      [1, 2, 3].map(() => runBatchStage(quiet.deps.pool, 'validate', stage, 7)),
    );
    expect(counts.reduce((a, b) => a + b, 0)).toBe(60);
    const { rows } = await quiet.deps.pool.query(
      `select count(*)::int as n, count(distinct report_id)::int as reports from report_events
        where type = 'validated' and report_id = any($1::uuid[])`,
      [ids],
    );
    expect(rows[0]).toEqual({ n: 60, reports: 60 });
    for (const id of ids.slice(0, 5))
      expect(firstBrokenLink(await listEvents(quiet.deps.pool, id))).toBeNull();
  });

  it('a stale version in a batch leaves that report alone and moves the others', async () => {
    const quiet = await createTestApp();
    const c = await citizenWithEvidence(quiet);
    const a = (await submitReport(quiet, c.token, reportBody([c.evidenceId]))).json().id;
    const b = (await submitReport(quiet, c.token, reportBody([c.evidenceId]))).json().id;
    const ra = (await findReport(quiet.deps.pool, a))!;
    const rb = (await findReport(quiet.deps.pool, b))!;
    const t = { toStatus: 'awaiting_review' as const, eventType: 'validated', actor: 'test' };
    expect([...(await applyTransitions(quiet.deps.pool, [{ report: ra, t }]))]).toEqual([a]);
    // ra is now stale (version moved on); only b moves.
    const moved = await applyTransitions(quiet.deps.pool, [
      { report: ra, t: { ...t, toStatus: 'rejected' as const, patch: { reasonCode: 'X' } } },
      { report: rb, t: { ...t, patch: { regionId: 1 } } },
    ]);
    expect([...moved]).toEqual([b]);
    expect((await findReport(quiet.deps.pool, a))!).toMatchObject({
      status: 'awaiting_review',
      reason_code: null,
      version: 2,
    });
    expect((await findReport(quiet.deps.pool, b))!).toMatchObject({
      status: 'awaiting_review',
      region_id: 1,
      version: 2,
    });
  });
});

describe('audit trail', () => {
  it('refuses to update or delete an event, and detects an altered one', async () => {
    const { report } = await fileAndSettle();
    await expect(
      t.deps.pool.query("update report_events set actor = 'x' where report_id = $1", [report.id]),
    ).rejects.toThrow(/append-only/);
    await expect(
      t.deps.pool.query('delete from report_events where report_id = $1', [report.id]),
    ).rejects.toThrow(/append-only/);
    const events = await listEvents(t.deps.pool, report.id);
    events[0]!.data = { evidenceCount: 99 };
    expect(firstBrokenLink(events)).toBe(1);
  });
});

describe('job registry', () => {
  const noop = async () => {};
  const all = (): JobHandler[] => JOB_NAMES.map((name) => ({ name, handle: noop }));

  it('refuses to start with a missing, duplicate or unknown handler', () => {
    expect(() => buildTaskList([])).toThrow(
      /no handler for job\(s\): validate, dedupe, enrich, analyze, forward, notify, payout/,
    );
    expect(() => buildTaskList(all().filter((h) => h.name !== 'enrich'))).toThrow(
      /no handler for job\(s\): enrich$/,
    );
    expect(() => buildTaskList([...all(), { name: 'validate', handle: noop }])).toThrow(
      /two handlers for job "validate"/,
    );
    expect(() => buildTaskList([...all(), { name: 'nope', handle: noop } as unknown as JobHandler])).toThrow(
      /unregistered job "nope"/,
    );
    expect(Object.keys(buildTaskList(all()))).toEqual([
      'validate',
      'dedupe',
      'enrich',
      'analyze',
      'forward',
      'notify',
      'payout',
    ]);
  });

  it('retries transient failures in place with backoff, and lets other errors through at once', async () => {
    let calls = 0;
    const flaky = buildTaskList(
      all().map((h) =>
        h.name === 'validate'
          ? {
              ...h,
              handle: async () => {
                calls++;
                if (calls < 3)
                  throw Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01' });
              },
            }
          : h,
      ),
    );
    await flaky.validate!({}, {} as never);
    expect(calls).toBe(3);

    let bugs = 0;
    const buggy = buildTaskList(
      all().map((h) =>
        h.name === 'dedupe'
          ? {
              ...h,
              handle: async () => {
                bugs++;
                throw new TypeError('undefined is not a function');
              },
            }
          : h,
      ),
    );
    await expect(buggy.dedupe!({}, {} as never)).rejects.toThrow(TypeError);
    expect(bugs).toBe(1);
  });

  it('refuses a malformed payload before the handler runs', async () => {
    let ran = false;
    const handlers = all().map((h) =>
      h.name === 'validate'
        ? {
            ...h,
            handle: async () => {
              ran = true;
            },
          }
        : h,
    );
    const tasks = buildTaskList(handlers);
    await expect(tasks.validate!({ reportId: 'not-a-uuid' }, {} as never)).rejects.toThrow(
      /malformed payload/,
    );
    expect(ran).toBe(false);
  });
});
