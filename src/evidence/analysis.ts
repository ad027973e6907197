import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { Queryable } from '../platform/db/pool.js';
import type { BlobStore } from './blob-store.js';
import { FFMPEG } from './probe.js';

const run = promisify(execFile);

export interface MediaAnalysis {
  sharpness: number;
  brightness: number;
  /** 64-bit difference hash as a 0/1 string. */
  phash: string;
  thumbSha256: string;
  posterSha256: string | null;
}

/**
 * Looks at the picture: a video's poster frame (ffmpeg, 1 s in or the middle of a shorter clip), a 320 px thumbnail,
 * sharpness (variance of the Laplacian — blur flattens edges), brightness (mean luma) and a perceptual hash (dHash).
 */
export async function analyzeMedia(
  blobs: BlobStore,
  e: { sha256: string; kind: 'photo' | 'video'; duration_ms: number | null },
): Promise<MediaAnalysis> {
  const source =
    e.kind === 'video'
      ? await blobs.withLocalFile(e.sha256, (file) => posterFrame(file, e.duration_ms))
      : await blobs.withLocalFile(e.sha256, (file) => readFile(file));
  // One decode, small enough for libjpeg's shrink-on-load: the thumbnail is encoded from it, and the grey rendering
  // for every measure and the hash is derived from it (bench/README.md, "analyze").
  const rgb = await sharp(source)
    .rotate()
    .resize({ width: MEASURE_SIZE, height: MEASURE_SIZE, fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = rgb.info;
  const thumb = await sharp(rgb.data, { raw: { width, height, channels } }).jpeg({ quality: 70 }).toBuffer();
  const grey = { data: toGrey(rgb.data, channels), info: { width, height } };
  const measures = pictureMeasures(grey.data, grey.info.width, grey.info.height);
  const hash = dHashOf(grey.data, grey.info.width, grey.info.height);
  return {
    sharpness: Math.round(measures.sharpness * 10) / 10,
    brightness: Math.round(measures.brightness * 10) / 10,
    phash: hash,
    thumbSha256: await blobs.putBuffer(thumb),
    posterSha256: e.kind === 'video' ? await blobs.putBuffer(source) : null,
  };
}

/** Longest side of the rendering that is measured and kept as the thumbnail. */
const MEASURE_SIZE = 320;

/** ITU-R BT.601 luma of packed RGB (or single-channel) pixels. */
function toGrey(px: Buffer, channels: number): Buffer {
  if (channels === 1) return px;
  const out = Buffer.allocUnsafe(px.length / channels);
  for (let i = 0, o = 0; i < px.length; i += channels, o++) {
    out[o] = (px[i]! * 299 + px[i + 1]! * 587 + px[i + 2]! * 114) / 1000;
  }
  return out;
}

/**
 * Mean luma and the variance of the 4-neighbour Laplacian (blur flattens edges) over a greyscale rendering.
 * Computed here rather than with sharp's stats(), which took 34 ms per 512 px image (bench/README.md).
 */
export function pictureMeasures(
  px: Buffer,
  width: number,
  height: number,
): { brightness: number; sharpness: number } {
  let total = 0;
  for (let i = 0; i < px.length; i++) total += px[i]!;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const l = px[i - width]! + px[i + width]! + px[i - 1]! + px[i + 1]! - 4 * px[i]!;
      sum += l;
      sumSq += l * l;
      n++;
    }
  }
  const mean = n ? sum / n : 0;
  return { brightness: px.length ? total / px.length : 0, sharpness: n ? sumSq / n - mean * mean : 0 };
}

/**
 * dHash: the picture averaged down to 9×8 grey cells, one bit per horizontal neighbour pair (is the left one
 * brighter?). Re-encoding, resizing and small edits change few bits; a different scene changes about half. It
 * replaced sharp-phash, whose pure-JavaScript 32×32 DCT made analysis the pipeline's bottleneck (bench/README.md).
 */
export function dHashOf(px: Buffer, width: number, height: number): string {
  const cells = new Float64Array(72);
  const counts = new Uint32Array(72);
  for (let y = 0; y < height; y++) {
    const cy = Math.min(7, Math.floor((y * 8) / height));
    for (let x = 0; x < width; x++) {
      const c = cy * 9 + Math.min(8, Math.floor((x * 9) / width));
      cells[c]! += px[y * width + x]!;
      counts[c]!++;
    }
  }
  let bits = '';
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const a = y * 9 + x;
      bits += cells[a]! / Math.max(1, counts[a]!) > cells[a + 1]! / Math.max(1, counts[a + 1]!) ? '1' : '0';
    }
  }
  return bits;
}

async function posterFrame(file: string, durationMs: number | null): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-poster-'));
  const out = path.join(dir, 'poster.jpg');
  const at = Math.min(1, (durationMs ?? 0) / 2000);
  try {
    await run(
      FFMPEG,
      ['-v', 'error', '-ss', at.toFixed(2), '-i', file, '-frames:v', '1', '-q:v', '3', '-y', out],
      {
        timeout: 60_000,
      },
    );
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface AnalyzedEvidence {
  id: string;
  sha256: string;
  kind: 'photo' | 'video';
  duration_ms: number | null;
  analyzed_at: Date | null;
}

/** Evidence of these reports that has not been analysed yet. */
export async function unanalyzedEvidence(db: Queryable, reportIds: string[]): Promise<AnalyzedEvidence[]> {
  const { rows } = await db.query<AnalyzedEvidence>(
    `select distinct e.id, encode(e.sha256, 'hex') as sha256, e.kind, e.duration_ms, e.analyzed_at
       from report_evidence re join evidence e on e.id = re.evidence_id
      where re.report_id = any($1::uuid[]) and e.analyzed_at is null and e.readable`,
    [reportIds],
  );
  return rows;
}

/** Analyses the evidence and stores the result on it (idempotent: the same bytes always give the same answer). */
export async function analyzeAndStore(db: Queryable, blobs: BlobStore, e: AnalyzedEvidence): Promise<void> {
  let a: MediaAnalysis;
  try {
    a = await analyzeMedia(blobs, e);
  } catch (err) {
    // A file ffprobe could read but the decoder cannot render: record it as analysed with no picture measures.
    await db.query(`update evidence set analyzed_at = now(), problem = coalesce(problem, $2) where id = $1`, [
      e.id,
      `analysis: ${(err as Error).message}`.slice(0, 300),
    ]);
    return;
  }
  await db.query(
    `update evidence set analyzed_at = now(), sharpness = $2, brightness = $3, phash = $4, thumb_sha256 = $5,
            poster_sha256 = $6 where id = $1`,
    [e.id, a.sharpness, a.brightness, a.phash, a.thumbSha256, a.posterSha256],
  );
}
