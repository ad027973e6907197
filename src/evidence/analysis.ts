import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Queryable } from '../platform/db/pool.js';
import type { BlobStore } from './blob-store.js';
import { GateTimeout } from './gate.js';
import type { Media } from './media.js';
import { runTool, SAFE_INPUT_OPTIONS } from './media-tools.js';
import { UNSAFE } from './probe.js';
import sharp from './sharp.js';

/** What the picture itself says: measures, perceptual hash and the thumbnail. */
export interface PictureAnalysis {
  sharpness: number;
  brightness: number;
  /** 64-bit difference hash as a 0/1 string. */
  phash: string;
  /** The 320 px thumbnail (JPEG) and its SHA-256 (hex); stored in the `thumbnails` table, not the blob store. */
  thumb: Buffer;
  thumbSha256: string;
}

export interface MediaAnalysis extends PictureAnalysis {
  posterSha256: string | null;
}

/**
 * Looks at the picture: a video's poster frame (ffmpeg, 1 s in, or the first frame of a shorter clip), then
 * `analyzePicture`.
 */
export async function analyzeMedia(
  media: Media,
  blobs: BlobStore,
  e: { sha256: string; kind: 'photo' | 'video'; duration_ms: number | null },
  opts: { deadlineMs?: number } = {},
): Promise<MediaAnalysis> {
  const source =
    e.kind === 'video'
      ? await blobs.withLocalFile(e.sha256, (file) => posterFrame(media, file, e.duration_ms))
      : await blobs.withLocalFile(e.sha256, (file) => readFile(file));
  const picture = await analyzePicture(media, source, opts);
  return { ...picture, posterSha256: e.kind === 'video' ? await blobs.putBuffer(source) : null };
}

/**
 * A 320 px thumbnail, sharpness (variance of the Laplacian — blur flattens edges), brightness (mean luma) and a
 * perceptual hash (dHash) of an encoded picture (a photo, or a video's poster frame), decoded in its turn
 * (media.images: DECODE_CONCURRENCY at once; a large photo in media.large, one at a time, in the decoder process of
 * media.decoder). With `deadlineMs`, gives up with a GateTimeout when no slot frees in time.
 */
export async function analyzePicture(
  media: Media,
  source: Buffer,
  opts: { deadlineMs?: number; size?: { width: number | null; height: number | null } } = {},
): Promise<PictureAnalysis> {
  // The size says which queue: large photos wait in their own, one at a time (media.large). A caller that probed
  // the photo already gives it; otherwise the header is read.
  const size = opts.size ?? (await sharp(source, { limitInputPixels: false }).metadata());
  if (media.isLarge(size.width ?? null, size.height ?? null))
    return media.large.run(() => media.decoder.analyze(source), opts);
  return media.images.run(() => pictureOf(source, media.limits.maxPixels), opts);
}

/** The analysis itself, on this process's libuv threads (large photos: in LargeDecoder's process). */
export async function pictureOf(source: Buffer, maxPixels: number): Promise<PictureAnalysis> {
  const small = await rendering(source, maxPixels);
  // Huffman tables are not optimised: a thumbnail a few per cent larger, ~0.3 ms less per photo (bench, "analyze").
  const thumb = await sharp(small.rgb, { raw: { width: small.width, height: small.height, channels: 3 } })
    .jpeg({ quality: 70, optimiseCoding: false })
    .toBuffer();
  const measures = pictureMeasures(small.grey, small.width, small.height);
  return {
    sharpness: Math.round(measures.sharpness * 10) / 10,
    brightness: Math.round(measures.brightness * 10) / 10,
    phash: dHashOf(small.grey, small.width, small.height),
    thumb,
    thumbSha256: createHash('sha256').update(thumb).digest('hex'),
  };
}

/** Longest side of the rendering that is measured and kept as the thumbnail. */
const MEASURE_SIZE = 320;

