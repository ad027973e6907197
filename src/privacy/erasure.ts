import { revokeSubjectSessions } from '../auth/sessions.js';
import type { BlobStore } from '../evidence/blob-store.js';
import { type Pool, withTransaction } from '../platform/db/pool.js';
import { AppError } from '../platform/errors/catalog.js';
import { REPORT_COLUMNS, type ReportRow } from '../reports/reports.repository.js';
import type { ReportStatus } from '../reports/status.js';
import { applyTransitions } from '../reports/transition.js';
import { deletePurgedBlobs, purgeReportMedia } from './media-purge.js';

/**
 * Reports whose evidence and events outlive their citizen's account: the case is, or may become, a fine (approved
 * and forwarded ones are at the registry, a ruling under appeal is a fined report, and one cancelled on appeal keeps
 * what the decision was taken on), and the law keeps its evidence (docs/privacy.md).
 */
export const KEPT_FOR_THE_LAW: readonly ReportStatus[] = [
  'approved',
  'forwarded',
  'fined',
  'paid',
  'rewarded',
  // Cancelled on appeal: the appeal's decision is a legal act and the evidence it was taken on stays with it.
  'overturned',
];
/** Closed without a fine: their media and free text go with the account. */
const CLOSED_WITHOUT_FINE: readonly ReportStatus[] = ['rejected', 'duplicate', 'withdrawn'];

export interface ErasureResult {
  withdrawn: number;
  keptReports: number;
  purgedEvidence: number;
  bytes: number;
}

/**
 * Erases a citizen's account, in one transaction: every session ends; the phone (hash and ciphertext), the e-mail
 * and the notification channels are erased and the citizen is marked erased (the same phone signs up again as a new
 * citizen); pending SMS and e-mail are cancelled; open reports are withdrawn; reports closed without a fine lose
 * their description and their media (evidence rows purged, blobs deleted after the commit); reports kept for the
 * law keep both, now tied to an id that names nobody. OTP codes, idempotency keys and upload sessions go (an
 * upload's partial file with the next evidence clean-up). Rewards already accrued stay payable: the payment
 * provider pays the citizen's id, whose account details it holds, not us.
 */
export async function eraseCitizen(
  deps: { pool: Pool; blobs: BlobStore },
  citizen: { id: string; phoneHash: Buffer },
): Promise<ErasureResult> {
  const { id } = citizen;
  const outcome = await withTransaction(deps.pool, async (trx) => {
    const { rows: me } = await trx.query<{ erased_at: Date | null }>(
      'select erased_at from citizens where id = $1 for update',
      [id],
    );
    if (!me[0] || me[0].erased_at) throw new AppError('UNAUTHENTICATED');
    const { rows: open } = await trx.query<ReportRow>(
      `select ${REPORT_COLUMNS} from reports
        where citizen_id = $1 and status <> all($2::text[]) order by id for update`,
      [id, [...KEPT_FOR_THE_LAW, ...CLOSED_WITHOUT_FINE]],
    );
    const moved = await applyTransitions(
      trx,
      open.map((report) => ({
        report,
        t: {
          toStatus: 'withdrawn' as const,
          eventType: 'withdrawn',
          actor: 'citizen',
          data: { reason: 'account_deleted' },
          patch: { leaseOwner: null, leaseExpiresAt: null },
        },
      })),
    );
    if (moved.size !== open.length) throw new Error('a report moved while its account was being erased');
    const { rows: closed } = await trx.query<{ id: string }>(
      `update reports set description = null
        where citizen_id = $1 and status = any($2::text[]) returning id`,
      [id, CLOSED_WITHOUT_FINE],
    );
    const purged = await purgeReportMedia(
      trx,
      closed.map((r) => r.id),
    );
    const { rows: kept } = await trx.query<{ n: number }>(
      'select count(*)::int as n from reports where citizen_id = $1 and status = any($2::text[])',
      [id, KEPT_FOR_THE_LAW],
    );
    await trx.query(
      `update notifications set status = 'failed', last_error = 'account deleted'
        where citizen_id = $1 and status = 'pending'`,
      [id],
    );
    await trx.query('update evidence_uploads set original_name = null where citizen_id = $1', [id]);
    // Expired now: the evidence clean-up deletes them with their partial files (src/evidence/cleanup.ts).
    await trx.query('update upload_sessions set expires_at = now(), filename = null where citizen_id = $1', [
      id,
    ]);
    await trx.query('delete from idempotency_keys where citizen_id = $1', [id]);
    await trx.query('delete from otp_codes where phone_hash = $1', [citizen.phoneHash]);
    await revokeSubjectSessions(trx, id, 'account deleted');
    await trx.query('update auth_sessions set ip = null, user_agent = null where subject_id = $1', [id]);
    await trx.query(
      `update citizens set phone_hash = null, phone_enc = null, email_enc = null, notify_sms = false,
              notify_email = false, erased_at = now()
        where id = $1`,
      [id],
    );
    return { withdrawn: open.length, keptReports: kept[0]!.n, purged };
  });
  const bytes = await deletePurgedBlobs(deps, outcome.purged);
  return {
    withdrawn: outcome.withdrawn,
    keptReports: outcome.keptReports,
    purgedEvidence: outcome.purged.length,
    bytes,
  };
}
