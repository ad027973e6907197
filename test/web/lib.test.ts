import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ComponentType, createElement, Suspense } from 'react';
import { describe, expect, it } from 'vitest';
import { readCameraFacts } from '../../web/src/lib/exif.js';
import { runEventStream, type SseMessage, SseParser } from '../../web/src/lib/sse.js';
import { exifToTashkentLocal, tashkentLocalToIso, toTashkentLocal } from '../../web/src/lib/time.js';
import { makeJpeg, makeJpegWithExif, makePng, makeVideo } from '../helpers/media.js';

/**
 * The web app's own logic, without a browser: EXIF, Tashkent time, the event-stream client, prefetch, MP4 metadata.
 * The plate check as you type is tested with the server's in src/reference/plates.test.ts (one module serves both).
 */

describe('camera facts from EXIF', () => {
  const head = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;

  it('reads the time, its offset and the GPS position a phone wrote', async () => {
    const jpeg = await makeJpegWithExif({
      takenAt: '2026:03:14 09:26:53',
      offset: '+03:00',
      gps: { lat: 41.311081, lon: 69.240562 },
      camera: { make: 'Acme', model: 'Phone' },
    });
    const facts = readCameraFacts(head(jpeg))!;
    expect(facts.dateTimeOriginal).toBe('2026:03:14 09:26:53');
    expect(facts.offset).toBe('+03:00');
    expect(facts.gps!.lat).toBeCloseTo(41.311081, 4);
    expect(facts.gps!.lon).toBeCloseTo(69.240562, 4);
  });

  it('reads the time alone, and nothing from files without EXIF or not JPEG', async () => {
    const timeOnly = readCameraFacts(head(await makeJpegWithExif({ takenAt: '2026:11:27 23:59:00' })))!;
    expect(timeOnly).toEqual({ dateTimeOriginal: '2026:11:27 23:59:00', offset: null, gps: null });
    expect(readCameraFacts(head(await makeJpeg(64, 48)))?.dateTimeOriginal ?? null).toBeNull();
    expect(readCameraFacts(head(await makePng(64, 48)))).toBeNull();
    expect(readCameraFacts(new ArrayBuffer(0))).toBeNull();
    // Cut off in the middle of its EXIF block: no answer, no exception.
    const cut = await makeJpegWithExif({ takenAt: '2026:11:27 23:59:00' });
    expect(() => readCameraFacts(head(cut.subarray(0, 40)))).not.toThrow();
  });
});

describe('Tashkent time', () => {
  it('reads camera time as Tashkent time unless the camera wrote its offset', () => {
    expect(exifToTashkentLocal('2026:11:27 10:00:00', null)).toBe('2026-11-27T10:00');
    expect(exifToTashkentLocal('2026:11:27 10:00:00', '+03:00')).toBe('2026-11-27T12:00');
    expect(exifToTashkentLocal('2026:12:31 23:30:00', '-01:00')).toBe('2027-01-01T05:30');
    expect(exifToTashkentLocal('garbage', null)).toBeNull();
  });

  it('turns the form’s wall-clock value into an instant with its offset, and back', () => {
    expect(tashkentLocalToIso('2026-11-27T10:05')).toBe('2026-11-27T10:05:00+05:00');
    expect(tashkentLocalToIso('2026-11-27')).toBeNull();
    expect(toTashkentLocal(new Date('2026-11-27T05:05:00Z'))).toBe('2026-11-27T10:05');
  });
});

