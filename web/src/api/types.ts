/**
 * Response shapes of the API routes the web app reads. Where the server exports its TypeBox schema, the type is
 * derived from it (one schema per boundary); the rest mirror the route schemas in src/ and the OpenAPI document
 * at /docs — keep them in step (see web/README.md).
 */
import type { Static } from '@sinclair/typebox';
import type {
  AcceptedResponse,
  EventsResponse,
  ReportListResponse,
  ReportView,
} from '../../../src/reports/reports.schema.js';
import type { ReportStatus } from '../../../src/reports/status.js';

export type { ReportStatus };
export type Report = ReportView;
export type ReportEvents = Static<typeof EventsResponse>;
export type ReportEvent = ReportEvents['events'][number];
export type ReportList = Static<typeof ReportListResponse>;
export type Accepted = Static<typeof AcceptedResponse>;

/** POST /v1/auth/otp */
export interface OtpSent {
  sentTo: string;
  expiresInSeconds: number;
  resendAfterSeconds: number;
}

/** POST /v1/auth/otp/verify */
export interface TokenResponse {
  token: string;
  tokenType: 'Bearer';
  expiresAt: string;
  role: string;
  subjectId: string;
}

/** GET /v1/violation-types (src/reference/reference.routes.ts ViolationTypeView) */
export interface ViolationType {
  code: string;
  article: string;
  part: string;
  name: { en: string; uz: string | null; ru: string | null };
  bhmMin: number;
  bhmMax: number | null;
  extraSanction: string | null;
  cameraRecordable: boolean;
  active: boolean;
  fineToday: { sumMin: number; sumMax: number | null; bhmRate: number } | null;
}

/** POST /v1/evidence (src/evidence/evidence.routes.ts EvidenceResponse) */
export interface Evidence {
  id: string;
  kind: 'photo' | 'video';
  mime: string;
  bytes: number;
  sha256: string;
  media: {
    readable: boolean;
    width: number | null;
    height: number | null;
    durationMs: number | null;
    warnings: ('blurry' | 'dark' | 'low_resolution')[];
  };
}

/** GET /v1/me/rewards (src/rewards/rewards.routes.ts) */
export interface Rewards {
  totalSum: number;
  paidOutSum: number;
  pendingSum: number;
  items: {
    reportId: string;
    amountSum: number;
    accruedAt: string;
    paidOutAt: string | null;
    reference: string | null;
  }[];
}

/** src/stats/stats.routes.ts Counts */
export interface Counts {
  submitted: number;
  approved: number;
  rejected: number;
  duplicate: number;
  fined: number;
  paid: number;
  finedSum: number;
  paidSum: number;
}

/** GET /v1/stats/summary */
export interface StatsSummary {
  today: Counts;
  last30Days: Counts;
  allTime: Counts;
  asOf: string;
}

/** GET /v1/stats/by-district */
export interface StatsByDistrict {
  from: string;
  to: string;
  items: {
    regionId: number | null;
    regionName: string | null;
    districtId: number | null;
    districtName: string | null;
    counts: Counts;
  }[];
}

/** GET /v1/stats/timeseries */
export interface StatsTimeseries {
  bucket: string;
  from: string;
  to: string;
  points: { at: string; counts: Counts }[];
}

export type Position = [number, number];
export type Geometry =
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] };

/** GET /v1/boundaries?level= */
export interface Boundaries {
  type: 'FeatureCollection';
  features: {
    type: 'Feature';
    id: number;
    properties: { name: string; iso: string | null; regionId: number | null };
    geometry: Geometry;
  }[];
}
