import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg, makeJpegWithExif, makePng, makeVideo, testMedia } from '../../test/helpers/media.js';
import { exifDate, parseIso6709, probeMedia } from './probe.js';
import { sniff } from './sniff.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-probe-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function probe(content: Buffer, name: string) {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return probeMedia(await testMedia(), file, sniff(content.subarray(0, 64))!);
}

describe('probing photos', () => {
  it('reads size, EXIF time (Tashkent local unless an offset is given), GPS and camera', async () => {
    const facts = await probe(
      await makeJpegWithExif({
        width: 1600,
        height: 900,
        takenAt: '2026:11:27 10:00:00',
        gps: { lat: 41.3111, lon: 69.2797 },
        camera: { make: 'Xiaomi', model: 'Redmi Note 12' },
      }),
      'exif.jpg',
    );
    expect(facts).toMatchObject({
      readable: true,
      width: 1600,
      height: 900,
      codec: 'jpeg',
      camera: 'Xiaomi Redmi Note 12',
    });
    expect(facts.takenAt?.toISOString()).toBe('2026-11-27T05:00:00.000Z');
    expect(facts.gpsLat).toBeCloseTo(41.3111, 3);
    expect(facts.gpsLon).toBeCloseTo(69.2797, 3);
    const offset = await probe(
      await makeJpegWithExif({ takenAt: '2026:11:27 10:00:00', offset: '+03:00' }),
      'offset.jpg',
    );
    expect(offset.takenAt?.toISOString()).toBe('2026-11-27T07:00:00.000Z');
  });

  it('reads a photo without EXIF, and a PNG', async () => {
    expect(await probe(await makeJpeg(800, 600), 'plain.jpg')).toMatchObject({
      readable: true,
      width: 800,
      height: 600,
      takenAt: null,
      gpsLat: null,
    });
    expect(await probe(await makePng(640, 480), 'p.png')).toMatchObject({
      readable: true,
      width: 640,
      height: 480,
      codec: 'png',
    });
  });

  it('marks a file that only starts like a JPEG as unreadable, without throwing', async () => {
    const fake = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 7)]);
    const facts = await probe(fake, 'fake.jpg');
    expect(facts.readable).toBe(false);
    expect(facts.problem).toMatch(/image decoder/);
  });
});

describe('probing videos', () => {
  it('reads size, duration, codec, creation time and location of an MP4', async () => {
    const mp4 = await makeVideo({
      width: 1280,
      height: 720,
      seconds: 3,
      creationTime: '2026-11-27T05:00:00Z',
      location: '+41.3111+069.2797/',
    });
    const facts = await probe(mp4, 'clip.mp4');
    expect(facts).toMatchObject({ readable: true, width: 1280, height: 720, codec: 'h264' });
    expect(facts.durationMs).toBeGreaterThanOrEqual(2900);
    expect(facts.durationMs).toBeLessThanOrEqual(3100);
    expect(facts.takenAt?.toISOString()).toBe('2026-11-27T05:00:00.000Z');
    expect(facts.gpsLat).toBeCloseTo(41.3111, 3);
  });

  it('reads a WebM', async () => {
    const webm = await makeVideo({ width: 720, height: 480, seconds: 2, format: 'webm' });
    expect(sniff(webm.subarray(0, 64))).toEqual({ kind: 'video', mime: 'video/webm' });
    expect(await probe(webm, 'clip.webm')).toMatchObject({
      readable: true,
      width: 720,
      height: 480,
      codec: 'vp8',
    });
  });

  it('marks a truncated or fake video as unreadable, without throwing', async () => {
    const mp4 = await makeVideo({ width: 720, height: 480, seconds: 2 });
    const cut = await probe(mp4.subarray(0, Math.floor(mp4.length / 3)), 'cut.mp4');
    expect(cut.readable).toBe(false);
    const fake = Buffer.concat([
      Buffer.from([0, 0, 0, 0x20]),
      Buffer.from('ftypisom'),
      Buffer.alloc(4000, 1),
    ]);
    const facts = await probe(fake, 'fake.mp4');
    expect(facts.readable).toBe(false);
    expect(facts.problem).toBeTruthy();
  });
});

describe('parsing helpers', () => {
  it('parses EXIF stamps and ISO 6709 locations, refusing nonsense', () => {
    expect(exifDate('2025:08:01 00:30:00')?.toISOString()).toBe('2025-07-31T19:30:00.000Z');
    expect(exifDate('0000:00:00 00:00:00')).toBeNull();
    expect(exifDate('yesterday')).toBeNull();
    expect(parseIso6709('+41.3111+069.2797+420.000/')).toEqual({ lat: 41.3111, lon: 69.2797 });
    expect(parseIso6709('+95.0+069.0/')).toBeNull();
    expect(parseIso6709(undefined)).toBeNull();
  });
});
