import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../evidence/blob-store.js';
import { GateTimeout } from '../evidence/gate.js';
import type { Media } from '../evidence/media.js';
import { runTool, SAFE_INPUT_OPTIONS } from '../evidence/media-tools.js';
import sharp from '../evidence/sharp.js';
import type { Queryable } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { stripJpeg, stripPng } from './metadata-strip.js';

/** A rectangle of the picture to blur, as fractions of its width and height (0..1). */
export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface SourceFile {
  sha256: string;
  kind: 'photo' | 'video';
  mime: string;
}

export interface DriverCopy {
  sha256: string;
  mime: string;
  bytes: number;
}

export interface DriverCopyDeps {
  db: Queryable;
  blobs: Pick<BlobStore, 'withLocalFile' | 'putBuffer' | 'createUpload'>;
  media: Pick<Media, 'images' | 'videos' | 'tools' | 'limits'>;
}

/** '' with nothing to blur; else names the region set, so a new set is a new copy and an old one is never served. */
export function redactionKey(regions: readonly Region[]): string {
  if (regions.length === 0) return '';
  const canonical = regions.map((r) => [r.x, r.y, r.w, r.h].map((v) => v.toFixed(4)).join(',')).join(';');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/**
 * The file a driver is served instead of the evidence: metadata gone, the marked regions blurred. Derived once per
 * source and region set, under the process's decoding gates (a burst of first views waits its turn or gets 503),
 * and kept in the blob store; driver_copies remembers which blob it is.
 */
export async function driverCopyOf(
  deps: DriverCopyDeps,
  src: SourceFile,
  regions: readonly Region[],
): Promise<DriverCopy> {
  const key = redactionKey(regions);
  const known = await deps.db.query<DriverCopy>(
    `select blob_sha256 as sha256, mime, bytes from driver_copies where sha256 = $1 and redaction_key = $2`,
    [src.sha256, key],
  );
  if (known.rows[0]) return { ...known.rows[0], bytes: Number(known.rows[0].bytes) };

  const gate = src.kind === 'photo' ? deps.media.images : deps.media.videos;
  let made: DriverCopy;
  try {
    made = await gate.run(
      () =>
        deps.blobs.withLocalFile(src.sha256, async (file) => {
          if (src.kind === 'video') return videoCopy(deps, file, src.mime, regions);
          const photo = await photoCopy(deps, file, src.mime, regions);
          const sha256 = await deps.blobs.putBuffer(photo.content);
          return { sha256, mime: photo.mime, bytes: photo.content.length };
        }),
      { deadlineMs: deps.media.limits.decodeQueueMs },
    );
  } catch (err) {
    if (err instanceof GateTimeout) throw new AppError('OVERLOADED', { cause: err });
    throw err;
  }
  await deps.db.query(
    `insert into driver_copies (sha256, redaction_key, blob_sha256, mime, bytes) values ($1, $2, $3, $4, $5)
     on conflict (sha256, redaction_key) do nothing`,
    [src.sha256, key, made.sha256, made.mime, made.bytes],
  );
  return made;
}

/** Streams a file into the store under its content hash: a video copy is never held in memory whole. */
async function putFile(
  blobs: Pick<BlobStore, 'createUpload'>,
  file: string,
): Promise<{ sha256: string; bytes: number }> {
  const upload = await blobs.createUpload();
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    await pipeline(
      createReadStream(file),
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      }),
      upload.stream,
    );
    const sha256 = hash.digest('hex');
    await upload.commit(sha256);
    return { sha256, bytes };
  } catch (err) {
    await upload.discard();
    throw err;
  }
}

