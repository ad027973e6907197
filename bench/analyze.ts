import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { analyzeMedia, dHashOf, lumaOf, pictureMeasures, rendering } from '../src/evidence/analysis.js';
import { LocalBlobStore } from '../src/evidence/blob-store.js';
import { Media } from '../src/evidence/media.js';
import { resolveMediaTools } from '../src/evidence/media-tools.js';
import { loadConfig } from '../src/platform/config/config.js';
import { table } from './lib/open-loop.js';

/**
 * `npm run bench -- analyze`: what one photo's analysis costs, step by step, on one thread after warm-up —
 * the figures behind the choices in src/evidence/analysis.ts.
 */
export async function analyzeBench(o: { photos: number; width: number; height: number }): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-bench-analyze-'));
  try {
    const blobs = new LocalBlobStore(dir);
    const media = new Media(await resolveMediaTools('auto'), loadConfig({}));
    const photos: Buffer[] = [];
    const r = () => Math.floor(Math.random() * 255);
    for (let i = 0; i < o.photos; i++) {
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${o.width}" height="${o.height}"><rect width="100%" height="100%" fill="rgb(${r()},${r()},${r()})"/><circle cx="${(r() * o.width) / 255}" cy="${(r() * o.height) / 255}" r="${40 + r() / 4}" fill="rgb(${r()},${r()},${r()})"/><rect x="${r()}" y="${r()}" width="${60 + r()}" height="${40 + r() / 2}" fill="rgb(${r()},${r()},${r()})"/></svg>`;
      photos.push(await sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer());
    }
    const shas = await Promise.all(photos.map((p) => blobs.putBuffer(p)));
    const small = await rendering(photos[0]!, media.limits.maxPixels);

    const rows: (string | number)[][] = [];
    const time = async (name: string, fn: (i: number) => Promise<unknown> | unknown) => {
      for (let i = 0; i < Math.min(20, o.photos); i++) await fn(i);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < o.photos; i++) await fn(i);
      const c = process.cpuUsage(c0);
      rows.push([
        name,
        ((performance.now() - t0) / o.photos).toFixed(2),
        ((c.user + c.system) / 1000 / o.photos).toFixed(2),
      ]);
    };
    await time('read the file', (i) => readFile(blobs.pathOf(shas[i]!)));
    await time('  for comparison: plain decode at full size', (i) => sharp(photos[i]!).raw().toBuffer());
    await time('rendering: decode scaled to ≤ 320 px (sharp, bilinear)', (i) =>
      rendering(photos[i]!, media.limits.maxPixels),
    );
    await time('  of which luma (JavaScript)', () => lumaOf(small.rgb));
    await time('brightness + Laplacian variance', () =>
      pictureMeasures(small.grey, small.width, small.height),
    );
    await time('dHash', () => dHashOf(small.grey, small.width, small.height));
    await time('thumbnail JPEG encode', () =>
      sharp(small.rgb, { raw: { width: small.width, height: small.height, channels: 3 } })
        .jpeg({ quality: 70, optimiseCoding: false })
        .toBuffer(),
    );
    await time('  for comparison: with optimised Huffman tables', () =>
      sharp(small.rgb, { raw: { width: small.width, height: small.height, channels: 3 } })
        .jpeg({ quality: 70 })
        .toBuffer(),
    );
    // Thumbnails go into PostgreSQL with the measures since migration 0014 (no file of their own): what a file cost.
    await time('  for comparison: thumbnail as a blob file', (i) =>
      blobs.putBuffer(Buffer.concat([small.grey, Buffer.from(String(i))])),
    );

    await time('whole analysis (analyzeMedia, thumbnail kept for the row)', (i) =>
      analyzeMedia(media, blobs, { sha256: shas[i]!, kind: 'photo', duration_ms: null }),
    );

    console.log(
      `machine: ${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips})`,
    );
    console.log(`${o.photos} distinct ${o.width}×${o.height} JPEG photos, one at a time\n`);
    console.log(table(['step', 'wall ms per photo', 'CPU ms per photo'], rows));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
