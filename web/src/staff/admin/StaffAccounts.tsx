import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { Loading } from '../../app/common';
import { StaffError, useStaffText } from '../i18n';
import { ScrollRegion } from '../ScrollRegion';
import { type StaffRole, staffApi } from '../session';
import type { CreatedStaff, PasswordLink, StaffAccount, Unit } from '../types';

const ROLES: StaffRole[] = ['inspector', 'supervisor', 'admin'];

/** A one-time set-password link, to copy and hand to the person (it is shown this once). */
export function OneTimeLink({ link, login }: { link: PasswordLink; login: string }) {
  const { s, fmt } = useStaffText();
  const [copied, setCopied] = useState(false);
  return (
    <div className="note" role="status">
      <p>{s.admin.linkFor(login, fmt.dateTime(link.expiresAt))}</p>
      <p>
        <code className="one-time-link" data-testid="set-password-link">
          {link.url}
        </code>
      </p>
      <button
        type="button"
        onClick={() =>
          navigator.clipboard?.writeText(link.url).then(
            () => setCopied(true),
            () => {},
          )
        }
      >
        {copied ? s.admin.copied : s.admin.copy}
      </button>
    </div>
  );
}

/** Staff accounts (GET/POST/PATCH /v1/admin/staff and the per-account actions). */
export function StaffAccounts({ units }: { units: Unit[] }) {
  const { s } = useStaffText();
  const [filter, setFilter] = useState({ role: '', unit: '', active: 'true', q: '' });
  const [items, setItems] = useState<StaffAccount[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [link, setLink] = useState<{ link: PasswordLink; login: string } | null>(null);
  const [done, setDone] = useState('');
  const [editing, setEditing] = useState<string | null>(null);

  const load = useCallback(async () => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v.trim()) q.set(k, v.trim());
    try {
      setItems((await staffApi<{ items: StaffAccount[] }>(`/v1/admin/staff?${q}`)).items);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [filter]);
  useEffect(() => {
    void load();
  }, [load]);

  const act = async (a: StaffAccount, what: 'disable' | 'enable' | 'link' | 'unlock' | 'reset-totp') => {
    setError(null);
    setDone('');
    setLink(null);
    try {
      if (what === 'disable' || what === 'enable') {
        await staffApi(`/v1/admin/staff/${a.id}`, { method: 'PATCH', body: { active: what === 'enable' } });
        setDone(what === 'enable' ? s.admin.enabled(a.login) : s.admin.disabled(a.login));
      } else if (what === 'link') {
        setLink({
          link: await staffApi<PasswordLink>(`/v1/admin/staff/${a.id}/password-link`, { method: 'POST' }),
          login: a.login,
        });
      } else {
        await staffApi(`/v1/admin/staff/${a.id}/${what}`, { method: 'POST' });
        setDone(what === 'unlock' ? s.admin.unlocked(a.login) : s.admin.totpReset(a.login));
      }
      await load();
    } catch (err) {
      setError(err);
    }
  };

  const set = (k: keyof typeof filter) => (e: { target: { value: string } }) =>
    setFilter((f) => ({ ...f, [k]: e.target.value }));

  return (
    <section aria-labelledby="staff-title" data-testid="admin-staff">
      <h2 id="staff-title">{s.admin.staff}</h2>
      <CreateStaff
        units={units}
        onCreated={(c) => {
          setLink({ link: c.setPasswordLink, login: c.account.login });
          setDone('');
          void load();
        }}
      />
      {link ? <OneTimeLink link={link.link} login={link.login} /> : null}
      <p className="ok" role="status">
        {done}
      </p>
      <div className="row field-row">
        <label>
          {s.admin.search}
          <input type="search" value={filter.q} maxLength={100} onChange={set('q')} />
        </label>
        <label>
          {s.admin.role}
          <select value={filter.role} onChange={set('role')}>
            <option value="">{s.admin.all}</option>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {s.roles[r]}
              </option>
            ))}
          </select>
        </label>
        <label>
          {s.admin.unit}
          <select value={filter.unit} onChange={set('unit')}>
            <option value="">{s.admin.all}</option>
            {units.map((u) => (
              <option key={u.id} value={String(u.id)}>
                {u.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {s.admin.state}
          <select value={filter.active} onChange={set('active')}>
            <option value="">{s.admin.all}</option>
            <option value="true">{s.admin.active}</option>
            <option value="false">{s.admin.inactive}</option>
          </select>
        </label>
      </div>
      {error ? <StaffError error={error} onRetry={load} /> : null}
      {items === null ? (
        error ? null : (
          <Loading />
        )
      ) : (
        <ScrollRegion label={s.admin.staff}>
          <table data-testid="staff-list">
            <thead>
              <tr>
                <th scope="col">{s.admin.login}</th>
                <th scope="col">{s.admin.name}</th>
                <th scope="col">{s.admin.role}</th>
                <th scope="col">{s.admin.unit}</th>
                <th scope="col">{s.admin.state}</th>
                <th scope="col">{s.admin.actions}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) =>
                editing === a.id ? (
                  <tr key={a.id} data-staff={a.login}>
                    <td colSpan={6}>
                      <EditStaff
                        account={a}
                        units={units}
                        onDone={(changed) => {
                          setEditing(null);
                          if (changed) {
                            setDone(s.admin.saved(a.login));
                            void load();
                          }
                        }}
                      />
                    </td>
                  </tr>
                ) : (
                  <tr key={a.id} data-staff={a.login}>
                    <td>{a.login}</td>
                    <td>{a.displayName}</td>
                    <td>{s.roles[a.role]}</td>
                    <td>{a.unitName ?? s.admin.noUnit}</td>
                    <td>
                      {[
                        a.active ? s.admin.active : s.admin.inactive,
                        a.passwordSet ? null : s.admin.noPassword,
                        a.totpEnrolled ? s.admin.totpOn : null,
                        a.locked ? s.admin.locked : null,
                      ]
                        .filter(Boolean)
                        .join(' · ')}
                    </td>
                    <td className="actions">
                      <button
                        type="button"
                        onClick={() => setEditing(a.id)}
                        aria-label={s.admin.editLabel(a.login)}
                      >
                        {s.admin.edit}
                      </button>
                      <button
                        type="button"
                        onClick={() => act(a, a.active ? 'disable' : 'enable')}
                        aria-label={(a.active ? s.admin.disableLabel : s.admin.enableLabel)(a.login)}
                      >
                        {a.active ? s.admin.disable : s.admin.enable}
                      </button>
                      <button
                        type="button"
                        onClick={() => act(a, 'link')}
                        aria-label={s.admin.newLinkLabel(a.login)}
                      >
                        {s.admin.newLink}
                      </button>
                      {a.locked ? (
                        <button
                          type="button"
                          onClick={() => act(a, 'unlock')}
                          aria-label={s.admin.unlockLabel(a.login)}
                        >
                          {s.admin.unlock}
                        </button>
                      ) : null}
                      {a.totpEnrolled ? (
                        <button
                          type="button"
                          onClick={() => act(a, 'reset-totp')}
                          aria-label={s.admin.resetTotpLabel(a.login)}
                        >
                          {s.admin.resetTotp}
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </section>
  );
}

function CreateStaff({ units, onCreated }: { units: Unit[]; onCreated: (c: CreatedStaff) => void }) {
  const { s } = useStaffText();
  const [login, setLogin] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<StaffRole>('inspector');
  const [unit, setUnit] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const c = await staffApi<CreatedStaff>('/v1/admin/staff', {
        body: { login: login.trim(), displayName: name.trim(), role, unitId: unit ? Number(unit) : null },
      });
      setLogin('');
      setName('');
      onCreated(c);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="form" aria-labelledby="create-staff-title">
      <h3 id="create-staff-title">{s.admin.create}</h3>
      <div className="row field-row">
        <label>
          {s.admin.login}
          <input
            required
            value={login}
            pattern="[A-Za-z0-9._\-]{3,64}"
            autoCapitalize="none"
            spellCheck={false}
            onChange={(e) => setLogin(e.target.value)}
          />
        </label>
        <NameRoleUnit
          name={name}
          setName={setName}
          role={role}
          setRole={setRole}
          units={units}
          unit={unit}
          setUnit={setUnit}
        />
      </div>
      {error ? <StaffError error={error} /> : null}
      <button type="submit" className="primary" disabled={busy || !login.trim() || !name.trim()}>
        {s.admin.createSubmit}
      </button>
    </form>
  );
}

/** An account's name, role and unit: the fields creating and editing share. */
function NameRoleUnit(p: {
  name: string;
  setName: (v: string) => void;
  role: StaffRole;
  setRole: (v: StaffRole) => void;
  units: Unit[];
  unit: string;
  setUnit: (v: string) => void;
}) {
  const { s } = useStaffText();
  return (
    <>
      <label>
        {s.admin.name}
        <input required maxLength={120} value={p.name} onChange={(e) => p.setName(e.target.value)} />
      </label>
      <label>
        {s.admin.role}
        <select value={p.role} onChange={(e) => p.setRole(e.target.value as StaffRole)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {s.roles[r]}
            </option>
          ))}
        </select>
      </label>
      <UnitSelect units={p.units} value={p.unit} onChange={p.setUnit} />
    </>
  );
}

function UnitSelect({
  units,
  value,
  onChange,
}: {
  units: Unit[];
  value: string;
  onChange: (v: string) => void;
}) {
  const { s } = useStaffText();
  return (
    <label>
      {s.admin.unit}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{s.admin.noUnit}</option>
        {units.map((u) => (
          <option key={u.id} value={String(u.id)}>
            {u.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function EditStaff({
  account,
  units,
  onDone,
}: {
  account: StaffAccount;
  units: Unit[];
  onDone: (changed: boolean) => void;
}) {
  const { s } = useStaffText();
  const [name, setName] = useState(account.displayName);
  const [role, setRole] = useState<StaffRole>(account.role);
  const [unit, setUnit] = useState(account.unitId == null ? '' : String(account.unitId));
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const body: Record<string, unknown> = {};
    if (name.trim() !== account.displayName) body.displayName = name.trim();
    if (role !== account.role) body.role = role;
    const unitId = unit ? Number(unit) : null;
    if (unitId !== account.unitId) body.unitId = unitId;
    if (Object.keys(body).length === 0) return onDone(false);
    try {
      await staffApi(`/v1/admin/staff/${account.id}`, { method: 'PATCH', body });
      onDone(true);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={submit} className="form" aria-label={s.admin.editLabel(account.login)}>
      <div className="row field-row">
        <NameRoleUnit
          name={name}
          setName={setName}
          role={role}
          setRole={setRole}
          units={units}
          unit={unit}
          setUnit={setUnit}
        />
      </div>
      {role !== account.role ? <p className="hint">{s.admin.roleChangeEnds}</p> : null}
      {error ? <StaffError error={error} /> : null}
      <div className="row">
        <button type="submit" className="primary">
          {s.admin.save}
        </button>
        <button type="button" onClick={() => onDone(false)}>
          {s.admin.cancel}
        </button>
      </div>
    </form>
  );
}