async function photoCopy(
  deps: DriverCopyDeps,
  file: string,
  mime: string,
  regions: readonly Region[],
): Promise<{ content: Buffer; mime: string }> {
  const input = await readFile(file);
  const options = { limitInputPixels: deps.media.limits.maxPixels };
  const meta = await sharp(input, options).metadata();
  // A browser turns a picture by its EXIF orientation; once EXIF is gone the pixels must already stand upright.
  const upright = (meta.orientation ?? 1) === 1;
  if (regions.length === 0 && upright) {
    if (mime === 'image/jpeg') return { content: stripJpeg(input), mime };
    if (mime === 'image/png') return { content: stripPng(input), mime };
  }
  // sharp writes no metadata unless asked to (no withMetadata), so every re-encoded picture is clean.
  const base = await sharp(input, options).rotate().raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = base.info;
  const raw = { raw: { width, height, channels } };
  const overlays = await Promise.all(
    regions.map(async (r) => {
      const left = Math.min(width - 1, Math.floor(r.x * width));
      const top = Math.min(height - 1, Math.floor(r.y * height));
      const w = Math.max(1, Math.min(width - left, Math.ceil(r.w * width)));
      const h = Math.max(1, Math.min(height - top, Math.ceil(r.h * height)));
      // Down to a few blocks across, then back up and smoothed: nothing of a face or a plate survives the first
      // step, which a plain Gaussian blur of a small region does not promise.
      const small = await sharp(base.data, raw)
        .extract({ left, top, width: w, height: h })
        .resize(Math.max(1, Math.round(w / 16)), Math.max(1, Math.round(h / 16)), { fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      const { info } = small;
      const input = await sharp(small.data, {
        raw: { width: info.width, height: info.height, channels: info.channels },
      })
        .resize(w, h, { fit: 'fill' })
        .blur(Math.max(1, Math.min(w, h) / 20))
        .png()
        .toBuffer();
      return { input, left, top };
    }),
  );
  const content = await sharp(base.data, raw).composite(overlays).jpeg({ quality: 90 }).toBuffer();
  return { content, mime: 'image/jpeg' };
}

/** ffmpeg's blur of each region over the whole video: crop it, box-blur it hard, lay it back in place. */
export function blurFilter(regions: readonly Region[]): string {
  const n = regions.length;
  const f = (v: number) => v.toFixed(4);
  const parts = [`[0:v]split=${n + 1}[base]${regions.map((_, i) => `[c${i}]`).join('')}`];
  regions.forEach((r, i) => {
    parts.push(
      `[c${i}]crop=w=iw*${f(r.w)}:h=ih*${f(r.h)}:x=iw*${f(r.x)}:y=ih*${f(r.y)},` +
        `boxblur=lr='max(1,min(w,h)/4)':lp=3:cr='max(1,min(cw,ch)/4)':cp=3[r${i}]`,
    );
  });
  let prev = 'base';
  regions.forEach((r, i) => {
    const out = i === n - 1 ? 'v' : `o${i}`;
    parts.push(`[${prev}][r${i}]overlay=x=W*${f(r.x)}:y=H*${f(r.y)}[${out}]`);
    prev = out;
  });
  return parts.join(';');
}

async function videoCopy(
  deps: DriverCopyDeps,
  file: string,
  mime: string,
  regions: readonly Region[],
): Promise<DriverCopy> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-driver-'));
  try {
    const webm = mime === 'video/webm' && regions.length === 0;
    const out = path.join(dir, webm ? 'copy.webm' : 'copy.mp4');
    // No global, stream or chapter metadata, no data streams (a camera's GPS track travels as one), no encoder tag.
    const clean = [
      '-map_metadata',
      '-1',
      '-map_chapters',
      '-1',
      '-fflags',
      '+bitexact',
      '-flags:v',
      '+bitexact',
    ];
    const container = webm ? ['-f', 'webm'] : ['-movflags', '+faststart', '-f', 'mp4'];
    const input = [...SAFE_INPUT_OPTIONS, '-nostdin', '-y', '-i', file];
    const encode = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p'];
    const attempts: string[][] =
      regions.length === 0
        ? [
            // Re-muxed, not re-encoded: the driver sees the frames the reporter recorded.
            [...input, '-map', '0:v', '-map', '0:a?', '-c', 'copy', ...clean, ...container, out],
            // A stream the target container cannot carry as it is.
            [...input, '-map', '0:v', '-map', '0:a?', ...encode, '-c:a', 'aac', ...clean, ...container, out],
          ]
        : ['copy', 'aac'].map((audio) => [
            ...input,
            '-filter_complex',
            blurFilter(regions),
            '-map',
            '[v]',
            '-map',
            '0:a?',
            ...encode,
            '-c:a',
            audio,
            ...clean,
            ...container,
            out,
          ]);
    let last = '';
    for (const args of attempts) {
      const result = await runTool(deps.media.tools.ffmpeg, ['-v', 'error', ...args], {
        ...deps.media.limits.tool,
        maxOutputBytes: 64 * 1024,
      });
      if (result.ok) return { ...(await putFile(deps.blobs, out)), mime: webm ? 'video/webm' : 'video/mp4' };
      last = `${result.reason}: ${result.stderr}`;
    }
    throw new Error(`driver copy of a video failed: ${last}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
