import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createTestApp,
  reportBody,
  settledReport,
  signInCitizen,
  submitReport,
  type TestApp,
  uploadEvidence,
} from '../../test/helpers/app.js';
import { jpegBomb, pngBomb, randomAfterFtyp, videoBomb } from '../../test/helpers/bombs.js';
import { makeJpeg, makeScene, makeVideo } from '../../test/helpers/media.js';
import { cleanUpEvidence } from './cleanup.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Nothing of a refused file is kept: no blob, no row. */
async function keptNothing(t: TestApp, content: Buffer): Promise<void> {
  expect(await t.deps.blobs.has(sha(content))).toBe(false);
  const { rows } = await t.deps.pool.query('select 1 from evidence where sha256 = $1', [
    Buffer.from(sha(content), 'hex'),
  ]);
  expect(rows).toHaveLength(0);
}

describe('hostile evidence is refused from its headers, before any decoding', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp({
      EVIDENCE_MAX_INTERLACED_PIXELS: '100000',
      VIDEO_MAX_STREAMS: '4',
      DECODE_LARGE_PIXELS: '1000000',
    });
    token = (await signInCitizen(t)).token;
  });

  it('refuses photos over EVIDENCE_MAX_PIXELS (PNG and JPEG) and large interlaced PNGs, naming the limit', async () => {
    const cases: [Buffer, string][] = [
      [
        await pngBomb({ width: 16383, height: 16383, bitDepth: 16, interlaced: true, complete: false }),
        'pixels',
      ],
      [await jpegBomb({ width: 16000, height: 16000, progressive: true }), 'pixels'],
      [await jpegBomb({ width: 65000, height: 65000 }), 'pixels'],
      [
        await sharp(await makeJpeg(400, 400))
          .png({ progressive: true })
          .toBuffer(),
        'interlaced_pixels',
      ],
    ];
    for (const [content, limit] of cases) {
      const res = await uploadEvidence(t, token, content);
      expect(res.statusCode, limit).toBe(422);
      expect(res.json()).toMatchObject({
        code: 'EVIDENCE_LIMITS_EXCEEDED',
        field: 'file',
        details: { limit },
      });
      await keptNothing(t, content);
    }
    // The same picture not interlaced is an ordinary photo.
    const plain = await sharp(await makeJpeg(400, 400))
      .png()
      .toBuffer();
    expect((await uploadEvidence(t, token, plain)).statusCode).toBe(201);
  });

  it('refuses videos over the side, length and stream limits, and codecs outside the allow-list', async () => {
    const cases: [Buffer, number, string, string | null][] = [
      [await videoBomb('huge-frame-mov', { side: 5000 }), 422, 'EVIDENCE_LIMITS_EXCEEDED', 'side'],
      [await videoBomb('long-duration', { hours: 1 }), 422, 'EVIDENCE_LIMITS_EXCEEDED', 'seconds'],
      [await videoBomb('many-streams-mp4', { streams: 6 }), 422, 'EVIDENCE_LIMITS_EXCEEDED', 'streams'],
      [await videoBomb('unsupported-codec', { codec: 'png' }), 415, 'EVIDENCE_CODEC_UNSUPPORTED', null],
      [randomAfterFtyp(256 * 1024), 422, 'EVIDENCE_UNREADABLE', null],
    ];
    for (const [content, status, code, limit] of cases) {
      const res = await uploadEvidence(t, token, content);
      expect(res.statusCode, code).toBe(status);
      expect(res.json()).toMatchObject({ code, field: 'file', ...(limit ? { details: { limit } } : {}) });
      await keptNothing(t, content);
    }
  });

  it('leaves a large photo to the pipeline: the upload answers without decoding it', async () => {
    const decode = vi.spyOn(t.deps.media.images, 'run');
    const large = vi.spyOn(t.deps.media.large, 'run');
    const res = await uploadEvidence(t, token, await makeScene(1600, 900));
    expect(res.statusCode).toBe(201);
    expect(res.json().media).toMatchObject({ readable: true, width: 1600, height: 900 });
    expect(decode).not.toHaveBeenCalled();
    expect(large).not.toHaveBeenCalled();
    const { rows } = await t.deps.pool.query('select analyzed_at from evidence where id = $1', [
      res.json().id,
    ]);
    expect(rows[0].analyzed_at).toBeNull();
    // The analyze stage measures it, in the gate of its own.
    const { analyzeAndStore } = await import('./analysis.js');
    const analysis = await analyzeAndStore(t.deps.pool, t.deps.media, t.deps.blobs, {
      id: res.json().id,
      sha256: res.json().sha256,
      kind: 'photo',
      duration_ms: null,
    });
    expect(analysis?.sharpness).toBeGreaterThan(0);
    expect(large).toHaveBeenCalledTimes(1);
    expect(decode).not.toHaveBeenCalled();
    decode.mockRestore();
    large.mockRestore();
  });

  it('decodes the same bytes once, however often they are uploaded', async () => {
    const photo = await makeScene(800, 600);
    const decode = vi.spyOn(t.deps.media.images, 'run');
    const first = await uploadEvidence(t, token, photo);
    const again = await uploadEvidence(t, (await signInCitizen(t)).token, photo);
    expect([first.statusCode, again.statusCode]).toEqual([201, 200]);
    expect(again.json()).toEqual(first.json());
    expect(decode).toHaveBeenCalledTimes(1);
    decode.mockRestore();
  });
});

