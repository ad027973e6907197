import { describe, expect, it, vi } from 'vitest';
import { createTestDatabase } from '../../../test/helpers/db.js';
import {
  createPool,
  noteChanges,
  onChanges,
  type PoolErrorKind,
  reportPoolErrors,
  withTransaction,
} from './pool.js';

const db = await createTestDatabase();

function collector() {
  const reports: { kind: PoolErrorKind; err: Error }[] = [];
  return {
    reports,
    report: (kind: string, err: unknown) => reports.push({ kind: kind as PoolErrorKind, err: err as Error }),
  };
}

const backendPid = async (q: { query: typeof db.pool.query }) =>
  (await q.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;

describe('the pool’s errors that no query returns', () => {
  it('reports a connection lost while idle once, and goes on with a new one', async () => {
    const pool = createPool(db.url, 1);
    const errors = collector();
    reportPoolErrors(pool, errors);
    const client = await pool.connect();
    const pid = await backendPid(client);
    client.release();
    await db.pool.query('select pg_terminate_backend($1)', [pid]);
    await vi.waitFor(() => expect(errors.reports).toHaveLength(1));
    expect(errors.reports[0]!.kind).toBe('connection');
    expect(errors.reports[0]!.err.message).toContain('terminating connection');
    expect(await backendPid(pool)).not.toBe(pid);
    // The server's reason, then "Connection terminated unexpectedly": still one report for the one connection.
    await new Promise((r) => setTimeout(r, 50));
    expect(errors.reports).toHaveLength(1);
    await pool.end();
  });

  it('reports a rollback that failed, throws the transaction’s own error, and discards the connection', async () => {
    const pool = createPool(db.url, 2);
    const errors = collector();
    reportPoolErrors(pool, errors);
    const failed = withTransaction(pool, async (trx) => {
      await trx.query('select pg_terminate_backend(pg_backend_pid())');
    });
    await expect(failed).rejects.toThrow(/terminating connection/);
    expect(errors.reports.map((r) => r.kind)).toEqual(['connection', 'rollback']);
    expect(pool.totalCount).toBe(0);
    expect((await pool.query<{ one: number }>('select 1 as one')).rows[0]!.one).toBe(1);
    await pool.end();
  });

  it('reports a change listener that threw, and the commit stands', async () => {
    const pool = createPool(db.url, 2);
    const errors = collector();
    reportPoolErrors(pool, errors);
    const heard: string[][] = [];
    onChanges(pool, () => {
      throw new Error('listener broke');
    });
    onChanges(pool, (c) => heard.push(c.reports));
    const result = await withTransaction(pool, async (trx) => {
      noteChanges(trx, { reports: ['r1'] });
      return (await trx.query<{ n: number }>('select 2 as n')).rows[0]!.n;
    });
    expect(result).toBe(2);
    expect(heard).toEqual([['r1']]);
    expect(errors.reports.map((r) => [r.kind, r.err.message])).toEqual([
      ['change_listener', 'listener broke'],
    ]);
    await pool.end();
  });
});
