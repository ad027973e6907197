import { asApiError } from '../../api/client';
import { type Lang, textFor, useI18n } from '../../i18n';
import { type StaffDict, staffEn } from './en';
import { staffRu } from './ru';
import { staffUz } from './uz';

const DICTS: Record<Lang, StaffDict> = { uz: staffUz, ru: staffRu, en: staffEn };

/** The app's language, formatters and dictionary (`t`), with the staff consoles' own texts as `s`. */
export function useStaffText() {
  const i18n = useI18n();
  return { ...i18n, s: DICTS[i18n.lang] };
}

/** An API error in the interface language: the staff texts by code, then the app's, then the server's message. */
export function useStaffErrorText(): (err: unknown) => string {
  const { s, t } = useStaffText();
  return (err) => {
    const e = asApiError(err);
    const server = e.status >= 500 || e.status === 0 ? t.errors.unknown : e.message || t.errors.unknown;
    return textFor(s.errors, e.code, textFor(t.errors, e.code, server));
  };
}

export function StaffError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useStaffText();
  const text = useStaffErrorText();
  return (
    <div className="error-box" role="alert">
      <p>{text(error)}</p>
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          {t.app.retry}
        </button>
      ) : null}
    </div>
  );
}
