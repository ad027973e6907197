/**
 * Response shapes of the staff routes. The review routes' schemas are exported by the server, so those types are
 * derived from them (one schema per boundary). The operator routes keep their schemas private to their route files
 * (src/ops/overview.routes.ts, src/ops/alerts/alerts.routes.ts, src/pipeline/dlq.routes.ts): the types below
 * mirror them — keep them in step, or export those schemas and derive these as well.
 */
import type { Static } from '@sinclair/typebox';
import type { QueueResponse, ReviewDetail } from '../../../src/review/review.schema.js';
import type { StaffRole } from './session';

export type Queue = Static<typeof QueueResponse>;
export type QueueItem = Queue['items'][number];
export type Review = Static<typeof ReviewDetail>;
export type ReviewEvidence = Review['evidence'][number];
export type Lease = Review['lease'];
/** One automated finding as the analyze stage writes it (src/pipeline/stages/analyze/analyze.ts). */
export interface Finding {
  type: string;
  severity?: 'info' | 'warning' | string;
  evidenceId?: string;
  detail?: Record<string, unknown>;
}

/** POST /v1/auth/login */
export interface StaffToken {
  token: string;
  expiresAt: string;
  role: StaffRole;
  subjectId: string;
}

/** GET /v1/review/reasons */
export interface Reasons {
  items: { code: string; text: { uz: string; ru: string; en: string } }[];
}

export type Decision = 'approve' | 'reject' | 'needs_info';

/** GET /v1/ops/overview: one point (src/ops/overview.routes.ts `Point`). */
export interface OpsPoint {
  at: string;
  submissions: number;
  http: {
    requests: number;
    errors: number;
    p50Ms: number | null;
    p95Ms: number | null;
    p99Ms: number | null;
  };
  stages: Record<
    string,
    {
      depth: number;
      oldestAgeSeconds: number;
      workers: number;
      desiredWorkers: number;
      batching?: boolean;
      completed: number;
    }
  >;
  cacheHitRate: Record<string, number | null>;
  /** 0 closed, 0.5 half-open, 1 open. */
  breakers: Record<string, number>;
  eventLoopLagP99Ms: number;
  cpuSeconds: number;
  rssBytes: number;
}

/** GET /v1/ops/overview: `now` counts since the process started; `series` is per minute over the last hour. */
export interface OpsOverview {
  now: OpsPoint;
  series: OpsPoint[];
}

/** GET /v1/ops/alerts (src/ops/alerts/alerts.routes.ts) */
export interface OpsAlerts {
  alerts: {
    rule: string;
    labels: Record<string, string>;
    severity: string;
    state: 'pending' | 'firing';
    value: number | null;
    summary: string;
    activeAt: string;
    firedAt: string | null;
  }[];
  rules: {
    name: string;
    expr: string;
    forSeconds: number;
    severity: string;
    sinks: string[];
    lastEvaluatedAt: string | null;
    values: { labels: Record<string, string>; value: number }[];
  }[];
}

/** GET /v1/admin/dlq (src/pipeline/dlq.routes.ts) */
export interface DeadLetter {
  id: string;
  kind: 'job' | 'report';
  stage: string;
  attempts: number | null;
  error: string | null;
  since: string;
}
