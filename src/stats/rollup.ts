import type { Queryable } from '../platform/db/pool.js';
import type { ReportRow } from '../reports/reports.repository.js';
import { PIPELINE_WAITING, type ReportStatus } from '../reports/status.js';

/** What one transition adds to the roll-ups. */
export interface StatsMove {
  report: Pick<ReportRow, 'received_at' | 'region_id' | 'district_id' | 'violation_code'>;
  from: ReportStatus;
  to: ReportStatus;
  /** Region and district set by this very transition (enrich), else the report's. */
  regionId?: number | null;
  districtId?: number | null;
  /** The fine in sum a `fined` or `paid` transition records. */
  amountSum?: number | null;
}

/** The roll-ups' counters: columns of `stats_hourly`, summed by the statistics queries. */
export const COUNTERS = [
  'submitted',
  'approved',
  'rejected',
  'duplicate',
  'fined',
  'paid',
  'fined_sum',
  'paid_sum',
] as const;
export type Counter = (typeof COUNTERS)[number];

const HOUR = 3600_000;
const hourOf = (d: Date) => new Date(Math.floor(d.getTime() / HOUR) * HOUR);

/**
 * Adds the transitions' counts to `stats_hourly` in one statement, aggregated per row first (an upsert may touch a
 * row once) and in key order, so concurrent transitions lock shared rows in the same order and cannot deadlock.
 */
export async function addToRollups(trx: Queryable, moves: StatsMove[], now = new Date()): Promise<void> {
  const rows = new Map<
    string,
    { hour: Date; region: number; district: number; code: string } & Record<Counter, number>
  >();
  const bump = (m: StatsMove, at: Date, counter: Counter, by = 1) => {
    const region = m.regionId ?? m.report.region_id ?? 0;
    const district = m.districtId ?? m.report.district_id ?? 0;
    const hour = hourOf(at);
    const key = `${hour.getTime()}|${region}|${district}|${m.report.violation_code}`;
    let row = rows.get(key);
    if (!row) {
      row = { hour, region, district, code: m.report.violation_code, ...zero() };
      rows.set(key, row);
    }
    row[counter] += by;
  };
  for (const m of moves) {
    const leftChecks =
      (PIPELINE_WAITING.includes(m.from) && !PIPELINE_WAITING.includes(m.to) && m.to !== 'failed') ||
      (m.from === 'failed' && m.to === 'rejected');
    if (leftChecks) bump(m, m.report.received_at, 'submitted');
    // A correction sends a report back to the checks; it is counted again when it leaves them.
    if (m.to === 'received' && !PIPELINE_WAITING.includes(m.from))
      bump(m, m.report.received_at, 'submitted', -1);
    if (m.to === 'approved') bump(m, now, 'approved');
    if (m.to === 'rejected') bump(m, now, 'rejected');
    if (m.to === 'duplicate') bump(m, now, 'duplicate');
    if (m.to === 'fined') {
      bump(m, now, 'fined');
      bump(m, now, 'fined_sum', m.amountSum ?? 0);
    }
    if (m.to === 'paid') {
      bump(m, now, 'paid');
      bump(m, now, 'paid_sum', m.amountSum ?? 0);
    }
  }
  if (rows.size === 0) return;
  const list = [...rows.values()].sort(
    (a, b) =>
      a.hour.getTime() - b.hour.getTime() ||
      a.region - b.region ||
      a.district - b.district ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
  await trx.query(
    `insert into stats_hourly as s (hour, region_id, district_id, violation_code, ${COUNTERS.join(', ')})
     select * from unnest($1::timestamptz[], $2::int[], $3::int[], $4::text[], ${COUNTERS.map((_, i) => `$${i + 5}::bigint[]`).join(', ')})
     on conflict (hour, region_id, district_id, violation_code) do update set
       ${COUNTERS.map((c) => `${c} = s.${c} + excluded.${c}`).join(', ')}`,
    [
      list.map((r) => r.hour),
      list.map((r) => r.region),
      list.map((r) => r.district),
      list.map((r) => r.code),
      ...COUNTERS.map((c) => list.map((r) => r[c])),
    ],
  );
}

function zero(): Record<Counter, number> {
  return Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>;
}
