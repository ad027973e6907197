import type { BlobStore } from '../evidence/blob-store.js';
import type { Queryable } from '../platform/db/pool.js';
import { decrypt, type Keys } from '../platform/security/keys.js';
import { listEvents } from '../reports/events.js';
import { REPORT_COLUMNS, type ReportRow } from '../reports/reports.repository.js';
import { toCitizenEventView, toEventView } from '../reports/reports.view.js';
import { citizenRewards } from '../rewards/ledger.js';
import type { TarEntry } from './tar.js';

/** File name extensions of the evidence in the archive, by the type its bytes were sniffed as (src/evidence/sniff.ts). */
const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'video/webm': 'webm',
};

/** A citizen's archive holds at most this many reports' timelines (about a report a day for 27 years). */
const MAX_REPORTS = 10_000;

/**
 * Everything Jarima holds about one citizen, as the entries of their archive: their account, their reports with
 * the timeline they see (an inspector's id is shown as the role, staff-only data left out, as in the app), their
 * notifications, their rewards and payouts, and the evidence they uploaded that is still kept. Evidence is read
 * from the store while the archive is written.
 */
export async function* exportEntries(
  deps: { db: Queryable; blobs: BlobStore; keys: Pick<Keys, 'phoneEnc'> },
  citizenId: string,
): AsyncGenerator<TarEntry> {
  const { db } = deps;
  const now = new Date();
  const json = (name: string, value: unknown): TarEntry => ({
    name,
    mtime: now,
    content: Buffer.from(`${JSON.stringify(value, null, 2)}\n`),
  });

  const { rows: citizens } = await db.query<{
    phone_enc: Buffer | null;
    email_enc: Buffer | null;
    language: string;
    notify_sms: boolean;
    notify_email: boolean;
    created_at: Date;
  }>(
    'select phone_enc, email_enc, language, notify_sms, notify_email, created_at from citizens where id = $1',
    [citizenId],
  );
  const c = citizens[0];
  if (!c) return;
  yield json('account.json', {
    id: citizenId,
    phone: c.phone_enc ? decrypt(deps.keys.phoneEnc, c.phone_enc) : null,
    email: c.email_enc ? decrypt(deps.keys.phoneEnc, c.email_enc) : null,
    language: c.language,
    notifications: { sms: c.notify_sms, email: c.notify_email },
    createdAt: c.created_at.toISOString(),
  });

  const { rows: reports } = await db.query<ReportRow>(
    `select ${REPORT_COLUMNS} from reports where citizen_id = $1 order by id limit $2`,
    [citizenId, MAX_REPORTS],
  );
  const { rows: files } = await db.query<{
    report_id: string | null;
    sha: string;
    kind: string;
    mime: string;
    bytes: number;
    purged: boolean;
    original_name: string | null;
  }>(
    // What the citizen uploaded, and which of their reports each file is attached to (none: not filed yet).
    `select re.report_id, encode(e.sha256, 'hex') as sha, e.kind, e.mime, e.bytes,
            e.purged_at is not null as purged, u.original_name
       from evidence_uploads u join evidence e on e.id = u.evidence_id
       left join report_evidence re on re.evidence_id = e.id
        and re.report_id in (select id from reports where citizen_id = $1)
      where u.citizen_id = $1
      order by e.id`,
    [citizenId],
  );
  const fileName = (f: { sha: string; mime: string }) => `evidence/${f.sha}.${EXTENSIONS[f.mime] ?? 'bin'}`;
  const reportViews = [];
  for (const r of reports) {
    const events = await listEvents(db, r.id);
    reportViews.push({
      id: r.id,
      status: r.status,
      violationCode: r.violation_code,
      plate: r.plate_input,
      location: { lat: r.lat, lon: r.lon },
      incidentAt: r.incident_at.toISOString(),
      description: r.description,
      reasonCode: r.reason_code,
      caseNumber: r.case_number,
      fineAmountSum: r.fine_amount_sum,
      rewardSum: r.reward_sum,
      receivedAt: r.received_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
      evidence: files
        .filter((f) => f.report_id === r.id)
        .map((f) => ({ sha256: f.sha, kind: f.kind, file: f.purged ? null : fileName(f) })),
      events: events.map((e) => toCitizenEventView(toEventView(e))),
    });
  }
  yield json('reports.json', reportViews);

  const { rows: notifications } = await db.query<{
    report_id: string;
    event: string;
    channel: string;
    status: string;
    created_at: Date;
    sent_at: Date | null;
  }>(
    `select report_id, event, channel, status, created_at, sent_at from notifications
      where citizen_id = $1 order by id`,
    [citizenId],
  );
  yield json(
    'notifications.json',
    notifications.map((n) => ({
      reportId: n.report_id,
      event: n.event,
      channel: n.channel,
      status: n.status,
      createdAt: n.created_at.toISOString(),
      sentAt: n.sent_at?.toISOString() ?? null,
    })),
  );

  const rewards = await citizenRewards(db, citizenId, MAX_REPORTS);
  const { rows: payouts } = await db.query<{
    report_id: string;
    amount_sum: number;
    status: string;
    reference: string | null;
    created_at: Date;
    settled_at: Date | null;
  }>(
    `select report_id, amount_sum, status, reference, created_at, settled_at
       from payouts where citizen_id = $1 order by created_at`,
    [citizenId],
  );
  yield json('rewards.json', {
    accruedSum: rewards.accruedSum,
    paidOutSum: rewards.paidOutSum,
    ledger: rewards.items.map((i) => ({
      reportId: i.reportId,
      amountSum: i.amountSum,
      accruedAt: i.accruedAt.toISOString(),
      paidOutAt: i.paidOutAt?.toISOString() ?? null,
      reference: i.reference,
    })),
    payouts: payouts.map((p) => ({
      reportId: p.report_id,
      amountSum: p.amount_sum,
      status: p.status,
      reference: p.reference,
      createdAt: p.created_at.toISOString(),
      settledAt: p.settled_at?.toISOString() ?? null,
    })),
  });

  const seen = new Set<string>();
  for (const f of files) {
    if (f.purged || seen.has(f.sha)) continue;
    seen.add(f.sha);
    if (!(await deps.blobs.has(f.sha))) continue;
    yield { name: fileName(f), mtime: now, size: f.bytes, stream: () => deps.blobs.read(f.sha) };
  }
}
