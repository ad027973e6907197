/**
 * Response shapes of the API routes the web app reads, derived from the server's own TypeBox schemas (one schema per
 * boundary: a route's validation, its OpenAPI entry and these types cannot drift apart). Type-only imports: none of
 * the server's code is bundled.
 */
import type { Static } from '@sinclair/typebox';
import type { OtpSentResponse, TokenResponse as TokenSchema } from '../../../src/auth/auth.schema.js';
import type { EvidenceResponse } from '../../../src/evidence/evidence.schema.js';
import type {
  AreaGeometry,
  BoundaryCollection,
  Position as PositionSchema,
  ViolationTypeView,
} from '../../../src/reference/reference.schema.js';
import type {
  AcceptedResponse,
  EventsResponse,
  ReportListResponse,
  ReportView,
} from '../../../src/reports/reports.schema.js';
import type { ReportStatus } from '../../../src/reports/status.js';
import type { Rewards as RewardsSchema } from '../../../src/rewards/rewards.schema.js';
import type {
  StatsByDistrict as ByDistrictSchema,
  Counts as CountsSchema,
  StatsSummary as SummarySchema,
  StatsTimeseries as TimeseriesSchema,
} from '../../../src/stats/stats.schema.js';

export type { ReportStatus };
export type Report = Static<typeof ReportView>;
export type ReportEvents = Static<typeof EventsResponse>;
export type ReportEvent = ReportEvents['events'][number];
export type ReportList = Static<typeof ReportListResponse>;
export type Accepted = Static<typeof AcceptedResponse>;

/** POST /v1/auth/otp */
export type OtpSent = Static<typeof OtpSentResponse>;
/** POST /v1/auth/otp/verify */
export type TokenResponse = Static<typeof TokenSchema>;

/** GET /v1/violation-types */
export type ViolationType = Static<typeof ViolationTypeView>;

/** POST /v1/evidence */
export type Evidence = Static<typeof EvidenceResponse>;

/** GET /v1/me/rewards */
export type Rewards = Static<typeof RewardsSchema>;

export type Counts = Static<typeof CountsSchema>;
/** GET /v1/stats/summary */
export type StatsSummary = Static<typeof SummarySchema>;
/** GET /v1/stats/by-district */
export type StatsByDistrict = Static<typeof ByDistrictSchema>;
/** GET /v1/stats/timeseries */
export type StatsTimeseries = Static<typeof TimeseriesSchema>;

/** GET /v1/boundaries?level= */
export type Boundaries = Static<typeof BoundaryCollection>;
export type Geometry = Static<typeof AreaGeometry>;
export type Position = Static<typeof PositionSchema>;
