import { formatPlate } from '../../../src/reference/plates.js';
import type { ReportStatus } from '../api/types';
import { useI18n } from '../i18n';

const TONES: Record<ReportStatus, 'checking' | 'waiting' | 'good' | 'bad' | 'neutral'> = {
  received: 'checking',
  validated: 'checking',
  deduplicated: 'checking',
  enriched: 'checking',
  awaiting_review: 'waiting',
  in_review: 'waiting',
  needs_info: 'waiting',
  approved: 'good',
  forwarded: 'good',
  fined: 'good',
  paid: 'good',
  rewarded: 'good',
  rejected: 'bad',
  duplicate: 'neutral',
  failed: 'neutral',
  withdrawn: 'neutral',
  overturned: 'neutral',
};

/** A report's status in words, coloured by what it means for the citizen; `data-status` keeps the API's name. */
export function StatusBadge({ status }: { status: ReportStatus }) {
  const { t } = useI18n();
  return (
    <span className={`badge badge-${TONES[status]}`} data-status={status}>
      {t.status[status]}
    </span>
  );
}

export function Plate({ plate }: { plate: string }) {
  return <span className="plate">{formatPlate(plate)}</span>;
}
