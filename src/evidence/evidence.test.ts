import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  multipart,
  signInCitizen,
  staffToken,
  type TestApp,
  uploadEvidence,
} from '../../test/helpers/app.js';
import { makeJpeg, makePng, makeScene, makeVideo, mp4Head } from '../../test/helpers/media.js';
import type { LocalBlobStore } from './blob-store.js';
import { thumbnailOf } from './evidence.repository.js';
import { sniff } from './sniff.js';

let t: TestApp;
let citizen: { token: string; id: string };
beforeAll(async () => {
  t = await createTestApp({ EVIDENCE_MAX_BYTES: String(256 * 1024), RATE_LIMIT_SUBMIT_PER_MINUTE: '1000' });
  citizen = await signInCitizen(t);
});

describe('type detection by content', () => {
  it('recognises JPEG, PNG, MP4, MOV and WebM by their bytes', async () => {
    expect(sniff(await makeJpeg(64, 64))).toEqual({ kind: 'photo', mime: 'image/jpeg' });
    expect(sniff(await makePng(64, 64))).toEqual({ kind: 'photo', mime: 'image/png' });
    expect(sniff(mp4Head(64))).toEqual({ kind: 'video', mime: 'video/mp4' });
    const mov = mp4Head(64);
    mov.write('qt  ', 8, 'latin1');
    expect(sniff(mov)).toEqual({ kind: 'video', mime: 'video/quicktime' });
    const webm = Buffer.concat([
      Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84]),
      Buffer.from('webm'),
      Buffer.alloc(52),
    ]);
    expect(sniff(webm)).toEqual({ kind: 'video', mime: 'video/webm' });
    expect(sniff(Buffer.from('%PDF-1.7 not a photo at all, whatever its name says.............'))).toBeNull();
  });
});

describe('POST /v1/evidence — happy', () => {
  it('measures the picture at upload and tells the citizen when it is too dark or blurry to use', async () => {
    const sharp = (await import('sharp')).default;
    const dark = await sharp({
      create: { width: 1280, height: 720, channels: 3, background: { r: 8, g: 8, b: 10 } },
    })
      .jpeg()
      .toBuffer();
    const res = await uploadEvidence(t, citizen.token, dark);
    expect(res.statusCode).toBe(201);
    expect(res.json().media.warnings).toEqual(expect.arrayContaining(['dark', 'blurry']));
    const { rows } = await t.deps.pool.query(
      'select analyzed_at, thumb_sha256, phash from evidence where id = $1',
      [res.json().id],
    );
    expect(rows[0].analyzed_at).not.toBeNull();
    // The thumbnail is kept in PostgreSQL under its own hash, a JPEG.
    const thumb = await thumbnailOf(t.deps.pool, rows[0].thumb_sha256);
    expect(thumb?.subarray(0, 2).toString('hex')).toBe('ffd8');
    expect(createHash('sha256').update(thumb!).digest('hex')).toBe(rows[0].thumb_sha256);
    // The same bytes again: the stored measures answer, nothing is recomputed.
    const again = await uploadEvidence(t, citizen.token, dark);
    expect(again.statusCode).toBe(200);
    expect(again.json().media.warnings).toEqual(res.json().media.warnings);

    const scene = await uploadEvidence(t, citizen.token, await makeScene(1280, 720));
    expect(scene.json().media.warnings).toEqual([]);
  });

  it('reads the same facts and measures from a photo kept in memory as from one that went to a file', async () => {
    // This app keeps nothing in memory: every upload takes the file path (probe and analysis read the stored file).
    const onDisk = await createTestApp({ EVIDENCE_MEMORY_PER_UPLOAD_BYTES: '0' });
    const photo = await makeScene(1280, 720);
    const viaMemory = await uploadEvidence(t, citizen.token, photo);
    const viaFile = await uploadEvidence(onDisk, (await signInCitizen(onDisk)).token, photo);
    expect(viaMemory.statusCode).toBe(201);
    expect(viaFile.statusCode).toBe(201);
    expect(viaFile.json()).toEqual({ ...viaMemory.json(), id: viaFile.json().id });
    const columns =
      'readable, width, height, codec, sharpness, brightness, phash, thumb_sha256, analyzed_at is not null as analyzed';
    const [a, b] = await Promise.all([
      t.deps.pool.query(`select ${columns} from evidence where id = $1`, [viaMemory.json().id]),
      onDisk.deps.pool.query(`select ${columns} from evidence where id = $1`, [viaFile.json().id]),
    ]);
    expect(a.rows[0]).toEqual(b.rows[0]);
    expect(a.rows[0].analyzed).toBe(true);
    expect((t.deps.blobs as LocalBlobStore).heldInMemory).toBe(0);
  });

  it('analyses at the next upload bytes that were recorded but never analysed (a crash in between)', async () => {
    const photo = await makeScene(1024, 768);
    const first = await uploadEvidence(t, citizen.token, photo);
    const { rows } = await t.deps.pool.query(
      `update evidence set analyzed_at = null, sharpness = null, brightness = null, phash = null, thumb_sha256 = null
        where id = $1 returning (select thumb_sha256 from evidence where id = $1) as thumb`,
      [first.json().id],
    );
    await t.deps.pool.query('delete from thumbnails where sha256 = $1', [rows[0].thumb]);
    const again = await uploadEvidence(t, (await signInCitizen(t)).token, photo);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    const after = await t.deps.pool.query(
      'select analyzed_at, sharpness, phash, thumb_sha256 from evidence where id = $1',
      [first.json().id],
    );
    expect(after.rows[0]).toMatchObject({ thumb_sha256: rows[0].thumb });
    expect(after.rows[0].analyzed_at).not.toBeNull();
    expect(await thumbnailOf(t.deps.pool, rows[0].thumb)).not.toBeNull();
  });

  it('stores a photo content-addressed and returns its id, kind and size', async () => {
    const jpeg = await makeJpeg(320, 240);
    const res = await uploadEvidence(t, citizen.token, jpeg, 'IMG_0001.txt');
    expect(res.statusCode).toBe(201);
    const body = res.json();
    const sha = createHash('sha256').update(jpeg).digest('hex');
    expect(body).toMatchObject({
      kind: 'photo',
      mime: 'image/jpeg',
      bytes: jpeg.length,
      sha256: sha,
      media: { readable: true, width: 320, height: 240, durationMs: null },
    });
    const store = t.deps.blobs as LocalBlobStore;
    expect(await store.has(sha)).toBe(true);
    const chunks: Buffer[] = [];
    for await (const c of store.read(sha)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(jpeg)).toBe(true);
  });

  it('returns the same id for the same bytes, from anyone', async () => {
    const png = await makePng(100, 100);
    const first = await uploadEvidence(t, citizen.token, png);
    const again = await uploadEvidence(t, citizen.token, png);
    const other = await uploadEvidence(t, (await signInCitizen(t)).token, png);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    expect(other.json().id).toBe(first.json().id);
    const { rows } = await t.deps.pool.query('select count(*)::int as n from evidence where id = $1', [
      first.json().id,
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('accepts video by its content, and leaves its poster frame to the pipeline', async () => {
    const clip = await makeVideo({ width: 640, height: 360, seconds: 2 });
    const res = await uploadEvidence(t, citizen.token, clip, 'clip.bin');
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      kind: 'video',
      mime: 'video/mp4',
      bytes: clip.length,
      media: { readable: true, width: 640, height: 360, durationMs: 2000 },
    });
    const { rows } = await t.deps.pool.query(
      'select analyzed_at, poster_sha256 from evidence where id = $1',
      [res.json().id],
    );
    expect(rows[0]).toEqual({ analyzed_at: null, poster_sha256: null });
  });

  it('refuses a file that only starts like a video or a photo, and keeps nothing of it', async () => {
    const fakes = [
      mp4Head(8192),
      Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(4000, 9)]),
    ];
    for (const fake of fakes) {
      const res = await uploadEvidence(t, citizen.token, fake, 'clip.mp4');
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'EVIDENCE_UNREADABLE', field: 'file' });
      const sha = createHash('sha256').update(fake).digest('hex');
      expect(await t.deps.blobs.has(sha)).toBe(false);
      const { rows } = await t.deps.pool.query('select 1 from evidence where sha256 = $1', [
        Buffer.from(sha, 'hex'),
      ]);
      expect(rows).toHaveLength(0);
    }
  });
});

