import { v7 } from 'uuid';
import { issueSessionTokens } from '../../src/auth/sessions.js';
import { GeoIndex } from '../../src/geo/geo-index.js';
import type { Pool } from '../../src/platform/db/pool.js';
import { newId } from '../../src/platform/ids.js';
import { REJECTION_REASONS } from '../../src/reports/reasons.js';

/** Who the load generator acts as, and what they can read. */
export interface Population {
  /** Each with their reports' ids, newest first. */
  citizens: { id: string; token: string; reports: string[] }[];
  inspectorTokens: string[];
  adminToken: string;
  /** Violation codes citizens may report, most reported first. */
  codes: string[];
  /** The region holding Tashkent, for region-filtered reads. */
  tashkentRegion: number;
  regions: number[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The BHM (base calculation amount, sum) the seeded fines are computed at. */
const BHM = 412_000;
const PLATE_REGIONS = ['01', '10', '20', '25', '30', '40', '50', '60', '70', '75', '80', '85', '90', '95'];
const LETTERS = 'ABCDEHKLMNOPSTUXYZ';

/** Where reports come from: [share, minLon, minLat, maxLon, maxLat]; the rest anywhere in the country. */
const CITIES: [number, number, number, number, number][] = [
  [0.45, 69.15, 41.22, 69.4, 41.4], // Tashkent
  [0.08, 66.9, 39.62, 67.02, 39.7], // Samarkand
  [0.05, 71.6, 40.97, 71.72, 41.03], // Namangan
  [0.05, 72.3, 40.74, 72.39, 40.8], // Andijan
  [0.04, 71.74, 40.36, 71.82, 40.41], // Fergana
  [0.04, 64.38, 39.74, 64.47, 39.79], // Bukhara
  [0.03, 59.57, 42.44, 59.65, 42.49], // Nukus
  [0.03, 65.76, 38.84, 65.83, 38.88], // Qarshi
];

/** Statuses of reports older than half a day (most have gone through review), in percent. */
const SETTLED: [string, number][] = [
  ['rewarded', 35],
  ['paid', 5],
  ['fined', 10],
  ['forwarded', 10],
  ['approved', 3],
  ['rejected', 12],
  ['duplicate', 5],
  ['awaiting_review', 15],
  ['in_review', 3],
  ['needs_info', 2],
];
/** …and of the last half day's, mostly still waiting for a person. */
const RECENT: [string, number][] = [
  ['awaiting_review', 70],
  ['in_review', 10],
  ['received', 5],
  ['rejected', 10],
  ['duplicate', 5],
];

function choose<T>(items: [T, number][], u: number): T {
  let r = u * items.reduce((a, [, w]) => a + w, 0);
  for (const [item, w] of items) {
    if (r < w) return item;
    r -= w;
  }
  return items.at(-1)![0];
}

/**
 * `n` citizens straight into the table, each with a sign-in token (a day long) issued with the server's key: a
 * benchmark's arrivals are many citizens, as in life, not one filing thousands of reports (the analyze stage looks
 * through each citizen's own recent reports).
 */
export async function seedCitizens(
  pool: Pool,
  tokenKey: Buffer,
  n: number,
): Promise<{ id: string; token: string }[]> {
  const ids = Array.from({ length: n }, () => newId());
  const tokens = await issueSessionTokens(
    pool,
    tokenKey,
    ids.map((id) => ({ id, role: 'citizen' as const })),
    24 * 3600,
  );
  const citizens = ids.map((id, i) => ({ id, token: tokens[i]! }));
  await pool.query(
    `insert into citizens (id, phone_hash, phone_enc)
     select id, sha256(id::text::bytea), '\\x00' from unnest($1::uuid[]) id`,
    [citizens.map((c) => c.id)],
  );
  return citizens;
}

/**
 * Seeds a realistic volume straight into the tables, as the pipeline would have left it: citizens, staff, reports
 * spread over the last 30 days across the country (received by the hour-of-day curve, each with one evidence item
 * its citizen uploaded, statuses and lifecycle times by age), and the hourly statistics roll-ups consistent with
 * them (what src/stats/rollup.ts adds per transition). Citizens report unevenly: each has one report, the rest go
 * mostly to a few.
 */
export async function seedVolume(
  pool: Pool,
  tokenKey: Buffer,
  o: { citizens: number; reports: number; inspectors: number; curve: number[]; random: () => number },
): Promise<Population> {
  const { random } = o;
  const now = Date.now();
  const ttl = 24 * 3600;
  const citizens = (await seedCitizens(pool, tokenKey, o.citizens)).map((c) => ({
    ...c,
    reports: [] as string[],
  }));
  const staff = [
    ...Array.from({ length: o.inspectors }, (_, i) => ({
      id: newId(),
      login: `bench-inspector-${i}`,
      role: 'inspector',
    })),
    { id: newId(), login: 'bench-admin', role: 'admin' },
  ];
  await pool.query(
    `insert into staff (id, login, role, display_name, password_hash)
     select id, login, role, login, 'no sign-in: the benchmark issues tokens'
       from unnest($1::uuid[], $2::text[], $3::text[]) s(id, login, role)`,
    [staff.map((s) => s.id), staff.map((s) => s.login), staff.map((s) => s.role)],
  );
  const inspectors = staff.filter((s) => s.role === 'inspector');

  const { rows: types } = await pool.query<{ code: string; bhm_min: string }>(
    'select code, bhm_min from violation_types where active order by code',
  );
  // A few types make most reports (parking, red light, lanes), as in any city.
  const codeWeights: [string, number][] = types.map((t, i) => [t.code, 1 / (1 + ((i * 7) % types.length))]);
  codeWeights.sort((a, b) => b[1] - a[1]);
  const bhmOf = new Map(types.map((t) => [t.code, Number(t.bhm_min)]));
  const geo = await GeoIndex.load(pool);
  const place = (): { lat: number; lon: number } => {
    let u = random();
    for (const [share, x0, y0, x1, y1] of CITIES) {
      if (u < share) return { lon: x0 + random() * (x1 - x0), lat: y0 + random() * (y1 - y0) };
      u -= share;
    }
    for (;;) {
      const p = { lon: 56 + random() * 17.2, lat: 37.2 + random() * 8.4 };
      if (geo.insideCountry(p.lat, p.lon)) return p;
    }
  };
  const hourWeights = o.curve.map((w, h): [number, number] => [h, w]);
  const reasons = Object.keys(REJECTION_REASONS);

  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < o.reports; i++) {
    const citizen = citizens[i < citizens.length ? i : Math.floor(citizens.length * random() ** 3)]!;
    // A day in the last 30, an hour by the curve (Tashkent time, UTC+5), any minute.
    const day = Math.floor(now / DAY) * DAY - Math.floor(random() * 30) * DAY;
    let received = day + (choose(hourWeights, random()) - 5) * HOUR + random() * HOUR;
    if (received > now - 60_000) received = now - 60_000 - random() * 12 * HOUR;
    const age = now - received;
    const status = choose(age < 12 * HOUR ? RECENT : SETTLED, random());
    const at = (after: number, min: number, max: number) =>
      Math.min(now - 1000, after + min + random() * (max - min));
    const decided = at(received, HOUR, 12 * HOUR);
    const approved = ['approved', 'forwarded', 'fined', 'paid', 'rewarded'].includes(status) ? decided : null;
    const forwarded = approved && status !== 'approved' ? at(approved, 600_000, 2 * HOUR) : null;
    const fined = forwarded && status !== 'forwarded' ? at(forwarded, HOUR, 3 * DAY) : null;
    const paid = fined && status !== 'fined' ? at(fined, HOUR, 5 * DAY) : null;
    const rewarded = paid && status !== 'paid' ? at(paid, HOUR, DAY) : null;
    const { lat, lon } = place();
    const where = geo.locate(lat, lon);
    const code = choose(codeWeights, random());
    const digits = String(i % 1000).padStart(3, '0');
    const series = `${LETTERS[(i >> 3) % 18]}${LETTERS[(i >> 7) % 18]}`;
    const plate = `${PLATE_REGIONS[i % PLATE_REGIONS.length]}${LETTERS[i % 17]}${digits}${series}`;
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const id = v7({ msecs: Math.floor(received) });
    citizen.reports.push(id);
    const leased = status === 'in_review' ? inspectors[i % inspectors.length]!.id : null;
    rows.push({
      id,
      citizen_id: citizen.id,
      evidence_id: newId(),
      violation_code: code,
      plate,
      plate_input: plate,
      plate_region_code: plate.slice(0, 2),
      lat,
      lon,
      incident_at: iso(received - 300_000 - random() * 6 * HOUR),
      status,
      reason_code: status === 'rejected' ? reasons[i % reasons.length] : null,
      region_id: where.region?.id ?? null,
      district_id: where.district?.id ?? null,
      last_event_hash: '\\x00',
      received_at: iso(received),
      updated_at: iso(Math.max(received, rewarded ?? paid ?? fined ?? forwarded ?? (approved || decided))),
      priority: Math.floor(random() * 100),
      sla_due_at: iso(received + 48 * HOUR),
      lease_owner: leased,
      lease_expires_at: leased ? iso(now + HOUR) : null,
      reviewed_by: approved || status === 'rejected' ? inspectors[i % inspectors.length]!.id : null,
      decided_at: approved || status === 'rejected' ? iso(decided) : null,
      review_decision: approved ? 'approve' : status === 'rejected' ? 'reject' : null,
      approved_at: iso(approved),
      forward_due_at: approved ? iso(approved + 48 * HOUR) : null,
      forwarded_at: iso(forwarded),
      case_number: forwarded ? `BENCH-${i}` : null,
      fine_amount_sum: fined ? Math.round((bhmOf.get(code) ?? 1) * BHM) : null,
      fined_at: iso(fined),
      paid_at: iso(paid),
      reward_sum: rewarded ? BHM / 10 : null,
      rewarded_at: iso(rewarded),
    });
  }
  const columns = Object.keys(rows[0]!).filter((c) => c !== 'evidence_id');
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = JSON.stringify(rows.slice(i, i + 5000));
    await pool.query(
      `insert into reports (${columns.join(', ')})
       select ${columns.join(', ')} from jsonb_populate_recordset(null::reports, $1::jsonb)`,
      [chunk],
    );
    await pool.query(
      `with x as (select * from jsonb_to_recordset($1::jsonb) as x(id uuid, citizen_id uuid, evidence_id uuid)),
            e as (insert into evidence (id, sha256, kind, mime, bytes, width, height)
                  select evidence_id, sha256(evidence_id::text::bytea), 'photo', 'image/jpeg', 250000, 1920, 1080
                    from x),
            u as (insert into evidence_uploads (citizen_id, evidence_id) select citizen_id, evidence_id from x)
       insert into report_evidence (report_id, evidence_id, position) select id, evidence_id, 0 from x`,
      [chunk],
    );
  }
  // Newest first (v7 ids sort by time), as the citizen's app lists them.
  for (const c of citizens) c.reports.sort().reverse();
  await fillRollups(pool);
  await pool.query('analyze');

