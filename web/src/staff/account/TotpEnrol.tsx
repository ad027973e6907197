import { type FormEvent, useEffect, useState } from 'react';
import { Loading } from '../../app/common';
import { StaffError, useStaffText } from '../i18n';
import type { TotpConfirmed, TotpEnrolment } from '../types';

/**
 * The server's QR code (an SVG it renders) as an image: a `data:` URL, so the markup is never put into the page
 * itself — an <img> runs no script and reaches nothing of the document, whatever the SVG holds.
 */
export function qrDataUrl(svg: string): string {
  return `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;
}

/** A 6-digit one-time code field (authenticator apps show them as "123 456"). */
export function CodeInput({
  id,
  value,
  onChange,
  label,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  label: string;
}) {
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        inputMode="numeric"
        autoComplete="one-time-code"
        pattern="[0-9 ]{6,7}"
        maxLength={7}
        required
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </>
  );
}

export const cleanCode = (v: string) => v.replace(/\s+/g, '');

/**
 * Two-factor enrolment: the QR code and the secret as text (for an app that cannot scan), the first code to prove
 * the app has it, then the ten recovery codes, shown this once, which must be acknowledged before going on.
 */
export function TotpEnrol({
  start,
  confirm,
  onDone,
}: {
  start: () => Promise<TotpEnrolment>;
  confirm: (code: string) => Promise<TotpConfirmed>;
  onDone: (confirmed: TotpConfirmed) => void;
}) {
  const { s } = useStaffText();
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [confirmed, setConfirmed] = useState<TotpConfirmed | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  // biome-ignore lint/correctness/useExhaustiveDependencies: one enrolment per mount
  useEffect(() => {
    start().then(setEnrolment, setError);
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setConfirmed(await confirm(cleanCode(code)));
    } catch (err) {
      setCode('');
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (confirmed) return <RecoveryCodes codes={confirmed.recoveryCodes} onDone={() => onDone(confirmed)} />;
  if (!enrolment) return error ? <StaffError error={error} /> : <Loading />;
  return (
    <section aria-labelledby="enrol-title" className="totp-enrol" data-testid="totp-enrol">
      <h2 id="enrol-title">{s.totp.enrolTitle}</h2>
      <ol>
        <li>{s.totp.step1}</li>
        <li>
          {s.totp.step2}
          <img
            className="totp-qr"
            src={qrDataUrl(enrolment.qrSvg)}
            alt={s.totp.qrAlt}
            width="200"
            height="200"
          />
          <p>
            {s.totp.secretLabel}{' '}
            <code className="totp-secret" data-testid="totp-secret">
              {enrolment.secret}
            </code>
          </p>
        </li>
        <li>{s.totp.step3}</li>
      </ol>
      <form onSubmit={submit} className="form narrow">
        <CodeInput id="enrol-code" label={s.totp.code} value={code} onChange={setCode} />
        {error ? <StaffError error={error} /> : null}
        <button type="submit" className="primary" disabled={busy || cleanCode(code).length !== 6}>
          {s.totp.confirm}
        </button>
      </form>
    </section>
  );
}

/** The recovery codes, shown once: the member says they saved them before the page moves on. */
export function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const { s } = useStaffText();
  const [saved, setSaved] = useState(false);
  return (
    <section aria-labelledby="codes-title" data-testid="recovery-codes">
      <h2 id="codes-title">{s.totp.codesTitle}</h2>
      <p>{s.totp.codesLead}</p>
      <ul className="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <p>
        <label className="check">
          <input type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} />{' '}
          {s.totp.saved}
        </label>
      </p>
      <button type="button" className="primary" disabled={!saved} onClick={onDone}>
        {s.totp.continue}
      </button>
    </section>
  );
}
