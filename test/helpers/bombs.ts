import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';

/**
 * Hostile media for tests and `bench -- hostile`: files that are small on the wire and cost a decoder gigabytes or
 * hours. The expensive ones are made once per machine and kept under os.tmpdir()/jarima-bombs/, keyed by their
 * parameters (and GENERATION, bumped when a generator changes what it writes).
 */
const GENERATION = 1;
export const BOMB_DIR = path.join(os.tmpdir(), 'jarima-bombs');

const require = createRequire(import.meta.url);
/** The host's ffmpeg when there is one (newer encoders, e.g. 16000-pixel MJPEG), else the one npm ships. */
export const BOMB_FFMPEG = existsSync('/usr/bin/ffmpeg')
  ? '/usr/bin/ffmpeg'
  : (require('@ffmpeg-installer/ffmpeg').path as string);
export const BOMB_FFPROBE = existsSync('/usr/bin/ffprobe')
  ? '/usr/bin/ffprobe'
  : (require('@ffprobe-installer/ffprobe').path as string);

// ---------------------------------------------------------------------------------------------------------------
// PNG

export interface PngBombOptions {
  width: number;
  height: number;
  bitDepth?: 8 | 16;
  color?: 'gray' | 'rgb' | 'rgba';
  interlaced?: boolean;
  /** All rows present (the real bomb: a few MB that inflate to gigabytes) or only the header and one row (cheap). */
  complete?: boolean;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_COLOR = {
  gray: { type: 0, channels: 1 },
  rgb: { type: 2, channels: 3 },
  rgba: { type: 6, channels: 4 },
};
/** Adam7: each pass's first column and row and its steps. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * A valid PNG of any declared size whose pixels are all zero. Every row starts with filter byte 0 (None) and zero
 * pixels, so the whole filtered stream, interlaced or not, is `pngRawLength` zero bytes: deflating it needs no
 * row bookkeeping, only the right length.
 */
export async function pngBomb(opts: PngBombOptions): Promise<Buffer> {
  const o = { bitDepth: 8 as const, color: 'rgba' as const, interlaced: false, complete: true, ...opts };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(o.width, 0);
  ihdr.writeUInt32BE(o.height, 4);
  ihdr[8] = o.bitDepth;
  ihdr[9] = PNG_COLOR[o.color].type;
  ihdr[12] = o.interlaced ? 1 : 0;
  const head = Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr)]);
  const tail = pngChunk('IEND', Buffer.alloc(0));
  if (!o.complete) {
    // One row of the first pass: enough for a header check, and a decoder that starts finds the data cut short.
    const rowBytes = 1 + Math.ceil((Math.ceil(o.width / (o.interlaced ? 8 : 1)) * pixelBits(o)) / 8);
    return Buffer.concat([head, pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(rowBytes))), tail]);
  }
  const file = (idat: Buffer) => {
    // IDAT chunks of 1 MiB, as encoders split them.
    const chunks: Buffer[] = [];
    for (let i = 0; i < idat.length; i += 1 << 20)
      chunks.push(pngChunk('IDAT', idat.subarray(i, i + (1 << 20))));
    return Buffer.concat([head, ...chunks, tail]);
  };
  const raw = pngRawLength(o);
  // Small ones are quicker to make than to look up.
  if (raw <= 16 << 20) return file(zlib.deflateSync(Buffer.alloc(raw)));
  const key = `png-${o.width}x${o.height}-${o.bitDepth}-${o.color}${o.interlaced ? '-adam7' : ''}.png`;
  return cached(key, async (path) => writeFile(path, file(await deflateZeros(raw))));
}

function pixelBits(o: { bitDepth: number; color: keyof typeof PNG_COLOR }): number {
  return o.bitDepth * PNG_COLOR[o.color].channels;
}

