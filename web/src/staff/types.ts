/**
 * Response shapes of the staff routes, derived from the server's own TypeBox schemas (one schema per boundary).
 * Type-only imports: none of the server's code is bundled.
 */
import type { Static } from '@sinclair/typebox';
import type { AuditPage as AuditPageSchema } from '../../../src/audit/audit.schema.js';
import type { TokenResponse } from '../../../src/auth/auth.schema.js';
import type { SessionItem } from '../../../src/auth/sessions.schema.js';
import type {
  LoginResponse,
  PasswordLinkResponse,
  TotpConfirmResponse,
  TotpEnrolResponse,
} from '../../../src/auth/staff-sign-in.schema.js';
import type { AlertHistory as AlertHistorySchema, AlertsNow } from '../../../src/ops/alerts/alerts.schema.js';
import type {
  OpsOverview as OverviewSchema,
  OpsPoint as PointSchema,
} from '../../../src/ops/overview.schema.js';
import type { DeadLetter as DeadLetterSchema } from '../../../src/pipeline/dlq.schema.js';
import type { Finding as FindingSchema } from '../../../src/reports/reports.schema.js';
import type {
  AuditResponse,
  DecisionBody,
  QueueResponse,
  ReasonsResponse,
  ReviewDetail,
  WorkloadResponse,
} from '../../../src/review/review.schema.js';
import type {
  CreatedStaff as CreatedStaffSchema,
  PasswordLink as PasswordLinkSchema,
  StaffAccount as StaffAccountSchema,
} from '../../../src/staff/staff-admin.schema.js';
import type { DistrictList, Unit as UnitSchema } from '../../../src/staff/units.schema.js';
import type { StaffRole } from './session';

export type Queue = Static<typeof QueueResponse>;
export type QueueItem = Queue['items'][number];
export type Review = Static<typeof ReviewDetail>;
export type ReviewEvidence = Review['evidence'][number];
export type Lease = Review['lease'];
/** One automated finding as the analyze stage writes it. */
export type Finding = Static<typeof FindingSchema>;

/** A staff member's token (never a citizen's), from a sign-in or a refresh. */
export type StaffToken = Omit<Static<typeof TokenResponse>, 'role' | 'tokenType'> & { role: StaffRole };

/** POST /v1/auth/login and /v1/auth/login/totp */
export type LoginResult =
  | ({ status: 'signed_in' } & StaffToken)
  | Exclude<Static<typeof LoginResponse>, { status: 'signed_in' }>;
/** POST /v1/auth/totp/enrol */
export type TotpEnrolment = Static<typeof TotpEnrolResponse>;
/** POST /v1/auth/totp/confirm: the session when the enrolment came from a sign-in. */
export type TotpConfirmed = Omit<Static<typeof TotpConfirmResponse>, 'session'> & { session?: StaffToken };
/** GET /v1/auth/password-links/:token */
export type PasswordLinkInfo = Static<typeof PasswordLinkResponse>;
/** GET /v1/me/sessions */
export type MySession = Static<typeof SessionItem>;

/** GET /v1/admin/staff */
export type StaffAccount = Static<typeof StaffAccountSchema>;
/** POST /v1/admin/staff */
export type CreatedStaff = Static<typeof CreatedStaffSchema>;
/** POST /v1/admin/staff/:id/password-link */
export type PasswordLink = Static<typeof PasswordLinkSchema>;
/** GET /v1/units */
export type Unit = Static<typeof UnitSchema>;
/** GET /v1/districts */
export type District = Static<typeof DistrictList>['items'][number];
/** GET /v1/admin/audit */
export type AuditPage = Static<typeof AuditPageSchema>;
export type AuditItem = AuditPage['items'][number];
/** GET /v1/review/workload */
export type Workload = Static<typeof WorkloadResponse>;
/** GET /v1/review/:id/audit */
export type ReportAudit = Static<typeof AuditResponse>;
/** GET /v1/ops/alerts/history */
export type AlertHistory = Static<typeof AlertHistorySchema>;

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
