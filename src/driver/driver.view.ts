import { RULED } from '../appeals/appeals.service.js';
import type { Config } from '../platform/config/config.js';
import type { ReferenceData } from '../reference/reference.js';
import type { CaseRow } from './driver.repository.js';
import type { DriverCase } from './driver.schema.js';

const DAY_MS = 86_400_000;

function statusOf(reportStatus: string): DriverCase['status'] {
  if (reportStatus === 'fined') return 'fined';
  if (reportStatus === 'paid' || reportStatus === 'rewarded') return 'paid';
  return 'closed';
}

/** The case as the driver reads it. Built from CaseRow, which holds no reporter or staff column to leak. */
export function toDriverCase(
  row: CaseRow,
  evidence: { id: string; kind: 'photo' | 'video' }[],
  reference: ReferenceData,
  config: Pick<Config, 'FINE_PAYMENT_DAYS' | 'APPEAL_WINDOW_DAYS'>,
  now = Date.now(),
): DriverCase {
  const type = reference.violationType(row.violation_code);
  // The same window assertAppealable enforces: an appeal is taken while fined_at + APPEAL_WINDOW_DAYS is ahead.
  const until = row.fined_at ? row.fined_at.getTime() + config.APPEAL_WINDOW_DAYS * DAY_MS : null;
  return {
    rulingNumber: row.ruling_number,
    plate: row.plate,
    violation: {
      code: row.violation_code,
      name: type?.name ?? { en: row.violation_code, uz: null, ru: null },
    },
    incidentAt: row.incident_at.toISOString(),
    place: { lat: row.lat, lon: row.lon, district: row.district, region: row.region },
    fine: {
      amountSum: row.fine_amount_sum === null ? null : Number(row.fine_amount_sum),
      ruledAt: row.fined_at?.toISOString() ?? null,
      payBy: row.fined_at
        ? new Date(row.fined_at.getTime() + config.FINE_PAYMENT_DAYS * DAY_MS).toISOString()
        : null,
    },
    status: statusOf(row.status),
    appealableUntil: until === null ? null : new Date(until).toISOString(),
    appealable: until !== null && until > now && RULED.has(row.status) && !row.appealed,
    penaltyPoints: row.points,
    evidence: evidence.map((e) => ({ id: e.id, kind: e.kind, url: `/v1/fines/case/evidence/${e.id}` })),
  };
}
