import exifr from 'exifr';
import type { Metadata } from 'sharp';
import { AppError } from '../platform/errors/catalog.js';
import type { Media } from './media.js';
import { runTool, SAFE_INPUT_OPTIONS } from './media-tools.js';
import sharp from './sharp.js';
import type { Sniffed } from './sniff.js';

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

/**
 * What a file is, from its headers only (nothing is decoded here). Returns `readable: false` for a file that is not
 * the media it claims to be; throws EVIDENCE_LIMITS_EXCEEDED or EVIDENCE_CODEC_UNSUPPORTED for one that is, but
 * costs more to decode than the limits allow or uses a codec outside the allow-list.
 */
export async function probeMedia(media: Media, file: string, type: Sniffed): Promise<MediaFacts> {
  return type.kind === 'video' ? probeVideo(media, file) : probePhoto(media, file);
}

/** Refuses evidence over one of the limits, naming it. */
export function overLimit(limit: string, value: number, max: number): AppError {
  return new AppError('EVIDENCE_LIMITS_EXCEEDED', { field: 'file', details: { limit, value, max } });
}

/**
 * A photo's facts from its file or, when the upload is still in memory, from its bytes: the header's dimensions are
 * checked before anything decodes them (a 2 MB PNG can declare 16383×16383 pixels: 9 s of CPU and 2 GB to decode).
 */
export async function probePhoto(media: Media, source: string | Buffer): Promise<MediaFacts> {
  let meta: Metadata;
  try {
    // Only the header is read here; the limit is checked below, so a huge declared size is named as such.
    meta = await sharp(source, { limitInputPixels: false }).metadata();
  } catch (err) {
    return UNREADABLE(`image decoder: ${(err as Error).message}`);
  }
  if (!meta.width || !meta.height) return UNREADABLE('image has no dimensions');
  const pixels = meta.width * meta.height;
  if (pixels > media.limits.maxPixels) throw overLimit('pixels', pixels, media.limits.maxPixels);
  // An interlaced PNG cannot be decoded a strip at a time: libvips holds the whole image.
  if (meta.format === 'png' && meta.isProgressive && pixels > media.limits.maxInterlacedPixels)
    throw overLimit('interlaced_pixels', pixels, media.limits.maxInterlacedPixels);
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
    codec_tag_string?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    tags?: Record<string, string>;
    side_data_list?: { rotation?: number }[];
  }[];
  format?: { duration?: string; nb_streams?: number; tags?: Record<string, string> };
}

/** Video and audio codecs evidence may carry (what phones and dashcams write); the decoders match ALLOWED_DECODERS. */
const VIDEO_CODECS = new Set(['h264', 'hevc', 'vp8', 'vp9', 'av1', 'mjpeg']);
const AUDIO_CODECS = new Set(['aac', 'opus']);

/** What a refused tool run says to the people reading the evidence. */
export const UNSAFE = 'evidence could not be read safely';

/**
 * A video's facts from ffprobe, run with local files only, the allowed containers and decoders, an address-space
 * limit and a time limit, one of MEDIA_TOOL_CONCURRENCY at a time. Then the limits on streams, size and length.
 */
async function probeVideo(media: Media, file: string): Promise<MediaFacts> {
  const ran = await media.videos.run(() =>
    runTool(
      media.tools.ffprobe,
      [...SAFE_INPUT_OPTIONS, '-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
      { ...media.limits.tool, maxOutputBytes: 4 * 1024 * 1024 },
    ),
  );
  if (!ran.ok) {
    if (/not on whitelist/.test(ran.stderr))
      throw new AppError('EVIDENCE_CODEC_UNSUPPORTED', {
        field: 'file',
        details: {
          reason: ran.stderr
            .split('\n')
            .find((l) => l.includes('not on whitelist'))!
            .slice(0, 200),
        },
      });
    if (ran.reason !== 'failed')
      throw new AppError('EVIDENCE_UNREADABLE', {
        field: 'file',
        details: { reason: `${UNSAFE} (${ran.reason})` },
      });
    return UNREADABLE(`ffprobe: ${ran.stderr || 'failed'}`.slice(0, 300));
  }
  let out: FfprobeOutput;
  try {
    out = JSON.parse(ran.stdout.toString('utf8')) as FfprobeOutput;
  } catch {
    return UNREADABLE('ffprobe: unreadable output');
  }
  const streams = out.streams ?? [];
  const { videoMaxStreams, videoMaxSide, videoMaxSeconds } = media.limits;
  const count = Math.max(streams.length, out.format?.nb_streams ?? 0);
  if (count > videoMaxStreams) throw overLimit('streams', count, videoMaxStreams);
  for (const s of streams) {
    const allowed = s.codec_type === 'video' ? VIDEO_CODECS : s.codec_type === 'audio' ? AUDIO_CODECS : null;
    if (allowed && !allowed.has(s.codec_name ?? ''))
      throw new AppError('EVIDENCE_CODEC_UNSUPPORTED', {
        field: 'file',
        details: { reason: `${s.codec_type} codec ${s.codec_name ?? s.codec_tag_string ?? 'unknown'}` },
      });
  }
  const video = streams.find((s) => s.codec_type === 'video');
  if (!video?.width || !video.height) return UNREADABLE('no video stream');
  const side = Math.max(video.width, video.height);
  if (side > videoMaxSide) throw overLimit('side', side, videoMaxSide);
  const rotation = Math.abs(
    video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? Number(video.tags?.rotate ?? 0),
  );
  const quarter = rotation % 180 === 90;
  const duration = Number(out.format?.duration);
  if (Number.isFinite(duration) && duration > videoMaxSeconds)
    throw overLimit('seconds', Math.round(duration), videoMaxSeconds);
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
