import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import exifr from 'exifr';
import type { Metadata } from 'sharp';
import sharp from './sharp.js';
import type { Sniffed } from './sniff.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
/** ffprobe and ffmpeg ship inside npm packages, so `npm ci` brings them; the host's are never used. */
export const FFPROBE: string = require('@ffprobe-installer/ffprobe').path;
export const FFMPEG: string = require('@ffmpeg-installer/ffmpeg').path;

/** What a file really is, read from its content once (evidence is content-addressed) and kept with it. */
export interface MediaFacts {
  readable: boolean;
  /** Why it could not be read, for the inspector and the logs. */
  problem: string | null;
  /** Display size, after EXIF rotation. */
  width: number | null;
  height: number | null;
  durationMs: number | null;
  codec: string | null;
  /** When the camera says it was taken: EXIF DateTimeOriginal (Asia/Tashkent unless an offset is recorded) or MP4 creation_time (UTC). */
  takenAt: Date | null;
  gpsLat: number | null;
  gpsLon: number | null;
  camera: string | null;
}

const UNREADABLE = (problem: string): MediaFacts => ({
  readable: false,
  problem,
  width: null,
  height: null,
  durationMs: null,
  codec: null,
  takenAt: null,
  gpsLat: null,
  gpsLon: null,
  camera: null,
});

// Camera clocks write local time without a zone; in Uzbekistan that is UTC+5 all year.
const DEFAULT_OFFSET = '+05:00';

export async function probeMedia(file: string, type: Sniffed): Promise<MediaFacts> {
  return type.kind === 'video' ? probeVideo(file) : probePhoto(file);
}

/** A photo's facts from its file or, when the upload is still in memory, from its bytes. */
export async function probePhoto(source: string | Buffer): Promise<MediaFacts> {
  let meta: Metadata;
  try {
    meta = await sharp(source).metadata();
  } catch (err) {
    return UNREADABLE(`image decoder: ${(err as Error).message}`);
  }
  if (!meta.width || !meta.height) return UNREADABLE('image has no dimensions');
  // Orientations 5–8 are rotated a quarter turn: what a person sees has width and height swapped.
  const rotated = (meta.orientation ?? 1) >= 5;
  const exif = await exifr
    .parse(source, { reviveValues: false, gps: true, pick: undefined })
    .catch(() => null as Record<string, unknown> | null);
  const stamp = (exif?.DateTimeOriginal ?? exif?.CreateDate) as string | undefined;
  const offset = (exif?.OffsetTimeOriginal ?? exif?.OffsetTime) as string | undefined;
  const camera = [exif?.Make, exif?.Model]
    .filter((v) => typeof v === 'string' && v.trim())
    .join(' ')
    .trim();
  return {
    readable: true,
    problem: null,
    width: rotated ? meta.height : meta.width,
    height: rotated ? meta.width : meta.height,
    durationMs: null,
    codec: meta.format ?? null,
    takenAt: typeof stamp === 'string' ? exifDate(stamp, offset) : null,
    gpsLat: finiteOrNull(exif?.latitude),
    gpsLon: finiteOrNull(exif?.longitude),
    camera: camera || null,
  };
}

/** "2026:11:27 10:00:00" (+ optional "+05:00") → Date; null when it is not a plausible timestamp. */
export function exifDate(stamp: string, offset?: string): Date | null {
  const m = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(stamp.trim());
  if (!m) return null;
  const zone = offset && /^[+-]\d{2}:\d{2}$/.test(offset) ? offset : DEFAULT_OFFSET;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${zone}`);
  return Number.isNaN(d.getTime()) ? null : d;
}

interface FfprobeOutput {
  streams?: {
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    tags?: Record<string, string>;
    side_data_list?: { rotation?: number }[];
  }[];
  format?: { duration?: string; tags?: Record<string, string> };
}

async function probeVideo(file: string): Promise<MediaFacts> {
  let out: FfprobeOutput;
  try {
    const { stdout } = await run(
      FFPROBE,
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
      {
        timeout: 30_000,
        maxBuffer: 4 * 1024 * 1024,
      },
    );
    out = JSON.parse(stdout) as FfprobeOutput;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    return UNREADABLE(`ffprobe: ${stderr || (err as Error).message}`.slice(0, 300));
  }
  const video = out.streams?.find((s) => s.codec_type === 'video');
  if (!video?.width || !video.height) return UNREADABLE('no video stream');
  const rotation = Math.abs(
    video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? Number(video.tags?.rotate ?? 0),
  );
  const quarter = rotation % 180 === 90;
  const duration = Number(out.format?.duration);
  const tags = { ...video.tags, ...out.format?.tags };
  const created = tags.creation_time ? new Date(tags.creation_time) : null;
  const gps = parseIso6709(tags.location ?? tags['com.apple.quicktime.location.ISO6709']);
  const camera = [tags['com.apple.quicktime.make'], tags['com.apple.quicktime.model']]
    .filter(Boolean)
    .join(' ');
  return {
    readable: true,
    problem: null,
    width: quarter ? video.height : video.width,
    height: quarter ? video.width : video.height,
    durationMs: Number.isFinite(duration) ? Math.round(duration * 1000) : null,
    codec: video.codec_name ?? null,
    takenAt: created && !Number.isNaN(created.getTime()) ? created : null,
    gpsLat: gps?.lat ?? null,
    gpsLon: gps?.lon ?? null,
    camera: camera || null,
  };
}

/** "+41.3111+069.2797/" or "+41.3111+069.2797+420.000/" → {lat, lon}. */
export function parseIso6709(value: string | undefined): { lat: number; lon: number } | null {
  const m = value ? /^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)/.exec(value) : null;
  if (!m) return null;
  const lat = Number(m[1]);
  const lon = Number(m[2]);
  return Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { lat, lon } : null;
}

function finiteOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
