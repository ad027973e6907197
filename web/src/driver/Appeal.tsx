import type { Static } from '@sinclair/typebox';
import { type ChangeEvent, type FormEvent, useCallback, useEffect, useId, useRef, useState } from 'react';
import type { AttachmentResponse, DriverAppeal } from '../../../src/appeals/appeals.schema.js';
import type { DriverCase } from '../../../src/driver/driver.schema.js';
import { asApiError, type CallSession, errorOf, request } from '../api/client';
import { Loading, useErrorText } from '../app/common';
import { textFor, useI18n } from '../i18n';

type Case = Static<typeof DriverCase>;
type Attachment = Static<typeof AttachmentResponse>;

/** The driver has no account: the case token is the only credential, and a refusal ends nothing. */
const caseSession = (token: string): CallSession => ({
  accept: 'application/json',
  header: () => ({ 'x-case-token': token }),
  onRefused: () => {},
});

/** An error in the driver's language: the appeal's own texts by code (a refused phone by its field), then the app's. */
function useAppealErrorText(): (err: unknown) => string {
  const { t } = useI18n();
  const general = useErrorText();
  return (err) => {
    const e = asApiError(err);
    if (e.code === 'VALIDATION_FAILED' && e.field === 'phone') return t.driver.appeal.phoneInvalid;
    return textFor(t.driver.appeal.errors, e.code, general(err));
  };
}

function AppealError({ error }: { error: unknown }) {
  const text = useAppealErrorText();
  return (
    <div className="error-box" role="alert">
      <p>{text(error)}</p>
    </div>
  );
}

/** Answers after which the form has nothing left to do: the case cannot be appealed (any more). */
const ENDS_FORM = new Set(['APPEAL_WINDOW_CLOSED', 'APPEAL_NOT_OPEN']);

/** Longest timer a browser keeps (about 24.8 days); a later moment is waited for in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/** Whether the moment `iso` has passed, turning true when it does while the page is open. */
function usePassed(iso: string | null): boolean {
  const at = iso === null ? null : Date.parse(iso);
  const [passed, setPassed] = useState(() => at !== null && at <= Date.now());
  useEffect(() => {
    if (at === null) {
      setPassed(false);
      return;
    }
    let timer: ReturnType<typeof setTimeout>;
    const check = () => {
      const left = at - Date.now();
      setPassed(left <= 0);
      if (left > 0) timer = setTimeout(check, Math.min(left, MAX_TIMER_MS));
    };
    check();
    return () => clearTimeout(timer);
  }, [at]);
  return passed;
}

/**
 * Under the case: its appeal's status and decision when there is one, otherwise the form to file one while the
 * case is appealable, with its deadline (appealableUntil). The form gives way to the closing message when the
 * deadline passes on an open page, or when the server answers APPEAL_WINDOW_CLOSED (a clock that runs behind).
 */
export function Appeal({ caseToken, case: c }: { caseToken: string; case: Case }) {
  const { t, fmt } = useI18n();
  const windowPassed = usePassed(c.appealableUntil);
  const [appeal, setAppeal] = useState<DriverAppeal | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [ended, setEnded] = useState<unknown>(null);
  const load = useCallback(async () => {
    setError(null);
    try {
      const res = await request('/v1/fines/case/appeal', {}, caseSession(caseToken));
      setAppeal((await res.json()) as DriverAppeal);
    } catch (err) {
      if (asApiError(err).code === 'APPEAL_NOT_FOUND') setAppeal(null);
      else setError(err);
    }
  }, [caseToken]);
  useEffect(() => {
    void load();
  }, [load]);
  const refused = (err: unknown) => {
    const code = asApiError(err).code;
    if (code === 'APPEAL_EXISTS') void load();
    else if (ENDS_FORM.has(code)) setEnded(err);
  };

  return (
    <section aria-labelledby="appeal-title" data-testid="fine-appeal">
      <h2 id="appeal-title">{t.driver.appeal.title}</h2>
      {error ? (
        <>
          <AppealError error={error} />
          <button type="button" onClick={load}>
            {t.app.retry}
          </button>
        </>
      ) : appeal === undefined ? (
        <Loading />
      ) : appeal ? (
        <AppealStatus appeal={appeal} />
      ) : ended ? (
        <AppealError error={ended} />
      ) : windowPassed && c.appealableUntil ? (
        <p data-testid="appeal-closed">{t.driver.appeal.windowClosed(fmt.dateTime(c.appealableUntil))}</p>
      ) : c.appealable && c.appealableUntil ? (
        <>
          <p data-testid="appeal-deadline">{t.driver.appeal.deadline(fmt.dateTime(c.appealableUntil))}</p>
          <AppealForm token={caseToken} onFiled={setAppeal} onRefused={refused} />
        </>
      ) : (
        <p>{t.driver.appeal.notOpen}</p>
      )}
    </section>
  );
}

