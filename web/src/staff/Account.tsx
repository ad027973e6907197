import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ApiError } from '../api/client';
import { Loading, Page } from '../app/common';
import { CodeInput, cleanCode, TotpEnrol } from './account/TotpEnrol';
import { StaffError, useStaffText } from './i18n';
import { ScrollRegion } from './ScrollRegion';
import { PasswordFields } from './SetPassword';
import { StaffGate } from './StaffFrame';
import { REVIEWER_ROLES, setStaffSession, staffApi, useStaffSession } from './session';
import type { MySession, TotpConfirmed, TotpEnrolment } from './types';

/** /staff/account: the member's own sessions, password and two-factor sign-in. */
export default function Account() {
  const { s } = useStaffText();
  return (
    <StaffGate roles={REVIEWER_ROLES}>
      <Page title={s.account.title} wide>
        <Sessions />
        <ChangePassword />
        <TwoFactor />
      </Page>
    </StaffGate>
  );
}

/** GET /v1/me/sessions, each with "end" (DELETE /v1/me/sessions/:id); ending this one signs out here too. */
function Sessions() {
  const { s, fmt } = useStaffText();
  const [items, setItems] = useState<MySession[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const load = useCallback(async () => {
    try {
      setItems((await staffApi<{ items: MySession[] }>('/v1/me/sessions')).items);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const revoke = async (x: MySession) => {
    setError(null);
    try {
      await staffApi(`/v1/me/sessions/${encodeURIComponent(x.id)}`, { method: 'DELETE' });
      if (x.current) {
        setStaffSession(null);
        return;
      }
      setDone(s.account.revoked);
      await load();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">{s.account.sessions}</h2>
      <p className="ok" role="status">
        {done}
      </p>
      {error ? <StaffError error={error} onRetry={load} /> : null}
      {items === null ? (
        error ? null : (
          <Loading />
        )
      ) : (
        <ScrollRegion label={s.account.sessions}>
          <table data-testid="my-sessions">
            <thead>
              <tr>
                <th scope="col">{s.account.device}</th>
                <th scope="col">{s.account.signedIn}</th>
                <th scope="col">{s.account.lastUsed}</th>
                <th scope="col">{s.account.ends}</th>
                <th scope="col">
                  <span className="sr-only">{s.account.actions}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((x) => (
                <tr key={x.id} data-current={x.current}>
                  <td>
                    {x.userAgent ?? s.account.unknownDevice}
                    {x.ip ? <span className="hint"> · {x.ip}</span> : null}
                    {x.current ? <strong> · {s.account.thisOne}</strong> : null}
                  </td>
                  <td>{fmt.dateTime(x.createdAt)}</td>
                  <td>{x.lastUsedAt ? fmt.dateTime(x.lastUsedAt) : '—'}</td>
                  <td>{fmt.dateTime(x.expiresAt)}</td>
                  <td>
                    <button type="button" onClick={() => revoke(x)}>
                      {x.current ? s.account.signOutHere : s.account.revoke}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </section>
  );
}

/** POST /v1/me/password: the current password and a new one; the other sessions end. */
function ChangePassword() {
  const { s } = useStaffText();
  const session = useStaffSession();
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setDone(false);
    if (password !== repeat) {
      setError(new ApiError(400, 'PASSWORDS_DIFFER', ''));
      return;
    }
    setBusy(true);
    try {
      await staffApi('/v1/me/password', { body: { currentPassword: current, newPassword: password } });
      setDone(true);
      setCurrent('');
      setPassword('');
      setRepeat('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="password-title">
      <h2 id="password-title">{s.account.password}</h2>
      {done ? (
        <p className="ok" role="status">
          {s.account.passwordChanged}
        </p>
      ) : null}
      <PasswordFields
        password={password}
        setPassword={setPassword}
        repeat={repeat}
        setRepeat={setRepeat}
        login={session?.login ?? ''}
        onSubmit={submit}
        error={error}
        busy={busy || !current}
        submitText={s.account.changePassword}
      >
        <label htmlFor="current-password">{s.account.currentPassword}</label>
        <input
          id="current-password"
          type="password"
          autoComplete="current-password"
          required
          maxLength={256}
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
      </PasswordFields>
    </section>
  );
}

/** Roles that must sign in with a second factor (the server's TOTP_REQUIRED_ROLES default). */
const TOTP_REQUIRED = ['admin', 'supervisor'];

/** Two-factor sign-in: on for roles that require it; otherwise set up (enrol) or removed with a current code. */
function TwoFactor() {
  const { s } = useStaffText();
  const session = useStaffSession();
  const [enrolled, setEnrolled] = useState<boolean | null>(null);
  const [serverRequired, setServerRequired] = useState<boolean | null>(null);
  const [enrolling, setEnrolling] = useState(false);
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState('');
  // The server says which roles must use it (TOTP_REQUIRED_ROLES); until it answers, the default.
  const required = serverRequired ?? (session ? TOTP_REQUIRED.includes(session.role) : false);

  useEffect(() => {
    staffApi<{ totpEnrolled?: boolean; totpRequired?: boolean }>('/v1/me').then(
      (me) => {
        setEnrolled(me.totpEnrolled ?? null);
        setServerRequired(me.totpRequired ?? null);
      },
      () => setEnrolled(null),
    );
  }, []);

  const remove = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await staffApi('/v1/me/totp', { method: 'DELETE', body: { code: cleanCode(code) } });
      setEnrolled(false);
      setNote(s.account.totpRemoved);
      setCode('');
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="totp-title" data-testid="two-factor">
      <h2 id="totp-title">{s.account.totp}</h2>
      <p className="ok" role="status">
        {note}
      </p>
      {required ? (
        <p>{s.account.totpRequired}</p>
      ) : enrolling ? (
        <TotpEnrol
          start={() => staffApi<TotpEnrolment>('/v1/auth/totp/enrol', { body: {} })}
          confirm={(c) => staffApi<TotpConfirmed>('/v1/auth/totp/confirm', { body: { code: c } })}
          onDone={() => {
            setEnrolling(false);
            setEnrolled(true);
            setNote(s.account.totpOn);
          }}
        />
      ) : (
        <>
          <p>{enrolled === true ? s.account.totpOn : enrolled === false ? s.account.totpOff : ''}</p>
          {enrolled !== true ? (
            <button type="button" onClick={() => setEnrolling(true)}>
              {s.account.totpEnrol}
            </button>
          ) : null}
          {enrolled !== false ? (
            <form onSubmit={remove} className="form narrow">
              <CodeInput id="remove-code" label={s.totp.code} value={code} onChange={setCode} />
              {error ? <StaffError error={error} /> : null}
              <button type="submit" disabled={cleanCode(code).length !== 6}>
                {s.account.totpRemove}
              </button>
            </form>
          ) : null}
        </>
      )}
    </section>
  );
}
