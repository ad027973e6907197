import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, staffMember, type TestApp } from '../../test/helpers/app.js';

let t: TestApp;
let admin: { token: string; id: string };
let inspector: { token: string; id: string };
let districts: { id: number; name: string; regionName: string | null; unitId: number | null }[];

beforeAll(async () => {
  t = await createTestApp();
  admin = await staffMember(t, 'admin');
  inspector = await staffMember(t, 'inspector');
  districts = (
    await t.app.inject({ method: 'GET', url: '/v1/districts', headers: bearer(inspector.token) })
  ).json().items;
}, 60_000);

const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, token = admin.token) =>
  t.app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });

describe('police units', () => {
  it('lists every district with its region and its unit', () => {
    expect(districts.length).toBeGreaterThan(100);
    expect(districts[0]).toEqual({
      id: expect.any(Number),
      name: expect.any(String),
      regionName: expect.any(String),
      unitId: null,
    });
  });

  it('creates a unit over districts; every staff member reads the units', async () => {
    const [a, b] = districts;
    const created = await call('POST', '/v1/admin/units', {
      name: 'Chilonzor UVD',
      districtIds: [a!.id, b!.id],
    });
    expect(created.statusCode, created.body).toBe(201);
    const unit = created.json();
    expect(unit).toMatchObject({ name: 'Chilonzor UVD', active: true, staffCount: 0 });
    expect(unit.districts.map((d: { id: number }) => d.id).sort()).toEqual([a!.id, b!.id].sort());
    expect(unit.districts[0]).toEqual({
      id: expect.any(Number),
      name: expect.any(String),
      regionName: expect.any(String),
    });

    const assigned = await call('PATCH', `/v1/admin/staff/${inspector.id}`, { unitId: unit.id });
    expect(assigned.statusCode, assigned.body).toBe(200);
    expect(assigned.json()).toMatchObject({ unitId: unit.id, unitName: 'Chilonzor UVD' });
    const units = (await call('GET', '/v1/units', undefined, inspector.token)).json().items;
    expect(units).toContainEqual(expect.objectContaining({ id: unit.id, staffCount: 1 }));
    const listed = (await call('GET', '/v1/districts', undefined, inspector.token)).json().items;
    expect(listed.find((d: { id: number }) => d.id === a!.id).unitId).toBe(unit.id);
    const byUnit = (await call('GET', `/v1/admin/staff?unit=${unit.id}`)).json().items;
    expect(byUnit.map((s: { id: string }) => s.id)).toEqual([inspector.id]);
    // Back to headquarters.
    expect(
      (await call('PATCH', `/v1/admin/staff/${inspector.id}`, { unitId: null })).json().unitId,
    ).toBeNull();
  });

  it('refuses a taken name, a district of another unit and an unknown district', async () => {
    const [a, , c] = districts;
    const sameName = await call('POST', '/v1/admin/units', { name: 'chilonzor uvd', districtIds: [] });
    expect(sameName.statusCode).toBe(409);
    expect(sameName.json()).toMatchObject({ code: 'UNIT_NAME_TAKEN', field: 'name' });
    const taken = await call('POST', '/v1/admin/units', { name: 'Other', districtIds: [c!.id, a!.id] });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({ code: 'DISTRICT_TAKEN', field: 'districtIds' });
    expect(taken.json().details.districts).toEqual([{ districtId: a!.id, unitId: expect.any(Number) }]);
    const unknown = await call('POST', '/v1/admin/units', {
      name: 'Other',
      districtIds: [c!.id, 99_999_999],
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({
      code: 'DISTRICT_NOT_FOUND',
      details: { districtIds: [99_999_999] },
    });
    // Nothing of the refused units was kept.
    const names = (await call('GET', '/v1/units')).json().items.map((u: { name: string }) => u.name);
    expect(names).not.toContain('Other');
  });

  it('answers bad bodies with 400 and the field', async () => {
    const cases: [string, string, object, string][] = [
      ['POST', '/v1/admin/units', { name: '', districtIds: [] }, 'name'],
      ['POST', '/v1/admin/units', { name: '   ', districtIds: [] }, 'name'],
      ['POST', '/v1/admin/units', { name: 'X' }, 'districtIds'],
      ['POST', '/v1/admin/units', { name: 'X', districtIds: ['a'] }, 'districtIds.0'],
      ['POST', '/v1/admin/units', { name: 'X', districtIds: [0] }, 'districtIds.0'],
      ['POST', '/v1/admin/units', { name: 'X', districtIds: [], extra: 1 }, 'extra'],
      ['PATCH', '/v1/admin/units/1', { active: 'maybe' }, 'active'],
      ['PATCH', '/v1/admin/units/abc', { active: true }, 'id'],
    ];
    for (const [method, url, body, field] of cases) {
      const res = await call(method as 'POST', url, body);
      expect(res.statusCode, `${url} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json(), JSON.stringify(body)).toMatchObject({ code: 'VALIDATION_FAILED', field });
    }
    const dup = await call('POST', '/v1/admin/units', { name: 'X', districtIds: [1, 1] });
    expect(dup.statusCode).toBe(400);
    expect((await call('PATCH', '/v1/admin/units/1', {})).statusCode).toBe(400);
    const missing = await call('PATCH', '/v1/admin/units/999999', { active: false });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().code).toBe('UNIT_NOT_FOUND');
  });

  it('renames a unit, changes its districts and deactivates it', async () => {
    const [a, b, c] = districts;
    const unit = (await call('GET', '/v1/units'))
      .json()
      .items.find((u: { name: string }) => u.name === 'Chilonzor UVD');
    const renamed = await call('PATCH', `/v1/admin/units/${unit.id}`, {
      name: 'Chilonzor tumani IIB',
      districtIds: [b!.id, c!.id],
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json().name).toBe('Chilonzor tumani IIB');
    expect(
      renamed
        .json()
        .districts.map((d: { id: number }) => d.id)
        .sort(),
    ).toEqual([b!.id, c!.id].sort());
    // The district it gave up is free for another unit now.
    const other = await call('POST', '/v1/admin/units', { name: 'Other', districtIds: [a!.id] });
    expect(other.statusCode, other.body).toBe(201);
    const clash = await call('PATCH', `/v1/admin/units/${other.json().id}`, { name: 'chilonzor tumani iib' });
    expect(clash.json().code).toBe('UNIT_NAME_TAKEN');
    const off = await call('PATCH', `/v1/admin/units/${unit.id}`, { active: false });
    expect(off.json()).toMatchObject({ active: false });

    const { rows } = await t.deps.pool.query<{ action: string; target_id: string }>(
      `select action, target_id from audit_log where target_kind = 'unit' order by id`,
    );
    expect(rows.map((r) => r.action)).toEqual([
      'unit_created',
      'unit_updated',
      'unit_created',
      'unit_updated',
    ]);
  });
});
