import { type FormEvent, useCallback, useEffect, useState } from 'react';
// The server's own list (a module free of Node imports), for the filter.
import { AUDIT_ACTIONS } from '../../../../src/audit/actions.js';
import { Loading } from '../../app/common';
import { StaffError, useStaffText } from '../i18n';
import { ScrollRegion } from '../ScrollRegion';
import { staffApi, staffBlob } from '../session';
import type { AuditItem, AuditPage } from '../types';

interface Filters {
  actor: string;
  action: string;
  targetKind: string;
  targetId: string;
  from: string;
  to: string;
}
const EMPTY: Filters = { actor: '', action: '', targetKind: '', targetId: '', from: '', to: '' };

/** Filters as the query string both routes take; the date-time fields are local time, sent as instants. */
function query(f: Filters): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f) as [keyof Filters, string][]) {
    if (!v.trim()) continue;
    q.set(k, k === 'from' || k === 'to' ? new Date(v).toISOString() : v.trim());
  }
  return q;
}

/** The audit log (GET /v1/admin/audit, newest first, by pages) and its CSV (GET /v1/admin/audit.csv). */
export function Audit() {
  const { s, fmt } = useStaffText();
  const [form, setForm] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [items, setItems] = useState<AuditItem[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(
    async (more: string | null) => {
      setBusy(true);
      try {
        const q = query(applied);
        q.set('limit', '50');
        if (more) q.set('cursor', more);
        const page = await staffApi<AuditPage>(`/v1/admin/audit?${q}`);
        setItems((old) => (more && old ? [...old, ...page.items] : page.items));
        setCursor(page.nextCursor);
        setError(null);
      } catch (err) {
        setError(err);
      } finally {
        setBusy(false);
      }
    },
    [applied],
  );
  useEffect(() => {
    void load(null);
  }, [load]);

  const download = async () => {
    setError(null);
    try {
      // The route reads only the Authorization header, which a plain link cannot send: fetch, then save the Blob.
      const blob = await staffBlob(`/v1/admin/audit.csv?${query(applied)}`);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `audit-${new Date().toISOString().slice(0, 10)}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(err);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApplied(form);
  };
  const field = (k: keyof Filters) => ({
    value: form[k],
    onChange: (e: { target: { value: string } }) => setForm((f) => ({ ...f, [k]: e.target.value })),
  });

  return (
    <section aria-labelledby="audit-title" data-testid="admin-audit">
      <h2 id="audit-title">{s.audit.title}</h2>
      <form onSubmit={submit} className="form">
        <div className="row field-row">
          <label>
            {s.audit.actor}
            <input maxLength={100} {...field('actor')} />
          </label>
          <label>
            {s.audit.action}
            <select {...field('action')}>
              <option value="">{s.admin.all}</option>
              {AUDIT_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </label>
          <label>
            {s.audit.targetKind}
            <input maxLength={40} pattern="[a-z_]{1,40}" {...field('targetKind')} />
          </label>
          <label>
            {s.audit.targetId}
            <input maxLength={100} {...field('targetId')} />
          </label>
          <label>
            {s.audit.from}
            <input type="datetime-local" {...field('from')} />
          </label>
          <label>
            {s.audit.to}
            <input type="datetime-local" {...field('to')} />
          </label>
        </div>
        <div className="row">
          <button type="submit" className="primary">
            {s.audit.apply}
          </button>
          <button type="button" onClick={download}>
            {s.audit.csv}
          </button>
        </div>
      </form>
      {error ? <StaffError error={error} onRetry={() => load(null)} /> : null}
      {items === null ? (
        error ? null : (
          <Loading />
        )
      ) : items.length === 0 ? (
        <p>{s.audit.empty}</p>
      ) : (
        <ScrollRegion label={s.audit.title}>
          <table data-testid="audit-list">
            <thead>
              <tr>
                <th scope="col">{s.audit.at}</th>
                <th scope="col">{s.audit.actor}</th>
                <th scope="col">{s.audit.action}</th>
                <th scope="col">{s.audit.outcome}</th>
                <th scope="col">{s.audit.target}</th>
                <th scope="col">{s.audit.detail}</th>
                <th scope="col">{s.audit.ip}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((x) => (
                <tr key={x.id} data-action={x.action}>
                  <td>{fmt.dateTime(x.at)}</td>
                  <td>{x.actorLogin ?? x.actorId ?? '—'}</td>
                  <td>{x.action}</td>
                  <td>{x.outcome}</td>
                  <td>{x.targetKind ? `${x.targetKind} ${x.targetId ?? ''}` : '—'}</td>
                  <td>
                    <code>{Object.keys(x.detail).length ? JSON.stringify(x.detail) : ''}</code>
                  </td>
                  <td>{x.ip ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {cursor ? (
        <button type="button" onClick={() => load(cursor)} disabled={busy}>
          {s.audit.more}
        </button>
      ) : null}
    </section>
  );
}
