import { type Static, Type as T } from '@sinclair/typebox';
import { AuditItem } from '../audit/audit.schema.js';
import { ViolationName } from '../reference/reference.schema.js';
import { REVIEW_REJECTION_REASONS } from '../reports/reasons.js';
import { ReportView } from '../reports/reports.schema.js';

const Id = T.String({ format: 'uuid' });
const Time = T.String({ format: 'date-time' });
const Nullable = <S extends ReturnType<typeof T.String>>(s: S) => T.Union([s, T.Null()]);

export const ReviewIdParams = T.Object({ id: Id });

const UnitFilter = T.Optional(
  T.Integer({
    minimum: 1,
    maximum: 2_147_483_647,
    description: "Police unit id: only that unit's reports (staff of a unit: their own unit only)",
  }),
);

/** The answer of a route that has nothing to say (204). */
export const NoContent = T.Null();

export const QueueQuery = T.Object(
  {
    region: T.Optional(T.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'Region id' })),
    district: T.Optional(T.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'District id' })),
    unit: UnitFilter,
    violation: T.Optional(T.String({ pattern: '^[0-9]{1,4}(-[0-9]{1,2})?\\.[0-9]{1,2}$' })),
    status: T.Optional(
      T.Union([T.Literal('awaiting_review'), T.Literal('in_review')], {
        description: 'awaiting_review: free to claim (including lapsed leases); in_review: held now',
      }),
    ),
    overdue: T.Optional(
      T.Boolean({
        description: 'Only reports past their review deadline or the legal deadline, whichever is earlier',
      }),
    ),
    limit: T.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: T.Optional(T.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
  },
  { additionalProperties: false },
);
export type QueueQuery = Static<typeof QueueQuery>;

export const Lease = T.Union([T.Object({ inspectorId: Id, mine: T.Boolean(), expiresAt: Time }), T.Null()]);
export type Lease = Static<typeof Lease>;

export const QueueItem = T.Object({
  id: Id,
  status: T.Union([T.Literal('awaiting_review'), T.Literal('in_review')]),
  violation: T.Object({ code: T.String(), name: ViolationName }),
  plate: T.String(),
  regionId: T.Union([T.Integer(), T.Null()]),
  districtId: T.Union([T.Integer(), T.Null()]),
  priority: T.Integer(),
  slaDueAt: T.Union([Time, T.Null()], {
    description: 'The legal deadline: incident + FORWARD_DEADLINE_HOURS',
  }),
  reviewDueAt: T.Union([Time, T.Null()], {
    description: 'The review deadline: REVIEW_SLA_HOURS after the report entered the queue',
  }),
  overdue: T.Boolean({ description: 'Past either deadline' }),
  lease: Lease,
  findings: T.Array(T.String(), { description: 'Types of the automated findings, e.g. time_mismatch' }),
  thumbnailUrl: T.Union([T.String(), T.Null()]),
  receivedAt: Time,
});

export type QueueItem = Static<typeof QueueItem>;

export const QueueResponse = T.Object({
  items: T.Array(QueueItem),
  nextCursor: T.Union([T.String(), T.Null()]),
});

export const NextBody = T.Object(
  {
    region: T.Optional(T.Integer({ minimum: 1, maximum: 2_147_483_647 })),
    district: T.Optional(T.Integer({ minimum: 1, maximum: 2_147_483_647 })),
    unit: UnitFilter,
    violation: T.Optional(T.String({ pattern: '^[0-9]{1,4}(-[0-9]{1,2})?\\.[0-9]{1,2}$' })),
  },
  { additionalProperties: false },
);

export const WorkloadQuery = T.Object(
  {
    unit: UnitFilter,
  },
  { additionalProperties: false },
);

