import { useEffect, useState } from 'react';
import { Loading } from '../../app/common';
import { StaffError, useStaffText } from '../i18n';
import { ScrollRegion } from '../ScrollRegion';
import { staffApi } from '../session';
import type { DeadLetter } from '../types';
import { usePoll } from './usePoll';

const POLL_MS = 30_000;

/**
 * The pipeline's dead letters (GET /v1/admin/dlq): jobs out of attempts and reports a stage could not handle, each
 * with "retry" (run again / back to its stage) and "discard" (delete the job / reject the report for good), which
 * asks once more before it acts because it cannot be undone.
 */
export function DeadLetters({ refreshed }: { refreshed: number }) {
  const { s, fmt } = useStaffText();
  const [items, setItems] = useState<DeadLetter[] | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [done, setDone] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  const poll = usePoll(async () => {
    setItems((await staffApi<{ items: DeadLetter[] }>('/v1/admin/dlq?limit=200')).items);
  }, POLL_MS);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the dashboard's "Refresh now" is pressed
  useEffect(() => {
    if (refreshed) void poll.refresh();
  }, [refreshed]);

  const act = async (id: string, action: 'retry' | 'discard') => {
    setBusy(id);
    setActionError(null);
    setConfirming(null);
    try {
      await staffApi(`/v1/admin/dlq/${encodeURIComponent(id)}/${action}`, { method: 'POST' });
      setDone(action === 'retry' ? s.dlq.retried(id) : s.dlq.discarded(id));
      setItems((old) => old?.filter((x) => x.id !== id) ?? old);
      await poll.refresh();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby="dlq-title" data-testid="dlq">
      <h2 id="dlq-title">{s.dlq.title}</h2>
      <p className="hint">{s.dlq.lead}</p>
      <p role="status" className="ok" data-testid="dlq-done">
        {done}
      </p>
      {poll.error ? <StaffError error={poll.error} onRetry={poll.refresh} /> : null}
      {actionError ? <StaffError error={actionError} /> : null}
      {items === null ? (
        poll.error ? null : (
          <Loading />
        )
      ) : items.length === 0 ? (
        <p data-testid="dlq-empty">{s.dlq.empty}</p>
      ) : (
        <ScrollRegion label={s.dlq.title}>
          <table className="ops-table dlq-table">
            <thead>
              <tr>
                <th scope="col">{s.dlq.id}</th>
                <th scope="col">{s.dlq.stage}</th>
                <th scope="col" className="num">
                  {s.dlq.attempts}
                </th>
                <th scope="col">{s.dlq.error}</th>
                <th scope="col">{s.dlq.since}</th>
                <th scope="col">
                  <span className="sr-only">{s.dlq.actions}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id} data-dead={d.id}>
                  <th scope="row">
                    <code>{d.id}</code>
                    <span className="hint"> {s.dlq.kind[d.kind]}</span>
                  </th>
                  <td>{d.stage}</td>
                  <td className="num">{d.attempts ?? '—'}</td>
                  <td className="dlq-error">{d.error ?? '—'}</td>
                  <td>{fmt.dateTime(d.since)}</td>
                  <td>
                    <div className="row nowrap">
                      <button
                        type="button"
                        disabled={busy !== null}
                        onClick={() => void act(d.id, 'retry')}
                        aria-label={s.dlq.retryLabel(d.id)}
                      >
                        {s.dlq.retry}
                      </button>
                      {confirming === d.id ? (
                        <>
                          <button
                            type="button"
                            className="danger"
                            disabled={busy !== null}
                            onClick={() => void act(d.id, 'discard')}
                            aria-label={s.dlq.confirmLabel(d.id)}
                            // biome-ignore lint/a11y/noAutofocus: the second step of a two-step action takes focus
                            autoFocus
                          >
                            {s.dlq.confirm}
                          </button>
                          <button type="button" onClick={() => setConfirming(null)}>
                            {s.dlq.cancel}
                          </button>
                        </>
                      ) : (
                        <button
                          type="button"
                          disabled={busy !== null}
                          onClick={() => setConfirming(d.id)}
                          aria-label={s.dlq.discardLabel(d.id)}
                        >
                          {s.dlq.discard}
                        </button>
                      )}
                    </div>
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
