import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  reviewableReport,
  staffMember,
  type TestApp,
} from '../../test/helpers/app.js';

/**
 * Reports are routed to the police unit of their district; a unit's inspectors and supervisors work on that unit's
 * reports (and on those no unit covers), administrators and staff without a unit on all.
 */
let t: TestApp;
type Member = { token: string; id: string };
let admin: Member;
let inspectorA: Member;
let inspectorB: Member;
let supervisorA: Member;
let hq: Member;
let unitA: number;
let unitB: number;
const reports = { rerouted: '', routed: '', ofB: '' };

const call = (method: 'GET' | 'POST' | 'PATCH', url: string, who: Member, payload?: object) =>
  t.app.inject({ method, url, headers: bearer(who.token), ...(payload ? { payload } : {}) });
const unitOf = async (id: string) =>
  (await t.deps.pool.query('select unit_id from reports where id = $1', [id])).rows[0].unit_id as
    | number
    | null;
const queueIds = async (who: Member, query = '') => {
  const res = await call('GET', `/v1/review/queue?limit=100${query}`, who);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items.map((i: { id: string }) => i.id) as string[];
};

beforeAll(async () => {
  t = await createTestApp({}, { workers: true });
  [admin, inspectorA, inspectorB, supervisorA, hq] = await Promise.all([
    staffMember(t, 'admin'),
    staffMember(t, 'inspector'),
    staffMember(t, 'inspector'),
    staffMember(t, 'supervisor'),
    staffMember(t, 'inspector'),
  ]);
  // Filed before any unit covers its district: nobody's.
  reports.rerouted = (await reviewableReport(t)).id;
}, 120_000);

describe('routing reports to units', () => {
  it("re-routes a district's open reports when a unit takes it, and routes new ones there", async () => {
    expect(await unitOf(reports.rerouted)).toBeNull();
    const { rows } = await t.deps.pool.query('select district_id from reports where id = $1', [
      reports.rerouted,
    ]);
    const district = rows[0].district_id as number;
    expect(district).toEqual(expect.any(Number));
    const other = (
      await t.deps.pool.query('select id from districts where id <> $1 order by id limit 1', [district])
    ).rows[0].id;
    const a = await call('POST', '/v1/admin/units', admin, { name: 'Unit A', districtIds: [district] });
    expect(a.statusCode, a.body).toBe(201);
    unitA = a.json().id;
    unitB = (await call('POST', '/v1/admin/units', admin, { name: 'Unit B', districtIds: [other] })).json()
      .id;
    expect(await unitOf(reports.rerouted)).toBe(unitA);

    // A report filed in a district a unit covers lands in that unit's queue.
    reports.routed = (await reviewableReport(t)).id;
    expect(await unitOf(reports.routed)).toBe(unitA);

    // Unit B's report: filed like the others, then its district's unit is B's (as if filed in B's district).
    reports.ofB = (await reviewableReport(t)).id;
    await t.deps.pool.query('update reports set unit_id = $2 where id = $1', [reports.ofB, unitB]);

    for (const [m, unit] of [
      [inspectorA, unitA],
      [supervisorA, unitA],
      [inspectorB, unitB],
    ] as const)
      expect((await call('PATCH', `/v1/admin/staff/${m.id}`, admin, { unitId: unit })).statusCode).toBe(200);
  }, 60_000);
});

