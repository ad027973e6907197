import { useCallback, useEffect, useState } from 'react';
import { formatPlate } from '../../../src/reference/plates.js';
import { ApiError, api } from '../api/client';
import type { Report, ReportEvent, ReportEvents } from '../api/types';
import { ErrorNote, Loading, Page } from '../app/common';
import { useLiveChanges } from '../app/live';
import { Link } from '../app/router';
import { localName, textFor, useI18n } from '../i18n';
import type { Dict } from '../i18n/en';
import { FollowUp } from './FollowUp';
import { Plate, StatusBadge } from './parts';

const CHECKING = new Set<Report['status']>(['received', 'validated', 'deduplicated', 'enriched']);

/** One report: its status in words, the rejection reason, the fine, and the timeline — kept live. */
export function ReportPage({ id }: { id: string }) {
  const { t, lang, fmt } = useI18n();
  const [report, setReport] = useState<Report | null>(null);
  const [events, setEvents] = useState<ReportEvents | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      const [r, e] = await Promise.all([
        api<Report>(`/v1/reports/${encodeURIComponent(id)}`),
        api<ReportEvents>(`/v1/reports/${encodeURIComponent(id)}/events`),
      ]);
      setReport(r);
      setEvents(e);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);
  useLiveChanges((c) => {
    if (!c || c.reportId === id) void load();
  });
  // The stream carries notifications, one per report and event: a report back in the automated checks after a
  // correction re-enters review without a second "accepted" message, so while the checks run the page asks again.
  const checking = report ? CHECKING.has(report.status) : false;
  useEffect(() => {
    if (!checking) return;
    const timer = setInterval(() => void load(), 3000);
    return () => clearInterval(timer);
  }, [checking, load]);

  if (
    error instanceof ApiError &&
    (error.code === 'REPORT_NOT_FOUND' || error.code === 'VALIDATION_FAILED')
  ) {
    return (
      <Page title={t.app.notFound}>
        <p>{t.report.notFound}</p>
        <Link to="/reports">{t.report.all}</Link>
      </Page>
    );
  }
  if (!report) return error ? <ErrorNote error={error} onRetry={load} /> : <Loading />;

  const fine = report.fine;
  const bhm = fine ? (fine.bhmMax ? `${fine.bhmMin}–${fine.bhmMax}` : String(fine.bhmMin)) : '';
  return (
    <Page title={t.report.title(formatPlate(report.plate))}>
      {error ? <ErrorNote error={error} onRetry={load} /> : null}
      <section className="status-panel" aria-live="polite" data-testid="report-status">
        <StatusBadge status={report.status} />
        <p>{t.statusHelp[report.status]}</p>
        {report.rejection ? (
          <div className="reason">
            <h2>{t.report.reason}</h2>
            <p data-testid="rejection">{report.rejection.reason[lang]}</p>
          </div>
        ) : null}
      </section>
      <dl className="facts">
        <dt>{t.report.violation}</dt>
        <dd>
          {localName(report.violation.name, lang)} <span className="hint">({report.violation.code})</span>
        </dd>
        <dt>{t.report.plate}</dt>
        <dd>
          <Plate plate={report.plate} />
        </dd>
        <dt>{t.report.incidentAt}</dt>
        <dd>{fmt.dateTime(report.incidentAt)}</dd>
        <dt>{t.report.place}</dt>
        <dd>
          {report.location.lat.toFixed(5)}, {report.location.lon.toFixed(5)}
        </dd>
        <dt>{t.report.receivedAt}</dt>
        <dd>{fmt.dateTime(report.receivedAt)}</dd>
        {fine ? (
          <>
            <dt>{t.report.fine}</dt>
            <dd>
              {t.report.fineRange(
                fmt.money(fine.sumMin),
                fine.sumMax === null ? null : fmt.money(fine.sumMax),
                bhm,
              )}
            </dd>
          </>
        ) : null}
        <dt>{t.report.evidence}</dt>
        <dd>
          {report.evidence
            .map((e) => `${e.kind === 'video' ? t.report.video : t.report.photo} (${sizeText(e.bytes)})`)
            .join(', ')}
        </dd>
      </dl>
      {report.description ? <p className="description">{report.description}</p> : null}
      <FollowUp key={`${report.id}:${report.version}`} report={report} onChanged={() => void load()} />
      {events ? <Timeline events={events} /> : null}
      <p className="row">
        <Link to="/reports">{t.report.all}</Link>
        <Link to="/report/new">{t.report.another}</Link>
      </p>
    </Page>
  );
}

/** The automated stages that check a report; other system work (forwarding, payouts) is "Jarima". */
const CHECK_STAGES = new Set([
  'system',
  'system:validate',
  'system:dedupe',
  'system:enrich',
  'system:analyze',
]);

function actorText(t: Dict, actor: string): string {
  if (actor === 'citizen') return t.actors.citizen;
  if (actor === 'inspector' || actor.startsWith('staff:')) return t.actors.inspector;
  if (CHECK_STAGES.has(actor)) return t.actors.system;
  if (actor === 'gov-registry') return t.actors.registry;
  return t.actors.other;
}

function sizeText(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

function eventText(t: Dict, e: ReportEvent): string {
  const base = textFor(t.events, e.type, e.toStatus ? t.status[e.toStatus] : e.type);
  // A decision reads better as what was decided.
  return e.type === 'reviewed' && e.toStatus ? `${base}: ${t.status[e.toStatus]}` : base;
}

function Timeline({ events }: { events: ReportEvents }) {
  const { t, fmt } = useI18n();
  return (
    <section>
      <h2>{t.report.timeline}</h2>
      <ol className="timeline" data-testid="timeline">
        {events.events.map((e) => (
          <li key={e.seq} data-event={e.type}>
            <span className="timeline-what">{eventText(t, e)}</span>
            <span className="hint">
              {fmt.dateTime(e.at)} · {actorText(t, e.actor)}
            </span>
          </li>
        ))}
      </ol>
      <p className={events.chainValid ? 'hint' : 'error'}>
        {events.chainValid ? t.report.chainValid : t.report.chainBroken}
      </p>
    </section>
  );
}