describe('event-stream client', () => {
  it('parses messages however the bytes are cut', () => {
    const text =
      'retry: 2000\r\n\r\n: keep-alive\n\nid: 7\nevent: report\ndata: {"a":1}\n\n' +
      'data: line one\ndata: line two\n\nid: 9\r\nevent: report\r\ndata: x\r\n\r\n';
    for (const size of [1, 2, 3, 7, text.length]) {
      const parser = new SseParser();
      const got: SseMessage[] = [];
      for (let i = 0; i < text.length; i += size) got.push(...parser.push(text.slice(i, i + size)));
      expect(got, `chunks of ${size}`).toEqual([
        { id: '7', event: 'report', data: '{"a":1}' },
        { id: '7', event: 'message', data: 'line one\nline two' },
        { id: '9', event: 'report', data: 'x' },
      ]);
      expect(parser.retry).toBe(2000);
    }
  });

  it('reconnects after a drop and resumes from Last-Event-ID', async () => {
    const seenIds: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seenIds.push(req.headers['last-event-id'] as string | undefined);
      expect(req.headers.authorization).toBe('Bearer t0ken');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (seenIds.length === 1) {
        res.end(
          'retry: 10\n\nid: 1\nevent: report\ndata: {"n":1}\n\nid: 2\nevent: report\ndata: {"n":2}\n\n',
        );
      } else {
        res.write('id: 3\nevent: report\ndata: {"n":3}\n\n');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const abort = new AbortController();
    const got: string[] = [];
    const states: string[] = [];
    const done = runEventStream({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/me/events`,
      headers: () => ({ authorization: 'Bearer t0ken' }),
      signal: abort.signal,
      onState: (s) => states.push(s),
      onMessage: (m) => {
        got.push(m.data);
        if (got.length === 3) abort.abort();
      },
    });
    await done;
    server.closeAllConnections();
    server.close();
    expect(got).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(seenIds).toEqual([undefined, '2']);
    expect(states.filter((s) => s === 'open')).toHaveLength(2);
  });

  it('stops for good when the token is refused', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"TOKEN_INVALID"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let refused = 0;
    await runEventStream({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      headers: () => ({}),
      signal: new AbortController().signal,
      onRefused: (status) => {
        refused = status;
      },
      onMessage: () => {},
    });
    server.close();
    expect(refused).toBe(401);
  });

  it('reconnects at once with a fresh token when the refusal is TOKEN_EXPIRED and the token was refreshed', async () => {
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(String(req.headers.authorization));
      if (req.headers.authorization !== 'Bearer fresh') {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"TOKEN_EXPIRED"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: 1\nevent: report\ndata: {"n":1}\n\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let token = 'stale';
    const codes: string[] = [];
    const abort = new AbortController();
    await runEventStream({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      headers: () => ({ authorization: `Bearer ${token}` }),
      signal: abort.signal,
      onRefused: async (_status, code) => {
        codes.push(code);
        token = 'fresh';
        return true;
      },
      onMessage: () => abort.abort(),
    });
    server.closeAllConnections();
    server.close();
    expect(codes).toEqual(['TOKEN_EXPIRED']);
    expect(seen).toEqual(['Bearer stale', 'Bearer fresh']);
  });
});

describe('reads started before the page asks (prefetch)', () => {
  it('hands the early response to the first matching call only, and its failure too', async () => {
    const { api, CITIZEN_JSON, prefetch } = await import('../../web/src/api/client.js');
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.url!);
      const status = req.url === '/broken' ? 500 : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { n: seen.length } : { code: 'INTERNAL', message: 'no' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      prefetch(`${base}/a`, CITIZEN_JSON);
      prefetch(`${base}/a`, CITIZEN_JSON); // started once
      prefetch(`${base}/broken`, CITIZEN_JSON);
      expect(await api(`${base}/a`)).toEqual({ n: expect.any(Number) });
      expect(seen.filter((u) => u === '/a')).toHaveLength(1);
      // The next call is the page's own: a fresh request.
      await api(`${base}/a`);
      expect(seen.filter((u) => u === '/a')).toHaveLength(2);
      // A POST to the same path never takes a prefetched GET.
      prefetch(`${base}/a`, CITIZEN_JSON);
      await api(`${base}/a`, { method: 'POST', body: {} });
      expect(seen.filter((u) => u === '/a')).toHaveLength(4);
      await expect(api(`${base}/broken`)).rejects.toMatchObject({ status: 500, code: 'INTERNAL' });
      expect(seen.filter((u) => u === '/broken')).toHaveLength(1);
    } finally {
      server.close();
    }
  });
});

describe('a split-off page loaded before its first render (preloadable)', () => {
  it('renders at once once loaded, suspends before, and loads again after a failure', async () => {
    const { preloadable } = await import('../../web/src/app/preload.js');
    const { renderToString } = await import('react-dom/server');
    const page = (text: string) => ({ default: () => createElement('p', null, text) });
    const inSuspense = (c: ComponentType) =>
      renderToString(
        createElement(Suspense, { fallback: createElement('i', null, 'waiting') }, createElement(c)),
      );

    let calls = 0;
    const early = preloadable(async () => {
      calls++;
      return page('the page');
    });
    await Promise.all([early.load(), early.load()]);
    expect(calls).toBe(1);
    // React.lazy alone would suspend here: its first render throws even when the import is done.
    expect(inSuspense(early.Component)).toContain('the page');
    expect(inSuspense(early.Component)).not.toContain('waiting');

    const late = preloadable(async () => page('late page'));
    expect(inSuspense(late.Component)).toContain('waiting');

    let fail = true;
    const flaky = preloadable(async () => {
      if (fail) throw new Error('chunk failed to load');
      return page('second try');
    });
    await expect(flaky.load()).rejects.toThrow('chunk failed to load');
    fail = false;
    await flaky.load();
    expect(inSuspense(flaky.Component)).toContain('second try');
  });
});

describe('a video’s own time and place (MP4 movie header)', () => {
  it('reads the recording time and the ISO 6709 position, with the index after or before the media', async () => {
    const { readVideoFacts } = await import('../../web/src/lib/mp4.js');
    for (const faststart of [false, true]) {
      const clip = await makeVideo({
        width: 320,
        height: 240,
        seconds: 1,
        creationTime: '2026-11-20T08:15:30Z',
        location: '+41.3111+069.2797/',
        faststart,
      });
      // The index is where ffmpeg put it: at the end by default, at the front with faststart.
      const moovAt = clip.indexOf('moov');
      expect(moovAt < clip.indexOf('mdat')).toBe(faststart);
      const facts = await readVideoFacts(new Blob([new Uint8Array(clip)]));
      expect(facts?.createdAt?.toISOString()).toBe('2026-11-20T08:15:30.000Z');
      // ffmpeg writes a 3GPP `loci` box: 16.16 fixed point, truncated (within 2 m).
      expect(facts?.gps?.lat).toBeCloseTo(41.3111, 4);
      expect(facts?.gps?.lon).toBeCloseTo(69.2797, 4);
    }
  });

  it('reads a phone’s ©xyz position and a 64-bit movie header, and skips a 64-bit media box', async () => {
    const { readVideoFacts } = await import('../../web/src/lib/mp4.js');
    const box = (type: string, ...body: Buffer[]) => {
      const content = Buffer.concat(body);
      const head = Buffer.alloc(8);
      head.writeUInt32BE(8 + content.length);
      head.write(type, 4, 'latin1');
      return Buffer.concat([head, content]);
    };
    const mvhd = Buffer.alloc(4 + 8 + 8);
    mvhd.writeUInt8(1, 0); // version 1: 64-bit times
    mvhd.writeBigUInt64BE(BigInt(Date.UTC(2026, 10, 21, 6, 0, 0) / 1000 + 2_082_844_800), 4);
    const text = Buffer.from('+41.2995+069.2401+440.000/', 'latin1');
    const item = Buffer.alloc(4);
    item.writeUInt16BE(text.length);
    // mdat with a 64-bit size (size field 1), as cameras write for files over 4 GB.
    const media = Buffer.alloc(16 + 32);
    media.writeUInt32BE(1);
    media.write('mdat', 4, 'latin1');
    media.writeBigUInt64BE(BigInt(media.length), 8);
    const file = Buffer.concat([
      box('ftyp', Buffer.from('qt  \0\0\0\0qt  ', 'latin1')),
      media,
      box('moov', box('mvhd', mvhd), box('udta', box('\u00a9xyz', item, text))),
    ]);
    expect(await readVideoFacts(new Blob([new Uint8Array(file)]))).toEqual({
      createdAt: new Date('2026-11-21T06:00:00Z'),
      gps: { lat: 41.2995, lon: 69.2401 },
    });
  });

  it('says nothing for a clip without them, and null for WebM, a photo, a cut or empty file', async () => {
    const { readVideoFacts, parseIso6709 } = await import('../../web/src/lib/mp4.js');
    const plain = await makeVideo({ width: 320, height: 240, seconds: 1 });
    expect(await readVideoFacts(new Blob([new Uint8Array(plain)]))).toEqual({ createdAt: null, gps: null });
    const webm = await makeVideo({ width: 320, height: 240, seconds: 1, format: 'webm' });
    for (const other of [webm, await makeJpeg(), plain.subarray(0, 2000), Buffer.alloc(0)])
      expect(await readVideoFacts(new Blob([new Uint8Array(other)]))).toBeNull();
    expect(parseIso6709('-33.8688+151.2093+058.000/')).toEqual({ lat: -33.8688, lon: 151.2093 });
    expect(parseIso6709('+00.0000+000.0000/')).toBeNull();
    expect(parseIso6709('+95.0+069.0/')).toBeNull();
    expect(parseIso6709('somewhere')).toBeNull();
  });
});
