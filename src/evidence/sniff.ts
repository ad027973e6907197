export type EvidenceKind = 'photo' | 'video';
export interface Sniffed {
  kind: EvidenceKind;
  mime: string;
}

/** Bytes needed to decide a type. */
export const SNIFF_BYTES = 64;

/**
 * Decides a file's type from its first bytes, never from its name or declared content type.
 * JPEG: FF D8 FF. PNG: the 8-byte signature. ISO BMFF (MP4/MOV): a box whose type at offset 4 is "ftyp" (brand
 * "qt  " = QuickTime), or a bare QuickTime "moov"/"mdat"/"wide"/"free" first atom. WebM: the EBML magic with
 * DocType "webm" in the header.
 */
export function sniff(head: Buffer): Sniffed | null {
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff)
    return { kind: 'photo', mime: 'image/jpeg' };
  if (head.length >= 8 && head.subarray(0, 8).equals(PNG)) return { kind: 'photo', mime: 'image/png' };
  if (head.length >= 12) {
    const box = head.toString('latin1', 4, 8);
    if (box === 'ftyp') {
      const brand = head.toString('latin1', 8, 12);
      return brand === 'qt  '
        ? { kind: 'video', mime: 'video/quicktime' }
        : { kind: 'video', mime: 'video/mp4' };
    }
    if (QUICKTIME_ATOMS.has(box)) return { kind: 'video', mime: 'video/quicktime' };
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3 && head.includes('webm', 4, 'latin1')) {
    return { kind: 'video', mime: 'video/webm' };
  }
  return null;
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const QUICKTIME_ATOMS = new Set(['moov', 'mdat', 'wide', 'free']);
