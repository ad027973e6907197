/**
 * Response shapes of the staff routes, derived from the server's own TypeBox schemas (one schema per boundary).
 * Type-only imports: none of the server's code is bundled.
 */
import type { Static } from '@sinclair/typebox';
import type { TokenResponse } from '../../../src/auth/auth.schema.js';
import type { AlertsNow } from '../../../src/ops/alerts/alerts.schema.js';
import type {
  OpsOverview as OverviewSchema,
  OpsPoint as PointSchema,
} from '../../../src/ops/overview.schema.js';
import type { DeadLetter as DeadLetterSchema } from '../../../src/pipeline/dlq.schema.js';
import type { Finding as FindingSchema } from '../../../src/reports/reports.schema.js';
import type {
  DecisionBody,
  QueueResponse,
  ReasonsResponse,
  ReviewDetail,
} from '../../../src/review/review.schema.js';
import type { StaffRole } from './session';

export type Queue = Static<typeof QueueResponse>;
export type QueueItem = Queue['items'][number];
export type Review = Static<typeof ReviewDetail>;
export type ReviewEvidence = Review['evidence'][number];
export type Lease = Review['lease'];
/** One automated finding as the analyze stage writes it. */
export type Finding = Static<typeof FindingSchema>;

/** POST /v1/auth/login: a staff member's token (never a citizen's). */
export type StaffToken = Omit<Static<typeof TokenResponse>, 'role' | 'tokenType'> & { role: StaffRole };

/** GET /v1/review/reasons */
export type Reasons = Static<typeof ReasonsResponse>;

export type Decision = Static<typeof DecisionBody>['decision'];

/** GET /v1/ops/overview: one point. */
export type OpsPoint = Static<typeof PointSchema>;
/** GET /v1/ops/overview: `now` counts since the process started; `series` is per minute over the last hour. */
export type OpsOverview = Static<typeof OverviewSchema>;

/** GET /v1/ops/alerts */
export type OpsAlerts = Static<typeof AlertsNow>;

/** GET /v1/admin/dlq */
export type DeadLetter = Static<typeof DeadLetterSchema>;