describe('the queue and the console, scoped to the unit', () => {
  it("shows an inspector their unit's reports only; ?unit= of another unit is refused", async () => {
    const mine = await queueIds(inspectorA);
    expect(mine).toEqual(expect.arrayContaining([reports.rerouted, reports.routed]));
    expect(mine).not.toContain(reports.ofB);
    expect(await queueIds(inspectorB)).toEqual([reports.ofB]);
    expect(await queueIds(inspectorA, `&unit=${unitA}`)).toEqual(expect.arrayContaining([reports.routed]));
    const other = await call('GET', `/v1/review/queue?unit=${unitB}`, inspectorA);
    expect(other.statusCode).toBe(403);
    expect(other.json()).toMatchObject({ code: 'OUTSIDE_UNIT', field: 'unit' });
    // Headquarters and administrators see every unit; an administrator may pick one.
    for (const m of [hq, admin])
      expect(await queueIds(m)).toEqual(
        expect.arrayContaining([reports.rerouted, reports.routed, reports.ofB]),
      );
    expect(await queueIds(admin, `&unit=${unitB}`)).toEqual([reports.ofB]);
  });

  it("refuses another unit's report: detail, evidence, decision (403 OUTSIDE_UNIT)", async () => {
    const detail = await call('GET', `/v1/review/${reports.ofB}`, inspectorA);
    expect(detail.statusCode).toBe(403);
    expect(detail.json().code).toBe('OUTSIDE_UNIT');
    const evidenceId = (await call('GET', `/v1/review/${reports.ofB}`, inspectorB)).json().evidence[0].id;
    const file = await call(
      'GET',
      `/v1/review/${reports.ofB}/evidence/${evidenceId}?variant=thumbnail`,
      inspectorA,
    );
    expect(file.json().code).toBe('OUTSIDE_UNIT');
    const decision = await call('POST', `/v1/review/${reports.ofB}/decision`, inspectorA, {
      decision: 'approve',
    });
    expect(decision.json().code).toBe('OUTSIDE_UNIT');
    expect((await call('POST', `/v1/review/${reports.ofB}/release`, inspectorA)).json().code).toBe(
      'OUTSIDE_UNIT',
    );
    expect((await call('GET', `/v1/review/${reports.routed}`, inspectorA)).statusCode).toBe(200);
    // Headquarters opens anything; a supervisor reads the evidence audit of any report.
    expect((await call('GET', `/v1/review/${reports.ofB}`, hq)).statusCode).toBe(200);
    expect((await call('GET', `/v1/review/${reports.ofB}/audit`, supervisorA)).statusCode).toBe(200);
  });

  it("claims the next report from the inspector's unit only", async () => {
    const next = await call('POST', '/v1/review/next', inspectorB);
    expect(next.statusCode, next.body).toBe(200);
    expect(next.json().report.id).toBe(reports.ofB);
    expect((await call('POST', `/v1/review/${reports.ofB}/release`, inspectorB)).statusCode).toBe(204);
    const refused = await call('POST', '/v1/review/next', inspectorB, { unit: unitA });
    expect(refused.json().code).toBe('OUTSIDE_UNIT');
  });

  it('sees reports no unit covers, whatever the unit', async () => {
    await t.deps.pool.query('update reports set unit_id = null where id = $1', [reports.ofB]);
    expect(await queueIds(inspectorA)).toContain(reports.ofB);
    expect((await call('GET', `/v1/review/${reports.ofB}`, inspectorA)).statusCode).toBe(200);
    // ?unit= is exactly that unit's.
    expect(await queueIds(inspectorA, `&unit=${unitA}`)).not.toContain(reports.ofB);
    await t.deps.pool.query('update reports set unit_id = $2 where id = $1', [reports.ofB, unitB]);
  });

  it('lets a supervisor reassign within the unit (or to headquarters) only', async () => {
    const toA = await call('POST', `/v1/review/${reports.routed}/reassign`, supervisorA, {
      inspectorId: inspectorA.id,
    });
    expect(toA.statusCode, toA.body).toBe(204);
    const toB = await call('POST', `/v1/review/${reports.routed}/reassign`, supervisorA, {
      inspectorId: inspectorB.id,
    });
    expect(toB.statusCode).toBe(422);
    expect(toB.json()).toMatchObject({
      code: 'STAFF_NOT_FOUND',
      field: 'inspectorId',
      details: { reason: 'outside_unit' },
    });
    const toHq = await call('POST', `/v1/review/${reports.routed}/reassign`, supervisorA, {
      inspectorId: hq.id,
    });
    expect(toHq.statusCode, toHq.body).toBe(204);
    const outside = await call('POST', `/v1/review/${reports.ofB}/reassign`, supervisorA, {
      inspectorId: hq.id,
    });
    expect(outside.json().code).toBe('OUTSIDE_UNIT');
    expect((await call('POST', `/v1/review/${reports.routed}/release`, hq)).statusCode).toBe(204);
  });

  it("scopes the workload to the supervisor's unit; an administrator sees all or one unit", async () => {
    const mine = await call('GET', '/v1/review/workload', supervisorA);
    expect(mine.statusCode, mine.body).toBe(200);
    const people = mine
      .json()
      .inspectors.map((i: { id: string }) => i.id)
      .sort();
    expect(people).toEqual([inspectorA.id, supervisorA.id].sort());
    expect(mine.json().queue.waiting).toBe(2);
    expect((await call('GET', `/v1/review/workload?unit=${unitB}`, supervisorA)).json().code).toBe(
      'OUTSIDE_UNIT',
    );
    const all = (await call('GET', '/v1/review/workload', admin)).json();
    expect(all.inspectors.map((i: { id: string }) => i.id)).toEqual(
      expect.arrayContaining([inspectorA.id, inspectorB.id, hq.id]),
    );
    expect(all.queue.waiting).toBe(3);
    const b = (await call('GET', `/v1/review/workload?unit=${unitB}`, admin)).json();
    expect(b.inspectors.map((i: { id: string }) => i.id)).toEqual([inspectorB.id]);
    expect(b.queue.waiting).toBe(1);
  });

  it('applies a move to another unit from the next request', async () => {
    expect(
      (await call('PATCH', `/v1/admin/staff/${inspectorB.id}`, admin, { unitId: unitA })).statusCode,
    ).toBe(200);
    expect((await call('GET', `/v1/review/${reports.ofB}`, inspectorB)).statusCode).toBe(403);
    expect((await call('GET', `/v1/review/${reports.routed}`, inspectorB)).statusCode).toBe(200);
  });

  it("sends a deactivated unit's open reports to nobody, and back when it is active again", async () => {
    expect((await call('PATCH', `/v1/admin/units/${unitA}`, admin, { active: false })).statusCode).toBe(200);
    expect(await unitOf(reports.routed)).toBeNull();
    expect((await call('GET', `/v1/review/${reports.ofB}`, hq)).statusCode).toBe(200);
    expect((await call('PATCH', `/v1/admin/units/${unitA}`, admin, { active: true })).statusCode).toBe(200);
    expect(await unitOf(reports.routed)).toBe(unitA);
    expect(await unitOf(reports.rerouted)).toBe(unitA);
  });
});