describe('a video decode stopped at its limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({}, { workers: true });
  });
  afterEach(() => {
    t.deps.media.limits.tool.timeoutMs = 30_000;
  });

  it('becomes a finding for the inspector, not a hung worker or a failed report', async () => {
    const citizen = await signInCitizen(t);
    const up = await uploadEvidence(
      t,
      citizen.token,
      await makeVideo({ width: 1280, height: 720, seconds: 2 }),
    );
    expect(up.statusCode).toBeLessThan(300);
    // The upload only probed it; the poster frame is the pipeline's, and this one will be killed at once.
    t.deps.media.limits.tool.timeoutMs = 1;
    const res = await submitReport(t, citizen.token, reportBody([up.json().id]));
    expect(res.statusCode).toBe(202);
    const report = await settledReport(t, res.json().id, citizen.token);
    expect(report.status, JSON.stringify(report)).toBe('awaiting_review');
    const { rows } = await t.deps.pool.query('select findings from reports where id = $1', [report.id]);
    expect(rows[0].findings).toContainEqual({
      type: 'evidence_unreadable',
      severity: 'warning',
      evidenceId: up.json().id,
      detail: { reason: 'analysis: evidence could not be read safely (timeout)' },
    });
  });

  it('and an ordinary video gets its poster frame and measures in the pipeline', async () => {
    const citizen = await signInCitizen(t);
    const clip = await videoBomb('huge-frame-mov', { side: 1600 });
    const up = await uploadEvidence(t, citizen.token, clip);
    expect(up.statusCode).toBeLessThan(300);
    const res = await submitReport(t, citizen.token, reportBody([up.json().id]));
    const report = await settledReport(t, res.json().id, citizen.token);
    expect(report.status).toBe('awaiting_review');
    const { rows } = await t.deps.pool.query(
      'select poster_sha256, sharpness, thumb_sha256, problem from evidence where id = $1',
      [up.json().id],
    );
    expect(rows[0].problem).toBeNull();
    expect(rows[0].poster_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].thumb_sha256).toMatch(/^[0-9a-f]{64}$/);
    // Scaled while decoding: the poster is at most 1280 px, whatever the video's size.
    const poster = await sharp(await readBlob(t, rows[0].poster_sha256)).metadata();
    expect(Math.max(poster.width!, poster.height!)).toBe(1280);
  });
});

