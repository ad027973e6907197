import type { Language } from '../reports/reasons.js';

/** The citizen-visible steps of a report that each send the reporter a message. */
export const NOTIFICATION_EVENTS = [
  'accepted',
  'rejected',
  'duplicate',
  'needs_info',
  'approved',
  'forwarded',
  'fined',
  'paid',
  'rewarded',
  'overturned',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** What a text may show, already checked, whitespace-collapsed and formatted for its language. */
export interface TextVars {
  id: string;
  plate: string;
  /** Empty unless the event is `rejected`. */
  reason: string;
  note: string | undefined;
  /** Empty unless the event is `forwarded`. */
  caseNumber: string;
  /** With the currency, e.g. "1 236 000 so'm"; empty unless the event is `fined` or `rewarded`. */
  amount: string;
}

export interface EventTexts {
  subject(v: TextVars): string;
  /** E-mail paragraphs, plain text: the renderer escapes them for HTML. */
  body(v: TextVars): string[];
  /**
   * The SMS, without the link (the renderer appends it when it fits). `detail` is the rejection reason or the
   * inspector's note, possibly shortened or dropped to keep the SMS within two segments.
   */
  sms(v: TextVars, detail: string | undefined): string;
}

/**
 * One language's texts. Uzbek and Russian are written for the citizen, not translated word by word; the ASCII
 * apostrophe in Uzbek (o', g', so'm) keeps an SMS in GSM-7, where the typographic ʻ would halve its length.
 */
export interface LanguageTexts {
  language: Language;
  events: Record<NotificationEvent, EventTexts>;
  /** Label of the link to the report in e-mails. */
  openReport: string;
  /** Last line of every e-mail. */
  footer: string;
}
