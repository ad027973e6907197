import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/helpers/app.js';
import { PLATE_MATCHES_SQL } from '../pipeline/stages/dedupe/dedupe.js';
import { REPORT_COLUMNS } from '../reports/reports.repository.js';
import { reviewQueue } from '../review/review.repository.js';

/**
 * Each named query against realistic volume — 100,000 reports from 5,000 citizens over 30 days across the country,
 * most of them finished — uses the index chosen for it. A plan regression (a dropped index, a rewritten predicate
 * the partial index no longer proves) fails here, not in production.
 */
let t: TestApp;
const citizen = { id: '' };
beforeAll(async () => {
  t = await createTestApp();
  await t.deps.pool.query(
    `insert into citizens (id, phone_hash, phone_enc)
     select gen_random_uuid(), sha256(i::text::bytea), '\\x00' from generate_series(1, 5000) i`,
  );
  await t.deps.pool.query(
    `with c as (select id, row_number() over (order by id) as n from citizens)
     insert into reports (id, citizen_id, violation_code, plate, plate_input, lat, lon, incident_at, status,
                          last_event_hash, priority, sla_due_at, forward_due_at, paid_at, region_id, district_id)
     select gen_random_uuid(), c.id, (array['128-6.1', '128.1', '128-10.1', '128-3.1'])[1 + i % 4],
            lpad((i % 90 + 10)::text, 2, '0') || 'A' || lpad((i % 1000)::text, 3, '0') || 'BC', 'x',
            37.5 + random() * 8, 56.5 + random() * 16, t0, s, '\\x00', (random() * 100)::int, t0 + interval '48 hours',
            case when s = 'approved' then now() + interval '1 day' end, case when s = 'paid' then t0 end,
            1 + i % 14, 1 + i % 199
       from generate_series(1, 100000) i
       cross join lateral (select now() - random() * interval '30 days' as t0) t
       cross join lateral (select case
           when i % 100 < 60 then 'rewarded' when i % 100 < 70 then 'forwarded' when i % 100 < 80 then 'rejected'
           when i % 100 < 85 then 'duplicate' when i % 100 < 92 then 'awaiting_review' when i % 100 < 94 then 'in_review'
           when i % 100 < 96 then 'approved' when i % 100 < 98 then 'paid' when i % 100 < 99 then 'received'
           else 'enriched' end as s) st
       join c on c.n = 1 + i % 5000`,
  );
  await t.deps.pool.query('analyze reports');
  citizen.id = (await t.deps.pool.query('select id from citizens limit 1')).rows[0].id;
}, 120_000);

/** The index names a plan reads, from EXPLAIN (FORMAT JSON). */
async function indexesOf(sql: string, params: unknown[] = []): Promise<string[]> {
  const { rows } = await t.deps.pool.query(`explain (format json) ${sql}`, params);
  const found: string[] = [];
  const walk = (node: Record<string, unknown>) => {
    if (typeof node['Index Name'] === 'string') found.push(node['Index Name']);
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
  };
  walk(rows[0]['QUERY PLAN'][0].Plan);
  return found;
}

describe('named queries use their indexes at 100k reports', () => {
  it("a citizen's reports, newest first (reports_citizen_id)", async () => {
    expect(
      await indexesOf(
        `select ${REPORT_COLUMNS} from reports where citizen_id = $1 and ($2::uuid is null or id < $2::uuid)
          order by id desc limit $3`,
        [citizen.id, null, 21],
      ),
    ).toContain('reports_citizen_id');
  });

  it('a stage sweep claiming what waits for it (partial reports_waiting)', async () => {
    expect(
      await indexesOf(
        `select id from reports where status = $1 order by id limit $2 for update skip locked`,
        ['enriched', 100],
      ),
    ).toContain('reports_waiting');
  });

  it('the review queue in priority order (partial reports_review_queue)', async () => {
    const captured: string[] = [];
    const spy = {
      query: async (sql: string, params: unknown[]) => {
        captured.push(sql);
        return t.deps.pool.query(sql, params);
      },
    };
    await reviewQueue(spy as never, {}, { limit: 21 });
    expect(await indexesOf(captured[0]!, [21])).toContain('reports_review_queue');
  });

  it("a unit's review queue (partial reports_unit_queue), and its default view with unrouted reports", async () => {
    await t.deps.pool.query(
      `insert into units (name) select 'unit ' || i from generate_series(1, 20) i on conflict do nothing`,
    );
    // Nine in ten open reports are routed to one of 20 units.
    await t.deps.pool.query(
      `update reports set unit_id = (select min(id) from units) + district_id % 20
        where status in ('awaiting_review', 'in_review') and district_id % 10 <> 0`,
    );
    await t.deps.pool.query('analyze reports');
    const unitId = (await t.deps.pool.query('select min(id) + 3 as id from units')).rows[0].id;
    const plan = async (withUnrouted: boolean) => {
      const captured: { sql: string; params: unknown[] }[] = [];
      const spy = {
        query: async (sql: string, params: unknown[]) => {
          captured.push({ sql, params });
          return t.deps.pool.query(sql, params);
        },
      };
      await reviewQueue(spy as never, { scope: { unitId, withUnrouted } }, { limit: 21 });
      return indexesOf(captured[0]!.sql, captured[0]!.params);
    };
    expect(await plan(false)).toContain('reports_unit_queue');
    // Its own unit's and the unrouted: an index either way, never a scan of the table.
    expect((await plan(true)).some((i) => i === 'reports_unit_queue' || i === 'reports_review_queue')).toBe(
      true,
    );
  });

  it('dedupe by plate, type and time (reports_plate_time)', async () => {
    const batch = (
      await t.deps.pool.query('select id, plate, violation_code, incident_at from reports limit 10')
    ).rows;
    expect(
      await indexesOf(PLATE_MATCHES_SQL, [
        batch.map((r) => r.id),
        batch.map((r) => r.plate),
        batch.map((r) => r.violation_code),
        batch.map((r) => r.incident_at),
        10,
      ]),
    ).toContain('reports_plate_time');
  });

  it('the map and the near-identical search by place and time (GiST reports_place_time)', async () => {
    expect(
      await indexesOf(
        `select count(*) from reports where point(lon, lat) <@ box(point($1, $2), point($3, $4))
            and incident_at between $5 and $6 and status = any($7::text[])`,
        [69.2, 41.25, 69.35, 41.35, new Date(Date.now() - 86_400_000), new Date(), ['approved', 'rewarded']],
      ),
    ).toContain('reports_place_time');
  });

  it('forwarding and payouts claim from their own partial indexes', async () => {
    expect(
      await indexesOf(
        `select id from reports where status = 'approved' order by forward_due_at, id limit 20 for update skip locked`,
      ),
    ).toContain('reports_to_forward');
    expect(
      await indexesOf(
        `select id from reports where status = 'paid' order by paid_at, id limit 20 for update skip locked`,
      ),
    ).toContain('reports_to_reward');
  });
});
