import sharp from 'sharp';

/** A real JPEG photo of the given size (random noise, so each call gives different bytes). */
export async function makeJpeg(width = 1280, height = 720): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i += 997) raw[i] = Math.floor(Math.random() * 256);
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
