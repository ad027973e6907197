import { describe, expect, it } from 'vitest';
import { REJECTION_REASONS } from '../reports/reasons.js';
import { preferGsm7, smsSize } from './sms-length.js';
import {
  formatSum,
  type Language,
  NOTIFICATION_EVENTS,
  type NotificationEvent,
  renderEmail,
  renderSms,
  type TemplateVars,
} from './templates.js';

const LANGUAGES: Language[] = ['uz', 'ru', 'en'];
const LINK = 'https://jarima.uz/r/7F3K2Q9A';
/** Realistic values at the long end: a 30-BHM fine, a registry case number, an inspector's short note. */
const VARS: Required<Omit<TemplateVars, 'link'>> = {
  reportShortId: '7F3K2Q9A',
  plate: '01A123BC',
  reasonText: REJECTION_REASONS.PLATE_NOT_READABLE.en,
  note: 'Send a photo where the plate is readable.',
  caseNumber: 'JR-2026-0012345',
  amountSum: 12_360_000,
};
const varsFor = (lang: Language, extra: Partial<TemplateVars> = {}): TemplateVars => ({
  ...VARS,
  reasonText: REJECTION_REASONS.PLATE_NOT_READABLE[lang],
  ...extra,
});
const cases = LANGUAGES.flatMap((lang) => NOTIFICATION_EVENTS.map((event) => [event, lang] as const));
const LEAKS = /undefined|NaN|null|\{\{|\$\{|\[object/;

describe('every event in every language', () => {
  it.each(cases)('%s / %s renders an SMS and an e-mail with no leaked placeholders', (event, lang) => {
    const vars = varsFor(lang, { link: LINK });
    const sms = renderSms(event, lang, vars);
    const mail = renderEmail(event, lang, vars);
    for (const text of [sms, mail.subject, mail.text, mail.html]) {
      expect(text).not.toMatch(LEAKS);
      expect(text).toContain('7F3K2Q9A');
    }
    expect(mail.text).toContain('01A123BC');
    expect(mail.text).toContain(LINK);
    expect(mail.html).toContain(`<html lang="${lang}">`);
  });

  it.each(cases)('%s / %s renders without the optional values', (event, lang) => {
    const required = { reasonText: VARS.reasonText, caseNumber: VARS.caseNumber, amountSum: 1_236_000 };
    const vars: TemplateVars = { reportShortId: 'ABC123', plate: '10B777AA', ...required };
    for (const text of [renderSms(event, lang, vars), ...Object.values(renderEmail(event, lang, vars))]) {
      expect(text).not.toMatch(LEAKS);
    }
  });

  it('puts the values where the event needs them', () => {
    expect(renderSms('fined', 'uz', VARS)).toContain("12 360 000 so'm");
    expect(renderSms('rewarded', 'ru', VARS)).toContain('12 360 000 сум');
    expect(renderEmail('fined', 'en', VARS).text).toContain('12,360,000 UZS');
    expect(renderSms('forwarded', 'ru', VARS)).toContain('JR-2026-0012345');
    expect(renderEmail('needs_info', 'uz', VARS).text).toContain(VARS.note);
    expect(renderEmail('rejected', 'ru', varsFor('ru')).text).toContain(
      REJECTION_REASONS.PLATE_NOT_READABLE.ru,
    );
  });

  it.each([
    ['rejected', 'reasonText'],
    ['forwarded', 'caseNumber'],
    ['fined', 'amountSum'],
    ['rewarded', 'amountSum'],
  ] as const)('refuses %s without %s rather than sending a half message', (event, field) => {
    const vars = { ...VARS, [field]: undefined };
    expect(() => renderSms(event, 'en', vars)).toThrow(`${field} is required`);
    expect(() => renderEmail(event, 'uz', { ...VARS, [field]: '  ' })).toThrow(TypeError);
  });

  it('refuses a link that is not http(s)', () => {
    expect(() => renderEmail('accepted', 'en', { ...VARS, link: 'javascript:alert(1)' })).toThrow(/link/);
  });
});

describe('e-mail HTML', () => {
  const evil = '<script>alert("x")</script> & \'y\'';
  const fields = ['reportShortId', 'plate', 'reasonText', 'note', 'caseNumber'] as const;

  it.each(fields)('escapes %s in every event where it appears', (field) => {
    let shown = 0;
    for (const event of NOTIFICATION_EVENTS) {
      const { html, text } = renderEmail(event, 'ru', { ...VARS, [field]: evil });
      expect(html).not.toContain('<script>');
      expect(html).not.toContain('"x"');
      if (!text.includes(evil)) continue;
      shown++;
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;');
    }
    expect(shown).toBeGreaterThan(0);
  });

  it('escapes the link in the href', () => {
    const { html } = renderEmail('accepted', 'uz', {
      ...VARS,
      link: 'https://jarima.uz/r/1?a=1&b="><script>',
    });
    expect(html).toContain('href="https://jarima.uz/r/1?a=1&amp;b=&quot;&gt;&lt;script&gt;"');
    expect(html).not.toContain('<script>');
  });
});

describe('SMS length', () => {
  const WITHOUT_DETAIL = NOTIFICATION_EVENTS.filter((e) => e !== 'rejected' && e !== 'needs_info');
  const amounts = [123_600, 1_236_000, 12_360_000];

  it.each(LANGUAGES.flatMap((lang) => WITHOUT_DETAIL.map((e) => [e, lang] as const)))(
    '%s / %s fits one segment (Latin: 160 GSM-7 characters even with the link; Russian: 70 UCS-2 without it)',
    (event: NotificationEvent, lang) => {
      for (const amountSum of amounts) {
        const bare = smsSize(renderSms(event, lang, { ...VARS, amountSum }));
        const linked = smsSize(renderSms(event, lang, { ...VARS, amountSum, link: LINK }));
        expect(bare.segments).toBe(1);
        if (lang === 'ru') {
          expect(bare.units).toBeLessThanOrEqual(70);
          // A link does not fit beside Cyrillic in 70 characters: that costs a second segment.
          expect(linked.segments).toBeLessThanOrEqual(2);
        } else {
          expect([bare.encoding, linked.encoding]).toEqual(['gsm7', 'gsm7']);
          expect(linked.segments).toBe(1);
        }
      }
    },
  );

  const reasons = Object.entries(REJECTION_REASONS).flatMap(([code, r]) =>
    LANGUAGES.map((lang) => [code, lang, r[lang]] as const),
  );
  it.each(reasons)(
    'rejected with %s / %s carries the whole reason in at most two segments',
    (_code, lang, reason) => {
      const sms = renderSms('rejected', lang, { ...VARS, reasonText: reason });
      expect(sms).toContain(preferGsm7(reason));
      expect(smsSize(sms).segments).toBeLessThanOrEqual(2);
      if (lang !== 'ru') expect(smsSize(sms).encoding).toBe('gsm7');
      const linked = renderSms('rejected', lang, { ...VARS, reasonText: reason, link: LINK });
      expect(smsSize(linked).segments).toBeLessThanOrEqual(2);
    },
  );

  it.each(LANGUAGES)('needs_info / %s shortens a long note to two segments and keeps the link', (lang) => {
    const note = 'Please add a second photo taken from behind the car so that the plate can be read. '.repeat(
      8,
    );
    const sms = renderSms('needs_info', lang, { ...VARS, note, link: LINK });
    expect(smsSize(sms).segments).toBe(2);
    expect(sms).toContain('Please add a second photo');
    expect(sms).toMatch(
      lang === 'ru' ? /… https:\/\/jarima\.uz\/r\/7F3K2Q9A$/ : /\.\.\. https:\/\/jarima\.uz\/r\/7F3K2Q9A$/,
    );
    expect(smsSize(renderSms('needs_info', lang, { ...VARS, note: undefined })).segments).toBe(1);
  });

  it('collapses line breaks in a note, so an SMS stays one paragraph', () => {
    expect(renderSms('needs_info', 'en', { ...VARS, note: 'Line one.\r\n\r\nLine  two.' })).toContain(
      ': Line one. Line two.',
    );
  });
});

describe('formatSum', () => {
  it('groups thousands the way each language writes money', () => {
    expect(formatSum(1_236_000, 'uz')).toBe("1 236 000 so'm");
    expect(formatSum(1_236_000, 'ru')).toBe('1 236 000 сум');
    expect(formatSum(1_236_000, 'en')).toBe('1,236,000 UZS');
    expect(formatSum(999, 'ru')).toBe('999 сум');
    expect(formatSum(0, 'en')).toBe('0 UZS');
    expect(formatSum(123_599.6, 'uz')).toBe("123 600 so'm");
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, -1, 1e20])('refuses %d', (amount) => {
    expect(() => formatSum(amount, 'en')).toThrow(RangeError);
  });
});

describe('smsSize', () => {
  it('counts GSM-7, its extension table and UCS-2', () => {
    expect(smsSize('a'.repeat(160))).toEqual({ encoding: 'gsm7', units: 160, segments: 1 });
    expect(smsSize('a'.repeat(161))).toEqual({ encoding: 'gsm7', units: 161, segments: 2 });
    expect(smsSize('€'.repeat(80)).units).toBe(160);
    expect(smsSize('ж'.repeat(70))).toEqual({ encoding: 'ucs2', units: 70, segments: 1 });
    expect(smsSize('ж'.repeat(71))).toEqual({ encoding: 'ucs2', units: 71, segments: 2 });
    expect(smsSize("o'zbek").encoding).toBe('gsm7');
    expect(smsSize('oʻzbek').encoding).toBe('ucs2');
  });
});
