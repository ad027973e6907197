import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { ApiError } from '../api/client';
import { Loading, Page } from '../app/common';
import { Link } from '../app/router';
import { StaffError, useStaffText } from './i18n';
import { staffApi } from './session';
import type { PasswordLinkInfo } from './types';
import './staff.css';

/**
 * The token of a set-password link. It travels in the fragment (`#token=…`), which the browser never sends to a
 * server; it is taken off the address bar at once so it is not left in the history or on the screen.
 */
function takeToken(): string {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  if (location.hash) history.replaceState(history.state, '', location.pathname + location.search);
  return token;
}

/** /staff/set-password#token=…: a new account's first password, or a reset an administrator started. */
export default function SetPassword() {
  const { s, fmt } = useStaffText();
  const [token] = useState(takeToken);
  const [info, setInfo] = useState<PasswordLinkInfo | null>(null);
  const [linkError, setLinkError] = useState<unknown>(null);
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);

  useEffect(() => {
    if (!token) {
      setLinkError(new ApiError(404, 'LINK_INVALID', 'no token'));
      return;
    }
    staffApi<PasswordLinkInfo>(`/v1/auth/password-links/${encodeURIComponent(token)}`).then(
      setInfo,
      setLinkError,
    );
  }, [token]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (password !== repeat) {
      setError(new ApiError(400, 'PASSWORDS_DIFFER', ''));
      return;
    }
    setBusy(true);
    try {
      await staffApi('/v1/auth/password', { body: { token, password } });
      setDone(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title={s.setPassword.title}>
      {linkError ? (
        <>
          <StaffError error={linkError} />
          <p>{s.setPassword.askAdmin}</p>
        </>
      ) : !info ? (
        <Loading />
      ) : done ? (
        <>
          <p className="ok" role="status" data-testid="password-set">
            {s.setPassword.done}
          </p>
          <p>
            <Link to="/staff/sign-in">{s.setPassword.toSignIn}</Link>
          </p>
        </>
      ) : (
        <>
          <p data-testid="link-login">{s.setPassword.forLogin(info.login, info.displayName)}</p>
          <p className="hint">{s.setPassword.expires(fmt.dateTime(info.expiresAt))}</p>
          <PasswordFields
            password={password}
            setPassword={setPassword}
            repeat={repeat}
            setRepeat={setRepeat}
            login={info.login}
            onSubmit={submit}
            error={error}
            busy={busy}
            submitText={s.setPassword.submit}
          />
        </>
      )}
    </Page>
  );
}

/** A new password twice, with the rule in words; the server's reason when it refuses one (PASSWORD_WEAK). */
export function PasswordFields(p: {
  password: string;
  setPassword: (v: string) => void;
  repeat: string;
  setRepeat: (v: string) => void;
  login: string;
  onSubmit: (e: FormEvent) => void;
  error: unknown;
  busy: boolean;
  submitText: string;
  children?: ReactNode;
}) {
  const { s } = useStaffText();
  return (
    <form onSubmit={p.onSubmit} className="form narrow">
      {/* For password managers: the account the new password belongs to. */}
      <input type="hidden" name="username" autoComplete="username" value={p.login} />
      {p.children}
      <label htmlFor="new-password">{s.setPassword.newPassword}</label>
      <input
        id="new-password"
        type="password"
        autoComplete="new-password"
        required
        minLength={12}
        maxLength={256}
        aria-describedby="password-rule"
        value={p.password}
        onChange={(e) => p.setPassword(e.target.value)}
      />
      <p id="password-rule" className="hint">
        {s.setPassword.rule}
      </p>
      <label htmlFor="repeat-password">{s.setPassword.repeat}</label>
      <input
        id="repeat-password"
        type="password"
        autoComplete="new-password"
        required
        maxLength={256}
        value={p.repeat}
        onChange={(e) => p.setRepeat(e.target.value)}
      />
      {p.error ? <PasswordError error={p.error} /> : null}
      <button type="submit" className="primary" disabled={p.busy || !p.password || !p.repeat}>
        {p.submitText}
      </button>
    </form>
  );
}

/** PASSWORD_WEAK says why (details.reason); the two fields differing is caught here before any call. */
function PasswordError({ error }: { error: unknown }) {
  const { s } = useStaffText();
  const e = error as ApiError;
  if (e.code === 'PASSWORDS_DIFFER')
    return (
      <p className="error-box" role="alert">
        {s.setPassword.differ}
      </p>
    );
  const reason = e.code === 'PASSWORD_WEAK' ? String(e.details?.reason ?? '') : '';
  const reasons: Record<string, string> = s.setPassword.reasons;
  if (reason && reasons[reason])
    return (
      <p className="error-box" role="alert" data-testid="password-weak">
        {reasons[reason]}
      </p>
    );
  return <StaffError error={error} />;
}
