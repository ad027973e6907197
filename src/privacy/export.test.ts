import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createTestApp,
  reportBody,
  signInCitizen,
  staffMember,
  submitReport,
  type TestApp,
  uploadEvidence,
} from '../../test/helpers/app.js';
import { makeJpeg } from '../../test/helpers/media.js';
import { withTransaction } from '../platform/db/pool.js';
import { findReport } from '../reports/reports.repository.js';
import { applyTransitions } from '../reports/transition.js';
import { citizenAccount, postLedger, REWARDS_EXPENSE } from '../rewards/ledger.js';

const run = promisify(execFile);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let t: TestApp;
let dir: string;
beforeAll(async () => {
  t = await createTestApp({ RATE_LIMIT_EXPORTS_PER_HOUR: '2' });
  dir = await mkdtemp(path.join(os.tmpdir(), 'jarima-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A citizen with one report on a fresh photo, moved to `rejected` by an inspector (so staff ids are in play). */
async function citizenWithReport(staffId: string) {
  const c = await signInCitizen(t);
  const photo = await makeJpeg(640, 480);
  const evidenceId = (await uploadEvidence(t, c.token, photo, 'my-photo.jpg')).json().id;
  const res = await submitReport(t, c.token, reportBody([evidenceId], { description: `note of ${c.id}` }));
  expect(res.statusCode).toBe(202);
  const reportId: string = res.json().id;
  await withTransaction(t.deps.pool, async (trx) => {
    const report = (await findReport(trx, reportId))!;
    await applyTransitions(trx, [
      {
        report,
        t: {
          toStatus: 'rejected',
          eventType: 'reviewed',
          actor: `staff:${staffId}`,
          data: { decision: 'reject', reasonCode: 'PLATE_NOT_READABLE', leaseOwner: staffId },
          patch: { reasonCode: 'PLATE_NOT_READABLE', reviewedBy: staffId },
        },
      },
    ]);
  });
  return { ...c, photo, evidenceId, reportId };
}

async function unpack(archive: Buffer, into: string): Promise<Map<string, Buffer>> {
  const file = path.join(dir, `${into}.tar.gz`);
  await writeFile(file, archive);
  const out = path.join(dir, into);
  await run('mkdir', ['-p', out]);
  await run('tar', ['-xzf', file, '-C', out]);
  const files = new Map<string, Buffer>();
  for (const name of await readdir(out, { recursive: true })) {
    const full = path.join(out, name);
    if (!(await readdir(full).catch(() => null))) files.set(name, await readFile(full));
  }
  return files;
}

describe('GET /v1/me/export', () => {
  it("is one tar.gz with the citizen's account, reports and events, notifications, rewards and evidence — nobody else's", async () => {
    const inspector = await staffMember(t, 'inspector');
    const a = await citizenWithReport(inspector.id);
    const b = await citizenWithReport(inspector.id);
    await withTransaction(t.deps.pool, async (trx) => {
      await postLedger(trx, {
        kind: 'reward_accrual',
        reportId: a.reportId,
        citizenId: a.id,
        amountSum: 37_500,
        debit: REWARDS_EXPENSE,
        credit: citizenAccount(a.id),
      });
    });

    const res = await t.app.inject({ method: 'GET', url: '/v1/me/export', headers: bearer(a.token) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/gzip');
    expect(res.headers['content-disposition']).toContain('attachment');
    const files = await unpack(res.rawPayload, 'a');

    const photoName = `evidence/${sha(a.photo)}.jpg`;
    expect([...files.keys()].sort()).toEqual(
      ['account.json', 'notifications.json', 'reports.json', 'rewards.json', photoName].sort(),
    );
    expect(sha(files.get(photoName)!)).toBe(sha(a.photo));

    const account = JSON.parse(files.get('account.json')!.toString());
    expect(account).toMatchObject({ id: a.id, phone: a.phone, language: 'uz' });
    const reports = JSON.parse(files.get('reports.json')!.toString());
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      id: a.reportId,
      status: 'rejected',
      reasonCode: 'PLATE_NOT_READABLE',
      description: `note of ${a.id}`,
      evidence: [{ sha256: sha(a.photo), kind: 'photo', file: photoName }],
    });
    expect(reports[0].events.map((e: { type: string }) => e.type)).toEqual(['submitted', 'reviewed']);
    expect(reports[0].events[1].actor).toBe('inspector');
    const notifications = JSON.parse(files.get('notifications.json')!.toString());
    expect(notifications.map((n: { event: string; channel: string }) => `${n.event}/${n.channel}`)).toContain(
      'rejected/inapp',
    );
    const rewards = JSON.parse(files.get('rewards.json')!.toString());
    expect(rewards).toMatchObject({ accruedSum: 37_500, paidOutSum: 0 });
    expect(rewards.ledger).toEqual([expect.objectContaining({ reportId: a.reportId, amountSum: 37_500 })]);

    const everything = [...files.values()].map((f) => f.toString('latin1')).join('\n');
    for (const foreign of [b.id, b.phone, b.reportId, sha(b.photo), inspector.id])
      expect(everything).not.toContain(foreign);
  });

  it('is refused past RATE_LIMIT_EXPORTS_PER_HOUR for one citizen, not for another', async () => {
    const c = await signInCitizen(t);
    const get = (token: string) =>
      t.app.inject({ method: 'GET', url: '/v1/me/export', headers: bearer(token) });
    expect((await get(c.token)).statusCode).toBe(200);
    expect((await get(c.token)).statusCode).toBe(200);
    expect((await get(c.token)).statusCode).toBe(429);
    const other = await signInCitizen(t);
    const fresh = await get(other.token);
    expect(fresh.statusCode).toBe(200);
    const files = await unpack(fresh.rawPayload, 'empty');
    expect(JSON.parse(files.get('reports.json')!.toString())).toEqual([]);
  });

  it('is for citizens only', async () => {
    const staff = await staffMember(t, 'admin');
    const res = await t.app.inject({ method: 'GET', url: '/v1/me/export', headers: bearer(staff.token) });
    expect(res.statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/v1/me/export' })).statusCode).toBe(401);
  });
});
