import { type Static, Type as T } from '@sinclair/typebox';
import { ViolationName } from '../reference/reference.schema.js';
import { REPORT_STATUSES } from './status.js';

const Status = T.Union(
  REPORT_STATUSES.map((s) => T.Literal(s)),
  { description: 'Where the report is in its life' },
);

export const SubmitReportBody = T.Object(
  {
    violationCode: T.String({ pattern: '^[0-9]{1,4}(-[0-9]{1,2})?\\.[0-9]{1,2}$', examples: ['128-6.1'] }),
    plate: T.String({
      minLength: 2,
      maxLength: 20,
      pattern: '^[^\\u0000-\\u001f]+$',
      examples: ['01 A 123 BC'],
    }),
    lat: T.Number({ minimum: -90, maximum: 90 }),
    lon: T.Number({ minimum: -180, maximum: 180 }),
    incidentAt: T.String({ format: 'date-time', description: 'When it happened, with a time zone offset' }),
    // PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
    description: T.Optional(T.String({ maxLength: 2000, pattern: '^[^\\u0000]*$' })),
    evidenceIds: T.Array(T.String({ format: 'uuid' }), { minItems: 1, maxItems: 10, uniqueItems: true }),
  },
  { additionalProperties: false },
);
export type SubmitReportBody = Static<typeof SubmitReportBody>;

export const ReportIdParams = T.Object({ id: T.String({ format: 'uuid' }) });

export const SubmitHeaders = T.Object({
  'idempotency-key': T.Optional(T.String({ minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9_\\-:.]+$' })),
});

export const AcceptedResponse = T.Object({
  id: T.String({ format: 'uuid' }),
  status: Status,
  links: T.Object({ self: T.String(), events: T.String() }),
});

const Localised = T.Object({ uz: T.String(), ru: T.String(), en: T.String() });

/** What the automated checks tell the inspector about the evidence; `severity` orders them in the console. */
export const Finding = T.Object({
  type: T.String(),
  severity: T.Union([T.Literal('info'), T.Literal('warning')]),
  evidenceId: T.Optional(T.String()),
  detail: T.Optional(T.Record(T.String(), T.Unknown())),
});
export type Finding = Static<typeof Finding>;

export const ReportView = T.Object(
  {
    id: T.String({ format: 'uuid' }),
    status: Status,
    violation: T.Object({
      code: T.String(),
      name: ViolationName,
    }),
    plate: T.String(),
    location: T.Object({ lat: T.Number(), lon: T.Number() }),
    incidentAt: T.String({ format: 'date-time' }),
    receivedAt: T.String({ format: 'date-time' }),
    updatedAt: T.String({ format: 'date-time' }),
    description: T.Union([T.String(), T.Null()]),
    rejection: T.Union([T.Object({ code: T.String(), reason: Localised }), T.Null()]),
    fine: T.Union([
      T.Object({
        bhmMin: T.Number(),
        bhmMax: T.Union([T.Number(), T.Null()]),
        bhmRate: T.Integer({ description: 'BHM in sum on the incident date' }),
        rateEffectiveFrom: T.String({ format: 'date' }),
        sumMin: T.Integer(),
        sumMax: T.Union([T.Integer(), T.Null()]),
      }),
      T.Null(),
    ]),
    evidence: T.Array(T.Object({ id: T.String(), kind: T.String(), mime: T.String(), bytes: T.Integer() })),
    question: T.Union([T.String(), T.Null()], {
      description:
        "The inspector's question while the report is needs_info: answer it at links.self + /answer",
    }),
    changeable: T.Boolean({
      description: 'True until review starts: the report may be withdrawn or corrected (PATCH)',
    }),
    version: T.Integer(),
    links: T.Object({ self: T.String(), events: T.String() }),
    review: T.Optional(
      T.Object(
        {
          priority: T.Union([T.Integer(), T.Null()], {
            description: '0–100; the review queue serves higher first',
          }),
          findings: T.Array(Finding, {
            description:
              'What the automated checks noticed: time_mismatch, place_mismatch, blurry, dark, near_identical, …',
          }),
          duplicateOf: T.Union([T.String(), T.Null()]),
          slaDueAt: T.Union([T.String({ format: 'date-time' }), T.Null()], {
            description: 'When the violation must have reached the registry',
          }),
          plateRegionCode: T.Union([T.String(), T.Null()]),
          regionId: T.Union([T.Integer(), T.Null()]),
          districtId: T.Union([T.Integer(), T.Null()]),
        },
        { description: 'Staff only' },
      ),
    ),
  },
  { $id: 'Report' },
);
export type ReportView = Static<typeof ReportView>;

/** A report by reference to the shared `Report` schema (added once at the root, so every route module sees it). */
export const ReportResponse = T.Ref(ReportView);

export const EventView = T.Object({
  seq: T.Integer(),
  type: T.String(),
  fromStatus: T.Union([Status, T.Null()]),
  toStatus: T.Union([Status, T.Null()]),
  actor: T.String(),
  at: T.String({ format: 'date-time' }),
  data: T.Record(T.String(), T.Unknown()),
  hash: T.String({ description: 'sha256(previous hash ‖ event), hex' }),
});
export type EventView = Static<typeof EventView>;

export const EventsResponse = T.Object({
  reportId: T.String(),
  chainValid: T.Boolean({ description: 'False if any stored event was altered' }),
  events: T.Array(EventView),
});

export const ReportListResponse = T.Object({
  items: T.Array(ReportResponse),
  nextCursor: T.Union([T.String(), T.Null()]),
});

export const ListQuery = T.Object({
  cursor: T.Optional(T.String({ format: 'uuid', description: 'nextCursor of the previous page' })),
  limit: T.Integer({ minimum: 1, maximum: 100, default: 20 }),
});
