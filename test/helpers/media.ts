import sharp from 'sharp';
import { Media } from '../../src/evidence/media.js';
import { type MediaTools, resolveMediaTools } from '../../src/evidence/media-tools.js';
import { loadConfig } from '../../src/platform/config/config.js';

let tools: Promise<MediaTools> | null = null;
/** The ffmpeg/ffprobe the platform would use here (the host's when installed), found once per test file. */
export function mediaTools(): Promise<MediaTools> {
  tools ??= resolveMediaTools('auto');
  return tools;
}

/** Evidence decoding as the platform sets it up, with these settings over the defaults. */
export async function testMedia(env: Record<string, string> = {}): Promise<Media> {
  return new Media(await mediaTools(), loadConfig(env));
}

/** A real JPEG photo of the given size (random noise, so each call gives different bytes). */
export async function makeJpeg(width = 1280, height = 720): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  // At least 64 random bytes whatever the size, so two photos never come out byte-identical (a 16×16 photo with one
  // random byte collided 1 time in 256 and turned a 201 into a 200).
  const step = Math.min(997, Math.max(1, Math.floor(raw.length / 64)));
  for (let i = 0; i < raw.length; i += step) raw[i] = Math.floor(Math.random() * 256);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

export async function makePng(width = 640, height = 480): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .png()
    .toBuffer();
}

/** The first bytes of an MP4 (ftyp isom) followed by filler: enough for type detection. */
export function mp4Head(size = 4096): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(32, 0);
  b.write('ftypisom', 4, 'latin1');
  b.write('isomiso2avc1mp41', 16, 'latin1');
  return b;
}

/** A JPEG carrying EXIF time (and optionally GPS and camera), as a phone would write it. */
export async function makeJpegWithExif(opts: {
  width?: number;
  height?: number;
  takenAt?: string; // "YYYY:MM:DD HH:MM:SS", local time
  offset?: string; // "+05:00"
  gps?: { lat: number; lon: number };
  camera?: { make: string; model: string };
}): Promise<Buffer> {
  const dms = (v: number) => {
    const a = Math.abs(v);
    const d = Math.floor(a);
    const m = Math.floor((a - d) * 60);
    const s = Math.round(((a - d) * 60 - m) * 60 * 100);
    return `${d}/1 ${m}/1 ${s}/100`;
  };
  const raw = Buffer.alloc((opts.width ?? 1280) * (opts.height ?? 720) * 3);
  for (let i = 0; i < raw.length; i += 613) raw[i] = Math.floor(Math.random() * 256);
  return sharp(raw, { raw: { width: opts.width ?? 1280, height: opts.height ?? 720, channels: 3 } })
    .jpeg({ quality: 80 })
    .withExif({
      IFD0: opts.camera ? { Make: opts.camera.make, Model: opts.camera.model } : {},
      IFD2: {
        ...(opts.takenAt ? { DateTimeOriginal: opts.takenAt } : {}),
        ...(opts.offset ? { OffsetTimeOriginal: opts.offset } : {}),
      },
      IFD3: opts.gps
        ? {
            GPSLatitudeRef: opts.gps.lat >= 0 ? 'N' : 'S',
            GPSLatitude: dms(opts.gps.lat),
            GPSLongitudeRef: opts.gps.lon >= 0 ? 'E' : 'W',
            GPSLongitude: dms(opts.gps.lon),
          }
        : {},
    })
    .toBuffer();
}

/**
 * A real video from ffmpeg's lavfi test source (the ffmpeg that ships in node_modules): H.264 in MP4, or VP8 in
 * WebM. `fps` low keeps long clips cheap to make. Optional creation time and ISO 6709 location tags.
 */
export async function makeVideo(opts: {
  width: number;
  height: number;
  seconds: number;
  fps?: number;
  format?: 'mp4' | 'webm';
  creationTime?: string;
  location?: string;
  /** MP4 with its index (`moov`) before the media, as streaming encoders write it; ffmpeg's default is after. */
  faststart?: boolean;
}): Promise<Buffer> {
  const { execFile } = await import('node:child_process');
  const { mkdtemp, readFile, rm } = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const { ffmpeg } = await mediaTools();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-video-'));
  const format = opts.format ?? 'mp4';
  const out = path.join(dir, `clip.${format}`);
  const codec =
    format === 'mp4'
      ? ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast']
      : ['-c:v', 'libvpx', '-b:v', '200k'];
  const tags = [
    ...(opts.creationTime ? ['-metadata', `creation_time=${opts.creationTime}`] : []),
    ...(opts.location ? ['-metadata', `location=${opts.location}`] : []),
    ...(opts.faststart ? ['-movflags', '+faststart'] : []),
  ];
  const args = [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${opts.width}x${opts.height}:rate=${opts.fps ?? 5}`,
    '-t',
    String(opts.seconds),
    ...codec,
    ...tags,
    '-y',
    out,
  ];
  await new Promise<void>((resolve, reject) =>
    execFile(ffmpeg, args, { timeout: 120_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`ffmpeg: ${stderr || err.message}`)) : resolve(),
    ),
  );
  try {
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A photo-like scene (random shapes on a gradient) whose perceptual hash survives re-encoding. */
export async function makeScene(width = 1280, height = 720): Promise<Buffer> {
  const r = () => Math.floor(Math.random() * 255);
  const shapes = Array.from(
    { length: 12 },
    () =>
      `<rect x="${r() * 4}" y="${r() * 2}" width="${80 + r()}" height="${60 + r()}" fill="rgb(${r()},${r()},${r()})"/>` +
      `<circle cx="${r() * 5}" cy="${r() * 3}" r="${20 + r() / 3}" fill="rgb(${r()},${r()},${r()})"/>`,
  ).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g"><stop offset="0" stop-color="rgb(${r()},${r()},${r()})"/><stop offset="1" stop-color="rgb(${r()},${r()},${r()})"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>${shapes}</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer();
}
