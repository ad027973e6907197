/** What a picture's measures say about its use as evidence: told to the citizen at upload, and to the inspector. */
export interface PictureWarning {
  type: 'blurry' | 'dark' | 'low_resolution';
  severity: 'info' | 'warning';
  detail: Record<string, number | null>;
}

// Below these the picture is probably unusable; measured on sharp-made test images and phone photos.
const BLURRY_BELOW = 40;
const DARK_BELOW = 35;
const HD_PIXELS = 1280 * 720;

export function pictureWarnings(e: {
  width: number | null;
  height: number | null;
  sharpness: number | null;
  brightness: number | null;
}): PictureWarning[] {
  const out: PictureWarning[] = [];
  if (e.sharpness !== null && e.sharpness < BLURRY_BELOW) {
    out.push({ type: 'blurry', severity: 'warning', detail: { sharpness: e.sharpness } });
  }
  if (e.brightness !== null && e.brightness < DARK_BELOW) {
    out.push({ type: 'dark', severity: 'warning', detail: { brightness: e.brightness } });
  }
  if ((e.width ?? 0) * (e.height ?? 0) < HD_PIXELS) {
    out.push({ type: 'low_resolution', severity: 'info', detail: { width: e.width, height: e.height } });
  }
  return out;
}
