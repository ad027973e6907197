import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  BOMB_FFPROBE,
  bigJpeg,
  jpegBomb,
  pngBomb,
  randomAfterFtyp,
  smallMp4,
  uniquify,
  videoBomb,
} from './bombs.js';

const run = promisify(execFile);
/** A header read that does not refuse what it is asked to describe (sharp 0.35 checks its pixel limit here too). */
const meta = (media: Buffer) => sharp(media, { limitInputPixels: false }).metadata();

interface Probe {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number }[];
  format: { duration: string };
}

async function ffprobe(media: Buffer): Promise<Probe> {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-bomb-probe-'));
  try {
    const file = path.join(dir, 'media');
    await writeFile(file, media);
    const { stdout } = await run(BOMB_FFPROBE, [
      '-v',
      'error',
      '-show_streams',
      '-show_format',
      '-of',
      'json',
      file,
    ]);
    return JSON.parse(stdout) as Probe;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('pngBomb', () => {
  it('declares its size in a valid header, cheaply', async () => {
    const png = await pngBomb({
      width: 16383,
      height: 16383,
      bitDepth: 16,
      interlaced: true,
      complete: false,
    });
    const m = await meta(png);
    expect([m.width, m.height, m.depth, m.isProgressive]).toEqual([16383, 16383, 'ushort', true]);
    expect(png.length).toBeLessThan(1024);
  });

  it('holds every row of every Adam7 pass when complete', async () => {
    // Odd sizes leave some passes narrow or empty, where a wrong row count would show.
    for (const opts of [
      { width: 33, height: 17, bitDepth: 16 as const, interlaced: true },
      { width: 5, height: 3, bitDepth: 8 as const, interlaced: true, color: 'gray' as const },
      { width: 40, height: 9, bitDepth: 8 as const, interlaced: false, color: 'rgb' as const },
    ]) {
      const { data, info } = await sharp(await pngBomb(opts))
        .raw({ depth: 'ushort' })
        .toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([opts.width, opts.height]);
      expect(data.every((b) => b === 0)).toBe(true);
    }
  });
});

describe('jpegBomb', () => {
  it('declares huge dimensions in its frame header, baseline or progressive', async () => {
    for (const [side, progressive] of [
      [65000, false],
      [16000, true],
    ] as const) {
      const jpeg = await jpegBomb({ width: side, height: side, progressive });
      const m = await meta(jpeg);
      expect([m.width, m.height, m.isProgressive]).toEqual([side, side, progressive]);
      expect(jpeg.length).toBeLessThan(16 * 1024);
    }
  });

  it('carries thousands of legal scans with manyScans', async () => {
    const jpeg = await jpegBomb({ width: 16000, height: 16000, progressive: true, manyScans: true });
    const m = await meta(jpeg);
    expect([m.width, m.height, m.isProgressive]).toEqual([16000, 16000, true]);
    let scans = 0;
    for (let i = jpeg.indexOf(0xff); i >= 0; i = jpeg.indexOf(0xff, i + 1)) if (jpeg[i + 1] === 0xda) scans++;
    expect(scans).toBeGreaterThan(2000);
  });

  it('decodes, when complete, to flat grey of the declared size', async () => {
    const { data, info } = await sharp(await jpegBomb({ width: 1000, height: 600, complete: true }))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([1000, 600]);
    expect(data.every((b) => Math.abs(b - 128) <= 1)).toBe(true);
  });

  it('bigJpeg is a real progressive photo of that size', async () => {
    const m = await meta(await bigJpeg(1200, 900));
    expect([m.format, m.width, m.height, m.isProgressive]).toEqual(['jpeg', 1200, 900, true]);
  });
});

describe('videoBomb', () => {
  it('huge-frame-mov: one 16000×16000 MJPEG frame', async () => {
    const probe = await ffprobe(await videoBomb('huge-frame-mov'));
    expect(probe.streams.map((s) => [s.codec_name, s.width, s.height])).toEqual([['mjpeg', 16000, 16000]]);
  });

  it('many-streams-mp4: hundreds of streams, video and audio', async () => {
    const probe = await ffprobe(await videoBomb('many-streams-mp4'));
    expect(probe.streams).toHaveLength(200);
    expect(probe.streams.filter((s) => s.codec_type === 'audio')).toHaveLength(100);
  });

  it('long-duration: hours long', async () => {
    const probe = await ffprobe(await videoBomb('long-duration'));
    expect(Number(probe.format.duration)).toBeGreaterThanOrEqual(3 * 3600 - 10);
  });

  it('unsupported-codec: PNG frames in a MOV', async () => {
    const probe = await ffprobe(await videoBomb('unsupported-codec'));
    expect(probe.streams.map((s) => s.codec_name)).toEqual(['png']);
  });

  it('randomAfterFtyp looks like MP4 and is not media', async () => {
    const bytes = randomAfterFtyp(8192);
    expect([bytes.length, bytes.toString('latin1', 4, 12)]).toEqual([8192, 'ftypisom']);
    await expect(ffprobe(bytes)).rejects.toThrow();
  });

  it('smallMp4 is an ordinary 2 s 640×360 H.264 clip', async () => {
    const probe = await ffprobe(await smallMp4());
    expect(probe.streams.map((s) => [s.codec_name, s.width, s.height])).toEqual([['h264', 640, 360]]);
    expect(Number(probe.format.duration)).toBeCloseTo(2, 0);
  });
});

describe('uniquify', () => {
  it('changes the bytes and keeps the media', async () => {
    const png = await pngBomb({ width: 20000, height: 20000, complete: false });
    const jpeg = await jpegBomb({ width: 16000, height: 16000 });
    for (const media of [png, jpeg]) {
      const other = uniquify(media);
      expect(other.equals(media)).toBe(false);
      const [before, after] = [await meta(media), await meta(other)];
      expect([after.format, after.width, after.height]).toEqual([before.format, before.width, before.height]);
    }
    const mp4 = await smallMp4();
    const probe = await ffprobe(uniquify(mp4));
    expect(probe.streams.map((s) => s.codec_name)).toEqual(['h264']);
  });
});
