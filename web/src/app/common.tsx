import { type ReactNode, useEffect } from 'react';
import { type ApiError, asApiError } from '../api/client';
import { textFor, useI18n } from '../i18n';

/** Sets the document title for the page shown. */
export function usePageTitle(title: string): void {
  const { t } = useI18n();
  useEffect(() => {
    document.title = title ? `${title} · ${t.app.name}` : t.app.name;
  }, [title, t.app.name]);
}

/** An API error in the citizen's language: by its code, else the server's own message, else a general one. */
export function useErrorText(): (err: unknown) => string {
  const { t } = useI18n();
  return (err) => {
    const e: ApiError = asApiError(err);
    return textFor(
      t.errors,
      e.code,
      e.status >= 500 || e.status === 0 ? t.errors.unknown : e.message || t.errors.unknown,
    );
  };
}

export function ErrorNote({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  const text = useErrorText();
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

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="loading" role="status">
      {t.app.loading}
    </p>
  );
}

export function Page({ title, children, wide }: { title: string; children: ReactNode; wide?: boolean }) {
  usePageTitle(title);
  return (
    <div className={wide ? 'page page-wide' : 'page'}>
      <h1>{title}</h1>
      {children}
    </div>
  );
}