const EvidenceDetail = T.Object({
  id: Id,
  kind: T.Union([T.Literal('photo'), T.Literal('video')]),
  mime: T.String(),
  bytes: T.Integer(),
  width: T.Union([T.Integer(), T.Null()]),
  height: T.Union([T.Integer(), T.Null()]),
  durationMs: T.Union([T.Integer(), T.Null()]),
  cameraTime: T.Union([Time, T.Null()]),
  cameraGps: T.Union([T.Object({ lat: T.Number(), lon: T.Number() }), T.Null()]),
  camera: Nullable(T.String()),
  sharpness: T.Union([T.Number(), T.Null()]),
  brightness: T.Union([T.Number(), T.Null()]),
  urls: T.Object({
    original: T.String(),
    thumbnail: Nullable(T.String()),
    poster: Nullable(T.String()),
  }),
  /** Blurred in the copy drivers see: fractions of the width and height. */
  redactions: T.Array(T.Object({ x: T.Number(), y: T.Number(), w: T.Number(), h: T.Number() })),
});

export type EvidenceDetail = Static<typeof EvidenceDetail>;

export const ReviewDetail = T.Object({
  report: ReportView,
  lease: Lease,
  evidence: T.Array(EvidenceDetail),
  related: T.Array(
    T.Object({
      id: Id,
      status: T.String(),
      relation: T.Union([T.Literal('duplicate_of'), T.Literal('duplicated_by'), T.Literal('near_identical')]),
    }),
  ),
  rejectionReasons: T.Array(T.String(), {
    description: 'Codes an inspector may give (texts: GET /v1/review/reasons)',
  }),
});

export type ReviewDetail = Static<typeof ReviewDetail>;

export const ReasonsResponse = T.Object({
  items: T.Array(
    T.Object({
      code: T.String(),
      text: T.Object({ uz: T.String(), ru: T.String(), en: T.String() }),
    }),
  ),
});

export const DecisionBody = T.Object(
  {
    decision: T.Union([T.Literal('approve'), T.Literal('reject'), T.Literal('needs_info')]),
    reasonCode: T.Optional(
      T.Union(
        REVIEW_REJECTION_REASONS.map((r) => T.Literal(r)),
        { description: 'Required to reject' },
      ),
    ),
    note: T.Optional(
      T.String({
        minLength: 1,
        maxLength: 1000,
        pattern: '^[^\\u0000]*$',
        description: 'Required for needs_info: what the citizen should add. Shown to the citizen.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DecisionBody = Static<typeof DecisionBody>;

export const DecisionResponse = T.Object({ id: Id, status: T.String() });

export const ReassignBody = T.Object({ inspectorId: Id }, { additionalProperties: false });

export const EvidenceParams = T.Object({ id: Id, evidenceId: Id });
export const EvidenceQuery = T.Object(
  {
    variant: T.Union([T.Literal('original'), T.Literal('thumbnail'), T.Literal('poster')], {
      default: 'original',
    }),
  },
  { additionalProperties: false },
);

export const WorkloadResponse = T.Object({
  inspectors: T.Array(
    T.Object({
      id: Id,
      login: T.String(),
      displayName: T.String(),
      role: T.String(),
      holding: T.Integer({ description: 'Reports held under a live lease now' }),
      decided24h: T.Object({ approve: T.Integer(), reject: T.Integer(), needsInfo: T.Integer() }),
    }),
  ),
  queue: T.Object({ waiting: T.Integer(), inReview: T.Integer(), overdue: T.Integer() }),
  slaBreaches: T.Array(
    T.Object({
      reportId: Id,
      status: T.String(),
      kind: T.Union([T.Literal('review_overdue'), T.Literal('legal_overdue'), T.Literal('forward_overdue')], {
        description:
          'review_overdue: not reviewed by review_due_at (REVIEW_SLA_HOURS after it became reviewable); ' +
          'legal_overdue: not at the registry by the legal deadline from the incident (FORWARD_DEADLINE_HOURS); ' +
          'forward_overdue: approved but not forwarded in time',
      }),
      dueAt: Time,
    }),
  ),
});

export type WorkloadResponse = Static<typeof WorkloadResponse>;

export const AuditResponse = T.Object({
  views: T.Array(T.Object({ staffId: Id, login: T.String(), evidenceId: Id, variant: T.String(), at: Time })),
  entries: T.Array(AuditItem, { description: 'Audit log entries about this report, newest first' }),
});
export type AuditResponse = Static<typeof AuditResponse>;