/**
 * The picture upright at most MEASURE_SIZE on the long side, as packed RGB and as ITU-R BT.601 luma: what is
 * measured, hashed and kept as the thumbnail. One sharp call: libjpeg decodes a JPEG already scaled down by 2, 4 or
 * 8 (its entropy decoding is the part that stays), and a bilinear reduce does the rest. A 640×480 photo's whole
 * analysis: 5.3–6.2 ms of CPU, against 9.0 ms when it was decoded at full size and halved in JavaScript
 * (measured 2026-11-28, bench/README.md design decisions).
 */
export async function rendering(
  source: Buffer,
  maxPixels: number,
): Promise<{ rgb: Buffer; grey: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(source, { limitInputPixels: maxPixels })
    .rotate()
    .resize({
      width: MEASURE_SIZE,
      height: MEASURE_SIZE,
      fit: 'inside',
      withoutEnlargement: true,
      kernel: 'linear',
    })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { rgb: data, grey: lumaOf(data), width: info.width, height: info.height };
}

/**
 * ITU-R BT.601 luma of packed RGB pixels, rounded: 0.299 R + 0.587 G + 0.114 B in 16-bit fixed point (the weights
 * sum to 65,536, so white stays 255).
 */
export function lumaOf(rgb: Uint8Array): Buffer {
  const grey = Buffer.allocUnsafe(Math.floor(rgb.length / 3));
  for (let i = 0, o = 0; o < grey.length; i += 3, o++) {
    grey[o] = (rgb[i]! * 19595 + rgb[i + 1]! * 38470 + rgb[i + 2]! * 7471 + 32768) >> 16;
  }
  return grey;
}

/**
 * Mean luma and the variance of the 4-neighbour Laplacian (blur flattens edges) over a greyscale rendering.
 * Computed here rather than with sharp's stats(), which took 34 ms per 512 px image (bench/README.md); one pass
 * for both (at 320×240: 0.27 ms by `npm run bench -- analyze`, against 0.41 ms for two passes the same hour).
 */
export function pictureMeasures(
  px: Uint8Array,
  width: number,
  height: number,
): { brightness: number; sharpness: number } {
  let total = 0;
  let sum = 0;
  let sumSq = 0;
  if (height < 3 || width < 3) {
    for (let i = 0; i < px.length; i++) total += px[i]!;
  } else {
    // The border pixels count towards brightness only; the inner ones also get a Laplacian.
    for (let x = 0; x < width; x++) total += px[x]! + px[(height - 1) * width + x]!;
    for (let y = 1; y < height - 1; y++) {
      const start = y * width;
      total += px[start]! + px[start + width - 1]!;
      for (let i = start + 1, end = start + width - 1; i < end; i++) {
        const c = px[i]!;
        total += c;
        const l = px[i - width]! + px[i + width]! + px[i - 1]! + px[i + 1]! - 4 * c;
        sum += l;
        sumSq += l * l;
      }
    }
  }
  const n = Math.max(0, width - 2) * Math.max(0, height - 2);
  const mean = n ? sum / n : 0;
  return { brightness: px.length ? total / px.length : 0, sharpness: n ? sumSq / n - mean * mean : 0 };
}

/**
 * dHash: the picture averaged down to 9×8 grey cells, one bit per horizontal neighbour pair (is the left one
 * brighter?). Re-encoding, resizing and small edits change few bits; a different scene changes about half. It
 * replaced sharp-phash, whose pure-JavaScript 32×32 DCT made analysis the pipeline's bottleneck (bench/README.md).
 * Column x falls in cell ⌊9x / width⌋, so each cell is a run of columns summed in a tight loop (0.11 against
 * 0.39 ms at 320×240 when every pixel looked its cell up, the same hour).
 */
