import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { Loading, Page } from '../app/common';
import { Link } from '../app/router';
import { StaffError, useStaffText } from './i18n';
import { ScrollRegion } from './ScrollRegion';
import { StaffGate } from './StaffFrame';
import { SUPERVISOR_ROLES, staffApi } from './session';
import type { AlertHistory, Queue, ReportAudit, Workload } from './types';

/**
 * /staff/supervisor (supervisors and administrators): the unit's workload — who holds what and what each decided
 * in 24 h — deadline breaches, reassignment of an open report, one report's audit trail, the alert history.
 */
export default function Supervisor() {
  const { s } = useStaffText();
  return (
    <StaffGate roles={SUPERVISOR_ROLES}>
      <Page title={s.supervisor.title} wide>
        <SupervisorConsole />
      </Page>
    </StaffGate>
  );
}

function SupervisorConsole() {
  const [workload, setWorkload] = useState<Workload | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [auditOf, setAuditOf] = useState('');
  const load = useCallback(async () => {
    try {
      setWorkload(await staffApi<Workload>('/v1/review/workload'));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <>
      {error ? <StaffError error={error} onRetry={load} /> : null}
      {workload ? (
        <>
          <WorkloadView workload={workload} onRefresh={load} />
          <Breaches workload={workload} onAudit={setAuditOf} />
          <Reassign workload={workload} onDone={load} />
        </>
      ) : error ? null : (
        <Loading />
      )}
      <ReportAuditView id={auditOf} setId={setAuditOf} />
      <Alerts />
    </>
  );
}

function WorkloadView({ workload, onRefresh }: { workload: Workload; onRefresh: () => void }) {
  const { s } = useStaffText();
  const q = workload.queue;
  return (
    <section aria-labelledby="workload-title" data-testid="workload">
      <h2 id="workload-title">{s.supervisor.workload}</h2>
      <p data-testid="queue-counts">{s.supervisor.counts(q.waiting, q.inReview, q.overdue)}</p>
      <button type="button" onClick={onRefresh}>
        {s.supervisor.refresh}
      </button>
      <ScrollRegion label={s.supervisor.workload}>
        <table>
          <thead>
            <tr>
              <th scope="col">{s.supervisor.inspector}</th>
              <th scope="col">{s.supervisor.holding}</th>
              <th scope="col">{s.supervisor.approved}</th>
              <th scope="col">{s.supervisor.rejected}</th>
              <th scope="col">{s.supervisor.needsInfo}</th>
            </tr>
          </thead>
          <tbody>
            {workload.inspectors.map((i) => (
              <tr key={i.id} data-inspector={i.login}>
                <td>
                  {i.displayName} <span className="hint">({i.login})</span>
                </td>
                <td>{i.holding}</td>
                <td>{i.decided24h.approve}</td>
                <td>{i.decided24h.reject}</td>
                <td>{i.decided24h.needsInfo}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      <p className="hint">{s.supervisor.decidedHint}</p>
    </section>
  );
}

function Breaches({ workload, onAudit }: { workload: Workload; onAudit: (id: string) => void }) {
  const { s, fmt } = useStaffText();
  const kinds: Record<string, string> = s.supervisor.kinds;
  return (
    <section aria-labelledby="breaches-title" data-testid="breaches">
      <h2 id="breaches-title">{s.supervisor.breaches}</h2>
      {workload.slaBreaches.length === 0 ? (
        <p>{s.supervisor.noBreaches}</p>
      ) : (
        <ScrollRegion label={s.supervisor.breaches}>
          <table>
            <thead>
              <tr>
                <th scope="col">{s.supervisor.report}</th>
                <th scope="col">{s.supervisor.kind}</th>
                <th scope="col">{s.supervisor.due}</th>
                <th scope="col">{s.supervisor.status}</th>
                <th scope="col">
                  <span className="sr-only">{s.supervisor.actions}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {workload.slaBreaches.map((b) => (
                <tr key={`${b.reportId} ${b.kind}`} data-breach={b.kind} data-report={b.reportId}>
                  <td>
                    <Link to={`/inspector/review/${b.reportId}`}>{b.reportId.slice(0, 8)}…</Link>
                  </td>
                  <td>{kinds[b.kind] ?? b.kind}</td>
                  <td>{fmt.dateTime(b.dueAt)}</td>
                  <td>{b.status}</td>
                  <td>
                    <button type="button" onClick={() => onAudit(b.reportId)}>
                      {s.supervisor.showAudit}
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

/** POST /v1/review/:id/reassign: an open report of the unit to one of its inspectors. */
function Reassign({ workload, onDone }: { workload: Workload; onDone: () => void }) {
  const { s } = useStaffText();
  const [open, setOpen] = useState<Queue['items']>([]);
  const [report, setReport] = useState('');
  const [inspector, setInspector] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const loadOpen = useCallback(async () => {
    try {
      setOpen((await staffApi<Queue>('/v1/review/queue?limit=100')).items);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void loadOpen();
  }, [loadOpen]);
  const inspectors = workload.inspectors.filter((i) => i.role === 'inspector');
  // Overdue open reports beyond the queue's first page (or outside its filters) can be given away too.
  const listed = new Set(open.map((r) => r.id));
  const overdue = workload.slaBreaches.filter(
    (b, i, all) =>
      (b.status === 'awaiting_review' || b.status === 'in_review') &&
      !listed.has(b.reportId) &&
      all.findIndex((x) => x.reportId === b.reportId) === i,
  );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setDone('');
    try {
      await staffApi(`/v1/review/${report}/reassign`, { body: { inspectorId: inspector } });
      const who = inspectors.find((i) => i.id === inspector);
      setDone(s.supervisor.reassigned(who?.login ?? ''));
      onDone();
      await loadOpen();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="reassign-title">
      <h2 id="reassign-title">{s.supervisor.reassign}</h2>
      <form onSubmit={submit} className="form">
        <div className="row field-row">
          <label htmlFor="reassign-report">
            {s.supervisor.report}
            <select id="reassign-report" required value={report} onChange={(e) => setReport(e.target.value)}>
              <option value="">—</option>
              {open.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.plate} · {r.lease ? s.supervisor.held : s.supervisor.free}
                </option>
              ))}
              {overdue.map((b) => (
                <option key={b.reportId} value={b.reportId}>
                  {b.reportId.slice(0, 8)}… · {s.supervisor.overdue}
                </option>
              ))}
            </select>
          </label>
          <label htmlFor="reassign-to">
            {s.supervisor.to}
            <select
              id="reassign-to"
              required
              value={inspector}
              onChange={(e) => setInspector(e.target.value)}
            >
              <option value="">—</option>
              {inspectors.map((i) => (
                <option key={i.id} value={i.id}>
                  {i.displayName} ({i.login})
                </option>
              ))}
            </select>
          </label>
        </div>
        <p className="ok" role="status">
          {done}
        </p>
        {error ? <StaffError error={error} /> : null}
        <button type="submit" className="primary" disabled={!report || !inspector}>
          {s.supervisor.reassignSubmit}
        </button>
      </form>
    </section>
  );
}

/** GET /v1/review/:id/audit: evidence views and the audit log entries about one report. */
function ReportAuditView({ id, setId }: { id: string; setId: (id: string) => void }) {
  const { s, fmt } = useStaffText();
  const [input, setInput] = useState(id);
  const [audit, setAudit] = useState<ReportAudit | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setInput(id);
    setAudit(null);
    if (!/^[0-9a-f-]{36}$/i.test(id)) return;
    staffApi<ReportAudit>(`/v1/review/${id}/audit`).then((a) => {
      setAudit(a);
      setError(null);
    }, setError);
  }, [id]);
  return (
    <section aria-labelledby="report-audit-title" data-testid="report-audit">
      <h2 id="report-audit-title">{s.supervisor.reportAudit}</h2>
      <form
        className="form row field-row"
        onSubmit={(e) => {
          e.preventDefault();
          setId(input.trim());
        }}
      >
        <label>
          {s.supervisor.reportId}
          <input value={input} maxLength={36} spellCheck={false} onChange={(e) => setInput(e.target.value)} />
        </label>
        <button type="submit">{s.supervisor.showAudit}</button>
      </form>
      {error ? <StaffError error={error} /> : null}
      {audit ? (
        <ul className="audit-trail">
          {audit.entries.map((x) => (
            <li key={`e${x.id}`}>
              {fmt.dateTime(x.at)} · {x.actorLogin ?? '—'} · {x.action} ({x.outcome})
            </li>
          ))}
          {audit.views.map((v) => (
            <li key={`v${v.at}${v.evidenceId}${v.variant}`}>
              {fmt.dateTime(v.at)} · {v.login} · {s.supervisor.viewed(v.variant)}
            </li>
          ))}
          {audit.entries.length + audit.views.length === 0 ? <li>{s.supervisor.noAudit}</li> : null}
        </ul>
      ) : null}
    </section>
  );
}

/** GET /v1/ops/alerts/history: alerts that fired and resolved, newest first. */
function Alerts() {
  const { s, fmt } = useStaffText();
  const [items, setItems] = useState<AlertHistory['items'] | null>(null);
  const [before, setBefore] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async (more: number | null) => {
    try {
      const page = await staffApi<AlertHistory>(
        `/v1/ops/alerts/history?limit=50${more ? `&before=${more}` : ''}`,
      );
      setItems((old) => (more && old ? [...old, ...page.items] : page.items));
      setBefore(page.nextBefore);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void load(null);
  }, [load]);
  return (
    <section aria-labelledby="alert-history-title" data-testid="alert-history">
      <h2 id="alert-history-title">{s.supervisor.alerts}</h2>
      {error ? <StaffError error={error} onRetry={() => load(null)} /> : null}
      {items === null ? null : items.length === 0 ? (
        <p>{s.supervisor.noAlerts}</p>
      ) : (
        <ul>
          {items.map((a) => (
            <li key={a.id}>
              {fmt.dateTime(String(a.at))} · <strong>{a.rule}</strong> · {a.state} · {a.summary}
            </li>
          ))}
        </ul>
      )}
      {before ? (
        <button type="button" onClick={() => load(before)}>
          {s.supervisor.more}
        </button>
      ) : null}
    </section>
  );
}
