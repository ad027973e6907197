import { audit } from '../audit/audit.js';
import type { Principal } from '../auth/tokens.js';
import { enqueueJobs, sweepJob } from '../pipeline/jobs.js';
import type { Config } from '../platform/config/config.js';
import { type Pool, type Queryable, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { newId } from '../platform/ids.js';
import { encrypt, type Keys } from '../platform/security/keys.js';
import type { ReferenceData } from '../reference/reference.js';
import { queueScope } from '../review/review.scope.js';
import { assertAppealInUnit } from './appeal-scope.js';
import {
  appealableCase,
  appealOfReport,
  findAppeal,
  heldAppeal,
  insertAppeal,
  lockNextAppeal,
  recordDecision,
  setLease,
  uploadedForCase,
} from './appeals.repository.js';
import type { DecisionBody, FileAppealBody } from './appeals.schema.js';
import { phoneHashOf } from './phone-code.js';

/** Where a staff action came from, for the audit log. */
export interface ActionContext {
  ip?: string;
  userAgent?: string;
}

/** Statuses of a report whose ruling stands and may be appealed (paying the fine does not waive the appeal). */
export const RULED: ReadonlySet<string> = new Set(['fined', 'paid', 'rewarded']);

/**
 * Whether the case can be appealed now: ruled, within APPEAL_WINDOW_DAYS of the ruling (its fined_at), and not
 * appealed before. Checked before a code is sent, so a driver is not asked to confirm a phone for nothing.
 */
export async function assertAppealable(
  pool: Pool,
  reportId: string,
  config: Pick<Config, 'APPEAL_WINDOW_DAYS'>,
): Promise<NonNullable<Awaited<ReturnType<typeof appealableCase>>>> {
  const c = await appealableCase(pool, reportId);
  if (!c) throw new AppError('FINE_NOT_FOUND');
  if (await appealOfReport(pool, reportId)) throw new AppError('APPEAL_EXISTS');
  if (!RULED.has(c.status) || !c.fined_at) throw new AppError('APPEAL_NOT_OPEN');
  if (c.fined_at.getTime() + config.APPEAL_WINDOW_DAYS * 86_400_000 <= Date.now())
    throw new AppError('APPEAL_WINDOW_CLOSED', { details: { windowDays: config.APPEAL_WINDOW_DAYS } });
  return c;
}

/** Files the appeal of a case whose phone code the caller has just confirmed. One per case: a second is 409. */
export async function fileAppeal(
  deps: {
    pool: Pool;
    keys: Pick<Keys, 'phoneHash' | 'phoneEnc'>;
    config: Pick<Config, 'APPEAL_WINDOW_DAYS' | 'APPEAL_SLA_HOURS'>;
  },
  reportId: string,
  body: FileAppealBody & { phone: string },
): Promise<string> {
  const c = await assertAppealable(deps.pool, reportId, deps.config);
  const known = await uploadedForCase(deps.pool, reportId, body.attachmentIds);
  if (body.attachmentIds.some((id) => !known.has(id)))
    throw new AppError('APPEAL_ATTACHMENT_UNKNOWN', { field: 'attachmentIds' });
  const id = newId();
  const inserted = await insertAppeal(deps.pool, {
    id,
    reportId,
    text: body.text.trim(),
    phoneEnc: encrypt(deps.keys.phoneEnc, body.phone),
    phoneHash: phoneHashOf(deps.keys, body.phone),
    unitId: c.unit_id,
    slaHours: deps.config.APPEAL_SLA_HOURS,
    attachmentIds: body.attachmentIds,
    lang: body.lang ?? 'uz',
  });
  if (!inserted) throw new AppError('APPEAL_EXISTS');
  return id;
}

type LeaseConfig = Pick<Config, 'APPEAL_LEASE_MINUTES'>;

/** Takes the most urgent free appeal in the supervisor's unit scope; one who holds one gets it back. */
export async function claimNextAppeal(
  pool: Pool,
  who: Principal,
  unit: number | undefined,
  config: LeaseConfig,
  ctx: ActionContext,
): Promise<string | null> {
  const scope = await queueScope(pool, who, unit);
  return withTransaction(pool, async (trx) => {
    await trx.query(`select pg_advisory_xact_lock(hashtext('appeal:' || $1))`, [who.id]);
    const held = await heldAppeal(trx, who.id);
    if (held) return held.id;
    const next = await lockNextAppeal(trx, scope);
    if (!next) return null;
    const expiresAt = new Date(Date.now() + config.APPEAL_LEASE_MINUTES * 60_000);
    await setLease(trx, next.id, { owner: who.id, expiresAt });
    await audit(trx, {
      ...ctx,
      actorId: who.id,
      action: 'appeal_claimed',
      targetKind: 'appeal',
      targetId: next.id,
      ...(next.lease_owner ? { detail: { lapsedLeaseOf: next.lease_owner } } : {}),
    });
    return next.id;
  });
}

async function lockHeld(trx: Queryable, id: string, who: Principal) {
  const a = await findAppeal(trx, id, true);
  if (!a) throw new AppError('APPEAL_NOT_FOUND');
  const live = a.lease_expires_at !== null && a.lease_expires_at.getTime() >= Date.now();
  if (a.status !== 'in_review' || a.lease_owner !== who.id || !live)
    throw new AppError('APPEAL_LEASE_NOT_HELD');
  return a;
}

/** Gives a held appeal back to the queue. */
export async function releaseAppeal(
  pool: Pool,
  id: string,
  who: Principal,
  ctx: ActionContext,
): Promise<void> {
  await assertAppealInUnit(pool, who, id);
  await withTransaction(pool, async (trx) => {
    await lockHeld(trx, id, who);
    await setLease(trx, id, null);
    await audit(trx, {
      ...ctx,
      actorId: who.id,
      action: 'appeal_released',
      targetKind: 'appeal',
      targetId: id,
    });
  });
}

/**
 * Records the decision on a held appeal and wakes the registry sender (the forward stage's sweep): the decision
 * takes effect — the report overturned, the reward reversed, the driver and the citizen told — once the registry
 * has it (appeal-sweep.ts), never before.
 */
export async function decideOnAppeal(
  pool: Pool,
  reference: ReferenceData,
  id: string,
  who: Principal,
  body: DecisionBody,
  ctx: ActionContext,
): Promise<void> {
  if ((body.decision === 'correct') !== (body.violationCode !== undefined))
    throw new AppError('VALIDATION_FAILED', {
      field: 'violationCode',
      message: 'violationCode: required with correct, and only with it',
    });
  if (body.violationCode !== undefined && !reference.violationType(body.violationCode))
    throw new AppError('VIOLATION_TYPE_UNKNOWN', { field: 'violationCode' });
  await assertAppealInUnit(pool, who, id);
  await withTransaction(pool, async (trx) => {
    await lockHeld(trx, id, who);
    await recordDecision(trx, {
      id,
      decision: body.decision,
      violationCode: body.violationCode ?? null,
      reasonCode: body.reasonCode,
      note: body.note?.trim() || null,
      staffId: who.id,
    });
    await audit(trx, {
      ...ctx,
      actorId: who.id,
      action: 'appeal_decided',
      targetKind: 'appeal',
      targetId: id,
      detail: { decision: body.decision, reasonCode: body.reasonCode, violationCode: body.violationCode },
    });
    await enqueueJobs(trx, [sweepJob('forward')]);
  });
}
