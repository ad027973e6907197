import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  reportBody,
  settledReport,
  signInCitizen,
  submitReport,
  type TestApp,
  uploadEvidence,
} from '../../test/helpers/app.js';
import { makeJpeg, makeJpegWithExif, makeScene } from '../../test/helpers/media.js';
import { thumbnailOf } from '../evidence/evidence.repository.js';
import { reporterTrust } from './stages/enrich/enrich.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({}, { workers: true });
});

const settled = (id: string, token: string) => settledReport(t, id, token);

async function file(token: string, content: Buffer | string, over: Record<string, unknown> = {}) {
  const evidenceId =
    typeof content === 'string' ? content : (await uploadEvidence(t, token, content)).json().id;
  const res = await submitReport(t, token, reportBody([evidenceId], over));
  expect(res.statusCode).toBe(202);
  return { ...(await settled(res.json().id, token)), evidenceId };
}

const row = async (id: string) =>
  (await t.deps.pool.query('select * from reports where id = $1', [id])).rows[0];
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

describe('dedupe', () => {
  it('the same evidence bytes in a later report make it a duplicate of the first', async () => {
    const a = await signInCitizen(t);
    const b = await signInCitizen(t);
    const jpeg = await makeJpeg(1280, 720);
    const first = await file(a.token, jpeg);
    const second = await file(b.token, jpeg);
    expect(first.status).toBe('awaiting_review');
    expect(second.status).toBe('duplicate');
    expect(second.rejection.code).toBe('DUPLICATE_EVIDENCE');
    expect((await row(second.id)).duplicate_of).toBe(first.id);
  });

  it('the same plate and violation within 150 m and 10 min is a duplicate; farther or later is not', async () => {
    const c = await signInCitizen(t);
    const plate = '30 K 321 MN';
    const base = { plate, lat: 39.6542, lon: 66.9597, incidentAt: minutesAgo(60) };
    const first = await file(c.token, await makeJpeg(), base);
    const near = await file(c.token, await makeJpeg(), { ...base, lat: 39.6551, incidentAt: minutesAgo(55) }); // ~100 m, 5 min
    const far = await file(c.token, await makeJpeg(), { ...base, lat: 39.6562 }); // ~220 m
    const later = await file(c.token, await makeJpeg(), { ...base, incidentAt: minutesAgo(45) }); // 15 min
    const otherType = await file(c.token, await makeJpeg(), { ...base, violationCode: '128-4.2' });
    expect(first.status).toBe('awaiting_review');
    expect(near.status).toBe('duplicate');
    expect(near.rejection.code).toBe('DUPLICATE_REPORT');
    expect((await row(near.id)).duplicate_of).toBe(first.id);
    expect([far.status, later.status, otherType.status]).toEqual([
      'awaiting_review',
      'awaiting_review',
      'awaiting_review',
    ]);
  });

  it('a rejected earlier report does not make a corrected resubmission a duplicate', async () => {
    const c = await signInCitizen(t);
    const jpeg = await makeJpeg(1280, 720);
    const wrong = await file(c.token, jpeg, { plate: 'NOT A PLATE' });
    expect(wrong.status).toBe('rejected');
    const fixed = await file(c.token, wrong.evidenceId);
    expect(fixed.status).toBe('awaiting_review');
  });
});

describe('enrich', () => {
  it('scores reporter trust from their decided reports, smoothed', async () => {
    const c = await signInCitizen(t);
    expect((await reporterTrust(t.deps.pool, [c.id])).get(c.id)).toBeUndefined();
    const jpeg = await makeJpeg();
    await file(c.token, jpeg);
    await file(c.token, jpeg); // duplicate of the first: counts against
    const trust = (await reporterTrust(t.deps.pool, [c.id])).get(c.id);
    expect(trust).toBeCloseTo(1 / 3, 3);
  });

  it('records the fine at the incident-date BHM and the forwarding deadline', async () => {
    const c = await signInCitizen(t);
    const incidentAt = minutesAgo(120);
    const report = await file(c.token, await makeJpeg(), { violationCode: '128-4.2', incidentAt });
    const r = await row(report.id);
    expect(r).toMatchObject({ fine_bhm_min: 3, bhm_rate: 412000, fine_sum_min: 1236000 });
    expect(r.sla_due_at.toISOString()).toBe(new Date(Date.parse(incidentAt) + 48 * 3600_000).toISOString());
  });
});

