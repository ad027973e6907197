import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  citizenWithEvidence,
  createTestApp,
  reportBody,
  submitReport,
  type TestApp,
} from '../../test/helpers/app.js';
import { createLogger } from '../platform/logger.js';
import { GroupCommitIntake, type Submission } from './intake.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ INTAKE_FLUSHERS: '2', INTAKE_BATCH_MAX: '64' });
});

const count = async (sql: string) => (await t.deps.pool.query(sql)).rows[0].n as number;

describe('group-commit intake', () => {
  it('commits a burst of concurrent submissions in shared transactions, each with its event and job', async () => {
    const citizens = await Promise.all(Array.from({ length: 10 }, () => citizenWithEvidence(t)));
    const before = { ...t.deps.intake.stats };
    const res = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const c = citizens[i % citizens.length]!;
        return submitReport(t, c.token, reportBody([c.evidenceId], { description: `burst ${i}` }));
      }),
    );
    expect(res.map((r) => r.statusCode)).toEqual(Array(300).fill(202));
    const ids = res.map((r) => r.json().id);
    expect(new Set(ids).size).toBe(300);
    const batches = t.deps.intake.stats.batches - before.batches;
    expect(t.deps.intake.stats.submissions - before.submissions).toBe(300);
    expect(batches).toBeLessThan(300);
    expect(t.deps.intake.stats.largestBatch).toBeGreaterThan(1);
    expect(await count("select count(*)::int as n from reports where description like 'burst %'")).toBe(300);
    expect(
      await count(
        "select count(*)::int as n from report_events e join reports r on r.id = e.report_id where r.description like 'burst %' and e.seq = 1",
      ),
    ).toBe(300);
    // Every transaction that stored reports also enqueued the validate sweep that will pick them up.
    const { rows } = await t.deps.pool.query(
      `select count(distinct r.xmin::text)::int as transactions,
              count(*) filter (where r.xmin::text not in (select j.xmin::text from graphile_worker._private_jobs j))::int as unqueued
         from reports r where r.id = any($1::uuid[])`,
      [ids],
    );
    expect(rows[0].unqueued).toBe(0);
    expect(rows[0].transactions).toBe(batches);
  });

  it('one submission the database refuses does not fail the others in its batch', async () => {
    const c = await citizenWithEvidence(t);
    const intake = new GroupCommitIntake(
      t.deps.pool,
      { maxBatch: 50, maxInFlight: 1 },
      createLogger('silent', false),
    );
    const base: Submission = {
      citizenId: c.id,
      violationCode: '128-6.1',
      plate: '01A123BC',
      plateInput: '01 A 123 BC',
      lat: 41.3,
      lon: 69.28,
      incidentAt: new Date(),
      description: 'poison test',
      evidenceIds: [c.evidenceId],
      idempotencyKey: null,
      requestHash: createHash('sha256').update('x').digest(),
    };
    // A NUL byte cannot be stored in a text column: the batch holding it fails, and is retried one by one.
    const results = await Promise.allSettled([
      intake.submit(base),
      intake.submit(base),
      intake.submit({ ...base, description: 'bad \u0000 byte' }),
      intake.submit(base),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    await intake.drain();
    expect(await count("select count(*)::int as n from reports where description = 'poison test'")).toBe(3);
  });

  it('answers 503, not 500, when the database is unreachable, and keeps nothing half-written', async () => {
    const c = await citizenWithEvidence(t);
    const { createPool } = await import('../platform/db/pool.js');
    const dead = createPool('postgres://nobody@127.0.0.1:1/none', 2);
    const intake = new GroupCommitIntake(
      dead,
      { maxBatch: 10, maxInFlight: 1 },
      createLogger('silent', false),
    );
    const err = await intake
      .submit({
        citizenId: c.id,
        violationCode: '128-6.1',
        plate: '01A123BC',
        plateInput: '01A123BC',
        lat: 41.3,
        lon: 69.28,
        incidentAt: new Date(),
        description: null,
        evidenceIds: [c.evidenceId],
        idempotencyKey: null,
        requestHash: Buffer.alloc(32),
      })
      .catch((e) => e);
    expect(err.code).toBe('SERVICE_UNAVAILABLE');
    expect(err.status).toBe(503);
    await dead.end();
  });
});
