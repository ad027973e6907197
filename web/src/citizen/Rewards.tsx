import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/client';
import type { Rewards } from '../api/types';
import { ErrorNote, Loading, Page } from '../app/common';
import { useLiveChanges } from '../app/live';
import { Link } from '../app/router';
import { useI18n } from '../i18n';

export function RewardsPage() {
  const { t, fmt } = useI18n();
  const [data, setData] = useState<Rewards | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(async () => {
    try {
      setData(await api<Rewards>('/v1/me/rewards'));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  useLiveChanges((c) => {
    if (!c || c.event === 'paid' || c.event === 'rewarded') void load();
  });

  return (
    <Page title={t.rewards.title}>
      <p>{t.rewards.lead}</p>
      {error ? <ErrorNote error={error} onRetry={load} /> : null}
      {!data ? (
        error ? null : (
          <Loading />
        )
      ) : (
        <>
          <dl className="totals">
            <div>
              <dt>{t.rewards.total}</dt>
              <dd>{fmt.money(data.totalSum)}</dd>
            </div>
            <div>
              <dt>{t.rewards.paidOut}</dt>
              <dd>{fmt.money(data.paidOutSum)}</dd>
            </div>
            <div>
              <dt>{t.rewards.pending}</dt>
              <dd>{fmt.money(data.pendingSum)}</dd>
            </div>
          </dl>
          {data.items.length === 0 ? (
            <p>{t.rewards.empty}</p>
          ) : (
            <ul className="cards">
              {data.items.map((r) => (
                <li key={r.reportId} className="card">
                  <span className="card-top">
                    <strong>{fmt.money(r.amountSum)}</strong>
                    <Link to={`/reports/${r.reportId}`}>
                      {t.rewards.forReport} …{r.reportId.slice(-6)}
                    </Link>
                  </span>
                  <span className="hint">
                    {t.rewards.accrued}: {fmt.date(r.accruedAt)} · {t.rewards.paidOn}:{' '}
                    {r.paidOutAt ? fmt.date(r.paidOutAt) : t.rewards.notYet}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Page>
  );
}
