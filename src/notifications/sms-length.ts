/**
 * How many SMS segments a text costs (3GPP TS 23.038 / 23.040). A text entirely in the GSM 7-bit alphabet gets 160
 * characters in one segment, 153 per segment once split (the rest carries the concatenation header); anything else
 * is sent as UCS-2: 70, then 67. Characters of the GSM extension table ({, }, [, ], ~, \, ^, |, €) take two.
 */
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM7_EXTENDED = new Set('\f^{}\\[~]|€');

export interface SmsSize {
  encoding: 'gsm7' | 'ucs2';
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
  segments: number;
}

export function smsSize(text: string): SmsSize {
  let septets = 0;
  for (const ch of text) {
    if (GSM7_BASIC.has(ch)) septets += 1;
    else if (GSM7_EXTENDED.has(ch)) septets += 2;
    else {
      const units = text.length;
      return { encoding: 'ucs2', units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: 'gsm7', units: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

/** Typography that would turn a Latin SMS into UCS-2 (and halve its room), with its plain GSM-7 look-alike. */
const LOOKALIKES: Record<string, string> = {
  ʻ: "'",
  ʼ: "'",
  '‘': "'",
  '’': "'",
  '`': "'",
  '“': '"',
  '”': '"',
  '«': '"',
  '»': '"',
  '–': '-',
  '—': '-',
  '…': '...',
  '×': 'x',
  '\u00a0': ' ',
  '\t': ' ',
};
const LOOKALIKE_PATTERN = new RegExp(`[${Object.keys(LOOKALIKES).join('')}]`, 'g');

/**
 * The text with typographic look-alikes replaced when that makes all of it GSM-7; otherwise the text unchanged, as
 * it goes out in UCS-2 anyway (Cyrillic) and may keep its typography.
 */
export function preferGsm7(text: string): string {
  const plain = text.replace(LOOKALIKE_PATTERN, (c) => LOOKALIKES[c] ?? c);
  return smsSize(plain).encoding === 'gsm7' ? plain : text;
}
