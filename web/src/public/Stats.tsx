import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { Counts, StatsByDistrict, StatsSummary, StatsTimeseries } from '../api/types';
import { ErrorNote, Loading, Page } from '../app/common';
import { defaultStatsRange, STATS_SUMMARY, statsByAreaUrl, statsTrendUrl } from '../app/prefetch';
import { areaName, useI18n } from '../i18n';
import { type Box, boundsOf } from '../lib/geo';
import { toTashkentLocal } from '../lib/time';
import { BoundaryMap } from '../map/BoundaryMap';
import { FULL_DETAIL_BELOW, type Level, useAreas } from '../map/boundaries';
import { LineChart } from './LineChart';

type Metric = 'submitted' | 'approved' | 'fined' | 'paid';
const METRICS: Metric[] = ['submitted', 'approved', 'fined', 'paid'];
/** Sequential blues, light to dark (each step keeps 3:1 against white for the darker half). */
const SHADES = ['#dbe9f6', '#a9cce8', '#6aaed6', '#3182bd', '#08519c'];
const NO_DATA = '#eceff2';
const DAY_MS = 86_400_000;

const daysBefore = (day: string, n: number) =>
  new Date(Date.parse(day) - n * DAY_MS).toISOString().slice(0, 10);

/**
 * Classes for counts 1..max: at most one per shade, so that a small maximum (3) gets 3 classes, not empty ones.
 * Each class is an upper bound and the shade it is drawn in, the darkest for the top class.
 */
function classes(max: number): { upTo: number; shade: string }[] {
  const n = Math.max(1, Math.min(SHADES.length, max));
  return Array.from({ length: n }, (_, i) => ({
    upTo: Math.ceil((max * (i + 1)) / n),
    shade: SHADES[n === 1 ? SHADES.length - 1 : Math.round((i * (SHADES.length - 1)) / (n - 1))]!,
  }));
}

