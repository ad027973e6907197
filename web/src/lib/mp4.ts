/**
 * Reads a video's recording time and place from an MP4/QuickTime file, the way `readCameraFacts` reads a photo's
 * EXIF: the movie header's creation time (`moov/mvhd`, seconds since 1904 in UTC) and the position a phone writes as
 * `moov/udta/©xyz` (ISO 6709 text, "+41.3111+069.2797/") or ffmpeg as `moov/udta/loci` (3GPP, fixed-point degrees).
 * Only box headers are read on the way to `moov`
 * (which a camera often writes at the end of the file), then `moov` itself, up to a bound.
 */

export interface VideoFacts {
  /** When the recording started (UTC), or null when the file does not say. */
  createdAt: Date | null;
  gps: { lat: number; lon: number } | null;
}

/** A `moov` larger than this is not read (a two-minute 1080p clip's is ~100 kB). */
const MOOV_LIMIT = 8 * 1024 * 1024;
const SECONDS_1904_TO_1970 = 2_082_844_800;
const TOP_LEVEL_BOXES = 64;

async function bytes(file: Blob, from: number, length: number): Promise<DataView> {
  return new DataView(await file.slice(from, from + length).arrayBuffer());
}

const fourcc = (v: DataView, at: number) =>
  String.fromCharCode(v.getUint8(at), v.getUint8(at + 1), v.getUint8(at + 2), v.getUint8(at + 3));

/** A box's header at `at` in `v`: its type, where its content starts and where it ends (bounded by `end`). */
function header(v: DataView, at: number, end: number): { type: string; body: number; end: number } | null {
  if (at + 8 > end) return null;
  let size = v.getUint32(at);
  let body = at + 8;
  if (size === 1) {
    if (at + 16 > end) return null;
    size = Number(v.getBigUint64(at + 8));
    body = at + 16;
  } else if (size === 0) size = end - at;
  if (size < body - at || at + size > end) return null;
  return { type: fourcc(v, at + 4), body, end: at + size };
}

function children(v: DataView, from: number, end: number): Map<string, { body: number; end: number }> {
  const out = new Map<string, { body: number; end: number }>();
  for (let at = from; ; ) {
    const h = header(v, at, end);
    if (!h) return out;
    if (!out.has(h.type)) out.set(h.type, h);
    at = h.end;
  }
}

/** "+41.3111+069.2797+430.5/" → the point, or null. */
export function parseIso6709(text: string): { lat: number; lon: number } | null {
  const m = /^([+-]\d{1,2}(?:\.\d+)?)([+-]\d{1,3}(?:\.\d+)?)/.exec(text.trim());
  if (!m) return null;
  const lat = Number(m[1]);
  const lon = Number(m[2]);
  if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180) || (lat === 0 && lon === 0)) return null;
  return { lat, lon };
}

/** The facts of an MP4/MOV file, or null for anything else (WebM, a photo, a damaged file). Never throws. */
export async function readVideoFacts(file: Blob): Promise<VideoFacts | null> {
  try {
    return await read(file);
  } catch {
    return null;
  }
}

async function read(file: Blob): Promise<VideoFacts | null> {
  // Top-level boxes: ftyp, free, mdat (any size), moov — only their headers are read until moov.
  let at = 0;
  for (let i = 0; i < TOP_LEVEL_BOXES && at + 8 <= file.size; i++) {
    const v = await bytes(file, at, 16);
    const h = header(v, 0, file.size - at);
    if (!h) return null;
    if (i === 0 && h.type !== 'ftyp' && h.type !== 'moov' && h.type !== 'free' && h.type !== 'wide')
      return null;
    if (h.type === 'moov') return moov(file, at + h.body, at + h.end);
    at += h.end;
  }
  return null;
}

async function moov(file: Blob, from: number, to: number): Promise<VideoFacts | null> {
  if (to - from > MOOV_LIMIT) return null;
  const v = await bytes(file, from, to - from);
  const boxes = children(v, 0, v.byteLength);
  let createdAt: Date | null = null;
  const mvhd = boxes.get('mvhd');
  if (mvhd && mvhd.end - mvhd.body >= 12) {
    const version = v.getUint8(mvhd.body);
    const seconds = version === 1 ? Number(v.getBigUint64(mvhd.body + 4)) : v.getUint32(mvhd.body + 4);
    // 0 is "not set"; anything before 2000 is a camera whose clock was never set.
    const ms = (seconds - SECONDS_1904_TO_1970) * 1000;
    if (seconds > 0 && ms > Date.UTC(2000, 0, 1)) createdAt = new Date(ms);
  }
  const udta = boxes.get('udta');
  const items: Map<string, Box> = udta ? children(v, udta.body, udta.end) : new Map();
  return { createdAt, gps: xyz(v, items.get('\u00a9xyz')) ?? loci(v, items.get('loci')) };
}

type Box = { body: number; end: number } | undefined;

/** `©xyz` (phones, QuickTime): a 16-bit length, a 16-bit language, then ISO 6709 text. */
function xyz(v: DataView, box: Box): VideoFacts['gps'] {
  if (!box || box.end - box.body <= 4) return null;
  const length = Math.min(v.getUint16(box.body), box.end - box.body - 4);
  return parseIso6709(
    new TextDecoder().decode(new Uint8Array(v.buffer, v.byteOffset + box.body + 4, length)),
  );
}

/**
 * `loci` (3GPP, what ffmpeg writes into MP4): version and flags, language, a place name ending in a zero byte, a
 * role byte, then longitude, latitude and altitude as signed 16.16 fixed-point degrees.
 */
function loci(v: DataView, box: Box): VideoFacts['gps'] {
  if (!box) return null;
  let at = box.body + 6;
  while (at < box.end && v.getUint8(at) !== 0) at++;
  at += 2; // the name's zero byte and the role
  if (at + 8 > box.end) return null;
  const lon = v.getInt32(at) / 65536;
  const lat = v.getInt32(at + 4) / 65536;
  if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180) || (lat === 0 && lon === 0)) return null;
  // 16.16 fixed point keeps ~1.5e-5 degrees (under 2 m): rounded to the six places the form keeps.
  return { lat: Math.round(lat * 1e6) / 1e6, lon: Math.round(lon * 1e6) / 1e6 };
}