describe('analyze', () => {
  it('flags camera time and place that disagree with the claim', async () => {
    const c = await signInCitizen(t);
    // Camera says 10:00 Tashkent time in Samarkand; the claim says Tashkent two hours later.
    const claimed = new Date(Date.now() - 60 * 60_000);
    const camera = new Date(claimed.getTime() - 2 * 3600_000 + 5 * 3600_000); // as Tashkent wall-clock
    const stamp = camera.toISOString().slice(0, 19).replace('T', ' ').replace(/-/g, ':');
    const jpeg = await makeJpegWithExif({ takenAt: stamp, gps: { lat: 39.6542, lon: 66.9597 } });
    const report = await file(c.token, jpeg, { incidentAt: claimed.toISOString() });
    expect(report.status).toBe('awaiting_review');
    const findings = (await row(report.id)).findings as { type: string; detail?: Record<string, number> }[];
    expect(findings.find((f) => f.type === 'time_mismatch')?.detail?.minutes).toBe(120);
    expect(findings.find((f) => f.type === 'place_mismatch')?.detail?.meters).toBeGreaterThan(200_000);
  });

  it('accepts camera time and place that agree, and stores thumbnails and picture measures', async () => {
    const c = await signInCitizen(t);
    const claimed = new Date(Date.now() - 30 * 60_000);
    const local = new Date(claimed.getTime() + 5 * 3600_000)
      .toISOString()
      .slice(0, 19)
      .replace('T', ' ')
      .replace(/-/g, ':');
    const report = await file(
      c.token,
      await makeJpegWithExif({ takenAt: local, gps: { lat: 41.3112, lon: 69.2798 } }),
      {
        incidentAt: claimed.toISOString(),
      },
    );
    const findings = ((await row(report.id)).findings as { type: string }[]).map((f) => f.type);
    expect(findings).not.toContain('time_mismatch');
    expect(findings).not.toContain('place_mismatch');
    const { rows } = await t.deps.pool.query(
      'select sharpness, brightness, phash, thumb_sha256 from evidence where id = $1',
      [report.evidenceId],
    );
    expect(rows[0].phash).toMatch(/^[01]{64}$/);
    expect(rows[0].sharpness).toBeGreaterThan(0);
    // The thumbnail is kept in PostgreSQL under its own hash, a JPEG.
    const thumb = await thumbnailOf(t.deps.pool, rows[0].thumb_sha256);
    expect(thumb?.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(createHash('sha256').update(thumb!).digest('hex')).toBe(rows[0].thumb_sha256);
  });

  it('flags dark and blurry pictures, and near-identical images in another report', async () => {
    const sharp = (await import('sharp')).default;
    const dark = await sharp({
      create: { width: 1280, height: 720, channels: 3, background: { r: 8, g: 8, b: 10 } },
    })
      .jpeg()
      .toBuffer();
    const a = await signInCitizen(t);
    const darkReport = await file(a.token, dark);
    const types = ((await row(darkReport.id)).findings as { type: string }[]).map((f) => f.type);
    expect(types).toEqual(expect.arrayContaining(['dark', 'blurry']));

    // The same scene re-encoded: other bytes (so not an exact duplicate), same picture.
    const scene = await makeScene();
    const reencoded = await sharp(scene).jpeg({ quality: 60 }).toBuffer();
    const first = await file(a.token, scene, { plate: '40 C 111 DD' });
    const b = await signInCitizen(t);
    const second = await file(b.token, reencoded, { plate: '40 C 222 DD' });
    expect(second.status).toBe('awaiting_review');
    const near = (
      (await row(second.id)).findings as { type: string; detail?: { otherReportId: string } }[]
    ).find((f) => f.type === 'near_identical');
    expect(near?.detail?.otherReportId).toBe(first.id);
  });

  it('looks for near-identical images at the same incident, and in the citizen’s own reports wherever claimed', async () => {
    const sharp = (await import('sharp')).default;
    const nearOf = async (id: string) =>
      ((await row(id)).findings as { type: string; detail?: { otherReportId: string } }[])
        .filter((f) => f.type === 'near_identical')
        .map((f) => f.detail?.otherReportId);
    const scene = await makeScene();
    const copy = (quality: number) => sharp(scene).jpeg({ quality }).toBuffer();
    const a = await signInCitizen(t);
    const b = await signInCitizen(t);
    const at = { lat: 41.35, lon: 69.3, incidentAt: minutesAgo(60), plate: '40 C 333 DD' };
    const first = await file(a.token, scene, at);
    // Another citizen, 5 km away and three hours earlier: not the same incident, not looked for.
    const elsewhere = await file(b.token, await copy(70), {
      ...at,
      lat: 41.395,
      incidentAt: minutesAgo(240),
      plate: '40 C 334 DD',
    });
    expect(await nearOf(elsewhere.id)).toEqual([]);
    // Another citizen 200 m away and 20 minutes later: the same incident, flagged.
    const witness = await file(b.token, await copy(65), {
      ...at,
      lat: 41.3518,
      incidentAt: minutesAgo(40),
      plate: '40 C 335 DD',
    });
    expect(await nearOf(witness.id)).toContain(first.id);
    // The first citizen files the picture again, for another place and time: flagged against their own report.
    const again = await file(a.token, await copy(60), {
      ...at,
      lat: 41.25,
      lon: 69.2,
      incidentAt: minutesAgo(300),
      plate: '40 C 336 DD',
    });
    expect(await nearOf(again.id)).toEqual([first.id]);
  });

  it('analyses evidence the upload left unanalysed (a crash or an outage in between)', async () => {
    const c = await signInCitizen(t);
    const upload = await uploadEvidence(t, c.token, await makeScene());
    const evidenceId = upload.json().id;
    await t.deps.pool.query(
      `update evidence set analyzed_at = null, sharpness = null, brightness = null, phash = null,
              thumb_sha256 = null where id = $1`,
      [evidenceId],
    );
    const report = await file(c.token, evidenceId);
    expect(report.status).toBe('awaiting_review');
    const { rows } = await t.deps.pool.query(
      'select analyzed_at, sharpness, phash, thumb_sha256 from evidence where id = $1',
      [evidenceId],
    );
    expect(rows[0].analyzed_at).not.toBeNull();
    expect(rows[0].sharpness).toBeGreaterThan(0);
    expect(rows[0].phash).toMatch(/^[01]{64}$/);
    // The thumbnail is kept in PostgreSQL under its own hash, a JPEG.
    const thumb = await thumbnailOf(t.deps.pool, rows[0].thumb_sha256);
    expect(thumb?.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(createHash('sha256').update(thumb!).digest('hex')).toBe(rows[0].thumb_sha256);
  });

  it('orders by priority: a heavier violation outranks a lighter one, all else equal', async () => {
    const c = await signInCitizen(t);
    const light = await file(c.token, await makeJpeg(), { violationCode: '128.1' }); // 1 BHM
    const heavy = await file(c.token, await makeJpeg(), { violationCode: '128-10.1' }); // 25 BHM
    expect((await row(heavy.id)).priority).toBeGreaterThan((await row(light.id)).priority);
  });
});
