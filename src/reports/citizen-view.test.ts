import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  reviewableReport,
  staffMember,
  type TestApp,
} from '../../test/helpers/app.js';
import { claimNext } from '../review/review.service.js';
import { CITIZEN_EVENT_DATA } from './reports.view.js';

let t: TestApp;
let a: { token: string; id: string };
let b: { token: string; id: string };
let supervisor: { token: string; id: string };
beforeAll(async () => {
  t = await createTestApp({}, { workers: true });
  [a, b, supervisor] = await Promise.all([
    staffMember(t, 'inspector'),
    staffMember(t, 'inspector'),
    staffMember(t, 'supervisor'),
  ]);
}, 60_000);

const get = (url: string, token: string) => t.app.inject({ method: 'GET', url, headers: bearer(token) });
const post = (url: string, token: string, payload?: object) =>
  t.app.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });
const lapse = (id: string) =>
  t.deps.pool.query(`update reports set lease_expires_at = now() - interval '1 second' where id = $1`, [id]);

/** What only staff may read: who they are, the reporter's trust score, the queue priority. */
const STAFF_ONLY = ['reporterTrust', 'priority', 'lapsedLeaseOf', 'leaseOwner'];

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

describe('what a citizen sees of the people and scores behind their report', () => {
  it('has a citizen rule for every event type the code writes', async () => {
    const types = new Set<string>(['submitted']); // intake writes its first event by hand, not as a transition
    for (const file of await sourceFiles(path.resolve(import.meta.dirname, '..'))) {
      for (const m of (await readFile(file, 'utf8')).matchAll(/eventType: '([a-z_]+)'/g)) types.add(m[1]!);
    }
    expect(types.size).toBeGreaterThan(15);
    expect([...types].filter((type) => !(type in CITIZEN_EVENT_DATA))).toEqual([]);
    for (const keys of Object.values(CITIZEN_EVENT_DATA))
      expect(keys.filter((k) => STAFF_ONLY.includes(k))).toEqual([]);
  });

  it('never shows a staff id, the trust score or the priority through claim, lapse, reassignment and decision', async () => {
    const r = await reviewableReport(t);
    // a claims and lets the lease lapse; the queue returns it (lease_expired naming a).
    expect((await post('/v1/review/next', a.token)).json().report.id).toBe(r.id);
    await lapse(r.id);
    expect((await get('/v1/review/queue', b.token)).statusCode).toBe(200);
    // b claims, lapses, and a takes it over while the lapsed lease is still on it (claimed, lapsedLeaseOf b).
    expect((await post('/v1/review/next', b.token)).json().report.id).toBe(r.id);
    await lapse(r.id);
    expect(await claimNext(t.deps.pool, a.id, {}, t.deps.config)).toBe(r.id);
    // The supervisor gives it to b (reassigned from a to b), b hands it back, a claims it and asks for more.
    expect(
      (await post(`/v1/review/${r.id}/reassign`, supervisor.token, { inspectorId: b.id })).statusCode,
    ).toBe(204);
    expect((await post(`/v1/review/${r.id}/release`, b.token)).statusCode).toBe(204);
    expect((await post('/v1/review/next', a.token)).json().report.id).toBe(r.id);
    const decided = await post(`/v1/review/${r.id}/decision`, a.token, {
      decision: 'reject',
      reasonCode: 'PLATE_NOT_READABLE',
      note: 'plate hidden',
    });
    expect(decided.statusCode).toBe(200);

    const staffIds = [a.id, b.id, supervisor.id];
    const staffView = JSON.stringify((await get(`/v1/reports/${r.id}/events`, supervisor.token)).json());
    // The staff timeline keeps all of it, so the citizen's could leak it if it were not taken out.
    for (const s of [...staffIds, ...STAFF_ONLY]) expect(staffView).toContain(s);
    const types = (await get(`/v1/reports/${r.id}/events`, supervisor.token))
      .json()
      .events.map((e: { type: string }) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'enriched',
        'analyzed',
        'claimed',
        'lease_expired',
        'reassigned',
        'released',
        'reviewed',
      ]),
    );

    const reads = [`/v1/reports/${r.id}/events`, `/v1/reports/${r.id}`, '/v1/me/reports'];
    for (const url of reads) {
      const res = await get(url, r.citizen.token);
      expect(res.statusCode, url).toBe(200);
      const body = res.body;
      for (const s of [...staffIds, ...STAFF_ONLY]) expect(body, `${url} shows ${s}`).not.toContain(s);
    }
    const citizenEvents = (await get(`/v1/reports/${r.id}/events`, r.citizen.token)).json().events;
    expect(citizenEvents.map((e: { type: string }) => e.type)).toEqual(types);
    const reassigned = citizenEvents.find((e: { type: string }) => e.type === 'reassigned');
    expect(reassigned).toMatchObject({ actor: 'inspector', data: { leaseExpiresAt: expect.any(String) } });
    expect(Object.keys(reassigned.data)).toEqual(['leaseExpiresAt']);
    const reviewed = citizenEvents.find((e: { type: string }) => e.type === 'reviewed');
    expect(reviewed.data).toEqual({
      decision: 'reject',
      reasonCode: 'PLATE_NOT_READABLE',
      note: 'plate hidden',
    });
  }, 60_000);
});