describe('POST /v1/evidence — errors', () => {
  it('refuses a file whose content is not a photo or video, whatever its name', async () => {
    const res = await uploadEvidence(t, citizen.token, Buffer.from('MZ'.padEnd(5000, 'x')), 'photo.jpg');
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'EVIDENCE_TYPE_UNSUPPORTED', field: 'file' });
  });

  it('refuses a file over the configured size and keeps nothing of it', async () => {
    const big = Buffer.concat([await makeJpeg(64, 64), Buffer.alloc(300 * 1024)]);
    const res = await uploadEvidence(t, citizen.token, big);
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('EVIDENCE_TOO_LARGE');
    const store = t.deps.blobs as LocalBlobStore;
    expect(await store.has(createHash('sha256').update(big).digest('hex'))).toBe(false);
  });

  it('refuses an empty file, a wrong field name and a non-multipart body', async () => {
    expect((await uploadEvidence(t, citizen.token, Buffer.alloc(0))).json().code).toBe('EVIDENCE_EMPTY');
    const mp = multipart(await makeJpeg(32, 32), 'a.jpg', 'photo');
    const wrongField = await t.app.inject({
      method: 'POST',
      url: '/v1/evidence',
      payload: mp.payload,
      headers: { ...mp.headers, ...bearer(citizen.token) },
    });
    expect(wrongField.json()).toMatchObject({ code: 'EVIDENCE_FILE_MISSING', field: 'file' });
    const json = await t.app.inject({
      method: 'POST',
      url: '/v1/evidence',
      payload: { file: 'x' },
      headers: bearer(citizen.token),
    });
    expect(json.statusCode).toBe(415);
    expect(json.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('POST /v1/evidence — security', () => {
  it('requires a signed-in citizen', async () => {
    const jpeg = await makeJpeg(32, 32);
    const mp = multipart(jpeg);
    expect(
      (await t.app.inject({ method: 'POST', url: '/v1/evidence', payload: mp.payload, headers: mp.headers }))
        .statusCode,
    ).toBe(401);
    const inspector = await staffToken(t, 'inspector');
    const res = await uploadEvidence(t, inspector, jpeg);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('FORBIDDEN');
  });

  it('rate-limits uploads per citizen', async () => {
    const limited = await createTestApp({ RATE_LIMIT_SUBMIT_PER_MINUTE: '2' });
    const who = await signInCitizen(limited);
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await uploadEvidence(limited, who.token, await makeJpeg(16, 16))).statusCode);
    expect(statuses).toEqual([201, 201, 429]);
  });
});
