import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { makeScene } from '../../test/helpers/media.js';
import { dHashOf, halveTo, pictureMeasures } from './analysis.js';

async function rendering(jpeg: Buffer) {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return halveTo(data, info.width, info.height, info.channels, 320);
}

const distance = (a: string, b: string) => [...a].filter((bit, i) => bit !== b[i]).length;

describe('picture measures', () => {
  it('halves to the measured size, averaging 2×2 blocks, and keeps small pictures as they are', () => {
    // 4×2 RGB: left block red-ish averages, right block a grey ramp.
    const px = Buffer.from([
      ...[200, 0, 0, 100, 0, 0, 10, 10, 10, 20, 20, 20],
      ...[100, 0, 0, 0, 0, 0, 30, 30, 30, 40, 40, 40],
    ]);
    const half = halveTo(px, 4, 2, 3, 2);
    expect([half.width, half.height]).toEqual([2, 1]);
    expect([...half.rgb]).toEqual([100, 0, 0, 25, 25, 25]);
    expect([...half.grey]).toEqual([29, 25]); // BT.601 luma
    const grey = halveTo(Buffer.from([0, 255, 255, 0]), 2, 2, 1, 320);
    expect([grey.width, grey.height, ...grey.grey]).toEqual([2, 2, 0, 255, 255, 0]);
  });

  it('scores a blurred copy less sharp and a darkened copy darker, and hashes re-encodings alike', async () => {
    const scene = await makeScene(1280, 720);
    const original = await rendering(scene);
    const blurred = await rendering(await sharp(scene).blur(6).jpeg().toBuffer());
    const darker = await rendering(await sharp(scene).linear(0.3, 0).jpeg().toBuffer());
    const m = (r: typeof original) => pictureMeasures(r.grey, r.width, r.height);
    expect(m(blurred).sharpness).toBeLessThan(m(original).sharpness / 4);
    expect(m(darker).brightness).toBeLessThan(m(original).brightness * 0.4);

    const hash = (r: typeof original) => dHashOf(r.grey, r.width, r.height);
    const reencoded = await rendering(await sharp(scene).resize(1000).jpeg({ quality: 50 }).toBuffer());
    const other = await rendering(await makeScene(1280, 720));
    expect(distance(hash(original), hash(reencoded))).toBeLessThanOrEqual(6);
    expect(distance(hash(original), hash(other))).toBeGreaterThan(6);
  });
});
