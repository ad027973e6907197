import type { Language } from '../reports/reasons.js';
import type { LanguageTexts, NotificationEvent, TextVars } from './catalog.js';
import { preferGsm7, smsSize } from './sms-length.js';
import { EN } from './texts/en.js';
import { RU } from './texts/ru.js';
import { UZ } from './texts/uz.js';

export type { Language } from '../reports/reasons.js';
export type { NotificationEvent } from './catalog.js';
export { NOTIFICATION_EVENTS } from './catalog.js';

/**
 * What a message may mention. Deliberately nothing about the reporter (phone, name): a message can be read by
 * whoever holds the phone or the mailbox, and texts only ever need the report.
 */
export interface TemplateVars {
  reportShortId: string;
  /** Normalised plate, e.g. "01A123BC". */
  plate: string;
  /** The rejection reason in the citizen's language, from REJECTION_REASONS. Required for `rejected`. */
  reasonText?: string;
  /** The inspector's note for `needs_info`, if any. */
  note?: string;
  /** The fines registry's case number. Required for `forwarded`. */
  caseNumber?: string;
  /** In sum. Required for `fined` and `rewarded`. */
  amountSum?: number;
  /** An http(s) link to the report in the app. */
  link?: string;
}

const TEXTS: Record<Language, LanguageTexts> = { en: EN, ru: RU, uz: UZ };

const REQUIRED: { [E in NotificationEvent]?: readonly (keyof TemplateVars)[] } = {
  rejected: ['reasonText'],
  forwarded: ['caseNumber'],
  fined: ['amountSum'],
  rewarded: ['amountSum'],
};

/**
 * A second segment is worth sending for a rejection reason or an inspector's note, a third is not: past two, the
 * detail is shortened (the e-mail and the app have it whole).
 */
export const SMS_MAX_SEGMENTS = 2;

/**
 * The SMS for `event`. Without free text (a reason or a note) every text fits one segment with realistic values
 * (160 GSM-7 characters; 70 for Russian, which is UCS-2), the link aside. With a link, or a reason or note, it may
 * take two; past two, the link is dropped first, then the detail is shortened.
 */
export function renderSms(event: NotificationEvent, lang: Language, vars: TemplateVars): string {
  const { v, detail, link } = prepare(event, lang, vars);
  const t = TEXTS[lang].events[event];
  const compose = (d: string | undefined, withLink: boolean) =>
    preferGsm7(withLink && link ? `${t.sms(v, d)} ${link}` : t.sms(v, d));
  const fits = (text: string) => smsSize(text).segments <= SMS_MAX_SEGMENTS;

  const full = compose(detail, true);
  if (fits(full)) return full;
  const withoutLink = compose(detail, false);
  if (link && fits(withoutLink)) return withoutLink;
  if (detail) {
    // The longest prefix of the detail that still fits, found by bisection over its length.
    let lo = 0;
    let hi = detail.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fits(compose(shorten(detail, mid), true))) lo = mid;
      else hi = mid - 1;
    }
    if (lo > 0) return compose(shorten(detail, lo), true);
  }
  return compose(undefined, false);
}

export function renderEmail(
  event: NotificationEvent,
  lang: Language,
  vars: TemplateVars,
): { subject: string; text: string; html: string } {
  const { v, link } = prepare(event, lang, vars);
  const texts = TEXTS[lang];
  const t = texts.events[event];
  const subject = t.subject(v);
  const paragraphs = t.body(v);
  const text = [...paragraphs, ...(link ? [`${texts.openReport}: ${link}`] : []), '--', texts.footer].join(
    '\n\n',
  );
  const html = [
    '<!doctype html>',
    `<html lang="${lang}">`,
    `<head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body>',
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    ...(link ? [`<p><a href="${escapeHtml(link)}">${escapeHtml(texts.openReport)}</a></p>`] : []),
    `<p style="color:#666;font-size:small">${escapeHtml(texts.footer)}</p>`,
    '</body>',
    '</html>',
  ].join('\n');
  return { subject, text, html };
}

/**
 * Whole sum with grouped thousands: "1 236 000 so'm", "1 236 000 сум", "1,236,000 UZS". Plain spaces, not the
 * no-break space Intl would use: that one is outside GSM-7 and would turn a Latin SMS into UCS-2.
 */
export function formatSum(amount: number, lang: Language): string {
  const whole = Math.round(amount);
  if (!Number.isSafeInteger(whole) || whole < 0) throw new RangeError(`formatSum: not an amount: ${amount}`);
  const digits = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, lang === 'en' ? ',' : ' ');
  return lang === 'uz' ? `${digits} so'm` : lang === 'ru' ? `${digits} сум` : `${digits} UZS`;
}

function prepare(
  event: NotificationEvent,
  lang: Language,
  vars: TemplateVars,
): { v: TextVars; detail: string | undefined; link: string | undefined } {
  const clean = (s: string | undefined) => {
    const c = s?.replace(/\s+/g, ' ').trim();
    return c ? c : undefined;
  };
  for (const field of ['reportShortId', 'plate', ...(REQUIRED[event] ?? [])] as const) {
    const value = vars[field];
    if (typeof value === 'string' ? !clean(value) : value === undefined) {
      throw new TypeError(`notification "${event}": ${field} is required`);
    }
  }
  const link = clean(vars.link);
  if (link !== undefined && !/^https?:\/\/\S+$/i.test(link)) {
    throw new TypeError(`notification "${event}": link must be an http(s) URL`);
  }
  const v: TextVars = {
    id: clean(vars.reportShortId)!,
    plate: clean(vars.plate)!,
    reason: clean(vars.reasonText) ?? '',
    note: clean(vars.note),
    caseNumber: clean(vars.caseNumber) ?? '',
    amount: vars.amountSum === undefined ? '' : formatSum(vars.amountSum, lang),
  };
  const detail = event === 'rejected' ? v.reason : event === 'needs_info' ? v.note : undefined;
  return { v, detail, link };
}

/** The first `max` characters of `text`, cut at a word boundary when one is near, marked as shortened. */
function shorten(text: string, max: number): string {
  if (max >= text.length) return text;
  let cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  if (space > max * 0.6) cut = cut.slice(0, space);
  return `${cut.replace(/[\s.,;:!?-]+$/, '')}…`;
}

function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
