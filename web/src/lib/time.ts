/**
 * Incident times are entered and shown on Tashkent's clock (UTC+5 all year, no daylight saving), whatever time
 * zone the phone is set to: the value of a `datetime-local` field ("YYYY-MM-DDTHH:mm") is read as Tashkent time.
 */
const TASHKENT_OFFSET_MS = 5 * 3600_000;

/** An instant as a Tashkent `datetime-local` value. */
export function toTashkentLocal(instant: Date): string {
  return new Date(instant.getTime() + TASHKENT_OFFSET_MS).toISOString().slice(0, 16);
}

/** A Tashkent `datetime-local` value as an ISO instant with its offset, or null if it is not one. */
export function tashkentLocalToIso(local: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(local)) return null;
  const iso = `${local.length === 16 ? `${local}:00` : local}+05:00`;
  return Number.isNaN(Date.parse(iso)) ? null : iso;
}

/**
 * EXIF DateTimeOriginal ("YYYY:MM:DD HH:MM:SS") as a Tashkent `datetime-local` value: read in the camera's own
 * offset when it wrote one, else as Tashkent time (a camera clock in Uzbekistan keeps local time).
 */
export function exifToTashkentLocal(dateTimeOriginal: string, offset: string | null): string | null {
  const m = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})/.exec(dateTimeOriginal);
  if (!m) return null;
  const instant = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${offset ?? '+05:00'}`);
  return Number.isNaN(instant) ? null : toTashkentLocal(new Date(instant));
}
