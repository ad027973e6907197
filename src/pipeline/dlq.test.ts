import { beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  citizenWithEvidence,
  createTestApp,
  reportBody,
  staffToken,
  submitReport,
  type TestApp,
} from '../../test/helpers/app.js';
import { listEvents } from '../reports/events.js';
import { findReport } from '../reports/reports.repository.js';
import { type ReportStage, runBatchStage } from './runner.js';

let t: TestApp;
let admin: string;
beforeAll(async () => {
  t = await createTestApp();
  admin = await staffToken(t, 'admin');
});

const dlq = () => t.app.inject({ method: 'GET', url: '/v1/admin/dlq', headers: bearer(admin) });

/** A validate-like stage that cannot handle one particular report (a permanent, per-report error). */
function poisonStage(poison: string): ReportStage {
  return {
    from: ['received'],
    async decide(reports) {
      if (reports.some((r) => r.id === poison)) throw new Error('cannot parse this one');
      return reports.map(() => ({ toStatus: 'validated' as const, eventType: 'validated' }));
    },
  };
}

describe('permanent failures', () => {
  it('set a poison report aside as failed and let the rest of the batch through', async () => {
    const c = await citizenWithEvidence(t);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await submitReport(t, c.token, reportBody([c.evidenceId]))).json().id);
    const poison = ids[2]!;
    await runBatchStage(t.deps.pool, 'validate', poisonStage(poison), 10);
    for (const id of ids)
      expect((await findReport(t.deps.pool, id))!.status).toBe(id === poison ? 'failed' : 'validated');
    const failed = await findReport(t.deps.pool, poison);
    expect(failed!.reason_code).toBe('PIPELINE_ERROR');
    const last = (await listEvents(t.deps.pool, poison)).at(-1)!;
    expect(last).toMatchObject({
      type: 'stage_failed',
      data: { stage: 'validate', from: 'received', error: 'cannot parse this one' },
    });
    // The citizen learns that a check failed, not the internal error behind it.
    const timeline = await t.app.inject({
      method: 'GET',
      url: `/v1/reports/${poison}/events`,
      headers: bearer(c.token),
    });
    const seen = timeline.json().events.find((e: { type: string }) => e.type === 'stage_failed');
    expect(seen.data).toEqual({ stage: 'validate', from: 'received' });

    const items = (await dlq()).json().items;
    expect(items).toContainEqual(
      expect.objectContaining({ id: `report:${poison}`, kind: 'report', stage: 'validate' }),
    );

    // Retry sends it back to the stage that failed it, with a sweep queued.
    const retry = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/dlq/report:${poison}/retry`,
      headers: bearer(admin),
    });
    expect(retry.statusCode).toBe(204);
    expect((await findReport(t.deps.pool, poison))!).toMatchObject({ status: 'received', reason_code: null });
    expect((await listEvents(t.deps.pool, poison)).at(-1)).toMatchObject({
      type: 'requeued',
      actor: expect.stringMatching(/^admin:/),
    });

    // Fails again; this time an operator gives up on it.
    await runBatchStage(t.deps.pool, 'validate', poisonStage(poison), 10);
    const discard = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/dlq/report:${poison}/discard`,
      headers: bearer(admin),
    });
    expect(discard.statusCode).toBe(204);
    expect((await findReport(t.deps.pool, poison))!).toMatchObject({
      status: 'rejected',
      reason_code: 'PIPELINE_ERROR',
    });
    const again = await t.app.inject({
      method: 'POST',
      url: `/v1/admin/dlq/report:${poison}/discard`,
      headers: bearer(admin),
    });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('DEAD_LETTER_NOT_FOUND');
    // Both actions are in the audit log (the refused one is not: nothing happened).
    const { rows: audited } = await t.deps.pool.query(
      `select action, detail from audit_log where target_kind = 'report' and target_id = $1 order by id`,
      [poison],
    );
    expect(audited).toEqual([
      { action: 'dead_letter_retried', detail: { stage: 'validate' } },
      { action: 'dead_letter_discarded', detail: { stage: 'validate' } },
    ]);
  });
});

describe('dead jobs', () => {
  it('a job out of attempts is listed, can be run again, or deleted', async () => {
    const { rows } = await t.deps.pool.query(
      `select id::text from graphile_worker.add_job('validate', '{}'::json, max_attempts := 1)`,
    );
    const jobId = rows[0].id as string;
    await t.deps.pool.query(
      `update graphile_worker._private_jobs set attempts = 1, last_error = 'registry down for an hour' where id = $1`,
      [jobId],
    );
    expect((await dlq()).json().items).toContainEqual(
      expect.objectContaining({
        id: `job:${jobId}`,
        kind: 'job',
        stage: 'validate',
        attempts: 1,
        error: 'registry down for an hour',
      }),
    );
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/v1/admin/dlq/job:${jobId}/retry`,
          headers: bearer(admin),
        })
      ).statusCode,
    ).toBe(204);
    const { rows: after } = await t.deps.pool.query(
      'select attempts from graphile_worker.jobs where id = $1',
      [jobId],
    );
    expect(after[0].attempts).toBe(0);
    await t.deps.pool.query('update graphile_worker._private_jobs set attempts = 1 where id = $1', [jobId]);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/v1/admin/dlq/job:${jobId}/discard`,
          headers: bearer(admin),
        })
      ).statusCode,
    ).toBe(204);
    expect(
      (await t.deps.pool.query('select 1 from graphile_worker.jobs where id = $1', [jobId])).rowCount,
    ).toBe(0);
    const { rows: audited } = await t.deps.pool.query(
      `select action from audit_log where target_kind = 'job' and target_id = $1 order by id`,
      [jobId],
    );
    expect(audited.map((a) => a.action)).toEqual(['dead_letter_retried', 'dead_letter_discarded']);
  });

  it('is for admins only and refuses malformed ids', async () => {
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: '/v1/admin/dlq',
          headers: bearer(await staffToken(t, 'inspector')),
        })
      ).statusCode,
    ).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/v1/admin/dlq' })).statusCode).toBe(401);
    const bad = await t.app.inject({ method: 'POST', url: '/v1/admin/dlq/42/retry', headers: bearer(admin) });
    expect(bad.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'id' });
  });
});