async function readBlob(t: TestApp, hex: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of t.deps.blobs.read(hex)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('quotas per citizen', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ EVIDENCE_DAILY_BYTES_PER_CITIZEN: '400000', UPLOADS_OPEN_PER_CITIZEN: '2' });
  });

  it('refuses uploads past the daily bytes with 429 and Retry-After, and keeps nothing of them', async () => {
    const { token } = await signInCitizen(t);
    const photo = () => makeJpeg(640, 480);
    let accepted = 0;
    let refused: { status: number; code: string; retry: string | undefined; content: Buffer } | null = null;
    for (let i = 0; i < 20 && !refused; i++) {
      const content = Buffer.concat([await photo(), Buffer.alloc(60_000)]);
      const res = await uploadEvidence(t, token, content);
      if (res.statusCode === 201) accepted++;
      else
        refused = {
          status: res.statusCode,
          code: res.json().code,
          retry: res.headers['retry-after'] as string | undefined,
          content,
        };
    }
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toMatchObject({ status: 429, code: 'EVIDENCE_QUOTA_EXCEEDED' });
    expect(Number(refused!.retry)).toBeGreaterThan(80_000);
    await keptNothing(t, refused!.content);
    // Another citizen has a quota of their own.
    expect((await uploadEvidence(t, (await signInCitizen(t)).token, await photo())).statusCode).toBe(201);
  });

  it('counts open resumable uploads at their declared size, and limits how many are open', async () => {
    const { token } = await signInCitizen(t);
    const open = (size: number) =>
      t.app.inject({ method: 'POST', url: '/v1/uploads', headers: bearer(token), payload: { size } });
    const tooBig = await open(500_000);
    expect(tooBig.statusCode).toBe(429);
    expect(tooBig.json().code).toBe('EVIDENCE_QUOTA_EXCEEDED');
    expect((await open(1000)).statusCode).toBe(201);
    expect((await open(1000)).statusCode).toBe(201);
    const third = await open(1000);
    expect(third.statusCode).toBe(429);
    expect(third.json()).toMatchObject({ code: 'UPLOADS_OPEN_LIMIT', details: { open: 2, max: 2 } });
    expect(third.headers['retry-after']).toBeDefined();
  });

  it('checks the content once the first 64 bytes are in, whatever the chunks, and refuses an empty chunk request', async () => {
    const { token } = await signInCitizen(t);
    const opened = await t.app.inject({
      method: 'POST',
      url: '/v1/uploads',
      headers: bearer(token),
      payload: { size: 100_000 },
    });
    const url = `/v1/uploads/${opened.json().id}`;
    const chunk = (offset: number, payload: Buffer) =>
      t.app.inject({
        method: 'PATCH',
        url,
        headers: {
          ...bearer(token),
          'content-type': 'application/offset+octet-stream',
          'upload-offset': String(offset),
        },
        payload,
      });
    const empty = await t.app.inject({
      method: 'PATCH',
      url,
      headers: { ...bearer(token), 'upload-offset': '0' },
    });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body' });
    expect((await chunk(0, Buffer.from('MZ junk'))).statusCode).toBe(204);
    const rest = await chunk(7, Buffer.alloc(4096, 'x'));
    expect(rest.statusCode).toBe(415);
    expect(rest.json().code).toBe('EVIDENCE_TYPE_UNSUPPORTED');
    expect((await t.app.inject({ method: 'GET', url, headers: bearer(token) })).statusCode).toBe(404);
  });
});

describe('the clean-up of evidence no report refers to', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  it('deletes unfiled evidence after EVIDENCE_UNFILED_HOURS with its thumbnail, keeps filed evidence, ends expired uploads', async () => {
    const { token } = await signInCitizen(t);
    const unfiledPhoto = await makeScene(640, 480);
    const unfiled = (await uploadEvidence(t, token, unfiledPhoto)).json();
    const filedPhoto = await makeScene(640, 480);
    const filed = (await uploadEvidence(t, token, filedPhoto)).json();
    expect((await submitReport(t, token, reportBody([filed.id]))).statusCode).toBe(202);
    const opened = await t.app.inject({
      method: 'POST',
      url: '/v1/uploads',
      headers: bearer(token),
      payload: { size: 5000 },
    });
    const part = path.join(t.deps.config.JARIMA_DATA_DIR, 'uploads', `${opened.json().id}.part`);
    await writeFile(part, Buffer.alloc(100));
    await t.deps.pool.query(`update upload_sessions set expires_at = now() - interval '1 minute'`);
    const thumb = (await t.deps.pool.query('select thumb_sha256 from evidence where id = $1', [unfiled.id]))
      .rows[0].thumb_sha256;

    // Not yet: uploaded less than EVIDENCE_UNFILED_HOURS ago.
    const early = await cleanUpEvidence({
      pool: t.deps.pool,
      blobs: t.deps.blobs,
      dataDir: t.deps.config.JARIMA_DATA_DIR,
      unfiledHours: 24,
    });
    expect(early).toEqual({ evidence: 0, bytes: 0, uploadSessions: 1 });
    await expect(import('node:fs/promises').then((fs) => fs.stat(part))).rejects.toThrow();

    const later = await cleanUpEvidence({
      pool: t.deps.pool,
      blobs: t.deps.blobs,
      dataDir: t.deps.config.JARIMA_DATA_DIR,
      unfiledHours: 24,
      now: Date.now() + 25 * 3_600_000,
    });
    expect(later).toEqual({ evidence: 1, bytes: unfiledPhoto.length, uploadSessions: 0 });
    expect(await t.deps.blobs.has(unfiled.sha256)).toBe(false);
    expect(await t.deps.blobs.has(filed.sha256)).toBe(true);
    const rows = await t.deps.pool.query('select id from evidence where id = any($1::uuid[])', [
      [unfiled.id, filed.id],
    ]);
    expect(rows.rows.map((r) => r.id)).toEqual([filed.id]);
    expect(
      (await t.deps.pool.query('select 1 from thumbnails where sha256 = $1', [thumb])).rows,
    ).toHaveLength(0);
    // Uploading the same bytes again makes new evidence.
    const again = await uploadEvidence(t, token, unfiledPhoto);
    expect(again.statusCode).toBe(201);
    expect(again.json().id).not.toBe(unfiled.id);
  });
});