function AppealStatus({ appeal }: { appeal: DriverAppeal }) {
  const { t, fmt } = useI18n();
  const a = t.driver.appeal;
  return (
    <div data-testid="appeal-status" aria-live="polite">
      <p className={`status status-appeal-${appeal.status}`}>{a.status[appeal.status]}</p>
      <dl className="facts">
        <dt>{a.filedAt}</dt>
        <dd>{fmt.dateTime(appeal.filedAt)}</dd>
        <dt>{a.attachments}</dt>
        <dd>{appeal.attachments}</dd>
        {appeal.decision ? (
          <>
            <dt>{a.decision}</dt>
            <dd data-testid="appeal-decision">
              {a.decisions[appeal.decision]}
              {appeal.decision === 'correct' && appeal.correctedViolationCode
                ? ` (${appeal.correctedViolationCode})`
                : ''}
            </dd>
            {appeal.reasonCode ? (
              <>
                <dt>{a.reason}</dt>
                <dd>{textFor(a.reasons, appeal.reasonCode, appeal.reasonCode)}</dd>
              </>
            ) : null}
            {appeal.decidedAt ? (
              <>
                <dt>{a.decidedAt}</dt>
                <dd>{fmt.dateTime(appeal.decidedAt)}</dd>
              </>
            ) : null}
          </>
        ) : null}
      </dl>
    </div>
  );
}

type Upload =
  | { key: number; name: string; state: 'uploading' }
  | { key: number; name: string; state: 'done'; file: Attachment }
  | { key: number; name: string; state: 'failed'; error: unknown };

const MAX_ATTACHMENTS = 10;

/**
 * POST /v1/fines/case/attachments takes one multipart field "file" per call; the JSON helper cannot send a form,
 * so this is a plain fetch with the case token, its failures read as the API's errors.
 */
async function uploadAttachment(token: string, file: File): Promise<Attachment> {
  const form = new FormData();
  form.append('file', file, file.name);
  let res: Response;
  try {
    res = await fetch('/v1/fines/case/attachments', {
      method: 'POST',
      headers: { accept: 'application/json', 'x-case-token': token },
      body: form,
    });
  } catch (err) {
    throw asApiError(err);
  }
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as Attachment;
}

