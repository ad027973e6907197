import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, staffMember, type TestApp } from '../../test/helpers/app.js';
import { withTransaction } from '../platform/db/pool.js';
import { audit } from './audit.js';

let t: TestApp;
let admin: { token: string; id: string };
let supervisor: { token: string; id: string };
let inspector: { token: string; id: string };
/** The entries this file writes itself, tagged so other writes (sign-ins) do not get in the way. */
const tag = `t${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  t = await createTestApp();
  [admin, supervisor, inspector] = await Promise.all([
    staffMember(t, 'admin'),
    staffMember(t, 'supervisor'),
    staffMember(t, 'inspector'),
  ]);
  // Seven entries; the last five in one transaction share one timestamp, so the id breaks the tie.
  await audit(t.deps.pool, {
    actorId: inspector.id,
    action: 'review_claimed',
    targetKind: tag,
    targetId: 'r1',
    ip: '10.0.0.1',
  });
  await audit(t.deps.pool, {
    actorId: null,
    actorLogin: 'nobody',
    action: 'sign_in_failed',
    outcome: 'failed',
    targetKind: tag,
    detail: { reason: 'unknown_login', phone: '+998901234567', citizenId: randomUUID() },
    userAgent: 'curl/8',
  });
  await withTransaction(t.deps.pool, async (trx) => {
    for (let i = 0; i < 5; i++)
      await audit(trx, {
        actorId: supervisor.id,
        action: i % 2 ? 'review_reassigned' : 'evidence_viewed',
        targetKind: tag,
        targetId: `r${i + 2}`,
        detail: { i, note: '=HYPERLINK("x")' },
      });
  });
});

const get = (url: string, token = admin.token) =>
  t.app.inject({ method: 'GET', url, headers: bearer(token) });

async function ids(query: string): Promise<string[]> {
  const res = await get(`/v1/admin/audit?targetKind=${tag}&${query}`);
  expect(res.statusCode).toBe(200);
  return res.json().items.map((i: { targetId: string | null; action: string }) => i.targetId ?? i.action);
}

describe('the audit log', () => {
  it('lists entries newest first with who, what, when and from where; never a citizen identity', async () => {
    const res = await get(`/v1/admin/audit?targetKind=${tag}`);
    expect(res.statusCode).toBe(200);
    const items = res.json().items;
    expect(items.map((i: { targetId: string | null }) => i.targetId)).toEqual([
      'r6',
      'r5',
      'r4',
      'r3',
      'r2',
      null,
      'r1',
    ]);
    expect(res.json().nextCursor).toBeNull();
    const claim = items.at(-1);
    expect(claim).toMatchObject({
      actorId: inspector.id,
      action: 'review_claimed',
      outcome: 'ok',
      ip: '10.0.0.1',
      userAgent: null,
      detail: {},
    });
    // The login is looked up from the id and kept as it was.
    expect(claim.actorLogin).toMatch(/^inspector-/);
    expect(Date.parse(claim.at)).toBeLessThanOrEqual(Date.now());
    const failed = items.at(-2);
    expect(failed).toMatchObject({
      actorId: null,
      actorLogin: 'nobody',
      outcome: 'failed',
      userAgent: 'curl/8',
    });
    expect(failed.detail).toEqual({ reason: 'unknown_login' });
  });

  it('filters by actor (id or login), action, target, outcome and time', async () => {
    expect(await ids(`actor=${supervisor.id}&action=review_reassigned`)).toEqual(['r5', 'r3']);
    expect(await ids('actor=nobody')).toEqual(['sign_in_failed']);
    expect(await ids('targetId=r4')).toEqual(['r4']);
    expect(await ids('outcome=failed')).toEqual(['sign_in_failed']);
    expect(await ids(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    expect(await ids(`to=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}`)).toEqual([]);
    expect(
      (await ids(`from=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}`)).length,
    ).toBe(7);
  });

  it('pages with a keyset cursor without repeats or gaps, ties on the timestamp included', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/v1/admin/audit?targetKind=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      expect(res.json().items.length).toBeLessThanOrEqual(2);
      seen.push(...res.json().items.map((i: { id: string }) => i.id));
      cursor = res.json().nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(new Set(seen).size).toBe(7);
    expect(seen).toEqual([...seen].sort((a, b) => Number(b) - Number(a)));
  });

  it('exports CSV with the same filters, and records the export', async () => {
    const res = await get(`/v1/admin/audit.csv?targetKind=${tag}&actor=${supervisor.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe('attachment; filename="audit.csv"');
    const lines = res.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'at,id,actor_id,actor_login,action,outcome,target_kind,target_id,detail,ip,user_agent',
    );
    expect(lines).toHaveLength(6);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z,\d+,/);
    expect(lines[1]).toContain(',evidence_viewed,ok,');
    // JSON detail is quoted; a spreadsheet formula inside it stays text.
    expect(lines[1]).toContain('"{""i"":4,""note"":""=HYPERLINK(\\""x\\"")""}"');

    const exports = await get(`/v1/admin/audit?action=export&actor=${admin.id}&targetKind=audit_log`);
    expect(exports.json().items[0]).toMatchObject({
      action: 'export',
      actorId: admin.id,
      targetKind: 'audit_log',
      detail: { format: 'csv', filter: { targetKind: tag, actor: supervisor.id } },
    });
    expect(exports.json().items[0].ip).toBeTruthy();
  });

  it('records the payouts export', async () => {
    const csv = await get('/v1/admin/payouts.csv?from=2026-01-01T00:00:00Z');
    expect(csv.statusCode).toBe(200);
    const res = await get(`/v1/admin/audit?action=export&targetKind=payouts&actor=${admin.id}`);
    expect(res.json().items).toEqual([
      expect.objectContaining({
        action: 'export',
        outcome: 'ok',
        detail: { format: 'csv', from: '2026-01-01T00:00:00Z', to: null },
      }),
    ]);
  });

  it('is append-only: UPDATE, DELETE and TRUNCATE fail', async () => {
    await expect(
      t.deps.pool.query(`update audit_log set action = 'x' where target_kind = $1`, [tag]),
    ).rejects.toThrow(/append-only/);
    await expect(t.deps.pool.query('delete from audit_log where target_kind = $1', [tag])).rejects.toThrow(
      /append-only/,
    );
    await expect(t.deps.pool.query('truncate audit_log')).rejects.toThrow(/append-only/);
    expect(await ids('')).toHaveLength(7);
  });

  it('is for admins only', async () => {
    for (const url of ['/v1/admin/audit', '/v1/admin/audit.csv']) {
      expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(401);
      const sup = await get(url, supervisor.token);
      expect([sup.statusCode, sup.json().code]).toEqual([403, 'FORBIDDEN']);
      expect((await get(url, inspector.token)).statusCode).toBe(403);
    }
  });

  it('answers a bad query with 400 and the field', async () => {
    const cases: [string, string][] = [
      ['limit=201', 'limit'],
      ['limit=0', 'limit'],
      ['action=nonsense', 'action'],
      ['outcome=maybe', 'outcome'],
      ['from=yesterday', 'from'],
      ['targetKind=Not%20A%20Kind', 'targetKind'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['cursor=%24%24', 'cursor'],
      ['unknown=1', 'unknown'],
      [
        `from=${encodeURIComponent('2026-01-02T00:00:00Z')}&to=${encodeURIComponent('2026-01-01T00:00:00Z')}`,
        'to',
      ],
    ];
    for (const [query, field] of cases) {
      const res = await get(`/v1/admin/audit?${query}`);
      expect([res.statusCode, res.json().code, res.json().field], query).toEqual([
        400,
        'VALIDATION_FAILED',
        field,
      ]);
    }
    const csv = await get('/v1/admin/audit.csv?action=nonsense');
    expect([csv.statusCode, csv.json().field]).toEqual([400, 'action']);
  });
});
