import { useEffect, useRef, useState } from 'react';
import { formatPlate } from '../../../../src/reference/plates.js';
import { ApiError } from '../../api/client';
import { Loading, Page } from '../../app/common';
import { Link, navigate } from '../../app/router';
import { StaffError, useStaffText } from '../i18n';
import { KeyHints, useShortcuts } from '../keys';
import { staffApi } from '../session';
import { clock, useNow } from '../time';
import type { Decision, Review as ReviewData } from '../types';
import {
  dropHandoff,
  type Outcome,
  queuePath,
  setOutcome,
  takeHandoff,
  takeNext,
  takeOutcome,
} from './claim';
import { NeedsInfoPanel, RejectPanel } from './Decide';
import { EvidenceViewer } from './Evidence';
import { ReportFacts } from './ReportFacts';

type Panel = 'none' | 'reject' | 'needs_info';

/**
 * One report under review: the evidence, the automated findings, related reports and the decision — all by
 * keyboard. A decision is followed at once by the next report (POST /v1/review/next); when none is free, the queue.
 */
export function Review({ id }: { id: string }) {
  const { s } = useStaffText();
  const [data, setData] = useState<ReviewData | null>(() => takeHandoff(id) ?? null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [panel, setPanel] = useState<Panel>('none');
  const [announce, setAnnounce] = useState('');
  const now = useNow();
  const decided = useRef(false);

  // Arriving right after a decision: say what was decided, in a status region (filled after it is on the page,
  // so screen readers announce it).
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, on arrival
  useEffect(() => {
    const o = takeOutcome();
    if (o) setAnnounce(s.review.previous(s.outcome[o.what], formatPlate(o.plate)));
  }, []);

  useEffect(() => {
    dropHandoff(id);
    if (data) return;
    staffApi<ReviewData>(`/v1/review/${encodeURIComponent(id)}`).then(setData, setError);
  }, [id, data]);

  const reload = () => {
    setError(null);
    staffApi<ReviewData>(`/v1/review/${encodeURIComponent(id)}`).then(setData, setError);
  };

  const lease = data?.lease ?? null;
  const holding = !!lease?.mine && Date.parse(lease.expiresAt) > now;

  /** Claims the next report and shows it in place of this one; the queue when none is free. */
  const goNext = async (outcome: Outcome | null) => {
    try {
      const next = await takeNext();
      if (next?.report.id === id) {
        // This very report (its lease had lapsed and it was still first): stay, now holding it.
        dropHandoff(id);
        decided.current = false;
        setData(next);
        setBusy(false);
        return;
      }
      setOutcome(outcome);
      navigate(next ? `/inspector/review/${next.report.id}` : queuePath(), { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const decide = async (decision: Decision, extra: { reasonCode?: string; note?: string } = {}) => {
    if (busy || !holding || decided.current) return;
    decided.current = true;
    setBusy(true);
    setError(null);
    setAnnounce(s.review.sending);
    try {
      await staffApi(`/v1/review/${id}/decision`, { body: { decision, ...extra } });
      setAnnounce(s.review.loadingNext);
    } catch (err) {
      decided.current = false;
      setAnnounce('');
      setError(err);
      setBusy(false);
      return;
    }
    await goNext({ what: decision, plate: data?.report.plate ?? '' });
  };

  const release = async () => {
    if (busy) return;
    if (!holding) return navigate(queuePath());
    setBusy(true);
    try {
      await staffApi(`/v1/review/${id}/release`, { method: 'POST' });
      setOutcome({ what: 'released', plate: data?.report.plate ?? '' });
      navigate(queuePath());
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const claim = async () => {
    if (busy) return;
    setBusy(true);
    await goNext(null);
  };

  useShortcuts(
    holding
      ? {
          a: () => void decide('approve'),
          r: () => setPanel('reject'),
          n: () => setPanel('needs_info'),
          escape: () => void release(),
        }
      : { t: () => void claim(), escape: () => navigate(queuePath()) },
    panel === 'none' && !!data,
  );

  if (
    !data &&
    error instanceof ApiError &&
    (error.code === 'REPORT_NOT_FOUND' || error.code === 'VALIDATION_FAILED')
  )
    return (
      <Page title={s.review.notFound}>
        <p>
          <Link to="/inspector">{s.review.toQueue}</Link>
        </p>
      </Page>
    );
  if (!data)
    return (
      <Page title={s.review.loading}>
        {error ? <StaffError error={error} onRetry={reload} /> : <Loading />}
      </Page>
    );

  const report = data.report;
  const open = report.status === 'awaiting_review' || report.status === 'in_review';
  return (
    <Page title={s.review.title(formatPlate(report.plate))} wide>
      <div className={`lease-bar${holding ? ' holding' : ''}`} data-testid="lease" data-holding={holding}>
        {holding && lease ? (
          <p>{s.review.holding(clock(Math.max(0, Date.parse(lease.expiresAt) - now)))}</p>
        ) : (
          <>
            <p>
              {!open
                ? s.review.closed
                : lease && !lease.mine && Date.parse(lease.expiresAt) > now
                  ? s.review.heldByOther
                  : lease?.mine
                    ? s.review.lapsed
                    : s.review.notHeld}
            </p>
            <button type="button" onClick={claim} disabled={busy} aria-keyshortcuts="T">
              {s.queue.takeNext} <kbd>T</kbd>
            </button>
          </>
        )}
      </div>
      <p className="outcome" role="status" data-testid="announce">
        {announce}
      </p>
      {error ? <StaffError error={error} /> : null}

      <div className="review-grid">
        <EvidenceViewer
          key={report.id}
          reportId={report.id}
          evidence={data.evidence}
          incidentAt={report.incidentAt}
          location={report.location}
          keysEnabled={panel === 'none'}
        />
        <div className="review-side">
          {holding ? (
            <section className="decide" aria-label={s.decide.label}>
              {panel === 'reject' ? (
                <RejectPanel
                  codes={data.rejectionReasons}
                  busy={busy}
                  onCancel={() => setPanel('none')}
                  onReject={(reasonCode) => void decide('reject', { reasonCode })}
                />
              ) : panel === 'needs_info' ? (
                <NeedsInfoPanel
                  busy={busy}
                  onCancel={() => setPanel('none')}
                  onSend={(note) => void decide('needs_info', { note })}
                />
              ) : (
                <div className="decide-buttons">
                  <button
                    type="button"
                    className="primary"
                    disabled={busy}
                    onClick={() => void decide('approve')}
                    aria-keyshortcuts="A"
                    data-testid="approve"
                  >
                    {s.decide.approve} <kbd>A</kbd>
                  </button>
                  <button
                    type="button"
                    className="danger"
                    disabled={busy}
                    onClick={() => setPanel('reject')}
                    aria-keyshortcuts="R"
                  >
                    {s.decide.reject} <kbd>R</kbd>
                  </button>
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => setPanel('needs_info')}
                    aria-keyshortcuts="N"
                  >
                    {s.decide.needsInfo} <kbd>N</kbd>
                  </button>
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => void release()}
                    aria-keyshortcuts="Escape"
                  >
                    {s.decide.release} <kbd>Esc</kbd>
                  </button>
                </div>
              )}
            </section>
          ) : null}
          <ReportFacts data={data} />
        </div>
      </div>

      <KeyHints
        label={s.keys.label}
        hints={
          panel === 'reject'
            ? [
                ['1–9 0', s.keys.reason],
                ['Enter', s.keys.confirm],
                ['Esc', s.keys.cancel],
              ]
            : panel === 'needs_info'
              ? [
                  ['Ctrl Enter', s.keys.send],
                  ['Esc', s.keys.cancel],
                ]
              : [
                  ...(holding
                    ? ([
                        ['A', s.keys.approve],
                        ['R', s.keys.reject],
                        ['N', s.keys.needsInfo],
                        ['Esc', s.keys.release],
                      ] as [string, string][])
                    : ([
                        ['T', s.keys.takeNext],
                        ['Esc', s.keys.toQueue],
                      ] as [string, string][])),
                  ['J K', s.keys.evidence],
                  ['Space', s.keys.play],
                  ['← →', s.keys.frame],
                  ['Shift ← →', s.keys.second],
                  ['Z', s.keys.zoom],
                  ['B', s.keys.blur],
                ]
        }
      />
    </Page>
  );
}
