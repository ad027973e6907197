import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import { getSession, setSession, tokensOf } from '../api/session';
import type { OtpSent, TokenResponse } from '../api/types';
import { ErrorNote, Page } from '../app/common';
import { navigate, useLocation } from '../app/router';
import { useI18n } from '../i18n';

/** Where to go after signing in: a path of this app only (never another origin). */
function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') ? next : '/reports';
}

/** Sign-in with a phone number and the one-time code sent to it by SMS. */
export function SignIn() {
  const { t, lang } = useI18n();
  const { search } = useLocation();
  const next = safeNext(search.get('next'));
  const [phone, setPhone] = useState('');
  const [sent, setSent] = useState<OtpSent | null>(null);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [resendAt, setResendAt] = useState(0);
  const [now, setNow] = useState(Date.now());
  const codeRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (getSession()) navigate(next, { replace: true });
  }, [next]);

  useEffect(() => {
    if (!sent) return;
    codeRef.current?.focus();
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [sent]);

  const requestCode = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api<OtpSent>('/v1/auth/otp', { body: { phone } });
      setSent(r);
      setResendAt(Date.now() + r.resendAfterSeconds * 1000);
      setNow(Date.now());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const verify = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api<TokenResponse>('/v1/auth/otp/verify', { body: { phone, code } });
      setSession({ ...tokensOf(r), subjectId: r.subjectId });
      // SMS about the citizen's reports in the language they use here.
      api('/v1/me/notification-settings', { method: 'PUT', body: { language: lang } }).catch(() => {});
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const wait = Math.max(0, Math.ceil((resendAt - now) / 1000));
  return (
    <Page title={t.signIn.title}>
      {search.get('next') ? <p className="note">{t.signIn.needed}</p> : null}
      <p>{t.signIn.lead}</p>
      {!sent ? (
        <form onSubmit={requestCode} className="form narrow">
          <label htmlFor="phone">{t.signIn.phoneLabel}</label>
          <input
            id="phone"
            name="phone"
            type="tel"
            autoComplete="tel"
            inputMode="tel"
            required
            placeholder="+998 90 123 45 67"
            aria-describedby="phone-hint"
            value={phone}
            onChange={(e) => setPhone(e.target.value)}
          />
          <p id="phone-hint" className="hint">
            {t.signIn.phoneHint}
          </p>
          {error ? <ErrorNote error={error} /> : null}
          <button type="submit" className="primary" disabled={busy || phone.trim().length < 9}>
            {t.signIn.send}
          </button>
        </form>
      ) : (
        <form onSubmit={verify} className="form narrow">
          <p id="code-hint">{t.signIn.codeHint(sent.sentTo)}</p>
          <label htmlFor="code">{t.signIn.codeLabel}</label>
          <input
            id="code"
            ref={codeRef}
            name="code"
            autoComplete="one-time-code"
            inputMode="numeric"
            pattern="[0-9]{6}"
            maxLength={6}
            required
            aria-describedby="code-hint"
            value={code}
            onChange={(e) => setCode(e.target.value.replace(/\D/g, '').slice(0, 6))}
          />
          {error ? <ErrorNote error={error} /> : null}
          <button type="submit" className="primary" disabled={busy || code.length !== 6}>
            {t.signIn.verify}
          </button>
          <p className="row">
            {wait > 0 ? (
              <span className="hint" aria-live="off">
                {t.signIn.resendIn(wait)}
              </span>
            ) : (
              <button type="button" className="link" onClick={() => requestCode()} disabled={busy}>
                {t.signIn.resend}
              </button>
            )}
            <button
              type="button"
              className="link"
              onClick={() => {
                setSent(null);
                setCode('');
                setError(null);
              }}
            >
              {t.signIn.changePhone}
            </button>
          </p>
        </form>
      )}
      <p className="hint">{t.signIn.privacy}</p>
    </Page>
  );
}
