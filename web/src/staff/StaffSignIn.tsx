import { type FormEvent, useEffect, useState } from 'react';
import { Page } from '../app/common';
import { Link, navigate, useLocation } from '../app/router';
import { StaffError, useStaffText } from './i18n';
import { getStaffSession, type StaffRole, setStaffSession, staffApi } from './session';
import type { StaffToken } from './types';
import './staff.css';

/** Where a role starts: the operator dashboard for admins, the review queue for the others. */
function home(role: StaffRole): string {
  return role === 'admin' ? '/ops' : '/inspector';
}

/** A path of this app only, and one of the staff consoles (never another origin, never a citizen page). */
function safeNext(next: string | null): string | null {
  return next && /^\/(inspector|ops)(\/|\?|$)/.test(next) ? next : null;
}

/** Staff sign-in: login and password (POST /v1/auth/login). */
export default function StaffSignIn() {
  const { s } = useStaffText();
  const { search } = useLocation();
  const next = safeNext(search.get('next'));
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const session = getStaffSession();
    if (session) navigate(next ?? home(session.role), { replace: true });
  }, [next]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await staffApi<StaffToken>('/v1/auth/login', { body: { login: login.trim(), password } });
      setStaffSession({
        token: r.token,
        subjectId: r.subjectId,
        role: r.role,
        expiresAt: r.expiresAt,
        login: login.trim().toLowerCase(),
      });
      navigate(next ?? home(r.role), { replace: true });
    } catch (err) {
      setPassword('');
      setError(err);
      setBusy(false);
    }
  };

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
