import { type FormEvent, useEffect, useState } from 'react';
import { tokensOf } from '../api/session';
import { Page } from '../app/common';
import { Link, navigate, useLocation } from '../app/router';
import { CodeInput, cleanCode, TotpEnrol } from './account/TotpEnrol';
import { StaffError, useStaffText } from './i18n';
import { getStaffSession, type StaffRole, setStaffSession, staffApi } from './session';
import type { LoginResult, StaffToken, TotpConfirmed, TotpEnrolment } from './types';
import './staff.css';

/** Where a role starts: the operator dashboard for admins, the review queue for the others. */
function home(role: StaffRole): string {
  return role === 'admin' ? '/ops' : '/inspector';
}

/** A path of this app only, and one of the staff consoles (never another origin, never a citizen page). */
function safeNext(next: string | null): string | null {
  return next && /^\/(inspector|ops|staff\/(account|admin|supervisor|appeals))(\/|\?|$)/.test(next)
    ? next
    : null;
}

/** After the password: a code from the app (or a recovery code), or the app's enrolment (roles that require it). */
type Step = { kind: 'password' } | { kind: 'totp' | 'enrol'; challenge: string };

/**
 * Staff sign-in: login and password (POST /v1/auth/login), then, for an account with two-factor sign-in, a code
 * from the authenticator app or a recovery code (POST /v1/auth/login/totp); a role that requires two-factor
 * sign-in and has none yet enrols here first (POST /v1/auth/totp/enrol and /confirm with the challenge).
 */
export default function StaffSignIn() {
  const { s } = useStaffText();
  const { search } = useLocation();
  const next = safeNext(search.get('next'));
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const session = getStaffSession();
    if (session) navigate(next ?? home(session.role), { replace: true });
  }, [next]);

  const signedIn = (r: StaffToken) => {
    setStaffSession({
      ...tokensOf(r),
      subjectId: r.subjectId,
      role: r.role,
      login: login.trim().toLowerCase(),
    });
    navigate(next ?? home(r.role), { replace: true });
  };

  const answer = (r: LoginResult) => {
    if (r.status === 'signed_in') signedIn(r);
    else {
      setStep({ kind: r.status === 'totp_required' ? 'totp' : 'enrol', challenge: r.challenge });
      setBusy(false);
    }
  };

  /** A lapsed or refused challenge: back to the password, saying why. */
  const failed = (err: unknown) => {
    setError(err);
    setBusy(false);
    if ((err as { code?: string }).code === 'CHALLENGE_INVALID') setStep({ kind: 'password' });
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      answer(await staffApi<LoginResult>('/v1/auth/login', { body: { login: login.trim(), password } }));
    } catch (err) {
      setPassword('');
      setError(err);
      setBusy(false);
    }
    setPassword('');
  };

  if (step.kind === 'totp')
    return (
      <Page title={s.signIn.title}>
        <TotpStep
          challenge={step.challenge}
          onAnswer={answer}
          onError={failed}
          error={error}
          busy={busy}
          setBusy={setBusy}
          setError={setError}
        />
      </Page>
    );
  if (step.kind === 'enrol')
    return (
      <Page title={s.signIn.title}>
        <p className="note">{s.totp.required}</p>
        {error ? <StaffError error={error} /> : null}
        <TotpEnrol
          start={() =>
            staffApi<TotpEnrolment>('/v1/auth/totp/enrol', { body: { challenge: step.challenge } }).catch(
              (err) => {
                failed(err);
                throw err;
              },
            )
          }
          confirm={(code) =>
            staffApi<TotpConfirmed>('/v1/auth/totp/confirm', { body: { challenge: step.challenge, code } })
          }
          onDone={(c) => {
            if (c.session) signedIn(c.session);
            else setStep({ kind: 'password' });
          }}
        />
      </Page>
    );

  return (
    <Page title={s.signIn.title}>
      {next ? <p className="note">{s.signIn.needed}</p> : null}
      <p>{s.signIn.lead}</p>
      <form onSubmit={submit} className="form narrow">
        <label htmlFor="staff-login">{s.signIn.login}</label>
        <input
          id="staff-login"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          maxLength={64}
          value={login}
          onChange={(e) => setLogin(e.target.value)}
        />
        <label htmlFor="staff-password">{s.signIn.password}</label>
        <input
          id="staff-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          maxLength={256}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {error ? <StaffError error={error} /> : null}
        <button type="submit" className="primary" disabled={busy || !login.trim() || !password}>
          {s.signIn.submit}
        </button>
      </form>
      <p className="hint">
        {s.signIn.citizens} <Link to="/signin">{s.signIn.citizenLink}</Link>
      </p>
    </Page>
  );
}

/** The second step: the app's 6-digit code, or one of the recovery codes. */
function TotpStep({
  challenge,
  onAnswer,
  onError,
  error,
  busy,
  setBusy,
  setError,
}: {
  challenge: string;
  onAnswer: (r: LoginResult) => void;
  onError: (err: unknown) => void;
  error: unknown;
  busy: boolean;
  setBusy: (b: boolean) => void;
  setError: (e: unknown) => void;
}) {
  const { s } = useStaffText();
  const [recovery, setRecovery] = useState(false);
  const [code, setCode] = useState('');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = recovery ? { challenge, recoveryCode: code.trim() } : { challenge, code: cleanCode(code) };
      onAnswer(await staffApi<LoginResult>('/v1/auth/login/totp', { body }));
    } catch (err) {
      setCode('');
      onError(err);
    }
  };

  return (
    <form onSubmit={submit} className="form narrow" data-testid="totp-step">
      <p>{recovery ? s.totp.recoveryLead : s.totp.codeLead}</p>
      {recovery ? (
        <>
          <label htmlFor="recovery-code">{s.totp.recoveryCode}</label>
          <input
            id="recovery-code"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            required
            maxLength={64}
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
        </>
      ) : (
        <CodeInput id="totp-code" label={s.totp.code} value={code} onChange={setCode} />
      )}
      {error ? <StaffError error={error} /> : null}
      <button
        type="submit"
        className="primary"
        disabled={busy || (recovery ? !code.trim() : cleanCode(code).length !== 6)}
      >
        {s.totp.verify}
      </button>
      <button
        type="button"
        className="link"
        onClick={() => {
          setRecovery(!recovery);
          setCode('');
        }}
      >
        {recovery ? s.totp.useApp : s.totp.useRecovery}
      </button>
    </form>
  );
}
