import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { matchPlate, normalisePlate as serverNormalise } from '../../src/reference/plates.js';
import { readCameraFacts } from '../../web/src/lib/exif.js';
import {
  checkPlate,
  compilePlateRules,
  formatPlate,
  normalisePlate,
  type PlateFormatsFile,
} from '../../web/src/lib/plate.js';
import { runEventStream, type SseMessage, SseParser } from '../../web/src/lib/sse.js';
import { exifToTashkentLocal, tashkentLocalToIso, toTashkentLocal } from '../../web/src/lib/time.js';
import { makeJpeg, makeJpegWithExif, makePng } from '../helpers/media.js';

/** The web app's own logic, without a browser: plate checking, EXIF, Tashkent time, the event-stream client. */

const formats = JSON.parse(
  readFileSync(new URL('../../data/uz-plate-formats.json', import.meta.url), 'utf8'),
) as PlateFormatsFile;
const rules = compilePlateRules(formats);

describe('plate check as you type', () => {
  it('agrees with the server on every plate of a generated corpus', () => {
    const letters = 'ABCDEHKMOPTXYZ';
    const pick = (s: string) => s[Math.floor(Math.random() * s.length)]!;
    const digits = (n: number) => Array.from({ length: n }, () => pick('0123456789')).join('');
    const corpus = [
      ...formats.formats.map((f) => f.example),
      '01 а 777 aa',
      'т 123456',
      '00A123BC',
      'CMD1234567',
      ...Array.from({ length: 3000 }, () => {
        const shape = pick('LDX');
        const len = 5 + Math.floor(Math.random() * 6);
        return Array.from({ length: len }, (_, i) =>
          shape === 'D' && i < 2 ? pick('0123456789') : pick(`${letters}0123456789`),
        ).join('');
      }),
      ...Array.from(
        { length: 500 },
        () => `${digits(2)}${pick(letters)}${digits(3)}${pick(letters)}${pick(letters)}`,
      ),
    ];
    for (const input of corpus) {
      expect(normalisePlate(input), input).toBe(serverNormalise(input));
      const server = matchPlate(serverNormalise(input));
      const web = checkPlate(rules, input);
      expect(web.state === 'valid', input).toBe(server !== null);
      if (web.state === 'valid' && server) expect(web.format, input).toBe(server.format);
    }
  });

  it('tells a plate still being typed from one that cannot become a plate', () => {
    const state = (s: string) => checkPlate(rules, s).state;
    expect(state('')).toBe('empty');
    for (const p of [
      '0',
      '01',
      '01 A',
      '01 A 7',
      '01 A 777',
      '01 A 777 A',
      'T',
      'T12',
      'CMD',
      'CMD12',
      '01 H 12',
    ])
      expect(state(p), p).toBe('partial');
    for (const p of ['ZZ', 'A1', '00', '01 A 777 AAA', 'T1234567', '01 AB', 'CMDX'])
      expect(state(p), p).toBe('invalid');
    expect(checkPlate(rules, '01 а 777 aa')).toMatchObject({
      state: 'valid',
      normalised: '01A777AA',
      format: 'private',
      regionName: 'Toshkent shahri (Tashkent city)',
    });
    expect(checkPlate(rules, '80 123 ABC')).toMatchObject({
      state: 'valid',
      format: 'legal',
      regionName: 'Buxoro',
    });
  });

  it('prints a stored plate as it is written on the plate', () => {
    expect(formatPlate(rules, '01A777AA')).toBe('01 A 777 AA');
    expect(formatPlate(rules, '01123ABC')).toBe('01 123 ABC');
    expect(formatPlate(rules, 'T123456')).toBe('T 123456');
    expect(formatPlate(rules, 'WHATEVER')).toBe('WHATEVER');
  });
});

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
