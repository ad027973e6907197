import { beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  reportBody,
  signInCitizen,
  submitReport,
  type TestApp,
  uploadEvidence,
} from '../../test/helpers/app.js';
import { makeJpeg } from '../../test/helpers/media.js';
import { runRetention } from './retention.js';

const DAY = 86_400_000;
const config = { RETENTION_OTP_DAYS: 7, RETENTION_ADDRESS_DAYS: 30, RETENTION_REJECTED_MEDIA_DAYS: 90 };

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});

/** `days` ago, give or take an hour: just outside (`+1`) or just inside (`-1`) a window of that many days. */
const ago = (days: number, side: 1 | -1) => new Date(Date.now() - days * DAY - side * 3_600_000);

async function reportWithPhoto(status: string, closedAt: Date) {
  const c = await signInCitizen(t);
  const photo = await makeJpeg(640, 480);
  const evidenceId: string = (await uploadEvidence(t, c.token, photo)).json().id;
  const res = await submitReport(t, c.token, reportBody([evidenceId]));
  expect(res.statusCode).toBe(202);
  const id: string = res.json().id;
  await t.deps.pool.query('update reports set status = $2, updated_at = $3 where id = $1', [
    id,
    status,
    closedAt,
  ]);
  const { rows } = await t.deps.pool.query<{ sha: string }>(
    `select encode(sha256, 'hex') as sha from evidence where id = $1`,
    [evidenceId],
  );
  return { id, evidenceId, sha: rows[0]!.sha };
}

const purgedAt = async (evidenceId: string) =>
  (await t.deps.pool.query('select purged_at from evidence where id = $1', [evidenceId])).rows[0].purged_at;

describe('the retention run', () => {
  it('purges what is past each window and nothing just inside it', async () => {
    const { pool } = t.deps;
    await pool.query('delete from otp_codes');
    const otp = (at: Date) =>
      pool.query(
        `insert into otp_codes (phone_hash, code_hash, ip, expires_at, created_at)
         values ('\\x01', '\\x02', '10.0.0.1', $1, $1) returning id`,
        [at],
      );
    const oldCode = (await otp(ago(7, 1))).rows[0].id;
    const youngCode = (await otp(ago(7, -1))).rows[0].id;

    await pool.query(
      `insert into sign_in_failures (login, failures, last_failed_at) values ('old', 3, $1), ('young', 3, $2)`,
      [ago(30, 1), ago(30, -1)],
    );
    const session = (at: Date) =>
      pool.query(
        `insert into auth_sessions (id, subject_id, role, created_at, last_used_at, expires_at, ip, user_agent)
         values (gen_random_uuid(), gen_random_uuid(), 'citizen', $1, $1, now() + interval '1 day', '10.0.0.2', 'ua')
         returning id`,
        [at],
      );
    const oldSession = (await session(ago(30, 1))).rows[0].id;
    const youngSession = (await session(ago(30, -1))).rows[0].id;

    const oldRejected = await reportWithPhoto('rejected', ago(90, 1));
    const oldDuplicate = await reportWithPhoto('duplicate', ago(90, 1));
    const youngRejected = await reportWithPhoto('rejected', ago(90, -1));
    const oldFined = await reportWithPhoto('fined', ago(90, 1));

    const r = await runRetention({ pool, blobs: t.deps.blobs, config });
    expect(r).toMatchObject({
      otpCodes: 1,
      signInFailures: 1,
      sessionAddresses: 1,
      reportsPurged: 2,
      evidencePurged: 2,
    });
    expect(r.bytes).toBeGreaterThan(0);

    const codes = (
      await pool.query('select id from otp_codes where id = any($1::bigint[])', [[oldCode, youngCode]])
    ).rows.map((row) => row.id);
    expect(codes).toEqual([youngCode]);
    expect(codes).not.toContain(oldCode);
    const logins = (await pool.query('select login from sign_in_failures')).rows.map((row) => row.login);
    expect(logins).toEqual(['young']);
    const sessions = await pool.query(
      'select id, ip, user_agent from auth_sessions where id = any($1::uuid[])',
      [[oldSession, youngSession]],
    );
    const byId = new Map(sessions.rows.map((s) => [s.id, s]));
    expect(byId.get(oldSession)).toMatchObject({ ip: null, user_agent: null });
    expect(byId.get(youngSession)).toMatchObject({ ip: '10.0.0.2', user_agent: 'ua' });

    for (const gone of [oldRejected, oldDuplicate]) {
      expect(await purgedAt(gone.evidenceId)).toBeInstanceOf(Date);
      expect(await t.deps.blobs.has(gone.sha)).toBe(false);
      // The report keeps its record.
      const { rows } = await pool.query('select status, media_purged_at from reports where id = $1', [
        gone.id,
      ]);
      expect(rows[0].media_purged_at).toBeInstanceOf(Date);
    }
    for (const kept of [youngRejected, oldFined]) {
      expect(await purgedAt(kept.evidenceId)).toBeNull();
      expect(await t.deps.blobs.has(kept.sha)).toBe(true);
    }

    // A second run finds nothing more to do.
    expect(await runRetention({ pool, blobs: t.deps.blobs, config })).toMatchObject({
      otpCodes: 0,
      reportsPurged: 0,
      evidencePurged: 0,
    });
  });
});
