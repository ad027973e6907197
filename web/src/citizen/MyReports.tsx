import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/client';
import type { Report, ReportList } from '../api/types';
import { ErrorNote, Loading, Page } from '../app/common';
import { useLiveChanges } from '../app/live';
import { myReportsUrl } from '../app/prefetch';
import { Link } from '../app/router';
import { localName, useI18n } from '../i18n';
import { appendNew } from '../lib/ids';
import { Plate, StatusBadge } from './parts';

/** The citizen's reports, newest first, each status kept current by the live stream (no polling). */
export function MyReports() {
  const { t, lang, fmt } = useI18n();
  const [items, setItems] = useState<Report[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  const loadFirst = useCallback(async () => {
    try {
      const page = await api<ReportList>(myReportsUrl());
      setError(null);
      // The first page replaces its own rows; rows loaded by "show more" stay below it (anything not on the
      // first page is older than all of it).
      setItems((old) => {
        const fresh = new Set(page.items.map((r) => r.id));
        return [...page.items, ...(old ?? []).filter((r) => !fresh.has(r.id))];
      });
      setCursor((c) => c ?? page.nextCursor);
    } catch (err) {
      setError(err);
    }
  }, []);

  useEffect(() => {
    void loadFirst();
  }, [loadFirst]);

  useLiveChanges((change) => {
    if (!change) return void loadFirst();
    if (!items?.some((r) => r.id === change.reportId)) return void loadFirst();
    api<Report>(`/v1/reports/${change.reportId}`).then(
      (r) => setItems((old) => old?.map((x) => (x.id === r.id ? r : x)) ?? old),
      () => {},
    );
  });

  const more = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await api<ReportList>(myReportsUrl(cursor));
      setItems((old) => appendNew(old, page.items));
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <Page title={t.reports.title}>
      <p>
        <Link to="/report/new" className="button primary">
          {t.nav.newReport}
        </Link>
      </p>
      {error ? <ErrorNote error={error} onRetry={loadFirst} /> : null}
      {items === null ? (
        error ? null : (
          <Loading />
        )
      ) : items.length === 0 ? (
        <p data-testid="my-reports-empty">{t.reports.empty}</p>
      ) : (
        <ul className="cards" data-testid="my-reports">
          {items.map((r) => (
            <li key={r.id} className="card" data-report={r.id}>
              <Link to={`/reports/${r.id}`} className="card-link">
                <span className="card-top">
                  <Plate plate={r.plate} />
                  <StatusBadge status={r.status} />
                </span>
                <span className="card-title">{localName(r.violation.name, lang)}</span>
                <span className="hint">{t.reports.filed(fmt.dateTime(r.receivedAt))}</span>
              </Link>
            </li>
          ))}
        </ul>
      )}
      {cursor ? (
        <button type="button" onClick={more} disabled={loadingMore}>
          {t.reports.more}
        </button>
      ) : null}
    </Page>
  );
}