/** Public statistics: summary, a choropleth by region or district, a daily trend, the open-data download. */
export default function Stats() {
  const { t, fmt } = useI18n();
  const [to, setTo] = useState(() => defaultStatsRange().to);
  const [from, setFrom] = useState(() => defaultStatsRange().from);
  const [level, setLevel] = useState<Level>('region');
  const [metric, setMetric] = useState<Metric>('submitted');
  const [summary, setSummary] = useState<StatsSummary | null>(null);
  const [byArea, setByArea] = useState<StatsByDistrict | null>(null);
  const [series, setSeries] = useState<StatsTimeseries | null>(null);
  const [zoomedIn, setZoomedIn] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const regions = useAreas('region', { full: zoomedIn && level === 'region', attempt });
  const districts = useAreas('district', { full: zoomedIn, enabled: level === 'district', attempt });
  const rangeOk = from <= to && Date.parse(to) - Date.parse(from) <= 365 * DAY_MS;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` re-runs it after an error
  useEffect(() => {
    api<StatsSummary>(STATS_SUMMARY).then(setSummary, setError);
  }, [attempt]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` re-runs it after an error
  useEffect(() => {
    if (!rangeOk) return;
    setError(null);
    api<StatsByDistrict>(statsByAreaUrl(from, to)).then(setByArea, setError);
    api<StatsTimeseries>(statsTrendUrl(from, to)).then(setSeries, setError);
  }, [from, to, rangeOk, attempt]);

  const shownAreas = level === 'region' ? regions : districts;
  const shown = shownAreas.areas;
  // The first outlines decide the map's frame; the full detail that may follow does not move it.
  const [home, setHome] = useState<Box | null>(null);
  if (!home && regions.areas) setHome(boundsOf(regions.areas));
  const onZoom = useCallback((fraction: number) => {
    if (fraction < FULL_DETAIL_BELOW) setZoomedIn(true);
  }, []);

  /** The metric per area id: districts as given, regions as the sum of their districts. */
  const values = useMemo(() => {
    const m = new Map<number, number>();
    for (const item of byArea?.items ?? []) {
      const id = level === 'region' ? item.regionId : item.districtId;
      if (id !== null) m.set(id, (m.get(id) ?? 0) + item.counts[metric]);
    }
    return m;
  }, [byArea, level, metric]);
  const max = Math.max(0, ...values.values());
  const legend = classes(max);
  const shade = (v: number | undefined) =>
    v ? (legend.find((c) => v <= c.upTo) ?? legend.at(-1)!).shade : NO_DATA;

  const days = useMemo(() => {
    if (!series) return null;
    const byDay = new Map(series.points.map((p) => [toTashkentLocal(new Date(p.at)).slice(0, 10), p.counts]));
    const out: { day: string; counts: Counts | undefined }[] = [];
    for (let d = series.from; d <= series.to; d = daysBefore(d, -1))
      out.push({ day: d, counts: byDay.get(d) });
    return out;
  }, [series]);

  const csv = `/v1/open-data/reports.csv?from=${encodeURIComponent(`${from}T00:00:00+05:00`)}&to=${encodeURIComponent(`${to}T23:59:59+05:00`)}`;
  const rows = shown
    ? shown
        .map((a) => ({ a, v: values.get(a.id) ?? 0 }))
        .filter((r) => level === 'region' || r.v > 0)
        .sort((x, y) => y.v - x.v)
    : [];

  return (
    <Page title={t.stats.title} wide>
      <p>{t.stats.lead}</p>
      {error || shownAreas.failed ? (
        <ErrorNote error={error ?? shownAreas.failed} onRetry={() => setAttempt((n) => n + 1)} />
      ) : null}
      {summary ? (
        <section className="summary" aria-label={t.stats.title}>
          {(
            [
              [t.stats.today, summary.today],
              [t.stats.last30, summary.last30Days],
              [t.stats.allTime, summary.allTime],
            ] as const
          ).map(([label, c]) => (
            <dl key={label} className="summary-card">
              <h2>{label}</h2>
              <div>
                <dt>{t.stats.submitted}</dt>
                <dd>{fmt.number(c.submitted)}</dd>
              </div>
              <div>
                <dt>{t.stats.approved}</dt>
                <dd>{fmt.number(c.approved)}</dd>
              </div>
              <div>
                <dt>{t.stats.fined}</dt>
                <dd>{fmt.number(c.fined)}</dd>
              </div>
              <div>
                <dt>{t.stats.paidSum}</dt>
                <dd>{fmt.money(c.paidSum)}</dd>
              </div>
            </dl>
          ))}
          <p className="hint">{t.stats.asOf(fmt.dateTime(summary.asOf))}</p>
        </section>
      ) : null}

      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t.stats.from}
          <input
            type="date"
            value={from}
            max={to}
            onChange={(e) => e.target.value && setFrom(e.target.value)}
          />
        </label>
        <label>
          {t.stats.to}
          <input
            type="date"
            value={to}
            min={from}
            onChange={(e) => e.target.value && setTo(e.target.value)}
          />
        </label>
        <label>
          {t.stats.level}
          <select value={level} onChange={(e) => setLevel(e.target.value as Level)}>
            <option value="region">{t.stats.regions}</option>
            <option value="district">{t.stats.districts}</option>
          </select>
        </label>
        <label>
          {t.stats.metric}
          <select value={metric} onChange={(e) => setMetric(e.target.value as Metric)}>
            {METRICS.map((m) => (
              <option key={m} value={m}>
                {t.stats[m]}
              </option>
            ))}
          </select>
        </label>
      </form>

      <div className="stats-grid">
        <section>
          <h2>{t.stats.mapTitle}</h2>
          {shown && home ? (
            <div data-testid="choropleth" data-level={level}>
              <BoundaryMap
                key={level}
                areas={shown}
                home={home}
                label={`${t.stats.mapTitle}: ${t.stats[metric]}`}
                areaClass="area choropleth"
                onZoom={onZoom}
                fill={(a) => shade(values.get(a.id))}
                titleOf={(a) => `${areaName(t, a)}: ${fmt.number(values.get(a.id) ?? 0)}`}
              />
              <ul className="legend-row" aria-label={t.stats[metric]}>
                <li className="legend-item">
                  <span className="swatch" style={{ background: NO_DATA }} aria-hidden="true" />0
                </li>
                {max > 0
                  ? legend.map((c, i) => {
                      const from = i === 0 ? 1 : legend[i - 1]!.upTo + 1;
                      return (
                        <li key={c.shade} className="legend-item">
                          <span className="swatch" style={{ background: c.shade }} aria-hidden="true" />
                          {from === c.upTo ? fmt.number(from) : `${fmt.number(from)}–${fmt.number(c.upTo)}`}
                        </li>
                      );
                    })
                  : null}
              </ul>
            </div>
          ) : (
            <Loading />
          )}
        </section>
        <section>
          <h2>{t.stats.trend}</h2>
          {days ? (
            <LineChart
              title={`${t.stats.trend}: ${t.stats.submitted}, ${t.stats.approved}`}
              labels={days.map((d) => d.day.slice(5))}
              series={[
                {
                  name: t.stats.submitted,
                  className: 's1',
                  values: days.map((d) => d.counts?.submitted ?? 0),
                },
                { name: t.stats.approved, className: 's2', values: days.map((d) => d.counts?.approved ?? 0) },
              ]}
            />
          ) : (
            <Loading />
          )}
          <h2>{t.stats.table}</h2>
          {rows.length === 0 ? (
            <p>{t.stats.noData}</p>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t.stats.area}</th>
                    <th scope="col" className="num">
                      {t.stats[metric]}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map(({ a, v }) => (
                    <tr key={a.id}>
                      <th scope="row">{areaName(t, a)}</th>
                      <td className="num">{fmt.number(v)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>

      <section className="download">
        <h2>{t.stats.download}</h2>
        <p className="hint">{t.stats.downloadHint}</p>
        <p>
          <a className="button" href={csv} download data-testid="open-data">
            {t.stats.download}
          </a>
        </p>
      </section>
    </Page>
  );
}
