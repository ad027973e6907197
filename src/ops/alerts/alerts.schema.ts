import { type Static, Type as T } from '@sinclair/typebox';
import { SEVERITIES } from './severities.js';

const Labels = T.Record(T.String(), T.String());
const Severity = T.Union(SEVERITIES.map((s) => T.Literal(s)));
const Timestamp = T.String({ format: 'date-time' });

export const ActiveAlert = T.Object({
  rule: T.String(),
  labels: Labels,
  severity: Severity,
  state: T.Union([T.Literal('pending'), T.Literal('firing')]),
  value: T.Union([T.Number(), T.Null()]),
  summary: T.String(),
  activeAt: Timestamp,
  firedAt: T.Union([Timestamp, T.Null()]),
});

export const RuleStatus = T.Object({
  name: T.String(),
  expr: T.String(),
  forSeconds: T.Number(),
  severity: Severity,
  sinks: T.Array(T.String()),
  lastEvaluatedAt: T.Union([Timestamp, T.Null()]),
  values: T.Array(T.Object({ labels: Labels, value: T.Number() }), {
    description: 'The expression per label set at the last evaluation; empty = no value (e.g. no traffic)',
  }),
});

export const AlertsNow = T.Object({ alerts: T.Array(ActiveAlert), rules: T.Array(RuleStatus) });
export type AlertsNow = Static<typeof AlertsNow>;

export const AlertHistoryQuery = T.Object({
  limit: T.Integer({ minimum: 1, maximum: 500, default: 50 }),
  before: T.Optional(T.Integer({ minimum: 1, description: 'The last id of the previous page' })),
  rule: T.Optional(T.String({ minLength: 1, maxLength: 100 })),
});

export const AlertHistoryItem = T.Object({
  id: T.Integer(),
  rule: T.String(),
  labels: Labels,
  severity: Severity,
  state: T.Union([T.Literal('firing'), T.Literal('resolved')]),
  value: T.Union([T.Number(), T.Null()]),
  summary: T.String(),
  at: Timestamp,
});

export const AlertHistory = T.Object({
  items: T.Array(AlertHistoryItem),
  nextBefore: T.Union([T.Integer(), T.Null()], {
    description: 'Pass as `before` for the next page',
  }),
});
export type AlertHistory = Static<typeof AlertHistory>;