export function dHashOf(px: Uint8Array, width: number, height: number): string {
  const cells = new Float64Array(72);
  const counts = new Float64Array(72);
  // First column of each cell: the smallest x with ⌊9x / width⌋ = c.
  const first = new Int32Array(10);
  for (let c = 0; c <= 9; c++) first[c] = Math.ceil((c * width) / 9);
  for (let y = 0; y < height; y++) {
    const base = Math.min(7, Math.floor((y * 8) / height)) * 9;
    const rowStart = y * width;
    for (let c = 0; c < 9; c++) {
      let run = 0;
      for (let x = first[c]!, end = first[c + 1]!; x < end; x++) run += px[rowStart + x]!;
      cells[base + c]! += run;
      counts[base + c]! += first[c + 1]! - first[c]!;
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

/**
 * One frame of the first video stream as a JPEG, scaled down to at most POSTER_SIDE while decoding, written to a
 * pipe (no temporary file), by an ffmpeg held to the media limits: a decode that is killed for time or memory
 * fails with UNSAFE, which analysis records as the evidence's problem (a finding for the inspector).
 */
async function posterFrame(media: Media, file: string, durationMs: number | null): Promise<Buffer> {
  // 1 s in, past a fade-in; a shorter clip from its first frame (seeking into a clip of one frame finds none).
  const at = (durationMs ?? 0) >= 2000 ? 1 : 0;
  const ran = await media.videos.run(() =>
    runTool(
      media.tools.ffmpeg,
      [
        ...SAFE_INPUT_OPTIONS,
        '-v',
        'error',
        '-threads',
        '2',
        '-ss',
        at.toFixed(2),
        '-i',
        file,
        '-map',
        '0:v:0',
        '-an',
        '-sn',
        '-dn',
        '-frames:v',
        '1',
        '-vf',
        `scale=w='min(${POSTER_SIDE},iw)':h='min(${POSTER_SIDE},ih)':force_original_aspect_ratio=decrease`,
        '-c:v',
        'mjpeg',
        '-q:v',
        '3',
        '-f',
        'image2pipe',
        'pipe:1',
      ],
      { ...media.limits.tool, maxOutputBytes: 16 * 1024 * 1024 },
    ),
  );
  if (!ran.ok)
    throw new Error(
      ran.reason === 'failed' ? `ffmpeg: ${ran.stderr || 'failed'}` : `${UNSAFE} (${ran.reason})`,
    );
  if (!ran.stdout.length) throw new Error('ffmpeg: no frame');
  return ran.stdout;
}

/** Longest side of a video's poster frame: the inspector's view, not the original's resolution. */
const POSTER_SIDE = 1280;

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

/**
 * Analyses the evidence and stores the result on it (idempotent: the same bytes always give the same answer).
 * Returns the analysis, or null when the picture could not be rendered (recorded as the evidence's problem). A
 * GateTimeout (no decoding slot by `deadlineMs`) is thrown, not recorded: the evidence is analysed later.
 */
export async function analyzeAndStore(
  db: Queryable,
  media: Media,
  blobs: BlobStore,
  e: Pick<AnalyzedEvidence, 'id' | 'sha256' | 'kind' | 'duration_ms'>,
  opts: { deadlineMs?: number } = {},
): Promise<MediaAnalysis | null> {
  const a = await analyzeMedia(media, blobs, e, opts).catch((err: unknown) => {
    if (err instanceof GateTimeout) throw err;
    return analysisProblem(err);
  });
  await storeAnalysis(db, e.id, a);
  return 'problem' in a ? null : a;
}

/** A file its probe could read but the decoder cannot render: analysed, with no picture measures. */
export function analysisProblem(err: unknown): { problem: string } {
  return { problem: `analysis: ${(err as Error).message}`.slice(0, 300) };
}

/** Records an analysis on its evidence; the thumbnail goes in with the measures, one statement (migration 0014). */
async function storeAnalysis(
  db: Queryable,
  evidenceId: string,
  a: MediaAnalysis | { problem: string },
): Promise<void> {
  if ('problem' in a) {
    await db.query(`update evidence set analyzed_at = now(), problem = coalesce(problem, $2) where id = $1`, [
      evidenceId,
      a.problem,
    ]);
    return;
  }
  await db.query(
    `with thumb as (insert into thumbnails (sha256, jpeg) values ($5, $7) on conflict (sha256) do nothing)
     update evidence set analyzed_at = now(), sharpness = $2, brightness = $3, phash = $4, thumb_sha256 = $5,
            poster_sha256 = $6 where id = $1`,
    [evidenceId, a.sharpness, a.brightness, a.phash, a.thumbSha256, a.posterSha256, a.thumb],
  );
}
