/** Every state a report can be in (docs/architecture.md has the state machine); later stages add their transitions. */
export const REPORT_STATUSES = [
  'received',
  // Waiting for the next automated stage (each is a sweep's input): validate → dedupe → enrich → analyze.
  'validated',
  'deduplicated',
  'enriched',
  'awaiting_review',
  'in_review',
  'needs_info',
  'approved',
  'forwarded',
  'fined',
  'paid',
  'rewarded',
  // The fine was cancelled on the driver's appeal (src/appeals): final, like rewarded.
  'overturned',
  'rejected',
  'duplicate',
  // The citizen took it back before review started (POST /v1/reports/{id}/withdraw).
  'withdrawn',
  // An automated stage could not handle it (a permanent error); waits for an operator (jarima dlq).
  'failed',
] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/** Waiting for an automated stage: a report in one of these is still being checked. */
export const PIPELINE_WAITING: readonly ReportStatus[] = [
  'received',
  'validated',
  'deduplicated',
  'enriched',
];
