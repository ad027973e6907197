import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, signInCitizen, type TestApp } from '../../test/helpers/app.js';
import { makeScene } from '../../test/helpers/media.js';

/** The tus 1.0 protocol as a client speaks it (https://tus.io/protocols/resumable-upload). */
const TUS = { 'tus-resumable': '1.0.0' };
const metadata = (fields: Record<string, string>) =>
  Object.entries(fields)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    .join(',');

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ UPLOADS_OPEN_PER_CITIZEN: '3', EVIDENCE_DAILY_BYTES_PER_CITIZEN: '5000000' });
});

async function create(token: string, size: number, extra: Record<string, string> = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/tus',
    headers: {
      ...TUS,
      ...bearer(token),
      'upload-length': String(size),
      'upload-metadata': metadata({ filename: 'IMG_0042.jpg', filetype: 'image/jpeg' }),
      ...extra,
    },
  });
}

function patch(token: string, location: string, offset: number, chunk: Buffer) {
  return t.app.inject({
    method: 'PATCH',
    url: location,
    headers: {
      ...TUS,
      ...bearer(token),
      'content-type': 'application/offset+octet-stream',
      'upload-offset': String(offset),
    },
    payload: chunk,
  });
}

describe('tus 1.0 uploads', () => {
  it('answers discovery with the version, extensions and the size limit, without sign-in', async () => {
    const res = await t.app.inject({ method: 'OPTIONS', url: '/v1/tus', headers: TUS });
    expect(res.statusCode).toBe(204);
    expect(res.headers['tus-version']).toContain('1.0.0');
    expect(String(res.headers['tus-extension']).split(',')).toEqual(
      expect.arrayContaining(['creation', 'termination', 'expiration']),
    );
    expect(Number(res.headers['tus-max-size'])).toBe(t.deps.config.EVIDENCE_MAX_BYTES);
  });

  it('creates, resumes from HEAD after a lost chunk, and turns the finished file into evidence', async () => {
    const { token } = await signInCitizen(t);
    const photo = await makeScene(1280, 720);
    const created = await create(token, photo.length);
    expect(created.statusCode).toBe(201);
    const location = created.headers.location as string;
    expect(location).toMatch(/^\/v1\/tus\/[0-9a-f-]{36}$/);
    expect(created.headers['upload-expires']).toBeDefined();

    const half = Math.floor(photo.length / 2);
    expect((await patch(token, location, 0, photo.subarray(0, half))).statusCode).toBe(204);
    // The client lost the answer to its next chunk and asks where the upload stands.
    const head = await t.app.inject({ method: 'HEAD', url: location, headers: { ...TUS, ...bearer(token) } });
    expect(head.statusCode).toBe(200);
    expect(Number(head.headers['upload-offset'])).toBe(half);
    expect(Number(head.headers['upload-length'])).toBe(photo.length);
    // A chunk at the wrong offset is refused (409), the right one completes the file.
    const conflict = await patch(token, location, 0, photo.subarray(0, 10));
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().code).toBe('UPLOAD_OFFSET_MISMATCH');
    const last = await patch(token, location, half, photo.subarray(half));
    expect(last.statusCode).toBe(201);
    expect(last.headers['upload-offset']).toBe(String(photo.length));
    expect(last.json()).toMatchObject({
      kind: 'photo',
      bytes: photo.length,
      sha256: createHash('sha256').update(photo).digest('hex'),
      media: { readable: true, width: 1280, height: 720 },
    });
    // The upload is gone once it is evidence; its row too.
    expect(
      (await t.app.inject({ method: 'HEAD', url: location, headers: { ...TUS, ...bearer(token) } }))
        .statusCode,
    ).toBe(404);
    const { rows } = await t.deps.pool.query('select 1 from upload_sessions where id = $1', [
      location.split('/').pop(),
    ]);
    expect(rows).toHaveLength(0);
  });

  it('keeps uploads to their citizen, refuses what is not media at the end, and lets the owner terminate', async () => {
    const owner = await signInCitizen(t);
    const other = await signInCitizen(t);
    const junk = Buffer.alloc(5000, 'x');
    const location = (await create(owner.token, junk.length)).headers.location as string;
    for (const method of ['HEAD', 'PATCH', 'DELETE'] as const) {
      const res =
        method === 'PATCH'
          ? await patch(other.token, location, 0, junk)
          : await t.app.inject({ method, url: location, headers: { ...TUS, ...bearer(other.token) } });
      expect(res.statusCode, method).toBe(404);
    }
    const refused = await patch(owner.token, location, 0, junk);
    expect(refused.statusCode).toBe(415);
    expect(refused.json()).toMatchObject({ code: 'EVIDENCE_TYPE_UNSUPPORTED' });

    const second = (await create(owner.token, 100)).headers.location as string;
    const ended = await t.app.inject({
      method: 'DELETE',
      url: second,
      headers: { ...TUS, ...bearer(owner.token) },
    });
    expect(ended.statusCode).toBe(204);
    expect(
      (await t.app.inject({ method: 'HEAD', url: second, headers: { ...TUS, ...bearer(owner.token) } }))
        .statusCode,
    ).toBe(404);
  });

  it('refuses creation without a size, past the quota or the open uploads, and without sign-in', async () => {
    const { token } = await signInCitizen(t);
    const deferred = await create(token, 1, { 'upload-defer-length': '1', 'upload-length': '' });
    expect(deferred.statusCode).toBe(400);
    expect(deferred.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'Upload-Length' });
    const tooMuch = await create(token, 6_000_000);
    expect(tooMuch.statusCode).toBe(429);
    expect(tooMuch.json().code).toBe('EVIDENCE_QUOTA_EXCEEDED');
    expect(tooMuch.headers['retry-after']).toBeDefined();
    for (let i = 0; i < 3; i++) expect((await create(token, 1000)).statusCode).toBe(201);
    const fourth = await create(token, 1000);
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json().code).toBe('UPLOADS_OPEN_LIMIT');
    const anonymous = await t.app.inject({
      method: 'POST',
      url: '/v1/tus',
      headers: { ...TUS, 'upload-length': '10' },
    });
    expect(anonymous.statusCode).toBe(401);
  });
});
