import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  reportBody,
  reviewableReport,
  settledReport,
  signInCitizen,
  staffMember,
  type TestApp,
  until,
  uploadEvidence,
} from '../../test/helpers/app.js';
import { makeVideo, mediaTools } from '../../test/helpers/media.js';
import sharp from '../evidence/sharp.js';

/** The APPn and COM segments of a JPEG, e.g. ['APP0:JFIF', 'APP1:Exif'], read from its markers. */
function jpegMetadataSegments(jpeg: Buffer): string[] {
  expect(jpeg.subarray(0, 2).equals(Buffer.from([0xff, 0xd8]))).toBe(true);
  const found: string[] = [];
  let i = 2;
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff) {
    const marker = jpeg[i + 1]!;
    if (marker === 0xda) break;
    const length = jpeg.readUInt16BE(i + 2);
    if ((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe) {
      const name = marker === 0xfe ? 'COM' : `APP${marker - 0xe0}`;
      found.push(`${name}:${jpeg.toString('latin1', i + 4, i + 4 + 4)}`);
    }
    i += 2 + length;
  }
  return found;
}

async function ffprobe(file: Buffer): Promise<{ format: { tags?: object }; streams: { tags?: object }[] }> {
  const { ffprobe } = await mediaTools();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-probe-'));
  try {
    const p = path.join(dir, 'file');
    await writeFile(p, file);
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        ffprobe,
        ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', p],
        (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)),
      ),
    );
    return JSON.parse(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A fine checkerboard (so a blurred region shows) as a phone writes it: EXIF with GPS and camera, and XMP. */
async function reporterPhoto(): Promise<Buffer> {
  const squares: string[] = [];
  for (let y = 0; y < 720; y += 8)
    for (let x = (y / 8) % 2 ? 8 : 0; x < 1280; x += 16)
      squares.push(`<rect x="${x}" y="${y}" width="8" height="8"/>`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="720"><rect width="100%" height="100%" fill="#fff"/><g fill="#000">${squares.join('')}</g><text x="${Math.random() * 900}" y="600" font-size="90" fill="red">${Math.random()}</text></svg>`;
  return sharp(Buffer.from(svg))
    .jpeg({ quality: 90 })
    .withExif({
      IFD0: { Make: 'Reporterphone', Model: 'RP-1' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '41/1 17/1 5820/100',
        GPSLongitudeRef: 'E',
        GPSLongitude: '69/1 14/1 2436/100',
      },
    })
    .withXmp(
      '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Reporterphone"/></rdf:RDF></x:xmpmeta>',
    )
    .toBuffer();
}

/** The first frame of a video, as PNG. */
async function firstFrame(video: Buffer): Promise<Buffer> {
  const { ffmpeg } = await mediaTools();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-frame-'));
  try {
    const p = path.join(dir, 'in');
    await writeFile(p, video);
    return await new Promise<Buffer>((resolve, reject) =>
      execFile(
        ffmpeg,
        ['-v', 'error', '-i', p, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', '-'],
        { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) =>
          err ? reject(new Error(stderr.toString() || err.message)) : resolve(stdout),
      ),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let t: TestApp;
let inspector: { token: string; id: string };
const LOCATION_TAG = '+41.2995+069.2401/';

beforeAll(async () => {
  t = await createTestApp(
    { RATE_LIMIT_FINE_LOOKUP_PER_MINUTE: '1000', RATE_LIMIT_FINE_LOOKUP_PER_PLATE_PER_HOUR: '1000' },
    {
      workers: 'validate:1,dedupe:1,enrich:1,analyze:1,forward:1',
      gov: { fineAfterMs: 50, payAfterMs: null },
    },
  );
  inspector = await staffMember(t, 'inspector');
}, 60_000);

/** A report with an EXIF-GPS photo and a tagged video, reviewed, forwarded and fined by the registry simulator. */
async function finedCase() {
  const citizen = await signInCitizen(t);
  const photo = await reporterPhoto();
  const video = await makeVideo({
    width: 1280,
    height: 720,
    seconds: 2,
    creationTime: new Date().toISOString(),
    location: LOCATION_TAG,
  });
  // The fixtures do carry what must not reach the driver, or the scans below would prove nothing.
  expect(jpegMetadataSegments(photo)).toEqual(expect.arrayContaining(['APP1:Exif', 'APP1:http']));
  expect(JSON.stringify((await ffprobe(video)).format.tags)).toContain('+41.2995');
  const photoId = (await uploadEvidence(t, citizen.token, photo, 'p.jpg')).json().id;
  const videoId = (await uploadEvidence(t, citizen.token, video, 'v.mp4')).json().id;
  const body = reportBody([photoId, videoId]);
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/reports',
    payload: body,
    headers: bearer(citizen.token),
  });
  expect(res.statusCode).toBe(202);
  const report = await settledReport(t, res.json().id, citizen.token);
  expect(report.status).toBe('awaiting_review');
  await t.app.inject({ method: 'POST', url: '/v1/review/next', headers: bearer(inspector.token) });
  const decided = await t.app.inject({
    method: 'POST',
    url: `/v1/review/${report.id}/decision`,
    headers: bearer(inspector.token),
    payload: { decision: 'approve' },
  });
  expect(decided.statusCode).toBe(200);
  const ruling = await until(
    'the registry to fine the report',
    async () =>
      (await t.deps.pool.query('select ruling_number from reports where id = $1', [report.id])).rows[0]
        ?.ruling_number as string | null,
    20_000,
  );
  return {
    id: report.id as string,
    citizen,
    plate: body.plate,
    ruling,
    photoId,
    videoId,
    description: body.description,
  };
}

const lookup = (body: object, remoteAddress = '127.0.0.1') =>
  t.app.inject({ method: 'POST', url: '/v1/fines/lookup', payload: body, remoteAddress });

describe("the driver's case view", () => {
  it('shows the case and its evidence with no trace of the reporter, staff or camera', async () => {
    const c = await finedCase();
    const served: { what: string; body: Buffer }[] = [];

    // The plate as the driver types it, the ruling number with a space.
    const found = await lookup({
      plate: c.plate.toLowerCase(),
      rulingNumber: `${c.ruling.slice(0, 4)} ${c.ruling.slice(4)}`,
    });
    expect(found.statusCode).toBe(200);
    served.push({ what: 'lookup', body: found.rawPayload });
    const { caseToken, case: view } = found.json();
    expect(view).toMatchObject({
      rulingNumber: c.ruling,
      violation: { code: '128-6.1' },
      status: 'fined',
      penaltyPoints: 1,
      place: { lat: 41.3111, lon: 69.2797 },
    });
    expect(view.fine.amountSum).toBeGreaterThan(0);
    expect(Date.parse(view.fine.payBy) - Date.parse(view.fine.ruledAt)).toBe(30 * 86_400_000);
    expect(Date.parse(view.appealableUntil) - Date.parse(view.fine.ruledAt)).toBe(10 * 86_400_000);
    expect(view.appealable).toBe(true);
    expect(view.evidence.map((e: { kind: string }) => e.kind)).toEqual(['photo', 'video']);

    const read = await t.app.inject({
      method: 'GET',
      url: '/v1/fines/case',
      headers: { 'x-case-token': caseToken },
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(view);
    served.push({ what: 'case', body: read.rawPayload });

    const file = (id: string, headers: Record<string, string> = {}) =>
      t.app.inject({
        method: 'GET',
        url: `/v1/fines/case/evidence/${id}?case=${encodeURIComponent(caseToken)}`,
        headers,
      });

    // Nothing marked: the photo is the reporter's own pixels without its metadata, the video re-muxed.
    const photo = await file(c.photoId);
    expect(photo.statusCode).toBe(200);
    expect(photo.headers['content-type']).toBe('image/jpeg');
    expect(jpegMetadataSegments(photo.rawPayload).filter((s) => !s.startsWith('APP0:JFIF'))).toEqual([]);
    const original = (
      await t.deps.pool.query("select encode(sha256, 'hex') as sha from evidence where id = $1", [c.photoId])
    ).rows[0].sha;
    expect(photo.headers.etag).not.toContain(original);
    served.push({ what: 'photo', body: photo.rawPayload });

    const video = await file(c.videoId);
    expect(video.statusCode).toBe(200);
    expect(video.headers['content-type']).toBe('video/mp4');
    expect(video.headers['accept-ranges']).toBe('bytes');
    const probed = await ffprobe(video.rawPayload);
    expect(probed.streams.map((s) => (s as { codec_name?: string }).codec_name)).toContain('h264');
    for (const tags of [probed.format.tags ?? {}, ...probed.streams.map((s) => s.tags ?? {})]) {
      expect(Object.keys(tags)).not.toContain('location');
      expect(Object.keys(tags)).not.toContain('creation_time');
      expect(JSON.stringify(tags)).not.toMatch(/Lavf|location|\+41\.2995/i);
    }
    served.push({ what: 'video', body: video.rawPayload });

    // Range, as a <video> element asks.
    const part = await file(c.videoId, { range: 'bytes=0-99' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-99/${video.rawPayload.length}`);
    expect(part.rawPayload.equals(video.rawPayload.subarray(0, 100))).toBe(true);
    expect(part.headers.etag).toBe(video.headers.etag);
    expect((await file(c.videoId, { 'if-none-match': String(video.headers.etag) })).statusCode).toBe(304);

    // An inspector marks a bystander on both; the driver's copies are now re-encoded with the region blurred.
    const regions = [{ x: 0.1, y: 0.1, w: 0.3, h: 0.3 }];
    for (const id of [c.photoId, c.videoId]) {
      const marked = await t.app.inject({
        method: 'PUT',
        url: `/v1/review/${c.id}/evidence/${id}/redactions`,
        headers: bearer(inspector.token),
        payload: { regions },
      });
      expect(marked.statusCode).toBe(200);
      expect(marked.json().regions).toHaveLength(1);
    }
    const detail = await t.app.inject({
      method: 'GET',
      url: `/v1/review/${c.id}`,
      headers: bearer(inspector.token),
    });
    expect(detail.json().evidence.map((e: { redactions: unknown[] }) => e.redactions)).toEqual([
      [{ x: expect.closeTo(0.1), y: expect.closeTo(0.1), w: expect.closeTo(0.3), h: expect.closeTo(0.3) }],
      [{ x: expect.closeTo(0.1), y: expect.closeTo(0.1), w: expect.closeTo(0.3), h: expect.closeTo(0.3) }],
    ]);
    const blurredPhoto = await file(c.photoId);
    expect(blurredPhoto.statusCode).toBe(200);
    expect(blurredPhoto.headers.etag).not.toBe(photo.headers.etag);
    expect(jpegMetadataSegments(blurredPhoto.rawPayload).filter((s) => !s.startsWith('APP0:JFIF'))).toEqual(
      [],
    );
    // The marked region lost its detail; the rest of the picture kept it.
    // (stats() reads its input, not the pipeline's output: the crop is made first.)
    const stdev = async (img: Buffer, left: number, top: number) =>
      (
        await sharp(
          await sharp(img).extract({ left, top, width: 300, height: 150 }).greyscale().png().toBuffer(),
        ).stats()
      ).channels[0]!.stdev;
    expect(await stdev(blurredPhoto.rawPayload, 200, 100)).toBeLessThan(
      (await stdev(photo.rawPayload, 200, 100)) / 3,
    );
    expect(await stdev(blurredPhoto.rawPayload, 800, 450)).toBeGreaterThan(
      (await stdev(photo.rawPayload, 800, 450)) / 2,
    );
    served.push({ what: 'blurred photo', body: blurredPhoto.rawPayload });

    const blurredVideo = await file(c.videoId);
    expect(blurredVideo.statusCode).toBe(200);
    expect(blurredVideo.headers.etag).not.toBe(video.headers.etag);
    const reprobed = await ffprobe(blurredVideo.rawPayload);
    for (const tags of [reprobed.format.tags ?? {}, ...reprobed.streams.map((s) => s.tags ?? {})])
      expect(JSON.stringify(tags)).not.toMatch(/Lavf|location|creation_time|\+41\.2995/i);
    const [before, after] = await Promise.all([
      firstFrame(video.rawPayload),
      firstFrame(blurredVideo.rawPayload),
    ]);
    // The test pattern has wide colour bars a blur keeps: what the region loses is its edges (sharpness).
    const sharpness = async (img: Buffer, left: number, top: number) =>
      (await sharp(await sharp(img).extract({ left, top, width: 300, height: 150 }).png().toBuffer()).stats())
        .sharpness;
    expect(await sharpness(after, 200, 100)).toBeLessThan((await sharpness(before, 200, 100)) / 3);
    expect(await sharpness(after, 800, 450)).toBeGreaterThan((await sharpness(before, 800, 450)) / 2);
    served.push({ what: 'blurred video', body: blurredVideo.rawPayload });

    // Every body and file the driver got: no reporter, no staff member, no camera, no EXIF/XMP/GPS.
    const phoneDigits = c.citizen.phone.replace(/\D/g, '');
    const needles = [
      c.citizen.id,
      phoneDigits,
      phoneDigits.slice(-9),
      inspector.id,
      c.description,
      'Reporterphone',
      'Exif\0\0',
      'http://ns.adobe.com/xap',
      'GPSLatitude',
      LOCATION_TAG,
      'Lavf',
    ];
    for (const { what, body } of served) {
      const text = body.toString('latin1');
      for (const needle of needles)
        expect(text.includes(needle), `${what} contains ${JSON.stringify(needle)}`).toBe(false);
    }
    for (const key of ['citizenId', 'phone', 'reporter', 'description', 'inspector', 'staff', 'reviewedBy'])
      expect(JSON.stringify(view)).not.toContain(key);
  }, 90_000);

  it('says until when the case can be appealed, and that it cannot once appealed or past the window', async () => {
    const c = await finedCase();
    const found = await lookup({ plate: c.plate, rulingNumber: c.ruling });
    const { caseToken, case: view } = found.json();
    const token = { 'x-case-token': caseToken };
    const read = async () =>
      (await t.app.inject({ method: 'GET', url: '/v1/fines/case', headers: token })).json();
    expect(view.appealable).toBe(true);

    // Past the window (the ruling 10 days and a minute ago): the deadline moves with it and the API agrees.
    await t.deps.pool.query(
      "update reports set fined_at = now() - interval '10 days 1 minute' where id = $1",
      [c.id],
    );
    const late = await read();
    expect(late.appealable).toBe(false);
    expect(Date.parse(late.appealableUntil)).toBeLessThan(Date.now());
    expect(Date.parse(late.appealableUntil) - Date.parse(late.fine.ruledAt)).toBe(10 * 86_400_000);
    const closed = await t.app.inject({
      method: 'POST',
      url: '/v1/fines/case/appeal/phone',
      headers: token,
      payload: { phone: '+998901112244' },
    });
    expect(closed.json().code).toBe('APPEAL_WINDOW_CLOSED');

    // Back inside the window, the driver appeals once: the case is no longer appealable.
    await t.deps.pool.query("update reports set fined_at = now() - interval '1 day' where id = $1", [c.id]);
    expect((await read()).appealable).toBe(true);
    const phone = '+998901112244';
    const sent = await t.app.inject({
      method: 'POST',
      url: '/v1/fines/case/appeal/phone',
      headers: token,
      payload: { phone },
    });
    expect(sent.statusCode).toBe(202);
    const code = /\b(\d{6})\b/.exec(t.deps.smsSimulator!.outbox(phone)[0]?.text ?? '')?.[1];
    const filed = await t.app.inject({
      method: 'POST',
      url: '/v1/fines/case/appeal',
      headers: token,
      payload: { text: 'It was not my car at that time.', attachmentIds: [], phone, code },
    });
    expect(filed.statusCode).toBe(201);
    const after = await read();
    expect(after.appealable).toBe(false);
    expect(after.appealableUntil).not.toBeNull();
  }, 90_000);

  it('answers an unknown ruling and a wrong plate alike, and a token opens its own case only', async () => {
    const c = await finedCase();
    const unknown = await lookup({ plate: c.plate, rulingNumber: '999999999999' });
    const wrongPlate = await lookup({ plate: '01 A 000 ZZ', rulingNumber: c.ruling });
    for (const r of [unknown, wrongPlate]) {
      expect(r.statusCode).toBe(404);
      expect(r.json().code).toBe('FINE_NOT_FOUND');
    }
    const { requestId: _a, ...a } = unknown.json();
    const { requestId: _b, ...b } = wrongPlate.json();
    expect(a).toEqual(b);
    expect(unknown.headers['content-length']).toBe(wrongPlate.headers['content-length']);

    const token = (await lookup({ plate: c.plate, rulingNumber: c.ruling })).json().caseToken;
    const other = await reviewableReport(t);
    const foreign = await t.app.inject({
      method: 'GET',
      url: `/v1/fines/case/evidence/${other.evidenceId}`,
      headers: { 'x-case-token': token },
    });
    expect(foreign.statusCode).toBe(404);
    const noToken = await t.app.inject({ method: 'GET', url: `/v1/fines/case/evidence/${c.photoId}` });
    expect(noToken.statusCode).toBe(401);
    const forged = await t.app.inject({
      method: 'GET',
      url: '/v1/fines/case',
      headers: { 'x-case-token': `${token.split('.')[0]}.${Buffer.alloc(32).toString('base64url')}` },
    });
    expect(forged.statusCode).toBe(401);
  }, 90_000);

  it('refuses a region outside the picture and a driver at the redaction route', async () => {
    const r = await reviewableReport(t);
    const outside = await t.app.inject({
      method: 'PUT',
      url: `/v1/review/${r.id}/evidence/${r.evidenceId}/redactions`,
      headers: bearer(inspector.token),
      payload: { regions: [{ x: 0.8, y: 0.1, w: 0.5, h: 0.1 }] },
    });
    expect(outside.statusCode).toBe(400);
    expect(outside.json().field).toBe('regions/0');
  });
});

describe('look-up rate limits', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await createTestApp({
      RATE_LIMIT_FINE_LOOKUP_PER_MINUTE: '3',
      RATE_LIMIT_FINE_LOOKUP_PER_PLATE_PER_HOUR: '2',
    });
  });
  const try_ = (plate: string, remoteAddress: string) =>
    limited.app.inject({
      method: 'POST',
      url: '/v1/fines/lookup',
      payload: { plate, rulingNumber: '123456789012' },
      remoteAddress,
    });

  it('limits one plate from any address, and one address over any plates', async () => {
    expect((await try_('01A123BC', '10.0.0.1')).statusCode).toBe(404);
    expect((await try_('01 a 123 bc', '10.0.0.2')).statusCode).toBe(404);
    const plate = await try_('01A123BC', '10.0.0.3');
    expect(plate.statusCode).toBe(429);
    expect(plate.json().code).toBe('RATE_LIMITED');

    for (const p of ['10B111AA', '10B222AA', '10B333AA'])
      expect((await try_(p, '10.0.0.9')).statusCode).toBe(404);
    expect((await try_('10B444AA', '10.0.0.9')).statusCode).toBe(429);
  });
});
