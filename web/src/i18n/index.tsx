import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { type Dict, en } from './en';
import { ru } from './ru';
import { uz } from './uz';

export type Lang = 'uz' | 'ru' | 'en';
export const LANGS: readonly Lang[] = ['uz', 'ru', 'en'];
const DICTS: Record<Lang, Dict> = { uz, ru, en };
export const LOCALES: Record<Lang, string> = { uz: 'uz-Latn-UZ', ru: 'ru-RU', en: 'en-GB' };
const STORAGE_KEY = 'jarima.lang';
/** Dates and times are shown as Tashkent's clocks show them, wherever the phone thinks it is. */
const TZ = 'Asia/Tashkent';

function isLang(v: unknown): v is Lang {
  return v === 'uz' || v === 'ru' || v === 'en';
}

/** The remembered choice, else the browser's first preference we speak, else Uzbek. */
export function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (isLang(saved)) return saved;
  } catch {
    // Storage can be off (private mode); the preference then lasts for the page.
  }
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = l.slice(0, 2).toLowerCase();
    if (isLang(base)) return base;
  }
  return 'uz';
}

export interface Formatters {
  dateTime(iso: string): string;
  date(iso: string): string;
  number(n: number): string;
  money(sum: number): string;
}

interface I18n {
  lang: Lang;
  t: Dict;
  fmt: Formatters;
  setLang(lang: Lang): void;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children, onChange }: { children: ReactNode; onChange?: (l: Lang) => void }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const setLang = useCallback(
    (l: Lang) => {
      setLangState(l);
      try {
        localStorage.setItem(STORAGE_KEY, l);
      } catch {
        // See initialLang.
      }
      onChange?.(l);
    },
    [onChange],
  );
  const value = useMemo<I18n>(() => {
    const t = DICTS[lang];
    // Made on first use: the first formatter with a time zone loads ICU's zone data (~70 ms in a cold browser
    // tab, measured with `npm run bench -- web`), which pages without dates need not wait for.
    const dateTime = () =>
      lang === 'uz' && !hasUzbekData()
        ? uzbekDates(true)
        : dateFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
    const date = () =>
      lang === 'uz' && !hasUzbekData() ? uzbekDates(false) : dateFormat(lang, { dateStyle: 'medium' });
    let number: Intl.NumberFormat | undefined;
    const num = (n: number) => {
      number ??= new Intl.NumberFormat(LOCALES[lang]);
      return number.format(n);
    };
    return {
      lang,
      t,
      setLang,
      fmt: {
        dateTime: (iso) => dateTime().format(new Date(iso)),
        date: (iso) => date().format(new Date(iso)),
        number: num,
        money: (sum) => t.money(num(sum)),
      },
    };
  }, [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** A date/time format on Tashkent's clock in the language, made once per language and options. */
export function dateFormat(
  lang: Lang,
  options: Omit<Intl.DateTimeFormatOptions, 'timeZone'>,
): Intl.DateTimeFormat {
  const key = `${lang} ${JSON.stringify(options)}`;
  let f = dateFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(LOCALES[lang], { ...options, timeZone: TZ });
    dateFormats.set(key, f);
  }
  return f;
}

const UZ_MONTHS = [
  'yanvar',
  'fevral',
  'mart',
  'aprel',
  'may',
  'iyun',
  'iyul',
  'avgust',
  'sentabr',
  'oktabr',
  'noyabr',
  'dekabr',
];
let uzbekData: boolean | undefined;

/**
 * Whether the browser's ICU knows Uzbek: Chromium's own data (desktop builds, Debian's) does not, and writes a
 * date as "2026 M12 8".
 */
function hasUzbekData(): boolean {
  uzbekData ??= /[a-z]{3}/.test(dateFormat('uz', { month: 'long' }).format(Date.UTC(2026, 0, 15)));
  return uzbekData;
}

/** Uzbek dates from numbers alone, where the browser has no Uzbek: "8-dekabr 2026, 14:30". */
function uzbekDates(withTime: boolean): { format(d: Date): string } {
  const numeric = dateFormat('uz', {
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  return {
    format(d) {
      const parts = numeric.formatToParts(d);
      const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
      const day = `${Number(part('day'))}-${UZ_MONTHS[Number(part('month')) - 1]} ${part('year')}`;
      return withTime ? `${day}, ${part('hour')}:${part('minute')}` : day;
    },
  };
}

export function useI18n(): I18n {
  const v = useContext(I18nContext);
  if (!v) throw new Error('useI18n outside I18nProvider');
  return v;
}

/** A text by a key the server chose (an error code, an event type), with a fallback when we have none. */
export function textFor<T extends object>(table: T, key: string, fallback: string): string {
  const v = (table as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : fallback;
}

/** A violation type's name in the language, falling back to English (the source data has English only so far). */
export function localName(name: { en: string; uz: string | null; ru: string | null }, lang: Lang): string {
  return (lang === 'en' ? name.en : name[lang]) ?? name.en;
}

/** A region's name in the language (by its ISO code); districts keep the name the boundary data gives. */
export function areaName(t: Dict, area: { iso: string | null; name: string }): string {
  return area.iso ? textFor(t.regions, area.iso, area.name) : area.name;
}