/** The filtered (pre-deflate) size of an image: per pass, rows × (filter byte + packed pixels). */
export function pngRawLength(o: Required<Omit<PngBombOptions, 'complete'>>): number {
  const rowBytes = (cols: number) => 1 + Math.ceil((cols * pixelBits(o)) / 8);
  if (!o.interlaced) return o.height * rowBytes(o.width);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const cols = Math.ceil((o.width - x0) / dx);
    const rows = Math.ceil((o.height - y0) / dy);
    // A pass with no pixels has no rows at all, not even filter bytes.
    if (cols > 0 && rows > 0) total += rows * rowBytes(cols);
  }
  return total;
}

/** `length` zero bytes deflated at level 9 (about 1000:1), streamed so gigabytes never sit in memory. */
async function deflateZeros(length: number): Promise<Buffer> {
  const deflate = zlib.createDeflate({ level: 9, memLevel: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  const zeros = Buffer.alloc(8 << 20);
  for (let left = length; left > 0; left -= zeros.length) {
    if (!deflate.write(left >= zeros.length ? zeros : zeros.subarray(0, left))) {
      await new Promise((r) => deflate.once('drain', r));
    }
  }
  deflate.end();
  await ended;
  return Buffer.concat(out);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(zlib.crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

// ---------------------------------------------------------------------------------------------------------------
// JPEG

export interface JpegBombOptions {
  width: number;
  height: number;
  progressive?: boolean;
  /**
   * Replace the encoder's ~10 scans with the most a legal progression allows: for every component and AC
   * coefficient one first scan at bit 13 and 13 refinements (about 2600 scans, 26 KB). Each scan walks every block
   * of the declared image. libvips stops after a number of corrupt-data warnings, so under sharp 0.35 this costs
   * 3× a plain progressive bomb, not 260×: 16000×16000 failed after 6.7 s here against 2.2 s.
   */
  manyScans?: boolean;
  /**
   * Every block present: a legal flat-grey baseline JPEG of the declared size (4 bytes per 16×16 block on the wire,
   * width×height×3 bytes in a decoder). `progressive` and `manyScans` do not apply.
   */
  complete?: boolean;
}

/** A small real JPEG whose frame header (SOF0/SOF2) is patched to declare `width`×`height` (at most 65535). */
export async function jpegBomb(opts: JpegBombOptions): Promise<Buffer> {
  if (opts.complete) return flatJpeg(opts.width, opts.height);
  const small = await sharp({
    create: {
      width: 64,
      height: 64,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .jpeg({ quality: 80, progressive: opts.progressive ?? false })
    .toBuffer();
  const jpeg = Buffer.from(small);
  const sof = jpegSegments(jpeg).find((s) => isSof(s.marker));
  if (!sof) throw new Error('sharp wrote a JPEG without a frame header');
  jpeg.writeUInt16BE(opts.height, sof.offset + 5);
  jpeg.writeUInt16BE(opts.width, sof.offset + 7);
  return opts.manyScans ? withManyScans(jpeg) : jpeg;
}

/**
 * The frame header and every Huffman table of a progressive JPEG, followed by empty scans: one DC scan, then per
 * component and coefficient k (one component per AC scan, as the standard requires) a first scan of k at Al = 13
 * and its refinements Ah = a + 1, Al = a down to 0. A decoder finds no data in any of them (a warning, after
 * which it keeps going with zeros) but must still visit every block of the declared size in each.
 */
function withManyScans(jpeg: Buffer): Buffer {
  const segments = jpegSegments(jpeg);
  const firstScan = segments.find((s) => s.marker === 0xda)!;
  const sof = segments.find((s) => isSof(s.marker))!;
  if (jpeg[sof.offset + 1] !== 0xc2) throw new Error('manyScans needs progressive: true');
  const components = jpeg[sof.offset + 9]!;
  const ids = Array.from({ length: components }, (_, i) => jpeg[sof.offset + 10 + i * 3]!);
  // Tables 0 (luma) and 1 (chroma) as the encoder defined them, DC and AC, wherever they came.
  const tables = segments
    .filter((s) => s.marker === 0xc4)
    .map((s) => jpeg.subarray(s.offset, s.offset + 2 + s.length));
  const scan = (comps: number[], ss: number, se: number, ah: number, al: number) => {
    const sos = Buffer.alloc(8 + comps.length * 2);
    sos.writeUInt16BE(0xffda, 0);
    sos.writeUInt16BE(6 + comps.length * 2, 2);
    sos[4] = comps.length;
    comps.forEach((c, i) => {
      sos[5 + i * 2] = ids[c]!;
      sos[6 + i * 2] = c === 0 ? 0x00 : 0x11;
    });
    sos.set([ss, se, (ah << 4) | al], 5 + comps.length * 2);
    return sos;
  };
  const scans = [scan([...ids.keys()], 0, 0, 0, 0)];
  for (let c = 0; c < components; c++) {
    for (let k = 1; k <= 63; k++) {
      scans.push(scan([c], k, k, 0, 13));
      for (let a = 12; a >= 0; a--) scans.push(scan([c], k, k, a + 1, a));
    }
  }
  return Buffer.concat([jpeg.subarray(0, firstScan.offset), ...tables, ...scans, Buffer.from([0xff, 0xd9])]);
}

/** A real, legal large photo (a decoder must really spend width×height×3 bytes on it), cached. */
export async function bigJpeg(width = 7000, height = 7000, progressive = true): Promise<Buffer> {
  return cached(`big-${width}x${height}${progressive ? '-progressive' : ''}.jpg`, async (file) => {
    // Sparse noise on black: every block differs, yet the file stays a few MB.
    const raw = Buffer.alloc(width * height * 3);
    for (let i = 0; i < raw.length; i += 389) raw[i] = Math.floor(Math.random() * 256);
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 80, progressive })
      .toFile(file);
  });
}

/**
 * A flat grey (128, 128, 128) baseline 4:2:0 JPEG of any size, made without encoding it: grey 128 is 0 after the
 * level shift, so every block is "DC difference 0, end of block" and, with the standard Huffman tables, every
 * 16×16 MCU is the same 32 bits. The MCU is taken from sharp's own encoding of one, then repeated. Making a
 * 16000×16000 one this way takes milliseconds; ffmpeg's MJPEG encoder took 13 s and 3 GB, sharp 8 s.
 */
async function flatJpeg(width: number, height: number): Promise<Buffer> {
  const encode = (w: number, h: number) =>
    sharp({ create: { width: w, height: h, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .jpeg({ quality: 50, chromaSubsampling: '4:2:0', optimiseCoding: false })
      .toBuffer();
  const one = await encode(16, 16);
  const mcu = entropyData(one);
  // If the MCU ever stops being byte-aligned or self-contained, repeating it would write a corrupt file.
  if (!entropyData(await encode(32, 32)).equals(Buffer.concat([mcu, mcu, mcu, mcu]))) {
    throw new Error('flat JPEG blocks are not a repeatable byte pattern with this libjpeg');
  }
  const sos = jpegSegments(one)
    .filter((s) => s.marker === 0xda)
    .at(-1)!;
  const header = Buffer.from(one.subarray(0, sos.offset + 2 + sos.length));
  const sof = jpegSegments(header).find((s) => isSof(s.marker))!;
  header.writeUInt16BE(height, sof.offset + 5);
  header.writeUInt16BE(width, sof.offset + 7);
  const blocks = Buffer.alloc(Math.ceil(width / 16) * Math.ceil(height / 16) * mcu.length);
  for (let i = 0; i < blocks.length; i += mcu.length) mcu.copy(blocks, i);
  return Buffer.concat([header, blocks, Buffer.from([0xff, 0xd9])]);
}

/** The entropy-coded bytes of a single-scan JPEG: after the SOS header, before EOI. */
function entropyData(jpeg: Buffer): Buffer {
  const sos = jpegSegments(jpeg)
    .filter((s) => s.marker === 0xda)
    .at(-1)!;
  return jpeg.subarray(sos.offset + 2 + sos.length, jpeg.length - 2);
}

/** Every marker segment after SOI up to EOI, stepping over entropy-coded data byte by byte. */
function jpegSegments(jpeg: Buffer): { marker: number; offset: number; length: number }[] {
  const segments: { marker: number; offset: number; length: number }[] = [];
  let i = 2;
  while (i + 4 <= jpeg.length) {
    if (jpeg[i] !== 0xff) {
      // Entropy-coded data after an SOS: skip to the next marker that is not a stuffed 0xFF00 or a restart.
      i++;
      continue;
    }
    const marker = jpeg[i + 1]!;
    if (marker === 0x00 || marker === 0xff || (marker >= 0xd0 && marker <= 0xd7)) {
      i += marker === 0xff ? 1 : 2;
      continue;
    }
    if (marker === 0xd9) break;
    const length = jpeg.readUInt16BE(i + 2);
    segments.push({ marker, offset: i, length });
    i += 2 + length;
  }
  return segments;
}

/** SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

// ---------------------------------------------------------------------------------------------------------------
// Video

export type VideoBombKind = 'huge-frame-mov' | 'many-streams-mp4' | 'long-duration' | 'unsupported-codec';
export const VIDEO_BOMB_KINDS: readonly VideoBombKind[] = [
  'huge-frame-mov',
  'many-streams-mp4',
  'long-duration',
  'unsupported-codec',
];

export interface VideoBombOptions {
  /** huge-frame-mov: the frame's side (ffmpeg refuses frames past (w+128)·(h+128) = 2³¹/8, so at most 16256). */
  side?: number;
  /** many-streams-mp4: how many streams, half video and half audio. */
  streams?: number;
  /** long-duration: the clip's length. */
  hours?: number;
  /** unsupported-codec: a codec outside H.264/H.265/VP8/VP9/AV1/MJPEG. */
  codec?: 'png' | 'qtrle' | 'ffv1';
}

/** What each kind is made with by default, for tests and reports to state what they fed the server. */
export const VIDEO_BOMB_DEFAULTS = { side: 16000, streams: 200, hours: 3, codec: 'png' } as const;

export async function videoBomb(kind: VideoBombKind, opts: VideoBombOptions = {}): Promise<Buffer> {
  const o = { ...VIDEO_BOMB_DEFAULTS, ...opts };
  switch (kind) {
    case 'huge-frame-mov':
      // One complete flat grey MJPEG frame, muxed without re-encoding: a few MB that decode to side²×1.5 bytes.
      return cached(`huge-frame-${o.side}.mov`, async (file) => {
        const frame = `${file}.jpg`;
        await writeFile(frame, await flatJpeg(o.side, o.side));
        await ffmpeg(['-f', 'mjpeg', '-i', frame, '-c:v', 'copy', '-f', 'mov', file]);
      });
    case 'many-streams-mp4': {
      const video = Math.ceil(o.streams / 2);
      const audio = o.streams - video;
      return cached(`many-streams-${o.streams}.mp4`, (file) =>
        ffmpeg([
          ...['-f', 'lavfi', '-i', 'color=c=black:s=16x16:r=1'],
          ...['-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono'],
          ...Array.from({ length: video }, () => ['-map', '0:v']).flat(),
          ...Array.from({ length: audio }, () => ['-map', '1:a']).flat(),
          ...['-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
          ...['-f', 'mp4', file],
        ]),
      );
    }
    case 'long-duration':
      // One 16×16 frame every 10 s: hours of timeline, about a thousand frames to encode.
      return cached(`long-${o.hours}h.mp4`, (file) =>
        ffmpeg([
          ...['-f', 'lavfi', '-i', 'color=c=blue:s=16x16:r=1/10'],
          ...['-t', String(o.hours * 3600), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
          ...['-f', 'mp4', file],
        ]),
      );
    case 'unsupported-codec':
      return cached(`codec-${o.codec}.mov`, (file) =>
        ffmpeg([
          ...['-f', 'lavfi', '-i', 'testsrc=s=320x240:r=5', '-t', '2'],
          ...['-c:v', o.codec, ...(o.codec === 'ffv1' ? ['-pix_fmt', 'yuv420p'] : []), '-f', 'mov', file],
        ]),
      );
  }
}

/** An ordinary H.264 MP4 (2 s 640×360 unless asked otherwise), the control beside the bombs. */
export async function smallMp4(width = 640, height = 360, seconds = 2): Promise<Buffer> {
  return cached(`small-${width}x${height}-${seconds}s.mp4`, (file) =>
    ffmpeg([
      ...['-f', 'lavfi', '-i', `testsrc=s=${width}x${height}:r=25`, '-t', String(seconds)],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-f', 'mp4', file],
    ]),
  );
}

/** An `ftyp isom` box (so type sniffing says MP4) followed by random bytes: not media at all. */
export function randomAfterFtyp(bytes = 64 * 1024): Buffer {
  const ftyp = Buffer.alloc(32);
  ftyp.writeUInt32BE(32, 0);
  ftyp.write('ftypisom', 4, 'latin1');
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write('isomiso2avc1mp41', 16, 'latin1');
  return Buffer.concat([ftyp, randomBytes(Math.max(0, bytes - ftyp.length))]);
}

/**
 * The same media with a few random bytes where every decoder ignores them (a PNG tEXt chunk, a JPEG COM segment, a
 * trailing MP4/MOV `free` box). Evidence is content-addressed, so a bomb sent twice must differ to be decoded twice.
 */
export function uniquify(media: Buffer): Buffer {
  const nonce = randomBytes(16).toString('hex');
  if (media.subarray(0, 8).equals(PNG_SIGNATURE)) {
    // After IHDR, which must come first: signature (8) + IHDR chunk (25).
    const text = pngChunk('tEXt', Buffer.from(`Comment\0${nonce}`, 'latin1'));
    return Buffer.concat([media.subarray(0, 33), text, media.subarray(33)]);
  }
  if (media[0] === 0xff && media[1] === 0xd8) {
    const com = Buffer.alloc(4 + nonce.length);
    com.writeUInt16BE(0xfffe, 0);
    com.writeUInt16BE(2 + nonce.length, 2);
    com.write(nonce, 4, 'latin1');
    return Buffer.concat([media.subarray(0, 2), com, media.subarray(2)]);
  }
  const free = Buffer.alloc(8 + nonce.length);
  free.writeUInt32BE(free.length, 0);
  free.write('free', 4, 'latin1');
  free.write(nonce, 8, 'latin1');
  return Buffer.concat([media, free]);
}

// ---------------------------------------------------------------------------------------------------------------

async function ffmpeg(args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    execFile(BOMB_FFMPEG, ['-v', 'error', '-y', ...args], { timeout: 60_000 }, (err, _out, stderr) =>
      err ? reject(new Error(`ffmpeg ${args.join(' ')}: ${stderr || err.message}`)) : resolve(),
    ),
  );
}

/**
 * The file `key` under BOMB_DIR, made by `make` if absent. `make` writes into a private directory and the result is
 * renamed into place, so test files generating the same bomb in parallel never read a half-written one.
 */
async function cached(key: string, make: (file: string) => Promise<void>): Promise<Buffer> {
  const file = path.join(BOMB_DIR, `g${GENERATION}-${key}`);
  try {
    return await readFile(file);
  } catch {
    await mkdir(BOMB_DIR, { recursive: true });
    const dir = await mkdtemp(path.join(BOMB_DIR, 'tmp-'));
    try {
      const tmp = path.join(dir, key);
      await make(tmp);
      await rename(tmp, file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    return readFile(file);
  }
}
