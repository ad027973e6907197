/**
 * Reads the camera's own time (and GPS position, when present) from a JPEG's EXIF block. A general EXIF library
 * would add tens of kilobytes to the page for the four tags we need. Only the head of a file is read: EXIF sits in
 * the APP1 segment at the start.
 */

export interface CameraFacts {
  /** "YYYY:MM:DD HH:MM:SS" as the camera wrote it (its local time). */
  dateTimeOriginal: string | null;
  /** "+05:00" when the camera recorded its offset (OffsetTimeOriginal). */
  offset: string | null;
  gps: { lat: number; lon: number } | null;
}

export const EXIF_HEAD_BYTES = 128 * 1024;

const TAG_EXIF_IFD = 0x8769;
const TAG_GPS_IFD = 0x8825;
const TAG_DATETIME_ORIGINAL = 0x9003;
const TAG_OFFSET_TIME_ORIGINAL = 0x9011;
const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };

interface Entry {
  type: number;
  count: number;
  /** Where the value is: inline in the entry when it fits in 4 bytes, else at the offset it names. */
  valueAt: number;
}

/** EXIF facts of a JPEG, or null for anything that is not a JPEG with an EXIF block. Never throws. */
export function readCameraFacts(buffer: ArrayBuffer): CameraFacts | null {
  try {
    return parse(new DataView(buffer));
  } catch {
    return null;
  }
}

function parse(view: DataView): CameraFacts | null {
  if (view.byteLength < 4 || view.getUint16(0) !== 0xffd8) return null;
  let p = 2;
  while (p + 4 <= view.byteLength) {
    if (view.getUint8(p) !== 0xff) return null;
    const marker = view.getUint8(p + 1);
    // Start of scan or end of image: the metadata segments are behind us.
    if (marker === 0xda || marker === 0xd9) return null;
    const length = view.getUint16(p + 2);
    // APP1 holding "Exif\0\0"
    if (marker === 0xe1 && view.getUint32(p + 4) === 0x45786966 && view.getUint16(p + 8) === 0) {
      return readTiff(view, p + 10);
    }
    p += 2 + length;
  }
  return null;
}

function readTiff(view: DataView, tiff: number): CameraFacts {
  const order = view.getUint16(tiff);
  const little = order === 0x4949;
  if (!little && order !== 0x4d4d) throw new Error('not TIFF');
  const u16 = (at: number) => view.getUint16(at, little);
  const u32 = (at: number) => view.getUint32(at, little);

  const ifd = (offset: number): Map<number, Entry> => {
    const entries = new Map<number, Entry>();
    const start = tiff + offset;
    const n = u16(start);
    for (let i = 0; i < n; i++) {
      const e = start + 2 + i * 12;
      const type = u16(e + 2);
      const count = u32(e + 4);
      const size = (TYPE_SIZES[type] ?? 1) * count;
      entries.set(u16(e), { type, count, valueAt: size <= 4 ? e + 8 : tiff + u32(e + 8) });
    }
    return entries;
  };
  const ascii = (e: Entry | undefined): string | null => {
    if (e?.type !== 2) return null;
    let s = '';
    for (let i = 0; i < e.count; i++) {
      const c = view.getUint8(e.valueAt + i);
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s.trim() || null;
  };
  const rationals = (e: Entry | undefined): number[] | null => {
    if (e?.type !== 5) return null;
    const out: number[] = [];
    for (let i = 0; i < e.count; i++) {
      const den = u32(e.valueAt + i * 8 + 4);
      out.push(den === 0 ? 0 : u32(e.valueAt + i * 8) / den);
    }
    return out;
  };

  const ifd0 = ifd(u32(tiff + 4));
  const pointer = (tag: number) => {
    const e = ifd0.get(tag);
    return e ? u32(e.valueAt) : null;
  };
  const exifAt = pointer(TAG_EXIF_IFD);
  const gpsAt = pointer(TAG_GPS_IFD);
  const exif = exifAt === null ? new Map<number, Entry>() : ifd(exifAt);

  let dateTimeOriginal = ascii(exif.get(TAG_DATETIME_ORIGINAL));
  if (dateTimeOriginal && !/^\d{4}:\d{2}:\d{2} \d{2}:\d{2}:\d{2}/.test(dateTimeOriginal))
    dateTimeOriginal = null;
  const offset = ascii(exif.get(TAG_OFFSET_TIME_ORIGINAL));

  let gps: CameraFacts['gps'] = null;
  if (gpsAt !== null) {
    const g = ifd(gpsAt);
    const lat = rationals(g.get(2));
    const lon = rationals(g.get(4));
    if (lat?.length === 3 && lon?.length === 3) {
      const deg = (v: number[]) => v[0]! + v[1]! / 60 + v[2]! / 3600;
      const latRef = ascii(g.get(1));
      const lonRef = ascii(g.get(3));
      const la = deg(lat) * (latRef === 'S' ? -1 : 1);
      const lo = deg(lon) * (lonRef === 'W' ? -1 : 1);
      if (Number.isFinite(la) && Number.isFinite(lo) && (la !== 0 || lo !== 0)) gps = { lat: la, lon: lo };
    }
  }
  return {
    dateTimeOriginal: dateTimeOriginal?.slice(0, 19) ?? null,
    offset: offset && /^[+-]\d{2}:\d{2}$/.test(offset) ? offset : null,
    gps,
  };
}
