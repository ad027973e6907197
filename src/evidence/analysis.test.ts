import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { makeScene } from '../../test/helpers/media.js';
import { dHashOf, lumaOf, pictureMeasures, rendering } from './analysis.js';

/** The default EVIDENCE_MAX_PIXELS. */
const MAX_PIXELS = 50_000_000;

const distance = (a: string, b: string) => [...a].filter((bit, i) => bit !== b[i]).length;

describe('picture measures', () => {
  it('renders upright, at most 320 px on the long side, always as RGB with its BT.601 luma', async () => {
    expect([...lumaOf(Buffer.from([100, 0, 0, 25, 25, 25, 0, 0, 255, 255, 255, 255]))]).toEqual([
      30, 25, 29, 255,
    ]);
    // EXIF orientation 6 (rotate 90°): a 800×600 file is a 600×800 picture.
    const rotated = await sharp({ create: { width: 800, height: 600, channels: 3, background: '#204060' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const grey = await sharp({ create: { width: 700, height: 500, channels: 3, background: '#808080' } })
      .toColourspace('b-w')
      .jpeg()
      .toBuffer();
    const small = await sharp({ create: { width: 100, height: 50, channels: 4, background: '#0a141e80' } })
      .png()
      .toBuffer();
    const cases: [Buffer, number, number][] = [
      [rotated, 240, 320],
      [grey, 320, 229],
      [small, 100, 50], // never enlarged
    ];
    for (const [file, width, height] of cases) {
      const r = await rendering(file, MAX_PIXELS);
      expect([r.width, r.height]).toEqual([width, height]);
      expect(r.rgb.length).toBe(width * height * 3);
      expect([...r.grey.subarray(0, 4)]).toEqual([...lumaOf(r.rgb.subarray(0, 12))]);
    }
    const g = await rendering(grey, MAX_PIXELS);
    expect([...g.rgb.subarray(0, 3)]).toEqual([g.grey[0], g.grey[0], g.grey[0]]);
  });

  it('scores a blurred copy less sharp and a darkened copy darker, and hashes re-encodings alike', async () => {
    const scene = await makeScene(1280, 720);
    const original = await rendering(scene, MAX_PIXELS);
    const blurred = await rendering(await sharp(scene).blur(6).jpeg().toBuffer(), MAX_PIXELS);
    const darker = await rendering(await sharp(scene).linear(0.3, 0).jpeg().toBuffer(), MAX_PIXELS);
    const m = (r: typeof original) => pictureMeasures(r.grey, r.width, r.height);
    expect(m(blurred).sharpness).toBeLessThan(m(original).sharpness / 4);
    expect(m(darker).brightness).toBeLessThan(m(original).brightness * 0.4);

    const hash = (r: typeof original) => dHashOf(r.grey, r.width, r.height);
    const reencoded = await rendering(
      await sharp(scene).resize(1000).jpeg({ quality: 50 }).toBuffer(),
      MAX_PIXELS,
    );
    const other = await rendering(await makeScene(1280, 720), MAX_PIXELS);
    expect(distance(hash(original), hash(reencoded))).toBeLessThanOrEqual(6);
    expect(distance(hash(original), hash(other))).toBeGreaterThan(6);
  });

  it('measures and hashes exactly as the per-pixel definitions do, at any size', () => {
    // The definitions, pixel by pixel: every pixel's cell looked up, the Laplacian over the inner pixels.
    const reference = (px: Uint8Array, w: number, h: number) => {
      const cells = new Float64Array(72);
      const counts = new Float64Array(72);
      let total = 0;
      let sum = 0;
      let sumSq = 0;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const c = Math.min(7, Math.floor((y * 8) / h)) * 9 + Math.min(8, Math.floor((x * 9) / w));
          cells[c]! += px[y * w + x]!;
          counts[c]!++;
          total += px[y * w + x]!;
          if (x > 0 && y > 0 && x < w - 1 && y < h - 1) {
            const i = y * w + x;
            const l = px[i - w]! + px[i + w]! + px[i - 1]! + px[i + 1]! - 4 * px[i]!;
            sum += l;
            sumSq += l * l;
          }
        }
      let bits = '';
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) {
          const a = y * 9 + x;
          bits +=
            cells[a]! / Math.max(1, counts[a]!) > cells[a + 1]! / Math.max(1, counts[a + 1]!) ? '1' : '0';
        }
      const n = Math.max(0, w - 2) * Math.max(0, h - 2);
      return {
        hash: bits,
        brightness: total / px.length,
        sharpness: n ? sumSq / n - (sum / n) ** 2 : 0,
      };
    };
    for (const [w, h] of [
      [320, 240],
      [317, 239],
      [240, 320],
      [100, 75],
      [9, 8],
      [5, 2],
    ] as const) {
      const px = Uint8Array.from({ length: w * h }, (_, i) => (i * 7919 + ((i * i) % 97)) % 256);
      const want = reference(px, w, h);
      expect(dHashOf(px, w, h)).toBe(want.hash);
      const got = pictureMeasures(px, w, h);
      expect(got.brightness).toBeCloseTo(want.brightness, 9);
      expect(got.sharpness).toBeCloseTo(want.sharpness, 6);
    }
  });
});
