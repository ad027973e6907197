import { type Static, Type as T } from '@sinclair/typebox';
import { AUDIT_ACTIONS } from './actions.js';

const Time = T.String({ format: 'date-time' });
const Nullable = <S extends ReturnType<typeof T.String>>(s: S) => T.Union([s, T.Null()]);

export const AuditActionSchema = T.Union(
  AUDIT_ACTIONS.map((a) => T.Literal(a)),
  { description: 'What was done' },
);
export const AuditOutcomeSchema = T.Union([T.Literal('ok'), T.Literal('denied'), T.Literal('failed')]);

/** The filters both the JSON list and the CSV download take. */
const filters = {
  actor: T.Optional(
    T.String({ minLength: 1, maxLength: 100, description: "The actor's staff id (uuid) or login" }),
  ),
  action: T.Optional(AuditActionSchema),
  targetKind: T.Optional(
    T.String({
      pattern: '^[a-z][a-z0-9_]{0,39}$',
      description: 'What was acted on: report, staff, unit, job …',
    }),
  ),
  targetId: T.Optional(T.String({ minLength: 1, maxLength: 100 })),
  outcome: T.Optional(AuditOutcomeSchema),
  from: T.Optional(T.String({ format: 'date-time', description: 'At or after this instant' })),
  to: T.Optional(T.String({ format: 'date-time', description: 'Before this instant' })),
};

export const AuditQuery = T.Object(
  {
    ...filters,
    cursor: T.Optional(T.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
    limit: T.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditCsvQuery = T.Object(filters, { additionalProperties: false });
export type AuditCsvQuery = Static<typeof AuditCsvQuery>;

export const AuditItem = T.Object({
  id: T.String({ description: 'Sequence number of the entry' }),
  at: Time,
  actorId: Nullable(T.String({ format: 'uuid' })),
  actorLogin: Nullable(T.String()),
  action: T.String(),
  outcome: AuditOutcomeSchema,
  targetKind: Nullable(T.String()),
  targetId: Nullable(T.String()),
  detail: T.Record(T.String(), T.Unknown()),
  ip: Nullable(T.String()),
  userAgent: Nullable(T.String()),
});
export type AuditItem = Static<typeof AuditItem>;

export const AuditPage = T.Object({
  items: T.Array(AuditItem, { description: 'Newest first' }),
  nextCursor: T.Union([T.String(), T.Null()]),
});
export type AuditPage = Static<typeof AuditPage>;