function AppealForm({
  token,
  onFiled,
  onRefused,
}: {
  token: string;
  onFiled: (a: DriverAppeal) => void;
  /** A refusal that may end the form (window closed, appealed already): the parent decides. */
  onRefused: (err: unknown) => void;
}) {
  const { t, lang } = useI18n();
  const a = t.driver.appeal;
  const [text, setText] = useState('');
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [codeSentFor, setCodeSentFor] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const textId = useId();
  const fileId = useId();
  const phoneId = useId();
  const codeId = useId();
  const nextKey = useRef(0);
  const fail = (err: unknown) => {
    setError(err);
    onRefused(err);
  };

  const addFiles = async (e: ChangeEvent<HTMLInputElement>) => {
    const files = [...(e.target.files ?? [])].slice(0, MAX_ATTACHMENTS - uploads.length);
    e.target.value = '';
    // One by one: each is checked as evidence is, and the case's daily quota counts them in order.
    for (const file of files) {
      const key = nextKey.current++;
      setUploads((u) => [...u, { key, name: file.name, state: 'uploading' }]);
      try {
        const done = await uploadAttachment(token, file);
        setUploads((u) =>
          u.map((x) => (x.key === key ? { key, name: file.name, state: 'done', file: done } : x)),
        );
      } catch (err) {
        setUploads((u) =>
          u.map((x) => (x.key === key ? { key, name: file.name, state: 'failed', error: err } : x)),
        );
        onRefused(err);
      }
    }
  };

  const sendCode = async () => {
    setSending(true);
    setError(null);
    try {
      await request(
        '/v1/fines/case/appeal/phone',
        { method: 'POST', body: { phone, lang } },
        caseSession(token),
      );
      setCodeSentFor(phone);
    } catch (err) {
      fail(err);
    } finally {
      setSending(false);
    }
  };

  const ready = uploads.filter((u): u is Extract<Upload, { state: 'done' }> => u.state === 'done');
  const uploading = uploads.some((u) => u.state === 'uploading');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await request(
        '/v1/fines/case/appeal',
        {
          method: 'POST',
          body: { text, attachmentIds: [...new Set(ready.map((u) => u.file.id))], phone, code, lang },
        },
        caseSession(token),
      );
      onFiled((await res.json()) as DriverAppeal);
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="form" data-testid="appeal-form">
      <p>{a.intro}</p>
      <label htmlFor={textId}>{a.text}</label>
      <textarea
        id={textId}
        value={text}
        onChange={(e) => setText(e.target.value)}
        required
        minLength={10}
        maxLength={4000}
        rows={6}
      />
      <label htmlFor={fileId}>{a.addFiles}</label>
      <input
        id={fileId}
        type="file"
        accept="image/jpeg,image/png,video/mp4,video/quicktime,video/webm"
        multiple
        disabled={uploading || uploads.length >= MAX_ATTACHMENTS}
        onChange={addFiles}
      />
      <p className="hint">{a.filesHint(MAX_ATTACHMENTS)}</p>
      {uploads.length > 0 ? (
        <ul className="appeal-files">
          {uploads.map((u) => (
            <li key={u.key}>
              {u.name} ·{' '}
              {u.state === 'uploading' ? (
                a.uploading
              ) : u.state === 'done' ? (
                a.uploaded
              ) : (
                <AppealError error={u.error} />
              )}{' '}
              {u.state === 'uploading' ? null : (
                <button
                  type="button"
                  className="link"
                  onClick={() => setUploads((all) => all.filter((x) => x.key !== u.key))}
                >
                  {a.remove}
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      <label htmlFor={phoneId}>{a.phone}</label>
      <div className="row">
        <input
          id={phoneId}
          type="tel"
          value={phone}
          onChange={(e) => setPhone(e.target.value)}
          required
          minLength={9}
          maxLength={20}
          autoComplete="tel"
          placeholder="+998 90 123 45 67"
        />
        <button type="button" onClick={sendCode} disabled={sending || phone.trim().length < 9}>
          {codeSentFor ? a.resendCode : a.sendCode}
        </button>
      </div>
      <p className="hint">{a.phoneHint}</p>
      {codeSentFor ? (
        <>
          <label htmlFor={codeId}>{a.code}</label>
          <input
            id={codeId}
            value={code}
            onChange={(e) => setCode(e.target.value.replace(/\D/g, '').slice(0, 6))}
            required
            pattern="[0-9]{6}"
            inputMode="numeric"
            autoComplete="one-time-code"
          />
          <p className="hint" role="status">
            {a.codeSent(codeSentFor)}
          </p>
        </>
      ) : null}
      {error ? <AppealError error={error} /> : null}
      <button
        type="submit"
        className="primary"
        disabled={busy || uploading || !codeSentFor || codeSentFor !== phone || code.length !== 6}
      >
        {busy ? t.app.loading : a.submit}
      </button>
    </form>
  );
}
