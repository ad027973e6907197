import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { formatPlate } from '../../../../src/reference/plates.js';
import type { ViolationType } from '../../api/types';
import { Loading, Page } from '../../app/common';
import { ALL_VIOLATION_TYPES, QUEUE_PAGE, queueUrl } from '../../app/prefetch';
import { Link, navigate, useLocation } from '../../app/router';
import { Plate } from '../../citizen/parts';
import { areaName, localName } from '../../i18n';
import { appendNew } from '../../lib/ids';
import { placeName, useAreaNames } from '../areas';
import { StaffError, useStaffText } from '../i18n';
import { KeyHints, useShortcuts } from '../keys';
import { useThumbnail } from '../media';
import { ScrollRegion } from '../ScrollRegion';
import { staffApi } from '../session';
import type { QueueItem, Queue as QueuePage } from '../types';
import { filtersFrom, filtersQuery, rememberFilters, takeNext, takeOutcome } from './claim';
import { Countdown, FindingTags, Holder, Priority } from './parts';

const PAGE = QUEUE_PAGE;
/** The queue is shared by every inspector: rows are re-read this often so holders and order stay true. */
const REFRESH_MS = 15_000;

let violationTypes: Promise<ViolationType[]> | null = null;
function loadViolationTypes(): Promise<ViolationType[]> {
  violationTypes ??= staffApi<{ items: ViolationType[] }>(ALL_VIOLATION_TYPES).then((r) => r.items);
  violationTypes.catch(() => {
    violationTypes = null;
  });
  return violationTypes;
}

