import { describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  reportBody,
  signInCitizen,
  submitReport,
  type TestApp,
} from '../../test/helpers/app.js';
import { makeScene } from '../../test/helpers/media.js';

const chunk = (
  t: TestApp,
  token: string,
  id: string,
  offset: number,
  bytes: Buffer,
  type = 'application/offset+octet-stream',
) =>
  t.app.inject({
    method: 'PATCH',
    url: `/v1/uploads/${id}`,
    payload: bytes,
    headers: { ...bearer(token), 'content-type': type, 'upload-offset': String(offset) },
  });

describe('resumable evidence uploads', () => {
  it('takes a file in chunks, resumes from the offset it confirms, and gives the same evidence as one upload', async () => {
    const t = await createTestApp();
    const c = await signInCitizen(t);
    const photo = await makeScene(1280, 720);
    const open = await t.app.inject({
      method: 'POST',
      url: '/v1/uploads',
      headers: bearer(c.token),
      payload: { size: photo.length, filename: 'IMG_0001.jpg' },
    });
    expect(open.statusCode).toBe(201);
    const { id } = open.json();
    expect(open.headers.location).toBe(`/v1/uploads/${id}`);

    const half = Math.floor(photo.length / 2);
    const first = await chunk(t, c.token, id, 0, photo.subarray(0, half));
    expect(first.statusCode).toBe(204);
    expect(first.headers['upload-offset']).toBe(String(half));
    // The connection dropped before the client heard: it asks where the upload stands, and a retry of the same
    // chunk at the old offset is refused with the offset to continue from.
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/uploads/${id}`, headers: bearer(c.token) })).json(),
    ).toEqual({ id, offset: half, size: photo.length });
    const again = await chunk(t, c.token, id, 0, photo.subarray(0, half));
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'UPLOAD_OFFSET_MISMATCH', details: { offset: half } });
    // Past the declared size: refused, and the offset stays where it was.
    const tooLong = await chunk(
      t,
      c.token,
      id,
      half,
      Buffer.concat([photo.subarray(half), Buffer.alloc(10)]),
    );
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().code).toBe('UPLOAD_TOO_LONG');

    const last = await chunk(t, c.token, id, half, photo.subarray(half));
    expect(last.statusCode).toBe(201);
    expect(last.json()).toMatchObject({
      kind: 'photo',
      mime: 'image/jpeg',
      bytes: photo.length,
      media: { width: 1280 },
    });
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/uploads/${id}`, headers: bearer(c.token) })).statusCode,
    ).toBe(404);
    // The evidence files a report like any upload's.
    expect((await submitReport(t, c.token, reportBody([last.json().id]))).statusCode).toBe(202);
  });

  it('checks the content at the first chunk, and keeps uploads to their citizen', async () => {
    const t = await createTestApp();
    const c = await signInCitizen(t);
    const other = await signInCitizen(t);
    const open = async (size: number) =>
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/uploads',
          headers: bearer(c.token),
          payload: { size },
        })
      ).json().id as string;

    const text = Buffer.from('this is not a photo at all, just some words '.repeat(20));
    const id = await open(text.length * 2);
    const refused = await chunk(t, c.token, id, 0, text);
    expect(refused.statusCode).toBe(415);
    expect(refused.json().code).toBe('EVIDENCE_TYPE_UNSUPPORTED');
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/uploads/${id}`, headers: bearer(c.token) })).statusCode,
    ).toBe(404);

    const mine = await open(1000);
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/uploads/${mine}`, headers: bearer(other.token) }))
        .statusCode,
    ).toBe(404);
    expect((await chunk(t, other.token, mine, 0, Buffer.alloc(10))).statusCode).toBe(404);
    expect((await chunk(t, c.token, mine, 0, Buffer.alloc(10), 'text/plain')).statusCode).toBe(415);
    const big = await t.app.inject({
      method: 'POST',
      url: '/v1/uploads',
      headers: bearer(c.token),
      payload: { size: t.deps.config.EVIDENCE_MAX_BYTES + 1 },
    });
    expect(big.statusCode).toBe(400);
    expect(big.json().field).toBe('size');
  });
});
