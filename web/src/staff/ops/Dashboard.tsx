import { useState } from 'react';
import { Page } from '../../app/common';
import { OPS_ALERTS, OPS_OVERVIEW } from '../../app/prefetch';
import { StaffError, useStaffText } from '../i18n';
import { ScrollRegion } from '../ScrollRegion';
import { staffApi } from '../session';
import { clock, timeOfDay } from '../time';
import type { OpsAlerts, OpsOverview, OpsPoint } from '../types';
import { AlertList } from './Alerts';
import { Sparkline, seriesColour, TimeChart } from './charts';
import { DeadLetters } from './DeadLetters';
import { usePoll } from './usePoll';

const POLL_MS = 10_000;

const errorRate = (p: OpsPoint) => (p.http.requests ? (100 * p.http.errors) / p.http.requests : null);

/**
 * The operator's live dashboard (admins): GET /v1/ops/overview and GET /v1/ops/alerts every 10 s — the golden
 * signals of the last hour per minute as charts, queues and workers per pipeline stage, cache hit rates, circuit
 * breakers and alerts — and the dead-letter list with retry and discard.
 */
export function Dashboard() {
  const { s, lang, fmt } = useStaffText();
  const [overview, setOverview] = useState<OpsOverview | null>(null);
  const [alerts, setAlerts] = useState<OpsAlerts | null>(null);
  /** Bumped by "Refresh now", which refreshes the dead letters as well. */
  const [refreshed, setRefreshed] = useState(0);
  const poll = usePoll(async () => {
    const [o, a] = await Promise.all([staffApi<OpsOverview>(OPS_OVERVIEW), staffApi<OpsAlerts>(OPS_ALERTS)]);
    setOverview(o);
    setAlerts(a);
  }, POLL_MS);

  const ms = (v: number) =>
    v >= 1000 ? `${fmt.number(Math.round(v / 100) / 10)} s` : `${fmt.number(Math.round(v))} ms`;
  const pct = (v: number) => `${fmt.number(Math.round(v * 10) / 10)} %`;
  const count = (v: number) => fmt.number(Math.round(v));

  const series = overview?.series ?? [];
  const last = series.at(-1) ?? null;
  const now = overview?.now ?? null;
  // Minutes on the time axis; seconds as well when the points are closer than that (OPS_POINT_SECONDS < 60).
  const span = series.length > 1 ? Date.parse(series.at(-1)!.at) - Date.parse(series[0]!.at) : 0;
  // What every chart shares: the minutes on its time axis and how its legend names them.
  const axis = {
    times: series.map((p) => p.at),
    timeLabel: (iso: string) => timeOfDay(iso, lang, span > 0 && span < 300_000),
    timeName: s.ops.chartTime,
  };
  const stages = now ? Object.keys(now.stages) : [];
  const namespaces = now ? Object.keys(now.cacheHitRate).sort() : [];
  const latest = (v: number | null | undefined, f: (n: number) => string) => (v == null ? '—' : f(v));
  /** One line per stage (or namespace) of a per-minute figure; null where a minute has none. */
  const lines = <K extends string>(keys: K[], pick: (p: OpsPoint, key: K) => number | null | undefined) =>
    keys.map((key, i) => ({
      name: key,
      className: seriesColour(i),
      values: series.map((p) => pick(p, key) ?? null),
    }));

  return (
    <Page title={s.ops.title} wide>
      <div className="ops-head">
        <p className="hint" data-testid="updated">
          {poll.updatedAt ? s.ops.updated(timeOfDay(poll.updatedAt, lang, true)) : s.ops.loading}
          {' · '}
          {s.ops.every(POLL_MS / 1000)}
        </p>
        <button
          type="button"
          onClick={() => {
            void poll.refresh();
            setRefreshed((n) => n + 1);
          }}
          data-testid="refresh"
        >
          {s.ops.refresh}
        </button>
      </div>
      {poll.error ? <StaffError error={poll.error} onRetry={poll.refresh} /> : null}

      {now ? (
        <>
          <p className="hint">{s.ops.tilesHint}</p>
          <dl className="tiles" data-testid="tiles">
            <div>
              <dt>{s.ops.submissions}</dt>
              <dd data-testid="submissions-minute">{latest(last?.submissions, count)}</dd>
              <dd className="hint">
                {s.ops.sinceStart}: <span data-testid="submissions-total">{count(now.submissions)}</span>
              </dd>
            </div>
            <div>
              <dt>{s.ops.requests}</dt>
              <dd>{latest(last?.http.requests, count)}</dd>
              <dd className="hint">
                {s.ops.sinceStart}: {count(now.http.requests)}
              </dd>
            </div>
            <div>
              <dt>{s.ops.errorRate}</dt>
              <dd>{latest(last ? errorRate(last) : null, pct)}</dd>
              <dd className="hint">
                {s.ops.sinceStart}: {latest(errorRate(now), pct)}
              </dd>
            </div>
            <div>
              <dt>{s.ops.latencyP95}</dt>
              <dd>{latest(last?.http.p95Ms, ms)}</dd>
              <dd className="hint">
                p50 {latest(last?.http.p50Ms, ms)} · p99 {latest(last?.http.p99Ms, ms)}
              </dd>
            </div>
            <div>
              <dt>{s.ops.loopLag}</dt>
              <dd>{ms(now.eventLoopLagP99Ms)}</dd>
            </div>
            <div>
              <dt>{s.ops.cpu}</dt>
              <dd>
                {latest(last ? last.cpuSeconds / 60 : null, (v) => fmt.number(Math.round(v * 100) / 100))}
              </dd>
              <dd className="hint">{s.ops.memory(fmt.number(Math.round(now.rssBytes / 1048576)))}</dd>
            </div>
          </dl>

          <section aria-labelledby="charts-title">
            <h2 id="charts-title">{s.ops.lastHour}</h2>
            {series.length === 0 ? (
              <p className="hint" data-testid="no-series">
                {s.ops.collecting}
              </p>
            ) : (
              <div className="charts" data-testid="charts">
                <TimeChart
                  testId="chart-submissions"
                  title={s.ops.submissionsPerMinute}
                  summary={s.ops.latestIs(latest(last?.submissions, count))}
                  {...axis}
                  format={count}
                  floor={2}
                  series={[
                    { name: s.ops.submissions, className: 's1', values: series.map((p) => p.submissions) },
                  ]}
                />
                <TimeChart
                  testId="chart-latency"
                  title={s.ops.latency}
                  summary={`p50 ${latest(last?.http.p50Ms, ms)}, p95 ${latest(last?.http.p95Ms, ms)}, p99 ${latest(last?.http.p99Ms, ms)}`}
                  {...axis}
                  format={ms}
                  floor={10}
                  series={[
                    { name: 'p50', className: 's1', values: series.map((p) => p.http.p50Ms) },
                    { name: 'p95', className: 's2', values: series.map((p) => p.http.p95Ms) },
                    { name: 'p99', className: 's3', values: series.map((p) => p.http.p99Ms) },
                  ]}
                />
                <TimeChart
                  testId="chart-errors"
                  title={s.ops.errorRate}
                  summary={s.ops.latestIs(latest(last ? errorRate(last) : null, pct))}
                  {...axis}
                  format={pct}
                  series={[{ name: s.ops.errorRate, className: 's4', values: series.map(errorRate) }]}
                />
                <TimeChart
                  testId="chart-requests"
                  title={s.ops.requestsPerMinute}
                  summary={s.ops.latestIs(latest(last?.http.requests, count))}
                  {...axis}
                  format={count}
                  floor={2}
                  series={[
                    { name: s.ops.requests, className: 's1', values: series.map((p) => p.http.requests) },
                  ]}
                />
                <TimeChart
                  testId="chart-depth"
                  title={s.ops.depthChart}
                  summary={stages.map((st) => `${st} ${count(now.stages[st]!.depth)}`).join(', ')}
                  {...axis}
                  format={count}
                  floor={2}
                  series={lines(stages, (p, st) => p.stages[st]?.depth)}
                />
                <TimeChart
                  testId="chart-oldest"
                  title={s.ops.oldestChart}
                  summary={stages
                    .map(
                      (st) =>
                        `${st} ${now.stages[st]!.depth ? clock(now.stages[st]!.oldestAgeSeconds * 1000) : '—'}`,
                    )
                    .join(', ')}
                  {...axis}
                  format={(v) => clock(v * 1000)}
                  floor={2}
                  series={lines(stages, (p, st) => p.stages[st]?.oldestAgeSeconds)}
                />
                <TimeChart
                  testId="chart-workers"
                  title={s.ops.workersChart}
                  summary={stages.map((st) => `${st} ${now.stages[st]!.workers}`).join(', ')}
                  {...axis}
                  format={count}
                  floor={2}
                  series={lines(stages, (p, st) => p.stages[st]?.workers)}
                />
                <TimeChart
                  testId="chart-cache"
                  title={s.ops.cacheChart}
                  summary={namespaces
                    .map(
                      (ns) =>
                        `${ns} ${latest(now.cacheHitRate[ns] == null ? null : now.cacheHitRate[ns]! * 100, pct)}`,
                    )
                    .join(', ')}
                  {...axis}
                  format={pct}
                  floor={100}
                  series={lines(namespaces, (p, ns) => {
                    const r = p.cacheHitRate[ns];
                    return r == null ? null : r * 100;
                  })}
                />
              </div>
            )}
          </section>

          <section aria-labelledby="stages-title">
            <h2 id="stages-title">{s.ops.stages}</h2>
            <ScrollRegion label={s.ops.stages}>
              <table className="ops-table" data-testid="stages">
                <thead>
                  <tr>
                    <th scope="col">{s.ops.stage}</th>
                    <th scope="col" className="num">
                      {s.ops.depth}
                    </th>
                    <th scope="col" className="num">
                      {s.ops.oldest}
                    </th>
                    <th scope="col" className="num">
                      {s.ops.workers}
                    </th>
                    <th scope="col" className="num">
                      {s.ops.completed}
                    </th>
                    <th scope="col">{s.ops.hour}</th>
                  </tr>
                </thead>
                <tbody>
                  {stages.map((stage) => {
                    const st = now.stages[stage]!;
                    return (
                      <tr key={stage} data-stage={stage}>
                        <th scope="row">{stage}</th>
                        <td className="num" data-testid={`depth-${stage}`}>
                          {count(st.depth)}
                        </td>
                        <td className="num">{st.depth ? clock(st.oldestAgeSeconds * 1000) : '—'}</td>
                        <td className="num">
                          {st.workers} / {st.desiredWorkers}
                          <span className="sr-only"> {s.ops.workersHint}</span>
                          {st.batching && (
                            <span className="hint" data-testid={`batching-${stage}`}>
                              {' '}
                              {s.ops.inBatches}
                            </span>
                          )}
                        </td>
                        <td className="num">
                          <span data-testid={`completed-${stage}`}>{count(st.completed)}</span>
                          <span className="hint"> {s.ops.sinceStart}</span>
                        </td>
                        <td className="sparks">
                          <Sparkline
                            values={series.map((p) => p.stages[stage]?.depth ?? null)}
                            label={s.ops.depthHour(stage)}
                          />
                          <Sparkline
                            values={series.map((p) => p.stages[stage]?.workers ?? null)}
                            compare={series.map((p) => p.stages[stage]?.desiredWorkers ?? null)}
                            label={s.ops.workersHour(stage)}
                          />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </ScrollRegion>
            <p className="hint">{s.ops.stagesHint}</p>
          </section>

          <div className="ops-pair">
            <section aria-labelledby="cache-title">
              <h2 id="cache-title">{s.ops.cache}</h2>
              {namespaces.length ? (
                <ScrollRegion label={s.ops.cache}>
                  <table className="ops-table" data-testid="cache">
                    <thead>
                      <tr>
                        <th scope="col">{s.ops.namespace}</th>
                        <th scope="col" className="num">
                          {s.ops.hitRate}
                        </th>
                        <th scope="col">{s.ops.hour}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {namespaces.map((ns) => {
                        const rate = last?.cacheHitRate[ns] ?? now.cacheHitRate[ns] ?? null;
                        return (
                          <tr key={ns}>
                            <th scope="row">{ns}</th>
                            <td className="num">{latest(rate === null ? null : rate * 100, pct)}</td>
                            <td>
                              <Sparkline
                                values={series.map((p) => {
                                  const r = p.cacheHitRate[ns];
                                  return r == null ? null : r * 100;
                                })}
                                label={s.ops.hitRateHour(ns)}
                              />
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </ScrollRegion>
              ) : (
                <p className="hint">{s.ops.noCache}</p>
              )}
            </section>
            <section aria-labelledby="breakers-title">
              <h2 id="breakers-title">{s.ops.breakers}</h2>
              {Object.keys(now.breakers).length ? (
                <ul className="breakers" data-testid="breakers">
                  {Object.entries(now.breakers).map(([name, v]) => {
                    const state = v >= 1 ? 'open' : v > 0 ? 'halfOpen' : 'closed';
                    return (
                      <li key={name}>
                        <span>{name}</span>{' '}
                        <span className={`badge breaker-${state}`} data-state={state}>
                          {s.ops.breaker[state]}
                        </span>
                      </li>
                    );
                  })}
                </ul>
              ) : (
                <p className="hint">{s.ops.noBreakers}</p>
              )}
            </section>
          </div>
        </>
      ) : null}

      <AlertList alerts={alerts} />
      <DeadLetters refreshed={refreshed} />
    </Page>
  );
}