/** The review queue: open reports by priority, then deadline, with filters, "take next" and keyboard moves. */
export function Queue() {
  const { s, t, lang, fmt } = useStaffText();
  const { search } = useLocation();
  const query = search.toString();
  const filters = useMemo(() => filtersFrom(new URLSearchParams(query)), [query]);
  const [items, setItems] = useState<QueueItem[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [types, setTypes] = useState<ViolationType[]>([]);
  const regions = useAreaNames('region');
  const districts = useAreaNames('district');
  const table = useRef<HTMLTableSectionElement>(null);
  const shown = useRef(PAGE);
  shown.current = Math.min(100, Math.max(PAGE, items?.length ?? 0));

  useEffect(() => {
    rememberFilters(filters);
  }, [filters]);

  useEffect(() => {
    loadViolationTypes().then(setTypes, () => {});
  }, []);

  // Arriving here after a decision whose "next" found nothing free: say what happened.
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, on arrival
  useEffect(() => {
    const o = takeOutcome();
    if (!o) return;
    const plate = formatPlate(o.plate);
    setNote(o.what === 'released' ? s.queue.released(plate) : s.queue.emptyAfter(s.outcome[o.what], plate));
  }, []);

  /** Reads the queue from the top, as many rows as are shown (the order moves as reports are claimed). */
  const load = useCallback(async () => {
    try {
      const q = filtersQuery(filters);
      const page = await staffApi<QueuePage>(queueUrl(q, shown.current));
      setItems(page.items);
      setCursor(page.nextCursor);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [filters]);

  useEffect(() => {
    setItems(null);
    void load();
    const timer = setInterval(() => {
      if (!document.hidden) void load();
    }, REFRESH_MS);
    const onVisible = () => !document.hidden && void load();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [load]);

  const more = async () => {
    if (!cursor) return;
    setBusy(true);
    try {
      const q = filtersQuery(filters);
      const page = await staffApi<QueuePage>(queueUrl(q, PAGE, cursor));
      setItems((old) => appendNew(old, page.items));
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const next = async () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      const r = await takeNext(filters);
      if (r) return navigate(`/inspector/review/${r.report.id}`);
      setNote(s.queue.nothingFree);
      void load();
    } catch (err) {
      setError(err);
    }
    setBusy(false);
  };

  const setFilter = (patch: Partial<typeof filters>) => {
    const f = { ...filters, ...patch };
    if ('region' in patch) f.district = undefined;
    const q = filtersQuery(f);
    navigate(`/inspector${q ? `?${q}` : ''}`, { replace: true });
  };

  /** Moves focus to the previous or next row's link. */
  const move = (by: number) => {
    const links = [...(table.current?.querySelectorAll<HTMLAnchorElement>('a[data-row]') ?? [])];
    if (!links.length) return;
    const at = links.indexOf(document.activeElement as HTMLAnchorElement);
    links[at < 0 ? 0 : Math.max(0, Math.min(links.length - 1, at + by))]!.focus();
  };

  useShortcuts({
    t: () => void next(),
    j: () => move(1),
    k: () => move(-1),
    arrowdown: () => move(1),
    arrowup: () => move(-1),
    u: () => void load(),
    '/': () => document.getElementById('filter-region')?.focus(),
  });

  const regionList = regions
    ? [...regions.values()].sort((a, b) => areaName(t, a).localeCompare(areaName(t, b)))
    : [];
  const districtList =
    districts && filters.region
      ? [...districts.values()]
          .filter((d) => d.regionId === filters.region)
          .sort((a, b) => a.name.localeCompare(b.name))
      : [];

  return (
    <Page title={s.queue.title} wide>
      <div className="queue-actions">
        <button
          type="button"
          className="primary"
          onClick={next}
          disabled={busy}
          aria-keyshortcuts="T"
          data-testid="take-next"
        >
          {s.queue.takeNext} <kbd>T</kbd>
        </button>
        <button type="button" onClick={() => void load()} aria-keyshortcuts="U">
          {s.queue.refresh} <kbd>U</kbd>
        </button>
      </div>
      <output className="queue-note" data-testid="queue-note">
        {note}
      </output>
      {error ? <StaffError error={error} onRetry={load} /> : null}

      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={s.queue.filters}>
        <label>
          {s.queue.region}
          <select
            id="filter-region"
            value={filters.region ?? ''}
            onChange={(e) => setFilter({ region: Number(e.target.value) || undefined })}
          >
            <option value="">{s.queue.all}</option>
            {regionList.map((r) => (
              <option key={r.id} value={r.id}>
                {areaName(t, r)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {s.queue.district}
          <select
            value={filters.district ?? ''}
            disabled={!filters.region}
            onChange={(e) => setFilter({ district: Number(e.target.value) || undefined })}
          >
            <option value="">{s.queue.all}</option>
            {districtList.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {s.queue.violation}
          <select
            value={filters.violation ?? ''}
            onChange={(e) => setFilter({ violation: e.target.value || undefined })}
          >
            <option value="">{s.queue.all}</option>
            {types.map((v) => (
              <option key={v.code} value={v.code}>
                {v.code} {localName(v.name, lang)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {s.queue.status}
          <select
            value={filters.status ?? ''}
            onChange={(e) =>
              setFilter({ status: (e.target.value || undefined) as typeof filters.status | undefined })
            }
          >
            <option value="">{s.queue.all}</option>
            <option value="awaiting_review">{s.queue.waiting}</option>
            <option value="in_review">{s.queue.held}</option>
          </select>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={filters.overdue ?? false}
            onChange={(e) => setFilter({ overdue: e.target.checked || undefined })}
          />
          {s.queue.overdueOnly}
        </label>
      </form>

      {items === null ? (
        error ? null : (
          <Loading />
        )
      ) : items.length === 0 ? (
        <p data-testid="queue-empty">{s.queue.empty}</p>
      ) : (
        <ScrollRegion label={s.queue.title}>
          <table className="queue" data-testid="queue">
            <caption className="sr-only">{s.queue.caption}</caption>
            <thead>
              <tr>
                <th scope="col">
                  <span className="sr-only">{s.queue.thumbnail}</span>
                </th>
                <th scope="col">{s.queue.priority}</th>
                <th scope="col">{s.queue.report}</th>
                <th scope="col">{s.queue.place}</th>
                <th scope="col">{s.queue.deadline}</th>
                <th scope="col">{s.queue.holder}</th>
                <th scope="col">{s.queue.findings}</th>
              </tr>
            </thead>
            <tbody ref={table}>
              {items.map((r) => (
                <tr key={r.id} data-report={r.id} className={r.lease?.mine ? 'mine' : undefined}>
                  <td>
                    <Thumb path={r.thumbnailUrl} />
                  </td>
                  <td>
                    <Priority value={r.priority} />
                  </td>
                  <td>
                    <Link to={`/inspector/review/${r.id}`} data-row className="row-link">
                      <Plate plate={r.plate} />
                      <span className="sr-only">, </span>
                      <span className="row-violation">{localName(r.violation.name, lang)}</span>
                    </Link>
                    <span className="hint">{s.queue.received(fmt.dateTime(r.receivedAt))}</span>
                  </td>
                  <td>{placeName(t, regions, districts, r.regionId, r.districtId) ?? '—'}</td>
                  <td>
                    <Countdown due={r.slaDueAt} />
                  </td>
                  <td>
                    <Holder lease={r.lease} />
                  </td>
                  <td>
                    <FindingTags types={r.findings} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {cursor ? (
        <p>
          <button type="button" onClick={more} disabled={busy}>
            {s.queue.more}
          </button>
        </p>
      ) : null}
      <KeyHints
        label={s.keys.label}
        hints={[
          ['T', s.keys.takeNext],
          ['J K', s.keys.move],
          ['Enter', s.keys.open],
          ['U', s.keys.refresh],
          ['/', s.keys.filters],
        ]}
      />
    </Page>
  );
}

function Thumb({ path }: { path: string | null }) {
  const url = useThumbnail(path);
  return url ? (
    <img className="queue-thumb" src={url} alt="" width={96} height={54} />
  ) : (
    <span className="queue-thumb" aria-hidden="true" />
  );
}
