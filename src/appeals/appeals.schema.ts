import { type Static, Type as T } from '@sinclair/typebox';
import { ReviewDetail } from '../review/review.schema.js';

const Id = T.String({ format: 'uuid' });
const Time = T.String({ format: 'date-time' });
const NullableTime = T.Union([Time, T.Null()]);

export const APPEAL_STATUSES = ['filed', 'in_review', 'decided'] as const;
export const APPEAL_DECISIONS = ['uphold', 'cancel', 'correct'] as const;
export type AppealDecisionKind = (typeof APPEAL_DECISIONS)[number];

/** Why supervisors decided as they did; the driver's SMS and the registry's record carry the code. */
export const APPEAL_REASONS = [
  'EVIDENCE_CONCLUSIVE',
  'APPEAL_UNFOUNDED',
  'NOT_THE_VEHICLE',
  'NO_VIOLATION_VISIBLE',
  'EVIDENCE_INSUFFICIENT',
  'PROCEDURE_VIOLATED',
  'WRONG_VIOLATION_TYPE',
] as const;

const Phone = T.String({ minLength: 9, maxLength: 20, description: 'Uzbek mobile number, +998…' });
export const DRIVER_LANGS = ['uz', 'ru', 'en'] as const;
export type DriverLang = (typeof DRIVER_LANGS)[number];
const Lang = T.Union(
  DRIVER_LANGS.map((l) => T.Literal(l)),
  { description: "The driver's language, for the SMS texts (default uz)" },
);

export const PhoneBody = T.Object({ phone: Phone, lang: T.Optional(Lang) }, { additionalProperties: false });
export const PhoneCodeResponse = T.Object({ expiresInSeconds: T.Integer() });

export const FileAppealBody = T.Object(
  {
    text: T.String({ minLength: 10, maxLength: 4000, description: "The driver's grounds for the appeal" }),
    attachmentIds: T.Array(Id, {
      maxItems: 10,
      uniqueItems: true,
      description: 'Ids from POST /v1/fines/case/attachments',
    }),
    phone: Phone,
    code: T.String({ pattern: '^[0-9]{6}$', description: 'The code sent to the phone' }),
    lang: T.Optional(Lang),
  },
  { additionalProperties: false },
);
export type FileAppealBody = Static<typeof FileAppealBody>;

/** The appeal as its driver sees it: never a supervisor's name, never anything of the reporter. */
export const DriverAppeal = T.Object({
  id: Id,
  status: T.Union(APPEAL_STATUSES.map((s) => T.Literal(s))),
  filedAt: Time,
  decision: T.Union([...APPEAL_DECISIONS.map((d) => T.Literal(d)), T.Null()]),
  correctedViolationCode: T.Union([T.String(), T.Null()]),
  reasonCode: T.Union([T.String(), T.Null()]),
  decidedAt: NullableTime,
  attachments: T.Integer({ minimum: 0 }),
});
export type DriverAppeal = Static<typeof DriverAppeal>;

export const AttachmentResponse = T.Object({
  id: Id,
  kind: T.Union([T.Literal('photo'), T.Literal('video')]),
  mime: T.String(),
  bytes: T.Integer(),
});

export const AppealIdParams = T.Object({ id: Id });
export const AttachmentParams = T.Object({ id: Id, evidenceId: Id });

export const QueueQuery = T.Object(
  {
    unit: T.Optional(T.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'Police unit id' })),
    limit: T.Optional(T.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);

export const QueueItem = T.Object({
  id: Id,
  reportId: Id,
  status: T.Union(APPEAL_STATUSES.map((s) => T.Literal(s))),
  unitId: T.Union([T.Integer(), T.Null()]),
  filedAt: Time,
  slaDueAt: Time,
  overdue: T.Boolean(),
  lease: T.Union([T.Object({ supervisorId: Id, mine: T.Boolean(), expiresAt: Time }), T.Null()]),
});
export type QueueItem = Static<typeof QueueItem>;
export const QueueResponse = T.Object({ items: T.Array(QueueItem) });

export const NextResponse = T.Object({ id: T.Union([Id, T.Null()]) });

/** What supervisors decide on: the appeal in full (the driver's contact masked), and the case as inspectors see it. */
export const AppealDetail = T.Object({
  appeal: T.Object({
    ...QueueItem.properties,
    text: T.String(),
    contactPhone: T.String({ description: 'Masked' }),
    attachments: T.Array(T.Object({ ...AttachmentResponse.properties, url: T.String() })),
    decision: T.Union([...APPEAL_DECISIONS.map((d) => T.Literal(d)), T.Null()]),
    correctedViolationCode: T.Union([T.String(), T.Null()]),
    reasonCode: T.Union([T.String(), T.Null()]),
    note: T.Union([T.String(), T.Null()]),
    decidedBy: T.Union([Id, T.Null()]),
    decidedAt: NullableTime,
    registrySentAt: NullableTime,
  }),
  case: ReviewDetail,
  reasons: T.Array(T.String()),
});

export const DecisionBody = T.Object(
  {
    decision: T.Union(APPEAL_DECISIONS.map((d) => T.Literal(d))),
    violationCode: T.Optional(T.String({ minLength: 1, maxLength: 32 })),
    reasonCode: T.Union(APPEAL_REASONS.map((r) => T.Literal(r))),
    note: T.Optional(T.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type DecisionBody = Static<typeof DecisionBody>;
export const DecisionResponse = T.Object({ id: Id, status: T.Literal('decided') });