  const tashkent = geo.locate(41.31, 69.28).region?.id;
  const { rows: regions } = await pool.query<{ id: number }>('select id from regions order by id');
  return {
    citizens,
    inspectorTokens: await issueSessionTokens(
      pool,
      tokenKey,
      inspectors.map((s) => ({ id: s.id, role: 'inspector' as const })),
      ttl,
    ),
    adminToken: (
      await issueSessionTokens(pool, tokenKey, [{ id: staff.at(-1)!.id, role: 'admin' }], ttl)
    )[0]!,
    codes: codeWeights.map(([c]) => c),
    tashkentRegion: tashkent ?? regions[0]!.id,
    regions: regions.map((r) => r.id),
  };
}

/**
 * stats_hourly from the reports, counting what addToRollups counts per transition: `submitted` at the hour of
 * receipt once a report has left the automated checks, each decision and payment at the hour it happened.
 */
async function fillRollups(pool: Pool): Promise<void> {
  await pool.query(
    `insert into stats_hourly (hour, region_id, district_id, violation_code,
                               submitted, approved, rejected, duplicate, fined, paid, fined_sum, paid_sum)
     select date_trunc('hour', v.at), coalesce(r.region_id, 0), coalesce(r.district_id, 0), r.violation_code,
            sum(v.submitted), sum(v.approved), sum(v.rejected), sum(v.duplicate), sum(v.fined), sum(v.paid),
            sum(v.fined_sum), sum(v.paid_sum)
       from reports r
       cross join lateral (values
         (r.received_at, (r.status not in ('received', 'validated', 'deduplicated', 'enriched', 'failed'))::int,
          0, 0, (r.status = 'duplicate')::int, 0, 0, 0::bigint, 0::bigint),
         (r.approved_at, 0, 1, 0, 0, 0, 0, 0, 0),
         (case when r.status = 'rejected' then r.decided_at end, 0, 0, 1, 0, 0, 0, 0, 0),
         (r.fined_at, 0, 0, 0, 0, 1, 0, r.fine_amount_sum, 0),
         (r.paid_at, 0, 0, 0, 0, 0, 1, 0, r.fine_amount_sum)
       ) v(at, submitted, approved, rejected, duplicate, fined, paid, fined_sum, paid_sum)
      where v.at is not null
      group by 1, 2, 3, 4
     having sum(v.submitted + v.approved + v.rejected + v.duplicate + v.fined + v.paid) > 0`,
  );
}
