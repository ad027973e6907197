/**
 * Metadata removal from photos without decoding them: the pixels a driver sees are the bytes the reporter sent, only
 * the segments that can name a person, a device or a place (EXIF with its GPS, XMP, IPTC, comments) are gone.
 */

const JFIF = Buffer.from('JFIF\0', 'latin1');

/**
 * A JPEG without its APP1–APP15 segments (EXIF, XMP, ICC, IPTC/Photoshop, makers' notes) or comments, wherever they
 * are (a progressive file may carry segments between its scans). APP0 is kept only when it is the JFIF header
 * (density and an optional thumbnail of the same pixels, no metadata). Entropy-coded data is copied as it is; the
 * file ends at its end-of-image marker, so whatever a camera appended after it (an MPF second picture with its own
 * EXIF and GPS, a maker's trailer) is dropped too. Throws on a file that is not a well-formed JPEG.
 */
export function stripJpeg(input: Buffer): Buffer {
  if (input.length < 4 || input[0] !== 0xff || input[1] !== 0xd8) throw new Error('not a JPEG');
  const parts: Buffer[] = [input.subarray(0, 2)];
  let scanned = false;
  let i = 2;
  while (i < input.length) {
    if (input[i] !== 0xff) throw new Error(`JPEG: no marker at ${i}`);
    const marker = input[i + 1]!;
    // Fill bytes before a marker.
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0xd9) {
      if (!scanned) throw new Error('JPEG: no start of scan');
      parts.push(input.subarray(i, i + 2));
      return Buffer.concat(parts);
    }
    // Markers without a length.
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      parts.push(input.subarray(i, i + 2));
      i += 2;
      continue;
    }
    if (i + 4 > input.length) throw new Error('JPEG: truncated segment header');
    const length = input.readUInt16BE(i + 2);
    const end = i + 2 + length;
    if (length < 2 || end > input.length) throw new Error('JPEG: segment past the end of the file');
    const isApp = marker >= 0xe0 && marker <= 0xef;
    const keep =
      marker === 0xfe ? false : isApp ? marker === 0xe0 && input.subarray(i + 4, i + 9).equals(JFIF) : true;
    if (keep) parts.push(input.subarray(i, end));
    i = end;
    // Start of scan: entropy-coded data up to the next marker (0xFF then neither a stuffed 0x00 nor a restart).
    if (marker === 0xda) {
      scanned = true;
      const from = i;
      while (i + 1 < input.length) {
        if (input[i] === 0xff) {
          const next = input[i + 1]!;
          if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7) && next !== 0xff) break;
        }
        i++;
      }
      if (i + 1 >= input.length) throw new Error('JPEG: no end of image');
      parts.push(input.subarray(from, i));
    }
  }
  throw new Error('JPEG: no end of image');
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The chunks that describe the pixels. Everything else — tEXt/zTXt/iTXt (XMP lives in iTXt), eXIf, tIME, iCCP (a
 * profile's description can name a device) and any private chunk — is dropped.
 */
const PNG_KEEP = new Set([
  'IHDR',
  'PLTE',
  'IDAT',
  'IEND',
  'tRNS',
  'gAMA',
  'cHRM',
  'sRGB',
  'sBIT',
  'bKGD',
  'pHYs',
]);

/** A PNG with only the chunks in PNG_KEEP, each copied with its CRC. Throws on a malformed PNG. */
export function stripPng(input: Buffer): Buffer {
  if (input.length < 8 || !input.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG');
  const parts: Buffer[] = [PNG_SIGNATURE];
  let i = 8;
  while (i + 12 <= input.length) {
    const length = input.readUInt32BE(i);
    const type = input.toString('latin1', i + 4, i + 8);
    const end = i + 12 + length;
    if (end > input.length) throw new Error('PNG: chunk past the end of the file');
    if (PNG_KEEP.has(type)) parts.push(input.subarray(i, end));
    if (type === 'IEND') return Buffer.concat(parts);
    i = end;
  }
  throw new Error('PNG: no IEND chunk');
}
