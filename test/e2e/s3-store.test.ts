import { access } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { S3BlobStore } from '../../src/evidence/s3-blob-store.js';
import {
  bearer,
  createTestApp,
  reportBody,
  settledReport,
  signInCitizen,
  staffMember,
  submitReport,
  uploadEvidence,
} from '../helpers/app.js';
import { makeScene, makeVideo } from '../helpers/media.js';
import { listKeys, startTestS3 } from '../helpers/s3.js';

const s3 = await startTestS3();

it('takes evidence into an S3 bucket, runs the pipeline on it, and serves it back with ranges', async () => {
  const photo = await makeScene(1280, 720);
  const video = await makeVideo({ width: 1280, height: 720, seconds: 2 });
  expect(video.length).toBeGreaterThan(photo.length);
  // The photo fits in memory (probed and analysed from there); the video does not, so it goes through the spool.
  const t = await createTestApp(
    { ...s3.env, EVIDENCE_MEMORY_PER_UPLOAD_BYTES: String(photo.length) },
    { workers: true },
  );
  expect(t.deps.blobs).toBeInstanceOf(S3BlobStore);
  const citizen = await signInCitizen(t);
  const photoUp = await uploadEvidence(t, citizen.token, photo, 'scene.jpg');
  const videoUp = await uploadEvidence(t, citizen.token, video, 'clip.mp4');
  expect(photoUp.statusCode, photoUp.body).toBe(201);
  expect(videoUp.statusCode, videoUp.body).toBe(201);
  expect(videoUp.json().media).toMatchObject({ readable: true, width: 1280, height: 720 });

  const filed = await submitReport(t, citizen.token, reportBody([photoUp.json().id, videoUp.json().id]));
  expect(filed.statusCode, filed.body).toBe(202);
  const report = await settledReport(t, filed.json().id, citizen.token);
  expect(report.status).toBe('awaiting_review');

  // Everything is in the bucket, nothing in the data directory but the (empty) spool.
  const stored = (await listKeys(s3.client, s3.bucket, s3.prefix)).map((k) => path.posix.basename(k));
  expect(stored).toContain(photoUp.json().sha256);
  expect(stored).toContain(videoUp.json().sha256);
  const poster = await t.deps.pool.query<{ poster: string }>(
    `select poster_sha256 as poster from evidence where id = $1`,
    [videoUp.json().id],
  );
  expect(stored).toContain(poster.rows[0]!.poster);
  await expect(access(path.join(t.deps.config.JARIMA_DATA_DIR, 'blobs'))).rejects.toThrow();

  const inspector = await staffMember(t, 'inspector');
  const detail = await t.app.inject({
    method: 'POST',
    url: '/v1/review/next',
    headers: bearer(inspector.token),
  });
  expect(detail.statusCode, detail.body).toBe(200);
  const evidence = detail.json().evidence as {
    kind: string;
    urls: { original: string; poster: string | null };
  }[];
  const get = (url: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers: { ...bearer(inspector.token), ...headers } });

  const photoUrls = evidence.find((e) => e.kind === 'photo')!.urls;
  const whole = await get(photoUrls.original);
  expect(whole.statusCode).toBe(200);
  expect(whole.rawPayload.equals(photo)).toBe(true);

  const videoUrls = evidence.find((e) => e.kind === 'video')!.urls;
  for (const [start, end] of [
    [0, 0],
    [100, 1123],
    [video.length - 1, video.length - 1],
  ] as const) {
    const part = await get(videoUrls.original, { range: `bytes=${start}-${end}` });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes ${start}-${end}/${video.length}`);
    expect(part.rawPayload.equals(video.subarray(start, end + 1))).toBe(true);
  }
  const posterFrame = await get(videoUrls.poster!);
  expect(posterFrame.statusCode).toBe(200);
  expect(posterFrame.rawPayload.subarray(0, 2).toString('hex')).toBe('ffd8');
}, 60_000);
