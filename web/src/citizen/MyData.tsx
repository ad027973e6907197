import type { Static } from '@sinclair/typebox';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { AccountDeleted, DeletionCodeSent } from '../../../src/privacy/privacy.schema.js';
import { api, asApiError, CITIZEN_JSON, request } from '../api/client';
import { setSession } from '../api/session';
import { ErrorNote, Page } from '../app/common';
import { forgetLiveCursor } from '../app/live';
import { navigate } from '../app/router';
import { useI18n } from '../i18n';

type CodeSent = Static<typeof DeletionCodeSent>;

/** The name the server gives the archive, used when its header cannot be read. */
const ARCHIVE_NAME = 'jarima-my-data.tar.gz';

function fileNameOf(res: Response): string {
  const m = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '');
  return m?.[1] ?? ARCHIVE_NAME;
}

/** Hands a downloaded file to the browser's own "save" as a link to it; the link is dropped once followed. */
function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later, not at once: some browsers start reading the URL only after the click has returned.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The citizen's data rights (docs/privacy.md): all their data as one archive, and their account's deletion. */
export default function MyData() {
  const { t } = useI18n();
  return (
    <Page title={t.myData.title}>
      <p>{t.myData.lead}</p>
      <Export />
      <DeleteAccount />
    </Page>
  );
}

function Export() {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);

  const download = async () => {
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      // Through the API client for its bearer token and refresh; the answer is the archive, not JSON.
      const res = await request(
        '/v1/me/export',
        {},
        { ...CITIZEN_JSON, accept: 'application/gzip, application/json' },
      );
      // Read whole before saving: a download cut short fails here instead of saving half an archive.
      saveFile(await res.blob(), fileNameOf(res));
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const limited = error !== null && asApiError(error).status === 429;
  return (
    <section aria-labelledby="export-title">
      <h2 id="export-title">{t.myData.exportTitle}</h2>
      <p>{t.myData.exportLead}</p>
      <ul>
        {t.myData.exportItems.map((item) => (
          <li key={item}>{item}</li>
        ))}
      </ul>
      {limited ? (
        <p className="error-box" role="alert">
          {t.myData.exportLimited}
        </p>
      ) : error ? (
        <ErrorNote error={error} onRetry={download} />
      ) : null}
      {done ? (
        <p className="note" role="status">
          {t.myData.exportDone}
        </p>
      ) : null}
      <button type="button" className="primary" onClick={download} disabled={busy}>
        {busy ? t.myData.exporting : t.myData.export}
      </button>
    </section>
  );
}

function DeleteAccount() {
  const { t } = useI18n();
  const [sent, setSent] = useState<CodeSent | null>(null);
  const [code, setCode] = useState('');
  const [sure, setSure] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [resendAt, setResendAt] = useState(0);
  const [now, setNow] = useState(Date.now());
  const codeRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!sent) return;
    codeRef.current?.focus();
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [sent]);

  const sendCode = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api<CodeSent>('/v1/me/deletion-code', { method: 'POST' });
      setSent(r);
      setResendAt(Date.now() + r.resendAfterSeconds * 1000);
      setNow(Date.now());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const erase = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api<AccountDeleted>('/v1/me', { method: 'DELETE', body: { code } });
      // The server has ended every session of the account: only this tab's copy of it is left to forget. Home
      // first, so the page does not ask for a sign-in once the session is gone.
      navigate('/', { replace: true });
      setSession(null);
      forgetLiveCursor();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const wait = Math.max(0, Math.ceil((resendAt - now) / 1000));
  return (
    <section aria-labelledby="delete-title">
      <h2 id="delete-title">{t.myData.deleteTitle}</h2>
      <p>{t.myData.deletedLead}</p>
      <ul>
        {t.myData.deletedItems.map((item) => (
          <li key={item}>{item}</li>
        ))}
      </ul>
      <p>{t.myData.keptLead}</p>
      <ul>
        {t.myData.keptItems.map((item) => (
          <li key={item}>{item}</li>
        ))}
      </ul>
      <p className="note">{t.myData.exportFirst}</p>
      {!sent ? (
        <>
          {error ? <ErrorNote error={error} /> : null}
          <button type="button" onClick={sendCode} disabled={busy}>
            {t.myData.sendCode}
          </button>
        </>
      ) : (
        <form onSubmit={erase} className="form narrow">
          <p id="delete-code-hint">{t.myData.codeHint(sent.sentTo)}</p>
          <label htmlFor="delete-code">{t.myData.codeLabel}</label>
          <input
            id="delete-code"
            ref={codeRef}
            name="code"
            autoComplete="one-time-code"
            inputMode="numeric"
            pattern="[0-9]{6}"
            maxLength={6}
            required
            aria-describedby="delete-code-hint"
            value={code}
            onChange={(e) => setCode(e.target.value.replace(/\D/g, '').slice(0, 6))}
          />
          <label>
            <input type="checkbox" checked={sure} onChange={(e) => setSure(e.target.checked)} />{' '}
            {t.myData.understand}
          </label>
          {error ? <ErrorNote error={error} /> : null}
          <button type="submit" className="primary" disabled={busy || !sure || code.length !== 6}>
            {t.myData.confirmDelete}
          </button>
          <p className="row">
            {wait > 0 ? (
              <span className="hint" aria-live="off">
                {t.signIn.resendIn(wait)}
              </span>
            ) : (
              <button type="button" className="link" onClick={sendCode} disabled={busy}>
                {t.signIn.resend}
              </button>
            )}
          </p>
        </form>
      )}
    </section>
  );
}
