import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import sharp from '../evidence/sharp.js';
import { stripJpeg, stripPng } from './metadata-strip.js';

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

const chunkTypes = (png: Buffer) => {
  const types: string[] = [];
  for (let i = 8; i + 8 <= png.length; i += 12 + png.readUInt32BE(i))
    types.push(png.toString('latin1', i + 4, i + 8));
  return types;
};

describe('metadata removal', () => {
  it('drops the text, EXIF and time chunks of a PNG and keeps its pixels', async () => {
    const plain = await sharp({ create: { width: 32, height: 16, channels: 3, background: '#3a7' } })
      .png()
      .toBuffer();
    const ihdrEnd = 8 + 12 + plain.readUInt32BE(8);
    const tagged = Buffer.concat([
      plain.subarray(0, ihdrEnd),
      chunk('tEXt', Buffer.from('Author\0+998901234567', 'latin1')),
      chunk('iTXt', Buffer.from('XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>', 'latin1')),
      chunk('eXIf', Buffer.from('MM\0*GPS', 'latin1')),
      chunk('tIME', Buffer.from([7, 234, 12, 7, 10, 0, 0])),
      plain.subarray(ihdrEnd),
    ]);
    const out = stripPng(tagged);
    expect(chunkTypes(tagged)).toEqual(expect.arrayContaining(['tEXt', 'iTXt', 'eXIf', 'tIME']));
    expect(chunkTypes(out)).toEqual(chunkTypes(plain));
    expect(out.toString('latin1')).not.toMatch(/998901234567|xmpmeta|GPS/);
    const [a, b] = await Promise.all([out, plain].map((p) => sharp(p).raw().toBuffer()));
    expect(a!.equals(b!)).toBe(true);
  });

  it('keeps the JPEG picture data byte for byte and refuses what is not a JPEG or PNG', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 32, channels: 3, background: '#a33' } })
      .jpeg()
      .withExif({ IFD0: { Make: 'Reporterphone' } })
      .toBuffer();
    const out = stripJpeg(jpeg);
    expect(jpeg.includes('Reporterphone')).toBe(true);
    expect(out.includes('Reporterphone')).toBe(false);
    expect(out.length).toBeLessThan(jpeg.length);
    const sos = (b: Buffer) => b.subarray(b.indexOf(Buffer.from([0xff, 0xda])));
    expect(sos(out).equals(sos(jpeg))).toBe(true);
    expect(() => stripJpeg(Buffer.from('not a jpeg'))).toThrow();
    expect(() => stripJpeg(jpeg.subarray(0, 30))).toThrow();
    expect(() => stripPng(Buffer.from('not a png at all'))).toThrow();
  });

  it('drops segments between progressive scans and everything after the end of the image', async () => {
    const picture = sharp({ create: { width: 96, height: 64, channels: 3, background: '#2a6' } }).jpeg({
      progressive: true,
    });
    const progressive = await picture.toBuffer();
    const second = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } })
      .jpeg()
      .withExif({ IFD0: { Make: 'Trailerphone' } })
      .toBuffer();
    // A comment slipped in before the second scan, and an appended picture with its own EXIF (as MPF files carry).
    const secondScan = progressive.indexOf(
      Buffer.from([0xff, 0xda]),
      progressive.indexOf(Buffer.from([0xff, 0xda])) + 2,
    );
    const comment = Buffer.concat([
      Buffer.from([0xff, 0xfe, 0x00, 0x0e]),
      Buffer.from('+998901234567', 'latin1'),
    ]);
    const tagged = Buffer.concat([
      progressive.subarray(0, secondScan),
      comment.subarray(0, 4 + 12),
      progressive.subarray(secondScan),
      second,
    ]);
    const out = stripJpeg(tagged);
    expect(out.includes('Trailerphone')).toBe(false);
    expect(out.includes('99890123456')).toBe(false);
    expect(out.subarray(-2).equals(Buffer.from([0xff, 0xd9]))).toBe(true);
    const [a, b] = await Promise.all([out, progressive].map((p) => sharp(p).raw().toBuffer()));
    expect(a!.equals(b!)).toBe(true);
  });
});
